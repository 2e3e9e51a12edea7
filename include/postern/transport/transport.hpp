// The Transport concept: the byte stream a session driver runs over.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/address.hpp>

#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <system_error>

namespace postern::transport {

/// The negotiated TLS parameters, for the Received: header and the logs.
struct tls_details {
    std::string version; ///< as OpenSSL names it, e.g. "TLSv1.3"
    std::string cipher;  ///< e.g. "TLS_AES_256_GCM_SHA384"
    int bits = 0;        ///< symmetric key length
};

/// A connection as a session driver uses it. All operations are coroutines
/// that report errors through `ec` and never throw for network or TLS
/// failures.
///
/// - read_some reads at least one byte unless `ec` is set; end of stream
///   sets `ec` (asio::error::eof or postern::error::connection_closed).
/// - write sends the whole buffer.
/// - start_tls performs the server side of a TLS handshake on the open
///   connection (STARTTLS, STLS). Precondition: can_start_tls().
/// - close shuts the connection down; further operations fail.
template <typename T>
concept transport =
    requires(T& t, const T& ct, asio::mutable_buffer in,
             asio::const_buffer out, std::error_code& ec) {
        { t.read_some(in, ec) } -> std::same_as<asio::awaitable<std::size_t>>;
        { t.write(out, ec) } -> std::same_as<asio::awaitable<void>>;
        { t.start_tls(ec) } -> std::same_as<asio::awaitable<void>>;
        { t.close() } -> std::same_as<void>;
        { ct.can_start_tls() } -> std::same_as<bool>;
        { ct.encrypted() } -> std::same_as<bool>;
        { ct.tls() } -> std::same_as<std::optional<tls_details>>;
        { ct.remote_address() } -> std::same_as<asio::ip::address>;
    };

} // namespace postern::transport
