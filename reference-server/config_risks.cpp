// add_risk_warnings: settings that load without error but expose the
// server, which check-config and run report as warnings.
#include "config.hpp"

#include "composition.hpp"

#include <postern/trust/rules.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace postern_server {

namespace {

using postern::sasl::availability;
using postern::smtp::tls_mode;

// Assumptions with prefixes shorter than these trust a range of addresses
// larger than any single organization's network, and are reported.
constexpr unsigned broad_ipv4_prefix = 8;
constexpr unsigned broad_ipv6_prefix = 32;

// "contains every IPv4 address" or "has a prefix shorter than /8".
std::string describe_breadth(const postern::trust::network& net)
{
    if (net.prefix_length == 0)
        return net.address.is_v4() ? "contains every IPv4 address"
                                   : "contains every IPv6 address";
    return "has a prefix shorter than /" +
           std::to_string(net.address.is_v4() ? broad_ipv4_prefix
                                              : broad_ipv6_prefix);
}

// An assumption lets every client in its network relay, so /0 makes an
// open relay. The parsed network is used, because "::ffff:0.0.0.0/96"
// is 0.0.0.0/0.
void warn_broad_assumptions(config& value)
{
    for (std::size_t i = 0; i < value.assumptions.size(); ++i) {
        const assumption_config& entry = value.assumptions[i];
        // Loading already rejected networks that do not parse.
        auto net = postern::trust::network::parse(entry.network);
        unsigned broad = net->address.is_v4() ? broad_ipv4_prefix
                                              : broad_ipv6_prefix;
        if (net->prefix_length >= broad)
            continue;

        std::string key = "assumption[" + std::to_string(i) + "].network";
        std::string message = "network " + entry.network + " " +
                              describe_breadth(*net) +
                              ", so every client in it may relay mail as " +
                              entry.user;
        if (net->prefix_length == 0)
            value.warnings.push_back(
                {key, "open-relay", message + ": an open relay"});
        else
            value.warnings.push_back({key, "broad-network", message});
    }
}

// The mechanisms that send the password itself: PLAIN and LOGIN encode
// it in base64, and POP3 USER/PASS sends it as text.
struct password_mechanism {
    protocol kind;
    std::string_view name;
};

constexpr std::array<password_mechanism, 5> password_mechanisms{{
    {protocol::smtp, "PLAIN"},
    {protocol::smtp, "LOGIN"},
    {protocol::pop3, "PLAIN"},
    {protocol::pop3, "LOGIN"},
    {protocol::pop3, "USER"},
}};

// A mechanism that is not built in is never offered, so it sends nothing.
bool is_offered(protocol kind, std::string_view mechanism)
{
    if (kind == protocol::smtp)
        return smtp_mechanisms::contains(mechanism);
    return mechanism == "USER" || pop3_mechanisms::contains(mechanism);
}

// The first listener of `kind` whose sessions start in plain text.
const listener_config* first_plain_listener(const config& value,
                                            protocol kind)
{
    for (const listener_config& listener : value.listeners) {
        if (listener.kind == kind && listener.tls != tls_mode::implicit)
            return &listener;
    }
    return nullptr;
}

// With "allow", a password mechanism is offered before STARTTLS or STLS
// and on a listener without TLS.
void warn_cleartext_passwords(config& value)
{
    for (const password_mechanism& mechanism : password_mechanisms) {
        const auto& map = mechanism.kind == protocol::smtp ? value.smtp_auth
                                                           : value.pop3_auth;
        if (map.get(mechanism.name) != availability::allow ||
            !is_offered(mechanism.kind, mechanism.name))
            continue;
        const listener_config* listener =
            first_plain_listener(value, mechanism.kind);
        if (listener == nullptr)
            continue;

        std::string name(mechanism.name);
        value.warnings.push_back(
            {"auth." + std::string(to_string(mechanism.kind)) + "." + name,
             "cleartext-password",
             name + " is allowed without TLS and listener " +
                 listener->name + " has tls = \"" +
                 std::string(to_string(listener->tls)) +
                 "\", so passwords may cross the network in clear; set " +
                 name + " to \"tls\""});
    }
}

void warn_old_tls_version(config& value)
{
    using postern::tls::tls_version;
    if (value.tls.min_version >= tls_version::v1_2)
        return;
    // OpenSSL 3.0 accepts TLS 1.0 and 1.1 only at security level 0, which
    // the server then sets (include/postern/tls/context.hpp).
    value.warnings.push_back(
        {"tls.min_version", "old-tls-version",
         "versions below 1.2 are deprecated (RFC 8996), and accepting them"
         " lowers OpenSSL to security level 0, which also permits short"
         " keys and weak ciphers"});
}

void warn_large_messages(config& value)
{
    if (value.max_message_size <= large_message_size)
        return;
    value.warnings.push_back(
        {"server.max_message_size", "large-message-size",
         std::to_string(value.max_message_size) +
             " octets is more than 100 MiB, and each message is held in"
             " memory while it is received, so a few clients sending at"
             " once can exhaust memory"});
}

// The operating system's directory (PAM) only checks passwords, so SCRAM
// and NTLM, whose secrets derive from the password, work for no user.
// CRAM-MD5 and APOP still work with a POP3 override password. The SQLite
// and passwd-file directories can hold every secret.
bool directory_supplies(directory_kind kind, std::string_view mechanism)
{
    if (kind != directory_kind::pam)
        return true;
    return !mechanism.starts_with("SCRAM-") && mechanism != "NTLM";
}

std::string_view directory_name(directory_kind kind)
{
    switch (kind) {
    case directory_kind::sqlite: return "sqlite";
    case directory_kind::passwd_file: return "passwd-file";
    case directory_kind::pam: return "pam";
    }
    return "unknown";
}

// A mechanism whose secret the directory cannot supply for anyone is not
// offered; the warning gives the admin the reason.
void warn_unsupplied_secrets(config& value)
{
    for (protocol kind : {protocol::smtp, protocol::pop3}) {
        const auto& map =
            kind == protocol::smtp ? value.smtp_auth : value.pop3_auth;
        for (const auto& [mechanism, availability] : map.entries()) {
            if (availability == availability::deny ||
                directory_supplies(value.directory.kind, mechanism))
                continue;
            value.warnings.push_back(
                {"auth." + std::string(to_string(kind)) + "." + mechanism,
                 "unsupplied-secret",
                 mechanism + " needs a stored secret that the " +
                     std::string(directory_name(value.directory.kind)) +
                     " directory cannot supply, so it will not be offered;"
                     " set it to \"deny\""});
        }
    }
}

// NTLMv1 responses can be cracked offline from a captured exchange.
void warn_ntlm_v1(config& value)
{
    if (!value.ntlm_v1)
        return;
    value.warnings.push_back(
        {"auth.ntlm_v1", "weak-mechanism",
         "NTLMv1 and NTLM2 session responses are accepted; a captured"
         " exchange lets an attacker recover the NT hash, which logs in as"
         " the user; prefer clients that send NTLMv2"});
}

// Timeouts below the RFC minimums cut off slow but valid clients.
void warn_short_timeouts(config& value)
{
    if (value.smtp_timeout < 300)
        value.warnings.push_back(
            {"server.smtp_timeout", "short-timeout",
             "below the 300 seconds that RFC 5321, section 4.5.3.2,"
             " requires servers to wait for a command"});
    if (value.pop3_timeout < 600)
        value.warnings.push_back(
            {"server.pop3_timeout", "short-timeout",
             "below the 600 seconds RFC 1939, section 3, sets as the least"
             " inactivity timer"});
}

} // namespace

void add_risk_warnings(config& value)
{
    warn_ntlm_v1(value);
    warn_short_timeouts(value);
    warn_broad_assumptions(value);
    warn_cleartext_passwords(value);
    warn_unsupplied_secrets(value);
    warn_old_tls_version(value);
    warn_large_messages(value);
}

} // namespace postern_server
