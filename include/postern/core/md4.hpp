// The MD4 message digest (RFC 1320), needed for the NT hash of NTLM.
//
// Written by hand because OpenSSL 3 offers MD4 only through its legacy
// provider. That provider is not loaded by default, and Postern must not
// require it. MD4 is broken as a general hash, so use it only where a
// protocol fixes it.
#pragma once

#include <openssl/crypto.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace postern {

namespace detail {

// The state of an MD4 computation (RFC 1320, section 3.3): the four words
// A, B, C and D.
using md4_words = std::array<std::uint32_t, 4>;

constexpr std::uint32_t md4_rotate_left(std::uint32_t x, int bits) noexcept
{
    return (x << bits) | (x >> (32 - bits));
}

// The auxiliary functions of RFC 1320, section 3.4.
constexpr std::uint32_t md4_f(std::uint32_t x, std::uint32_t y,
                              std::uint32_t z) noexcept
{
    return (x & y) | (~x & z);
}

constexpr std::uint32_t md4_g(std::uint32_t x, std::uint32_t y,
                              std::uint32_t z) noexcept
{
    return (x & y) | (x & z) | (y & z);
}

constexpr std::uint32_t md4_h(std::uint32_t x, std::uint32_t y,
                              std::uint32_t z) noexcept
{
    return x ^ y ^ z;
}

// Processes one 64-octet block (RFC 1320, section 3.4). Each round applies
// its function to the words in a fixed order of message words and shifts,
// and the words rotate roles (a, b, c, d) after every operation.
inline void md4_process_block(md4_words& state,
                              const unsigned char* block) noexcept
{
    std::array<std::uint32_t, 16> x{};
    for (std::size_t i = 0; i < 16; ++i) {
        x[i] = std::uint32_t{block[4 * i]} |
               std::uint32_t{block[4 * i + 1]} << 8 |
               std::uint32_t{block[4 * i + 2]} << 16 |
               std::uint32_t{block[4 * i + 3]} << 24;
    }

    std::uint32_t a = state[0];
    std::uint32_t b = state[1];
    std::uint32_t c = state[2];
    std::uint32_t d = state[3];

    // Round 1: message words in order, shifts 3, 7, 11, 19.
    constexpr int shifts1[4] = {3, 7, 11, 19};
    for (std::size_t i = 0; i < 16; ++i) {
        const std::uint32_t t =
            md4_rotate_left(a + md4_f(b, c, d) + x[i], shifts1[i % 4]);
        a = d;
        d = c;
        c = b;
        b = t;
    }

    // Round 2: words by column (0, 4, 8, 12, 1, ...), shifts 3, 5, 9, 13.
    constexpr int shifts2[4] = {3, 5, 9, 13};
    for (std::size_t i = 0; i < 16; ++i) {
        const std::size_t k = (i % 4) * 4 + i / 4;
        const std::uint32_t t = md4_rotate_left(
            a + md4_g(b, c, d) + x[k] + 0x5a827999u, shifts2[i % 4]);
        a = d;
        d = c;
        c = b;
        b = t;
    }

    // Round 3: words in bit-reversed order (0, 8, 4, 12, 2, ...), shifts
    // 3, 9, 11, 15.
    constexpr std::size_t order3[16] = {0, 8, 4, 12, 2, 10, 6, 14,
                                        1, 9, 5, 13, 3, 11, 7, 15};
    constexpr int shifts3[4] = {3, 9, 11, 15};
    for (std::size_t i = 0; i < 16; ++i) {
        const std::uint32_t t = md4_rotate_left(
            a + md4_h(b, c, d) + x[order3[i]] + 0x6ed9eba1u, shifts3[i % 4]);
        a = d;
        d = c;
        c = b;
        b = t;
    }

    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;

    // The input is often a password, so its words do not stay on the stack.
    OPENSSL_cleanse(x.data(), sizeof(x));
}

} // namespace detail

/// Returns the MD4 digest (RFC 1320) of `message`. The working copies of
/// the input are wiped, because NTLM hashes passwords with it.
inline std::array<std::uint8_t, 16> md4_digest(std::string_view message)
{
    detail::md4_words state = {0x67452301u, 0xefcdab89u, 0x98badcfeu,
                               0x10325476u};
    const auto* octets = reinterpret_cast<const unsigned char*>(message.data());

    std::size_t offset = 0;
    for (; message.size() - offset >= 64; offset += 64)
        detail::md4_process_block(state, octets + offset);

    // RFC 1320, sections 3.1 and 3.2: append a 1 bit, zeros up to 56
    // octets modulo 64, then the message length in bits as 64 bits, low
    // octet first. That takes one or two more blocks.
    std::array<unsigned char, 128> tail{};
    const std::size_t rest = message.size() - offset;
    for (std::size_t i = 0; i < rest; ++i)
        tail[i] = octets[offset + i];
    tail[rest] = 0x80;
    const std::size_t tail_size = rest < 56 ? 64 : 128;
    const std::uint64_t bit_length = std::uint64_t{message.size()} * 8;
    for (std::size_t i = 0; i < 8; ++i) {
        tail[tail_size - 8 + i] =
            static_cast<unsigned char>(bit_length >> 8 * i);
    }

    detail::md4_process_block(state, tail.data());
    if (tail_size == 128)
        detail::md4_process_block(state, tail.data() + 64);
    OPENSSL_cleanse(tail.data(), tail.size());

    std::array<std::uint8_t, 16> digest{};
    for (std::size_t i = 0; i < 16; ++i)
        digest[i] = static_cast<std::uint8_t>(state[i / 4] >> 8 * (i % 4));
    OPENSSL_cleanse(state.data(), sizeof(state));
    return digest;
}

} // namespace postern
