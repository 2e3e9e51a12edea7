#include <postern/sasl/availability.hpp>

#include "test_printing.hpp"

#include <boost/test/unit_test.hpp>

#include <optional>
#include <string_view>

namespace {

using postern::sasl::availability;
using postern::sasl::availability_map;
using postern::sasl::parse_availability;

} // namespace

BOOST_AUTO_TEST_SUITE(availability_tests)

BOOST_AUTO_TEST_CASE(availability_parses_config_values)
{
    struct parse_case {
        std::string_view text;
        availability expected;
    };
    const parse_case cases[] = {
        {"deny", availability::deny},
        {"allow", availability::allow},
        {"tls", availability::tls},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.text)
        {
            const auto parsed = parse_availability(c.text);
            BOOST_TEST_REQUIRE(parsed.has_value());
            BOOST_TEST(*parsed == c.expected);
            BOOST_TEST(postern::sasl::to_string(c.expected) == c.text);
        }
    }
}

BOOST_AUTO_TEST_CASE(availability_rejects_other_values)
{
    const std::string_view cases[] = {
        "", "Deny", "TLS", "yes", "true", " tls", "tls ", "starttls",
    };
    for (std::string_view text : cases) {
        BOOST_TEST_CONTEXT('"' << text << '"')
        {
            BOOST_TEST(!parse_availability(text).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(availability_map_denies_unset_mechanism)
{
    const availability_map map;
    BOOST_TEST(map.get("PLAIN") == availability::deny);
    BOOST_TEST(!map.offered("PLAIN", false));
    BOOST_TEST(!map.offered("PLAIN", true));
    BOOST_TEST(map.entries().empty());
}

BOOST_AUTO_TEST_CASE(availability_map_ignores_name_case)
{
    availability_map map;
    map.set("cram-md5", availability::allow);
    BOOST_TEST(map.get("CRAM-MD5") == availability::allow);
    BOOST_TEST(map.get("Cram-Md5") == availability::allow);

    BOOST_TEST_REQUIRE(map.entries().size() == 1u);
    BOOST_TEST(map.entries().begin()->first == "CRAM-MD5");
}

BOOST_AUTO_TEST_CASE(availability_map_replaces_value)
{
    availability_map map;
    map.set("PLAIN", availability::allow);
    map.set("plain", availability::tls);
    BOOST_TEST(map.get("PLAIN") == availability::tls);
    BOOST_TEST(map.entries().size() == 1u);
}

BOOST_AUTO_TEST_CASE(availability_map_offers_by_encryption)
{
    struct offer_case {
        const char* label;
        availability value;
        bool encrypted;
        bool expected;
    };
    const offer_case cases[] = {
        {"allow, plaintext", availability::allow, false, true},
        {"allow, encrypted", availability::allow, true, true},
        {"tls, plaintext", availability::tls, false, false},
        {"tls, encrypted", availability::tls, true, true},
        {"deny, plaintext", availability::deny, false, false},
        {"deny, encrypted", availability::deny, true, false},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            availability_map map;
            map.set("LOGIN", c.value);
            BOOST_TEST(map.offered("LOGIN", c.encrypted) == c.expected);
        }
    }
}

BOOST_AUTO_TEST_CASE(availability_map_lists_entries_in_name_order)
{
    availability_map map;
    map.set("SCRAM-SHA-256", availability::allow);
    map.set("login", availability::tls);
    map.set("CRAM-MD5", availability::deny);

    const auto& entries = map.entries();
    BOOST_TEST_REQUIRE(entries.size() == 3u);
    auto entry = entries.begin();
    BOOST_TEST(entry->first == "CRAM-MD5");
    BOOST_TEST(entry->second == availability::deny);
    ++entry;
    BOOST_TEST(entry->first == "LOGIN");
    BOOST_TEST(entry->second == availability::tls);
    ++entry;
    BOOST_TEST(entry->first == "SCRAM-SHA-256");
    BOOST_TEST(entry->second == availability::allow);
}

BOOST_AUTO_TEST_SUITE_END()
