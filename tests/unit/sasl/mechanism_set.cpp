#include <postern/sasl/mechanism_set.hpp>

#include "test_printing.hpp"

#include <postern/sasl/login.hpp>
#include <postern/sasl/plain.hpp>
#include <postern/sasl/scram.hpp>

#include <boost/test/unit_test.hpp>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using postern::directory::secret_kind;
using postern::sasl::availability;
using postern::sasl::availability_map;
using postern::sasl::failure_reason;
using postern::sasl::step;
using postern::sasl::step_kind;

// A stand-in for a mechanism that needs stored SCRAM credentials, so that
// offered() can be tested against a directory that lacks them.
class fake_scram {
public:
    static constexpr std::string_view name = "SCRAM-SHA-256";
    static constexpr secret_kind needs = secret_kind::scram_sha256;

    explicit fake_scram(const postern::sasl::context&) {}

    step start(std::optional<std::string_view>)
    {
        step lookup;
        lookup.kind = step_kind::lookup_credentials;
        lookup.authcid = "alice";
        return lookup;
    }
    step respond(std::string_view) { return step::make_challenge("r"); }
    step verified(bool) { return step::make_failure(failure_reason::none); }
    step found(const postern::directory::credentials* credentials)
    {
        return step::make_failure(credentials
                                      ? failure_reason::none
                                      : failure_reason::invalid_credentials);
    }
};

static_assert(postern::sasl::mechanism<fake_scram>);

using plain_login =
    postern::sasl::mechanism_set<postern::sasl::plain, postern::sasl::login>;
using scram_login_plain =
    postern::sasl::mechanism_set<fake_scram, postern::sasl::login,
                                 postern::sasl::plain>;
using empty_set = postern::sasl::mechanism_set<>;

static_assert(postern::sasl::is_mechanism_set_v<plain_login>);
static_assert(postern::sasl::mechanism_set_type<empty_set>);
static_assert(!postern::sasl::is_mechanism_set_v<postern::sasl::plain>);
static_assert(!postern::sasl::mechanism_set_type<int>);

static_assert(postern::sasl::detail::names_are_distinct(
    std::array<std::string_view, 2>{"PLAIN", "LOGIN"}));
static_assert(!postern::sasl::detail::names_are_distinct(
    std::array<std::string_view, 3>{"PLAIN", "LOGIN", "plain"}));

const postern::sasl::context plaintext{"mail.example.com", false};

auto supplies_only(secret_kind supported)
{
    return [supported](secret_kind kind) { return kind == supported; };
}

auto supplies_all()
{
    return [](secret_kind) { return true; };
}

} // namespace

BOOST_AUTO_TEST_SUITE(mechanism_set_tests)

BOOST_AUTO_TEST_CASE(mechanism_set_lists_names_in_order)
{
    BOOST_TEST_REQUIRE(plain_login::names.size() == 2u);
    BOOST_TEST(plain_login::names[0] == "PLAIN");
    BOOST_TEST(plain_login::names[1] == "LOGIN");

    BOOST_TEST_REQUIRE(scram_login_plain::names.size() == 3u);
    BOOST_TEST(scram_login_plain::names[0] == "SCRAM-SHA-256");
    BOOST_TEST(scram_login_plain::names[1] == "LOGIN");
    BOOST_TEST(scram_login_plain::names[2] == "PLAIN");

    BOOST_TEST(empty_set::names.empty());
}

BOOST_AUTO_TEST_CASE(mechanism_set_contains_ignores_case)
{
    struct contains_case {
        std::string_view name;
        bool expected;
    };
    const contains_case cases[] = {
        {"PLAIN", true},   {"plain", true},    {"Login", true},
        {"CRAM-MD5", false}, {"PLAINX", false}, {"PLAI", false},
        {"", false},       {"SCRAM-SHA-256", false},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT('"' << c.name << '"')
        {
            BOOST_TEST(plain_login::contains(c.name) == c.expected);
        }
    }
    BOOST_TEST(!empty_set::contains("PLAIN"));
}

BOOST_AUTO_TEST_CASE(mechanism_set_create_rejects_unknown_name)
{
    BOOST_TEST(!plain_login::create("CRAM-MD5", plaintext).has_value());
    BOOST_TEST(!plain_login::create("", plaintext).has_value());
    BOOST_TEST(!empty_set::create("PLAIN", plaintext).has_value());
}

BOOST_AUTO_TEST_CASE(mechanism_set_runs_login_exchange)
{
    auto exchange = plain_login::create("login", plaintext);
    BOOST_TEST_REQUIRE(exchange.has_value());
    BOOST_TEST(exchange->name() == "LOGIN");
    BOOST_TEST(exchange->needs() == secret_kind::password_verifier);

    const auto user_prompt = exchange->start(std::nullopt);
    BOOST_TEST(user_prompt.kind == step_kind::challenge);
    BOOST_TEST(user_prompt.data == "Username:");
    BOOST_TEST(exchange->respond("alice").data == "Password:");

    const auto verify = exchange->respond("pw");
    BOOST_TEST_REQUIRE(verify.kind == step_kind::verify_password);
    BOOST_TEST(verify.authcid == "alice");

    const auto outcome = exchange->verified(true);
    BOOST_TEST(outcome.kind == step_kind::success);
    BOOST_TEST(outcome.authcid == "alice");
}

BOOST_AUTO_TEST_CASE(mechanism_set_runs_plain_exchange)
{
    auto exchange = plain_login::create("PLAIN", plaintext);
    BOOST_TEST_REQUIRE(exchange.has_value());
    BOOST_TEST(exchange->name() == "PLAIN");

    const auto verify =
        exchange->start(std::string("\0tim\0tanstaaf", 13));
    BOOST_TEST_REQUIRE(verify.kind == step_kind::verify_password);
    BOOST_TEST(verify.authcid == "tim");
    BOOST_TEST(verify.password.view() == "tanstaaf");

    const auto outcome = exchange->verified(false);
    BOOST_TEST(outcome.kind == step_kind::failure);
    BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
}

BOOST_AUTO_TEST_CASE(mechanism_set_forwards_found)
{
    auto exchange = scram_login_plain::create("scram-sha-256", plaintext);
    BOOST_TEST_REQUIRE(exchange.has_value());
    BOOST_TEST(exchange->name() == "SCRAM-SHA-256");
    BOOST_TEST(exchange->needs() == secret_kind::scram_sha256);
    BOOST_TEST(exchange->start(std::nullopt).kind ==
               step_kind::lookup_credentials);
    BOOST_TEST(exchange->found(nullptr).reason ==
               failure_reason::invalid_credentials);
}

BOOST_AUTO_TEST_CASE(mechanism_set_offers_by_availability)
{
    availability_map map;
    map.set("PLAIN", availability::tls);
    map.set("LOGIN", availability::allow);

    const std::vector<std::string_view> on_plaintext{"LOGIN"};
    const std::vector<std::string_view> on_tls{"PLAIN", "LOGIN"};
    BOOST_TEST(plain_login::offered(map, false, supplies_all()) ==
                   on_plaintext,
               boost::test_tools::per_element());
    BOOST_TEST(plain_login::offered(map, true, supplies_all()) == on_tls,
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(mechanism_set_offers_in_set_order)
{
    availability_map map;
    map.set("PLAIN", availability::allow);
    map.set("LOGIN", availability::allow);
    map.set("SCRAM-SHA-256", availability::allow);

    const std::vector<std::string_view> expected{"SCRAM-SHA-256", "LOGIN",
                                                 "PLAIN"};
    const auto offered =
        scram_login_plain::offered(map, false, supplies_all());
    BOOST_TEST(offered == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(mechanism_set_offers_only_supplied_secrets)
{
    availability_map map;
    map.set("PLAIN", availability::allow);
    map.set("LOGIN", availability::allow);
    map.set("SCRAM-SHA-256", availability::allow);

    const std::vector<std::string_view> verifier_only{"LOGIN", "PLAIN"};
    const auto with_verifiers = scram_login_plain::offered(
        map, true, supplies_only(secret_kind::password_verifier));
    BOOST_TEST(with_verifiers == verifier_only,
               boost::test_tools::per_element());

    const std::vector<std::string_view> scram_only{"SCRAM-SHA-256"};
    const auto with_scram = scram_login_plain::offered(
        map, true, supplies_only(secret_kind::scram_sha256));
    BOOST_TEST(with_scram == scram_only, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(mechanism_set_ignores_mechanisms_outside_set)
{
    availability_map map;
    map.set("CRAM-MD5", availability::allow);
    map.set("PLAIN", availability::deny);
    map.set("LOGIN", availability::deny);

    BOOST_TEST(plain_login::offered(map, true, supplies_all()).empty());
    BOOST_TEST(empty_set::offered(map, true, supplies_all()).empty());
}

// An empty set compiles with every exchange call, although create() never
// returns an exchange for it.
BOOST_AUTO_TEST_CASE(mechanism_set_empty_has_no_exchange)
{
    auto exchange = empty_set::create("PLAIN", plaintext);
    BOOST_TEST_REQUIRE(!exchange.has_value());
    if (exchange) {
        exchange->start(std::nullopt);
        exchange->respond("");
        exchange->verified(true);
        exchange->found(nullptr);
        BOOST_TEST(exchange->name().empty());
        BOOST_TEST(exchange->needs() == secret_kind::password_verifier);
    }
}

BOOST_AUTO_TEST_CASE(plus_variants_offered_only_over_tls)
{
    using set = postern::sasl::mechanism_set<postern::sasl::scram_sha256,
                                             postern::sasl::scram_sha256_plus>;
    postern::sasl::availability_map map;
    map.set("SCRAM-SHA-256", postern::sasl::availability::allow);
    map.set("SCRAM-SHA-256-PLUS", postern::sasl::availability::allow);
    auto all = [](postern::directory::secret_kind) { return true; };

    auto clear = set::offered(map, false, all);
    BOOST_TEST_REQUIRE(clear.size() == 1u);
    BOOST_TEST(clear[0] == "SCRAM-SHA-256");

    auto encrypted = set::offered(map, true, all);
    BOOST_TEST_REQUIRE(encrypted.size() == 2u);
    BOOST_TEST(encrypted[1] == "SCRAM-SHA-256-PLUS");

    auto exchange = set::create("SCRAM-SHA-256-PLUS", {});
    BOOST_TEST_REQUIRE(exchange.has_value());
    BOOST_TEST(exchange->needs_tls());
    BOOST_TEST(!set::create("SCRAM-SHA-256", {})->needs_tls());
}

BOOST_AUTO_TEST_SUITE_END()
