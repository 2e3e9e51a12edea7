// The SASL mechanism concept (RFC 4422) and the steps an exchange returns.
//
// A mechanism is a sans-I/O state machine. It never touches a socket or a
// user directory. Each call returns a step naming the driver's next action
// (send a challenge, verify a password, fetch stored credentials), and the
// driver feeds the outcome back. Mechanisms know nothing of SMTP or
// POP3; the drivers add base64, reply codes and the "*" cancel.
#pragma once

#include <postern/core/secret.hpp>
#include <postern/directory/credentials.hpp>

#include <concepts>
#include <cstdint>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace postern::sasl {

namespace detail {

constexpr char to_ascii_upper(char c) noexcept
{
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

// ASCII case-insensitive equality: letters match in either case, and every
// other octet must be equal. Clients may send mechanism names in any case.
constexpr bool equal_ignoring_ascii_case(std::string_view a,
                                         std::string_view b) noexcept
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_ascii_upper(a[i]) != to_ascii_upper(b[i]))
            return false;
    }
    return true;
}

} // namespace detail

/// The connections a mechanism may be used on, set per protocol and
/// mechanism.
enum class availability {
    deny,  ///< never offered or accepted
    allow, ///< offered and accepted on any connection
    tls,   ///< offered and accepted only on an encrypted connection
};

/// Channel binding data of a TLS connection, raw bytes; a member is empty
/// when the connection cannot provide that binding type.
struct channel_bindings {
    std::string tls_exporter;         ///< RFC 9266
    std::string tls_server_end_point; ///< RFC 5929, section 4
};

/// The connection a mechanism runs on.
struct context {
    std::string_view server_identity; ///< the server's host name
    bool encrypted = false;           ///< TLS is active on the connection
    /// Set on TLS connections; nullptr otherwise.
    const channel_bindings* bindings = nullptr;
    /// Whether the server advertised a -PLUS mechanism to this client, for
    /// the downgrade check of RFC 5802, section 6.
    bool plus_advertised = false;
    /// POP3 only: a mechanism that checks a stored secret tries the POP3
    /// override password second (CRAM-MD5; APOP is not SASL).
    bool accept_pop3_override = false;
    /// NTLM only: accept the NTLMv1 and NTLM2 session responses, which an
    /// eavesdropper can crack offline. Off unless the server enables it.
    bool allow_ntlmv1 = false;
    /// SCRAM: the key of the fake salts shown for unknown users. Empty
    /// means a random key per process; a key kept across restarts keeps
    /// the fake salts stable, so a restart does not tell them from real
    /// ones.
    std::string_view scram_fake_salt_key{};
    /// SCRAM: the iteration count shown with a fake salt; it should match
    /// what real accounts store. Zero means scram_default_iterations.
    std::uint32_t scram_iterations = 0;
};

enum class step_kind {
    challenge,          ///< send `data` to the client and await a response
    verify_password,    ///< check `password` for `authcid`, then verified()
    lookup_credentials, ///< fetch the credentials of `authcid`, then found()
    success,            ///< authenticated as `authcid`; `data` is optional
                        ///< final server data
    failure,            ///< the exchange is over; see `reason`
};

enum class failure_reason {
    none,
    malformed,           ///< the client's message does not parse
    invalid_credentials, ///< wrong password or unknown user
    authzid_rejected,    ///< the user may not act as the requested authzid
};

/// The result of one step of an exchange.
struct step {
    step_kind kind = step_kind::failure;
    std::string data;    ///< challenge or final server data, not base64
    std::string authcid; ///< the user being authenticated
    std::string authzid; ///< the requested authorization identity, if any
    secret password;     ///< set only with verify_password
    failure_reason reason = failure_reason::none;
    /// With a failure, an optional static text for the server log that
    /// names the cause, such as the setting that would allow the attempt.
    std::string_view note;

    static step make_challenge(std::string data)
    {
        step s;
        s.kind = step_kind::challenge;
        s.data = std::move(data);
        return s;
    }

    static step make_failure(failure_reason why)
    {
        step s;
        s.kind = step_kind::failure;
        s.reason = why;
        return s;
    }
};

/// A SASL mechanism: a type with a registered name, constructible from a
/// context, whose objects run one exchange each.
///
/// - start(initial) begins the exchange; `initial` is the decoded initial
///   response when the client sent one (possibly empty), else nullopt.
/// - respond(bytes) takes the decoded response to the last challenge.
/// - verified(ok) takes the result of a verify_password step.
/// - found(credentials) takes the result of a lookup_credentials step.
///   nullptr means no such user, and the mechanism must then fail the same
///   way as for a wrong password.
/// - `needs` names the stored secret the mechanism relies on, so that a
///   server does not advertise it when its directory cannot supply that.
template <typename M>
concept mechanism =
    std::constructible_from<M, const context&> &&
    requires(M m, std::optional<std::string_view> initial,
             std::string_view response, bool ok,
             const directory::credentials* found) {
        { M::name } -> std::convertible_to<std::string_view>;
        { M::needs } -> std::convertible_to<directory::secret_kind>;
        { m.start(initial) } -> std::same_as<step>;
        { m.respond(response) } -> std::same_as<step>;
        { m.verified(ok) } -> std::same_as<step>;
        { m.found(found) } -> std::same_as<step>;
    };

} // namespace postern::sasl
