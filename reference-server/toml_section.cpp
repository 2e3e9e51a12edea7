#include "toml_section.hpp"

#include "config.hpp"

#include <utility>

namespace postern_server {

toml_section::toml_section(const toml::table& table, std::string path,
                           const std::string& file)
    : table_(&table), path_(std::move(path)), file_(&file)
{
}

const toml::node* toml_section::find(std::string_view key)
{
    read_.emplace(key);
    return table_->get(key);
}

std::optional<std::string> toml_section::get_string(std::string_view key)
{
    const toml::node* node = find(key);
    if (node == nullptr)
        return std::nullopt;
    if (!node->is_string())
        fail(key, "expected a string");
    return node->as_string()->get();
}

std::optional<bool> toml_section::get_bool(std::string_view key)
{
    const toml::node* node = find(key);
    if (node == nullptr)
        return std::nullopt;
    if (!node->is_boolean())
        fail(key, "expected true or false");
    return node->as_boolean()->get();
}

std::optional<std::int64_t> toml_section::get_integer(std::string_view key)
{
    const toml::node* node = find(key);
    if (node == nullptr)
        return std::nullopt;
    if (!node->is_integer())
        fail(key, "expected an integer");
    return node->as_integer()->get();
}

std::optional<std::vector<std::string>>
toml_section::get_strings(std::string_view key)
{
    const toml::node* node = find(key);
    if (node == nullptr)
        return std::nullopt;

    const toml::array* array = node->as_array();
    if (array == nullptr)
        fail(key, "expected an array of strings");

    std::vector<std::string> result;
    for (const toml::node& element : *array) {
        if (!element.is_string())
            fail(key, "expected an array of strings");
        result.push_back(element.as_string()->get());
    }
    return result;
}

std::optional<toml_section> toml_section::get_table(std::string_view key)
{
    const toml::node* node = find(key);
    if (node == nullptr)
        return std::nullopt;
    if (!node->is_table())
        fail(key, "expected a table");
    return toml_section(*node->as_table(), key_path(key), *file_);
}

std::vector<toml_section> toml_section::get_tables(std::string_view key)
{
    const toml::node* node = find(key);
    if (node == nullptr)
        return {};
    if (!node->is_array_of_tables())
        fail(key, "expected an array of tables ([[" + std::string(key) +
                      "]])");

    std::vector<toml_section> result;
    const toml::array& array = *node->as_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
        std::string path = key_path(key) + "[" + std::to_string(i) + "]";
        result.emplace_back(*array[i].as_table(), std::move(path), *file_);
    }
    return result;
}

std::vector<std::string> toml_section::keys()
{
    std::vector<std::string> result;
    for (auto&& [key, node] : *table_) {
        result.emplace_back(key.str());
        read_.emplace(key.str());
    }
    return result;
}

void toml_section::reject_unknown() const
{
    for (auto&& [key, node] : *table_) {
        if (!read_.contains(key.str()))
            fail(key.str(), node.is_table() || node.is_array_of_tables()
                                ? "unknown table"
                                : "unknown key");
    }
}

void toml_section::fail(std::string_view key, std::string_view reason) const
{
    throw config_error(describe(key) + ": " + std::string(reason));
}

std::string toml_section::describe(std::string_view key) const
{
    return *file_ + ": " + key_path(key);
}

std::string toml_section::key_path(std::string_view key) const
{
    if (path_.empty())
        return std::string(key);
    return path_ + "." + std::string(key);
}

toml::table parse_toml(std::string_view text, const std::string& file)
{
    try {
        return toml::parse(text, file);
    } catch (const toml::parse_error& error) {
        const toml::source_position& where = error.source().begin;
        throw config_error(file + ":" + std::to_string(where.line) + ":" +
                           std::to_string(where.column) + ": " +
                           std::string(error.description()));
    }
}

} // namespace postern_server
