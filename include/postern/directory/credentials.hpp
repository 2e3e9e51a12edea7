// The credential model: what a user directory stores for each account and
// which secret each authentication mechanism needs.
#pragma once

#include <postern/core/secret.hpp>

#include <array>
#include <bitset>
#include <cstddef>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::directory {

/// A kind of stored secret. Mechanisms name the one they need; directories
/// report which ones they can supply.
enum class secret_kind {
    password_verifier, ///< crypt(3) hash: PLAIN, LOGIN, USER/PASS
    plaintext,         ///< the password itself: APOP (only with --apop)
    cram_md5,          ///< HMAC-MD5 inner and outer context: CRAM-MD5
    scram_sha1,        ///< salt, iterations, StoredKey, ServerKey
    scram_sha256,      ///< same, with SHA-256
    nt_hash,           ///< MD4 of the UTF-16LE password: NTLM
};

/// SCRAM server credentials (RFC 5802, section 3). Keys are raw bytes.
struct scram_credentials {
    std::string salt;
    std::uint32_t iterations = 0;
    std::string stored_key;
    std::string server_key;
};

/// Everything a directory holds for one account. Only the secrets the
/// directory supplies are set; the rest stay empty.
struct credentials {
    std::string user; ///< the canonical account name
    std::optional<std::string> password_verifier; ///< crypt(3) hash
    std::optional<secret> plaintext;
    std::optional<std::string> cram_md5; ///< 32 bytes: outer, inner state
    std::optional<scram_credentials> scram_sha1;
    std::optional<scram_credentials> scram_sha256;
    std::optional<std::array<std::uint8_t, 16>> nt_hash;
    std::optional<std::string> pop3_override_verifier; ///< crypt(3) hash
    std::optional<secret> pop3_override_plaintext;
};

/// A user directory. Calls may block (disk, crypt hashing, PAM), so
/// session drivers run them on the worker pool, never on an I/O thread.
/// Names are compared in their canonical form (see canonical_user_name).
///
/// - exists returns whether the account exists (RCPT checks).
/// - find_user returns the account's credentials, or nullopt.
/// - verify_password checks a plaintext password against the account's
///   verifier; false for an unknown user.
/// - supplies returns whether the directory can ever hold that secret.
template <typename D>
concept user_directory =
    requires(D& directory, const D& cdirectory, std::string_view name,
             std::string_view password, secret_kind kind) {
        { directory.exists(name) } -> std::same_as<bool>;
        { directory.find_user(name) }
            -> std::same_as<std::optional<credentials>>;
        { directory.verify_password(name, password) } -> std::same_as<bool>;
        { cdirectory.supplies(kind) } -> std::same_as<bool>;
    };

/// The secret kinds `directory` supplies, as a bit per secret_kind.
template <user_directory D>
std::bitset<8> supplied_secrets(const D& directory)
{
    std::bitset<8> supplied;
    for (std::size_t kind = 0; kind <= static_cast<std::size_t>(
                                          secret_kind::nt_hash);
         ++kind)
        supplied.set(kind,
                     directory.supplies(static_cast<secret_kind>(kind)));
    return supplied;
}

} // namespace postern::directory
