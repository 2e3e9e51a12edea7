// The NTLM challenge responses ([MS-NLMP] section 3.3): NTLMv2 and LMv2,
// and the insecure NTLMv1 and NTLM2 session responses.
#pragma once

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::sasl::detail {

/// A 16-octet NTLM key: the NT hash (NTOWFv1) or NTOWFv2.
using ntlm_key = std::array<std::uint8_t, 16>;

/// An 8-octet server or client challenge.
using ntlm_challenge = std::array<std::uint8_t, 8>;

/// A 24-octet NTLMv1, NTLM2 session or LMv2 response.
using ntlm_v1_response = std::array<std::uint8_t, 24>;

inline std::string_view as_chars(const std::uint8_t* bytes, std::size_t size)
{
    return {reinterpret_cast<const char*>(bytes), size};
}

inline const unsigned char* as_octets(std::string_view bytes)
{
    return reinterpret_cast<const unsigned char*>(bytes.data());
}

inline std::optional<ntlm_key> hmac_md5(const ntlm_key& key,
                                        std::string_view data)
{
    ntlm_key mac{};
    unsigned int length = 0;
    if (HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()),
             as_octets(data), data.size(), mac.data(), &length) == nullptr ||
        length != mac.size())
        return std::nullopt;
    return mac;
}

// NTOWFv2 ([MS-NLMP] section 3.3.2): HMAC-MD5 keyed with the NT hash over
// UTF-16LE(Uppercase(User) + UserDom), with both names as the client sent
// them. Both arguments are UTF-16LE.
// TODO: only ASCII letters of User are upper-cased. Windows clients
// upper-case every letter with the Unicode tables, so NTLMv2 fails for
// user names with non-ASCII lower-case letters.
inline std::optional<ntlm_key> ntowf_v2(const ntlm_key& nt_hash,
                                        std::string_view user_utf16le,
                                        std::string_view domain_utf16le)
{
    std::string text(user_utf16le);
    for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
        if (text[i] >= 'a' && text[i] <= 'z' && text[i + 1] == '\0')
            text[i] = static_cast<char>(text[i] - 'a' + 'A');
    }
    text += domain_utf16le;
    return hmac_md5(nt_hash, text);
}

// NTProofStr ([MS-NLMP] section 3.3.2): HMAC-MD5 keyed with NTOWFv2 over
// the server challenge and `temp`, the part of the NTLMv2 response after
// NTProofStr.
inline std::optional<ntlm_key> nt_proof_str(const ntlm_key& ntowf,
                                            const ntlm_challenge& server,
                                            std::string_view temp)
{
    std::string data(as_chars(server.data(), server.size()));
    data += temp;
    return hmac_md5(ntowf, data);
}

// LMv2 response ([MS-NLMP] section 3.3.2): HMAC-MD5 keyed with NTOWFv2 over
// both challenges, followed by the client challenge.
inline std::optional<ntlm_v1_response> lmv2_response(
    const ntlm_key& ntowf, const ntlm_challenge& server,
    const ntlm_challenge& client)
{
    std::string data(as_chars(server.data(), server.size()));
    data += as_chars(client.data(), client.size());
    const auto mac = hmac_md5(ntowf, data);
    if (!mac)
        return std::nullopt;

    ntlm_v1_response response{};
    for (std::size_t i = 0; i < 16; ++i)
        response[i] = (*mac)[i];
    for (std::size_t i = 0; i < 8; ++i)
        response[16 + i] = client[i];
    return response;
}

// Encrypts one 8-octet block with single DES under a 56-bit key given as 7
// octets. The key gets a parity slot after every 7 bits, and DES ignores
// those slots. OpenSSL 3 keeps single DES in the legacy provider, which is
// not loaded by default. Triple DES with K1 = K2 = K3 is in the default
// provider, and its encrypt-decrypt-encrypt with one key equals single DES.
inline bool des_encrypt_block(const std::uint8_t* key56,
                              const std::uint8_t* block, std::uint8_t* out)
{
    std::array<unsigned char, 24> key{};
    for (std::size_t i = 0; i < 8; ++i) {
        const unsigned high = i == 0 ? 0u : key56[i - 1] << (8 - i);
        const unsigned low = i == 7 ? 0u : key56[i] >> i;
        key[i] = static_cast<unsigned char>((high | low) & 0xfe);
    }
    for (std::size_t i = 0; i < 8; ++i) {
        key[8 + i] = key[i];
        key[16 + i] = key[i];
    }

    EVP_CIPHER_CTX* context = EVP_CIPHER_CTX_new();
    int length = 0;
    const bool encrypted =
        context != nullptr &&
        EVP_EncryptInit_ex(context, EVP_des_ede3_ecb(), nullptr, key.data(),
                           nullptr) == 1 &&
        EVP_CIPHER_CTX_set_padding(context, 0) == 1 &&
        EVP_EncryptUpdate(context, out, &length, block, 8) == 1 &&
        length == 8;
    EVP_CIPHER_CTX_free(context);
    OPENSSL_cleanse(key.data(), key.size());
    return encrypted;
}

// DESL ([MS-NLMP] section 6): the 16-octet key padded with 5 zero octets to
// 21, split into three 7-octet DES keys, each encrypting `data`.
inline std::optional<ntlm_v1_response> desl(const ntlm_key& key,
                                            const ntlm_challenge& data)
{
    std::array<std::uint8_t, 21> padded{};
    for (std::size_t i = 0; i < key.size(); ++i)
        padded[i] = key[i];

    ntlm_v1_response response{};
    bool encrypted = true;
    for (std::size_t part = 0; part < 3; ++part) {
        encrypted = des_encrypt_block(padded.data() + 7 * part, data.data(),
                                      response.data() + 8 * part) &&
                    encrypted;
    }
    OPENSSL_cleanse(padded.data(), padded.size());
    if (!encrypted)
        return std::nullopt;
    return response;
}

// NTLMv1 response ([MS-NLMP] section 3.3.1): DESL of the server challenge
// under the NT hash.
inline std::optional<ntlm_v1_response> ntlmv1_response(
    const ntlm_key& nt_hash, const ntlm_challenge& server)
{
    return desl(nt_hash, server);
}

// NTLM2 session response, which [MS-NLMP] section 3.3.1 calls NTLMv1 with
// extended session security: DESL under the NT hash of the first 8 octets
// of MD5(server challenge + client challenge).
inline std::optional<ntlm_v1_response> ntlm2_session_response(
    const ntlm_key& nt_hash, const ntlm_challenge& server,
    const ntlm_challenge& client)
{
    std::string data(as_chars(server.data(), server.size()));
    data += as_chars(client.data(), client.size());
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest.data(), &length,
                   EVP_md5(), nullptr) != 1 ||
        length != 16)
        return std::nullopt;

    ntlm_challenge session_challenge{};
    for (std::size_t i = 0; i < session_challenge.size(); ++i)
        session_challenge[i] = digest[i];
    return desl(nt_hash, session_challenge);
}

inline ntlm_challenge to_challenge(std::string_view bytes)
{
    ntlm_challenge challenge{};
    for (std::size_t i = 0; i < challenge.size() && i < bytes.size(); ++i)
        challenge[i] = static_cast<std::uint8_t>(bytes[i]);
    return challenge;
}

// Compares a computed value with the client's in constant time, so that
// the time taken does not reveal how many leading octets matched.
template <std::size_t N>
bool equal_secret(const std::optional<std::array<std::uint8_t, N>>& computed,
                  std::string_view received)
{
    return computed && received.size() >= N &&
           CRYPTO_memcmp(computed->data(), received.data(), N) == 0;
}

// Checks an NTLMv2 response: its first 16 octets are NTProofStr, and the
// rest is `temp`. The caller ensures that it is longer than 24 octets.
inline bool check_ntlmv2(const ntlm_key& ntowf, const ntlm_challenge& server,
                         std::string_view nt_response)
{
    return equal_secret(nt_proof_str(ntowf, server, nt_response.substr(16)),
                        nt_response);
}

// Checks a 24-octet LMv2 response, whose last 8 octets are the client
// challenge.
inline bool check_lmv2(const ntlm_key& ntowf, const ntlm_challenge& server,
                       std::string_view lm_response)
{
    const ntlm_challenge client = to_challenge(lm_response.substr(16));
    return equal_secret(lmv2_response(ntowf, server, client), lm_response);
}

} // namespace postern::sasl::detail
