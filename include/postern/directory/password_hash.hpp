// Password verifiers in crypt(3) form: yescrypt hashes made and checked
// with libxcrypt, compared in constant time.
#pragma once

#include <crypt.h>
#include <openssl/crypto.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace postern::directory {

namespace detail {

/// Frees a malloc'd buffer from libcrypt.
struct free_deleter {
    void operator()(void* pointer) const noexcept { std::free(pointer); }
};

/// crypt_ra's work area. Besides the output hash it may keep copies of the
/// passphrase, so it is wiped before it is freed.
class crypt_work_area {
public:
    crypt_work_area() = default;
    crypt_work_area(const crypt_work_area&) = delete;
    crypt_work_area& operator=(const crypt_work_area&) = delete;

    ~crypt_work_area()
    {
        if (data_ != nullptr)
            OPENSSL_cleanse(data_, static_cast<std::size_t>(size_));
        std::free(data_);
    }

    /// Hashes the NUL-terminated `phrase` with `setting` (a salt from
    /// crypt_gensalt or a stored hash). Returns nullptr on failure, with
    /// errno set by libcrypt.
    const char* hash(const char* phrase, const char* setting)
    {
        return crypt_ra(phrase, setting, &data_, &size_);
    }

private:
    void* data_ = nullptr;
    int size_ = 0;
};

/// A NUL-terminated copy of a password that is wiped when it goes away.
class terminated_password {
public:
    explicit terminated_password(std::string_view password)
        : bytes_(password)
    {
    }
    terminated_password(const terminated_password&) = delete;
    terminated_password& operator=(const terminated_password&) = delete;

    ~terminated_password()
    {
        if (!bytes_.empty())
            OPENSSL_cleanse(bytes_.data(), bytes_.size());
    }

    const char* c_str() const noexcept { return bytes_.c_str(); }

private:
    std::string bytes_;
};

/// Tells whether libcrypt can hash `password` without truncating it:
/// crypt(3) takes a C string, and CRYPT_MAX_PASSPHRASE_SIZE counts the NUL.
inline bool hashable_password(std::string_view password) noexcept
{
    return password.find('\0') == std::string_view::npos &&
           password.size() < CRYPT_MAX_PASSPHRASE_SIZE;
}

/// Returns a fresh setting (method, cost and random salt) for `prefix`, or
/// nullptr when libcrypt does not support the method.
inline std::unique_ptr<char, free_deleter> make_setting(const char* prefix)
{
    // A count of 0 selects libcrypt's default cost. Without random bytes
    // given, libcrypt reads the salt from the operating system.
    return std::unique_ptr<char, free_deleter>(
        crypt_gensalt_ra(prefix, 0, nullptr, 0));
}

} // namespace detail

/// Hashes a password into a crypt(3) verifier: yescrypt ("$y$") at
/// libcrypt's default cost, or SHA512-CRYPT ("$6$") where this libcrypt
/// lacks yescrypt.
///
/// @throws std::system_error with std::errc::invalid_argument when the
/// password contains NUL or is 512 octets or longer (crypt(3) would
/// truncate or reject it), or with libcrypt's errno when hashing fails.
inline std::string hash_password(std::string_view password)
{
    if (!detail::hashable_password(password))
        throw std::system_error(
            std::make_error_code(std::errc::invalid_argument),
            "password contains NUL or exceeds 511 octets");

    auto setting = detail::make_setting("$y$");
    if (!setting)
        setting = detail::make_setting("$6$");
    if (!setting)
        throw std::system_error(errno, std::generic_category(),
                                "crypt_gensalt_ra failed");

    detail::terminated_password phrase(password);
    detail::crypt_work_area work;
    const char* hash = work.hash(phrase.c_str(), setting.get());
    if (hash == nullptr || hash[0] == '*')
        throw std::system_error(errno, std::generic_category(),
                                "crypt_ra failed");
    return hash;
}

/// Checks `password` against a crypt(3) verifier, comparing the recomputed
/// hash in constant time. False for a malformed or unsupported verifier
/// (including a locked one starting with '*' or '!') and for a password
/// that crypt(3) cannot take whole (NUL octets, 512 octets or more).
inline bool verify_password_hash(std::string_view hash,
                                 std::string_view password)
{
    if (hash.empty() || hash.front() == '*' || hash.front() == '!')
        return false;
    if (hash.find('\0') != std::string_view::npos)
        return false;
    if (!detail::hashable_password(password))
        return false;

    std::string setting(hash);
    detail::terminated_password phrase(password);
    detail::crypt_work_area work;
    const char* computed = work.hash(phrase.c_str(), setting.c_str());
    if (computed == nullptr || computed[0] == '*')
        return false;

    // The length of a hash is public (it depends only on the method), so
    // only the contents need a constant-time comparison.
    std::size_t length = std::strlen(computed);
    return length == hash.size() &&
           CRYPTO_memcmp(computed, hash.data(), length) == 0;
}

namespace detail {

/// A verifier of a fixed throwaway password, made once per process with
/// the same method and cost as hash_password uses.
inline const std::string& dummy_password_hash()
{
    static const std::string hash = hash_password("postern-no-such-user");
    return hash;
}

/// Spends one hash computation, as verify_password_hash does for a real
/// account, so the response time does not tell a client which names
/// exist. Always returns false, also when libcrypt cannot hash at all.
inline bool verify_unknown_user(std::string_view password)
{
    try {
        verify_password_hash(dummy_password_hash(), password);
    } catch (const std::system_error&) {
        // libcrypt cannot hash, so real verifications fail as well.
    }
    return false;
}

} // namespace detail

} // namespace postern::directory
