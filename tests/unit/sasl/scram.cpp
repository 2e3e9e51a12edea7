#include <postern/sasl/scram.hpp>

#include "test_printing.hpp"

#include <postern/core/base64.hpp>
#include <postern/sasl/saslprep.hpp>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace {

using postern::base64_decode;
using postern::base64_encode;
using postern::directory::credentials;
using postern::sasl::failure_reason;
using postern::sasl::scram_sha1;
using postern::sasl::scram_sha1_plus;
using postern::sasl::scram_sha256;
using postern::sasl::scram_sha256_plus;
using postern::sasl::step;
using postern::sasl::step_kind;
using postern::sasl::detail::fixed_server_nonce;
using postern::sasl::detail::scram_sha1_hash;
using postern::sasl::detail::scram_sha256_hash;

static_assert(postern::sasl::mechanism<scram_sha1>);
static_assert(postern::sasl::mechanism<scram_sha256>);
static_assert(postern::sasl::mechanism<scram_sha1_plus>);
static_assert(postern::sasl::mechanism<scram_sha256_plus>);

// Channel binding data as a TLS connection would supply it. The values are
// arbitrary, because the mechanism only compares them.
const postern::sasl::channel_bindings tls_bindings{
    std::string(32, '\x5a'), std::string(32, '\xa5')};

const postern::sasl::context plain_connection{
    .server_identity = "mail.example.com"};
const postern::sasl::context tls_connection{
    .server_identity = "mail.example.com",
    .encrypted = true,
    .bindings = &tls_bindings};
const postern::sasl::context plus_advertised_connection{
    .server_identity = "mail.example.com",
    .encrypted = true,
    .bindings = &tls_bindings,
    .plus_advertised = true};

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

// One published example exchange (RFC 5802, section 5, or RFC 7677,
// section 3).
struct published_exchange {
    std::string user;
    std::string password;
    std::string client_first;
    std::string server_first;
    std::string client_final;
    std::string server_final;
    std::string server_nonce;
    std::string salt;
    std::uint32_t iterations = 0;
    std::string stored_key;
    std::string server_key;
};

published_exchange load_exchange(const char* file_name)
{
    const auto vectors = load_vectors(file_name);
    const auto& derived = vectors.at("derived");
    published_exchange exchange;
    exchange.user = vectors.at("user");
    exchange.password = vectors.at("password");
    exchange.client_first = vectors.at("client_first_message");
    exchange.server_first = vectors.at("server_first_message");
    exchange.client_final = vectors.at("client_final_message");
    exchange.server_final = vectors.at("server_final_message");
    exchange.server_nonce = vectors.at("server_nonce");
    exchange.salt = from_hex(vectors.at("salt_hex"));
    exchange.iterations = vectors.at("iteration_count");
    exchange.stored_key = from_hex(derived.at("stored_key_hex"));
    exchange.server_key = from_hex(derived.at("server_key_hex"));
    return exchange;
}

const published_exchange& sha1_example()
{
    static const published_exchange example =
        load_exchange("rfc5802-scram-sha1.json");
    return example;
}

const published_exchange& sha256_example()
{
    static const published_exchange example =
        load_exchange("rfc7677-scram-sha256.json");
    return example;
}

// The account "user" with password "pencil" and the published salts.
credentials published_user()
{
    credentials user;
    user.user = "user";
    user.scram_sha1 = postern::sasl::detail::derive_scram_credentials<
        scram_sha1_hash>("pencil", sha1_example().salt, 4096);
    user.scram_sha256 = postern::sasl::detail::derive_scram_credentials<
        scram_sha256_hash>("pencil", sha256_example().salt, 4096);
    BOOST_TEST_REQUIRE(user.scram_sha1.has_value());
    BOOST_TEST_REQUIRE(user.scram_sha256.has_value());
    return user;
}

// Returns the value of attribute `name` in a SCRAM message, or "".
std::string attribute_of(std::string_view message, char name)
{
    std::size_t start = 0;
    while (start <= message.size()) {
        std::size_t end = message.find(',', start);
        if (end == std::string_view::npos)
            end = message.size();
        const auto field = message.substr(start, end - start);
        if (field.size() >= 2 && field[0] == name && field[1] == '=')
            return std::string(field.substr(2));
        start = end + 1;
    }
    return {};
}

std::string hmac(const EVP_MD* md, std::string_view key,
                 std::string_view data)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int size = 0;
    BOOST_TEST_REQUIRE(HMAC(md, key.data(), static_cast<int>(key.size()),
                            reinterpret_cast<const unsigned char*>(data.data()),
                            data.size(), out.data(), &size) != nullptr);
    return std::string(reinterpret_cast<const char*>(out.data()), size);
}

std::string hash(const EVP_MD* md, std::string_view data)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int size = 0;
    BOOST_TEST_REQUIRE(EVP_Digest(data.data(), data.size(), out.data(), &size,
                                  md, nullptr) == 1);
    return std::string(reinterpret_cast<const char*>(out.data()), size);
}

// The client side of RFC 5802, section 3, written out here so that the
// tests do not check the mechanism against its own code.
struct client_reply {
    std::string client_final;
    std::string server_final; ///< what a correct server returns
};

// `extensions` is appended to the client-final-message before the proof,
// with its leading ','.
client_reply answer_server_first(const EVP_MD* md, std::string_view password,
                                 std::string_view client_first_bare,
                                 std::string_view server_first,
                                 std::string_view channel_binding_input,
                                 std::string_view extensions = "")
{
    const auto salt = base64_decode(attribute_of(server_first, 's'));
    BOOST_TEST_REQUIRE(salt.has_value());
    const int iterations = std::stoi(attribute_of(server_first, 'i'));

    std::array<unsigned char, EVP_MAX_MD_SIZE> salted{};
    const auto size = static_cast<int>(EVP_MD_get_size(md));
    BOOST_TEST_REQUIRE(
        PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                          reinterpret_cast<const unsigned char*>(salt->data()),
                          static_cast<int>(salt->size()), iterations, md, size,
                          salted.data()) == 1);
    const std::string salted_password(
        reinterpret_cast<const char*>(salted.data()),
        static_cast<std::size_t>(size));

    const std::string without_proof =
        "c=" + base64_encode(channel_binding_input) +
        ",r=" + attribute_of(server_first, 'r') + std::string(extensions);
    const std::string auth_message = std::string(client_first_bare) + "," +
                                     std::string(server_first) + "," +
                                     without_proof;
    const std::string client_key = hmac(md, salted_password, "Client Key");
    const std::string signature =
        hmac(md, hash(md, client_key), auth_message);
    std::string proof = client_key;
    for (std::size_t i = 0; i < proof.size(); ++i)
        proof[i] = static_cast<char>(proof[i] ^ signature[i]);

    const std::string server_key = hmac(md, salted_password, "Server Key");
    return {without_proof + ",p=" + base64_encode(proof),
            "v=" + base64_encode(hmac(md, server_key, auth_message))};
}

// Runs a mechanism from the client-first-message to the
// server-first-message, requiring both steps to succeed.
template <typename Mechanism>
std::string reach_server_first(Mechanism& mechanism,
                               std::string_view client_first,
                               const credentials* stored,
                               std::string_view expected_user = "user")
{
    const step lookup = mechanism.start(client_first);
    BOOST_TEST_REQUIRE(lookup.kind == step_kind::lookup_credentials);
    BOOST_TEST(lookup.authcid == expected_user);
    const step challenge = mechanism.found(stored);
    BOOST_TEST_REQUIRE(challenge.kind == step_kind::challenge);
    return challenge.data;
}

// Runs a whole exchange for "user" with `password`, where the client
// sends `gs2_header` and binds `binding_data`.
template <typename Mechanism>
step run_exchange(const postern::sasl::context& connection,
                  std::string_view gs2_header, std::string_view binding_data,
                  std::string_view password = "pencil")
{
    const credentials stored = published_user();
    const std::string bare = "n=user,r=clientnonce";
    Mechanism mechanism(connection);
    const std::string server_first = reach_server_first(
        mechanism, std::string(gs2_header) + bare, &stored);

    const bool sha1 =
        Mechanism::needs == postern::directory::secret_kind::scram_sha1;
    const std::string binding_input =
        std::string(gs2_header) + std::string(binding_data);
    const auto reply =
        answer_server_first(sha1 ? EVP_sha1() : EVP_sha256(), password, bare,
                            server_first, binding_input);
    step outcome = mechanism.respond(reply.client_final);
    if (outcome.kind == step_kind::success)
        BOOST_TEST(outcome.data == reply.server_final);
    return outcome;
}

template <typename Mechanism>
void check_published_exchange(const published_exchange& example)
{
    const credentials stored = published_user();
    Mechanism mechanism(plain_connection,
                        fixed_server_nonce{example.server_nonce});

    const step lookup = mechanism.start(example.client_first);
    BOOST_TEST_REQUIRE(lookup.kind == step_kind::lookup_credentials);
    BOOST_TEST(lookup.authcid == example.user);
    BOOST_TEST(lookup.authzid.empty());

    const step challenge = mechanism.found(&stored);
    BOOST_TEST_REQUIRE(challenge.kind == step_kind::challenge);
    BOOST_TEST(challenge.data == example.server_first);

    const step outcome = mechanism.respond(example.client_final);
    BOOST_TEST_REQUIRE(outcome.kind == step_kind::success);
    BOOST_TEST(outcome.authcid == example.user);
    BOOST_TEST(outcome.authzid.empty());
    BOOST_TEST(outcome.data == example.server_final);
}

} // namespace

BOOST_AUTO_TEST_SUITE(saslprep_tests)

BOOST_AUTO_TEST_CASE(saslprep_matches_rfc4013_examples)
{
    const auto cases = load_vectors("rfc4013-saslprep.json").at("cases");
    BOOST_TEST_REQUIRE(cases.size() == 7u);
    for (const auto& c : cases) {
        const auto input = c.at("input").get<std::string>();
        BOOST_TEST_CONTEXT("case " << c.at("number").get<int>())
        {
            BOOST_TEST(input == from_hex(c.at("input_utf8_hex")));
            const auto query = postern::sasl::saslprep(input);
            const auto stored = postern::sasl::saslprep(
                input, postern::sasl::saslprep_kind::stored);
            if (c.at("output").is_null()) {
                BOOST_TEST(!query.has_value());
                BOOST_TEST(!stored.has_value());
            } else {
                const auto output = c.at("output").get<std::string>();
                BOOST_TEST(output == from_hex(c.at("output_utf8_hex")));
                BOOST_TEST_REQUIRE(query.has_value());
                BOOST_TEST(*query == output);
                BOOST_TEST_REQUIRE(stored.has_value());
                BOOST_TEST(*stored == output);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(saslprep_rejects_invalid_input)
{
    struct reject_case {
        const char* label;
        std::string input;
    };
    const reject_case cases[] = {
        {"lone continuation octet", "a\x80"},
        {"truncated sequence", "a\xc3"},
        {"overlong slash", "\xc0\xaf"},
        {"UTF-16 surrogate", "\xed\xa0\x80"},
        {"above U+10FFFF", "\xf4\x90\x80\x80"},
        {"invalid lead octet", "\xff"},
        {"embedded NUL", std::string("us\0er", 5)},
        {"tab", "a\tb"},
        {"private use U+E000", "\xee\x80\x80"},
        {"language tag U+E0001", "\xf3\xa0\x80\x81"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            BOOST_TEST(!postern::sasl::saslprep(c.input).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(saslprep_maps_spaces_and_empty_input)
{
    BOOST_TEST(postern::sasl::saslprep("").value_or("none") == "");
    // U+00A0 NO-BREAK SPACE is a non-ASCII space, mapped to SPACE.
    BOOST_TEST(postern::sasl::saslprep("a\xc2\xa0"
                                       "b")
                   .value_or("none") == "a b");
    // U+00AD SOFT HYPHEN alone maps to the empty string.
    BOOST_TEST(postern::sasl::saslprep("\xc2\xad").value_or("none") == "");
}

// U+08A0 was assigned in Unicode 6.1, so it is unassigned in the Unicode
// 3.2 tables of RFC 3454.
BOOST_AUTO_TEST_CASE(saslprep_stored_rejects_unassigned_code_point)
{
    const std::string unassigned = "\xe0\xa2\xa0";
    const auto query = postern::sasl::saslprep(unassigned);
    BOOST_TEST_REQUIRE(query.has_value());
    BOOST_TEST(*query == unassigned);
    BOOST_TEST(!postern::sasl::saslprep(unassigned,
                                        postern::sasl::saslprep_kind::stored)
                    .has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(scram_tests)

BOOST_AUTO_TEST_CASE(scram_has_registered_names)
{
    using postern::directory::secret_kind;
    BOOST_TEST(scram_sha1::name == "SCRAM-SHA-1");
    BOOST_TEST(scram_sha256::name == "SCRAM-SHA-256");
    BOOST_TEST(scram_sha1_plus::name == "SCRAM-SHA-1-PLUS");
    BOOST_TEST(scram_sha256_plus::name == "SCRAM-SHA-256-PLUS");
    BOOST_TEST(scram_sha1::needs == secret_kind::scram_sha1);
    BOOST_TEST(scram_sha1_plus::needs == secret_kind::scram_sha1);
    BOOST_TEST(scram_sha256::needs == secret_kind::scram_sha256);
    BOOST_TEST(scram_sha256_plus::needs == secret_kind::scram_sha256);
}

BOOST_AUTO_TEST_CASE(scram_derives_published_keys)
{
    const auto sha1 = postern::sasl::detail::derive_scram_credentials<
        scram_sha1_hash>(sha1_example().password, sha1_example().salt,
                         sha1_example().iterations);
    BOOST_TEST_REQUIRE(sha1.has_value());
    BOOST_TEST(sha1->salt == sha1_example().salt);
    BOOST_TEST(sha1->iterations == 4096u);
    BOOST_TEST(sha1->stored_key == sha1_example().stored_key);
    BOOST_TEST(sha1->server_key == sha1_example().server_key);

    const auto sha256 = postern::sasl::detail::derive_scram_credentials<
        scram_sha256_hash>(sha256_example().password, sha256_example().salt,
                           sha256_example().iterations);
    BOOST_TEST_REQUIRE(sha256.has_value());
    BOOST_TEST(sha256->salt == sha256_example().salt);
    BOOST_TEST(sha256->iterations == 4096u);
    BOOST_TEST(sha256->stored_key == sha256_example().stored_key);
    BOOST_TEST(sha256->server_key == sha256_example().server_key);
}

BOOST_AUTO_TEST_CASE(scram_derive_uses_random_salt)
{
    const auto first = postern::sasl::derive_scram_sha256("pencil");
    const auto second = postern::sasl::derive_scram_sha256("pencil");
    BOOST_TEST_REQUIRE(first.has_value());
    BOOST_TEST_REQUIRE(second.has_value());
    BOOST_TEST(first->salt.size() == 16u);
    BOOST_TEST(first->salt != second->salt);
    BOOST_TEST(first->stored_key != second->stored_key);
    BOOST_TEST(first->iterations == 4096u);
    BOOST_TEST(first->stored_key.size() == 32u);
    BOOST_TEST(first->server_key.size() == 32u);

    const auto sha1 = postern::sasl::derive_scram_sha1("pencil", 5000);
    BOOST_TEST_REQUIRE(sha1.has_value());
    BOOST_TEST(sha1->salt.size() == 16u);
    BOOST_TEST(sha1->iterations == 5000u);
    BOOST_TEST(sha1->stored_key.size() == 20u);
    BOOST_TEST(sha1->server_key.size() == 20u);
}

// SASLprep maps U+2168 ROMAN NUMERAL NINE to "IX" (RFC 4013, section 3),
// so both passwords give the same keys.
BOOST_AUTO_TEST_CASE(scram_derive_prepares_password)
{
    const std::string salt = "0123456789abcdef";
    const auto plain = postern::sasl::detail::derive_scram_credentials<
        scram_sha256_hash>("IX", salt, 4096);
    const auto numeral = postern::sasl::detail::derive_scram_credentials<
        scram_sha256_hash>("\xe2\x85\xa8", salt, 4096);
    BOOST_TEST_REQUIRE(plain.has_value());
    BOOST_TEST_REQUIRE(numeral.has_value());
    BOOST_TEST(plain->stored_key == numeral->stored_key);
    BOOST_TEST(plain->server_key == numeral->server_key);
}

BOOST_AUTO_TEST_CASE(scram_derive_rejects_invalid_input)
{
    using postern::sasl::derive_scram_sha1;
    using postern::sasl::derive_scram_sha256;
    BOOST_TEST(!derive_scram_sha256("pencil", 4095).has_value());
    BOOST_TEST(!derive_scram_sha256("pencil", 10'000'001).has_value());
    BOOST_TEST(!derive_scram_sha256("pencil", 0).has_value());
    BOOST_TEST(!derive_scram_sha256("bell\x07").has_value());
    BOOST_TEST(!derive_scram_sha1("").has_value());
    BOOST_TEST(!derive_scram_sha1("\xc2\xad").has_value());
    BOOST_TEST(!derive_scram_sha1("\xff").has_value());
    BOOST_TEST(!derive_scram_sha1("\xe0\xa2\xa0").has_value());
    BOOST_TEST(!postern::sasl::detail::derive_scram_credentials<
                    scram_sha1_hash>("pencil", "", 4096)
                    .has_value());
}

BOOST_AUTO_TEST_CASE(scram_sha1_runs_rfc5802_example)
{
    check_published_exchange<scram_sha1>(sha1_example());
}

BOOST_AUTO_TEST_CASE(scram_sha256_runs_rfc7677_example)
{
    check_published_exchange<scram_sha256>(sha256_example());
}

BOOST_AUTO_TEST_CASE(scram_sends_empty_challenge_without_initial_response)
{
    const credentials stored = published_user();
    const auto& example = sha256_example();
    scram_sha256 mechanism(plain_connection,
                           fixed_server_nonce{example.server_nonce});
    const step challenge = mechanism.start(std::nullopt);
    BOOST_TEST(challenge.kind == step_kind::challenge);
    BOOST_TEST(challenge.data.empty());

    const step lookup = mechanism.respond(example.client_first);
    BOOST_TEST_REQUIRE(lookup.kind == step_kind::lookup_credentials);
    BOOST_TEST(lookup.authcid == "user");
    BOOST_TEST(mechanism.found(&stored).data == example.server_first);
    BOOST_TEST(mechanism.respond(example.client_final).data ==
               example.server_final);
}

BOOST_AUTO_TEST_CASE(scram_server_nonce_is_random)
{
    const credentials stored = published_user();
    scram_sha256 first(plain_connection);
    scram_sha256 second(plain_connection);
    const std::string first_reply =
        reach_server_first(first, "n,,n=user,r=abc", &stored);
    const std::string second_reply =
        reach_server_first(second, "n,,n=user,r=abc", &stored);

    const std::string first_nonce = attribute_of(first_reply, 'r');
    const std::string second_nonce = attribute_of(second_reply, 'r');
    BOOST_TEST(first_nonce.starts_with("abc"));
    BOOST_TEST(second_nonce.starts_with("abc"));
    // 24 random octets in base64.
    BOOST_TEST(first_nonce.size() == 3u + 32u);
    BOOST_TEST(first_nonce != second_nonce);
    BOOST_TEST(first_reply ==
               "r=" + first_nonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
}

BOOST_AUTO_TEST_CASE(scram_accepts_valid_client_first_messages)
{
    struct accept_case {
        const char* label;
        std::string message;
        std::string user;
    };
    const std::string at_limit_prefix = "n,,n=user,r=";
    const accept_case cases[] = {
        {"escaped comma and equals", "n,,n=a=2Cb=3Dc,r=abc", "a,b=c"},
        {"unknown extension", "n,,n=user,r=abc,x=ext", "user"},
        {"two unknown extensions", "n,,n=user,r=abc,x=1,y=a=b", "user"},
        {"SASLprep of user", "n,,n=I\xc2\xadX,r=abc", "IX"},
        {"non-ASCII user", "n,,n=J\xc3\xbcrgen,r=abc", "J\xc3\xbcrgen"},
        {"nonce of every printable", "n,,n=user,r=!+-~", "user"},
        {"4096 octets",
         at_limit_prefix + std::string(4096 - at_limit_prefix.size(), 'a'),
         "user"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            scram_sha256 mechanism(plain_connection);
            const step lookup = mechanism.start(c.message);
            BOOST_TEST_REQUIRE(lookup.kind == step_kind::lookup_credentials);
            BOOST_TEST(lookup.authcid == c.user);
            BOOST_TEST(lookup.authzid.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(scram_rejects_malformed_client_first)
{
    struct reject_case {
        const char* label;
        std::string message;
        std::string error;
    };
    const std::string prefix = "n,,n=user,r=";
    const reject_case cases[] = {
        {"empty message", "", "e=invalid-encoding"},
        {"no gs2 header", "n=user,r=abc", "e=invalid-encoding"},
        {"one comma in gs2 header", "n,n=user,r=abc", "e=invalid-encoding"},
        {"unknown flag", "x,,n=user,r=abc", "e=invalid-encoding"},
        {"upper-case flag", "N,,n=user,r=abc", "e=invalid-encoding"},
        {"empty channel binding type", "p=,,n=user,r=abc",
         "e=invalid-encoding"},
        {"bad channel binding type", "p=tls_unique,,n=user,r=abc",
         "e=invalid-encoding"},
        {"authzid without a=", "n,user,n=user,r=abc", "e=invalid-encoding"},
        {"empty authzid", "n,a=,n=user,r=abc", "e=invalid-encoding"},
        {"bad authzid escape", "n,a=us=er,n=user,r=abc",
         "e=invalid-encoding"},
        {"missing n=", "n,,r=abc", "e=invalid-encoding"},
        {"empty user", "n,,n=,r=abc", "e=invalid-encoding"},
        {"bare equals in user", "n,,n=us=er,r=abc",
         "e=invalid-username-encoding"},
        {"lower-case escape", "n,,n=us=2cer,r=abc",
         "e=invalid-username-encoding"},
        {"unknown escape", "n,,n=us=41er,r=abc",
         "e=invalid-username-encoding"},
        {"truncated escape", "n,,n=user=2,r=abc",
         "e=invalid-username-encoding"},
        {"user prohibited by SASLprep", "n,,n=bell\x07,r=abc",
         "e=invalid-username-encoding"},
        {"user empty after SASLprep", "n,,n=\xc2\xad,r=abc",
         "e=invalid-username-encoding"},
        {"user fails bidi rule", "n,,n=\xd8\xa7"
                                 "1,r=abc",
         "e=invalid-username-encoding"},
        {"m= before user", "n,,m=ext,n=user,r=abc",
         "e=extensions-not-supported"},
        {"m= after nonce", "n,,n=user,r=abc,m=ext",
         "e=extensions-not-supported"},
        {"m= alone", "n,,m=ext", "e=extensions-not-supported"},
        {"missing nonce", "n,,n=user", "e=invalid-encoding"},
        {"empty nonce", "n,,n=user,r=", "e=invalid-encoding"},
        {"nonce with space", "n,,n=user,r=a b", "e=invalid-encoding"},
        {"nonce with control", "n,,n=user,r=a\x7f", "e=invalid-encoding"},
        {"non-ASCII nonce", "n,,n=user,r=ab\xc3\xa9", "e=invalid-encoding"},
        {"nonce with comma", "n,,n=user,r=ab,cd", "e=invalid-encoding"},
        {"nonce before user", "n,,r=abc,n=user", "e=invalid-encoding"},
        {"repeated nonce", "n,,n=user,r=abc,r=def", "e=invalid-encoding"},
        {"channel binding in first", "n,,n=user,r=abc,c=biws",
         "e=invalid-encoding"},
        {"trailing comma", "n,,n=user,r=abc,", "e=invalid-encoding"},
        {"extension without value", "n,,n=user,r=abc,x=",
         "e=invalid-encoding"},
        {"extension with digit name", "n,,n=user,r=abc,1=x",
         "e=invalid-encoding"},
        {"Latin-1 user", "n,,n=J\xfcrgen,r=abc", "e=invalid-encoding"},
        {"NUL in user", std::string("n,,n=us\0er,r=abc", 16),
         "e=invalid-encoding"},
        {"4097 octets", prefix + std::string(4097 - prefix.size(), 'a'),
         "e=invalid-encoding"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            scram_sha256 mechanism(plain_connection);
            const step outcome = mechanism.start(c.message);
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason == failure_reason::malformed);
            BOOST_TEST(outcome.data == c.error);
        }
    }
}

BOOST_AUTO_TEST_CASE(scram_rejects_malformed_client_final)
{
    const auto& example = sha1_example();
    const std::string nonce = attribute_of(example.server_first, 'r');
    const std::string proof = "p=" + attribute_of(example.client_final, 'p');
    const std::string suffix = ",r=" + nonce + "," + proof;
    struct reject_case {
        const char* label;
        std::string message;
        std::string error;
    };
    const reject_case cases[] = {
        {"empty message", "", "e=invalid-encoding"},
        {"missing proof", "c=biws,r=" + nonce, "e=invalid-encoding"},
        {"proof before nonce", "c=biws," + proof + ",r=" + nonce,
         "e=invalid-encoding"},
        {"missing channel binding", "r=" + nonce + "," + proof,
         "e=invalid-encoding"},
        {"missing nonce", "c=biws," + proof, "e=invalid-encoding"},
        {"empty nonce", "c=biws,r=," + proof, "e=invalid-encoding"},
        {"channel binding not base64", "c=biws!" + suffix,
         "e=invalid-encoding"},
        {"channel binding with bad padding", "c=bi=s" + suffix,
         "e=invalid-encoding"},
        {"proof not base64", "c=biws,r=" + nonce + ",p=v0X8v3Bz2T0C*",
         "e=invalid-encoding"},
        {"empty proof", "c=biws,r=" + nonce + ",p=", "e=invalid-encoding"},
        {"short proof", "c=biws,r=" + nonce + ",p=" + base64_encode("short"),
         "e=invalid-encoding"},
        {"m= extension", "c=biws,r=" + nonce + ",m=x," + proof,
         "e=extensions-not-supported"},
        {"m= in place of c=", "m=x" + suffix, "e=extensions-not-supported"},
        {"repeated channel binding", "c=biws,r=" + nonce + ",c=biws," + proof,
         "e=invalid-encoding"},
        {"empty attribute", "c=biws,r=" + nonce + ",," + proof,
         "e=invalid-encoding"},
        {"invalid UTF-8", "c=biws,r=" + nonce + ",x=\xff," + proof,
         "e=invalid-encoding"},
        {"4097 octets",
         "c=biws,r=" + nonce + ",x=" + std::string(4097, 'a') + "," + proof,
         "e=invalid-encoding"},
    };
    const credentials stored = published_user();
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            scram_sha1 mechanism(plain_connection,
                                 fixed_server_nonce{example.server_nonce});
            reach_server_first(mechanism, example.client_first, &stored);
            const step outcome = mechanism.respond(c.message);
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason == failure_reason::malformed);
            BOOST_TEST(outcome.data == c.error);
        }
    }
}

// An unknown extension in the client-final-message is ignored but is part
// of the AuthMessage, so a proof computed over it succeeds.
BOOST_AUTO_TEST_CASE(scram_ignores_unknown_client_final_extension)
{
    const credentials stored = published_user();
    scram_sha256 mechanism(plain_connection);
    const std::string bare = "n=user,r=abc";
    const std::string server_first =
        reach_server_first(mechanism, "n,," + bare, &stored);
    const auto reply = answer_server_first(EVP_sha256(), "pencil", bare,
                                           server_first, "n,,", ",x=1");
    BOOST_TEST(reply.client_final.find(",x=1,p=") != std::string::npos);

    const step outcome = mechanism.respond(reply.client_final);
    BOOST_TEST(outcome.kind == step_kind::success);
    BOOST_TEST(outcome.authcid == "user");
    BOOST_TEST(outcome.data == reply.server_final);
}

BOOST_AUTO_TEST_CASE(scram_rejects_wrong_nonce)
{
    const auto& example = sha1_example();
    const credentials stored = published_user();
    const std::string nonce = attribute_of(example.server_first, 'r');
    const std::string proof = attribute_of(example.client_final, 'p');
    const std::string wrong_nonces[] = {
        "fyko+d2lbbFgONRv9qkxdawL",        // the client's part only
        nonce + "x",                       // one character more
        nonce.substr(0, nonce.size() - 1), // one character less
        "fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7J", // last letter case
    };
    for (const auto& wrong : wrong_nonces) {
        BOOST_TEST_CONTEXT("nonce " << wrong)
        {
            scram_sha1 mechanism(plain_connection,
                                 fixed_server_nonce{example.server_nonce});
            reach_server_first(mechanism, example.client_first, &stored);
            const step outcome =
                mechanism.respond("c=biws,r=" + wrong + ",p=" + proof);
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
            BOOST_TEST(outcome.data == "e=other-error");
        }
    }
}

BOOST_AUTO_TEST_CASE(scram_rejects_wrong_proof)
{
    const auto& example = sha256_example();
    const credentials stored = published_user();
    auto proof = *base64_decode(attribute_of(example.client_final, 'p'));
    proof[0] = static_cast<char>(proof[0] ^ 1);
    const std::string client_final =
        "c=biws,r=" + attribute_of(example.server_first, 'r') +
        ",p=" + base64_encode(proof);

    scram_sha256 mechanism(plain_connection,
                           fixed_server_nonce{example.server_nonce});
    reach_server_first(mechanism, example.client_first, &stored);
    const step outcome = mechanism.respond(client_final);
    BOOST_TEST(outcome.kind == step_kind::failure);
    BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
    BOOST_TEST(outcome.data == "e=invalid-proof");
}

BOOST_AUTO_TEST_CASE(scram_rejects_wrong_password)
{
    const step outcome =
        run_exchange<scram_sha1>(plain_connection, "n,,", "", "pencil2");
    BOOST_TEST(outcome.kind == step_kind::failure);
    BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
    BOOST_TEST(outcome.data == "e=invalid-proof");
}

// The client sent "n,," but its c= carries another GS2 header, as when an
// attacker rewrote the client-first-message.
BOOST_AUTO_TEST_CASE(scram_rejects_channel_binding_mismatch)
{
    const credentials stored = published_user();
    const std::string other_headers[] = {"y,,", "n,a=user,", "n,",
                                         "p=tls-exporter,,"};
    for (const auto& header : other_headers) {
        BOOST_TEST_CONTEXT("c= of \"" << header << "\"")
        {
            scram_sha256 mechanism(plain_connection);
            const std::string bare = "n=user,r=abc";
            const std::string server_first =
                reach_server_first(mechanism, "n,," + bare, &stored);
            const auto reply = answer_server_first(
                EVP_sha256(), "pencil", bare, server_first, header);
            const step outcome = mechanism.respond(reply.client_final);
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
            BOOST_TEST(outcome.data == "e=channel-bindings-dont-match");
        }
    }
}

BOOST_AUTO_TEST_CASE(scram_plus_binds_tls_exporter)
{
    const step sha256 = run_exchange<scram_sha256_plus>(
        tls_connection, "p=tls-exporter,,", tls_bindings.tls_exporter);
    BOOST_TEST(sha256.kind == step_kind::success);
    BOOST_TEST(sha256.authcid == "user");

    const step sha1 = run_exchange<scram_sha1_plus>(
        tls_connection, "p=tls-exporter,,", tls_bindings.tls_exporter);
    BOOST_TEST(sha1.kind == step_kind::success);
    BOOST_TEST(sha1.authcid == "user");
}

BOOST_AUTO_TEST_CASE(scram_plus_binds_tls_server_end_point)
{
    const step outcome = run_exchange<scram_sha256_plus>(
        tls_connection, "p=tls-server-end-point,,",
        tls_bindings.tls_server_end_point);
    BOOST_TEST(outcome.kind == step_kind::success);
    BOOST_TEST(outcome.authcid == "user");
}

// A client on another TLS connection (a relay) gets other binding data.
BOOST_AUTO_TEST_CASE(scram_plus_rejects_wrong_binding_data)
{
    struct mismatch_case {
        const char* label;
        std::string header;
        std::string data;
    };
    const mismatch_case cases[] = {
        {"other exporter", "p=tls-exporter,,", std::string(32, '\x00')},
        {"end point for exporter", "p=tls-exporter,,",
         tls_bindings.tls_server_end_point},
        {"no data", "p=tls-exporter,,", ""},
        {"exporter for end point", "p=tls-server-end-point,,",
         tls_bindings.tls_exporter},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            const credentials stored = published_user();
            scram_sha256_plus mechanism(tls_connection);
            const std::string bare = "n=user,r=abc";
            const std::string server_first =
                reach_server_first(mechanism, c.header + bare, &stored);
            const auto reply = answer_server_first(
                EVP_sha256(), "pencil", bare, server_first, c.header + c.data);
            const step outcome = mechanism.respond(reply.client_final);
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
            BOOST_TEST(outcome.data == "e=channel-bindings-dont-match");
        }
    }
}

BOOST_AUTO_TEST_CASE(scram_plus_rejects_unsupported_binding_types)
{
    const postern::sasl::channel_bindings exporter_only{
        std::string(32, '\x5a'), ""};
    const postern::sasl::context exporter_only_connection{
        .server_identity = "mail.example.com",
        .encrypted = true,
        .bindings = &exporter_only};
    struct reject_case {
        const char* label;
        const postern::sasl::context* connection;
        std::string message;
    };
    const reject_case cases[] = {
        {"tls-unique", &tls_connection, "p=tls-unique,,n=user,r=abc"},
        {"unknown type", &tls_connection, "p=tls-other,,n=user,r=abc"},
        {"upper-case type", &tls_connection, "p=TLS-EXPORTER,,n=user,r=abc"},
        {"end point without data", &exporter_only_connection,
         "p=tls-server-end-point,,n=user,r=abc"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            scram_sha256_plus mechanism(*c.connection);
            const step outcome = mechanism.start(c.message);
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
            BOOST_TEST(outcome.data == "e=unsupported-channel-binding-type");
        }
    }
}

BOOST_AUTO_TEST_CASE(scram_plus_requires_channel_binding_flag)
{
    const std::string messages[] = {"n,,n=user,r=abc", "y,,n=user,r=abc"};
    for (const auto& message : messages) {
        BOOST_TEST_CONTEXT(message)
        {
            scram_sha1_plus mechanism(plus_advertised_connection);
            const step outcome = mechanism.start(message);
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
            BOOST_TEST(outcome.data == "e=other-error");
        }
    }
}

BOOST_AUTO_TEST_CASE(scram_plus_requires_tls)
{
    const postern::sasl::context unencrypted_with_bindings{
        .server_identity = "mail.example.com", .bindings = &tls_bindings};
    const postern::sasl::context encrypted_without_bindings{
        .server_identity = "mail.example.com", .encrypted = true};
    const postern::sasl::context* connections[] = {
        &plain_connection, &unencrypted_with_bindings,
        &encrypted_without_bindings};
    for (const auto* connection : connections) {
        scram_sha256_plus with_initial(*connection);
        const step outcome =
            with_initial.start("p=tls-exporter,,n=user,r=abc");
        BOOST_TEST(outcome.kind == step_kind::failure);
        BOOST_TEST(outcome.reason == failure_reason::malformed);
        BOOST_TEST(outcome.data == "e=channel-binding-not-supported");

        scram_sha256_plus without_initial(*connection);
        BOOST_TEST(without_initial.start(std::nullopt).data ==
                   "e=channel-binding-not-supported");
    }
}

BOOST_AUTO_TEST_CASE(scram_y_flag_fails_when_plus_advertised)
{
    scram_sha256 mechanism(plus_advertised_connection);
    const step outcome = mechanism.start("y,,n=user,r=abc");
    BOOST_TEST(outcome.kind == step_kind::failure);
    BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
    BOOST_TEST(outcome.data == "e=server-does-support-channel-binding");
}

BOOST_AUTO_TEST_CASE(scram_y_flag_passes_without_plus_advertised)
{
    const step plain = run_exchange<scram_sha256>(plain_connection, "y,,", "");
    BOOST_TEST(plain.kind == step_kind::success);
    BOOST_TEST(plain.authcid == "user");

    const step tls = run_exchange<scram_sha1>(tls_connection, "y,,", "");
    BOOST_TEST(tls.kind == step_kind::success);
}

BOOST_AUTO_TEST_CASE(scram_n_flag_passes_when_plus_advertised)
{
    const step outcome =
        run_exchange<scram_sha256>(plus_advertised_connection, "n,,", "");
    BOOST_TEST(outcome.kind == step_kind::success);
}

BOOST_AUTO_TEST_CASE(scram_rejects_p_flag_without_plus)
{
    const std::string messages[] = {"p=tls-exporter,,n=user,r=abc",
                                    "p=tls-unique,,n=user,r=abc"};
    for (const auto& message : messages) {
        BOOST_TEST_CONTEXT(message)
        {
            scram_sha256 mechanism(plus_advertised_connection);
            const step outcome = mechanism.start(message);
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
            BOOST_TEST(outcome.data == "e=other-error");
        }
    }
}

BOOST_AUTO_TEST_CASE(scram_unknown_user_gets_stable_fake_salt)
{
    auto server_first_for = [](std::string_view user) {
        scram_sha256 mechanism(plain_connection);
        return reach_server_first(mechanism,
                                  "n,,n=" + std::string(user) + ",r=abc",
                                  nullptr, user);
    };
    const std::string first = server_first_for("nobody");
    const std::string again = server_first_for("nobody");
    const std::string other = server_first_for("someone");

    const std::string salt = attribute_of(first, 's');
    BOOST_TEST(base64_decode(salt).value_or("").size() == 16u);
    BOOST_TEST(salt == attribute_of(again, 's'));
    BOOST_TEST(salt != attribute_of(other, 's'));
    BOOST_TEST(attribute_of(first, 'i') == "4096");
    BOOST_TEST(attribute_of(first, 'r') != attribute_of(again, 'r'));

    // The same user gets another salt under SCRAM-SHA-1.
    scram_sha1 sha1(plain_connection);
    const std::string sha1_first =
        reach_server_first(sha1, "n,,n=nobody,r=abc", nullptr, "nobody");
    BOOST_TEST(attribute_of(sha1_first, 's') != salt);
}

BOOST_AUTO_TEST_CASE(scram_unknown_user_fails_at_proof)
{
    scram_sha256 mechanism(plain_connection);
    const std::string bare = "n=nobody,r=abc";
    const std::string server_first =
        reach_server_first(mechanism, "n,," + bare, nullptr, "nobody");
    const auto reply =
        answer_server_first(EVP_sha256(), "pencil", bare, server_first, "n,,");
    const step outcome = mechanism.respond(reply.client_final);
    BOOST_TEST(outcome.kind == step_kind::failure);
    BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
    BOOST_TEST(outcome.data == "e=invalid-proof");
}

// A user whose directory entry has no keys for this hash, or unusable
// ones, is handled like an unknown user.
BOOST_AUTO_TEST_CASE(scram_user_without_usable_keys_fails_at_proof)
{
    const credentials published = published_user();
    credentials sha1_only = published;
    sha1_only.scram_sha256.reset();
    credentials too_few_iterations = published;
    too_few_iterations.scram_sha256->iterations = 4095;
    credentials too_many_iterations = published;
    too_many_iterations.scram_sha256->iterations = 10'000'001;
    credentials short_key = published;
    short_key.scram_sha256->stored_key.pop_back();
    credentials empty_salt = published;
    empty_salt.scram_sha256->salt.clear();

    struct unusable_case {
        const char* label;
        const credentials* stored;
    };
    const unusable_case cases[] = {
        {"SHA-1 keys only", &sha1_only},
        {"4095 iterations", &too_few_iterations},
        {"10000001 iterations", &too_many_iterations},
        {"short StoredKey", &short_key},
        {"empty salt", &empty_salt},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            scram_sha256 mechanism(plain_connection);
            const std::string bare = "n=user,r=abc";
            const std::string server_first =
                reach_server_first(mechanism, "n,," + bare, c.stored);
            BOOST_TEST(attribute_of(server_first, 'i') == "4096");
            BOOST_TEST(attribute_of(server_first, 's') !=
                       base64_encode(sha256_example().salt));
            const auto reply = answer_server_first(
                EVP_sha256(), "pencil", bare, server_first, "n,,");
            const step outcome = mechanism.respond(reply.client_final);
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason ==
                       failure_reason::invalid_credentials);
            BOOST_TEST(outcome.data == "e=invalid-proof");
        }
    }
}

BOOST_AUTO_TEST_CASE(scram_accepts_maximum_stored_iterations)
{
    credentials stored = published_user();
    stored.scram_sha256->iterations = 10'000'000;
    scram_sha256 mechanism(plain_connection);
    const std::string server_first =
        reach_server_first(mechanism, "n,,n=user,r=abc", &stored);
    BOOST_TEST(attribute_of(server_first, 'i') == "10000000");
    BOOST_TEST(attribute_of(server_first, 's') ==
               base64_encode(sha256_example().salt));
}

BOOST_AUTO_TEST_CASE(scram_accepts_authzid_equal_to_user)
{
    const std::string headers[] = {"n,a=user,", "n,a=USER,"};
    for (const auto& header : headers) {
        BOOST_TEST_CONTEXT(header)
        {
            const step outcome =
                run_exchange<scram_sha256>(plain_connection, header, "");
            BOOST_TEST_REQUIRE(outcome.kind == step_kind::success);
            BOOST_TEST(outcome.authcid == "user");
            BOOST_TEST(outcome.authzid == header.substr(4, 4));
        }
    }
}

BOOST_AUTO_TEST_CASE(scram_rejects_authzid_of_other_user)
{
    const step outcome =
        run_exchange<scram_sha256>(plain_connection, "n,a=admin,", "");
    BOOST_TEST(outcome.kind == step_kind::failure);
    BOOST_TEST(outcome.reason == failure_reason::authzid_rejected);
    BOOST_TEST(outcome.data == "e=other-error");
}

// The authzid is checked only after the proof, so a wrong password with a
// foreign authzid reports invalid credentials.
BOOST_AUTO_TEST_CASE(scram_checks_proof_before_authzid)
{
    const step outcome = run_exchange<scram_sha256>(
        plain_connection, "n,a=admin,", "", "wrong");
    BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
    BOOST_TEST(outcome.data == "e=invalid-proof");
}

BOOST_AUTO_TEST_CASE(scram_lookup_carries_authzid)
{
    scram_sha256 mechanism(plain_connection);
    const step lookup = mechanism.start("n,a=ad=2Cmin,n=user,r=abc");
    BOOST_TEST_REQUIRE(lookup.kind == step_kind::lookup_credentials);
    BOOST_TEST(lookup.authcid == "user");
    BOOST_TEST(lookup.authzid == "ad,min");
}

BOOST_AUTO_TEST_CASE(scram_rejects_calls_out_of_order)
{
    const credentials stored = published_user();
    const auto& example = sha256_example();

    scram_sha256 not_started(plain_connection);
    BOOST_TEST(not_started.respond(example.client_first).reason ==
               failure_reason::malformed);

    scram_sha256 found_first(plain_connection);
    BOOST_TEST(found_first.found(&stored).reason ==
               failure_reason::malformed);

    scram_sha256 verified(plain_connection);
    BOOST_TEST(verified.start(example.client_first).kind ==
               step_kind::lookup_credentials);
    BOOST_TEST(verified.verified(true).reason == failure_reason::malformed);

    scram_sha256 started_twice(plain_connection);
    BOOST_TEST(started_twice.start(std::nullopt).kind ==
               step_kind::challenge);
    BOOST_TEST(started_twice.start(example.client_first).reason ==
               failure_reason::malformed);

    scram_sha256 awaiting_lookup(plain_connection);
    BOOST_TEST(awaiting_lookup.start(example.client_first).kind ==
               step_kind::lookup_credentials);
    BOOST_TEST(awaiting_lookup.respond(example.client_final).reason ==
               failure_reason::malformed);

    scram_sha256 found_twice(plain_connection,
                             fixed_server_nonce{example.server_nonce});
    reach_server_first(found_twice, example.client_first, &stored);
    BOOST_TEST(found_twice.found(&stored).reason ==
               failure_reason::malformed);

    scram_sha256 finished(plain_connection,
                          fixed_server_nonce{example.server_nonce});
    reach_server_first(finished, example.client_first, &stored);
    BOOST_TEST(finished.respond(example.client_final).kind ==
               step_kind::success);
    BOOST_TEST(finished.respond(example.client_final).reason ==
               failure_reason::malformed);
    BOOST_TEST(finished.respond("").reason == failure_reason::malformed);
}

BOOST_AUTO_TEST_CASE(scram_ends_after_failure)
{
    const auto& example = sha256_example();
    scram_sha256 mechanism(plain_connection);
    BOOST_TEST(mechanism.start(std::nullopt).kind == step_kind::challenge);
    BOOST_TEST(mechanism.respond("garbage").data == "e=invalid-encoding");
    const step again = mechanism.respond(example.client_first);
    BOOST_TEST(again.kind == step_kind::failure);
    BOOST_TEST(again.reason == failure_reason::malformed);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(scram_fake_salts)

BOOST_AUTO_TEST_CASE(fake_salt_folds_case_like_directories)
{
    using postern::sasl::detail::scram_fake_salt;
    BOOST_TEST(scram_fake_salt("SCRAM-SHA-256", "NoBody", "") ==
               scram_fake_salt("SCRAM-SHA-256", "nobody", ""));
    BOOST_TEST(scram_fake_salt("SCRAM-SHA-256", "nobody", "") !=
               scram_fake_salt("SCRAM-SHA-256", "someone", ""));
}

BOOST_AUTO_TEST_CASE(fake_salt_key_makes_it_stable)
{
    using postern::sasl::detail::scram_fake_salt;
    const std::string key(32, 'k');
    auto first = scram_fake_salt("SCRAM-SHA-1", "nobody", key);
    BOOST_TEST(first.size() == postern::sasl::scram_salt_octets);
    BOOST_TEST(first == scram_fake_salt("SCRAM-SHA-1", "nobody", key));
    BOOST_TEST(first != scram_fake_salt("SCRAM-SHA-1", "nobody", ""));
    BOOST_TEST(first !=
               scram_fake_salt("SCRAM-SHA-1", "nobody", std::string(32, 'j')));
}

BOOST_AUTO_TEST_SUITE_END()
