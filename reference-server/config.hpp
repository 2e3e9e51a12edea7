// The configuration of postern-server: the TOML file, the embedded default
// and the checks that run before anything starts.
#pragma once

#include <postern/sasl/availability.hpp>
#include <postern/smtp/settings.hpp>
#include <postern/tls/context.hpp>

#include <asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace postern_server {

/// A configuration error. what() is the whole message, in the form
/// "FILE: KEY: reason".
class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class protocol { smtp, pop3 };

struct listener_config {
    std::string name;
    protocol kind = protocol::smtp;
    std::string address; ///< as written: "HOST:PORT" or "[IPv6]:PORT"
    asio::ip::tcp::endpoint endpoint;
    postern::smtp::tls_mode tls = postern::smtp::tls_mode::starttls;
    bool trusted = false;
    /// SMTP only: MAIL is rejected until the client authenticated or is
    /// otherwise trusted (RFC 6409, section 4.3).
    bool auth_required = false;
};

struct tls_config {
    std::filesystem::path certificate; ///< absolute
    std::filesystem::path private_key; ///< absolute
    bool generate = true; ///< create a self-signed pair when missing
    std::vector<std::string> names;
    postern::tls::tls_version min_version = postern::tls::tls_version::v1_2;
};

enum class directory_kind { sqlite, passwd_file, pam };

struct directory_config {
    directory_kind kind = directory_kind::sqlite;
    std::filesystem::path path; ///< absolute
};

/// A problem that does not stop the server, such as a mechanism that is
/// allowed but not built in, or a risky setting.
struct config_warning {
    std::string key;     ///< e.g. "auth.smtp.CRAM-MD5"
    std::string reason;  ///< a short code for the log, e.g. "not-built-in"
    std::string message; ///< the sentence check-config prints
};

/// Messages are held in memory while they are received, so a
/// max_message_size above large_message_size (100 MiB) gets a warning and
/// one above max_message_size_limit (1 GiB) is an error.
inline constexpr std::size_t large_message_size = 100 * 1024 * 1024;
inline constexpr std::size_t max_message_size_limit = 1024 * 1024 * 1024;

/// An [[assumption]] entry, whose network passed
/// postern::trust::network::parse.
struct assumption_config {
    std::string network;
    std::string user;
};

struct config {
    /// The file the configuration came from; empty for the embedded
    /// default.
    std::filesystem::path source;

    std::string identity;
    std::filesystem::path data_dir; ///< absolute
    std::vector<std::string> local_domains; ///< lower case
    std::size_t max_message_size = 36700160;
    /// Sessions served at once per protocol; more clients are turned away.
    std::size_t max_sessions = 10000;
    /// Seconds an SMTP client may stay silent between commands; DATA gets
    /// twice as long between lines (RFC 5321, section 4.5.3.2: 5 and 10
    /// minutes at least).
    std::int64_t smtp_timeout = 300;
    /// Seconds a POP3 client may stay idle (RFC 1939, section 3: at least
    /// 10 minutes).
    std::int64_t pop3_timeout = 600;

    tls_config tls;
    std::vector<listener_config> listeners;
    postern::sasl::availability_map smtp_auth;
    postern::sasl::availability_map pop3_auth;
    /// [auth] ntlm_v1: accept the insecure NTLMv1 and NTLM2 session
    /// responses.
    bool ntlm_v1 = false;
    /// [auth] scram_iterations: PBKDF2 rounds for the SCRAM keys that
    /// `user add` and `user passwd` store.
    std::uint32_t scram_iterations = 4096;
    directory_config directory;
    std::vector<assumption_config> assumptions;
    std::optional<std::string> smarthost; ///< [relay] smarthost

    std::vector<config_warning> warnings;
};

/// Reads and checks the configuration file `file`. Keys left out take the
/// embedded default. `data_dir_override` (the --data-dir option) replaces
/// [server] data_dir.
///
/// @throws config_error naming the file, the key and the reason.
config load_config(const std::filesystem::path& file,
                   const std::optional<std::filesystem::path>&
                       data_dir_override = std::nullopt);

/// Builds the embedded default configuration, serving from `data_dir`.
config default_config(const std::filesystem::path& data_dir);

/// Appends to `value.warnings` a warning for each valid but risky setting:
/// an [[assumption]] network that contains every address (reason
/// "open-relay") or has a prefix shorter than /8 for IPv4 or /32 for IPv6
/// ("broad-network"); PLAIN, LOGIN or USER set to "allow" while a listener
/// of that protocol starts without TLS ("cleartext-password"); a TLS
/// min_version below 1.2 ("old-tls-version"); a max_message_size above
/// large_message_size ("large-message-size").
void add_risk_warnings(config& value);

/// Formats `value` as a TOML document that load_config reads back to the
/// same configuration.
std::string to_toml(const config& value);

/// Tells whether any listener uses TLS, so a certificate is needed.
bool uses_tls(const config& value);

/// Returns the host's fully qualified domain name, or its plain host name
/// when the resolver returns no canonical name.
std::string host_identity();

/// Returns the configuration spelling of a TLS mode or a protocol.
std::string_view to_string(postern::smtp::tls_mode mode) noexcept;
std::string_view to_string(protocol kind) noexcept;

} // namespace postern_server
