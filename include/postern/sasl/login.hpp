// The LOGIN SASL mechanism (draft-murchison-sasl-login), kept for clients
// such as Outlook that offer no other plaintext mechanism.
#pragma once

#include <postern/core/secret.hpp>
#include <postern/directory/credentials.hpp>
#include <postern/sasl/mechanism.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace postern::sasl {

/// LOGIN: the server prompts for the user name, then for the password, and
/// the driver verifies the password against the directory. The mechanism
/// has no authorization identity, so `authzid` is always empty.
class login {
public:
    static constexpr std::string_view name = "LOGIN";
    static constexpr directory::secret_kind needs =
        directory::secret_kind::password_verifier;

    /// The challenges, before base64. The LOGIN specification states that
    /// clients ignore the challenge text, but Microsoft clients may check
    /// it and cancel on anything else ([MS-XLOGIN], section 3.1.5.1).
    static constexpr std::string_view user_name_prompt = "Username:";
    static constexpr std::string_view password_prompt = "Password:";

    explicit login(const context&) noexcept {}

    /// Begins the exchange. Without an initial response this prompts for
    /// the user name. An initial response is the user name, and the first
    /// challenge then prompts for the password ([MS-XLOGIN], section
    /// 3.1.5.1).
    step start(std::optional<std::string_view> initial)
    {
        if (state_ != state::initial)
            return fail(failure_reason::malformed);
        if (!initial) {
            state_ = state::awaiting_user_name;
            return step::make_challenge(std::string(user_name_prompt));
        }
        return take_user_name(*initial);
    }

    /// Takes the user name, then the password.
    step respond(std::string_view response)
    {
        switch (state_) {
        case state::awaiting_user_name: return take_user_name(response);
        case state::awaiting_password: return take_password(response);
        default: return fail(failure_reason::malformed);
        }
    }

    /// Takes the outcome of the verify_password step.
    step verified(bool ok)
    {
        if (state_ != state::awaiting_verification)
            return fail(failure_reason::malformed);
        if (!ok)
            return fail(failure_reason::invalid_credentials);

        state_ = state::done;
        step result;
        result.kind = step_kind::success;
        result.authcid = user_name_;
        return result;
    }

    /// LOGIN never requests stored credentials, so this call ends the
    /// exchange as malformed.
    step found(const directory::credentials*)
    {
        return fail(failure_reason::malformed);
    }

private:
    enum class state {
        initial,
        awaiting_user_name,
        awaiting_password,
        awaiting_verification,
        done,
    };

    // The draft sets no length limit. PLAIN's 255 octets (RFC 4616,
    // section 2) applies here too, so both plaintext mechanisms accept the
    // same credentials.
    static constexpr std::size_t max_field_octets = 255;

    step take_user_name(std::string_view user_name)
    {
        if (user_name.empty() || user_name.size() > max_field_octets)
            return fail(failure_reason::malformed);
        user_name_ = user_name;
        state_ = state::awaiting_password;
        return step::make_challenge(std::string(password_prompt));
    }

    step take_password(std::string_view password)
    {
        if (password.size() > max_field_octets)
            return fail(failure_reason::malformed);
        state_ = state::awaiting_verification;

        step result;
        result.kind = step_kind::verify_password;
        result.authcid = user_name_;
        result.password = secret(password);
        return result;
    }

    step fail(failure_reason reason)
    {
        state_ = state::done;
        return step::make_failure(reason);
    }

    state state_ = state::initial;
    std::string user_name_;
};

static_assert(mechanism<login>);

} // namespace postern::sasl
