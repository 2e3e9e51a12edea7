// Canonical account names: the form every directory stores and compares,
// safe to use as one path component (mail/NAME/).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace postern::directory {

/// Maximum length of an account name in octets.
inline constexpr std::size_t max_user_name_length = 64;

namespace detail {

constexpr bool is_lower_alnum(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

constexpr char to_ascii_lower(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

} // namespace detail

/// Returns the canonical form of an account name: ASCII lower case, 1 to 64
/// octets of a-z, 0-9, '.', '_' and '-', starting with a letter or digit,
/// not ending with '.' and without "..", so that it is also a valid SMTP
/// local part (a Dot-string, RFC 5321, section 4.1.2). A canonical name is
/// never ".", "..", empty or a path with '/', so it is always a single safe
/// path component. Returns nullopt for
/// any other input, including non-ASCII octets.
inline std::optional<std::string> canonical_user_name(std::string_view name)
{
    if (name.empty() || name.size() > max_user_name_length)
        return std::nullopt;

    std::string canonical;
    canonical.reserve(name.size());
    for (char c : name) {
        char lower = detail::to_ascii_lower(c);
        bool allowed = detail::is_lower_alnum(lower) || lower == '.' ||
                       lower == '_' || lower == '-';
        if (!allowed)
            return std::nullopt;
        canonical.push_back(lower);
    }

    if (!detail::is_lower_alnum(canonical.front()))
        return std::nullopt;
    if (canonical.back() == '.' || canonical.find("..") != std::string::npos)
        return std::nullopt;
    return canonical;
}

/// Tells whether two names denote the same account, comparing their
/// canonical forms. False when either name is not a valid account name.
inline bool same_user(std::string_view a, std::string_view b)
{
    auto canonical_a = canonical_user_name(a);
    if (!canonical_a)
        return false;
    auto canonical_b = canonical_user_name(b);
    return canonical_b && *canonical_a == *canonical_b;
}

} // namespace postern::directory
