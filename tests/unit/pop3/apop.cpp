#include <postern/pop3/apop.hpp>

#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

using namespace postern::pop3;

namespace {

nlohmann::json load_vectors()
{
    const char* folder = std::getenv("POSTERN_TEST_DATA");
    BOOST_REQUIRE_MESSAGE(folder, "POSTERN_TEST_DATA is not set");
    std::ifstream in(std::string(folder) + "/rfc1939-apop.json");
    BOOST_REQUIRE(in);
    return nlohmann::json::parse(in);
}

} // namespace

BOOST_AUTO_TEST_SUITE(apop)

BOOST_AUTO_TEST_CASE(digest_matches_rfc1939_example)
{
    auto v = load_vectors();
    auto timestamp = v["timestamp"].get<std::string>();
    auto secret = v["secret"].get<std::string>();
    auto digest = v["digest_hex"].get<std::string>();

    BOOST_TEST(apop_digest(timestamp, secret) == digest);
    BOOST_TEST(apop_matches(timestamp, secret, digest));
}

BOOST_AUTO_TEST_CASE(matches_rejects_wrong_digests)
{
    const std::string timestamp = "<1896.697170952@dbc.mtview.ca.us>";
    BOOST_TEST(apop_matches(timestamp, "tanstaaf",
                            "C4C9334BAC560ECC979E58001B3E22FB"));
    BOOST_TEST(!apop_matches(timestamp, "tanstaaf", ""));
    BOOST_TEST(!apop_matches(timestamp, "tanstaaf",
                             "c4c9334bac560ecc979e58001b3e22f"));
    BOOST_TEST(!apop_matches(timestamp, "tanstaaf",
                             "c4c9334bac560ecc979e58001b3e22fc"));
    BOOST_TEST(!apop_matches(timestamp, "wrong",
                             "c4c9334bac560ecc979e58001b3e22fb"));
}

BOOST_AUTO_TEST_CASE(timestamps_are_unique_and_named)
{
    auto first = make_apop_timestamp("mail.test");
    auto second = make_apop_timestamp("mail.test");
    BOOST_TEST(first != second);
    BOOST_TEST(first.front() == '<');
    BOOST_TEST(first.ends_with("@mail.test>"));
}

BOOST_AUTO_TEST_SUITE_END()
