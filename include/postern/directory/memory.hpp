// An in-memory user directory for tests and embedded servers.
#pragma once

#include <postern/core/error.hpp>
#include <postern/core/secret.hpp>
#include <postern/directory/credentials.hpp>
#include <postern/directory/password_hash.hpp>
#include <postern/directory/user_name.hpp>
#include <postern/directory/user_options.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace postern::directory {

/// A user directory kept in memory and lost when the process ends. All
/// members are thread-safe. Password hashing runs outside the lock, so a
/// slow hash does not block other lookups.
class memory_directory {
public:
    memory_directory() = default;
    memory_directory(const memory_directory&) = delete;
    memory_directory& operator=(const memory_directory&) = delete;

    /// Adds an account.
    /// @returns error::invalid_user_name, error::user_exists, or
    /// std::errc::invalid_argument for a password that crypt(3) cannot
    /// take (see hash_password).
    std::error_code add_user(std::string_view name, const secret& password,
                             const user_options& options = {})
    {
        auto user = canonical_user_name(name);
        if (!user)
            return error::invalid_user_name;

        auto stored = detail::try_make_credentials(*user, password, options);
        if (!stored)
            return stored.error();
        return add_user(std::move(*stored));
    }

    /// Adds an account with credentials derived by the caller (for example
    /// with sasl::derive_secrets for the mechanisms a server offers).
    /// @returns error::invalid_user_name or error::user_exists.
    std::error_code add_user(credentials stored)
    {
        auto user = canonical_user_name(stored.user);
        if (!user)
            return error::invalid_user_name;
        stored.user = *user;

        std::lock_guard lock(mutex_);
        auto [position, inserted] =
            users_.try_emplace(*user, std::move(stored));
        (void)position;
        return inserted ? std::error_code() : error::user_exists;
    }

    /// Replaces every secret of an account with ones derived from
    /// `password` and `options`.
    /// @returns error::user_not_found, or an error as add_user does.
    std::error_code set_password(std::string_view name,
                                 const secret& password,
                                 const user_options& options = {})
    {
        auto user = canonical_user_name(name);
        if (!user)
            return error::user_not_found;

        auto stored = detail::try_make_credentials(*user, password, options);
        if (!stored)
            return stored.error();
        return replace_credentials(std::move(*stored));
    }

    /// Replaces every secret of the account `stored.user` with `stored`.
    /// @returns error::user_not_found.
    std::error_code replace_credentials(credentials stored)
    {
        auto user = canonical_user_name(stored.user);
        if (!user)
            return error::user_not_found;
        stored.user = *user;

        std::lock_guard lock(mutex_);
        auto found = users_.find(*user);
        if (found == users_.end())
            return error::user_not_found;
        found->second = std::move(stored);
        return {};
    }

    /// Removes an account. @returns error::user_not_found.
    std::error_code remove_user(std::string_view name)
    {
        auto user = canonical_user_name(name);
        std::lock_guard lock(mutex_);
        if (!user || users_.erase(*user) == 0)
            return error::user_not_found;
        return {};
    }

    /// Returns the canonical names of all accounts in ascending order.
    std::vector<std::string> list_users() const
    {
        std::lock_guard lock(mutex_);
        std::vector<std::string> names;
        names.reserve(users_.size());
        for (const auto& entry : users_)
            names.push_back(entry.first);
        return names;
    }

    bool exists(std::string_view name)
    {
        auto user = canonical_user_name(name);
        std::lock_guard lock(mutex_);
        return user && users_.contains(*user);
    }

    std::optional<credentials> find_user(std::string_view name)
    {
        auto user = canonical_user_name(name);
        if (!user)
            return std::nullopt;

        std::lock_guard lock(mutex_);
        auto found = users_.find(*user);
        if (found == users_.end())
            return std::nullopt;
        return found->second;
    }

    /// Checks `password` against the account's password verifier (not the
    /// POP3 override). An unknown or invalid name costs one hash all the
    /// same, so timing does not reveal which names exist.
    bool verify_password(std::string_view name, std::string_view password)
    {
        auto verifier = find_verifier(name);
        if (!verifier)
            return detail::verify_unknown_user(password);
        return verify_password_hash(*verifier, password);
    }

    bool supplies(secret_kind kind) const noexcept
    {
        return builtin_directory_supplies(kind);
    }

private:
    std::optional<std::string> find_verifier(std::string_view name)
    {
        auto user = canonical_user_name(name);
        if (!user)
            return std::nullopt;

        std::lock_guard lock(mutex_);
        auto found = users_.find(*user);
        if (found == users_.end())
            return std::nullopt;
        return found->second.password_verifier;
    }

    mutable std::mutex mutex_;
    std::map<std::string, credentials, std::less<>> users_;
};

static_assert(user_directory<memory_directory>);

} // namespace postern::directory
