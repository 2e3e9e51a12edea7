// The SCRAM SASL mechanisms (RFC 5802): SCRAM-SHA-1, SCRAM-SHA-256
// (RFC 7677) and their channel-binding -PLUS variants, plus the function
// that derives the stored SCRAM credentials from a password.
#pragma once

#include <postern/core/base64.hpp>
#include <postern/core/secret.hpp>
#include <postern/directory/credentials.hpp>
#include <postern/directory/user_name.hpp>
#include <postern/sasl/detail/scram_message.hpp>
#include <postern/sasl/mechanism.hpp>
#include <postern/sasl/saslprep.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace postern::sasl {

/// The default iteration count of derive_scram_sha1() and
/// derive_scram_sha256(), and the one shown for unknown users. RFC 7677,
/// section 3, requires servers to announce at least 4096.
inline constexpr std::uint32_t scram_default_iterations = 4096;

/// The range of stored iteration counts the SCRAM mechanisms accept. The
/// lower bound is the RFC 7677 minimum. The upper bound keeps a damaged
/// or hostile directory entry from announcing a count that would keep a
/// client hashing for a long time, because PBKDF2 work grows linearly
/// with the count.
inline constexpr std::uint32_t scram_min_iterations = 4096;
inline constexpr std::uint32_t scram_max_iterations = 10'000'000;

/// The salt length of derived credentials, in octets.
inline constexpr std::size_t scram_salt_octets = 16;

namespace detail {

/// The hash of SCRAM-SHA-1 (RFC 5802).
struct scram_sha1_hash {
    static constexpr std::string_view name = "SCRAM-SHA-1";
    static constexpr std::string_view plus_name = "SCRAM-SHA-1-PLUS";
    static constexpr directory::secret_kind needs =
        directory::secret_kind::scram_sha1;
    static constexpr std::size_t digest_octets = 20;
    static constexpr auto stored = &directory::credentials::scram_sha1;
    static const EVP_MD* digest() { return EVP_sha1(); }
};

/// The hash of SCRAM-SHA-256 (RFC 7677).
struct scram_sha256_hash {
    static constexpr std::string_view name = "SCRAM-SHA-256";
    static constexpr std::string_view plus_name = "SCRAM-SHA-256-PLUS";
    static constexpr directory::secret_kind needs =
        directory::secret_kind::scram_sha256;
    static constexpr std::size_t digest_octets = 32;
    static constexpr auto stored = &directory::credentials::scram_sha256;
    static const EVP_MD* digest() { return EVP_sha256(); }
};

/// Selects a fixed server nonce in place of a random one. For tests only:
/// it reproduces the published example exchanges. The nonce must be
/// printable ASCII without ','.
struct fixed_server_nonce {
    std::string_view value;
};

// HMAC(key, data) of RFC 5802, section 2.2. Returns an empty string when
// OpenSSL fails, which no comparison accepts.
inline std::string scram_hmac(const EVP_MD* md, std::string_view key,
                              std::string_view data)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int size = 0;
    const unsigned char* result =
        HMAC(md, key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(),
             out.data(), &size);
    std::string mac;
    if (result != nullptr)
        mac.assign(reinterpret_cast<const char*>(out.data()), size);
    OPENSSL_cleanse(out.data(), out.size());
    return mac;
}

// H(data) of RFC 5802, section 2.2. Returns an empty string when OpenSSL
// fails.
inline std::string scram_digest(const EVP_MD* md, std::string_view data)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int size = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &size, md,
                   nullptr) != 1)
        return {};
    return std::string(reinterpret_cast<const char*>(out.data()), size);
}

// Wipes a string that held key material, then empties it.
inline void wipe(std::string& bytes) noexcept
{
    if (!bytes.empty())
        OPENSSL_cleanse(bytes.data(), bytes.size());
    bytes.clear();
}

inline bool iterations_in_range(std::uint32_t iterations) noexcept
{
    return iterations >= scram_min_iterations &&
           iterations <= scram_max_iterations;
}

/// Derives SCRAM credentials from `password` with the given salt and
/// iteration count (RFC 5802, section 3): SaltedPassword is PBKDF2 with
/// HMAC (Hi), and the stored keys are H(HMAC(SaltedPassword, "Client
/// Key")) and HMAC(SaltedPassword, "Server Key"). The password is prepared
/// with SASLprep as a stored string first (RFC 5802, section 2.2).
/// Returns nullopt when the password fails SASLprep or prepares to an
/// empty string, when `iterations` lies outside scram_min_iterations to
/// scram_max_iterations, when `salt` is empty, or when OpenSSL fails.
/// Callers outside tests use derive_scram_sha1() or derive_scram_sha256(),
/// which pick a random salt.
template <typename Hash>
std::optional<directory::scram_credentials> derive_scram_credentials(
    std::string_view password, std::string_view salt,
    std::uint32_t iterations)
{
    if (!iterations_in_range(iterations) || salt.empty())
        return std::nullopt;
    auto prepared = saslprep(password, saslprep_kind::stored);
    if (!prepared)
        return std::nullopt;
    const secret normalized(*prepared);
    wipe(*prepared);
    if (normalized.empty())
        return std::nullopt;

    std::array<unsigned char, Hash::digest_octets> salted{};
    const int derived = PKCS5_PBKDF2_HMAC(
        normalized.view().data(), static_cast<int>(normalized.size()),
        reinterpret_cast<const unsigned char*>(salt.data()),
        static_cast<int>(salt.size()), static_cast<int>(iterations),
        Hash::digest(), static_cast<int>(salted.size()), salted.data());
    const std::string_view salted_password(
        reinterpret_cast<const char*>(salted.data()), salted.size());

    directory::scram_credentials credentials;
    credentials.salt = salt;
    credentials.iterations = iterations;
    std::string client_key =
        scram_hmac(Hash::digest(), salted_password, "Client Key");
    credentials.stored_key = scram_digest(Hash::digest(), client_key);
    credentials.server_key =
        scram_hmac(Hash::digest(), salted_password, "Server Key");
    wipe(client_key);
    OPENSSL_cleanse(salted.data(), salted.size());

    if (derived != 1 ||
        credentials.stored_key.size() != Hash::digest_octets ||
        credentials.server_key.size() != Hash::digest_octets)
        return std::nullopt;
    return credentials;
}

template <typename Hash>
std::optional<directory::scram_credentials> derive_scram_random_salt(
    std::string_view password, std::uint32_t iterations)
{
    std::array<unsigned char, scram_salt_octets> salt{};
    if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1)
        return std::nullopt;
    return derive_scram_credentials<Hash>(
        password,
        std::string_view(reinterpret_cast<const char*>(salt.data()),
                         salt.size()),
        iterations);
}

// The key of the fake salts shown for unknown users, random per process.
// NOTE: if RAND_bytes fails the key stays zero, so fake salts become
// predictable and a client that computes them could tell unknown users
// apart from real ones.
inline std::string_view scram_fake_salt_key()
{
    static const auto key = [] {
        std::array<char, 32> bytes{};
        RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()),
                   static_cast<int>(bytes.size()));
        return bytes;
    }();
    return std::string_view(key.data(), key.size());
}

// A salt for a user without SCRAM credentials: the same on every attempt
// for that user and mechanism, different between users, and unpredictable
// without the process key. A salt that changed on each attempt, or that
// was missing, would tell a client that the user does not exist.
inline std::string scram_fake_salt(std::string_view mechanism_name,
                                   std::string_view user,
                                   std::string_view key)
{
    // Directories fold user names to their canonical form, so ALICE and
    // alice are one account with one salt; an unknown name must fold the
    // same way or its case variants would show different salts.
    std::string input(mechanism_name);
    input += '\0';
    input += directory::canonical_user_name(user).value_or(std::string(user));
    std::string salt = scram_hmac(
        EVP_sha256(), key.empty() ? scram_fake_salt_key() : key, input);
    salt.resize(scram_salt_octets);
    return salt;
}

} // namespace detail

/// Derives SCRAM-SHA-1 credentials for a directory to store: a random
/// 16-octet salt, the given iteration count, StoredKey and ServerKey. The
/// password itself is not kept. Returns nullopt when the password fails
/// SASLprep (RFC 4013) as a stored string or prepares to an empty string,
/// when `iterations` lies outside scram_min_iterations to
/// scram_max_iterations, or when OpenSSL fails.
inline std::optional<directory::scram_credentials> derive_scram_sha1(
    std::string_view password,
    std::uint32_t iterations = scram_default_iterations)
{
    return detail::derive_scram_random_salt<detail::scram_sha1_hash>(
        password, iterations);
}

/// Derives SCRAM-SHA-256 credentials, as derive_scram_sha1() does.
inline std::optional<directory::scram_credentials> derive_scram_sha256(
    std::string_view password,
    std::uint32_t iterations = scram_default_iterations)
{
    return detail::derive_scram_random_salt<detail::scram_sha256_hash>(
        password, iterations);
}

/// A SCRAM mechanism (RFC 5802) with the hash `Hash`, and with channel
/// binding when `Plus` is true. Use the aliases scram_sha1, scram_sha256,
/// scram_sha1_plus and scram_sha256_plus.
///
/// The exchange: the client-first-message leads to a lookup_credentials
/// step for the user after SASLprep. found() returns the
/// server-first-message as a challenge, and the client-final-message
/// leads to success with the server-final-message ("v=" and the
/// ServerSignature) as `data`. A user without credentials for this hash,
/// unknown users included, gets a fake salt and the default iteration
/// count, and fails at the proof like a wrong password.
///
/// Failures set `data` to the server-error of RFC 5802, section 7, such as
/// "e=invalid-proof". RFC 5802 sends it only as the server-final-message,
/// that is after the client-final-message. The driver may send it as
/// additional data with the failure, or drop it. `reason` is:
/// - malformed for a client-first-message that is rejected (bad syntax,
///   bad user name encoding, an "m" extension), for a
///   client-final-message that does not parse or whose proof has the
///   wrong length, and for calls out of order;
/// - invalid_credentials for a channel binding request this mechanism and
///   connection refuse (a downgrade, tls-unique, an unavailable type), and
///   for a client-final-message with the wrong nonce, wrong channel
///   binding data or a wrong proof;
/// - authzid_rejected when the proof is right but the authzid differs
///   from the user.
///
/// The -PLUS variants accept only the "tls-exporter" (RFC 9266) and
/// "tls-server-end-point" (RFC 5929) channel binding types, and only
/// when the context has encrypted set and non-empty data for that type in
/// `bindings`.
template <typename Hash, bool Plus>
class basic_scram {
public:
    static constexpr std::string_view name =
        Plus ? Hash::plus_name : Hash::name;
    static constexpr directory::secret_kind needs = Hash::needs;
    /// The -PLUS variants bind to the TLS channel, so they are offered only
    /// on encrypted connections (see mechanism_set::offered).
    static constexpr bool needs_tls = Plus;

    /// Copies what it needs from `connection`, so the context may go away.
    explicit basic_scram(const context& connection)
        : encrypted_(connection.encrypted),
          plus_advertised_(connection.plus_advertised),
          fake_salt_key_(connection.scram_fake_salt_key),
          fake_iterations_(connection.scram_iterations != 0
                               ? connection.scram_iterations
                               : scram_default_iterations)
    {
        if (connection.bindings != nullptr)
            bindings_ = *connection.bindings;
    }

    /// For tests only: runs the exchange with a fixed server nonce.
    basic_scram(const context& connection, detail::fixed_server_nonce nonce)
        : basic_scram(connection)
    {
        assert(detail::is_scram_nonce(nonce.value));
        fixed_server_nonce_ = nonce.value;
    }

    /// Begins the exchange. SCRAM is client-first, so without an initial
    /// response this returns an empty challenge, to which the client sends
    /// the client-first-message. With one, the message is parsed at once.
    step start(std::optional<std::string_view> initial)
    {
        if (state_ != state::initial)
            return fail(failure_reason::malformed);
        // A -PLUS mechanism binds to the TLS channel, so without one it
        // cannot run. Servers offer it only on encrypted connections.
        if (Plus && (!encrypted_ || !bindings_))
            return fail(failure_reason::malformed,
                        detail::scram_error::channel_binding_not_supported);
        if (!initial) {
            state_ = state::awaiting_client_first;
            return step::make_challenge({});
        }
        return take_client_first(*initial);
    }

    /// Takes the client-first-message after an empty challenge, then the
    /// client-final-message.
    step respond(std::string_view response)
    {
        switch (state_) {
        case state::awaiting_client_first: return take_client_first(response);
        case state::awaiting_client_final: return take_client_final(response);
        default: return fail(failure_reason::malformed);
        }
    }

    /// SCRAM never requests password verification, so this call ends the
    /// exchange as malformed.
    step verified(bool) { return fail(failure_reason::malformed); }

    /// Takes the stored credentials of the user, or nullptr for an unknown
    /// user, and returns the server-first-message.
    step found(const directory::credentials* credentials)
    {
        if (state_ != state::awaiting_credentials)
            return fail(failure_reason::malformed);

        use_credentials(usable_credentials(credentials));
        auto server_nonce = make_server_nonce();
        // RAND_bytes failing is a server fault, not a client one, but the
        // exchange cannot continue without a fresh nonce, so it fails.
        if (!server_nonce)
            return fail(failure_reason::invalid_credentials,
                        detail::scram_error::no_resources);

        combined_nonce_ = client_nonce_ + *server_nonce;
        server_first_ = "r=" + combined_nonce_ + ",s=" +
                        base64_encode(salt_) +
                        ",i=" + std::to_string(iterations_);
        state_ = state::awaiting_client_final;
        return step::make_challenge(server_first_);
    }

private:
    enum class state {
        initial,
        awaiting_client_first,
        awaiting_credentials,
        awaiting_client_final,
        done,
    };

    // RFC 5802, section 5.1: a server nonce should be random, and 24
    // octets is 192 bits, well past guessing. Base64 keeps it printable
    // and free of ','.
    static constexpr std::size_t server_nonce_octets = 24;

    step take_client_first(std::string_view text)
    {
        auto parsed = detail::parse_client_first(text);
        if (parsed.error != detail::scram_error::none)
            return fail(failure_reason::malformed, parsed.error);
        const auto& message = parsed.message;

        // A well-formed request that this server refuses on policy (a
        // downgrade, tls-unique, a binding type it cannot serve) is an
        // authentication failure, not a syntax error, so clients and logs
        // see it as such.
        const auto binding_error = check_channel_binding(message);
        if (binding_error != detail::scram_error::none)
            return fail(failure_reason::invalid_credentials, binding_error);

        // RFC 5802, section 5.1: the user name is prepared with SASLprep
        // as a query string, and a name that fails or prepares to nothing
        // ends the exchange.
        auto user = saslprep(message.user);
        if (!user || user->empty())
            return fail(failure_reason::malformed,
                        detail::scram_error::invalid_username_encoding);
        if (message.authzid) {
            authzid_ = saslprep(*message.authzid);
            if (!authzid_ || authzid_->empty())
                return fail(failure_reason::malformed,
                            detail::scram_error::invalid_encoding);
        }

        user_ = std::move(*user);
        gs2_header_ = message.gs2_header;
        client_first_bare_ = message.bare;
        client_nonce_ = message.nonce;
        state_ = state::awaiting_credentials;

        step result;
        result.kind = step_kind::lookup_credentials;
        result.authcid = user_;
        result.authzid = authzid_.value_or(std::string());
        return result;
    }

    // RFC 5802, section 6, for the gs2-cbind-flag. On success with "p",
    // keeps the channel binding data that c= must carry.
    detail::scram_error check_channel_binding(
        const detail::scram_client_first& message)
    {
        using detail::channel_binding_flag;
        using detail::scram_error;
        if (!Plus) {
            // "p" requests channel binding, which only -PLUS does.
            if (message.flag == channel_binding_flag::used)
                return scram_error::other_error;
            // "y" means the client could bind but saw no -PLUS offer. If
            // one was offered, an attacker removed it from the list.
            if (message.flag == channel_binding_flag::not_used &&
                plus_advertised_)
                return scram_error::server_does_support_channel_binding;
            return scram_error::none;
        }

        if (message.flag != channel_binding_flag::used)
            return scram_error::other_error;
        const std::string* data = binding_data(message.channel_binding_type);
        if (data == nullptr || data->empty())
            return scram_error::unsupported_channel_binding_type;
        binding_data_ = *data;
        return scram_error::none;
    }

    // tls-unique is never served: TLS 1.3 does not define it, and on
    // TLS 1.2 without the extended master secret it is open to the triple
    // handshake attack, which is why RFC 9266 defines tls-exporter.
    const std::string* binding_data(std::string_view type) const
    {
        if (type == "tls-exporter")
            return &bindings_->tls_exporter;
        if (type == "tls-server-end-point")
            return &bindings_->tls_server_end_point;
        return nullptr;
    }

    // Returns the credentials for this hash, or nullptr when they are
    // missing or unusable. An entry with an iteration count out of range
    // or keys of the wrong length is treated as missing, so the exchange
    // fails at the proof.
    static const directory::scram_credentials* usable_credentials(
        const directory::credentials* credentials)
    {
        if (credentials == nullptr)
            return nullptr;
        const auto& stored = credentials->*Hash::stored;
        if (!stored || stored->salt.empty() ||
            !detail::iterations_in_range(stored->iterations) ||
            stored->stored_key.size() != Hash::digest_octets ||
            stored->server_key.size() != Hash::digest_octets)
            return nullptr;
        return &*stored;
    }

    // Keys of a user without credentials are zero, and `fake_` makes the
    // proof fail whatever they compute to. The proof check still runs, so
    // it takes as long as for a real user.
    void use_credentials(const directory::scram_credentials* stored)
    {
        fake_ = stored == nullptr;
        if (fake_) {
            salt_ = detail::scram_fake_salt(name, user_, fake_salt_key_);
            iterations_ = fake_iterations_;
            stored_key_ = secret(std::string(Hash::digest_octets, '\0'));
            server_key_ = secret(std::string(Hash::digest_octets, '\0'));
            return;
        }
        salt_ = stored->salt;
        iterations_ = stored->iterations;
        stored_key_ = secret(stored->stored_key);
        server_key_ = secret(stored->server_key);
    }

    std::optional<std::string> make_server_nonce() const
    {
        if (!fixed_server_nonce_.empty())
            return fixed_server_nonce_;
        std::array<unsigned char, server_nonce_octets> random{};
        if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
            return std::nullopt;
        return base64_encode(std::string_view(
            reinterpret_cast<const char*>(random.data()), random.size()));
    }

    step take_client_final(std::string_view text)
    {
        auto parsed = detail::parse_client_final(text);
        if (parsed.error != detail::scram_error::none)
            return fail(failure_reason::malformed, parsed.error);
        const auto& message = parsed.message;

        // RFC 5802, section 5.1: the nonce must be the one the server
        // sent, or this message could be a replay of another exchange.
        if (message.nonce != combined_nonce_)
            return fail(failure_reason::invalid_credentials,
                        detail::scram_error::other_error);
        // c= carries the GS2 header and, with "p", the channel binding
        // data, so a relay between two TLS connections shows here.
        if (message.channel_binding != gs2_header_ + binding_data_)
            return fail(failure_reason::invalid_credentials,
                        detail::scram_error::channel_bindings_dont_match);
        if (message.proof.size() != Hash::digest_octets)
            return fail(failure_reason::malformed,
                        detail::scram_error::invalid_encoding);

        const std::string auth_message = client_first_bare_ + "," +
                                         server_first_ + "," +
                                         std::string(message.without_proof);
        if (!proof_is_valid(message.proof, auth_message))
            return fail(failure_reason::invalid_credentials,
                        detail::scram_error::invalid_proof);
        // Checked after the proof, as PLAIN does, so that a client without
        // the password learns nothing about authorization.
        if (authzid_ && !detail::equal_ignoring_ascii_case(*authzid_, user_))
            return fail(failure_reason::authzid_rejected,
                        detail::scram_error::other_error);
        return succeed(auth_message);
    }

    // RFC 5802, section 3: ClientKey = ClientProof XOR ClientSignature,
    // where ClientSignature = HMAC(StoredKey, AuthMessage), and the proof
    // is valid when H(ClientKey) equals StoredKey.
    bool proof_is_valid(std::string_view proof,
                        std::string_view auth_message) const
    {
        std::string client_key = detail::scram_hmac(
            Hash::digest(), stored_key_.view(), auth_message);
        if (client_key.size() != proof.size())
            return false;
        for (std::size_t i = 0; i < client_key.size(); ++i)
            client_key[i] = static_cast<char>(client_key[i] ^ proof[i]);

        std::string computed = detail::scram_digest(Hash::digest(),
                                                    client_key);
        const bool equal =
            computed.size() == stored_key_.size() &&
            CRYPTO_memcmp(computed.data(), stored_key_.view().data(),
                          computed.size()) == 0;
        detail::wipe(client_key);
        detail::wipe(computed);
        return equal && !fake_;
    }

    // RFC 5802, section 3: ServerSignature = HMAC(ServerKey, AuthMessage),
    // sent as server-final-message "v=" base64.
    step succeed(std::string_view auth_message)
    {
        state_ = state::done;
        step result;
        result.kind = step_kind::success;
        result.authcid = user_;
        result.authzid = authzid_.value_or(std::string());
        result.data = "v=" + base64_encode(detail::scram_hmac(
                                 Hash::digest(), server_key_.view(),
                                 auth_message));
        return result;
    }

    step fail(failure_reason reason,
              detail::scram_error error = detail::scram_error::other_error)
    {
        state_ = state::done;
        step result = step::make_failure(reason);
        result.data = "e=" + std::string(detail::to_string(error));
        return result;
    }

    state state_ = state::initial;
    bool encrypted_;
    bool plus_advertised_;
    std::string fake_salt_key_;
    std::uint32_t fake_iterations_;
    std::optional<channel_bindings> bindings_;
    std::string fixed_server_nonce_;

    std::string user_;
    std::optional<std::string> authzid_;
    std::string gs2_header_;
    std::string binding_data_;
    std::string client_first_bare_;
    std::string client_nonce_;

    std::string salt_;
    std::uint32_t iterations_ = 0;
    secret stored_key_;
    secret server_key_;
    bool fake_ = true;
    std::string combined_nonce_;
    std::string server_first_;
};

/// SCRAM-SHA-1 (RFC 5802).
using scram_sha1 = basic_scram<detail::scram_sha1_hash, false>;
/// SCRAM-SHA-256 (RFC 7677).
using scram_sha256 = basic_scram<detail::scram_sha256_hash, false>;
/// SCRAM-SHA-1-PLUS: SCRAM-SHA-1 bound to the TLS channel (RFC 5802).
using scram_sha1_plus = basic_scram<detail::scram_sha1_hash, true>;
/// SCRAM-SHA-256-PLUS: SCRAM-SHA-256 bound to the TLS channel (RFC 7677).
using scram_sha256_plus = basic_scram<detail::scram_sha256_hash, true>;

static_assert(mechanism<scram_sha1>);
static_assert(mechanism<scram_sha256>);
static_assert(mechanism<scram_sha1_plus>);
static_assert(mechanism<scram_sha256_plus>);

} // namespace postern::sasl
