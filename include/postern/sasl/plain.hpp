// The PLAIN SASL mechanism (RFC 4616).
#pragma once

#include <postern/core/secret.hpp>
#include <postern/directory/credentials.hpp>
#include <postern/sasl/mechanism.hpp>

#include <openssl/asn1.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace postern::sasl {

namespace detail {

// RFC 3629, section 4: well-formed UTF-8 without overlong forms, surrogates
// or code points above U+10FFFF. OpenSSL's UTF8_getc rejects the first two
// but decodes 4-octet sequences up to U+1FFFFF (OpenSSL 3.0,
// crypto/asn1/a_utf8.c), so the upper bound is checked here.
inline bool is_valid_utf8(std::string_view text) noexcept
{
    const auto* octets = reinterpret_cast<const unsigned char*>(text.data());
    std::size_t offset = 0;
    while (offset < text.size()) {
        unsigned long code_point = 0;
        const int length =
            UTF8_getc(octets + offset, static_cast<int>(text.size() - offset),
                      &code_point);
        if (length <= 0 || code_point > 0x10ffff)
            return false;
        offset += static_cast<std::size_t>(length);
    }
    return true;
}

// The three NUL-separated parts of a PLAIN message.
struct plain_message {
    std::string_view authzid;
    std::string_view authcid;
    std::string_view passwd;
};

// RFC 4616, section 2: message = [authzid] NUL authcid NUL passwd, where
// authcid and passwd are non-empty and no part contains NUL. Each part
// must be UTF-8. The RFC requires servers to accept parts of up to 255
// octets, and this server rejects longer ones so that a client cannot send
// a password of unbounded length to the hashing code.
inline std::optional<plain_message> parse_plain_message(
    std::string_view message)
{
    const std::size_t first_nul = message.find('\0');
    if (first_nul == std::string_view::npos)
        return std::nullopt;
    const std::size_t second_nul = message.find('\0', first_nul + 1);
    if (second_nul == std::string_view::npos ||
        message.find('\0', second_nul + 1) != std::string_view::npos)
        return std::nullopt;

    const plain_message parts{
        message.substr(0, first_nul),
        message.substr(first_nul + 1, second_nul - first_nul - 1),
        message.substr(second_nul + 1),
    };
    if (parts.authcid.empty() || parts.passwd.empty())
        return std::nullopt;

    constexpr std::size_t max_part_octets = 255;
    for (std::string_view part : {parts.authzid, parts.authcid, parts.passwd}) {
        if (part.size() > max_part_octets || !is_valid_utf8(part))
            return std::nullopt;
    }
    return parts;
}

} // namespace detail

/// PLAIN (RFC 4616): the client sends authzid, authcid and password in one
/// message, and the driver verifies the password against the directory.
/// The password crosses the wire unprotected unless TLS is active, so the
/// `tls` availability suits this mechanism.
class plain {
public:
    static constexpr std::string_view name = "PLAIN";
    static constexpr directory::secret_kind needs =
        directory::secret_kind::password_verifier;

    explicit plain(const context&) noexcept {}

    /// Begins the exchange. PLAIN is client-first (RFC 4422), so without an
    /// initial response this returns an empty challenge, to which the client
    /// sends the message. With one, the message is parsed at once.
    step start(std::optional<std::string_view> initial)
    {
        if (state_ != state::initial)
            return fail(failure_reason::malformed);
        if (!initial) {
            state_ = state::awaiting_message;
            return step::make_challenge({});
        }
        return take_message(*initial);
    }

    /// Takes the message sent in response to the empty challenge.
    step respond(std::string_view response)
    {
        if (state_ != state::awaiting_message)
            return fail(failure_reason::malformed);
        return take_message(response);
    }

    /// Takes the outcome of the verify_password step. With a correct
    /// password, the authzid must be empty or equal the authcid in ASCII
    /// case, because no user may act as another (no proxy authorization).
    step verified(bool ok)
    {
        if (state_ != state::awaiting_verification)
            return fail(failure_reason::malformed);
        if (!ok)
            return fail(failure_reason::invalid_credentials);
        if (!authzid_.empty() &&
            !detail::equal_ignoring_ascii_case(authzid_, authcid_))
            return fail(failure_reason::authzid_rejected);

        state_ = state::done;
        step result;
        result.kind = step_kind::success;
        result.authcid = authcid_;
        return result;
    }

    /// PLAIN never requests stored credentials, so this call ends the
    /// exchange as malformed.
    step found(const directory::credentials*)
    {
        return fail(failure_reason::malformed);
    }

private:
    enum class state {
        initial,
        awaiting_message,
        awaiting_verification,
        done,
    };

    step take_message(std::string_view message)
    {
        const auto parts = detail::parse_plain_message(message);
        if (!parts)
            return fail(failure_reason::malformed);

        authzid_ = parts->authzid;
        authcid_ = parts->authcid;
        state_ = state::awaiting_verification;

        step result;
        result.kind = step_kind::verify_password;
        result.authcid = authcid_;
        result.authzid = authzid_;
        result.password = secret(parts->passwd);
        return result;
    }

    step fail(failure_reason reason)
    {
        state_ = state::done;
        return step::make_failure(reason);
    }

    state state_ = state::initial;
    std::string authcid_;
    std::string authzid_;
};

static_assert(mechanism<plain>);

} // namespace postern::sasl
