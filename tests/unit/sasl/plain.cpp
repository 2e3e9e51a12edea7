#include <postern/sasl/plain.hpp>

#include "test_printing.hpp"

#include <postern/core/base64.hpp>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace {

using postern::sasl::failure_reason;
using postern::sasl::plain;
using postern::sasl::step_kind;

static_assert(postern::sasl::mechanism<plain>);

const postern::sasl::context connection{"mail.example.com", true};

nlohmann::json load_vectors(const char* file_name)
{
    const char* directory = std::getenv("POSTERN_TEST_DATA");
    BOOST_TEST_REQUIRE(directory != nullptr);
    std::ifstream file(std::filesystem::path(directory) / file_name);
    BOOST_TEST_REQUIRE(file.is_open());
    return nlohmann::json::parse(file);
}

std::string from_hex(const std::string& hex)
{
    long length = 0;
    unsigned char* bytes = OPENSSL_hexstr2buf(hex.c_str(), &length);
    BOOST_TEST_REQUIRE(bytes != nullptr);
    std::string result(reinterpret_cast<const char*>(bytes),
                       static_cast<std::size_t>(length));
    OPENSSL_free(bytes);
    return result;
}

std::string message(std::string_view authzid, std::string_view authcid,
                    std::string_view passwd)
{
    std::string result(authzid);
    result += '\0';
    result += authcid;
    result += '\0';
    result += passwd;
    return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(plain_tests)

BOOST_AUTO_TEST_CASE(plain_has_registered_name)
{
    BOOST_TEST(plain::name == "PLAIN");
    BOOST_TEST(plain::needs ==
               postern::directory::secret_kind::password_verifier);
}

BOOST_AUTO_TEST_CASE(plain_runs_rfc4616_examples)
{
    const auto examples = load_vectors("rfc4616-plain.json").at("examples");
    BOOST_TEST_REQUIRE(examples.size() == 2u);
    for (const auto& example : examples) {
        const auto authzid = example.at("authzid").get<std::string>();
        const auto authcid = example.at("authcid").get<std::string>();
        const auto passwd = example.at("passwd").get<std::string>();
        const auto bytes = from_hex(example.at("message_hex"));
        BOOST_TEST_CONTEXT("authcid " << authcid)
        {
            const auto length = example.at("message_length").get<std::size_t>();
            BOOST_TEST(bytes.size() == length);
            BOOST_TEST(bytes == message(authzid, authcid, passwd));
            const auto decoded = postern::base64_decode(
                example.at("message_base64").get<std::string>());
            BOOST_TEST_REQUIRE(decoded.has_value());
            BOOST_TEST(*decoded == bytes);

            plain mechanism(connection);
            const auto verify = mechanism.start(bytes);
            BOOST_TEST_REQUIRE(verify.kind == step_kind::verify_password);
            BOOST_TEST(verify.authcid == authcid);
            BOOST_TEST(verify.authzid == authzid);
            BOOST_TEST(verify.password.view() == passwd);

            const auto outcome = mechanism.verified(true);
            if (example.at("server_accepts").get<bool>()) {
                BOOST_TEST(outcome.kind == step_kind::success);
                BOOST_TEST(outcome.authcid == authcid);
            } else {
                BOOST_TEST(outcome.kind == step_kind::failure);
                BOOST_TEST(outcome.reason == failure_reason::authzid_rejected);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(plain_sends_empty_challenge_without_initial_response)
{
    plain mechanism(connection);
    const auto challenge = mechanism.start(std::nullopt);
    BOOST_TEST(challenge.kind == step_kind::challenge);
    BOOST_TEST(challenge.data.empty());

    const auto verify = mechanism.respond(message("", "tim", "tanstaaf"));
    BOOST_TEST_REQUIRE(verify.kind == step_kind::verify_password);
    BOOST_TEST(verify.authcid == "tim");
    BOOST_TEST(verify.authzid.empty());
    BOOST_TEST(verify.password.view() == "tanstaaf");

    const auto outcome = mechanism.verified(true);
    BOOST_TEST(outcome.kind == step_kind::success);
    BOOST_TEST(outcome.authcid == "tim");
    BOOST_TEST(outcome.data.empty());
}

BOOST_AUTO_TEST_CASE(plain_rejects_wrong_password)
{
    plain mechanism(connection);
    const auto verify = mechanism.start(message("", "tim", "wrong"));
    BOOST_TEST_REQUIRE(verify.kind == step_kind::verify_password);

    const auto outcome = mechanism.verified(false);
    BOOST_TEST(outcome.kind == step_kind::failure);
    BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
}

// The authzid is checked only after the password, so a wrong password
// with a foreign authzid reports invalid credentials.
BOOST_AUTO_TEST_CASE(plain_checks_password_before_authzid)
{
    plain mechanism(connection);
    const auto verify = mechanism.start(message("Ursel", "Kurt", "wrong"));
    BOOST_TEST_REQUIRE(verify.kind == step_kind::verify_password);

    const auto outcome = mechanism.verified(false);
    BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
}

BOOST_AUTO_TEST_CASE(plain_accepts_authzid_equal_to_authcid)
{
    const std::string_view authzids[] = {"tim", "TIM", "Tim"};
    for (std::string_view authzid : authzids) {
        BOOST_TEST_CONTEXT("authzid " << authzid)
        {
            plain mechanism(connection);
            const auto verify = mechanism.start(message(authzid, "tim", "pw"));
            BOOST_TEST_REQUIRE(verify.kind == step_kind::verify_password);
            BOOST_TEST(verify.authzid == authzid);

            const auto outcome = mechanism.verified(true);
            BOOST_TEST(outcome.kind == step_kind::success);
            BOOST_TEST(outcome.authcid == "tim");
        }
    }
}

BOOST_AUTO_TEST_CASE(plain_accepts_valid_messages)
{
    struct accept_case {
        const char* label;
        std::string authzid;
        std::string authcid;
        std::string passwd;
    };
    const accept_case cases[] = {
        {"255-octet parts", std::string(255, 'z'), std::string(255, 'z'),
         std::string(255, 'p')},
        {"two-octet UTF-8", "", "J\xc3\xbcrgen", "pw"},
        {"four-octet UTF-8 password", "", "tim", "key\xf0\x9f\x94\x91"},
        {"U+10FFFF", "", "tim", "\xf4\x8f\xbf\xbf"},
        {"space and punctuation", "", "tim smith", " p@ss word! "},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            plain mechanism(connection);
            const auto verify =
                mechanism.start(message(c.authzid, c.authcid, c.passwd));
            BOOST_TEST_REQUIRE(verify.kind == step_kind::verify_password);
            BOOST_TEST(verify.authzid == c.authzid);
            BOOST_TEST(verify.authcid == c.authcid);
            BOOST_TEST(verify.password.view() == c.passwd);
        }
    }
}

BOOST_AUTO_TEST_CASE(plain_rejects_malformed_messages)
{
    struct reject_case {
        const char* label;
        std::string message;
    };
    const std::string long_part(256, 'a');
    const reject_case cases[] = {
        {"empty message", ""},
        {"missing separator", "timtanstaaf"},
        {"one separator", std::string("tim\0pw", 6)},
        {"three separators", std::string("\0tim\0pw\0", 8)},
        {"separator in password", std::string("\0tim\0p\0w", 8)},
        {"empty authcid", std::string("\0\0pw", 4)},
        {"empty password", std::string("\0tim\0", 5)},
        {"only separators", std::string("\0\0", 2)},
        {"256-octet authzid", message(long_part, "tim", "pw")},
        {"256-octet authcid", message("", long_part, "pw")},
        {"256-octet password", message("", "tim", long_part)},
        {"lone continuation octet", message("", "tim", "\x80")},
        {"truncated sequence", message("", "tim", "\xc3")},
        {"overlong slash", message("", "\xc0\xaftim", "pw")},
        {"overlong NUL", message("", "tim", "\xc0\x80")},
        {"UTF-16 surrogate", message("", "tim", "\xed\xa0\x80")},
        {"above U+10FFFF", message("", "tim", "\xf4\x90\x80\x80")},
        {"invalid lead octet", message("\xff", "tim", "pw")},
        {"Latin-1 authcid", message("", "J\xfcrgen", "pw")},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            plain mechanism(connection);
            const auto outcome = mechanism.start(c.message);
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason == failure_reason::malformed);
            BOOST_TEST(outcome.password.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(plain_rejects_calls_out_of_order)
{
    const std::string valid = message("", "tim", "pw");

    plain not_started(connection);
    BOOST_TEST(not_started.respond(valid).reason == failure_reason::malformed);

    plain unverified(connection);
    BOOST_TEST(unverified.verified(true).reason == failure_reason::malformed);

    plain started_twice(connection);
    BOOST_TEST(started_twice.start(std::nullopt).kind == step_kind::challenge);
    BOOST_TEST(started_twice.start(valid).reason == failure_reason::malformed);

    plain awaiting_verification(connection);
    BOOST_TEST(awaiting_verification.start(valid).kind ==
               step_kind::verify_password);
    BOOST_TEST(awaiting_verification.respond(valid).reason ==
               failure_reason::malformed);

    plain finished(connection);
    BOOST_TEST(finished.start(valid).kind == step_kind::verify_password);
    BOOST_TEST(finished.verified(true).kind == step_kind::success);
    BOOST_TEST(finished.respond(valid).reason == failure_reason::malformed);
    BOOST_TEST(finished.verified(true).reason == failure_reason::malformed);

    plain looked_up(connection);
    BOOST_TEST(looked_up.found(nullptr).reason == failure_reason::malformed);
}

BOOST_AUTO_TEST_CASE(plain_ends_after_malformed_message)
{
    plain mechanism(connection);
    BOOST_TEST(mechanism.start(std::nullopt).kind == step_kind::challenge);
    BOOST_TEST(mechanism.respond("garbage").reason ==
               failure_reason::malformed);
    BOOST_TEST(mechanism.respond(message("", "tim", "pw")).reason ==
               failure_reason::malformed);
}

BOOST_AUTO_TEST_SUITE_END()
