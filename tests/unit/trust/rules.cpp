#include <postern/trust/rules.hpp>

#include <boost/test/unit_test.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace {

using postern::trust::assumption;
using postern::trust::basis;
using postern::trust::client;
using postern::trust::network;
using postern::trust::rules;

static_assert(postern::trust::trust_policy<rules>);

asio::ip::address address(const char* text)
{
    return asio::ip::make_address(text);
}

network parse_network(std::string_view text)
{
    auto parsed = network::parse(text);
    BOOST_TEST_REQUIRE(parsed.has_value());
    return *parsed;
}

/// The assumed user for `client`, or "" when no assumption matches.
std::string assumed(const rules& policy, const asio::ip::address& client)
{
    return policy.assumed_user(client).value_or("");
}

struct parse_case {
    const char* label;
    std::string_view text;
    const char* address; ///< expected address, or nullptr for rejected
    unsigned prefix_length;
};

struct contains_case {
    const char* label;
    std::string_view network;
    const char* address;
    bool contained;
};

struct evaluate_case {
    const char* label;
    client peer;
    basis reason;
    std::string user;
};

} // namespace

// Prints a basis by name in failure messages.
template <>
struct boost::test_tools::tt_detail::print_log_value<basis> {
    void operator()(std::ostream& out, basis reason)
    {
        switch (reason) {
        case basis::none: out << "none"; return;
        case basis::listener: out << "listener"; return;
        case basis::assumption: out << "assumption"; return;
        case basis::authenticated: out << "authenticated"; return;
        }
        out << static_cast<int>(reason);
    }
};

BOOST_AUTO_TEST_SUITE(trust_rules)

BOOST_AUTO_TEST_CASE(network_parse_table)
{
    const parse_case cases[] = {
        {"IPv4 /24", "192.0.2.0/24", "192.0.2.0", 24},
        {"IPv4 host", "192.0.2.7", "192.0.2.7", 32},
        {"IPv4 /32", "192.0.2.7/32", "192.0.2.7", 32},
        {"IPv4 /0", "0.0.0.0/0", "0.0.0.0", 0},
        {"IPv4 /31", "192.0.2.6/31", "192.0.2.6", 31},
        {"IPv6 /32", "2001:db8::/32", "2001:db8::", 32},
        {"IPv6 loopback", "::1", "::1", 128},
        {"IPv6 /0", "::/0", "::", 0},
        {"IPv6 /127", "2001:db8::2/127", "2001:db8::2", 127},
        {"mapped /120", "::ffff:192.0.2.0/120", "192.0.2.0", 24},
        {"mapped host", "::ffff:192.0.2.7", "192.0.2.7", 32},
        {"IPv4 host bits", "192.0.2.1/24", nullptr, 0},
        {"IPv4 /0 host bits", "10.0.0.0/0", nullptr, 0},
        {"IPv6 host bits", "2001:db8::1/64", nullptr, 0},
        {"octet over 255", "300.1.1.1", nullptr, 0},
        {"IPv4 /33", "1.2.3.4/33", nullptr, 0},
        {"IPv6 /129", "::/129", nullptr, 0},
        {"empty prefix", "192.0.2.0/", nullptr, 0},
        {"negative prefix", "192.0.2.0/-1", nullptr, 0},
        {"plus prefix", "192.0.2.0/+24", nullptr, 0},
        {"leading zero prefix", "192.0.2.0/024", nullptr, 0},
        {"huge prefix", "192.0.2.0/4294967320", nullptr, 0},
        {"prefix with space", "192.0.2.0/24 ", nullptr, 0},
        {"two slashes", "192.0.2.0/24/8", nullptr, 0},
        {"no address", "/24", nullptr, 0},
        {"empty", "", nullptr, 0},
        {"three octets", "192.0.2", nullptr, 0},
        {"leading zero octet", "192.0.02.0", nullptr, 0},
        {"host name", "example.com", nullptr, 0},
        {"IPv6 zone", "fe80::1%1", nullptr, 0},
    };
    for (const auto& row : cases) {
        BOOST_TEST_CONTEXT(row.label)
        {
            auto parsed = network::parse(row.text);
            if (row.address == nullptr) {
                BOOST_TEST(!parsed.has_value());
                continue;
            }
            BOOST_TEST_REQUIRE(parsed.has_value());
            BOOST_TEST(parsed->address == address(row.address));
            BOOST_TEST(parsed->prefix_length == row.prefix_length);
        }
    }
}

BOOST_AUTO_TEST_CASE(network_contains_table)
{
    const contains_case cases[] = {
        {"IPv4 inside", "192.0.2.0/24", "192.0.2.7", true},
        {"IPv4 first", "192.0.2.0/24", "192.0.2.0", true},
        {"IPv4 last", "192.0.2.0/24", "192.0.2.255", true},
        {"IPv4 next network", "192.0.2.0/24", "192.0.3.0", false},
        {"IPv4 odd prefix in", "192.0.2.128/25", "192.0.2.200", true},
        {"IPv4 odd prefix out", "192.0.2.128/25", "192.0.2.127", false},
        {"IPv4 /20 in", "198.51.96.0/20", "198.51.111.1", true},
        {"IPv4 /20 out", "198.51.96.0/20", "198.51.112.1", false},
        {"IPv4 host match", "192.0.2.7", "192.0.2.7", true},
        {"IPv4 host other", "192.0.2.7", "192.0.2.8", false},
        {"IPv4 /0", "0.0.0.0/0", "203.0.113.9", true},
        {"mapped client", "192.0.2.0/24", "::ffff:192.0.2.7", true},
        {"mapped client out", "192.0.2.0/24", "::ffff:192.0.3.7", false},
        {"mapped client /0", "0.0.0.0/0", "::ffff:203.0.113.9", true},
        {"mapped network", "::ffff:192.0.2.0/120", "192.0.2.9", true},
        {"IPv6 inside", "2001:db8::/32", "2001:db8:1::5", true},
        {"IPv6 outside", "2001:db8::/32", "2001:db9::5", false},
        {"IPv6 odd prefix", "2001:db8:8000::/33", "2001:db8:ffff::1", true},
        {"IPv6 odd prefix out", "2001:db8:8000::/33", "2001:db8:7fff::1",
         false},
        {"IPv6 loopback", "::1", "::1", true},
        {"IPv6 /0", "::/0", "2001:db8::1", true},
        {"IPv4 client, IPv6 /0", "::/0", "192.0.2.7", false},
        {"IPv6 client, IPv4 /0", "0.0.0.0/0", "2001:db8::1", false},
        {"IPv4-compatible is not mapped", "192.0.2.0/24", "::192.0.2.7",
         false},
    };
    for (const auto& row : cases) {
        BOOST_TEST_CONTEXT(row.label)
        {
            auto net = parse_network(row.network);
            BOOST_TEST(net.contains(address(row.address)) == row.contained);
        }
    }
}

BOOST_AUTO_TEST_CASE(assumed_user_prefers_longest_prefix)
{
    const rules policy({
        {parse_network("192.0.2.0/24"), "office"},
        {parse_network("192.0.2.7"), "alice"},
        {parse_network("192.0.2.0/28"), "lab"},
        {parse_network("2001:db8::/32"), "v6"},
    });
    BOOST_TEST(assumed(policy, address("192.0.2.7")) == "alice");
    BOOST_TEST(assumed(policy, address("::ffff:192.0.2.7")) == "alice");
    BOOST_TEST(assumed(policy, address("192.0.2.8")) == "lab");
    BOOST_TEST(assumed(policy, address("192.0.2.100")) == "office");
    BOOST_TEST(assumed(policy, address("2001:db8::1")) == "v6");
    BOOST_TEST(!policy.assumed_user(address("198.51.100.1")).has_value());
    BOOST_TEST(!policy.assumed_user(address("::1")).has_value());
}

BOOST_AUTO_TEST_CASE(assumed_user_tie_takes_first)
{
    const rules policy({
        {parse_network("192.0.2.0/24"), "first"},
        {parse_network("192.0.2.0/24"), "second"},
    });
    BOOST_TEST(assumed(policy, address("192.0.2.1")) == "first");
}

BOOST_AUTO_TEST_CASE(evaluate_table)
{
    const rules policy({{parse_network("192.0.2.0/24"), "office"}});
    const auto assumed = address("192.0.2.7");
    const auto stranger = address("198.51.100.1");
    const evaluate_case cases[] = {
        {"stranger", {false, stranger, std::nullopt}, basis::none, ""},
        {"trusted listener", {true, stranger, std::nullopt}, basis::listener,
         ""},
        {"assumed address", {false, assumed, std::nullopt},
         basis::assumption, "office"},
        {"assumption beats listener", {true, assumed, std::nullopt},
         basis::assumption, "office"},
        {"mapped assumed address",
         {false, address("::ffff:192.0.2.7"), std::nullopt},
         basis::assumption, "office"},
        {"authenticated", {false, stranger, "alice"}, basis::authenticated,
         "alice"},
        {"authentication beats assumption", {false, assumed, "alice"},
         basis::authenticated, "alice"},
        {"authentication beats listener", {true, stranger, "alice"},
         basis::authenticated, "alice"},
    };
    for (const auto& row : cases) {
        BOOST_TEST_CONTEXT(row.label)
        {
            auto result = policy.evaluate(row.peer);
            BOOST_TEST(result.reason == row.reason);
            BOOST_TEST(result.user == row.user);
            BOOST_TEST(result.may_relay() == (row.reason != basis::none));
        }
    }
}

BOOST_AUTO_TEST_CASE(evaluate_without_assumptions)
{
    const rules policy;
    BOOST_TEST(!policy.evaluate({false, address("192.0.2.7"), std::nullopt})
                    .may_relay());
    BOOST_TEST(policy.evaluate({true, address("::1"), std::nullopt})
                   .may_relay());
}

BOOST_AUTO_TEST_SUITE_END()
