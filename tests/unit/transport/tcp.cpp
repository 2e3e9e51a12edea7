#include <postern/transport/tcp.hpp>

#include "test_network.hpp"

#include <postern/core/error.hpp>
#include <postern/sasl/mechanism.hpp>
#include <postern/tls/context.hpp>

#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl/error.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <boost/test/unit_test.hpp>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using postern::transport::tcp_transport;
using postern::transport::test::connect_loopback;
using postern::transport::test::coroutine_runner;
using postern::transport::test::make_test_client_context;
using postern::transport::test::make_test_server_context;
using tls_client_stream = asio::ssl::stream<asio::ip::tcp::socket&>;

std::error_code code_of(postern::error value)
{
    return value;
}

// Category names, because Boost.Test cannot print std::error_category.
std::string category_of(const std::error_code& ec)
{
    return ec.category().name();
}

const std::string ssl_category = asio::error::get_ssl_category().name();

int openssl_reason(const std::error_code& ec)
{
    return ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
}

// Reads until `size` bytes arrived or `ec` is set, and returns the bytes.
asio::awaitable<std::string> read_exactly(tcp_transport& transport,
                                          std::size_t size,
                                          std::error_code& ec)
{
    std::string data(size, '\0');
    std::size_t filled = 0;
    while (filled < size) {
        filled += co_await transport.read_some(
            asio::buffer(data.data() + filled, size - filled), ec);
        if (ec)
            break;
    }
    data.resize(filled);
    co_return data;
}

asio::awaitable<void> write_text(tcp_transport& transport,
                                 std::string_view text, std::error_code& ec)
{
    co_await transport.write(asio::buffer(text), ec);
}

// The client side uses plain Asio, which throws on errors. The runner
// rethrows them after the test's io_context stops.
template <typename Stream>
asio::awaitable<std::string> client_read(Stream& stream, std::size_t size)
{
    std::string data(size, '\0');
    co_await asio::async_read(stream, asio::buffer(data),
                              asio::use_awaitable);
    co_return data;
}

template <typename Stream>
asio::awaitable<void> client_write(Stream& stream, std::string_view text)
{
    co_await asio::async_write(stream, asio::buffer(text),
                               asio::use_awaitable);
}

// Reads until the stream fails and returns the error.
template <typename Stream>
asio::awaitable<std::error_code> client_read_error(Stream& stream)
{
    std::error_code ec;
    char byte = 0;
    while (!ec)
        co_await stream.async_read_some(
            asio::buffer(&byte, 1),
            asio::redirect_error(asio::use_awaitable, ec));
    co_return ec;
}

void set_server_name(tls_client_stream& stream)
{
    SSL_set_tlsext_host_name(stream.native_handle(), "smtp.example.com");
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration)
{
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    co_await timer.async_wait(asio::use_awaitable);
}

// What the client saw of a handshake, to compare with the server's view.
struct client_view {
    std::string version;
    std::string cipher;
    int bits = 0;
};

client_view read_client_view(tls_client_stream& stream)
{
    SSL* ssl = stream.native_handle();
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
    return {SSL_get_version(ssl), SSL_CIPHER_get_name(cipher),
            SSL_CIPHER_get_bits(cipher, nullptr)};
}

// The channel binding data as the client computes it: the exporter of
// RFC 9266, and the SHA-256 hash of the server certificate (RFC 5929,
// section 4.1), because the test certificate is signed with SHA-256.
postern::sasl::channel_bindings read_client_bindings(tls_client_stream& stream)
{
    SSL* ssl = stream.native_handle();
    postern::sasl::channel_bindings bindings;

    constexpr std::string_view label = "EXPORTER-Channel-Binding";
    std::array<unsigned char, 32> exported{};
    BOOST_TEST_REQUIRE(SSL_export_keying_material(
                           ssl, exported.data(), exported.size(), label.data(),
                           label.size(), exported.data(), 0, 1) == 1);
    bindings.tls_exporter.assign(
        reinterpret_cast<const char*>(exported.data()), exported.size());

    X509* certificate = SSL_get0_peer_certificate(ssl);
    BOOST_TEST_REQUIRE(certificate != nullptr);
    std::array<unsigned char, EVP_MAX_MD_SIZE> hash{};
    unsigned int size = 0;
    BOOST_TEST_REQUIRE(X509_digest(certificate, EVP_sha256(), hash.data(),
                                   &size) == 1);
    bindings.tls_server_end_point.assign(
        reinterpret_cast<const char*>(hash.data()), size);
    return bindings;
}

// Runs a TLS handshake between a tcp_transport and a client using
// `client_context`, and returns both sides' channel binding data.
struct bindings_pair {
    postern::sasl::channel_bindings server;
    postern::sasl::channel_bindings client;
    std::string version;
};

bindings_pair exchange_bindings(asio::ssl::context& client_context)
{
    coroutine_runner runner;
    asio::ssl::context server_context = make_test_server_context();
    auto sockets = connect_loopback(runner.context());
    tcp_transport server(std::move(sockets.server), &server_context);
    bindings_pair result;

    auto server_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        co_await server.start_tls(ec);
        BOOST_REQUIRE_MESSAGE(!ec, ec.message());
        result.server = server.channel_bindings();
        co_await write_text(server, "ok", ec);
        BOOST_TEST(!ec);
    };
    auto client_side = [&]() -> asio::awaitable<void> {
        tls_client_stream stream(sockets.client, client_context);
        set_server_name(stream);
        co_await stream.async_handshake(tls_client_stream::client,
                                        asio::use_awaitable);
        result.client = read_client_bindings(stream);
        result.version = SSL_get_version(stream.native_handle());
        const std::string reply = co_await client_read(stream, 2);
        BOOST_TEST(reply == "ok");
    };
    runner.spawn(server_side());
    runner.spawn(client_side());
    runner.run();
    return result;
}

using key_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using certificate_ptr = std::unique_ptr<X509, decltype(&X509_free)>;

// A bare self-signed certificate for `key`, signed with `digest` (nullptr
// for Ed25519), enough to test which hash tls-server-end-point uses.
certificate_ptr make_certificate(EVP_PKEY* key, const EVP_MD* digest)
{
    certificate_ptr certificate(X509_new(), X509_free);
    BOOST_TEST_REQUIRE(certificate != nullptr);
    X509* x = certificate.get();
    BOOST_TEST_REQUIRE(X509_set_version(x, 2) == 1);
    BOOST_TEST_REQUIRE(ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1);
    X509_NAME* name = X509_get_subject_name(x);
    const auto* common_name =
        reinterpret_cast<const unsigned char*>("mail.example.com");
    BOOST_TEST_REQUIRE(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                                  common_name, -1, -1, 0) == 1);
    BOOST_TEST_REQUIRE(X509_set_issuer_name(x, name) == 1);
    BOOST_TEST_REQUIRE(X509_gmtime_adj(X509_getm_notBefore(x), 0) != nullptr);
    BOOST_TEST_REQUIRE(X509_gmtime_adj(X509_getm_notAfter(x), 3600) !=
                       nullptr);
    BOOST_TEST_REQUIRE(X509_set_pubkey(x, key) == 1);
    BOOST_TEST_REQUIRE(X509_sign(x, key, digest) > 0);
    return certificate;
}

std::string digest_of(X509* certificate, const EVP_MD* digest)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> hash{};
    unsigned int size = 0;
    BOOST_TEST_REQUIRE(X509_digest(certificate, digest, hash.data(), &size) ==
                       1);
    return std::string(reinterpret_cast<const char*>(hash.data()), size);
}

} // namespace

BOOST_AUTO_TEST_SUITE(tcp)

// RFC 5929, section 4.1: the certificate's signature hash, except that
// MD5 and SHA-1 become SHA-256.
BOOST_AUTO_TEST_CASE(end_point_hash_follows_signature_hash)
{
    const key_ptr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    BOOST_TEST_REQUIRE(key != nullptr);
    struct hash_case {
        const char* label;
        const EVP_MD* signature;
        const EVP_MD* expected;
    };
    const hash_case cases[] = {
        {"SHA-1 signature", EVP_sha1(), EVP_sha256()},
        {"SHA-256 signature", EVP_sha256(), EVP_sha256()},
        {"SHA-384 signature", EVP_sha384(), EVP_sha384()},
        {"SHA-512 signature", EVP_sha512(), EVP_sha512()},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            const auto certificate = make_certificate(key.get(), c.signature);
            const std::string hash =
                postern::transport::detail::end_point_hash(certificate.get());
            BOOST_TEST(hash.size() ==
                       static_cast<std::size_t>(EVP_MD_get_size(c.expected)));
            BOOST_TEST(hash == digest_of(certificate.get(), c.expected));
        }
    }
}

// Ed25519 signs without a separate hash, which leaves tls-server-end-point
// undefined.
BOOST_AUTO_TEST_CASE(end_point_hash_empty_for_ed25519)
{
    const key_ptr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"),
                      EVP_PKEY_free);
    BOOST_TEST_REQUIRE(key != nullptr);
    const auto certificate = make_certificate(key.get(), nullptr);
    BOOST_TEST(postern::transport::detail::end_point_hash(certificate.get())
                   .empty());
}

BOOST_AUTO_TEST_CASE(channel_bindings_match_client_tls_1_3)
{
    asio::ssl::context client_context = make_test_client_context();
    const bindings_pair bindings = exchange_bindings(client_context);
    BOOST_TEST(bindings.version == "TLSv1.3");
    BOOST_TEST(bindings.server.tls_exporter.size() == 32u);
    BOOST_TEST(bindings.server.tls_exporter == bindings.client.tls_exporter);
    BOOST_TEST(bindings.server.tls_server_end_point.size() == 32u);
    BOOST_TEST(bindings.server.tls_server_end_point ==
               bindings.client.tls_server_end_point);
}

// OpenSSL 3 negotiates the extended master secret on TLS 1.2 by default.
BOOST_AUTO_TEST_CASE(channel_bindings_match_client_tls_1_2)
{
    asio::ssl::context client_context = make_test_client_context();
    SSL_CTX_set_max_proto_version(client_context.native_handle(),
                                  TLS1_2_VERSION);
    const bindings_pair bindings = exchange_bindings(client_context);
    BOOST_TEST(bindings.version == "TLSv1.2");
    BOOST_TEST(bindings.server.tls_exporter.size() == 32u);
    BOOST_TEST(bindings.server.tls_exporter == bindings.client.tls_exporter);
    BOOST_TEST(bindings.server.tls_server_end_point ==
               bindings.client.tls_server_end_point);
}

// Without the extended master secret a TLS 1.2 exporter is not unique to
// the connection (RFC 9266), so the server offers no tls-exporter data.
BOOST_AUTO_TEST_CASE(tls_exporter_needs_extended_master_secret)
{
    asio::ssl::context client_context = make_test_client_context();
    SSL_CTX* client_native = client_context.native_handle();
    SSL_CTX_set_max_proto_version(client_native, TLS1_2_VERSION);
    SSL_CTX_set_options(client_native, SSL_OP_NO_EXTENDED_MASTER_SECRET);
    const bindings_pair bindings = exchange_bindings(client_context);
    BOOST_TEST(bindings.version == "TLSv1.2");
    BOOST_TEST(bindings.server.tls_exporter.empty());
    BOOST_TEST(bindings.server.tls_server_end_point.size() == 32u);
    BOOST_TEST(bindings.server.tls_server_end_point ==
               bindings.client.tls_server_end_point);
}

BOOST_AUTO_TEST_CASE(channel_bindings_empty_without_tls)
{
    coroutine_runner runner;
    asio::ssl::context server_context = make_test_server_context();
    auto sockets = connect_loopback(runner.context());
    tcp_transport server(std::move(sockets.server), &server_context);
    const postern::sasl::channel_bindings bindings = server.channel_bindings();
    BOOST_TEST(bindings.tls_exporter.empty());
    BOOST_TEST(bindings.tls_server_end_point.empty());
}

BOOST_AUTO_TEST_CASE(plain_echo)
{
    coroutine_runner runner;
    auto sockets = connect_loopback(runner.context());
    tcp_transport accepted(std::move(sockets.server), nullptr);
    tcp_transport server(std::move(accepted));

    auto server_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        const std::string line = co_await read_exactly(server, 7, ec);
        BOOST_TEST(!ec);
        BOOST_TEST(line == "hello\r\n");
        co_await write_text(server, line, ec);
        BOOST_TEST(!ec);
    };
    auto client_side = [&]() -> asio::awaitable<void> {
        co_await client_write(sockets.client, "hello\r\n");
        const std::string echo = co_await client_read(sockets.client, 7);
        BOOST_TEST(echo == "hello\r\n");
    };
    runner.spawn(server_side());
    runner.spawn(client_side());
    runner.run();

    BOOST_TEST(server.remote_address() == asio::ip::address_v4::loopback());
    BOOST_TEST(!server.encrypted());
    BOOST_TEST(!server.tls().has_value());
    BOOST_TEST(!server.can_start_tls());
}

BOOST_AUTO_TEST_CASE(read_reports_eof_after_peer_close)
{
    coroutine_runner runner;
    auto sockets = connect_loopback(runner.context());
    tcp_transport server(std::move(sockets.server), nullptr);
    sockets.client.close();

    auto server_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        char byte = 0;
        const std::size_t n =
            co_await server.read_some(asio::buffer(&byte, 1), ec);
        BOOST_TEST(n == 0u);
        BOOST_TEST(ec == asio::error::eof);
    };
    runner.spawn(server_side());
    runner.run();
}

BOOST_AUTO_TEST_CASE(start_tls_without_context_is_unavailable)
{
    coroutine_runner runner;
    auto sockets = connect_loopback(runner.context());
    tcp_transport server(std::move(sockets.server), nullptr);

    auto server_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        co_await server.start_tls(ec);
        BOOST_TEST(ec == code_of(postern::error::tls_unavailable));
        // The plain connection is still usable.
        co_await write_text(server, "454 TLS not available\r\n", ec);
        BOOST_TEST(!ec);
    };
    auto client_side = [&]() -> asio::awaitable<void> {
        const std::string reply = co_await client_read(sockets.client, 23);
        BOOST_TEST(reply == "454 TLS not available\r\n");
    };
    runner.spawn(server_side());
    runner.spawn(client_side());
    runner.run();
    BOOST_TEST(!server.encrypted());
}

BOOST_AUTO_TEST_CASE(starttls_upgrades_plain_connection)
{
    coroutine_runner runner;
    asio::ssl::context server_context = make_test_server_context();
    asio::ssl::context client_context = make_test_client_context();
    auto sockets = connect_loopback(runner.context());
    tcp_transport server(std::move(sockets.server), &server_context);
    client_view client_saw;

    auto server_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        const std::string command = co_await read_exactly(server, 10, ec);
        BOOST_TEST(command == "STARTTLS\r\n");
        BOOST_TEST(server.can_start_tls());
        BOOST_TEST(!server.encrypted());
        co_await write_text(server, "220 2.0.0 Ready to start TLS\r\n", ec);

        co_await server.start_tls(ec);
        BOOST_REQUIRE_MESSAGE(!ec, ec.message());
        BOOST_TEST(server.encrypted());
        BOOST_TEST(!server.can_start_tls());

        const std::string ehlo = co_await read_exactly(server, 18, ec);
        BOOST_TEST(!ec);
        BOOST_TEST(ehlo == "EHLO client.test\r\n");
        co_await write_text(server, "250 mail.example.com\r\n", ec);
        BOOST_TEST(!ec);

        co_await server.start_tls(ec);
        BOOST_TEST(ec == code_of(postern::error::tls_already_active));
    };
    auto client_side = [&]() -> asio::awaitable<void> {
        co_await client_write(sockets.client, "STARTTLS\r\n");
        const std::string ready = co_await client_read(sockets.client, 30);
        BOOST_TEST(ready == "220 2.0.0 Ready to start TLS\r\n");

        tls_client_stream stream(sockets.client, client_context);
        set_server_name(stream);
        co_await stream.async_handshake(tls_client_stream::client,
                                        asio::use_awaitable);
        client_saw = read_client_view(stream);

        co_await client_write(stream, "EHLO client.test\r\n");
        const std::string reply = co_await client_read(stream, 22);
        BOOST_TEST(reply == "250 mail.example.com\r\n");
    };
    runner.spawn(server_side());
    runner.spawn(client_side());
    runner.run();

    const auto details = server.tls();
    BOOST_REQUIRE(details.has_value());
    BOOST_TEST(details->version == "TLSv1.3");
    BOOST_TEST(details->version == client_saw.version);
    BOOST_TEST(details->cipher == client_saw.cipher);
    BOOST_TEST(details->bits == client_saw.bits);
    BOOST_TEST(details->bits >= 128);
}

BOOST_AUTO_TEST_CASE(implicit_tls_handshakes_at_once)
{
    coroutine_runner runner;
    asio::ssl::context server_context = make_test_server_context();
    asio::ssl::context client_context = make_test_client_context();
    auto sockets = connect_loopback(runner.context());
    tcp_transport server(std::move(sockets.server), &server_context);

    auto server_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        co_await server.start_tls(ec);
        BOOST_REQUIRE_MESSAGE(!ec, ec.message());
        co_await write_text(server, "+OK POP3 ready\r\n", ec);
        BOOST_TEST(!ec);
        const std::string command = co_await read_exactly(server, 6, ec);
        BOOST_TEST(!ec);
        BOOST_TEST(command == "QUIT\r\n");
    };
    auto client_side = [&]() -> asio::awaitable<void> {
        tls_client_stream stream(sockets.client, client_context);
        set_server_name(stream);
        co_await stream.async_handshake(tls_client_stream::client,
                                        asio::use_awaitable);
        const std::string greeting = co_await client_read(stream, 16);
        BOOST_TEST(greeting == "+OK POP3 ready\r\n");
        co_await client_write(stream, "QUIT\r\n");
    };
    runner.spawn(server_side());
    runner.spawn(client_side());
    runner.run();

    BOOST_TEST(server.encrypted());
    BOOST_REQUIRE(server.tls().has_value());
    BOOST_TEST(server.tls()->version == "TLSv1.3");
}

// A client that pipelines a command after STARTTLS: the driver read only
// the STARTTLS line, so the next command reaches the handshake.
BOOST_AUTO_TEST_CASE(start_tls_fails_on_bytes_after_starttls)
{
    coroutine_runner runner;
    asio::ssl::context server_context = make_test_server_context();
    auto sockets = connect_loopback(runner.context());
    tcp_transport server(std::move(sockets.server), &server_context);
    std::error_code client_error;

    auto server_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        const std::string command = co_await read_exactly(server, 10, ec);
        BOOST_TEST(command == "STARTTLS\r\n");
        co_await write_text(server, "220 2.0.0 Ready to start TLS\r\n", ec);

        co_await server.start_tls(ec);
        BOOST_TEST(category_of(ec) == ssl_category);
        BOOST_TEST(openssl_reason(ec) == SSL_R_WRONG_VERSION_NUMBER);
        BOOST_TEST(!server.encrypted());
        BOOST_TEST(!server.can_start_tls());

        char byte = 0;
        co_await server.read_some(asio::buffer(&byte, 1), ec);
        BOOST_TEST(ec == asio::error::not_connected);
    };
    auto client_side = [&]() -> asio::awaitable<void> {
        co_await client_write(
            sockets.client, "STARTTLS\r\nMAIL FROM:<injected@example.com>\r\n");
        client_error = co_await client_read_error(sockets.client);
    };
    runner.spawn(server_side());
    runner.spawn(client_side());
    runner.run();
    BOOST_TEST(client_error == asio::error::eof);
}

BOOST_AUTO_TEST_CASE(implicit_tls_fails_on_plain_request)
{
    coroutine_runner runner;
    asio::ssl::context server_context = make_test_server_context();
    auto sockets = connect_loopback(runner.context());
    tcp_transport server(std::move(sockets.server), &server_context);

    auto server_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        co_await server.start_tls(ec);
        BOOST_TEST(category_of(ec) == ssl_category);
        BOOST_TEST(openssl_reason(ec) == SSL_R_HTTP_REQUEST);
        BOOST_TEST(!server.encrypted());
    };
    auto client_side = [&]() -> asio::awaitable<void> {
        co_await client_write(sockets.client, "GET / HTTP/1.1\r\n\r\n");
        co_await client_read_error(sockets.client);
    };
    runner.spawn(server_side());
    runner.spawn(client_side());
    runner.run();
}

BOOST_AUTO_TEST_CASE(min_version_1_3_rejects_tls_1_2_client)
{
    coroutine_runner runner;
    asio::ssl::context server_context =
        make_test_server_context(postern::tls::tls_version::v1_3);
    asio::ssl::context client_context = make_test_client_context();
    SSL_CTX_set_max_proto_version(client_context.native_handle(),
                                  TLS1_2_VERSION);
    auto sockets = connect_loopback(runner.context());
    tcp_transport server(std::move(sockets.server), &server_context);
    std::error_code client_error;

    auto server_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        co_await server.start_tls(ec);
        BOOST_TEST(category_of(ec) == ssl_category);
        BOOST_TEST(openssl_reason(ec) == SSL_R_UNSUPPORTED_PROTOCOL);
        BOOST_TEST(!server.encrypted());
    };
    auto client_side = [&]() -> asio::awaitable<void> {
        tls_client_stream stream(sockets.client, client_context);
        co_await stream.async_handshake(
            tls_client_stream::client,
            asio::redirect_error(asio::use_awaitable, client_error));
    };
    runner.spawn(server_side());
    runner.spawn(client_side());
    runner.run();
    BOOST_TEST(category_of(client_error) == ssl_category);
    BOOST_TEST(openssl_reason(client_error)
               == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
}

// TLS 1.0 works only because make_server_context drops the security level
// to 0 for it. The client needs level 0 as well.
BOOST_AUTO_TEST_CASE(min_version_1_0_accepts_tls_1_0_client)
{
    coroutine_runner runner;
    asio::ssl::context server_context =
        make_test_server_context(postern::tls::tls_version::v1_0);
    asio::ssl::context client_context = make_test_client_context();
    SSL_CTX* client_native = client_context.native_handle();
    SSL_CTX_set_min_proto_version(client_native, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(client_native, TLS1_VERSION);
    SSL_CTX_set_security_level(client_native, 0);
    auto sockets = connect_loopback(runner.context());
    tcp_transport server(std::move(sockets.server), &server_context);

    auto server_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        co_await server.start_tls(ec);
        BOOST_REQUIRE_MESSAGE(!ec, ec.message());
        co_await write_text(server, "ok", ec);
    };
    auto client_side = [&]() -> asio::awaitable<void> {
        tls_client_stream stream(sockets.client, client_context);
        set_server_name(stream);
        co_await stream.async_handshake(tls_client_stream::client,
                                        asio::use_awaitable);
        const std::string reply = co_await client_read(stream, 2);
        BOOST_TEST(reply == "ok");
    };
    runner.spawn(server_side());
    runner.spawn(client_side());
    runner.run();

    BOOST_REQUIRE(server.tls().has_value());
    BOOST_TEST(server.tls()->version == "TLSv1");
}

BOOST_AUTO_TEST_CASE(close_is_idempotent_and_keeps_address)
{
    coroutine_runner runner;
    asio::ssl::context server_context = make_test_server_context();
    auto sockets = connect_loopback(runner.context());
    tcp_transport server(std::move(sockets.server), &server_context);
    server.close();
    server.close();

    auto server_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        char byte = 0;
        co_await server.read_some(asio::buffer(&byte, 1), ec);
        BOOST_TEST(ec == asio::error::not_connected);
        co_await write_text(server, "x", ec);
        BOOST_TEST(ec == asio::error::not_connected);
        co_await server.start_tls(ec);
        BOOST_TEST(ec == asio::error::not_connected);
    };
    auto client_side = [&]() -> asio::awaitable<void> {
        const std::error_code ec = co_await client_read_error(sockets.client);
        BOOST_TEST(ec == asio::error::eof);
    };
    runner.spawn(server_side());
    runner.spawn(client_side());
    runner.run();

    BOOST_TEST(server.remote_address() == asio::ip::address_v4::loopback());
    BOOST_TEST(!server.can_start_tls());
}

BOOST_AUTO_TEST_CASE(close_after_tls_sends_close_notify)
{
    coroutine_runner runner;
    asio::ssl::context server_context = make_test_server_context();
    asio::ssl::context client_context = make_test_client_context();
    auto sockets = connect_loopback(runner.context());
    tcp_transport server(std::move(sockets.server), &server_context);
    std::error_code client_error;

    auto server_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        co_await server.start_tls(ec);
        BOOST_REQUIRE_MESSAGE(!ec, ec.message());
        co_await write_text(server, "221 Bye\r\n", ec);
        server.close();
    };
    auto client_side = [&]() -> asio::awaitable<void> {
        tls_client_stream stream(sockets.client, client_context);
        set_server_name(stream);
        co_await stream.async_handshake(tls_client_stream::client,
                                        asio::use_awaitable);
        const std::string reply = co_await client_read(stream, 9);
        BOOST_TEST(reply == "221 Bye\r\n");
        client_error = co_await client_read_error(stream);
    };
    runner.spawn(server_side());
    runner.spawn(client_side());
    runner.run();

    // Asio reports a received close_notify as eof, and a TCP close without
    // it as stream_truncated.
    BOOST_TEST(client_error == asio::error::eof);
    BOOST_TEST(server.encrypted());
    BOOST_REQUIRE(server.tls().has_value());
    BOOST_TEST(server.tls()->version == "TLSv1.3");
}

BOOST_AUTO_TEST_CASE(close_aborts_pending_tls_read)
{
    coroutine_runner runner;
    asio::ssl::context server_context = make_test_server_context();
    asio::ssl::context client_context = make_test_client_context();
    auto sockets = connect_loopback(runner.context());
    tcp_transport server(std::move(sockets.server), &server_context);
    std::error_code server_error;
    std::error_code client_error;

    auto server_side = [&]() -> asio::awaitable<void> {
        co_await server.start_tls(server_error);
        BOOST_REQUIRE_MESSAGE(!server_error, server_error.message());
        char byte = 0;
        co_await server.read_some(asio::buffer(&byte, 1), server_error);
    };
    auto timeout = [&]() -> asio::awaitable<void> {
        co_await sleep_for(std::chrono::milliseconds(200));
        server.close();
    };
    auto client_side = [&]() -> asio::awaitable<void> {
        tls_client_stream stream(sockets.client, client_context);
        set_server_name(stream);
        co_await stream.async_handshake(tls_client_stream::client,
                                        asio::use_awaitable);
        client_error = co_await client_read_error(stream);
    };
    runner.spawn(server_side());
    runner.spawn(timeout());
    runner.spawn(client_side());
    runner.run();

    BOOST_TEST(server_error == asio::error::operation_aborted);
    // With a read pending, close() skips close_notify.
    BOOST_TEST(client_error == asio::ssl::error::stream_truncated);
}

BOOST_AUTO_TEST_SUITE_END()
