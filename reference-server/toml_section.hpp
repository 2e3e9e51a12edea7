// Typed access to one table of a TOML document, with errors that name the
// file and the full key, and a check for keys that no getter read.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace postern_server {

/// One TOML table and its key path ("server", "listener[1]"). Every getter
/// records the key it reads, so reject_unknown() can name any key that no
/// getter asked for. A value of the wrong type throws config_error.
class toml_section {
public:
    toml_section(const toml::table& table, std::string path,
                 const std::string& file);

    std::optional<std::string> get_string(std::string_view key);
    std::optional<bool> get_bool(std::string_view key);
    std::optional<std::int64_t> get_integer(std::string_view key);
    std::optional<std::vector<std::string>> get_strings(std::string_view key);

    /// The sub-table `key`, or nullopt when the key is absent.
    std::optional<toml_section> get_table(std::string_view key);

    /// The array of tables `key` ([[key]] in TOML); empty when absent.
    std::vector<toml_section> get_tables(std::string_view key);

    /// Every key of the table, in order, for tables whose keys are data
    /// (the mechanism names of [auth.smtp]). Marks them all as read.
    std::vector<std::string> keys();

    /// Throws config_error for the first key that no getter read.
    void reject_unknown() const;

    /// Throws config_error "FILE: PATH.KEY: reason".
    [[noreturn]] void fail(std::string_view key,
                           std::string_view reason) const;

    /// The full key path of `key`, e.g. "listener[0].address".
    std::string key_path(std::string_view key) const;

    /// The file and the full key path, "FILE: listener[0].address".
    std::string describe(std::string_view key) const;

private:
    const toml::node* find(std::string_view key);

    const toml::table* table_;
    std::string path_;
    const std::string* file_;
    std::set<std::string, std::less<>> read_;
};

/// Parses the TOML document in `text`, read from `file`.
///
/// @throws config_error "FILE:LINE:COLUMN: reason" on a syntax error.
toml::table parse_toml(std::string_view text, const std::string& file);

} // namespace postern_server
