// Maildir file names as the POP3 maildrop reads them (qmail's maildir(5)
// with Dovecot's ,W= field): delivery time, unique id, wire size and the
// ":2," info flags; and the UIDL value of RFC 1939, section 7.
#pragma once

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace postern::store::detail {

/// The parts of a Maildir file name TIME.UNIQUE.HOST[,KEY=VALUE...][:INFO]
/// that order and describe a message. The views point into the name.
struct maildir_name {
    /// The name up to the first ':', which flag changes leave as it is.
    std::string_view base;
    /// The name up to the first ',' or ':', the source of the UIDL value.
    std::string_view unique;
    /// Delivery time: seconds since the epoch, then the microseconds of
    /// an M<usec> part (0 when the name has none).
    std::uint64_t seconds = 0;
    std::uint64_t microseconds = 0;
    /// The ,W= field: the size with every LF sent as CRLF.
    std::optional<std::uint64_t> wire_size;
};

inline bool is_digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

/// Parses a run of decimal digits at the start of `text`, stopping at the
/// first other character. Returns the number of digits read, 0 if none.
/// A value too large for 64 bits becomes the maximum, which sorts last.
inline std::size_t parse_leading_number(std::string_view text,
                                        std::uint64_t& value) noexcept
{
    auto digits = static_cast<std::size_t>(
        std::find_if_not(text.begin(), text.end(), is_digit) - text.begin());
    if (digits == 0)
        return 0;
    auto result =
        std::from_chars(text.data(), text.data() + digits, value);
    if (result.ec == std::errc::result_out_of_range)
        value = std::numeric_limits<std::uint64_t>::max();
    return digits;
}

/// Returns the value of a ,W=<digits> field of `base`, if it has one.
inline std::optional<std::uint64_t> parse_wire_size(std::string_view base)
{
    auto comma = base.find(',');
    while (comma != std::string_view::npos) {
        auto next = base.find(',', comma + 1);
        auto field = base.substr(comma + 1, next - comma - 1);
        if (field.size() > 2 && field.starts_with("W=")) {
            std::uint64_t value = 0;
            auto digits = field.substr(2);
            auto result = std::from_chars(
                digits.data(), digits.data() + digits.size(), value);
            bool whole = result.ptr == digits.data() + digits.size();
            if (result.ec == std::errc{} && whole)
                return value;
        }
        comma = next;
    }
    return std::nullopt;
}

/// Parses a name found in new/ or cur/. Returns nullopt unless the name
/// starts with a decimal time and a '.', as the Maildir specification
/// (cr.yp.to/proto/maildir.html) has writers name files. So dot files and
/// editor or lock leftovers are rejected.
inline std::optional<maildir_name> parse_maildir_name(std::string_view name)
{
    maildir_name parsed;
    auto digits = parse_leading_number(name, parsed.seconds);
    if (digits == 0 || digits + 1 >= name.size() || name[digits] != '.')
        return std::nullopt;

    auto rest = name.substr(digits + 1);
    if (rest.front() == 'M')
        parse_leading_number(rest.substr(1), parsed.microseconds);

    parsed.base = name.substr(0, name.find(':'));
    parsed.unique = name.substr(0, name.find_first_of(",:"));
    parsed.wire_size = parse_wire_size(parsed.base);
    return parsed;
}

/// Returns the lower-case hex MD5 digest of `text`.
inline std::string md5_hex(std::string_view text)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_md5(),
               nullptr);

    static constexpr char hex[] = "0123456789abcdef";
    std::string text_digest;
    text_digest.reserve(2 * length);
    for (unsigned int i = 0; i < length; ++i) {
        text_digest += hex[digest[i] >> 4];
        text_digest += hex[digest[i] & 0x0f];
    }
    return text_digest;
}

/// Returns the UIDL value for a message whose name has this unique part.
/// RFC 1939, section 7, allows 1 to 70 octets in 0x21 to 0x7E. The unique
/// part is used as it is when it fits, and its MD5 digest in hex (32
/// octets) otherwise. Both depend only on the name up to the first ',' or
/// ':', so the value survives the new/ to cur/ move, flag changes and
/// restarts.
inline std::string unique_id(std::string_view unique)
{
    constexpr std::size_t max_length = 70;
    bool printable = std::all_of(unique.begin(), unique.end(), [](char c) {
        return c >= 0x21 && c <= 0x7e;
    });
    if (!unique.empty() && unique.size() <= max_length && printable)
        return std::string(unique);
    return md5_hex(unique);
}

/// Returns the name a file from new/ takes in cur/: the name with the
/// empty info ":2,", as a Maildir reader that has seen the message gives
/// it. A name that already has an info part keeps it.
inline std::string cur_name(std::string_view name)
{
    std::string moved(name);
    if (name.find(':') == std::string_view::npos)
        moved += ":2,";
    return moved;
}

/// Returns the name with the Maildir flag 'S' (seen) added to its ":2,"
/// info, the flags kept in ASCII order as maildir(5) requires. Returns
/// nullopt when nothing changes: the flag is already there, or the info is
/// of another kind than "2," (such as the experimental "1,"), which this
/// reader leaves as it is.
inline std::optional<std::string> seen_name(std::string_view name)
{
    auto colon = name.find(':');
    if (colon == std::string_view::npos)
        return std::string(name) + ":2,S";

    auto info = name.substr(colon + 1);
    if (!info.starts_with("2,"))
        return std::nullopt;
    std::string flags(info.substr(2));
    if (flags.find('S') != std::string::npos)
        return std::nullopt;

    flags += 'S';
    std::sort(flags.begin(), flags.end());
    return std::string(name.substr(0, colon)) + ":2," + flags;
}

} // namespace postern::store::detail
