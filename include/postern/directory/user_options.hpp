// Per-account options of the built-in directories (memory, SQLite) and the
// credentials they derive from a password.
#pragma once

#include <postern/core/secret.hpp>
#include <postern/directory/credentials.hpp>
#include <postern/directory/password_hash.hpp>

#include <optional>
#include <string>
#include <system_error>
#include <utility>

namespace postern::directory {

/// Account options of the built-in directories beyond the password.
struct user_options {
    /// The POP3 override password. POP3 USER/PASS then accepts only this
    /// password, and APOP and CRAM-MD5 may fall back to it.
    std::optional<secret> pop3_override;
    /// Also store the account password in plaintext, which APOP needs.
    bool keep_plaintext = false;
};

/// Derives the secrets a built-in directory stores for an account: the
/// crypt(3) verifier of the password, the plaintext only when
/// `options.keep_plaintext`, and for a POP3 override password both its
/// verifier and its plaintext.
///
/// @throws std::system_error from hash_password.
inline credentials make_credentials(std::string user, const secret& password,
                                    const user_options& options)
{
    credentials result;
    result.user = std::move(user);
    result.password_verifier = hash_password(password.view());
    if (options.keep_plaintext)
        result.plaintext = password;

    if (options.pop3_override) {
        const secret& override_password = *options.pop3_override;
        result.pop3_override_verifier =
            hash_password(override_password.view());
        // The override is a POP3-only password, and APOP and CRAM-MD5 need
        // its plaintext to compute their digests. Keeping it exposes less
        // than keeping the account password would.
        result.pop3_override_plaintext = override_password;
    }
    return result;
}

namespace detail {

/// make_credentials, with a hashing failure returned as its error code.
class derived_credentials {
public:
    explicit derived_credentials(credentials value) : value_(std::move(value))
    {
    }
    explicit derived_credentials(std::error_code error) : error_(error) {}

    explicit operator bool() const noexcept { return value_.has_value(); }
    credentials& operator*() noexcept { return *value_; }
    std::error_code error() const noexcept { return error_; }

private:
    std::optional<credentials> value_;
    std::error_code error_;
};

inline derived_credentials try_make_credentials(std::string user,
                                                const secret& password,
                                                const user_options& options)
{
    try {
        return derived_credentials(
            make_credentials(std::move(user), password, options));
    } catch (const std::system_error& failure) {
        return derived_credentials(failure.code());
    }
}

} // namespace detail

/// Tells whether the built-in directories can hold a secret of `kind`.
constexpr bool builtin_directory_supplies(secret_kind kind) noexcept
{
    switch (kind) {
    case secret_kind::password_verifier:
    case secret_kind::plaintext:
        return true;
    case secret_kind::cram_md5:
    case secret_kind::scram_sha1:
    case secret_kind::scram_sha256:
    case secret_kind::nt_hash:
        // Derived by sasl::derive_secrets and stored with add_user.
        return true;
    }
    return false;
}

} // namespace postern::directory
