#include <postern/sasl/cram_md5.hpp>

#include "test_printing.hpp"

#include <postern/core/base64.hpp>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

namespace {

using postern::directory::credentials;
using postern::sasl::cram_md5;
using postern::sasl::derive_cram_md5_context;
using postern::sasl::failure_reason;
using postern::sasl::hmac_md5_from_context;
using postern::sasl::step_kind;

static_assert(postern::sasl::mechanism<cram_md5>);

const postern::sasl::context smtp_connection{
    .server_identity = "mail.example.com"};
const postern::sasl::context pop3_connection{
    .server_identity = "mail.example.com", .accept_pop3_override = true};

const std::regex challenge_form(R"(<([0-9]+)\.([0-9]+)@mail\.example\.com>)");

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
    if (hex.empty())
        return {};
    long length = 0;
    unsigned char* bytes = OPENSSL_hexstr2buf(hex.c_str(), &length);
    BOOST_TEST_REQUIRE(bytes != nullptr);
    std::string result(reinterpret_cast<const char*>(bytes),
                       static_cast<std::size_t>(length));
    OPENSSL_free(bytes);
    return result;
}

template <typename Bytes>
std::string to_hex(const Bytes& bytes)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (auto byte : bytes) {
        const auto octet = static_cast<unsigned char>(byte);
        hex += digits[octet >> 4];
        hex += digits[octet & 0x0f];
    }
    return hex;
}

// HMAC-MD5 through OpenSSL's HMAC(), independent of the stored context.
std::string openssl_hmac_md5_hex(std::string_view key, std::string_view data)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    const unsigned char* result =
        HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(),
             digest.data(), &length);
    BOOST_TEST_REQUIRE(result != nullptr);
    BOOST_TEST_REQUIRE(length == 16u);
    return to_hex(std::string_view(reinterpret_cast<const char*>(digest.data()),
                                   length));
}

credentials account_without_secret(std::string user)
{
    credentials account;
    account.user = std::move(user);
    return account;
}

credentials account_with_plaintext(std::string user, std::string_view password)
{
    credentials account;
    account.user = std::move(user);
    account.plaintext = postern::secret(password);
    return account;
}

credentials account_with_context(std::string user, std::string_view password)
{
    credentials account;
    account.user = std::move(user);
    account.cram_md5 = derive_cram_md5_context(password);
    return account;
}

// Starts an exchange and returns the challenge it sends.
std::string start_exchange(cram_md5& mechanism)
{
    const auto challenge = mechanism.start(std::nullopt);
    BOOST_TEST_REQUIRE(challenge.kind == step_kind::challenge);
    BOOST_TEST_REQUIRE(std::regex_match(challenge.data, challenge_form));
    return challenge.data;
}

// Runs a whole exchange in which the client responds with the HMAC of
// `client_password` and the directory returns `account`.
postern::sasl::step run_exchange(const postern::sasl::context& connection,
                                 std::string_view client_password,
                                 const credentials* account)
{
    cram_md5 mechanism(connection);
    const std::string challenge = start_exchange(mechanism);

    const auto lookup = mechanism.respond(
        "tim " + openssl_hmac_md5_hex(client_password, challenge));
    BOOST_TEST_REQUIRE(lookup.kind == step_kind::lookup_credentials);
    BOOST_TEST(lookup.authcid == "tim");
    return mechanism.found(account);
}

} // namespace

BOOST_AUTO_TEST_SUITE(cram_md5_tests)

BOOST_AUTO_TEST_CASE(cram_md5_has_registered_name)
{
    BOOST_TEST(cram_md5::name == "CRAM-MD5");
    BOOST_TEST(cram_md5::needs == postern::directory::secret_kind::cram_md5);
}

// Dovecot's `doveadm pw -s CRAM-MD5 -p password` prints this hex context,
// as recorded in the test suite of the postfix_admin Ruby gem. It pins the
// order of the two states (outer first) and the byte order of their words,
// which the HMAC vectors cannot.
BOOST_AUTO_TEST_CASE(cram_md5_derives_dovecot_context)
{
    const auto context = derive_cram_md5_context("password");
    BOOST_TEST(context.size() == 32u);
    BOOST_TEST(to_hex(context) ==
               "9186d855e11eba527a7a52ca82b313e1"
               "80d62234f0acc9051b527243d41e2740");
}

BOOST_AUTO_TEST_CASE(cram_md5_context_runs_rfc2202_vectors)
{
    const auto cases = load_vectors("rfc2202-hmac-md5.json").at("cases");
    BOOST_TEST_REQUIRE(cases.size() == 7u);
    for (const auto& vector : cases) {
        BOOST_TEST_CONTEXT("test case " << vector.at("test_case"))
        {
            const auto key = from_hex(vector.at("key_hex"));
            const auto data = from_hex(vector.at("data_hex"));
            BOOST_TEST(key.size() == vector.at("key_len").get<std::size_t>());
            BOOST_TEST(data.size() ==
                       vector.at("data_len").get<std::size_t>());

            const auto context = derive_cram_md5_context(key);
            BOOST_TEST(context.size() == 32u);
            const auto digest = hmac_md5_from_context(context, data);
            BOOST_TEST_REQUIRE(digest.has_value());
            BOOST_TEST(to_hex(*digest) ==
                       vector.at("digest_hex").get<std::string>());
        }
    }
}

// Keys and messages around the 64-octet block and the 56-octet padding
// boundary of MD5, compared with OpenSSL's own HMAC.
BOOST_AUTO_TEST_CASE(cram_md5_context_matches_openssl_hmac)
{
    const std::size_t lengths[] = {0, 1, 16, 55, 56, 63, 64, 65, 119, 120,
                                   128, 200};
    for (std::size_t key_length : lengths) {
        for (std::size_t message_length : lengths) {
            BOOST_TEST_CONTEXT("key " << key_length << " octets, message "
                                      << message_length << " octets")
            {
                const std::string key(key_length, 'k');
                std::string message(message_length, 'm');
                for (std::size_t i = 0; i < message.size(); ++i)
                    message[i] = static_cast<char>(i * 7);

                const auto digest = hmac_md5_from_context(
                    derive_cram_md5_context(key), message);
                BOOST_TEST_REQUIRE(digest.has_value());
                BOOST_TEST(to_hex(*digest) ==
                           openssl_hmac_md5_hex(key, message));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(cram_md5_context_rejects_wrong_size)
{
    BOOST_TEST(!hmac_md5_from_context("", "message").has_value());
    BOOST_TEST(!hmac_md5_from_context(std::string(31, 'c'), "message"));
    BOOST_TEST(!hmac_md5_from_context(std::string(33, 'c'), "message"));
}

BOOST_AUTO_TEST_CASE(cram_md5_checks_rfc2195_vector)
{
    const auto vector = load_vectors("rfc2195-cram-md5.json");
    const auto user = vector.at("user").get<std::string>();
    const auto secret = vector.at("secret").get<std::string>();
    const auto challenge = vector.at("challenge").get<std::string>();
    const auto digest_hex = vector.at("digest_hex").get<std::string>();
    const auto response = vector.at("response").get<std::string>();

    const auto decoded_challenge = postern::base64_decode(
        vector.at("challenge_base64").get<std::string>());
    BOOST_TEST_REQUIRE(decoded_challenge.has_value());
    BOOST_TEST(*decoded_challenge == challenge);
    const auto decoded_response = postern::base64_decode(
        vector.at("response_base64").get<std::string>());
    BOOST_TEST_REQUIRE(decoded_response.has_value());
    BOOST_TEST(*decoded_response == response);
    BOOST_TEST(openssl_hmac_md5_hex(secret, challenge) == digest_hex);

    const auto digest =
        hmac_md5_from_context(derive_cram_md5_context(secret), challenge);
    BOOST_TEST_REQUIRE(digest.has_value());
    BOOST_TEST(to_hex(*digest) == digest_hex);

    const auto parts = postern::sasl::detail::cram::parse_response(response);
    BOOST_TEST_REQUIRE(parts.has_value());
    BOOST_TEST(parts->user == user);
    BOOST_TEST(to_hex(parts->digest) == digest_hex);
}

// The mechanism makes its own random challenge, so the RFC 2195 example
// runs through the verification step that found() uses.
BOOST_AUTO_TEST_CASE(cram_md5_verifies_rfc2195_example)
{
    const auto vector = load_vectors("rfc2195-cram-md5.json");
    const auto user = vector.at("user").get<std::string>();
    const auto secret = vector.at("secret").get<std::string>();
    const auto challenge = vector.at("challenge").get<std::string>();
    const auto response = vector.at("response").get<std::string>();

    const auto parts = postern::sasl::detail::cram::parse_response(response);
    BOOST_TEST_REQUIRE(parts.has_value());

    struct account_case {
        const char* label;
        credentials account;
    };
    const account_case cases[] = {
        {"plaintext", account_with_plaintext(user, secret)},
        {"derived context", account_with_context(user, secret)},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            BOOST_TEST(postern::sasl::detail::cram::account_matches(
                challenge, parts->digest, &c.account, false));
            const auto wrong = account_with_plaintext(user, "tanstaaf");
            BOOST_TEST(!postern::sasl::detail::cram::account_matches(
                challenge, parts->digest, &wrong, false));
            BOOST_TEST(!postern::sasl::detail::cram::account_matches(
                "<1896.697170953@postoffice.reston.mci.net>", parts->digest,
                &c.account, false));
        }
    }
}

BOOST_AUTO_TEST_CASE(cram_md5_runs_exchange)
{
    struct account_case {
        const char* label;
        credentials account;
        std::string password;
    };
    const std::string password = "tanstaaftanstaaf";
    const std::string long_password(100, 'p');
    credentials both = account_with_context("tim", password);
    both.plaintext = postern::secret(password);
    const account_case cases[] = {
        {"plaintext", account_with_plaintext("tim", password), password},
        {"derived context", account_with_context("tim", password), password},
        {"context and plaintext", both, password},
        {"canonical name differs", account_with_context("Tim", password),
         password},
        {"password over 64 octets", account_with_context("tim", long_password),
         long_password},
        {"empty password", account_with_context("tim", ""), ""},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            const auto outcome =
                run_exchange(smtp_connection, c.password, &c.account);
            BOOST_TEST(outcome.kind == step_kind::success);
            BOOST_TEST(outcome.reason == failure_reason::none);
            BOOST_TEST(outcome.authcid == c.account.user);
            BOOST_TEST(outcome.data.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(cram_md5_accepts_upper_case_digest)
{
    const auto account = account_with_context("tim", "tanstaaftanstaaf");
    cram_md5 mechanism(smtp_connection);
    const std::string challenge = start_exchange(mechanism);

    std::string digest = openssl_hmac_md5_hex("tanstaaftanstaaf", challenge);
    for (char& c : digest)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    BOOST_TEST(mechanism.respond("tim " + digest).kind ==
               step_kind::lookup_credentials);

    const auto outcome = mechanism.found(&account);
    BOOST_TEST(outcome.kind == step_kind::success);
    BOOST_TEST(outcome.authcid == "tim");
}

BOOST_AUTO_TEST_CASE(cram_md5_takes_user_name_before_last_space)
{
    struct user_case {
        const char* label;
        std::string response;
        std::string user;
    };
    const std::string digest = "0123456789abcdef0123456789ABCDEF";
    const user_case cases[] = {
        {"one space", "joe user " + digest, "joe user"},
        {"two spaces", "a b c " + digest, "a b c"},
        {"leading space", " joe " + digest, " joe"},
        {"double space", "joe  " + digest, "joe "},
        {"1024 octets", std::string(1024 - 33, 'u') + " " + digest,
         std::string(1024 - 33, 'u')},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            cram_md5 mechanism(smtp_connection);
            start_exchange(mechanism);
            const auto lookup = mechanism.respond(c.response);
            BOOST_TEST(lookup.kind == step_kind::lookup_credentials);
            BOOST_TEST(lookup.authcid == c.user);
            BOOST_TEST(lookup.data.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(cram_md5_rejects_malformed_responses)
{
    struct reject_case {
        const char* label;
        std::string response;
    };
    const std::string digest = "b913a602c7eda7a495b4e6e7334d3890";
    const reject_case cases[] = {
        {"empty response", ""},
        {"no space", "tim" + digest},
        {"only a digest", digest},
        {"empty user", " " + digest},
        {"empty digest", "tim "},
        {"trailing space", "tim " + digest + " "},
        {"31-digit digest", "tim " + digest.substr(1)},
        {"33-digit digest", "tim " + digest + "0"},
        {"64-digit digest", "tim " + digest + digest},
        {"non-hex digit", "tim b913a602c7eda7a495b4e6e7334d389g"},
        {"digest with colons", "tim b9:3a:02c7eda7a495b4e6e7334d3890"},
        {"NUL in user", std::string("t\0m ", 4) + digest},
        {"NUL in digest", "tim " + digest.substr(0, 31) + std::string(1, '\0')},
        {"1025 octets", std::string(1024 - 32, 'u') + " " + digest},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            cram_md5 mechanism(smtp_connection);
            start_exchange(mechanism);
            const auto outcome = mechanism.respond(c.response);
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason == failure_reason::malformed);
            BOOST_TEST(outcome.authcid.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(cram_md5_rejects_initial_response)
{
    const std::string_view initial_responses[] = {
        "", "tim b913a602c7eda7a495b4e6e7334d3890"};
    for (std::string_view initial : initial_responses) {
        BOOST_TEST_CONTEXT("initial response of " << initial.size()
                                                  << " octets")
        {
            cram_md5 mechanism(smtp_connection);
            const auto outcome = mechanism.start(initial);
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason == failure_reason::malformed);
            BOOST_TEST(outcome.data.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(cram_md5_rejects_unknown_user)
{
    const auto outcome =
        run_exchange(smtp_connection, "tanstaaftanstaaf", nullptr);
    BOOST_TEST(outcome.kind == step_kind::failure);
    BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
    BOOST_TEST(outcome.authcid.empty());
}

BOOST_AUTO_TEST_CASE(cram_md5_rejects_wrong_password)
{
    struct account_case {
        const char* label;
        credentials account;
    };
    credentials bad_context = account_with_plaintext("tim", "wrong");
    bad_context.plaintext.reset();
    bad_context.cram_md5 = std::string(31, 'c');
    const account_case cases[] = {
        {"plaintext", account_with_plaintext("tim", "tanstaaftanstaaf")},
        {"derived context", account_with_context("tim", "tanstaaftanstaaf")},
        {"context of 31 octets", bad_context},
        {"no secret", account_without_secret("tim")},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            const auto outcome =
                run_exchange(pop3_connection, "wrong", &c.account);
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
            BOOST_TEST(outcome.authcid.empty());
        }
    }
}

// A stored context of the wrong size is skipped, and the plaintext
// password is still tried.
BOOST_AUTO_TEST_CASE(cram_md5_skips_malformed_context)
{
    credentials account = account_with_plaintext("tim", "tanstaaftanstaaf");
    account.cram_md5 = std::string(31, 'c');
    const auto outcome =
        run_exchange(smtp_connection, "tanstaaftanstaaf", &account);
    BOOST_TEST(outcome.kind == step_kind::success);
    BOOST_TEST(outcome.authcid == "tim");
}

BOOST_AUTO_TEST_CASE(cram_md5_tries_override_only_on_pop3)
{
    struct override_case {
        const char* label;
        bool accept_pop3_override;
        bool own_secret_is_context;
        std::string client_password;
        bool succeeds;
    };
    const override_case cases[] = {
        {"own plaintext on POP3", true, false, "own", true},
        {"own context on POP3", true, true, "own", true},
        {"override after plaintext on POP3", true, false, "override", true},
        {"override after context on POP3", true, true, "override", true},
        {"own plaintext on SMTP", false, false, "own", true},
        {"own context on SMTP", false, true, "own", true},
        {"override with plaintext on SMTP", false, false, "override", false},
        {"override with context on SMTP", false, true, "override", false},
        {"neither on POP3", true, false, "neither", false},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            credentials account =
                c.own_secret_is_context ? account_with_context("tim", "own")
                                        : account_with_plaintext("tim", "own");
            account.pop3_override_plaintext = postern::secret("override");
            postern::sasl::context connection = smtp_connection;
            connection.accept_pop3_override = c.accept_pop3_override;

            const auto outcome =
                run_exchange(connection, c.client_password, &account);
            if (c.succeeds) {
                BOOST_TEST(outcome.kind == step_kind::success);
                BOOST_TEST(outcome.authcid == "tim");
            } else {
                BOOST_TEST(outcome.kind == step_kind::failure);
                BOOST_TEST(outcome.reason ==
                           failure_reason::invalid_credentials);
            }
        }
    }
}

// With no secret of its own, the account can use CRAM-MD5 on POP3 only
// through the override password, as with a PAM directory.
BOOST_AUTO_TEST_CASE(cram_md5_accepts_override_alone_on_pop3)
{
    credentials account = account_without_secret("tim");
    account.pop3_override_plaintext = postern::secret("override");

    const auto pop3 = run_exchange(pop3_connection, "override", &account);
    BOOST_TEST(pop3.kind == step_kind::success);
    BOOST_TEST(pop3.authcid == "tim");

    const auto smtp = run_exchange(smtp_connection, "override", &account);
    BOOST_TEST(smtp.kind == step_kind::failure);
    BOOST_TEST(smtp.reason == failure_reason::invalid_credentials);
}

BOOST_AUTO_TEST_CASE(cram_md5_challenge_has_rfc2195_form)
{
    const auto before = static_cast<std::uint64_t>(std::time(nullptr));
    cram_md5 first(smtp_connection);
    const std::string first_challenge = start_exchange(first);
    cram_md5 second(smtp_connection);
    const std::string second_challenge = start_exchange(second);
    const auto after = static_cast<std::uint64_t>(std::time(nullptr));

    BOOST_TEST(first_challenge != second_challenge);

    std::smatch parts;
    BOOST_TEST_REQUIRE(std::regex_match(first_challenge, parts,
                                        challenge_form));
    const auto time = std::stoull(parts[2].str());
    BOOST_TEST(time >= before);
    BOOST_TEST(time <= after);

    std::smatch second_parts;
    BOOST_TEST_REQUIRE(std::regex_match(second_challenge, second_parts,
                                        challenge_form));
    BOOST_TEST(parts[1].str() != second_parts[1].str());
}

BOOST_AUTO_TEST_CASE(cram_md5_rejects_calls_out_of_order)
{
    const std::string response = "tim b913a602c7eda7a495b4e6e7334d3890";
    const auto account = account_with_plaintext("tim", "tanstaaftanstaaf");

    cram_md5 not_started(smtp_connection);
    BOOST_TEST(not_started.respond(response).reason ==
               failure_reason::malformed);

    cram_md5 looked_up_early(smtp_connection);
    BOOST_TEST(looked_up_early.found(&account).reason ==
               failure_reason::malformed);

    cram_md5 found_before_response(smtp_connection);
    start_exchange(found_before_response);
    BOOST_TEST(found_before_response.found(&account).reason ==
               failure_reason::malformed);

    cram_md5 started_twice(smtp_connection);
    start_exchange(started_twice);
    BOOST_TEST(started_twice.start(std::nullopt).reason ==
               failure_reason::malformed);

    cram_md5 verified(smtp_connection);
    start_exchange(verified);
    BOOST_TEST(verified.verified(true).reason == failure_reason::malformed);
    BOOST_TEST(verified.respond(response).reason ==
               failure_reason::malformed);

    cram_md5 responded_twice(smtp_connection);
    start_exchange(responded_twice);
    BOOST_TEST(responded_twice.respond(response).kind ==
               step_kind::lookup_credentials);
    BOOST_TEST(responded_twice.respond(response).reason ==
               failure_reason::malformed);
    BOOST_TEST(responded_twice.found(&account).reason ==
               failure_reason::malformed);

    cram_md5 finished(smtp_connection);
    const std::string challenge = start_exchange(finished);
    BOOST_TEST(finished
                   .respond("tim " + openssl_hmac_md5_hex("tanstaaftanstaaf",
                                                          challenge))
                   .kind == step_kind::lookup_credentials);
    BOOST_TEST(finished.found(&account).kind == step_kind::success);
    BOOST_TEST(finished.found(&account).reason == failure_reason::malformed);
    BOOST_TEST(finished.respond(response).reason ==
               failure_reason::malformed);
}

BOOST_AUTO_TEST_CASE(cram_md5_ends_after_malformed_response)
{
    cram_md5 mechanism(smtp_connection);
    start_exchange(mechanism);
    BOOST_TEST(mechanism.respond("garbage").reason ==
               failure_reason::malformed);
    BOOST_TEST(mechanism.respond("tim b913a602c7eda7a495b4e6e7334d3890")
                   .reason == failure_reason::malformed);
}

BOOST_AUTO_TEST_SUITE_END()
