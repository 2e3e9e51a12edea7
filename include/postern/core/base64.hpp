// Strict base64 (RFC 4648, section 4) for SASL challenges and responses
// (RFC 4954, section 4; RFC 5034, section 4).
#pragma once

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace postern {

namespace detail {

// OpenSSL's EVP_* block calls take an int length, so long inputs go through
// in pieces. Both sizes are whole base64 quanta: 3 input octets for
// encoding, 4 characters for decoding.
inline constexpr std::size_t base64_encode_piece = 3 * 4096;
inline constexpr std::size_t base64_decode_piece = 4 * 4096;

// Returns the 6-bit value of a character of the standard alphabet
// (RFC 4648, table 1), or -1. EVP_DecodeBlock cannot do this check for us
// because it skips leading and trailing whitespace and decodes '=' inside
// the text.
constexpr int base64_value(char c) noexcept
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

// Counts the trailing '=' of a text whose length is a non-zero multiple
// of 4. Returns nullopt when a character outside the alphabet comes before
// them, which covers '=' anywhere else ("Zg=a", "Z===").
inline std::optional<std::size_t> base64_padding(std::string_view text)
{
    const std::size_t size = text.size();
    std::size_t padding = 0;
    if (text[size - 1] == '=')
        padding = text[size - 2] == '=' ? 2 : 1;
    else if (text[size - 2] == '=')
        return std::nullopt;

    const auto data = text.substr(0, size - padding);
    const bool alphabet_only = std::all_of(
        data.begin(), data.end(),
        [](char c) { return base64_value(c) >= 0; });
    if (!alphabet_only)
        return std::nullopt;
    return padding;
}

// RFC 4648, section 3.5: encoders set the unused bits of the last quantum
// to zero, and decoders may reject text where they are not. Rejecting it
// ("QR==" for "A") leaves each octet string exactly one accepted encoding.
inline bool base64_is_canonical(std::string_view text, std::size_t padding)
{
    if (padding == 0)
        return true;
    const int last = base64_value(text[text.size() - padding - 1]);
    const int unused_bits_mask = padding == 2 ? 0x0f : 0x03;
    return (last & unused_bits_mask) == 0;
}

} // namespace detail

/// Encodes `bytes` in base64 with the standard alphabet and '=' padding
/// (RFC 4648, section 4), with no line breaks.
inline std::string base64_encode(std::string_view bytes)
{
    std::string text;
    text.reserve((bytes.size() + 2) / 3 * 4);
    while (!bytes.empty()) {
        const auto piece = bytes.substr(0, detail::base64_encode_piece);
        const std::size_t start = text.size();

        // EVP_EncodeBlock writes a NUL after the text, hence the extra byte.
        text.resize(start + (piece.size() + 2) / 3 * 4 + 1);
        const int written = EVP_EncodeBlock(
            reinterpret_cast<unsigned char*>(text.data() + start),
            reinterpret_cast<const unsigned char*>(piece.data()),
            static_cast<int>(piece.size()));
        text.resize(start + static_cast<std::size_t>(written));

        bytes.remove_prefix(piece.size());
    }
    return text;
}

/// Decodes strict base64 (RFC 4648, section 4). Returns nullopt unless the
/// text uses only the standard alphabet, its length is a multiple of 4,
/// '=' appears at most twice and only at the end, and the unused bits of
/// the last quantum are zero. Whitespace and line breaks are rejected.
/// An empty text decodes to an empty string. The result may hold a
/// password (AUTH PLAIN), so callers wipe it after use, as `secret` does.
inline std::optional<std::string> base64_decode(std::string_view text)
{
    if (text.empty())
        return std::string();
    if (text.size() % 4 != 0)
        return std::nullopt;

    const auto padding = detail::base64_padding(text);
    if (!padding || !detail::base64_is_canonical(text, *padding))
        return std::nullopt;

    std::string bytes;
    bytes.reserve(text.size() / 4 * 3);
    while (!text.empty()) {
        const auto piece = text.substr(0, detail::base64_decode_piece);
        const std::size_t start = bytes.size();
        bytes.resize(start + piece.size() / 4 * 3);
        const int written = EVP_DecodeBlock(
            reinterpret_cast<unsigned char*>(bytes.data() + start),
            reinterpret_cast<const unsigned char*>(piece.data()),
            static_cast<int>(piece.size()));
        if (written < 0) {
            OPENSSL_cleanse(bytes.data(), bytes.size());
            return std::nullopt;
        }
        text.remove_prefix(piece.size());
    }

    // EVP_DecodeBlock counts the octets that padding stands for as if they
    // were data, so drop them.
    bytes.resize(bytes.size() - *padding);
    return bytes;
}

} // namespace postern
