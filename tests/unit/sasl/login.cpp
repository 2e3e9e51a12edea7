#include <postern/sasl/login.hpp>

#include "test_printing.hpp"

#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>

namespace {

using postern::sasl::failure_reason;
using postern::sasl::login;
using postern::sasl::step_kind;

static_assert(postern::sasl::mechanism<login>);

const postern::sasl::context connection{"mail.example.com", true};

} // namespace

BOOST_AUTO_TEST_SUITE(login_tests)

BOOST_AUTO_TEST_CASE(login_has_registered_name)
{
    BOOST_TEST(login::name == "LOGIN");
    BOOST_TEST(login::needs ==
               postern::directory::secret_kind::password_verifier);
}

BOOST_AUTO_TEST_CASE(login_prompts_for_user_then_password)
{
    login mechanism(connection);
    const auto user_prompt = mechanism.start(std::nullopt);
    BOOST_TEST(user_prompt.kind == step_kind::challenge);
    BOOST_TEST(user_prompt.data == "Username:");

    const auto password_prompt = mechanism.respond("alice");
    BOOST_TEST(password_prompt.kind == step_kind::challenge);
    BOOST_TEST(password_prompt.data == "Password:");

    const auto verify = mechanism.respond("s3cret");
    BOOST_TEST_REQUIRE(verify.kind == step_kind::verify_password);
    BOOST_TEST(verify.authcid == "alice");
    BOOST_TEST(verify.authzid.empty());
    BOOST_TEST(verify.password.view() == "s3cret");

    const auto outcome = mechanism.verified(true);
    BOOST_TEST(outcome.kind == step_kind::success);
    BOOST_TEST(outcome.authcid == "alice");
    BOOST_TEST(outcome.authzid.empty());
}

BOOST_AUTO_TEST_CASE(login_takes_initial_response_as_user)
{
    login mechanism(connection);
    const auto password_prompt = mechanism.start("alice");
    BOOST_TEST(password_prompt.kind == step_kind::challenge);
    BOOST_TEST(password_prompt.data == "Password:");

    const auto verify = mechanism.respond("s3cret");
    BOOST_TEST_REQUIRE(verify.kind == step_kind::verify_password);
    BOOST_TEST(verify.authcid == "alice");
    BOOST_TEST(verify.password.view() == "s3cret");

    BOOST_TEST(mechanism.verified(true).kind == step_kind::success);
}

BOOST_AUTO_TEST_CASE(login_rejects_wrong_password)
{
    login mechanism(connection);
    BOOST_TEST(mechanism.start("alice").kind == step_kind::challenge);
    BOOST_TEST(mechanism.respond("wrong").kind == step_kind::verify_password);

    const auto outcome = mechanism.verified(false);
    BOOST_TEST(outcome.kind == step_kind::failure);
    BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
}

BOOST_AUTO_TEST_CASE(login_rejects_empty_user_name)
{
    login initial(connection);
    const auto from_initial = initial.start(std::string());
    BOOST_TEST(from_initial.kind == step_kind::failure);
    BOOST_TEST(from_initial.reason == failure_reason::malformed);

    login prompted(connection);
    BOOST_TEST(prompted.start(std::nullopt).kind == step_kind::challenge);
    const auto from_response = prompted.respond("");
    BOOST_TEST(from_response.kind == step_kind::failure);
    BOOST_TEST(from_response.reason == failure_reason::malformed);
}

BOOST_AUTO_TEST_CASE(login_bounds_field_length)
{
    struct length_case {
        const char* label;
        std::string user;
        std::string password;
        step_kind expected;
    };
    const length_case cases[] = {
        {"255-octet fields", std::string(255, 'u'), std::string(255, 'p'),
         step_kind::verify_password},
        {"256-octet user name", std::string(256, 'u'), "pw",
         step_kind::failure},
        {"256-octet password", "alice", std::string(256, 'p'),
         step_kind::failure},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            login mechanism(connection);
            mechanism.start(std::nullopt);
            mechanism.respond(c.user);
            BOOST_TEST(mechanism.respond(c.password).kind == c.expected);
        }
    }
}

BOOST_AUTO_TEST_CASE(login_rejects_calls_out_of_order)
{
    login not_started(connection);
    BOOST_TEST(not_started.respond("alice").reason ==
               failure_reason::malformed);

    login started_twice(connection);
    BOOST_TEST(started_twice.start(std::nullopt).kind == step_kind::challenge);
    BOOST_TEST(started_twice.start("alice").reason ==
               failure_reason::malformed);

    login early_verdict(connection);
    BOOST_TEST(early_verdict.start("alice").kind == step_kind::challenge);
    BOOST_TEST(early_verdict.verified(true).reason ==
               failure_reason::malformed);

    login awaiting_verification(connection);
    awaiting_verification.start("alice");
    BOOST_TEST(awaiting_verification.respond("pw").kind ==
               step_kind::verify_password);
    BOOST_TEST(awaiting_verification.respond("again").reason ==
               failure_reason::malformed);

    login finished(connection);
    finished.start("alice");
    finished.respond("pw");
    BOOST_TEST(finished.verified(true).kind == step_kind::success);
    BOOST_TEST(finished.verified(true).reason == failure_reason::malformed);
    BOOST_TEST(finished.respond("pw").reason == failure_reason::malformed);

    login looked_up(connection);
    BOOST_TEST(looked_up.found(nullptr).reason == failure_reason::malformed);
}

BOOST_AUTO_TEST_SUITE_END()
