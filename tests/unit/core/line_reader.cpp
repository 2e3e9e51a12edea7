#include <postern/core/line_reader.hpp>

#include <postern/core/limits.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

// Lets Boost.Test print line_reader::status in failure messages.
std::ostream& boost_test_print_type(std::ostream& out,
                                    line_reader::status state)
{
    switch (state) {
    case line_reader::status::complete: return out << "complete";
    case line_reader::status::incomplete: return out << "incomplete";
    case line_reader::status::too_long: return out << "too_long";
    }
    return out;
}

} // namespace postern

namespace {

using postern::line_reader;
using status = line_reader::status;

// A complete line or a too_long report, as next_line() returns it.
struct line_event {
    status state;
    std::string text;

    bool operator==(const line_event&) const = default;
};

std::ostream& operator<<(std::ostream& out, const line_event& event)
{
    postern::boost_test_print_type(out, event.state);
    if (event.state == status::complete)
        out << " \"" << event.text << '"';
    return out;
}

void drain(line_reader& reader, std::size_t limit,
           std::vector<line_event>& events)
{
    for (;;) {
        const auto result = reader.next_line(limit);
        if (result.state == status::incomplete)
            return;
        events.push_back({result.state, std::string(result.text)});
    }
}

// Feeds each chunk as a driver would: into prepare(), as much as fits,
// reading lines after every commit.
std::vector<line_event> feed(line_reader& reader, std::size_t limit,
                             const std::vector<std::string>& chunks)
{
    std::vector<line_event> events;
    for (std::string_view chunk : chunks) {
        while (!chunk.empty()) {
            const auto space = reader.prepare();
            BOOST_TEST_REQUIRE(!space.empty());
            const std::size_t n = std::min(space.size(), chunk.size());
            std::copy_n(chunk.data(), n, space.data());
            reader.commit(n);
            chunk.remove_prefix(n);
            drain(reader, limit, events);
        }
    }
    return events;
}

line_event complete(std::string text)
{
    return {status::complete, std::move(text)};
}

const line_event too_long{status::too_long, {}};

} // namespace

BOOST_AUTO_TEST_SUITE(line_reader_tests)

BOOST_AUTO_TEST_CASE(line_reader_splits_input)
{
    struct split_case {
        const char* label;
        std::size_t capacity;
        std::size_t limit;
        std::vector<std::string> chunks;
        std::vector<line_event> expected;
    };
    const std::string hundred_x(100, 'x');
    const split_case cases[] = {
        {"single line", 64, 64, {"HELO a\r\n"}, {complete("HELO a")}},
        {"empty line", 64, 64, {"\r\n"}, {complete("")}},
        {"no CRLF yet", 64, 64, {"NOOP"}, {}},
        {"CR and LF in separate commits", 64, 64, {"NOOP\r", "\n"},
         {complete("NOOP")}},
        {"one octet per commit", 64, 64, {"Q", "U", "I", "T", "\r", "\n"},
         {complete("QUIT")}},
        {"pipelined lines in one commit", 64, 64,
         {"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"},
         {complete("MAIL FROM:<a@b>"), complete("RCPT TO:<c@d>"),
          complete("DATA")}},
        {"line split across commits", 64, 64, {"RC", "PT TO:<a>\r\nDA",
                                               "TA\r\n"},
         {complete("RCPT TO:<a>"), complete("DATA")}},
        {"bare LF stays in the text", 64, 64, {"a\nb\r\n"},
         {complete("a\nb")}},
        {"bare CR stays in the text", 64, 64, {"a\rb\r\n"},
         {complete("a\rb")}},
        {"CR before CRLF stays in the text", 64, 64, {"a\r\r\n"},
         {complete("a\r")}},
        {"LF before CR is not CRLF", 64, 64, {"a\n\rb\r\n"},
         {complete("a\n\rb")}},
        {"line of exactly the limit", 16, 10, {"12345678\r\n"},
         {complete("12345678")}},
        {"limit with CR at the boundary of a commit", 16, 10,
         {"12345678\r", "\nX\r\n"}, {complete("12345678"), complete("X")}},
        {"limit plus one in one commit", 16, 10, {"123456789\r\nOK\r\n"},
         {too_long, complete("OK")}},
        {"limit plus one across commits", 16, 10, {"123456789", "\r\nOK\r\n"},
         {too_long, complete("OK")}},
        {"limit octets without CRLF", 16, 10, {"1234567890", "ab\r\nOK\r\n"},
         {too_long, complete("OK")}},
        {"CRLF split while skipping", 16, 10, {"1234567890ab\r", "\nOK\r\n"},
         {too_long, complete("OK")}},
        {"overlong line larger than the buffer", 16, 10,
         {hundred_x, "\r\nOK\r\n"}, {too_long, complete("OK")}},
        {"two overlong lines", 16, 10,
         {hundred_x + "\r\n", hundred_x + "\r\nOK\r\n"},
         {too_long, too_long, complete("OK")}},
        {"buffer as small as the limit", 10, 10,
         {"12345678\r\n12345678\r\n"},
         {complete("12345678"), complete("12345678")}},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            line_reader reader(c.capacity);
            const auto events = feed(reader, c.limit, c.chunks);
            BOOST_TEST(events == c.expected, boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(line_reader_accepts_text_line_limit)
{
    line_reader reader(postern::text_line_limit);
    const std::string text(postern::text_line_limit - 2, 'a');
    const auto events = feed(reader, postern::text_line_limit,
                             {text + "\r\n", text + "a\r\n"});
    BOOST_TEST_REQUIRE(events.size() == 2u);
    BOOST_TEST(events[0] == complete(text));
    BOOST_TEST(events[1] == too_long);
}

BOOST_AUTO_TEST_CASE(line_reader_prepare_compacts_consumed_bytes)
{
    line_reader reader(8);
    auto space = reader.prepare();
    BOOST_TEST_REQUIRE(space.size() == 8u);
    std::copy_n("ab\r\ncd", 6, space.data());
    reader.commit(6);
    BOOST_TEST(reader.buffered() == 6u);

    const auto line = reader.next_line(8);
    BOOST_TEST(line.state == status::complete);
    BOOST_TEST(line.text == "ab");
    BOOST_TEST(reader.buffered() == 2u);
    BOOST_TEST(reader.prepare().size() == 6u);
}

BOOST_AUTO_TEST_CASE(line_reader_prepare_empty_when_full)
{
    line_reader reader(4);
    auto space = reader.prepare();
    std::copy_n("abcd", 4, space.data());
    reader.commit(4);
    BOOST_TEST(reader.prepare().empty());
    BOOST_TEST(reader.buffered() == 4u);
}

// A client may pipeline commands after STARTTLS in plaintext. The driver
// reads STARTTLS, then discards the rest before the TLS handshake.
BOOST_AUTO_TEST_CASE(line_reader_discard_drops_pipelined_input)
{
    line_reader reader(64);
    auto space = reader.prepare();
    const std::string_view input = "STARTTLS\r\nMAIL FROM:<evil>\r\nRS";
    std::copy_n(input.data(), input.size(), space.data());
    reader.commit(input.size());

    const auto first = reader.next_line(64);
    BOOST_TEST(first.state == status::complete);
    BOOST_TEST(first.text == "STARTTLS");

    reader.discard_buffered();
    BOOST_TEST(reader.buffered() == 0u);
    BOOST_TEST(reader.next_line(64).state == status::incomplete);

    const auto events = feed(reader, 64, {"EHLO a\r\n"});
    BOOST_TEST_REQUIRE(events.size() == 1u);
    BOOST_TEST(events[0] == complete("EHLO a"));
}

BOOST_AUTO_TEST_CASE(line_reader_discard_ends_skipping)
{
    line_reader reader(16);
    auto events = feed(reader, 10, {"1234567890"});
    BOOST_TEST_REQUIRE(events.size() == 1u);
    BOOST_TEST(events[0] == too_long);

    reader.discard_buffered();
    events = feed(reader, 10, {"EHLO\r\n"});
    BOOST_TEST_REQUIRE(events.size() == 1u);
    BOOST_TEST(events[0] == complete("EHLO"));
}

BOOST_AUTO_TEST_CASE(line_reader_keeps_partial_line_buffered)
{
    line_reader reader(16);
    const auto events = feed(reader, 16, {"OK\r\nNOO"});
    BOOST_TEST_REQUIRE(events.size() == 1u);
    BOOST_TEST(reader.buffered() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
