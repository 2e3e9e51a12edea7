// The NTLM SASL mechanism ([MS-NLMP]; AUTH NTLM as in [MS-SMTPNTLM] and
// [MS-POP3]), and the NT hash that it verifies against.
#pragma once

#include <postern/core/md4.hpp>
#include <postern/core/secret.hpp>
#include <postern/directory/credentials.hpp>
#include <postern/sasl/detail/ntlm_messages.hpp>
#include <postern/sasl/detail/ntlm_responses.hpp>
#include <postern/sasl/detail/utf16.hpp>
#include <postern/sasl/mechanism.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::sasl {

/// Derives the NT hash of a password: MD4 of its UTF-16LE encoding
/// (NTOWFv1, [MS-NLMP] section 3.3.1). Code points above U+FFFF become
/// surrogate pairs. Returns nullopt when `password_utf8` is not valid
/// UTF-8. The hash is a password equivalent for NTLM, so store it as a
/// secret.
inline std::optional<std::array<std::uint8_t, 16>> nt_hash(
    std::string_view password_utf8)
{
    std::string encoded;
    const bool valid = detail::append_utf8_as_utf16le(encoded, password_utf8);
    std::optional<std::array<std::uint8_t, 16>> hash;
    if (valid)
        hash = md4_digest(encoded);
    OPENSSL_cleanse(encoded.data(), encoded.size());
    return hash;
}

namespace detail {

// Maps the UserName field (as UTF-8) to an account name: the part after
// the first backslash of "DOMAIN\user", then the part before the last '@'
// of "user@domain".
inline std::string_view ntlm_account_name(std::string_view user)
{
    const std::size_t backslash = user.find('\\');
    if (backslash != std::string_view::npos)
        user.remove_prefix(backslash + 1);
    const std::size_t at = user.rfind('@');
    if (at != std::string_view::npos)
        user = user.substr(0, at);
    return user;
}

} // namespace detail

/// NTLM over SASL, as Outlook, curl and swaks run AUTH NTLM in SMTP and
/// POP3. The client sends a NEGOTIATE_MESSAGE (as the initial response or
/// in response to an empty challenge), the server replies with a
/// CHALLENGE_MESSAGE, and the client's AUTHENTICATE_MESSAGE carries a
/// response that the server checks against the account's NT hash.
///
/// Account mapping: all accounts live in one directory, so the domain
/// never selects the account. The account name is the UserName field with
/// a "DOMAIN\" prefix and an "@domain" suffix removed, so "EXAMPLE\alice",
/// "alice@example.com" and "alice" (with any DomainName) all map to
/// "alice". The NTLMv2 check still uses UserName and DomainName exactly as
/// sent, as the client's computation did.
///
/// Responses: NTLMv2, or LMv2 when the client sends no NT response. The
/// NTLMv1 and NTLM2 session responses fall to an offline DES attack on a
/// captured exchange, so they are accepted only when
/// `context::allow_ntlmv1` is set. Otherwise they fail as invalid
/// credentials with `step::note` set to `ntlmv1_disabled_note`.
///
/// The exchange keeps no state outside this object, so a failed exchange
/// leaves nothing behind. Outlook can then try the Windows logon
/// credentials first and the configured ones in a second AUTH.
class ntlm {
public:
    static constexpr std::string_view name = "NTLM";
    static constexpr directory::secret_kind needs =
        directory::secret_kind::nt_hash;

    /// The note on a failure because NTLMv1 is off, naming the setting.
    static constexpr std::string_view ntlmv1_disabled_note =
        "NTLMv1 is disabled (setting ntlm_v1)";

    /// The note on a failure because no random server challenge could be
    /// generated.
    static constexpr std::string_view random_failed_note =
        "RAND_bytes failed to generate the NTLM server challenge";

    explicit ntlm(const context& connection)
        : names_(detail::derive_ntlm_names(connection.server_identity)),
          allow_ntlmv1_(connection.allow_ntlmv1)
    {
    }

    /// Fixes the server challenge of the CHALLENGE_MESSAGE, in place of
    /// random bytes. For known-answer tests only: a server that repeats a
    /// challenge lets anyone who captured a response replay it. Call it
    /// before start().
    void set_server_challenge_for_testing(
        const std::array<std::uint8_t, 8>& challenge) noexcept
    {
        fixed_challenge_ = challenge;
    }

    /// Begins the exchange. NTLM is client-first, so without an initial
    /// response this returns an empty challenge, to which the client sends
    /// the NEGOTIATE_MESSAGE. An initial response is the NEGOTIATE_MESSAGE.
    step start(std::optional<std::string_view> initial)
    {
        if (state_ != state::initial)
            return fail(failure_reason::malformed);
        if (!initial) {
            state_ = state::awaiting_negotiate;
            return step::make_challenge({});
        }
        return take_negotiate(*initial);
    }

    /// Takes the NEGOTIATE_MESSAGE, then the AUTHENTICATE_MESSAGE.
    step respond(std::string_view response)
    {
        switch (state_) {
        case state::awaiting_negotiate: return take_negotiate(response);
        case state::awaiting_authenticate: return take_authenticate(response);
        default: return fail(failure_reason::malformed);
        }
    }

    /// NTLM never requests password verification, so this call ends the
    /// exchange as malformed.
    step verified(bool) { return fail(failure_reason::malformed); }

    /// Checks the client's response against the account's NT hash in
    /// constant time. An unknown account, or one without an NT hash, goes
    /// through the same computation with a dummy key and fails the same
    /// way as a wrong password.
    step found(const directory::credentials* credentials)
    {
        if (state_ != state::awaiting_credentials)
            return fail(failure_reason::malformed);

        const bool known = credentials != nullptr && credentials->nt_hash;
        detail::ntlm_key key{};
        if (known)
            key = *credentials->nt_hash;
        const bool matched = check_response(key);
        OPENSSL_cleanse(key.data(), key.size());
        if (!known || !matched)
            return fail(failure_reason::invalid_credentials);

        state_ = state::done;
        step result;
        result.kind = step_kind::success;
        result.authcid = account_;
        return result;
    }

private:
    enum class state {
        initial,
        awaiting_negotiate,
        awaiting_authenticate,
        awaiting_credentials,
        done,
    };

    enum class response_kind {
        ntlmv2,
        lmv2,
        ntlmv1,
        ntlm2_session,
    };

    step take_negotiate(std::string_view message)
    {
        const auto negotiate = detail::parse_negotiate(message);
        if (!negotiate)
            return fail(failure_reason::malformed);

        if (fixed_challenge_) {
            server_challenge_ = *fixed_challenge_;
        } else if (RAND_bytes(server_challenge_.data(), 8) != 1) {
            step failure = fail(failure_reason::invalid_credentials);
            failure.note = random_failed_note;
            return failure;
        }

        challenge_flags_ = detail::choose_challenge_flags(negotiate->flags);
        state_ = state::awaiting_authenticate;
        return step::make_challenge(
            detail::build_challenge(challenge_flags_, server_challenge_,
                                    names_, detail::filetime_now()));
    }

    step take_authenticate(std::string_view message)
    {
        const bool unicode =
            (challenge_flags_ & detail::ntlm_flag::unicode) != 0;
        auto parsed = detail::parse_authenticate(message, unicode);
        if (!parsed)
            return fail(failure_reason::malformed);
        const auto user = detail::utf16le_to_utf8(parsed->user);
        if (!user)
            return fail(failure_reason::malformed);

        // An empty user name with empty responses is the anonymous logon
        // ([MS-NLMP] section 3.2.5.1.2). The server has no anonymous
        // account, no account has an empty name, and a user name without
        // a response proves nothing.
        account_ = detail::ntlm_account_name(*user);
        if (account_.empty() || lacks_response(*parsed))
            return fail(failure_reason::invalid_credentials);

        const auto kind = classify_response(*parsed);
        if (!kind)
            return fail(failure_reason::malformed);
        if (is_v1(*kind) && !allow_ntlmv1_) {
            step failure = fail(failure_reason::invalid_credentials);
            failure.authcid = account_;
            failure.note = ntlmv1_disabled_note;
            return failure;
        }

        kind_ = *kind;
        user_ = std::move(parsed->user);
        domain_ = std::move(parsed->domain);
        lm_response_ = parsed->lm_response;
        nt_response_ = parsed->nt_response;
        state_ = state::awaiting_credentials;

        step result;
        result.kind = step_kind::lookup_credentials;
        result.authcid = account_;
        return result;
    }

    // Identifies the response type by its length ([MS-NLMP] section 3.3).
    // An NT response longer than 24 octets is NTLMv2. One of exactly 24 is
    // NTLMv1, or the NTLM2 session response when the client set
    // EXTENDED_SESSIONSECURITY and put its challenge in a 24-octet LM
    // response. Without an NT response, a 24-octet LM response is LMv2.
    static std::optional<response_kind> classify_response(
        const detail::authenticate_message& message)
    {
        constexpr std::size_t v1_octets = 24;
        const std::size_t nt_octets = message.nt_response.size();
        const std::size_t lm_octets = message.lm_response.size();

        if (nt_octets > v1_octets)
            return response_kind::ntlmv2;
        if (nt_octets == 0 && lm_octets == v1_octets)
            return response_kind::lmv2;
        if (nt_octets != v1_octets)
            return std::nullopt;

        constexpr std::uint32_t extended =
            detail::ntlm_flag::extended_session_security;
        if ((message.flags & extended) == 0)
            return response_kind::ntlmv1;
        if (lm_octets != v1_octets)
            return std::nullopt;
        return response_kind::ntlm2_session;
    }

    // The anonymous form: no NT response, and an LM response that is
    // empty or the single zero octet of [MS-NLMP] section 3.3.
    static bool lacks_response(const detail::authenticate_message& message)
    {
        return message.nt_response.empty() &&
               (message.lm_response.empty() ||
                message.lm_response == std::string_view("\0", 1));
    }

    static bool is_v1(response_kind kind)
    {
        return kind == response_kind::ntlmv1 ||
               kind == response_kind::ntlm2_session;
    }

    bool check_response(const detail::ntlm_key& nt_hash) const
    {
        switch (kind_) {
        case response_kind::ntlmv2:
        case response_kind::lmv2: return check_v2(nt_hash);
        case response_kind::ntlmv1:
            return detail::equal_secret(
                detail::ntlmv1_response(nt_hash, server_challenge_),
                nt_response_);
        case response_kind::ntlm2_session:
            return detail::equal_secret(
                detail::ntlm2_session_response(
                    nt_hash, server_challenge_,
                    detail::to_challenge(lm_response_)),
                nt_response_);
        }
        return false;
    }

    // Checks NTLMv2 or LMv2 with the domain as sent, then with an empty
    // one, because [MS-NLMP] section 3.2.5.1.2 recommends that servers
    // accept clients that wrongly leave UserDom out of NTOWFv2. Both are
    // always computed, so the time taken does not tell which one matched.
    // TODO: the MIC and the MsvAvChannelBindings and MsvAvTargetName pairs
    // in the NTLMv2 blob are not checked, so a relayed or altered exchange
    // is not detected.
    bool check_v2(const detail::ntlm_key& nt_hash) const
    {
        bool matched = false;
        for (const std::string_view domain :
             {std::string_view(domain_), std::string_view()}) {
            auto ntowf = detail::ntowf_v2(nt_hash, user_, domain);
            if (!ntowf)
                continue;
            const bool match =
                kind_ == response_kind::ntlmv2
                    ? detail::check_ntlmv2(*ntowf, server_challenge_,
                                           nt_response_)
                    : detail::check_lmv2(*ntowf, server_challenge_,
                                         lm_response_);
            OPENSSL_cleanse(ntowf->data(), ntowf->size());
            if (match)
                matched = true;
        }
        return matched;
    }

    step fail(failure_reason reason)
    {
        state_ = state::done;
        return step::make_failure(reason);
    }

    state state_ = state::initial;
    detail::ntlm_names names_;
    bool allow_ntlmv1_ = false;
    std::optional<detail::ntlm_challenge> fixed_challenge_;
    detail::ntlm_challenge server_challenge_{};
    std::uint32_t challenge_flags_ = 0;

    // Fields of the AUTHENTICATE_MESSAGE. The names are UTF-16LE.
    response_kind kind_ = response_kind::ntlmv2;
    std::string account_;
    std::string user_;
    std::string domain_;
    std::string lm_response_;
    std::string nt_response_;
};

static_assert(mechanism<ntlm>);

} // namespace postern::sasl
