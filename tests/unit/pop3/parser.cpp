#include <postern/pop3/parser.hpp>

#include <boost/test/unit_test.hpp>

#include <string_view>

using namespace postern::pop3;

BOOST_AUTO_TEST_SUITE(parser)

BOOST_AUTO_TEST_CASE(command_keywords_and_arguments)
{
    struct row {
        std::string_view label;
        std::string_view line;
        verb name;
        std::string_view argument;
    };
    const row rows[] = {
        {"user", "USER alice", verb::user, "alice"},
        {"lower case", "user alice", verb::user, "alice"},
        {"pass keeps spaces", "PASS a b  c", verb::pass, "a b  c"},
        {"apop", "APOP mrose c4c9", verb::apop, "mrose c4c9"},
        {"top", "TOP 1 10", verb::top, "1 10"},
        {"no argument", "STAT", verb::stat, ""},
        {"capa", "capa", verb::capa, ""},
        {"unknown", "XTND XMIT", verb::unknown, "XMIT"},
        {"prefix", "STATS", verb::unknown, ""},
        {"empty", "", verb::unknown, ""},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.label)
        {
            auto c = parse_command(r.line);
            BOOST_TEST((c.name == r.name));
            BOOST_TEST(c.argument == r.argument);
        }
    }
}

BOOST_AUTO_TEST_CASE(message_numbers)
{
    BOOST_TEST(*parse_message_number("1") == 1u);
    BOOST_TEST(*parse_message_number("123456789") == 123456789u);
    const std::string_view bad[] = {"", "0", "01", "-1", "+1", "1a",
                                    "1234567890", " 1"};
    for (auto text : bad)
        BOOST_TEST_CONTEXT(text)
        {
            BOOST_TEST(!parse_message_number(text).has_value());
        }
}

BOOST_AUTO_TEST_CASE(line_counts)
{
    BOOST_TEST(*parse_line_count("0") == 0u);
    BOOST_TEST(*parse_line_count("10") == 10u);
    BOOST_TEST(*parse_line_count("99999999999999999999999") == SIZE_MAX);
    BOOST_TEST(!parse_line_count("").has_value());
    BOOST_TEST(!parse_line_count("-1").has_value());
    BOOST_TEST(!parse_line_count("1x").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
