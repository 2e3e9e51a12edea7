// SMTP command parsing: verbs, paths and ESMTP parameters (RFC 5321,
// sections 4.1.1 and 4.1.2; RFC 1870 SIZE; RFC 6152 8BITMIME).
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::smtp {

enum class verb {
    helo, ehlo, mail, rcpt, data, rset, noop, quit, vrfy, expn, help,
    starttls, auth, unknown,
};

/// A command line split into its verb and the rest of the line.
struct command {
    verb name = verb::unknown;
    std::string_view argument; ///< after the verb and one space; may be ""
};

/// A parsed forward or reverse path, without angle brackets or a source
/// route. An empty address is the null reverse path <>.
struct mail_path {
    std::string address;
    std::string local_part;
    std::string domain; ///< lower case; empty for <> and <Postmaster>
};

/// MAIL FROM parameters that Postern supports.
struct mail_parameters {
    std::optional<std::uint64_t> size; ///< SIZE=n (RFC 1870)
    bool eight_bit = false;            ///< BODY=8BITMIME (RFC 6152)
};

enum class path_error {
    syntax,                ///< the path does not parse
    bad_parameter,         ///< a known parameter has an invalid value
    unsupported_parameter, ///< an ESMTP parameter this server lacks
};

template <typename T>
struct parse_result {
    std::optional<T> value;
    path_error error = path_error::syntax;
};

struct mail_command {
    mail_path path;
    mail_parameters parameters;
};

namespace detail {

inline char to_lower(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept
{
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return to_lower(x) == to_lower(y);
           });
}

inline bool istarts_with(std::string_view text,
                         std::string_view prefix) noexcept
{
    return text.size() >= prefix.size() &&
           iequals(text.substr(0, prefix.size()), prefix);
}

inline bool is_alpha(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// atext of RFC 5322, section 3.2.3.
inline bool is_atext(char c) noexcept
{
    constexpr std::string_view specials = "!#$%&'*+-/=?^_`{|}~";
    return is_alpha(c) || is_digit(c) ||
           specials.find(c) != std::string_view::npos;
}

// Dot-string = Atom *("." Atom)
inline bool is_dot_string(std::string_view s) noexcept
{
    if (s.empty() || s.front() == '.' || s.back() == '.')
        return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '.') {
            if (s[i + 1] == '.')
                return false;
        } else if (!is_atext(s[i])) {
            return false;
        }
    }
    return true;
}

// Quoted-string: DQUOTE *(qtextSMTP / "\" %d32-126) DQUOTE
inline bool is_quoted_string(std::string_view s) noexcept
{
    if (s.size() < 2 || s.front() != '"' || s.back() != '"')
        return false;
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c == '\\') {
            ++i;
            if (i + 1 >= s.size())
                return false;
            c = static_cast<unsigned char>(s[i]);
            if (c < 32 || c > 126)
                return false;
        } else if (c < 32 || c > 126 || c == '"') {
            return false;
        }
    }
    return true;
}

// sub-domain = Let-dig [Ldh-str]; Domain = sub-domain *("." sub-domain)
inline bool is_domain(std::string_view s) noexcept
{
    if (s.empty() || s.size() > 255)
        return false;
    std::size_t start = 0;
    while (true) {
        auto end = s.find('.', start);
        auto label = s.substr(start, end == std::string_view::npos
                                         ? std::string_view::npos
                                         : end - start);
        if (label.empty() || label.size() > 63)
            return false;
        if (label.front() == '-' || label.back() == '-')
            return false;
        for (char c : label)
            if (!is_alpha(c) && !is_digit(c) && c != '-')
                return false;
        if (end == std::string_view::npos)
            return true;
        start = end + 1;
    }
}

// address-literal = "[" ( IPv4 / IPv6 / General ) "]", checked loosely:
// printable characters other than brackets and backslash.
inline bool is_address_literal(std::string_view s) noexcept
{
    if (s.size() < 3 || s.front() != '[' || s.back() != ']')
        return false;
    return std::all_of(s.begin() + 1, s.end() - 1, [](char c) {
        return c > 32 && c < 127 && c != '[' && c != ']' && c != '\\';
    });
}

inline std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out)
        c = to_lower(c);
    return out;
}

// Mailbox = Local-part "@" ( Domain / address-literal ). The last "@"
// separates them, because a quoted local part may contain "@".
inline std::optional<mail_path> parse_mailbox(std::string_view s)
{
    auto at = s.rfind('@');
    if (at == std::string_view::npos)
        return std::nullopt;
    auto local = s.substr(0, at);
    auto domain = s.substr(at + 1);

    // RFC 5321, section 4.5.3.1.1: 64 octets of local part.
    if (local.empty() || local.size() > 64)
        return std::nullopt;
    if (!is_dot_string(local) && !is_quoted_string(local))
        return std::nullopt;
    if (!is_domain(domain) && !is_address_literal(domain))
        return std::nullopt;

    mail_path path;
    path.local_part = std::string(local);
    path.domain = lower(domain);
    path.address = path.local_part + "@" + path.domain;
    return path;
}

// Returns the position of the ">" that closes a path starting at "<",
// skipping a quoted local part, which may contain ">".
inline std::size_t find_path_end(std::string_view text)
{
    bool quoted = false;
    for (std::size_t i = 1; i < text.size(); ++i) {
        char c = text[i];
        if (quoted && c == '\\')
            ++i;
        else if (c == '"')
            quoted = !quoted;
        else if (!quoted && c == '>')
            return i;
    }
    return std::string_view::npos;
}

// Path = "<" [ A-d-l ":" ] Mailbox ">". Returns the text between the
// brackets with any source route dropped, which RFC 5321, section 4.1.2,
// lets servers ignore, and advances `rest` past the ">".
inline std::optional<std::string_view> take_path(std::string_view& rest)
{
    if (rest.empty() || rest.front() != '<')
        return std::nullopt;
    auto close = find_path_end(rest);
    if (close == std::string_view::npos)
        return std::nullopt;
    // RFC 5321, section 4.5.3.1.3: a path is at most 256 octets,
    // brackets included.
    if (close + 1 > 256)
        return std::nullopt;
    auto inner = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);

    if (!inner.empty() && inner.front() == '@') {
        auto colon = inner.find(':');
        if (colon == std::string_view::npos)
            return std::nullopt;
        inner.remove_prefix(colon + 1);
    }
    return inner;
}

// Splits "FROM:<path> params" after the keyword. Some clients put a space
// after the colon, which Postfix and most servers accept; so do we.
inline std::optional<std::string_view>
strip_keyword(std::string_view argument, std::string_view keyword)
{
    if (!istarts_with(argument, keyword))
        return std::nullopt;
    argument.remove_prefix(keyword.size());
    while (!argument.empty() && argument.front() == ' ')
        argument.remove_prefix(1);
    return argument;
}

inline bool is_esmtp_keyword(std::string_view s) noexcept
{
    if (s.empty() || !(is_alpha(s.front()) || is_digit(s.front())))
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return is_alpha(c) || is_digit(c) || c == '-';
    });
}

// esmtp-value = 1*(%d33-60 / %d62-126)
inline bool is_esmtp_value(std::string_view s) noexcept
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return c >= 33 && c <= 126 && c != '=';
    });
}

// Splits "KEY=VALUE KEY ..." into pairs; nullopt on a syntax error.
inline std::optional<std::vector<std::pair<std::string_view,
                                           std::string_view>>>
split_parameters(std::string_view rest)
{
    std::vector<std::pair<std::string_view, std::string_view>> out;
    while (!rest.empty()) {
        if (rest.front() != ' ')
            return std::nullopt;
        while (!rest.empty() && rest.front() == ' ')
            rest.remove_prefix(1);
        if (rest.empty())
            break;
        auto end = rest.find(' ');
        auto item = rest.substr(0, end);
        rest.remove_prefix(item.size());

        auto eq = item.find('=');
        auto key = item.substr(0, eq);
        auto value = eq == std::string_view::npos ? std::string_view{}
                                                  : item.substr(eq + 1);
        if (!is_esmtp_keyword(key))
            return std::nullopt;
        if (eq != std::string_view::npos && !is_esmtp_value(value))
            return std::nullopt;
        out.emplace_back(key, value);
    }
    return out;
}

// RFC 1870: size-value is 1*20DIGIT. A value that overflows 64 bits is
// still a size, and larger than any limit, so it saturates.
inline std::optional<std::uint64_t> parse_decimal(std::string_view s)
{
    if (s.empty() || s.size() > 20)
        return std::nullopt;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec == std::errc::result_out_of_range)
        return std::numeric_limits<std::uint64_t>::max();
    if (ec != std::errc{} || end != s.data() + s.size())
        return std::nullopt;
    return value;
}

// Applies one MAIL parameter; false when the parameter is unknown or its
// value is invalid for a known keyword (reported as unsupported/syntax).
inline std::optional<path_error>
apply_mail_parameter(mail_parameters& parameters, std::string_view key,
                     std::string_view value)
{
    if (iequals(key, "SIZE")) {
        parameters.size = parse_decimal(value);
        if (!parameters.size)
            return path_error::bad_parameter;
        return std::nullopt;
    }
    if (iequals(key, "BODY")) {
        if (iequals(value, "8BITMIME"))
            parameters.eight_bit = true;
        else if (!iequals(value, "7BIT"))
            return path_error::unsupported_parameter;
        return std::nullopt;
    }
    if (iequals(key, "AUTH")) {
        // RFC 4954, section 5: the AUTH parameter names the original
        // submitter. Postern does not pass it on, so its value only needs
        // to be present.
        if (value.empty())
            return path_error::bad_parameter;
        return std::nullopt;
    }
    return path_error::unsupported_parameter;
}

} // namespace detail

/// Splits a command line (without CRLF) into verb and argument. Verbs are
/// case-insensitive (RFC 5321, section 2.4).
inline command parse_command(std::string_view line)
{
    static constexpr std::array<std::pair<std::string_view, verb>, 13>
        verbs{{{"HELO", verb::helo},
               {"EHLO", verb::ehlo},
               {"MAIL", verb::mail},
               {"RCPT", verb::rcpt},
               {"DATA", verb::data},
               {"RSET", verb::rset},
               {"NOOP", verb::noop},
               {"QUIT", verb::quit},
               {"VRFY", verb::vrfy},
               {"EXPN", verb::expn},
               {"HELP", verb::help},
               {"STARTTLS", verb::starttls},
               {"AUTH", verb::auth}}};

    auto space = line.find(' ');
    auto word = line.substr(0, space);
    command result;
    if (space != std::string_view::npos)
        result.argument = line.substr(space + 1);

    for (const auto& [text, name] : verbs)
        if (detail::iequals(word, text)) {
            result.name = name;
            break;
        }
    return result;
}

/// Parses the argument of MAIL: "FROM:" Reverse-path [SP Mail-parameters].
inline parse_result<mail_command> parse_mail_from(std::string_view argument)
{
    auto rest = detail::strip_keyword(argument, "FROM:");
    if (!rest)
        return {};
    auto inner = detail::take_path(*rest);
    if (!inner)
        return {};

    mail_command result;
    if (!inner->empty()) {
        auto mailbox = detail::parse_mailbox(*inner);
        if (!mailbox)
            return {};
        result.path = std::move(*mailbox);
    }

    auto parameters = detail::split_parameters(*rest);
    if (!parameters)
        return {};
    for (const auto& [key, value] : *parameters)
        if (auto error = detail::apply_mail_parameter(result.parameters,
                                                      key, value))
            return {std::nullopt, *error};
    return {std::move(result)};
}

/// Parses the argument of RCPT: "TO:" ( "<Postmaster@" Domain ">" /
/// "<Postmaster>" / Forward-path ) [SP Rcpt-parameters]. Postern supports
/// no RCPT parameters.
inline parse_result<mail_path> parse_rcpt_to(std::string_view argument)
{
    auto rest = detail::strip_keyword(argument, "TO:");
    if (!rest)
        return {};
    auto inner = detail::take_path(*rest);
    if (!inner || inner->empty())
        return {};

    std::optional<mail_path> path;
    if (detail::iequals(*inner, "postmaster")) {
        path.emplace();
        path->local_part = "postmaster";
        path->address = "postmaster";
    } else {
        path = detail::parse_mailbox(*inner);
    }
    if (!path)
        return {};

    auto parameters = detail::split_parameters(*rest);
    if (!parameters)
        return {};
    if (!parameters->empty())
        return {std::nullopt, path_error::unsupported_parameter};
    return {std::move(path)};
}

} // namespace postern::smtp
