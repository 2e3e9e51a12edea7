// UTF-8 and UTF-16LE conversion (RFC 3629, RFC 2781) for NTLM, which
// sends names and hashes passwords as UTF-16LE.
#pragma once

#include <openssl/asn1.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::sasl::detail {

inline void append_utf16le_unit(std::string& out, std::uint32_t unit)
{
    out += static_cast<char>(unit & 0xff);
    out += static_cast<char>((unit >> 8) & 0xff);
}

// Appends `utf8` to `out` as UTF-16LE, writing a code point above U+FFFF
// as a surrogate pair (RFC 2781, section 2.1). Returns false, with part of
// the text appended, when `utf8` is not well-formed UTF-8 (RFC 3629,
// section 4). OpenSSL's UTF8_getc rejects overlong forms and surrogates,
// and the check here adds the upper bound U+10FFFF.
inline bool append_utf8_as_utf16le(std::string& out, std::string_view utf8)
{
    const auto* octets = reinterpret_cast<const unsigned char*>(utf8.data());
    std::size_t offset = 0;
    while (offset < utf8.size()) {
        unsigned long code_point = 0;
        const int length =
            UTF8_getc(octets + offset, static_cast<int>(utf8.size() - offset),
                      &code_point);
        if (length <= 0 || code_point > 0x10ffff)
            return false;
        offset += static_cast<std::size_t>(length);

        if (code_point < 0x10000) {
            append_utf16le_unit(out, static_cast<std::uint32_t>(code_point));
            continue;
        }
        const auto above = static_cast<std::uint32_t>(code_point - 0x10000);
        append_utf16le_unit(out, 0xd800 | (above >> 10));
        append_utf16le_unit(out, 0xdc00 | (above & 0x3ff));
    }
    return true;
}

// Converts UTF-16LE to UTF-8. Returns nullopt for an odd number of octets
// or a surrogate that is not part of a high-low pair.
inline std::optional<std::string> utf16le_to_utf8(std::string_view utf16le)
{
    if (utf16le.size() % 2 != 0)
        return std::nullopt;

    const auto unit_at = [&](std::size_t index) {
        const auto low = static_cast<unsigned char>(utf16le[index]);
        const auto high = static_cast<unsigned char>(utf16le[index + 1]);
        return static_cast<std::uint32_t>(low | high << 8);
    };

    std::string utf8;
    for (std::size_t index = 0; index < utf16le.size(); index += 2) {
        std::uint32_t code_point = unit_at(index);
        if (code_point >= 0xdc00 && code_point <= 0xdfff)
            return std::nullopt;
        if (code_point >= 0xd800 && code_point <= 0xdbff) {
            index += 2;
            if (index >= utf16le.size())
                return std::nullopt;
            const std::uint32_t low = unit_at(index);
            if (low < 0xdc00 || low > 0xdfff)
                return std::nullopt;
            code_point = 0x10000 + ((code_point - 0xd800) << 10) +
                         (low - 0xdc00);
        }

        unsigned char encoded[4];
        const int length = UTF8_putc(encoded, sizeof(encoded), code_point);
        if (length <= 0)
            return std::nullopt;
        utf8.append(reinterpret_cast<const char*>(encoded),
                    static_cast<std::size_t>(length));
    }
    return utf8;
}

} // namespace postern::sasl::detail
