// POP3 command parsing (RFC 1939, section 3; RFC 2449, section 4).
#pragma once

#include <array>
#include <charconv>
#include <cstddef>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

namespace postern::pop3 {

enum class verb {
    user, pass, apop, auth, stls, capa, stat, list, retr, dele, noop,
    rset, quit, top, uidl, unknown,
};

/// A command line split into its keyword and the rest of the line.
struct command {
    verb name = verb::unknown;
    std::string_view argument; ///< after the keyword and one space
};

namespace detail {

inline bool iequals(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        char y = b[i];
        if (x >= 'a' && x <= 'z')
            x = static_cast<char>(x - 'a' + 'A');
        if (y >= 'a' && y <= 'z')
            y = static_cast<char>(y - 'a' + 'A');
        if (x != y)
            return false;
    }
    return true;
}

} // namespace detail

/// Splits a command line (without CRLF). Keywords are case-insensitive
/// (RFC 1939, section 3).
inline command parse_command(std::string_view line)
{
    static constexpr std::array<std::pair<std::string_view, verb>, 15>
        verbs{{{"USER", verb::user},
               {"PASS", verb::pass},
               {"APOP", verb::apop},
               {"AUTH", verb::auth},
               {"STLS", verb::stls},
               {"CAPA", verb::capa},
               {"STAT", verb::stat},
               {"LIST", verb::list},
               {"RETR", verb::retr},
               {"DELE", verb::dele},
               {"NOOP", verb::noop},
               {"RSET", verb::rset},
               {"QUIT", verb::quit},
               {"TOP", verb::top},
               {"UIDL", verb::uidl}}};

    auto space = line.find(' ');
    auto keyword = line.substr(0, space);
    command result;
    if (space != std::string_view::npos)
        result.argument = line.substr(space + 1);

    for (const auto& [text, name] : verbs)
        if (detail::iequals(keyword, text)) {
            result.name = name;
            break;
        }
    return result;
}

/// Parses a message number: 1 to 9 decimal digits, no sign, not zero.
inline std::optional<std::size_t> parse_message_number(std::string_view text)
{
    if (text.empty() || text.size() > 9 || text.front() == '0')
        return std::nullopt;
    std::size_t value = 0;
    auto [end, ec] =
        std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

/// Parses a line count for TOP: any non-negative decimal number (RFC 1939,
/// section 7); one too large to represent means the whole message.
inline std::optional<std::size_t> parse_line_count(std::string_view text)
{
    if (text.empty() || text.size() > 64)
        return std::nullopt;
    std::size_t value = 0;
    auto [end, ec] =
        std::from_chars(text.data(), text.data() + text.size(), value);
    if (end != text.data() + text.size())
        return std::nullopt;
    if (ec == std::errc::result_out_of_range)
        return std::numeric_limits<std::size_t>::max();
    if (ec != std::errc{})
        return std::nullopt;
    return value;
}

} // namespace postern::pop3
