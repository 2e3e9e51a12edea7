#include "config.hpp"

#include "composition.hpp"
#include "toml_section.hpp"

#include <postern/directory/user_name.hpp>
#include <postern/sasl/scram.hpp>
#include <postern/tls/certificate.hpp>
#include <postern/trust/rules.hpp>

#include <asio/ip/address.hpp>

#include <netdb.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

namespace postern_server {

namespace {

namespace fs = std::filesystem;
using postern::sasl::availability;
using postern::smtp::tls_mode;

constexpr std::array<std::string_view, 8> smtp_mechanism_names{
    "PLAIN",         "LOGIN",         "CRAM-MD5",          "SCRAM-SHA-1",
    "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS", "NTLM"};

constexpr std::array<std::string_view, 2> pop3_only_mechanism_names{
    "USER", "APOP"};

bool is_pop3_only(std::string_view mechanism)
{
    return std::find(pop3_only_mechanism_names.begin(),
                     pop3_only_mechanism_names.end(),
                     mechanism) != pop3_only_mechanism_names.end();
}

bool is_known_mechanism(protocol kind, std::string_view mechanism)
{
    bool common = std::find(smtp_mechanism_names.begin(),
                            smtp_mechanism_names.end(),
                            mechanism) != smtp_mechanism_names.end();
    return common || (kind == protocol::pop3 && is_pop3_only(mechanism));
}

// USER/PASS and APOP are part of every POP3 server.
bool is_compiled_in(protocol kind, std::string_view mechanism)
{
    if (kind == protocol::smtp)
        return smtp_mechanisms::contains(mechanism);
    return is_pop3_only(mechanism) || pop3_mechanisms::contains(mechanism);
}

// The password mechanisms need TLS by default because they send the
// password itself; the challenge-response ones never do.
availability default_availability(std::string_view mechanism)
{
    if (mechanism == "PLAIN" || mechanism == "LOGIN" || mechanism == "USER")
        return availability::tls;
    return availability::allow;
}

postern::sasl::availability_map default_auth(protocol kind)
{
    postern::sasl::availability_map map;
    for (std::string_view mechanism : smtp_mechanism_names)
        map.set(mechanism, default_availability(mechanism));
    if (kind == protocol::pop3) {
        for (std::string_view mechanism : pop3_only_mechanism_names)
            map.set(mechanism, default_availability(mechanism));
    }
    return map;
}

std::string lower_case(std::string_view text)
{
    std::string result(text);
    for (char& c : result) {
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    }
    return result;
}

std::string upper_case(std::string_view text)
{
    std::string result(text);
    for (char& c : result) {
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
    }
    return result;
}

bool valid_label(std::string_view label)
{
    if (label.empty() || label.size() > 63)
        return false;
    if (label.front() == '-' || label.back() == '-')
        return false;
    return std::all_of(label.begin(), label.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || c == '-';
    });
}

// A host name of letters, digits and hyphens in dot-separated labels of at
// most 63 octets, 253 octets in all, the limits of a DNS name in text form.
// It appears in the SMTP greeting, so it must never contain a space or a
// line break.
bool valid_domain(std::string_view name)
{
    if (name.empty() || name.size() > 253)
        return false;
    std::size_t start = 0;
    while (true) {
        std::size_t dot = name.find('.', start);
        std::string_view label = name.substr(start, dot - start);
        if (!valid_label(label))
            return false;
        if (dot == std::string_view::npos)
            return true;
        start = dot + 1;
    }
}

std::optional<unsigned short> parse_port(std::string_view text)
{
    unsigned value = 0;
    const char* end = text.data() + text.size();
    auto [stop, error] = std::from_chars(text.data(), end, value);
    if (error != std::errc{} || stop != end || value == 0 || value > 65535)
        return std::nullopt;
    return static_cast<unsigned short>(value);
}

// Splits "HOST:PORT" or "[IPv6]:PORT". The host keeps no brackets.
std::optional<std::pair<std::string, unsigned short>>
split_host_port(std::string_view text)
{
    std::string_view host;
    std::string_view rest;
    if (text.starts_with('[')) {
        std::size_t close = text.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        host = text.substr(1, close - 1);
        rest = text.substr(close + 1);
    } else {
        std::size_t colon = text.rfind(':');
        if (colon == std::string_view::npos)
            return std::nullopt;
        host = text.substr(0, colon);
        rest = text.substr(colon);
    }

    if (host.empty() || !rest.starts_with(':'))
        return std::nullopt;
    std::optional<unsigned short> port = parse_port(rest.substr(1));
    if (!port)
        return std::nullopt;
    return std::pair{std::string(host), *port};
}

std::optional<asio::ip::tcp::endpoint> parse_endpoint(std::string_view text)
{
    auto parts = split_host_port(text);
    if (!parts)
        return std::nullopt;

    // A bare IPv6 address needs brackets, or its colons would be ambiguous.
    bool bracketed = text.starts_with('[');
    std::error_code error;
    asio::ip::address address;
    if (bracketed)
        address = asio::ip::make_address_v6(parts->first, error);
    else
        address = asio::ip::make_address_v4(parts->first, error);
    if (error)
        return std::nullopt;
    return asio::ip::tcp::endpoint(address, parts->second);
}

std::string format_endpoint(const asio::ip::tcp::endpoint& endpoint)
{
    std::string host = endpoint.address().to_string();
    if (endpoint.address().is_v6())
        host = "[" + host + "]";
    return host + ":" + std::to_string(endpoint.port());
}

bool valid_listener_name(std::string_view name)
{
    if (name.empty() || name.size() > 64)
        return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    });
}

fs::path under(const fs::path& data_dir, const fs::path& path)
{
    if (path.is_absolute())
        return path.lexically_normal();
    return (data_dir / path).lexically_normal();
}

listener_config make_listener(std::string name, protocol kind,
                              std::string address, tls_mode tls,
                              bool auth_required = false)
{
    listener_config listener;
    listener.name = std::move(name);
    listener.kind = kind;
    listener.endpoint = *parse_endpoint(address);
    listener.address = std::move(address);
    listener.tls = tls;
    listener.auth_required = auth_required;
    return listener;
}

// The submission listeners require authentication, which RFC 6409, section
// 4.3, makes the default for a message submission agent.
std::vector<listener_config> default_listeners()
{
    return {
        make_listener("smtp", protocol::smtp, "127.0.0.1:2525",
                      tls_mode::starttls),
        make_listener("submission", protocol::smtp, "127.0.0.1:2587",
                      tls_mode::starttls, true),
        make_listener("submissions", protocol::smtp, "127.0.0.1:2465",
                      tls_mode::implicit, true),
        make_listener("pop3", protocol::pop3, "127.0.0.1:2110",
                      tls_mode::starttls),
        make_listener("pop3s", protocol::pop3, "127.0.0.1:2995",
                      tls_mode::implicit),
    };
}

// Fills every setting that depends on nothing but the data folder and the
// identity.
config base_config(const fs::path& data_dir, std::string identity)
{
    config result;
    result.data_dir = fs::absolute(data_dir).lexically_normal();
    result.identity = std::move(identity);
    result.local_domains = {result.identity, "localhost"};
    result.tls.certificate = result.data_dir / "tls" / "cert.pem";
    result.tls.private_key = result.data_dir / "tls" / "key.pem";
    result.tls.names = {result.identity};
    result.listeners = default_listeners();
    result.smtp_auth = default_auth(protocol::smtp);
    result.pop3_auth = default_auth(protocol::pop3);
    result.directory.path = result.data_dir / "users.sqlite";
    return result;
}

std::string read_file(const fs::path& file)
{
    std::ifstream stream(file, std::ios::binary);
    if (!stream) {
        std::error_code error(errno, std::generic_category());
        throw config_error(file.string() +
                           ": cannot open the configuration file: " +
                           error.message());
    }
    std::ostringstream text;
    text << stream.rdbuf();
    if (stream.bad())
        throw config_error(file.string() +
                           ": cannot read the configuration file");
    return std::move(text).str();
}

// A relative data_dir is taken from the folder of the configuration file,
// so the file works the same from any working directory.
fs::path choose_data_dir(toml_section* server,
                         const std::optional<std::string>& data_dir,
                         const fs::path& file,
                         const std::optional<fs::path>& data_dir_override)
{
    if (data_dir_override)
        return *data_dir_override;
    if (!data_dir)
        return "postern-data";
    if (data_dir->empty())
        server->fail("data_dir", "must not be empty");
    return fs::absolute(file).parent_path() / *data_dir;
}

std::vector<std::string>
check_local_domains(toml_section& server,
                    const std::vector<std::string>& domains)
{
    std::vector<std::string> result;
    for (const std::string& domain : domains) {
        if (!valid_domain(domain))
            server.fail("local_domains", "invalid domain \"" + domain + "\"");
        result.push_back(lower_case(domain));
    }
    return result;
}

// Messages are held in memory while they are received, so the size is
// bounded.
std::size_t check_max_message_size(toml_section& server, std::int64_t size)
{
    if (size < 1)
        server.fail("max_message_size", "must be at least 1 octet");
    if (static_cast<std::uint64_t>(size) > max_message_size_limit)
        server.fail("max_message_size",
                    "must be at most " +
                        std::to_string(max_message_size_limit) +
                        " octets (1 GiB), because a message is held in"
                        " memory while it is received");
    return static_cast<std::size_t>(size);
}

std::int64_t check_range(toml_section& server, std::string_view key,
                         std::int64_t value, std::int64_t low,
                         std::int64_t high)
{
    if (value < low || value > high)
        server.fail(key, "must be between " + std::to_string(low) + " and " +
                             std::to_string(high));
    return value;
}

// [server]: identity, data_dir, local_domains, max_message_size,
// max_sessions and the two protocol timeouts.
config read_server(toml_section& root, const fs::path& file,
                   const std::optional<fs::path>& data_dir_override)
{
    std::optional<toml_section> server = root.get_table("server");
    std::optional<std::string> identity;
    std::optional<std::string> data_dir;
    std::optional<std::vector<std::string>> domains;
    std::optional<std::int64_t> max_size;
    std::optional<std::int64_t> max_sessions;
    std::optional<std::int64_t> smtp_timeout;
    std::optional<std::int64_t> pop3_timeout;
    if (server) {
        identity = server->get_string("identity");
        data_dir = server->get_string("data_dir");
        domains = server->get_strings("local_domains");
        max_size = server->get_integer("max_message_size");
        max_sessions = server->get_integer("max_sessions");
        smtp_timeout = server->get_integer("smtp_timeout");
        pop3_timeout = server->get_integer("pop3_timeout");
        server->reject_unknown();
    }

    if (identity && !valid_domain(*identity))
        server->fail("identity", "invalid host name \"" + *identity + "\"");

    config result = base_config(
        choose_data_dir(server ? &*server : nullptr, data_dir, file,
                        data_dir_override),
        identity ? lower_case(*identity) : host_identity());

    if (domains)
        result.local_domains = check_local_domains(*server, *domains);

    if (max_size)
        result.max_message_size = check_max_message_size(*server, *max_size);
    if (max_sessions)
        result.max_sessions = static_cast<std::size_t>(
            check_range(*server, "max_sessions", *max_sessions, 1, 1000000));
    if (smtp_timeout)
        result.smtp_timeout =
            check_range(*server, "smtp_timeout", *smtp_timeout, 1, 86400);
    if (pop3_timeout)
        result.pop3_timeout =
            check_range(*server, "pop3_timeout", *pop3_timeout, 1, 86400);
    return result;
}

void read_tls(toml_section& root, config& result)
{
    std::optional<toml_section> tls = root.get_table("tls");
    if (!tls)
        return;

    if (auto certificate = tls->get_string("certificate"))
        result.tls.certificate = under(result.data_dir, *certificate);
    if (auto key = tls->get_string("private_key"))
        result.tls.private_key = under(result.data_dir, *key);
    if (auto generate = tls->get_bool("generate"))
        result.tls.generate = *generate;

    if (auto names = tls->get_strings("names")) {
        if (names->empty())
            tls->fail("names", "needs at least one name");
        for (const std::string& name : *names) {
            if (!postern::tls::valid_certificate_name(name))
                tls->fail("names", "invalid certificate name \"" + name +
                                       "\"");
        }
        // The first name becomes the subject common name, at most 64
        // characters (ub-common-name, RFC 5280, appendix A.1).
        if (names->front().size() > 64)
            tls->fail("names", "the first name is longer than 64"
                               " characters, the limit of a common name");
        result.tls.names = *names;
    }

    if (auto text = tls->get_string("min_version")) {
        auto version = postern::tls::parse_tls_version(*text);
        if (!version)
            tls->fail("min_version", "invalid TLS version \"" + *text +
                                         "\"; expected 1.0, 1.1, 1.2 or 1.3");
        result.tls.min_version = *version;
    }
    tls->reject_unknown();
}

protocol read_protocol(toml_section& section)
{
    std::optional<std::string> text = section.get_string("protocol");
    if (!text)
        section.fail("protocol", "missing; expected smtp or pop3");
    if (*text == "smtp")
        return protocol::smtp;
    if (*text == "pop3")
        return protocol::pop3;
    section.fail("protocol",
                 "invalid protocol \"" + *text + "\"; expected smtp or pop3");
}

tls_mode read_tls_mode(toml_section& section)
{
    std::optional<std::string> text = section.get_string("tls");
    if (!text || *text == "starttls")
        return tls_mode::starttls;
    if (*text == "none")
        return tls_mode::none;
    if (*text == "implicit")
        return tls_mode::implicit;
    section.fail("tls", "invalid TLS mode \"" + *text +
                            "\"; expected none, starttls or implicit");
}

listener_config read_listener(toml_section& section)
{
    listener_config listener;
    std::optional<std::string> name = section.get_string("name");
    if (!name)
        section.fail("name", "missing");
    if (!valid_listener_name(*name))
        section.fail("name", "invalid name \"" + *name +
                                 "\"; use letters, digits, '.', '_', '-'");
    listener.name = *name;
    listener.kind = read_protocol(section);

    std::optional<std::string> address = section.get_string("address");
    if (!address)
        section.fail("address", "missing; expected HOST:PORT");
    auto endpoint = parse_endpoint(*address);
    if (!endpoint)
        section.fail("address", "invalid address \"" + *address +
                                    "\"; expected IPv4:PORT or [IPv6]:PORT");
    listener.address = format_endpoint(*endpoint);
    listener.endpoint = *endpoint;

    listener.tls = read_tls_mode(section);
    listener.trusted = section.get_bool("trusted").value_or(false);
    listener.auth_required =
        section.get_bool("auth_required").value_or(false);
    if (listener.auth_required && listener.kind == protocol::pop3)
        section.fail("auth_required",
                     "applies to SMTP listeners only; a POP3 client always"
                     " logs in");
    section.reject_unknown();
    return listener;
}

void reject_duplicate(toml_section& section, const listener_config& listener,
                      const std::vector<listener_config>& earlier)
{
    for (const listener_config& other : earlier) {
        if (other.name == listener.name)
            section.fail("name", "duplicate listener name \"" +
                                     listener.name + "\"");
        if (other.endpoint == listener.endpoint)
            section.fail("address", listener.address +
                                        " is already used by listener \"" +
                                        other.name + "\"");
    }
}

// [[listener]]: when the file has none, the embedded default listeners
// stay.
void read_listeners(toml_section& root, config& result)
{
    std::vector<toml_section> sections = root.get_tables("listener");
    if (sections.empty())
        return;

    result.listeners.clear();
    for (toml_section& section : sections) {
        listener_config listener = read_listener(section);
        reject_duplicate(section, listener, result.listeners);
        result.listeners.push_back(std::move(listener));
    }
}

void read_auth_protocol(toml_section& section, protocol kind,
                        postern::sasl::availability_map& map,
                        std::vector<config_warning>& warnings)
{
    std::set<std::string> seen;
    for (const std::string& key : section.keys()) {
        std::string mechanism = upper_case(key);
        if (!is_known_mechanism(kind, mechanism))
            section.fail(key, "unknown mechanism");
        if (!seen.insert(mechanism).second)
            section.fail(key, "mechanism set twice");

        std::optional<std::string> text = section.get_string(key);
        auto value = postern::sasl::parse_availability(*text);
        if (!value)
            section.fail(key, "invalid availability \"" + *text +
                                  "\"; expected deny, allow or tls");
        map.set(mechanism, *value);

        if (*value != availability::deny && !is_compiled_in(kind, mechanism))
            warnings.push_back({section.key_path(key), "not-built-in",
                                mechanism + " is not built into this server"
                                            " and will not be offered"});
    }
}

void read_auth(toml_section& root, config& result)
{
    std::optional<toml_section> auth = root.get_table("auth");
    if (!auth)
        return;
    if (auto smtp = auth->get_table("smtp"))
        read_auth_protocol(*smtp, protocol::smtp, result.smtp_auth,
                           result.warnings);
    if (auto pop3 = auth->get_table("pop3"))
        read_auth_protocol(*pop3, protocol::pop3, result.pop3_auth,
                           result.warnings);
    if (auto v1 = auth->get_bool("ntlm_v1"))
        result.ntlm_v1 = *v1;
    if (auto iterations = auth->get_integer("scram_iterations")) {
        if (*iterations < postern::sasl::scram_min_iterations ||
            *iterations > postern::sasl::scram_max_iterations)
            auth->fail("scram_iterations",
                       "must be between 4096 and 10000000");
        result.scram_iterations = static_cast<std::uint32_t>(*iterations);
    }
    auth->reject_unknown();
}

directory_kind read_directory_kind(toml_section& section)
{
    std::optional<std::string> text = section.get_string("kind");
    if (!text || *text == "sqlite")
        return directory_kind::sqlite;
    if (*text == "passwd-file")
        return directory_kind::passwd_file;
    if (*text == "pam")
        return directory_kind::pam;
    section.fail("kind", "invalid directory kind \"" + *text +
                             "\"; expected sqlite, passwd-file or pam");
}

void read_directory(toml_section& root, config& result)
{
    std::optional<toml_section> directory = root.get_table("directory");
    if (!directory)
        return;
    result.directory.kind = read_directory_kind(*directory);
    if (auto path = directory->get_string("path"))
        result.directory.path = under(result.data_dir, *path);
    else if (result.directory.kind == directory_kind::passwd_file)
        result.directory.path = result.data_dir / "users.passwd";
    directory->reject_unknown();
}

void read_assumptions(toml_section& root, config& result)
{
    for (toml_section& section : root.get_tables("assumption")) {
        std::optional<std::string> network = section.get_string("network");
        if (!network)
            section.fail("network", "missing");
        if (!postern::trust::network::parse(*network))
            section.fail("network", "invalid address or network \"" +
                                        *network + "\"");

        std::optional<std::string> user = section.get_string("user");
        if (!user)
            section.fail("user", "missing");
        auto canonical = postern::directory::canonical_user_name(*user);
        if (!canonical)
            section.fail("user", "invalid user name \"" + *user + "\"");

        section.reject_unknown();
        result.assumptions.push_back({*network, *canonical});
    }
}

// A smarthost is "HOST", "HOST:PORT" or "[IPv6]:PORT".
bool valid_smarthost(std::string_view text)
{
    if (valid_domain(text))
        return true;
    auto parts = split_host_port(text);
    if (!parts)
        return false;
    if (!text.starts_with('['))
        return valid_domain(parts->first);
    std::error_code error;
    asio::ip::make_address_v6(parts->first, error);
    return !error;
}

void read_relay(toml_section& root, config& result)
{
    std::optional<toml_section> relay = root.get_table("relay");
    if (!relay)
        return;
    if (auto smarthost = relay->get_string("smarthost")) {
        if (!valid_smarthost(*smarthost))
            relay->fail("smarthost", "invalid host \"" + *smarthost +
                                         "\"; expected HOST or HOST:PORT");
        result.smarthost = *smarthost;
    }
    relay->reject_unknown();
}

// Without generate, the certificate and key must already exist.
void check_tls_files(const config& result, const std::string& file)
{
    if (result.tls.generate || !uses_tls(result))
        return;
    std::error_code error;
    if (!fs::exists(result.tls.certificate, error))
        throw config_error(file + ": tls.certificate: file not found: " +
                           result.tls.certificate.string());
    if (!fs::exists(result.tls.private_key, error))
        throw config_error(file + ": tls.private_key: file not found: " +
                           result.tls.private_key.string());
}

} // namespace

config load_config(const fs::path& file,
                   const std::optional<fs::path>& data_dir_override)
{
    const std::string name = file.string();
    toml::table document = parse_toml(read_file(file), name);
    toml_section root(document, "", name);

    config result = read_server(root, file, data_dir_override);
    result.source = file;
    read_tls(root, result);
    read_listeners(root, result);
    read_auth(root, result);
    read_directory(root, result);
    read_assumptions(root, result);
    read_relay(root, result);
    root.reject_unknown();
    check_tls_files(result, name);
    add_risk_warnings(result);
    return result;
}

config default_config(const fs::path& data_dir)
{
    config result = base_config(data_dir, host_identity());
    add_risk_warnings(result);
    return result;
}

bool uses_tls(const config& value)
{
    return std::any_of(value.listeners.begin(), value.listeners.end(),
                       [](const listener_config& listener) {
                           return listener.tls != tls_mode::none;
                       });
}

std::string host_identity()
{
    char name[HOST_NAME_MAX + 1] = {};
    if (gethostname(name, sizeof name - 1) != 0 || !valid_domain(name))
        return "localhost";

    addrinfo hints{};
    hints.ai_flags = AI_CANONNAME;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    std::string identity = name;
    if (getaddrinfo(name, nullptr, &hints, &found) == 0) {
        if (found != nullptr && found->ai_canonname != nullptr &&
            valid_domain(found->ai_canonname))
            identity = found->ai_canonname;
        freeaddrinfo(found);
    }
    return lower_case(identity);
}

std::string_view to_string(tls_mode mode) noexcept
{
    switch (mode) {
    case tls_mode::none: return "none";
    case tls_mode::starttls: return "starttls";
    case tls_mode::implicit: return "implicit";
    }
    return "none";
}

std::string_view to_string(protocol kind) noexcept
{
    return kind == protocol::smtp ? "smtp" : "pop3";
}

} // namespace postern_server
