#include <postern/sasl/ntlm.hpp>

#include "test_printing.hpp"

#include <postern/core/md4.hpp>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ratio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using postern::directory::credentials;
using postern::sasl::failure_reason;
using postern::sasl::ntlm;
using postern::sasl::step_kind;

static_assert(postern::sasl::mechanism<ntlm>);

const postern::sasl::context connection{"mail.example.com", false};

postern::sasl::context ntlmv1_connection()
{
    postern::sasl::context allowing{"mail.example.com", false};
    allowing.allow_ntlmv1 = true;
    return allowing;
}

// NegotiateFlags bits ([MS-NLMP] section 2.2.2.5), written out here so
// that the tests do not trust the header's table.
constexpr std::uint32_t flag_unicode = 0x00000001;
constexpr std::uint32_t flag_oem = 0x00000002;
constexpr std::uint32_t flag_request_target = 0x00000004;
constexpr std::uint32_t flag_ntlm = 0x00000200;
constexpr std::uint32_t flag_always_sign = 0x00008000;
constexpr std::uint32_t flag_target_type_domain = 0x00010000;
constexpr std::uint32_t flag_extended_session_security = 0x00080000;
constexpr std::uint32_t flag_target_info = 0x00800000;
constexpr std::uint32_t flag_128 = 0x20000000;
constexpr std::uint32_t flag_56 = 0x80000000;

// What curl and Windows clients typically request.
constexpr std::uint32_t unicode_request = flag_unicode | flag_request_target |
                                          flag_ntlm |
                                          flag_extended_session_security;
constexpr std::uint32_t oem_request = flag_oem | flag_request_target |
                                      flag_ntlm | flag_always_sign |
                                      flag_extended_session_security;

const std::string signature("NTLMSSP\0", 8);

nlohmann::json load_vectors(const char* file_name)
{
    const char* directory = std::getenv("POSTERN_TEST_DATA");
    BOOST_TEST_REQUIRE(directory != nullptr);
    std::ifstream file(std::filesystem::path(directory) / file_name);
    BOOST_TEST_REQUIRE(file.is_open());
    return nlohmann::json::parse(file);
}

const nlohmann::json& nlmp_vectors()
{
    static const nlohmann::json vectors = load_vectors("ms-nlmp-4.2.json");
    return vectors;
}

std::string from_hex(std::string_view hex)
{
    BOOST_TEST_REQUIRE(hex.size() % 2 == 0u);
    const auto nibble = [](char c) {
        if (c >= '0' && c <= '9')
            return c - '0';
        BOOST_TEST_REQUIRE((c >= 'a' && c <= 'f'));
        return c - 'a' + 10;
    };
    std::string bytes;
    for (std::size_t i = 0; i < hex.size(); i += 2)
        bytes += static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1]));
    return bytes;
}

std::string hex_of(const nlohmann::json& object, const char* key)
{
    return from_hex(object.at(key).get<std::string>());
}

std::string to_hex(std::string_view bytes)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (char c : bytes) {
        const auto octet = static_cast<unsigned char>(c);
        hex += digits[octet >> 4];
        hex += digits[octet & 0x0f];
    }
    return hex;
}

template <std::size_t N>
std::string to_bytes(const std::array<std::uint8_t, N>& array)
{
    return {reinterpret_cast<const char*>(array.data()), N};
}

template <std::size_t N>
std::array<std::uint8_t, N> to_array(std::string_view bytes)
{
    BOOST_TEST_REQUIRE(bytes.size() == N);
    std::array<std::uint8_t, N> array{};
    for (std::size_t i = 0; i < N; ++i)
        array[i] = static_cast<std::uint8_t>(bytes[i]);
    return array;
}

std::array<std::uint8_t, 8> spec_server_challenge()
{
    return to_array<8>(
        hex_of(nlmp_vectors().at("common_values"), "server_challenge_hex"));
}

void put_le(std::string& out, std::uint64_t value, std::size_t width)
{
    for (std::size_t i = 0; i < width; ++i)
        out += static_cast<char>((value >> 8 * i) & 0xff);
}

std::uint32_t get_le(std::string_view bytes, std::size_t at,
                     std::size_t width)
{
    BOOST_TEST_REQUIRE(at + width <= bytes.size());
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < width; ++i)
        value |= std::uint32_t{static_cast<unsigned char>(bytes[at + i])}
                 << 8 * i;
    return value;
}

std::string utf16le(std::string_view ascii)
{
    std::string encoded;
    for (char c : ascii) {
        encoded += c;
        encoded += '\0';
    }
    return encoded;
}

// A NEGOTIATE_MESSAGE with empty domain and workstation fields.
std::string negotiate_message(std::uint32_t flags)
{
    std::string message = signature;
    put_le(message, 1, 4);
    put_le(message, flags, 4);
    for (int field = 0; field < 2; ++field) {
        put_le(message, 0, 4);
        put_le(message, 32, 4);
    }
    return message;
}

struct authenticate_fields {
    std::string lm_response;
    std::string nt_response;
    std::string domain;
    std::string user;
    std::string workstation;
    std::string session_key;
    std::uint32_t flags = flag_unicode | flag_ntlm;
};

// Security buffer positions in the AUTHENTICATE_MESSAGE header.
constexpr std::size_t lm_at = 12;
constexpr std::size_t nt_at = 20;
constexpr std::size_t domain_at = 28;
constexpr std::size_t user_at = 36;
constexpr std::size_t workstation_at = 44;
constexpr std::size_t session_key_at = 52;

void set_field(std::string& message, std::size_t at, std::uint32_t length,
               std::uint32_t offset)
{
    std::string field;
    put_le(field, length, 2);
    put_le(field, length, 2);
    put_le(field, offset, 4);
    message.replace(at, 8, field);
}

// An AUTHENTICATE_MESSAGE with a 64-octet header (no Version, no MIC) and
// the payloads in the order Windows writes them.
std::string authenticate_message(const authenticate_fields& fields)
{
    std::string message = signature;
    put_le(message, 3, 4);
    message.append(48, '\0');
    put_le(message, fields.flags, 4);

    const std::pair<std::size_t, const std::string*> payloads[] = {
        {domain_at, &fields.domain},
        {user_at, &fields.user},
        {workstation_at, &fields.workstation},
        {lm_at, &fields.lm_response},
        {nt_at, &fields.nt_response},
        {session_key_at, &fields.session_key},
    };
    for (const auto& [at, payload] : payloads) {
        set_field(message, at, static_cast<std::uint32_t>(payload->size()),
                  static_cast<std::uint32_t>(message.size()));
        message += *payload;
    }
    return message;
}

std::string hmac_md5(std::string_view key, std::string_view data)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    BOOST_TEST_REQUIRE(
        HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(),
             mac, &length) != nullptr);
    return {reinterpret_cast<const char*>(mac), length};
}

std::string upper_ascii(std::string text)
{
    for (char& c : text) {
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
    }
    return text;
}

// The NTLMv2 client computation ([MS-NLMP] section 3.3.2), written
// against OpenSSL here, so that it checks the header's own code.
std::string ntlmv2_response(std::string_view password, std::string_view user,
                            std::string_view domain,
                            std::string_view server_challenge,
                            std::string_view target_info)
{
    const std::string nt_hash = to_bytes(*postern::sasl::nt_hash(password));
    const std::string ntowf = hmac_md5(
        nt_hash, utf16le(upper_ascii(std::string(user))) + utf16le(domain));

    std::string temp("\x01\x01", 2);
    temp.append(6, '\0');
    temp += from_hex("0090d336b734c301"); // timestamp
    temp += from_hex("ffffff0011223344"); // client challenge
    temp.append(4, '\0');
    temp += target_info;
    temp.append(4, '\0');
    return hmac_md5(ntowf, std::string(server_challenge) + temp) + temp;
}

credentials account(std::string user, std::string_view password)
{
    credentials found;
    found.user = std::move(user);
    found.nt_hash = postern::sasl::nt_hash(password);
    return found;
}

// The fields of a CHALLENGE_MESSAGE ([MS-NLMP] section 2.2.1.2).
struct challenge_message {
    std::uint32_t flags = 0;
    std::string server_challenge;
    std::string target_name;
    std::string target_info;
    std::vector<std::pair<std::uint16_t, std::string>> av_pairs;
};

std::string read_security_buffer(std::string_view message, std::size_t at)
{
    const std::uint32_t length = get_le(message, at, 2);
    const std::uint32_t offset = get_le(message, at + 4, 4);
    BOOST_TEST_REQUIRE(offset >= 56u);
    BOOST_TEST_REQUIRE(std::uint64_t{offset} + length <= message.size());
    return std::string(message.substr(offset, length));
}

challenge_message parse_challenge(std::string_view message)
{
    BOOST_TEST_REQUIRE(message.size() >= 56u);
    BOOST_TEST(message.substr(0, 8) == signature);
    BOOST_TEST(get_le(message, 8, 4) == 2u);
    BOOST_TEST(to_hex(message.substr(32, 8)) == "0000000000000000");

    challenge_message parsed;
    parsed.target_name = read_security_buffer(message, 12);
    parsed.flags = get_le(message, 20, 4);
    parsed.server_challenge = message.substr(24, 8);
    parsed.target_info = read_security_buffer(message, 40);

    const std::string_view info = parsed.target_info;
    std::size_t at = 0;
    while (true) {
        const auto id = static_cast<std::uint16_t>(get_le(info, at, 2));
        const std::uint32_t length = get_le(info, at + 2, 2);
        BOOST_TEST_REQUIRE(at + 4 + length <= info.size());
        parsed.av_pairs.emplace_back(id, info.substr(at + 4, length));
        at += 4 + length;
        if (id == 0)
            break;
    }
    BOOST_TEST(at == info.size());
    return parsed;
}

// Sends a NEGOTIATE_MESSAGE with the challenge fixed to the one of
// [MS-NLMP] section 4.2.1 and returns the CHALLENGE_MESSAGE.
std::string negotiate(ntlm& mechanism, std::uint32_t flags = unicode_request)
{
    mechanism.set_server_challenge_for_testing(spec_server_challenge());
    const auto challenge = mechanism.start(negotiate_message(flags));
    BOOST_TEST_REQUIRE(challenge.kind == step_kind::challenge);
    return challenge.data;
}

// A valid NTLMv2 AUTHENTICATE_MESSAGE for alice after negotiate().
authenticate_fields alice_fields(std::string_view target_info)
{
    const std::string challenge = to_bytes(spec_server_challenge());
    authenticate_fields fields;
    fields.domain = utf16le("EXAMPLE");
    fields.user = utf16le("alice");
    fields.workstation = utf16le("DESKTOP");
    fields.lm_response = std::string(24, '\0');
    fields.nt_response = ntlmv2_response("secret", "alice", "EXAMPLE",
                                         challenge, target_info);
    return fields;
}

std::uint64_t filetime_now()
{
    const auto since_epoch = std::chrono::duration_cast<
        std::chrono::duration<std::int64_t, std::ratio<1, 10000000>>>(
        std::chrono::system_clock::now().time_since_epoch());
    return 116444736000000000u +
           static_cast<std::uint64_t>(since_epoch.count());
}

} // namespace

BOOST_AUTO_TEST_SUITE(ntlm_tests)

BOOST_AUTO_TEST_CASE(ntlm_has_registered_name)
{
    BOOST_TEST(ntlm::name == "NTLM");
    BOOST_TEST(ntlm::needs == postern::directory::secret_kind::nt_hash);
}

BOOST_AUTO_TEST_CASE(nt_hash_matches_ms_nlmp_ntowfv1)
{
    const auto& common = nlmp_vectors().at("common_values");
    const auto& v1 = nlmp_vectors().at("ntlm_v1");
    const auto password = common.at("passwd").get<std::string>();
    BOOST_TEST(password == "Password");

    const auto hash = postern::sasl::nt_hash(password);
    BOOST_TEST_REQUIRE(hash.has_value());
    BOOST_TEST(to_hex(to_bytes(*hash)) ==
               v1.at("ntowf_v1_hex").get<std::string>());
    BOOST_TEST(to_bytes(postern::md4_digest(hex_of(
                   common, "passwd_utf16le_hex"))) == to_bytes(*hash));
}

// Expected digests: OpenSSL 3.0's legacy MD4 over the UTF-16LE bytes
// written out by hand.
BOOST_AUTO_TEST_CASE(nt_hash_encodes_utf16le)
{
    struct hash_case {
        const char* label;
        std::string password;
        const char* hash_hex;
    };
    const hash_case cases[] = {
        {"ASCII", "Password", "a4f49c406510bdcab6824ee7c30fd852"},
        {"two-octet UTF-8", "J\xc3\xbcrgen",
         "5c9fbd9f6dcd96272af15f8e6fbbb80f"},
        {"surrogate pair for U+1F511", "key\xf0\x9f\x94\x91",
         "1726c43e035f7b577de890400bd43111"},
        {"empty", "", "31d6cfe0d16ae931b73c59d7e0c089c0"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            const auto hash = postern::sasl::nt_hash(c.password);
            BOOST_TEST_REQUIRE(hash.has_value());
            BOOST_TEST(to_hex(to_bytes(*hash)) == std::string(c.hash_hex));
        }
    }
}

BOOST_AUTO_TEST_CASE(nt_hash_rejects_invalid_utf8)
{
    struct invalid_case {
        const char* label;
        std::string password;
    };
    const invalid_case cases[] = {
        {"lone continuation octet", "pass\x80"},
        {"truncated sequence", "pass\xc3"},
        {"overlong NUL", "pass\xc0\x80"},
        {"UTF-16 surrogate", "pass\xed\xa0\x80"},
        {"above U+10FFFF", "pass\xf4\x90\x80\x80"},
        {"Latin-1", "J\xfcrgen"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            BOOST_TEST(!postern::sasl::nt_hash(c.password).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(ntlm_computes_ms_nlmp_v1_responses)
{
    namespace detail = postern::sasl::detail;
    const auto& common = nlmp_vectors().at("common_values");
    const auto& v1 = nlmp_vectors().at("ntlm_v1");
    const auto& ess = nlmp_vectors().at("ntlm_v1_extended_session_security");
    const auto key = to_array<16>(hex_of(v1, "ntowf_v1_hex"));
    const auto server = spec_server_challenge();
    const auto client =
        to_array<8>(hex_of(common, "client_challenge_hex"));

    const auto response = detail::ntlmv1_response(key, server);
    BOOST_TEST_REQUIRE(response.has_value());
    BOOST_TEST(to_hex(to_bytes(*response)) ==
               v1.at("ntlmv1_response_hex").get<std::string>());

    const auto session = detail::ntlm2_session_response(key, server, client);
    BOOST_TEST_REQUIRE(session.has_value());
    BOOST_TEST(to_hex(to_bytes(*session)) ==
               ess.at("ntlmv1_response_hex").get<std::string>());
}

BOOST_AUTO_TEST_CASE(ntlm_computes_ms_nlmp_v2_values)
{
    namespace detail = postern::sasl::detail;
    const auto& common = nlmp_vectors().at("common_values");
    const auto& v2 = nlmp_vectors().at("ntlm_v2");
    const auto key = *postern::sasl::nt_hash("Password");
    const auto server = spec_server_challenge();
    const auto client =
        to_array<8>(hex_of(common, "client_challenge_hex"));

    const auto ntowf =
        detail::ntowf_v2(key, hex_of(common, "user_utf16le_hex"),
                         hex_of(common, "user_dom_utf16le_hex"));
    BOOST_TEST_REQUIRE(ntowf.has_value());
    BOOST_TEST(to_hex(to_bytes(*ntowf)) ==
               v2.at("ntowf_v2_hex").get<std::string>());

    const std::string temp = hex_of(v2, "temp_hex");
    const auto proof = detail::nt_proof_str(*ntowf, server, temp);
    BOOST_TEST_REQUIRE(proof.has_value());
    BOOST_TEST(to_hex(to_bytes(*proof)) ==
               v2.at("nt_proof_str_hex").get<std::string>());
    BOOST_TEST(to_hex(to_bytes(*proof) + temp) ==
               v2.at("computed_nt_challenge_response_hex").get<std::string>());

    const auto lmv2 = detail::lmv2_response(*ntowf, server, client);
    BOOST_TEST_REQUIRE(lmv2.has_value());
    BOOST_TEST(to_hex(to_bytes(*lmv2)) ==
               v2.at("lmv2_response_hex").get<std::string>());
}

BOOST_AUTO_TEST_CASE(ntlm_verifies_ms_nlmp_v2_message)
{
    const auto& v2 = nlmp_vectors().at("ntlm_v2");
    ntlm mechanism(connection);
    negotiate(mechanism);

    const auto lookup =
        mechanism.respond(hex_of(v2.at("authenticate_message"), "hex"));
    BOOST_TEST_REQUIRE(lookup.kind == step_kind::lookup_credentials);
    BOOST_TEST(lookup.authcid == "User");

    const credentials user = account("User", "Password");
    const auto outcome = mechanism.found(&user);
    BOOST_TEST(outcome.kind == step_kind::success);
    BOOST_TEST(outcome.authcid == "User");
    BOOST_TEST(outcome.data.empty());
    BOOST_TEST(outcome.note.empty());
}

// The AUTHENTICATE_MESSAGE rebuilt from the 4.2.1 values and the computed
// responses, with the payloads in another order than the spec's.
BOOST_AUTO_TEST_CASE(ntlm_verifies_v2_built_from_vectors)
{
    const auto& common = nlmp_vectors().at("common_values");
    const auto& v2 = nlmp_vectors().at("ntlm_v2");
    authenticate_fields fields;
    fields.domain = hex_of(common, "user_dom_utf16le_hex");
    fields.user = hex_of(common, "user_utf16le_hex");
    fields.workstation = hex_of(common, "workstation_name_utf16le_hex");
    fields.lm_response = hex_of(v2, "lmv2_response_hex");
    fields.nt_response = hex_of(v2, "computed_nt_challenge_response_hex");
    fields.session_key = hex_of(v2, "encrypted_session_key_hex");

    struct variant_case {
        const char* label;
        bool with_nt_response;
    };
    const variant_case cases[] = {
        {"NTLMv2 with LMv2", true},
        {"LMv2 alone", false},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            authenticate_fields sent = fields;
            if (!c.with_nt_response)
                sent.nt_response.clear();
            ntlm mechanism(connection);
            negotiate(mechanism);
            const auto lookup =
                mechanism.respond(authenticate_message(sent));
            BOOST_TEST_REQUIRE(lookup.kind == step_kind::lookup_credentials);
            BOOST_TEST(lookup.authcid == "User");

            const credentials user = account("User", "Password");
            const auto outcome = mechanism.found(&user);
            BOOST_TEST(outcome.kind == step_kind::success);
            BOOST_TEST(outcome.authcid == "User");
        }
    }
}

BOOST_AUTO_TEST_CASE(ntlm_rejects_wrong_password)
{
    const auto& v2 = nlmp_vectors().at("ntlm_v2");
    const std::string message = hex_of(v2.at("authenticate_message"), "hex");
    credentials without_hash;
    without_hash.user = "User";

    struct account_case {
        const char* label;
        std::optional<credentials> found;
    };
    const account_case cases[] = {
        {"wrong password", account("User", "password")},
        {"unknown user", std::nullopt},
        {"account without NT hash", without_hash},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            ntlm mechanism(connection);
            negotiate(mechanism);
            BOOST_TEST_REQUIRE(mechanism.respond(message).kind ==
                               step_kind::lookup_credentials);
            const auto outcome =
                mechanism.found(c.found ? &*c.found : nullptr);
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
            BOOST_TEST(outcome.authcid.empty());
            BOOST_TEST(outcome.note.empty());
        }
    }
}

// The LMv2 response of the vectors was computed with the server challenge
// of 4.2.1, so another challenge must make it fail.
BOOST_AUTO_TEST_CASE(ntlm_rejects_response_to_other_challenge)
{
    const auto& v2 = nlmp_vectors().at("ntlm_v2");
    ntlm mechanism(connection);
    mechanism.set_server_challenge_for_testing(
        {0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10});
    BOOST_TEST_REQUIRE(mechanism.start(negotiate_message(unicode_request))
                           .kind == step_kind::challenge);
    BOOST_TEST_REQUIRE(
        mechanism.respond(hex_of(v2.at("authenticate_message"), "hex"))
            .kind == step_kind::lookup_credentials);

    const credentials user = account("User", "Password");
    const auto outcome = mechanism.found(&user);
    BOOST_TEST(outcome.kind == step_kind::failure);
    BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
}

BOOST_AUTO_TEST_CASE(ntlm_rejects_v1_when_disabled)
{
    struct v1_case {
        const char* label;
        const char* section;
    };
    const v1_case cases[] = {
        {"NTLMv1", "ntlm_v1"},
        {"NTLM2 session response", "ntlm_v1_extended_session_security"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            const auto& vectors = nlmp_vectors().at(c.section);
            ntlm mechanism(connection);
            negotiate(mechanism);
            const auto outcome = mechanism.respond(
                hex_of(vectors.at("authenticate_message"), "hex"));
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
            BOOST_TEST(outcome.note == "NTLMv1 is disabled (setting ntlm_v1)");
            BOOST_TEST(outcome.authcid == "User");

            const credentials user = account("User", "Password");
            BOOST_TEST(mechanism.found(&user).reason ==
                       failure_reason::malformed);
        }
    }
}

BOOST_AUTO_TEST_CASE(ntlm_verifies_v1_when_enabled)
{
    struct v1_case {
        const char* label;
        const char* section;
        const char* password;
        step_kind expected;
    };
    const v1_case cases[] = {
        {"NTLMv1", "ntlm_v1", "Password", step_kind::success},
        {"NTLM2 session response", "ntlm_v1_extended_session_security",
         "Password", step_kind::success},
        {"NTLMv1, wrong password", "ntlm_v1", "password", step_kind::failure},
        {"NTLM2 session response, wrong password",
         "ntlm_v1_extended_session_security", "password",
         step_kind::failure},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            const auto& vectors = nlmp_vectors().at(c.section);
            ntlm mechanism(ntlmv1_connection());
            negotiate(mechanism);
            const auto lookup = mechanism.respond(
                hex_of(vectors.at("authenticate_message"), "hex"));
            BOOST_TEST_REQUIRE(lookup.kind == step_kind::lookup_credentials);
            BOOST_TEST(lookup.authcid == "User");

            const credentials user = account("User", c.password);
            const auto outcome = mechanism.found(&user);
            BOOST_TEST(outcome.kind == c.expected);
            if (c.expected == step_kind::success) {
                BOOST_TEST(outcome.authcid == "User");
            } else {
                BOOST_TEST(outcome.reason ==
                           failure_reason::invalid_credentials);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(ntlm_maps_user_names_to_accounts)
{
    struct mapping_case {
        const char* label;
        std::string user;
        std::string domain;
        std::string response_domain; // UserDom of the client's NTOWFv2
        std::string account;
    };
    const mapping_case cases[] = {
        {"plain user with domain field", "alice", "EXAMPLE", "EXAMPLE",
         "alice"},
        {"plain user, no domain", "alice", "", "", "alice"},
        {"DOMAIN\\user in user field", "EXAMPLE\\alice", "", "", "alice"},
        {"user@domain", "alice@example.com", "", "", "alice"},
        {"mixed case", "Alice", "example", "example", "Alice"},
        {"client left UserDom out", "alice", "EXAMPLE", "", "alice"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            ntlm mechanism(connection);
            const auto target_info =
                parse_challenge(negotiate(mechanism)).target_info;

            authenticate_fields fields;
            fields.user = utf16le(c.user);
            fields.domain = utf16le(c.domain);
            fields.nt_response = ntlmv2_response(
                "secret", c.user, c.response_domain,
                to_bytes(spec_server_challenge()), target_info);
            const auto lookup =
                mechanism.respond(authenticate_message(fields));
            BOOST_TEST_REQUIRE(lookup.kind == step_kind::lookup_credentials);
            BOOST_TEST(lookup.authcid == c.account);

            const credentials found = account(c.account, "secret");
            const auto outcome = mechanism.found(&found);
            BOOST_TEST(outcome.kind == step_kind::success);
            BOOST_TEST(outcome.authcid == c.account);
        }
    }
}

BOOST_AUTO_TEST_CASE(ntlm_sends_challenge_message)
{
    struct challenge_case {
        const char* label;
        std::uint32_t requested;
        std::uint32_t expected;
        std::string target_name;
    };
    constexpr std::uint32_t always = flag_ntlm | flag_request_target |
                                     flag_target_type_domain |
                                     flag_target_info;
    const challenge_case cases[] = {
        {"UNICODE with extended session security", unicode_request,
         always | flag_unicode | flag_extended_session_security,
         utf16le("EXAMPLE")},
        {"OEM, as curl requests", oem_request,
         always | flag_oem | flag_extended_session_security, "EXAMPLE"},
        {"UNICODE and OEM", flag_unicode | flag_oem | flag_ntlm,
         always | flag_unicode, utf16le("EXAMPLE")},
        {"128 and 56 bits", flag_unicode | flag_ntlm | flag_128 | flag_56,
         always | flag_unicode | flag_128 | flag_56, utf16le("EXAMPLE")},
        {"no flags", 0, always | flag_oem, "EXAMPLE"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            ntlm mechanism(connection);
            const std::uint64_t before = filetime_now();
            const auto parsed =
                parse_challenge(negotiate(mechanism, c.requested));
            const std::uint64_t after = filetime_now();

            BOOST_TEST(parsed.flags == c.expected);
            BOOST_TEST(to_hex(parsed.server_challenge) == "0123456789abcdef");
            BOOST_TEST(parsed.target_name == c.target_name);

            BOOST_TEST_REQUIRE(parsed.av_pairs.size() == 6u);
            const std::pair<std::uint16_t, std::string> names[] = {
                {2, utf16le("EXAMPLE")},
                {1, utf16le("MAIL")},
                {4, utf16le("example.com")},
                {3, utf16le("mail.example.com")},
            };
            for (std::size_t i = 0; i < 4; ++i) {
                BOOST_TEST(parsed.av_pairs[i].first == names[i].first);
                BOOST_TEST(parsed.av_pairs[i].second == names[i].second);
            }
            BOOST_TEST(parsed.av_pairs[4].first == 7u);
            BOOST_TEST_REQUIRE(parsed.av_pairs[4].second.size() == 8u);
            const std::uint64_t timestamp =
                get_le(parsed.av_pairs[4].second, 0, 4) |
                std::uint64_t{get_le(parsed.av_pairs[4].second, 4, 4)} << 32;
            BOOST_TEST(timestamp >= before);
            BOOST_TEST(timestamp <= after);
            BOOST_TEST(parsed.av_pairs[5].first == 0u);
            BOOST_TEST(parsed.av_pairs[5].second.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(ntlm_derives_names_from_identity)
{
    struct names_case {
        const char* label;
        std::string identity;
        std::string nb_computer;
        std::string nb_domain;
        std::string dns_computer;
        std::string dns_domain;
    };
    const names_case cases[] = {
        {"three labels", "mail.example.com", "MAIL", "EXAMPLE",
         "mail.example.com", "example.com"},
        {"single label", "localhost", "LOCALHOST", "LOCALHOST", "localhost",
         "localhost"},
        {"trailing dot", "mail.example.com.", "MAIL", "EXAMPLE",
         "mail.example.com", "example.com"},
        {"long labels", "smtp-relay-eu-west-1.corporate-example.org",
         "SMTP-RELAY-EU-W", "CORPORATE-EXAMP",
         "smtp-relay-eu-west-1.corporate-example.org",
         "corporate-example.org"},
        {"two labels", "Example.COM", "EXAMPLE", "COM", "Example.COM", "COM"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            const auto names =
                postern::sasl::detail::derive_ntlm_names(c.identity);
            BOOST_TEST(names.nb_computer_name == c.nb_computer);
            BOOST_TEST(names.nb_domain_name == c.nb_domain);
            BOOST_TEST(names.dns_computer_name == c.dns_computer);
            BOOST_TEST(names.dns_domain_name == c.dns_domain);
        }
    }
}

BOOST_AUTO_TEST_CASE(ntlm_sends_empty_challenge_without_initial_response)
{
    ntlm mechanism(connection);
    mechanism.set_server_challenge_for_testing(spec_server_challenge());
    const auto first = mechanism.start(std::nullopt);
    BOOST_TEST(first.kind == step_kind::challenge);
    BOOST_TEST(first.data.empty());

    const auto second = mechanism.respond(negotiate_message(unicode_request));
    BOOST_TEST_REQUIRE(second.kind == step_kind::challenge);
    const auto parsed = parse_challenge(second.data);
    BOOST_TEST(to_hex(parsed.server_challenge) == "0123456789abcdef");

    const auto lookup = mechanism.respond(
        authenticate_message(alice_fields(parsed.target_info)));
    BOOST_TEST_REQUIRE(lookup.kind == step_kind::lookup_credentials);
    const credentials alice = account("alice", "secret");
    BOOST_TEST(mechanism.found(&alice).kind == step_kind::success);
}

BOOST_AUTO_TEST_CASE(ntlm_accepts_negotiate_message_forms)
{
    std::string short_form = signature;
    put_le(short_form, 1, 4);
    put_le(short_form, unicode_request, 4);

    std::string with_version = negotiate_message(unicode_request);
    with_version += from_hex("0a0063450000000f");

    // Domain and workstation supplied, as OEM strings after the header.
    std::string with_names = negotiate_message(unicode_request | 0x3000);
    set_field(with_names, 16, 7, 32);
    set_field(with_names, 24, 7, 39);
    with_names += "EXAMPLEDESKTOP";

    struct form_case {
        const char* label;
        std::string message;
    };
    const form_case cases[] = {
        {"16 octets, no fields", short_form},
        {"32 octets", negotiate_message(unicode_request)},
        {"with Version", with_version},
        {"with domain and workstation", with_names},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            ntlm mechanism(connection);
            const auto challenge = mechanism.start(c.message);
            BOOST_TEST(challenge.kind == step_kind::challenge);
            const auto parsed = parse_challenge(challenge.data);
            BOOST_TEST((parsed.flags & flag_unicode) != 0u);
        }
    }
}

// curl requests OEM strings, so its AUTHENTICATE_MESSAGE carries 8-bit
// names and no UNICODE flag.
BOOST_AUTO_TEST_CASE(ntlm_accepts_oem_exchange)
{
    ntlm mechanism(connection);
    const auto parsed = parse_challenge(negotiate(mechanism, oem_request));
    BOOST_TEST((parsed.flags & flag_oem) != 0u);

    authenticate_fields fields;
    fields.flags = oem_request;
    fields.user = "alice";
    fields.workstation = "curlhost";
    fields.nt_response =
        ntlmv2_response("secret", "alice", "",
                        to_bytes(spec_server_challenge()), parsed.target_info);
    const auto lookup = mechanism.respond(authenticate_message(fields));
    BOOST_TEST_REQUIRE(lookup.kind == step_kind::lookup_credentials);
    BOOST_TEST(lookup.authcid == "alice");

    const credentials alice = account("alice", "secret");
    BOOST_TEST(mechanism.found(&alice).kind == step_kind::success);
}

BOOST_AUTO_TEST_CASE(ntlm_uses_random_server_challenge)
{
    ntlm first(connection);
    ntlm second(connection);
    const auto first_challenge = parse_challenge(
        first.start(negotiate_message(unicode_request)).data);
    const auto second_challenge = parse_challenge(
        second.start(negotiate_message(unicode_request)).data);
    // Equal challenges have probability 2^-64 with working randomness.
    BOOST_TEST(first_challenge.server_challenge !=
               second_challenge.server_challenge);

    authenticate_fields fields = alice_fields(first_challenge.target_info);
    fields.nt_response = ntlmv2_response(
        "secret", "alice", "EXAMPLE", first_challenge.server_challenge,
        first_challenge.target_info);
    BOOST_TEST_REQUIRE(first.respond(authenticate_message(fields)).kind ==
                       step_kind::lookup_credentials);
    const credentials alice = account("alice", "secret");
    BOOST_TEST(first.found(&alice).kind == step_kind::success);
}

BOOST_AUTO_TEST_CASE(ntlm_rejects_malformed_negotiate_messages)
{
    const std::string valid = negotiate_message(unicode_request);

    std::string bad_signature = valid;
    bad_signature[7] = 'X';
    std::string challenge_type = valid;
    challenge_type[8] = '\x02';
    std::string domain_past_end = valid;
    set_field(domain_past_end, 16, 4, 32);
    std::string workstation_in_header = valid;
    set_field(workstation_in_header, 24, 4, 8);
    std::string workstation_wraps = valid;
    set_field(workstation_wraps, 24, 2, 0xffffffff);
    std::string oversized = valid;
    oversized.resize(4097, 'x');

    const auto& v2 = nlmp_vectors().at("ntlm_v2");
    struct reject_case {
        const char* label;
        std::string message;
    };
    const reject_case cases[] = {
        {"empty", ""},
        {"bad signature", bad_signature},
        {"wrong message type", challenge_type},
        {"AUTHENTICATE before NEGOTIATE",
         hex_of(v2.at("authenticate_message"), "hex")},
        {"truncated signature", valid.substr(0, 7)},
        {"truncated flags", valid.substr(0, 14)},
        {"truncated fields", valid.substr(0, 24)},
        {"domain past end", domain_past_end},
        {"workstation in header", workstation_in_header},
        {"workstation offset 0xffffffff", workstation_wraps},
        {"4097 octets", oversized},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            ntlm initial(connection);
            const auto outcome = initial.start(c.message);
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason == failure_reason::malformed);

            ntlm responded(connection);
            BOOST_TEST_REQUIRE(responded.start(std::nullopt).kind ==
                               step_kind::challenge);
            BOOST_TEST(responded.respond(c.message).reason ==
                       failure_reason::malformed);
        }
    }
}

BOOST_AUTO_TEST_CASE(ntlm_rejects_malformed_authenticate_messages)
{
    ntlm probe(connection);
    const std::string target_info =
        parse_challenge(negotiate(probe)).target_info;
    const std::string valid = authenticate_message(alice_fields(target_info));
    const auto past_end = [&](std::size_t at) {
        std::string message = valid;
        set_field(message, at, 4,
                  static_cast<std::uint32_t>(message.size() - 2));
        return message;
    };
    const auto in_header = [&](std::size_t at) {
        std::string message = valid;
        set_field(message, at, 4, 60);
        return message;
    };
    const auto field_text = [&](std::size_t at, std::string text) {
        authenticate_fields fields = alice_fields(target_info);
        if (at == domain_at)
            fields.domain = std::move(text);
        else if (at == user_at)
            fields.user = std::move(text);
        else
            fields.workstation = std::move(text);
        return authenticate_message(fields);
    };

    std::string bad_signature = valid;
    bad_signature[0] = 'n';
    std::string negotiate_type = valid;
    negotiate_type[8] = '\x01';
    std::string nt_wraps = valid;
    set_field(nt_wraps, nt_at, 2, 0xffffffff);
    std::string oversized = valid;
    oversized.resize(4097, '\0');
    authenticate_fields short_nt = alice_fields(target_info);
    short_nt.nt_response.resize(16);
    authenticate_fields ess_without_lm = short_nt;
    ess_without_lm.nt_response.resize(24);
    ess_without_lm.lm_response.clear();
    ess_without_lm.flags |= flag_extended_session_security;

    struct reject_case {
        const char* label;
        std::string message;
    };
    const reject_case cases[] = {
        {"bad signature", bad_signature},
        {"NEGOTIATE again", negotiate_type},
        {"truncated header", valid.substr(0, 63)},
        {"LM response past end", past_end(lm_at)},
        {"NT response past end", past_end(nt_at)},
        {"domain past end", past_end(domain_at)},
        {"user past end", past_end(user_at)},
        {"workstation past end", past_end(workstation_at)},
        {"session key past end", past_end(session_key_at)},
        {"LM response in header", in_header(lm_at)},
        {"NT response in header", in_header(nt_at)},
        {"domain in header", in_header(domain_at)},
        {"user in header", in_header(user_at)},
        {"workstation in header", in_header(workstation_at)},
        {"session key in header", in_header(session_key_at)},
        {"NT offset 0xffffffff", nt_wraps},
        {"4097 octets", oversized},
        {"odd-length domain", field_text(domain_at, "EXAMPLE")},
        {"odd-length user", field_text(user_at, utf16le("alice") + "x")},
        {"odd-length workstation", field_text(workstation_at, "DESKTOP")},
        {"unpaired surrogate in user",
         field_text(user_at, utf16le("al") + from_hex("00d8"))},
        {"16-octet NT response", authenticate_message(short_nt)},
        {"NTLM2 session without LM response",
         authenticate_message(ess_without_lm)},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            ntlm mechanism(ntlmv1_connection());
            negotiate(mechanism);
            const auto outcome = mechanism.respond(c.message);
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason == failure_reason::malformed);
        }
    }
}

BOOST_AUTO_TEST_CASE(ntlm_rejects_non_ascii_oem_names)
{
    ntlm mechanism(connection);
    negotiate(mechanism, oem_request);
    authenticate_fields fields;
    fields.flags = oem_request;
    fields.user = "J\xfcrgen";
    fields.nt_response = std::string(48, 'x');
    const auto outcome = mechanism.respond(authenticate_message(fields));
    BOOST_TEST(outcome.kind == step_kind::failure);
    BOOST_TEST(outcome.reason == failure_reason::malformed);
}

BOOST_AUTO_TEST_CASE(ntlm_rejects_anonymous)
{
    struct anonymous_case {
        const char* label;
        std::string user;
        std::string lm_response;
        std::string nt_response;
    };
    const anonymous_case cases[] = {
        {"empty user and responses", "", "", ""},
        {"empty user, one-zero LM response", "", std::string(1, '\0'), ""},
        {"empty user with NTLMv2 response", "", "", std::string(48, 'x')},
        {"domain prefix only", utf16le("EXAMPLE\\"), "",
         std::string(48, 'x')},
        {"user with no responses", utf16le("alice"), "", ""},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            ntlm mechanism(connection);
            negotiate(mechanism);
            authenticate_fields fields;
            fields.flags |= 0x00000800; // NTLMSSP_NEGOTIATE_ANONYMOUS
            fields.user = c.user;
            fields.lm_response = c.lm_response;
            fields.nt_response = c.nt_response;
            const auto outcome =
                mechanism.respond(authenticate_message(fields));
            BOOST_TEST(outcome.kind == step_kind::failure);
            BOOST_TEST(outcome.reason == failure_reason::invalid_credentials);
        }
    }
}

BOOST_AUTO_TEST_CASE(ntlm_rejects_calls_out_of_order)
{
    const std::string type1 = negotiate_message(unicode_request);

    ntlm not_started(connection);
    BOOST_TEST(not_started.respond(type1).reason == failure_reason::malformed);

    ntlm started_twice(connection);
    BOOST_TEST(started_twice.start(std::nullopt).kind == step_kind::challenge);
    BOOST_TEST(started_twice.start(type1).reason == failure_reason::malformed);

    ntlm verified(connection);
    BOOST_TEST(verified.start(type1).kind == step_kind::challenge);
    BOOST_TEST(verified.verified(true).reason == failure_reason::malformed);

    const credentials alice = account("alice", "secret");
    ntlm found_early(connection);
    BOOST_TEST(found_early.start(type1).kind == step_kind::challenge);
    BOOST_TEST(found_early.found(&alice).reason == failure_reason::malformed);

    ntlm finished(connection);
    const auto target_info = parse_challenge(negotiate(finished)).target_info;
    BOOST_TEST(finished.respond(authenticate_message(alice_fields(target_info)))
                   .kind == step_kind::lookup_credentials);
    BOOST_TEST(finished.found(&alice).kind == step_kind::success);
    BOOST_TEST(finished.found(&alice).reason == failure_reason::malformed);
    BOOST_TEST(finished.respond(type1).reason == failure_reason::malformed);
}

// Outlook first tries the Windows logon credentials and then, in a new
// AUTH, the configured ones. Each AUTH gets a new mechanism object, and a
// failed one ends without affecting the next.
BOOST_AUTO_TEST_CASE(ntlm_succeeds_after_failed_exchange)
{
    const credentials alice = account("alice", "secret");

    ntlm failed(connection);
    const auto target_info = parse_challenge(negotiate(failed)).target_info;
    authenticate_fields wrong = alice_fields(target_info);
    wrong.nt_response = ntlmv2_response("windows-logon", "alice", "EXAMPLE",
                                        to_bytes(spec_server_challenge()),
                                        target_info);
    BOOST_TEST_REQUIRE(failed.respond(authenticate_message(wrong)).kind ==
                       step_kind::lookup_credentials);
    BOOST_TEST(failed.found(&alice).reason ==
               failure_reason::invalid_credentials);
    BOOST_TEST(failed.respond(negotiate_message(unicode_request)).reason ==
               failure_reason::malformed);

    ntlm retried(connection);
    const auto retry_info = parse_challenge(negotiate(retried)).target_info;
    BOOST_TEST_REQUIRE(
        retried.respond(authenticate_message(alice_fields(retry_info))).kind ==
        step_kind::lookup_credentials);
    BOOST_TEST(retried.found(&alice).kind == step_kind::success);
}

BOOST_AUTO_TEST_SUITE_END()
