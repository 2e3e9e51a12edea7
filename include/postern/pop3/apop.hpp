// The APOP command's timestamp and digest (RFC 1939, section 7).
#pragma once

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace postern::pop3 {

/// Returns a greeting timestamp `<pid.counter.time@identity>`. The counter
/// makes it unique per connection within the process, as RFC 1939,
/// section 7, requires of the timestamp.
inline std::string make_apop_timestamp(std::string_view identity)
{
    static std::atomic<std::uint64_t> counter{0};
    auto n = counter.fetch_add(1, std::memory_order_relaxed);
    std::string stamp = "<" + std::to_string(::getpid()) + "." +
                        std::to_string(n) + "." +
                        std::to_string(std::time(nullptr)) + "@";
    stamp += identity;
    stamp += '>';
    return stamp;
}

/// Returns MD5(timestamp + secret) as 32 lower-case hex digits.
inline std::string apop_digest(std::string_view timestamp,
                               std::string_view secret)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    EVP_DigestInit_ex(context, EVP_md5(), nullptr);
    EVP_DigestUpdate(context, timestamp.data(), timestamp.size());
    EVP_DigestUpdate(context, secret.data(), secret.size());
    EVP_DigestFinal_ex(context, digest.data(), &length);
    EVP_MD_CTX_free(context);

    static constexpr char hex[] = "0123456789abcdef";
    std::string text;
    for (unsigned int i = 0; i < length; ++i) {
        text += hex[digest[i] >> 4];
        text += hex[digest[i] & 0x0f];
    }
    OPENSSL_cleanse(digest.data(), digest.size());
    return text;
}

/// Checks a client's APOP digest in constant time. Hex digits are
/// compared without regard to case.
inline bool apop_matches(std::string_view timestamp, std::string_view secret,
                         std::string_view client_digest)
{
    auto expected = apop_digest(timestamp, secret);
    if (client_digest.size() != expected.size())
        return false;

    std::string lowered(client_digest);
    for (auto& c : lowered)
        if (c >= 'A' && c <= 'F')
            c = static_cast<char>(c - 'A' + 'a');
    return CRYPTO_memcmp(lowered.data(), expected.data(), expected.size()) ==
           0;
}

} // namespace postern::pop3
