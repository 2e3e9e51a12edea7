#include <postern/transport/memory.hpp>

#include "test_network.hpp"

#include <postern/core/error.hpp>

#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/ip/address.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using postern::transport::make_memory_pair;
using postern::transport::memory_transport;
using postern::transport::test::coroutine_runner;

constexpr std::size_t max_unread = memory_transport::max_unread;

// Reads until `size` bytes arrived or `ec` is set, and returns the bytes.
asio::awaitable<std::string> read_exactly(memory_transport& transport,
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

asio::awaitable<void> write_text(memory_transport& transport,
                                 std::string_view text, std::error_code& ec)
{
    co_await transport.write(asio::buffer(text), ec);
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration)
{
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    co_await timer.async_wait(asio::use_awaitable);
}

} // namespace

BOOST_AUTO_TEST_SUITE(memory)

BOOST_AUTO_TEST_CASE(pair_carries_data_both_ways)
{
    coroutine_runner runner;
    auto [server, client] = make_memory_pair(runner.context().get_executor());

    auto server_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        co_await write_text(server, "220 mail.example.com ESMTP\r\n", ec);
        BOOST_TEST(!ec);
        const std::string command = co_await read_exactly(server, 6, ec);
        BOOST_TEST(!ec);
        BOOST_TEST(command == "QUIT\r\n");
    };
    auto client_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        const std::string greeting = co_await read_exactly(client, 28, ec);
        BOOST_TEST(!ec);
        BOOST_TEST(greeting == "220 mail.example.com ESMTP\r\n");
        co_await write_text(client, "QUIT\r\n", ec);
        BOOST_TEST(!ec);
    };
    runner.spawn(server_side());
    runner.spawn(client_side());
    runner.run();
}

BOOST_AUTO_TEST_CASE(read_waits_for_write)
{
    coroutine_runner runner;
    auto [server, client] = make_memory_pair(runner.context().get_executor());
    bool written = false;

    auto reader = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        char buffer[16] = {};
        const std::size_t n =
            co_await server.read_some(asio::buffer(buffer), ec);
        BOOST_TEST(written);
        BOOST_TEST(!ec);
        BOOST_TEST(std::string_view(buffer, n) == "late");
    };
    auto writer = [&]() -> asio::awaitable<void> {
        co_await sleep_for(std::chrono::milliseconds(50));
        std::error_code ec;
        written = true;
        co_await write_text(client, "late", ec);
    };
    runner.spawn(reader());
    runner.spawn(writer());
    runner.run();
}

BOOST_AUTO_TEST_CASE(eof_after_peer_close_and_drain)
{
    coroutine_runner runner;
    auto [server, client] = make_memory_pair(runner.context().get_executor());

    auto client_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        co_await write_text(client, "QUIT\r\n", ec);
        BOOST_TEST(!ec);
        client.close();
        client.close();
    };
    auto server_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        const std::string command = co_await read_exactly(server, 6, ec);
        BOOST_TEST(!ec);
        BOOST_TEST(command == "QUIT\r\n");

        char byte = 0;
        const std::size_t n =
            co_await server.read_some(asio::buffer(&byte, 1), ec);
        BOOST_TEST(n == 0u);
        BOOST_TEST(ec == asio::error::eof);
        co_await server.read_some(asio::buffer(&byte, 1), ec);
        BOOST_TEST(ec == asio::error::eof);
    };
    runner.spawn(client_side());
    runner.spawn(server_side());
    runner.run();
}

BOOST_AUTO_TEST_CASE(write_after_peer_close_is_broken_pipe)
{
    coroutine_runner runner;
    auto [server, client] = make_memory_pair(runner.context().get_executor());
    client.close();

    auto server_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        co_await write_text(server, "221 Bye\r\n", ec);
        BOOST_TEST(ec == asio::error::broken_pipe);
    };
    runner.spawn(server_side());
    runner.run();
}

BOOST_AUTO_TEST_CASE(write_waits_at_max_unread)
{
    BOOST_TEST(max_unread == 65536u);

    coroutine_runner runner;
    auto [server, client] = make_memory_pair(runner.context().get_executor());
    const std::string payload(max_unread + 10, 'x');
    bool write_done = false;

    auto writer = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        co_await server.write(asio::buffer(payload), ec);
        BOOST_TEST(!ec);
        write_done = true;
    };
    runner.spawn(writer());
    runner.context().poll();
    BOOST_TEST(!write_done);

    // The reader finds exactly max_unread bytes. Reading them lets the
    // writer deliver its last 10 bytes.
    auto reader = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        std::string buffer(2 * max_unread, '\0');
        const std::size_t first =
            co_await client.read_some(asio::buffer(buffer), ec);
        BOOST_TEST(!ec);
        BOOST_TEST(first == max_unread);
        BOOST_TEST(!write_done);

        const std::size_t second =
            co_await client.read_some(asio::buffer(buffer), ec);
        BOOST_TEST(!ec);
        BOOST_TEST(second == 10u);
    };
    runner.spawn(reader());
    runner.run();
    BOOST_TEST(write_done);
}

BOOST_AUTO_TEST_CASE(close_wakes_peer_waiting_to_write)
{
    coroutine_runner runner;
    auto [server, client] = make_memory_pair(runner.context().get_executor());
    const std::string payload(max_unread + 1, 'x');

    auto writer = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        co_await server.write(asio::buffer(payload), ec);
        BOOST_TEST(ec == asio::error::broken_pipe);
    };
    auto closer = [&]() -> asio::awaitable<void> {
        co_await sleep_for(std::chrono::milliseconds(50));
        client.close();
    };
    runner.spawn(writer());
    runner.spawn(closer());
    runner.run();
}

BOOST_AUTO_TEST_CASE(close_aborts_own_pending_read)
{
    coroutine_runner runner;
    auto [server, client] = make_memory_pair(runner.context().get_executor());

    auto reader = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        char byte = 0;
        co_await server.read_some(asio::buffer(&byte, 1), ec);
        BOOST_TEST(ec == asio::error::operation_aborted);
        co_await server.read_some(asio::buffer(&byte, 1), ec);
        BOOST_TEST(ec == asio::error::bad_descriptor);
        co_await write_text(server, "x", ec);
        BOOST_TEST(ec == asio::error::bad_descriptor);
    };
    auto closer = [&]() -> asio::awaitable<void> {
        co_await sleep_for(std::chrono::milliseconds(50));
        server.close();
    };
    auto peer = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        char byte = 0;
        co_await client.read_some(asio::buffer(&byte, 1), ec);
        BOOST_TEST(ec == asio::error::eof);
    };
    runner.spawn(reader());
    runner.spawn(closer());
    runner.spawn(peer());
    runner.run();
}

BOOST_AUTO_TEST_CASE(destroying_an_end_closes_it)
{
    coroutine_runner runner;
    auto pair = make_memory_pair(runner.context().get_executor());
    memory_transport server = std::move(pair.first);
    {
        const memory_transport client = std::move(pair.second);
    }

    auto server_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        char byte = 0;
        co_await server.read_some(asio::buffer(&byte, 1), ec);
        BOOST_TEST(ec == asio::error::eof);
    };
    runner.spawn(server_side());
    runner.run();
}

BOOST_AUTO_TEST_CASE(pair_offers_no_tls)
{
    coroutine_runner runner;
    const auto client_address = asio::ip::make_address("192.0.2.7");
    auto [server, client] =
        make_memory_pair(runner.context().get_executor(), client_address);

    auto server_side = [&]() -> asio::awaitable<void> {
        std::error_code ec;
        co_await server.start_tls(ec);
        BOOST_TEST(ec == std::error_code(postern::error::tls_unavailable));
    };
    runner.spawn(server_side());
    runner.run();

    BOOST_TEST(!server.can_start_tls());
    BOOST_TEST(!server.encrypted());
    BOOST_TEST(!server.tls().has_value());
    BOOST_TEST(server.remote_address() == client_address);
    BOOST_TEST(client.remote_address() == client_address);
}

BOOST_AUTO_TEST_CASE(pair_defaults_to_loopback_address)
{
    asio::io_context context;
    const auto [server, client] = make_memory_pair(context.get_executor());
    BOOST_TEST(server.remote_address() == asio::ip::address_v4::loopback());
}

BOOST_AUTO_TEST_SUITE_END()
