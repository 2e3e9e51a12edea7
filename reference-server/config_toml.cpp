// to_toml: the effective configuration in the layout of the documented
// configuration file, section by section.
#include "config.hpp"

#include <toml++/toml.h>

#include <sstream>

namespace postern_server {

namespace {

// Basic strings with escapes only, so the output reads the same as the
// documented examples (no literal or multi-line strings).
constexpr auto value_format = toml::format_flags::allow_unicode_strings;

template <typename Node>
void put(std::ostream& out, std::string_view key, Node&& node)
{
    out << key << " = " << toml::toml_formatter{node, value_format} << '\n';
}

void put_string(std::ostream& out, std::string_view key,
                std::string_view value)
{
    put(out, key, toml::value<std::string>(std::string(value)));
}

void put_strings(std::ostream& out, std::string_view key,
                 const std::vector<std::string>& values)
{
    toml::array array;
    for (const std::string& value : values)
        array.push_back(value);
    put(out, key, array);
}

std::string_view version_name(postern::tls::tls_version version)
{
    using postern::tls::tls_version;
    switch (version) {
    case tls_version::v1_0: return "1.0";
    case tls_version::v1_1: return "1.1";
    case tls_version::v1_2: return "1.2";
    case tls_version::v1_3: return "1.3";
    }
    return "1.2";
}

std::string_view kind_name(directory_kind kind)
{
    switch (kind) {
    case directory_kind::sqlite: return "sqlite";
    case directory_kind::passwd_file: return "passwd-file";
    case directory_kind::pam: return "pam";
    }
    return "sqlite";
}

void write_server(std::ostream& out, const config& value)
{
    out << "[server]\n";
    put_string(out, "identity", value.identity);
    put_string(out, "data_dir", value.data_dir.string());
    put_strings(out, "local_domains", value.local_domains);
    put(out, "max_message_size",
        toml::value<std::int64_t>(
            static_cast<std::int64_t>(value.max_message_size)));
    put(out, "max_sessions",
        toml::value<std::int64_t>(
            static_cast<std::int64_t>(value.max_sessions)));
    put(out, "smtp_timeout", toml::value<std::int64_t>(value.smtp_timeout));
    put(out, "pop3_timeout", toml::value<std::int64_t>(value.pop3_timeout));
}

void write_tls(std::ostream& out, const tls_config& tls)
{
    out << "\n[tls]\n";
    put_string(out, "certificate", tls.certificate.string());
    put_string(out, "private_key", tls.private_key.string());
    put(out, "generate", toml::value<bool>(tls.generate));
    put_strings(out, "names", tls.names);
    put_string(out, "min_version", version_name(tls.min_version));
}

void write_listener(std::ostream& out, const listener_config& listener)
{
    out << "\n[[listener]]\n";
    put_string(out, "name", listener.name);
    put_string(out, "protocol", to_string(listener.kind));
    put_string(out, "address", listener.address);
    put_string(out, "tls", to_string(listener.tls));
    put(out, "trusted", toml::value<bool>(listener.trusted));
    put(out, "auth_required", toml::value<bool>(listener.auth_required));
}

void write_auth_settings(std::ostream& out, const config& value)
{
    out << "\n[auth]\n";
    put(out, "ntlm_v1", toml::value<bool>(value.ntlm_v1));
    put(out, "scram_iterations",
        toml::value<std::int64_t>(value.scram_iterations));
}

// Mechanism names are bare keys: upper-case letters, digits and hyphens.
void write_auth(std::ostream& out, std::string_view protocol_name,
                const postern::sasl::availability_map& map)
{
    out << "\n[auth." << protocol_name << "]\n";
    for (const auto& [mechanism, availability] : map.entries())
        put_string(out, mechanism, postern::sasl::to_string(availability));
}

void write_directory(std::ostream& out, const directory_config& directory)
{
    out << "\n[directory]\n";
    put_string(out, "kind", kind_name(directory.kind));
    if (directory.kind != directory_kind::pam)
        put_string(out, "path", directory.path.string());
}

void write_assumption(std::ostream& out, const assumption_config& assumption)
{
    out << "\n[[assumption]]\n";
    put_string(out, "network", assumption.network);
    put_string(out, "user", assumption.user);
}

void write_relay(std::ostream& out, const config& value)
{
    out << "\n[relay]\n";
    if (value.smarthost)
        put_string(out, "smarthost", *value.smarthost);
    else
        out << "# no smarthost: relayed mail stays in the queue folder\n";
}

} // namespace

std::string to_toml(const config& value)
{
    std::ostringstream out;
    write_server(out, value);
    write_tls(out, value.tls);
    for (const listener_config& listener : value.listeners)
        write_listener(out, listener);
    write_auth_settings(out, value);
    write_auth(out, "smtp", value.smtp_auth);
    write_auth(out, "pop3", value.pop3_auth);
    write_directory(out, value.directory);
    for (const assumption_config& assumption : value.assumptions)
        write_assumption(out, assumption);
    write_relay(out, value);
    return std::move(out).str();
}

} // namespace postern_server
