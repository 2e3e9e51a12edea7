// Helpers for transport tests: coroutines run on a bounded io_context,
// loopback socket pairs, and TLS contexts for a generated certificate.
#pragma once

#include <postern/tls/certificate.hpp>
#include <postern/tls/context.hpp>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/host_name_verification.hpp>

#include <boost/test/unit_test.hpp>

#include <stdlib.h>

#include <chrono>
#include <exception>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

namespace postern::transport::test {

/// How long one test may run its io_context before it counts as hung.
inline constexpr std::chrono::seconds test_time_limit{10};

/// Runs coroutines on one io_context for at most test_time_limit, then
/// requires that each finished and rethrows the first exception one threw
/// (a failed BOOST_REQUIRE, for instance).
class coroutine_runner {
public:
    asio::io_context& context() { return context_; }

    void spawn(asio::awaitable<void> coroutine)
    {
        ++started_;
        asio::co_spawn(context_, std::move(coroutine),
                       [this](std::exception_ptr failure) {
                           ++finished_;
                           if (failure && !failure_)
                               failure_ = failure;
                       });
    }

    void run()
    {
        context_.run_for(test_time_limit);
        if (failure_)
            std::rethrow_exception(failure_);
        BOOST_REQUIRE_MESSAGE(finished_ == started_,
                              "coroutines still running after "
                                  << test_time_limit.count() << " s");
    }

private:
    asio::io_context context_;
    int started_ = 0;
    int finished_ = 0;
    std::exception_ptr failure_;
};

/// Both ends of a loopback TCP connection on a port the OS picked.
struct socket_pair {
    asio::ip::tcp::socket server;
    asio::ip::tcp::socket client;
};

inline socket_pair connect_loopback(asio::io_context& context)
{
    asio::ip::tcp::acceptor acceptor(
        context, {asio::ip::address_v4::loopback(), 0});
    asio::ip::tcp::socket client(context);
    client.connect(acceptor.local_endpoint());
    asio::ip::tcp::socket server = acceptor.accept();
    return {std::move(server), std::move(client)};
}

/// A self-signed certificate for mail.example.com and *.example.com,
/// generated once per test run into a temporary folder.
class test_certificate {
public:
    static const test_certificate& instance()
    {
        static const test_certificate certificate;
        return certificate;
    }

    test_certificate(const test_certificate&) = delete;
    test_certificate& operator=(const test_certificate&) = delete;

    ~test_certificate()
    {
        std::error_code ignored;
        std::filesystem::remove_all(folder_, ignored);
    }

    const std::filesystem::path& certificate() const { return certificate_; }
    const std::filesystem::path& private_key() const { return private_key_; }

private:
    test_certificate()
    {
        std::string pattern = (std::filesystem::temp_directory_path()
                               / "postern-transport-XXXXXX")
                                  .string();
        if (::mkdtemp(pattern.data()) == nullptr)
            throw std::system_error(errno, std::system_category(), pattern);
        folder_ = pattern;
        certificate_ = folder_ / "cert.pem";
        private_key_ = folder_ / "key.pem";

        const auto ec = tls::generate_self_signed(
            {{"mail.example.com", "*.example.com"}}, certificate_,
            private_key_);
        if (ec)
            throw std::system_error(ec, "generate_self_signed");
    }

    std::filesystem::path folder_;
    std::filesystem::path certificate_;
    std::filesystem::path private_key_;
};

inline asio::ssl::context make_test_server_context(
    tls::tls_version min_version = tls::tls_version::v1_2)
{
    const test_certificate& files = test_certificate::instance();
    return tls::make_server_context(
        {files.certificate(), files.private_key(), min_version});
}

/// A client context that trusts only the test certificate and checks that
/// it covers smtp.example.com through its wildcard name.
inline asio::ssl::context make_test_client_context()
{
    asio::ssl::context context(asio::ssl::context::tls_client);
    context.load_verify_file(
        test_certificate::instance().certificate().string());
    context.set_verify_mode(asio::ssl::verify_peer);
    context.set_verify_callback(
        asio::ssl::host_name_verification("smtp.example.com"));
    return context;
}

} // namespace postern::transport::test
