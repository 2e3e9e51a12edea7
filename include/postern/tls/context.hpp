// TLS server contexts loaded from PEM files (RFC 8446 for TLS 1.3,
// RFC 5246 for TLS 1.2).
#pragma once

#include <asio/ssl/context.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace postern::tls {

/// A TLS protocol version, for the lowest version a server accepts.
enum class tls_version { v1_0, v1_1, v1_2, v1_3 };

/// Parses a version as written in the configuration: "1.0", "1.1", "1.2"
/// or "1.3". Returns std::nullopt for anything else.
inline std::optional<tls_version> parse_tls_version(std::string_view text)
{
    if (text == "1.0")
        return tls_version::v1_0;
    if (text == "1.1")
        return tls_version::v1_1;
    if (text == "1.2")
        return tls_version::v1_2;
    if (text == "1.3")
        return tls_version::v1_3;
    return std::nullopt;
}

/// The files and protocol floor of a server context.
struct context_options {
    /// PEM certificate, optionally followed by its intermediate chain.
    std::filesystem::path certificate;
    /// PEM private key that matches the first certificate.
    std::filesystem::path private_key;
    tls_version min_version = tls_version::v1_2;
};

namespace detail {

/// The category of OpenSSL library errors, whose values are the packed
/// codes of ERR_get_error(). Errors of the system library are converted to
/// std::system_category() instead (see make_openssl_error_code).
class openssl_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "openssl"; }

    std::string message(int value) const override
    {
        if (value == 0)
            return "no OpenSSL error";
        // ERR_error_string(3) requires 256 bytes. ERR_error_string_n
        // truncates a longer message instead of overflowing.
        std::array<char, 256> text{};
        ERR_error_string_n(static_cast<unsigned long>(value), text.data(),
                           text.size());
        return text.data();
    }
};

inline const std::error_category& openssl_category() noexcept
{
    static const openssl_category_impl instance;
    return instance;
}

/// Converts one code from the OpenSSL error queue. System errors (a failed
/// fopen, for instance) become their errno value. A packed OpenSSL 3 code
/// has its flag bit clear and fits in an int.
inline std::error_code make_openssl_error_code(unsigned long code)
{
    if (ERR_SYSTEM_ERROR(code))
        return {static_cast<int>(ERR_GET_REASON(code)),
                std::system_category()};
    return {static_cast<int>(code), openssl_category()};
}

/// Takes the first, root-cause error from this thread's OpenSSL error queue
/// and clears the rest of the queue. Returns std::errc::io_error when the
/// queue is empty even though a call reported failure.
inline std::error_code take_openssl_error()
{
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0)
        return std::make_error_code(std::errc::io_error);
    return make_openssl_error_code(code);
}

inline std::string quote_path(const std::filesystem::path& file)
{
    return "'" + file.string() + "'";
}

inline int to_openssl_version(tls_version version) noexcept
{
    switch (version) {
    case tls_version::v1_0: return TLS1_VERSION;
    case tls_version::v1_1: return TLS1_1_VERSION;
    case tls_version::v1_2: return TLS1_2_VERSION;
    case tls_version::v1_3: return TLS1_3_VERSION;
    }
    return TLS1_2_VERSION;
}

inline void apply_protocol_settings(SSL_CTX* context, tls_version minimum)
{
    ERR_clear_error();
    if (SSL_CTX_set_min_proto_version(context, to_openssl_version(minimum))
        != 1)
        throw std::system_error(take_openssl_error(),
                                "cannot set the minimum TLS version");

    // TLS 1.0 and 1.1 sign the handshake with MD5 and SHA-1, which OpenSSL
    // 3.0 rates below security level 1 (its CHANGES.md). Debian 12's
    // OpenSSL 3.0 defaults to level 2, so accepting these versions means
    // level 0, which also allows short keys and weak ciphers.
    if (minimum < tls_version::v1_2)
        SSL_CTX_set_security_level(context, 0);

    // Idle connections (an SMTP client thinking between commands) give back
    // their read and write buffers, each sized for a full 16 KiB record.
    SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);

    // No compression: CRIME recovers secrets from compressed TLS records.
    // Renegotiation is off, because a client could otherwise make the
    // server repeat expensive handshakes on one connection.
    SSL_CTX_set_options(context, SSL_OP_NO_COMPRESSION
                                     | SSL_OP_CIPHER_SERVER_PREFERENCE
                                     | SSL_OP_NO_RENEGOTIATION);

    // Session tickets let returning clients resume without a full handshake.
    SSL_CTX_clear_options(context, SSL_OP_NO_TICKET);
}

inline void load_key_pair(SSL_CTX* context, const context_options& options)
{
    const std::string certificate = options.certificate.string();
    const std::string private_key = options.private_key.string();

    // SSL_CTX_use_PrivateKey_file already rejects a key that does not match
    // the certificate. SSL_CTX_check_private_key checks the pair once more
    // after both are in place.
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(context, certificate.c_str())
        != 1)
        throw std::system_error(take_openssl_error(),
                                "cannot load the certificate chain from "
                                    + quote_path(options.certificate));
    if (SSL_CTX_use_PrivateKey_file(context, private_key.c_str(),
                                    SSL_FILETYPE_PEM)
        != 1)
        throw std::system_error(take_openssl_error(),
                                "cannot load the private key from "
                                    + quote_path(options.private_key)
                                    + " for the certificate "
                                    + quote_path(options.certificate));
    if (SSL_CTX_check_private_key(context) != 1)
        throw std::system_error(take_openssl_error(),
                                "the private key "
                                    + quote_path(options.private_key)
                                    + " does not match the certificate "
                                    + quote_path(options.certificate));
}

} // namespace detail

/// Creates a TLS server context from PEM files: the certificate (with its
/// chain), the matching private key and the minimum protocol version.
/// Compression and renegotiation are off, the server's cipher order wins,
/// session tickets stay on for resumption, and idle connections release
/// their buffers.
///
/// @throws std::system_error when a file cannot be read, does not hold PEM
///   of the expected kind, or the key does not match the certificate.
///   what() names the file and the OpenSSL reason. Missing or unreadable
///   files carry their errno in std::system_category(), other failures a
///   code in detail::openssl_category().
inline asio::ssl::context make_server_context(const context_options& options)
{
    asio::ssl::context context(asio::ssl::context::tls_server);
    detail::apply_protocol_settings(context.native_handle(),
                                    options.min_version);
    detail::load_key_pair(context.native_handle(), options);
    return context;
}

} // namespace postern::tls
