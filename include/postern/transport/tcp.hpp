// A TCP transport that can upgrade to TLS in place: plain TCP, STARTTLS
// (RFC 3207) and STLS (RFC 2595), or implicit TLS from the first byte
// (RFC 8314).
#pragma once

#include <postern/core/error.hpp>
#include <postern/sasl/mechanism.hpp>
#include <postern/transport/transport.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <cassert>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace postern::transport {

namespace detail {

// RFC 5929, section 4.1: the hash of the certificate's DER encoding, with
// the hash of its signature algorithm, except that MD5 and SHA-1 become
// SHA-256. The binding is undefined for a signature algorithm without a
// separate hash (Ed25519, Ed448), and the result is then empty.
inline std::string end_point_hash(X509* certificate)
{
    int digest_nid = NID_undef;
    if (X509_get_signature_info(certificate, &digest_nid, nullptr, nullptr,
                                nullptr) != 1)
        return {};
    if (digest_nid == NID_md5 || digest_nid == NID_sha1)
        digest_nid = NID_sha256;
    const EVP_MD* digest = EVP_get_digestbynid(digest_nid);
    if (digest == nullptr)
        return {};

    std::array<unsigned char, EVP_MAX_MD_SIZE> hash{};
    unsigned int size = 0;
    if (X509_digest(certificate, digest, hash.data(), &size) != 1)
        return {};
    return std::string(reinterpret_cast<const char*>(hash.data()), size);
}

// RFC 9266, section 2: 32 octets exported with the label
// "EXPORTER-Channel-Binding" and a zero-length context, which on TLS 1.2
// differs from no context at all (RFC 5705). On TLS 1.2 and older the
// export is unique to the connection only with the extended master secret
// (RFC 7627), so without it the result is empty.
inline std::string tls_exporter(SSL* ssl)
{
    if (SSL_version(ssl) < TLS1_3_VERSION && SSL_get_extms_support(ssl) != 1)
        return {};
    constexpr std::string_view label = "EXPORTER-Channel-Binding";
    std::array<unsigned char, 32> exported{};
    if (SSL_export_keying_material(ssl, exported.data(), exported.size(),
                                   label.data(), label.size(),
                                   exported.data(), 0, 1) != 1)
        return {};
    return std::string(reinterpret_cast<const char*>(exported.data()),
                       exported.size());
}

} // namespace detail

/// Reads the channel binding data of the server side of an established TLS
/// connection, for the SCRAM -PLUS mechanisms: tls-exporter (RFC 9266) and
/// tls-server-end-point of the server's certificate (RFC 5929). A member
/// is empty when the connection cannot provide that type.
inline sasl::channel_bindings read_channel_bindings(SSL* ssl)
{
    sasl::channel_bindings bindings;
    bindings.tls_exporter = detail::tls_exporter(ssl);
    if (X509* certificate = SSL_get_certificate(ssl))
        bindings.tls_server_end_point = detail::end_point_hash(certificate);
    return bindings;
}

/// A TCP connection that a session driver reads and writes, and that can
/// switch to TLS in place with start_tls(). Calling start_tls() right after
/// accept serves implicit TLS (ports 465 and 995). Calling it after a plain
/// STARTTLS or STLS exchange upgrades the connection. A plain connection
/// allocates no OpenSSL object.
///
/// Bytes after STARTTLS: this class keeps no read buffer of its own, so a
/// byte the client sent after the STARTTLS or STLS command line is either
/// already in the driver's line buffer or still unread on the socket. The
/// driver must discard what it has buffered before it calls start_tls().
/// Otherwise a plaintext command injected after STARTTLS (CVE-2011-0411 in
/// Postfix) would run as if it came through TLS. Bytes still on the socket
/// are fed to the handshake, which fails because they are not a
/// ClientHello.
///
/// Movable only before start_tls(), because the TLS stream refers to the
/// socket member. Like an Asio socket, it allows at most one read and one
/// write in progress at a time, on one strand.
class tcp_transport {
public:
    /// Takes a connected socket. `ssl` may be nullptr, and then
    /// can_start_tls() is always false. The context must outlive the
    /// transport.
    tcp_transport(asio::ip::tcp::socket socket, asio::ssl::context* ssl)
        : socket_(std::move(socket)), ssl_context_(ssl)
    {
        std::error_code ignored;
        const auto endpoint = socket_.remote_endpoint(ignored);
        if (!ignored)
            remote_address_ = endpoint.address();
    }

    /// Precondition: start_tls() was never called on `other`.
    tcp_transport(tcp_transport&& other) noexcept
        : socket_(std::move(other.socket_)),
          ssl_context_(other.ssl_context_),
          remote_address_(other.remote_address_),
          closed_(other.closed_)
    {
        assert(!other.tls_stream_);
    }

    tcp_transport(const tcp_transport&) = delete;
    tcp_transport& operator=(const tcp_transport&) = delete;
    tcp_transport& operator=(tcp_transport&&) = delete;

    ~tcp_transport() { close(); }

    /// Reads at least one byte into `buffer`, through TLS once it is up.
    /// A closed connection sets `ec` to asio::error::eof, or to
    /// asio::ssl::error::stream_truncated when a TLS peer closed without
    /// close_notify. After close() it sets asio::error::not_connected.
    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer,
                                           std::error_code& ec)
    {
        if (closed_) {
            ec = asio::error::not_connected;
            co_return 0;
        }
        auto token = asio::redirect_error(asio::use_awaitable, ec);
        ++operations_pending_;
        std::size_t n = 0;
        if (tls_stream_)
            n = co_await tls_stream_->async_read_some(buffer, token);
        else
            n = co_await socket_.async_read_some(buffer, token);
        --operations_pending_;
        co_return n;
    }

    /// Writes all of `buffer`, through TLS once it is up.
    asio::awaitable<void> write(asio::const_buffer buffer,
                                std::error_code& ec)
    {
        if (closed_) {
            ec = asio::error::not_connected;
            co_return;
        }
        auto token = asio::redirect_error(asio::use_awaitable, ec);
        ++operations_pending_;
        if (tls_stream_)
            co_await asio::async_write(*tls_stream_, buffer, token);
        else
            co_await asio::async_write(socket_, buffer, token);
        --operations_pending_;
    }

    /// Runs the server side of the TLS handshake. On failure `ec` contains
    /// the reason (an asio::error::get_ssl_category() code when OpenSSL
    /// rejected the peer's handshake) and the connection is closed. Sets
    /// postern::error::tls_unavailable without a TLS context,
    /// postern::error::tls_already_active when TLS is up, and
    /// asio::error::not_connected after close().
    asio::awaitable<void> start_tls(std::error_code& ec)
    {
        if (!precheck_start_tls(ec))
            co_return;
        try {
            // TODO: asio::ssl::stream (Asio 1.22) allocates two 17 KiB
            // record buffers per stream for its whole life, so an idle TLS
            // session costs about 90 KiB (docs/benchmarks.rst), above the
            // 64 KiB aimed for; meeting it needs buffers allocated only
            // while a read or write is in flight.
            tls_stream_.emplace(socket_, *ssl_context_);
        } catch (const std::system_error& failure) {
            // SSL_new failed, which happens only when memory runs out.
            ec = failure.code();
            close();
            co_return;
        }

        ++operations_pending_;
        co_await tls_stream_->async_handshake(
            asio::ssl::stream_base::server,
            asio::redirect_error(asio::use_awaitable, ec));
        --operations_pending_;
        if (ec) {
            close();
            co_return;
        }
        tls_details_ = read_tls_details(tls_stream_->native_handle());
    }

    /// Shuts the connection down and cancels pending operations. When TLS is
    /// up and no operation is pending, it first tries to send close_notify
    /// without waiting: the socket is switched to non-blocking mode, so the
    /// alert is dropped if the send buffer is full. Safe to call repeatedly.
    void close() noexcept
    {
        if (closed_)
            return;
        closed_ = true;
        if (tls_details_ && operations_pending_ == 0)
            send_close_notify();

        std::error_code ignored;
        socket_.cancel(ignored);
        socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
    }

    /// Whether start_tls() may be called: a context is set, TLS is not up
    /// and the connection is open.
    bool can_start_tls() const
    {
        return ssl_context_ != nullptr && !tls_stream_ && !closed_;
    }

    /// Whether the TLS handshake has completed. Stays true after close().
    bool encrypted() const { return tls_details_.has_value(); }

    /// The negotiated protocol and cipher, or std::nullopt before the
    /// handshake has completed. Still available after close().
    std::optional<tls_details> tls() const { return tls_details_; }

    /// The channel binding data of the TLS connection (see
    /// read_channel_bindings()). Both members are empty before the TLS
    /// handshake has completed.
    sasl::channel_bindings channel_bindings() const
    {
        if (!tls_details_)
            return {};
        // Asio's native_handle() is not const, but exporting keying
        // material and hashing the certificate leave the connection as it
        // was.
        auto& stream = const_cast<asio::ssl::stream<asio::ip::tcp::socket&>&>(
            *tls_stream_);
        return read_channel_bindings(stream.native_handle());
    }

    /// The peer's address as it was at construction, so it is still
    /// available after close(). The unspecified IPv4 address when the
    /// socket was not connected.
    asio::ip::address remote_address() const { return remote_address_; }

    asio::any_io_executor get_executor() { return socket_.get_executor(); }

private:
    bool precheck_start_tls(std::error_code& ec) const
    {
        if (closed_)
            ec = asio::error::not_connected;
        else if (ssl_context_ == nullptr)
            ec = error::tls_unavailable;
        else if (tls_stream_)
            ec = error::tls_already_active;
        else
            ec.clear();
        return !ec;
    }

    static tls_details read_tls_details(SSL* ssl)
    {
        tls_details details;
        details.version = SSL_get_version(ssl);
        if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl)) {
            details.cipher = SSL_CIPHER_get_name(cipher);
            details.bits = SSL_CIPHER_get_bits(cipher, nullptr);
        }
        return details;
    }

    // Asio's synchronous shutdown writes close_notify and then waits for
    // the peer's. On a non-blocking socket that wait ends at once with
    // would_block, so this never stalls the thread. It runs only when no
    // asynchronous operation is pending, so it cannot interleave with one
    // inside the TLS engine.
    void send_close_notify() noexcept
    {
        std::error_code ignored;
        socket_.non_blocking(true, ignored);
        if (!ignored)
            tls_stream_->shutdown(ignored);
    }

    asio::ip::tcp::socket socket_;
    asio::ssl::context* ssl_context_;
    std::optional<asio::ssl::stream<asio::ip::tcp::socket&>> tls_stream_;
    std::optional<tls_details> tls_details_;
    asio::ip::address remote_address_;
    int operations_pending_ = 0;
    bool closed_ = false;
};

static_assert(transport<tcp_transport>);

} // namespace postern::transport
