// The CRAM-MD5 SASL mechanism (RFC 2195) and the stored HMAC-MD5 context
// (RFC 2104) that lets a server verify it without the password.
#pragma once

#include <postern/core/secret.hpp>
#include <postern/directory/credentials.hpp>
#include <postern/sasl/mechanism.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#if defined(OPENSSL_NO_DEPRECATED_3_0)
// OpenSSL removes MD5_CTX when built with no-deprecated or when
// OPENSSL_API_COMPAT requests an API level above 3.0.
#error "postern/sasl/cram_md5.hpp needs OpenSSL's deprecated MD5_CTX API"
#endif

namespace postern::sasl {

namespace detail::cram {

// An MD5 digest or an HMAC-MD5 value, as raw bytes.
using md5_digest = std::array<unsigned char, MD5_DIGEST_LENGTH>;

inline constexpr std::size_t md5_block_octets = MD5_CBLOCK;

// The size of a stored CRAM-MD5 context: the outer and the inner MD5
// chaining state, each four 32-bit words.
inline constexpr std::size_t context_octets = 32;

// The MD5 chaining variables A, B, C and D (RFC 1321, section 3.3).
using md5_state = std::array<std::uint32_t, 4>;

using md5_block = std::array<unsigned char, md5_block_octets>;

// The stored context needs the MD5 chaining state after one block, and the
// verification resumes MD5 from such a state. EVP hides that state, and no
// other library exposes it, so these functions use OpenSSL's low-level
// MD5_CTX with its public A, B, C, D, Nl and Nh fields. OpenSSL 3.0
// deprecates that API but still ships it, so only this block silences the
// deprecation warning.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

inline md5_digest md5(std::string_view data)
{
    MD5_CTX hash;
    MD5_Init(&hash);
    MD5_Update(&hash, data.data(), data.size());
    md5_digest digest{};
    MD5_Final(digest.data(), &hash);
    OPENSSL_cleanse(&hash, sizeof hash);
    return digest;
}

// Returns the MD5 chaining state after the single block `block`.
inline md5_state md5_state_after_block(const md5_block& block)
{
    MD5_CTX hash;
    MD5_Init(&hash);
    MD5_Update(&hash, block.data(), block.size());
    const md5_state state{hash.A, hash.B, hash.C, hash.D};
    OPENSSL_cleanse(&hash, sizeof hash);
    return state;
}

// Finishes an MD5 hash whose first 64-octet block is already folded into
// `state`, appending `data` to it.
inline md5_digest md5_resume(const md5_state& state, std::string_view data)
{
    MD5_CTX hash;
    MD5_Init(&hash);
    hash.A = state[0];
    hash.B = state[1];
    hash.C = state[2];
    hash.D = state[3];
    // Nl and Nh hold the length hashed so far in bits, low word first.
    hash.Nl = static_cast<MD5_LONG>(md5_block_octets * 8);
    hash.Nh = 0;
    MD5_Update(&hash, data.data(), data.size());
    md5_digest digest{};
    MD5_Final(digest.data(), &hash);
    OPENSSL_cleanse(&hash, sizeof hash);
    return digest;
}

#pragma GCC diagnostic pop

inline void append_md5_state(std::string& out, const md5_state& state)
{
    for (std::uint32_t word : state) {
        for (int shift = 0; shift < 32; shift += 8)
            out += static_cast<char>((word >> shift) & 0xff);
    }
}

inline md5_state read_md5_state(std::string_view bytes)
{
    md5_state state{};
    for (std::size_t word = 0; word < state.size(); ++word) {
        for (std::size_t octet = 0; octet < 4; ++octet) {
            const auto byte =
                static_cast<unsigned char>(bytes[word * 4 + octet]);
            state[word] |= std::uint32_t{byte} << (octet * 8);
        }
    }
    return state;
}

// Returns the 64-octet block `key` XOR `pad` (RFC 2104, section 2), where
// `key` is already zero-padded to the block size.
inline md5_block xor_block(const md5_block& key, unsigned char pad)
{
    md5_block block{};
    for (std::size_t i = 0; i < block.size(); ++i)
        block[i] = static_cast<unsigned char>(key[i] ^ pad);
    return block;
}

} // namespace detail::cram

/// Derives the stored CRAM-MD5 secret of `password`: 32 raw bytes, the MD5
/// chaining state after the block `key XOR opad`, then the state after
/// `key XOR ipad`. Each state is A, B, C and D as little-endian 32-bit
/// words, the layout of Dovecot's CRAM-MD5 password scheme
/// (hmac_md5_get_cram_context in Dovecot's src/lib/hmac-cram-md5.c). The
/// key is the password zero-padded to 64 octets, or MD5(password) when the
/// password is longer (RFC 2104, section 2). Anyone who has the result
/// can authenticate as the user with CRAM-MD5, so store it as carefully as
/// a password.
inline std::string derive_cram_md5_context(std::string_view password)
{
    using namespace detail::cram;

    md5_block key{};
    if (password.size() > key.size()) {
        md5_digest hashed_key = md5(password);
        std::copy(hashed_key.begin(), hashed_key.end(), key.begin());
        OPENSSL_cleanse(hashed_key.data(), hashed_key.size());
    } else {
        std::copy(password.begin(), password.end(), key.begin());
    }

    md5_block inner_block = xor_block(key, 0x36);
    md5_block outer_block = xor_block(key, 0x5c);
    md5_state inner = md5_state_after_block(inner_block);
    md5_state outer = md5_state_after_block(outer_block);

    std::string context;
    context.reserve(context_octets);
    append_md5_state(context, outer);
    append_md5_state(context, inner);

    OPENSSL_cleanse(key.data(), key.size());
    OPENSSL_cleanse(inner_block.data(), inner_block.size());
    OPENSSL_cleanse(outer_block.data(), outer_block.size());
    OPENSSL_cleanse(inner.data(), sizeof inner);
    OPENSSL_cleanse(outer.data(), sizeof outer);
    return context;
}

/// Computes HMAC-MD5(key, message) from the stored context of the key (see
/// derive_cram_md5_context), without the key itself. MD5 resumes from the
/// inner state, with one block already counted, over `message`, then from
/// the outer state over the 16-octet inner digest. Returns the raw HMAC,
/// or nullopt when `context` is not 32 octets.
inline std::optional<std::array<unsigned char, MD5_DIGEST_LENGTH>>
hmac_md5_from_context(std::string_view context, std::string_view message)
{
    using namespace detail::cram;

    if (context.size() != context_octets)
        return std::nullopt;

    const std::size_t half = context_octets / 2;
    md5_state outer = read_md5_state(context.substr(0, half));
    md5_state inner = read_md5_state(context.substr(half));

    md5_digest inner_digest = md5_resume(inner, message);
    const std::string_view inner_bytes(
        reinterpret_cast<const char*>(inner_digest.data()),
        inner_digest.size());
    const md5_digest result = md5_resume(outer, inner_bytes);

    OPENSSL_cleanse(inner.data(), sizeof inner);
    OPENSSL_cleanse(outer.data(), sizeof outer);
    OPENSSL_cleanse(inner_digest.data(), inner_digest.size());
    return result;
}

namespace detail::cram {

// The two parts of a CRAM-MD5 response.
struct response_parts {
    std::string_view user;
    md5_digest digest{};
};

// Decodes exactly 32 hex digits of either case into 16 octets.
inline std::optional<md5_digest> parse_hex_digest(std::string_view hex)
{
    md5_digest digest{};
    if (hex.size() != digest.size() * 2)
        return std::nullopt;
    for (std::size_t i = 0; i < digest.size(); ++i) {
        const int high =
            OPENSSL_hexchar2int(static_cast<unsigned char>(hex[2 * i]));
        const int low =
            OPENSSL_hexchar2int(static_cast<unsigned char>(hex[2 * i + 1]));
        if (high < 0 || low < 0)
            return std::nullopt;
        digest[i] = static_cast<unsigned char>(high << 4 | low);
    }
    return digest;
}

// RFC 2195, section 2: the response is the user name, a space, and the
// digest as 32 lower-case hex digits. Upper-case digits are accepted too.
// The user name may itself contain spaces, so the digest follows the last
// space. The RFC sets no length limit, and this server rejects responses
// over 1024 octets so that a client cannot send a user name of unbounded
// length to the directory.
inline std::optional<response_parts> parse_response(
    std::string_view response)
{
    constexpr std::size_t max_response_octets = 1024;
    if (response.size() > max_response_octets ||
        response.find('\0') != std::string_view::npos)
        return std::nullopt;

    const std::size_t last_space = response.rfind(' ');
    if (last_space == std::string_view::npos || last_space == 0)
        return std::nullopt;

    const auto digest = parse_hex_digest(response.substr(last_space + 1));
    if (!digest)
        return std::nullopt;
    return response_parts{response.substr(0, last_space), *digest};
}

// Compares the client's digest with HMAC-MD5(password, challenge), in
// constant time. OpenSSL's HMAC() is used where the password is at hand.
inline bool digest_matches_password(std::string_view challenge,
                                    const md5_digest& digest,
                                    std::string_view password)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> expected{};
    unsigned int length = 0;
    const unsigned char* hmac_result = HMAC(
        EVP_md5(), password.data(), static_cast<int>(password.size()),
        reinterpret_cast<const unsigned char*>(challenge.data()),
        challenge.size(), expected.data(), &length);

    const bool matches =
        hmac_result != nullptr && length == digest.size() &&
        CRYPTO_memcmp(expected.data(), digest.data(), digest.size()) == 0;
    OPENSSL_cleanse(expected.data(), expected.size());
    return matches;
}

// Compares the client's digest with the HMAC-MD5 finished from a stored
// context, in constant time. A context of the wrong size never matches.
inline bool digest_matches_context(std::string_view challenge,
                                   const md5_digest& digest,
                                   std::string_view context)
{
    auto expected = hmac_md5_from_context(context, challenge);
    if (!expected)
        return false;
    const bool matches =
        CRYPTO_memcmp(expected->data(), digest.data(), digest.size()) == 0;
    OPENSSL_cleanse(expected->data(), expected->size());
    return matches;
}

// Checks the client's digest against the account's secrets in order: the
// stored CRAM-MD5 context, the plaintext password, and, only when
// `accept_pop3_override` is set, the POP3 override password. An unknown
// user (nullptr) costs one HMAC, as a wrong password does, and fails.
inline bool account_matches(std::string_view challenge,
                            const md5_digest& digest,
                            const directory::credentials* account,
                            bool accept_pop3_override)
{
    if (account == nullptr) {
        digest_matches_password(challenge, digest, "unknown user");
        return false;
    }
    if (account->cram_md5 &&
        digest_matches_context(challenge, digest, *account->cram_md5))
        return true;
    if (account->plaintext &&
        digest_matches_password(challenge, digest, account->plaintext->view()))
        return true;
    return accept_pop3_override && account->pop3_override_plaintext &&
           digest_matches_password(challenge, digest,
                                   account->pop3_override_plaintext->view());
}

} // namespace detail::cram

/// CRAM-MD5 (RFC 2195): the server sends a unique challenge, and the
/// client proves that it has the password by returning its user name and
/// HMAC-MD5(password, challenge). The mechanism then looks up the account
/// and verifies the digest against the stored CRAM-MD5 context or the
/// plaintext password, and on POP3 against the override password too.
/// The password never crosses the wire, but a recorded exchange allows an
/// offline dictionary attack on it, so TLS still helps.
class cram_md5 {
public:
    static constexpr std::string_view name = "CRAM-MD5";
    static constexpr directory::secret_kind needs =
        directory::secret_kind::cram_md5;

    explicit cram_md5(const context& connection)
        : server_identity_(connection.server_identity),
          accept_pop3_override_(connection.accept_pop3_override)
    {
    }

    /// Begins the exchange with the challenge `<RANDOM.TIME@IDENTITY>`.
    /// CRAM-MD5 is server-first, so an initial response (even an empty
    /// one) ends the exchange as malformed. A failure of the random
    /// number generator ends it with failure_reason::none, because no
    /// safe challenge can be made.
    step start(std::optional<std::string_view> initial)
    {
        if (state_ != state::initial || initial)
            return fail(failure_reason::malformed);

        auto challenge = make_challenge();
        if (!challenge)
            return fail(failure_reason::none);

        challenge_ = std::move(*challenge);
        state_ = state::awaiting_response;
        return step::make_challenge(challenge_);
    }

    /// Takes the response `user SP digest` and requests the user's
    /// credentials.
    step respond(std::string_view response)
    {
        if (state_ != state::awaiting_response)
            return fail(failure_reason::malformed);
        const auto parsed = detail::cram::parse_response(response);
        if (!parsed)
            return fail(failure_reason::malformed);

        digest_ = parsed->digest;
        state_ = state::awaiting_credentials;

        step result;
        result.kind = step_kind::lookup_credentials;
        result.authcid = std::string(parsed->user);
        return result;
    }

    /// CRAM-MD5 never requests password verification, so this call ends
    /// the exchange as malformed.
    step verified(bool) { return fail(failure_reason::malformed); }

    /// Verifies the digest against the account's secrets. An unknown user
    /// (nullptr) and a wrong password both end with invalid_credentials.
    step found(const directory::credentials* account)
    {
        if (state_ != state::awaiting_credentials)
            return fail(failure_reason::malformed);
        if (!detail::cram::account_matches(challenge_, digest_, account,
                                     accept_pop3_override_))
            return fail(failure_reason::invalid_credentials);

        state_ = state::done;
        step result;
        result.kind = step_kind::success;
        result.authcid = account->user;
        return result;
    }

private:
    enum class state {
        initial,
        awaiting_response,
        awaiting_credentials,
        done,
    };

    // RFC 2195, section 2: the challenge has the form of a message id,
    // with a random number and a timestamp before the '@' and the server's
    // host name after it. The random part makes every challenge unique, so
    // a recorded response cannot be replayed.
    std::optional<std::string> make_challenge() const
    {
        std::array<unsigned char, 8> random_bytes{};
        if (RAND_bytes(random_bytes.data(),
                       static_cast<int>(random_bytes.size())) != 1)
            return std::nullopt;
        std::uint64_t random = 0;
        for (unsigned char byte : random_bytes)
            random = random << 8 | byte;

        std::string challenge = "<" + std::to_string(random) + "." +
                                std::to_string(std::time(nullptr)) + "@";
        challenge += server_identity_;
        challenge += '>';
        return challenge;
    }

    step fail(failure_reason reason)
    {
        state_ = state::done;
        return step::make_failure(reason);
    }

    state state_ = state::initial;
    std::string server_identity_;
    bool accept_pop3_override_ = false;
    std::string challenge_;
    detail::cram::md5_digest digest_{};
};

static_assert(mechanism<cram_md5>);

} // namespace postern::sasl
