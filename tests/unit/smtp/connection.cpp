#include <postern/smtp/connection.hpp>

#include <postern/directory/memory.hpp>
#include <postern/sasl/login.hpp>
#include <postern/sasl/mechanism_set.hpp>
#include <postern/sasl/plain.hpp>
#include <postern/store/maildir.hpp>
#include <postern/transport/memory.hpp>
#include <postern/trust/rules.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/thread_pool.hpp>

#include <boost/test/unit_test.hpp>

#include <stdlib.h>

#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

using namespace postern;
using namespace std::chrono_literals;

namespace {

using mechanisms = sasl::mechanism_set<sasl::plain, sasl::login>;
using test_connection =
    smtp::connection<transport::memory_transport,
                     directory::memory_directory, mechanisms, trust::rules,
                     store::maildir_store>;

std::filesystem::path make_temp_folder()
{
    std::string pattern =
        (std::filesystem::temp_directory_path() / "postern-smtp-XXXXXX")
            .string();
    BOOST_REQUIRE(mkdtemp(pattern.data()) != nullptr);
    return pattern;
}

// A session driver over an in-memory pair, with a client coroutine on the
// other end; both run on one io_context, bounded in time.
struct fixture {
    fixture()
    {
        config.identity = "mail.test";
        config.local_domains = {"mail.test"};
        config.auth.set("PLAIN", sasl::availability::allow);
        config.auth.set("LOGIN", sasl::availability::allow);
        users.add_user("alice", secret("correct horse"));
    }

    ~fixture()
    {
        std::error_code ignored;
        std::filesystem::remove_all(root, ignored);
    }

    // Runs the session against `client`, which gets the client end.
    template <typename Client>
    void run(Client client)
    {
        auto [server_end, client_end] =
            transport::make_memory_pair(context.get_executor());
        auto session = std::make_shared<test_connection>(
            std::move(server_end), services,
            smtp::listener_info{"test", false, smtp::tls_mode::none}, "t1");
        this->session = session;

        asio::co_spawn(context, session->run(), rethrow);
        asio::co_spawn(
            context,
            [client, end = std::move(client_end)]() mutable
                -> asio::awaitable<void> { co_await client(end); },
            rethrow);
        context.run_for(10s);
        BOOST_REQUIRE_MESSAGE(context.stopped(), "session did not finish");
    }

    static void rethrow(std::exception_ptr failure)
    {
        if (failure)
            std::rethrow_exception(failure);
    }

    std::string read_new_file(const std::string& user)
    {
        auto folder = root / "mail" / user / "new";
        auto entry = std::filesystem::directory_iterator(folder);
        BOOST_REQUIRE(entry != std::filesystem::directory_iterator());
        std::ifstream in(entry->path(), std::ios::binary);
        return {std::istreambuf_iterator<char>(in), {}};
    }

    std::filesystem::path root = make_temp_folder();
    smtp::settings config;
    directory::memory_directory users;
    trust::rules trust;
    store::maildir_store store{root / "mail", root / "queue", "mail.test"};
    asio::thread_pool workers{1};
    event_hook events;
    test_connection::services_type services{users,  trust,  store,
                                            workers, config, events};
    asio::io_context context;
    std::weak_ptr<test_connection> session;
};

asio::awaitable<void> send(transport::memory_transport& end,
                           std::string_view bytes)
{
    std::error_code ec;
    co_await end.write(asio::buffer(bytes.data(), bytes.size()), ec);
    BOOST_REQUIRE(!ec);
}

// Reads until `count` reply lines have arrived, or the peer closes.
asio::awaitable<std::string> read_lines(transport::memory_transport& end,
                                        std::size_t count)
{
    std::string text;
    while (static_cast<std::size_t>(
               std::count(text.begin(), text.end(), '\n')) < count) {
        char buffer[1024];
        std::error_code ec;
        auto n = co_await end.read_some(asio::buffer(buffer), ec);
        if (ec)
            break;
        text.append(buffer, n);
    }
    co_return text;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(connection, fixture)

BOOST_AUTO_TEST_CASE(pipelined_transaction_delivers)
{
    std::string replies;
    run([&](transport::memory_transport& end) -> asio::awaitable<void> {
        replies += co_await read_lines(end, 1);
        co_await send(end, "EHLO client.example\r\n"
                           "AUTH PLAIN AGFsaWNlAGNvcnJlY3QgaG9yc2U=\r\n"
                           "MAIL FROM:<alice@mail.test>\r\n"
                           "RCPT TO:<alice@mail.test>\r\n"
                           "RCPT TO:<nobody@mail.test>\r\n"
                           "DATA\r\n");
        replies += co_await read_lines(end, 13);
        co_await send(end, "Subject: hi\r\n\r\n..dot\r\n.\r\nQUIT\r\n");
        replies += co_await read_lines(end, 2);
    });

    BOOST_TEST(replies == "220 mail.test ESMTP Postern ready\r\n"
                          "250-mail.test greets client.example\r\n"
                          "250-PIPELINING\r\n"
                          "250-SIZE 36700160\r\n"
                          "250-8BITMIME\r\n"
                          "250-ENHANCEDSTATUSCODES\r\n"
                          "250-AUTH PLAIN LOGIN\r\n"
                          "250-AUTH=PLAIN LOGIN\r\n"
                          "250 HELP\r\n"
                          "235 2.7.0 Authentication successful\r\n"
                          "250 2.1.0 Sender OK\r\n"
                          "250 2.1.5 Recipient OK\r\n"
                          "550 5.1.1 Mailbox unavailable: user unknown\r\n"
                          "354 End data with <CR><LF>.<CR><LF>\r\n"
                          "250 2.0.0 Message accepted for delivery\r\n"
                          "221 2.0.0 mail.test closing connection\r\n");

    auto stored = read_new_file("alice");
    BOOST_TEST(stored.starts_with("Return-Path: <alice@mail.test>\n"
                                  "Received: from client.example "
                                  "([127.0.0.1])\n"
                                  "\tby mail.test (Postern) with ESMTPA\n"
                                  "\t(authenticated as alice)\n"
                                  "\tid t1.1\n"
                                  "\tfor <alice@mail.test>; "));
    BOOST_TEST(stored.ends_with("\nSubject: hi\n\n.dot\n"));
}

BOOST_AUTO_TEST_CASE(relay_denied_without_trust)
{
    std::string replies;
    run([&](transport::memory_transport& end) -> asio::awaitable<void> {
        co_await read_lines(end, 1);
        co_await send(end, "HELO client.example\r\n"
                           "MAIL FROM:<>\r\n"
                           "RCPT TO:<bob@elsewhere.example>\r\n"
                           "QUIT\r\n");
        replies = co_await read_lines(end, 4);
    });
    BOOST_TEST(replies == "250 mail.test\r\n"
                          "250 2.1.0 Sender OK\r\n"
                          "554 5.7.1 Relaying denied\r\n"
                          "221 2.0.0 mail.test closing connection\r\n");
}

BOOST_AUTO_TEST_CASE(stop_while_idle_sends_421)
{
    std::string replies;
    run([&](transport::memory_transport& end) -> asio::awaitable<void> {
        co_await read_lines(end, 1);
        co_await send(end, "HELO client.example\r\n");
        co_await read_lines(end, 1);
        session.lock()->request_stop();
        replies = co_await read_lines(end, 2);
    });
    BOOST_TEST(replies == "421 4.3.2 Service shutting down\r\n");
}

BOOST_AUTO_TEST_CASE(idle_client_times_out)
{
    config.command_timeout = 1s;
    std::string replies;
    run([&](transport::memory_transport& end) -> asio::awaitable<void> {
        co_await read_lines(end, 1);
        replies = co_await read_lines(end, 2);
    });
    BOOST_TEST(replies == "421 4.4.2 Timeout, closing connection\r\n");
}

BOOST_AUTO_TEST_CASE(client_closing_mid_data_stores_nothing)
{
    run([&](transport::memory_transport& end) -> asio::awaitable<void> {
        co_await read_lines(end, 1);
        co_await send(end, "HELO client.example\r\n"
                           "MAIL FROM:<>\r\n"
                           "RCPT TO:<alice@mail.test>\r\n"
                           "DATA\r\n");
        co_await read_lines(end, 4);
        co_await send(end, "Subject: cut short\r\n");
        end.close();
    });
    auto folder = root / "mail" / "alice" / "new";
    bool empty = !std::filesystem::exists(folder) ||
                 std::filesystem::is_empty(folder);
    BOOST_TEST(empty);
}

BOOST_AUTO_TEST_SUITE_END()
