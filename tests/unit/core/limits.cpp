#include <postern/core/limits.hpp>

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(limits)

BOOST_AUTO_TEST_CASE(limits_match_rfc5321)
{
    BOOST_TEST(postern::command_line_limit == 512u);
    BOOST_TEST(postern::text_line_limit == 1000u);
    BOOST_TEST(postern::reply_line_limit == 512u);
}

BOOST_AUTO_TEST_SUITE_END()
