#include <postern/core/base64.hpp>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace {

nlohmann::json load_vectors(const char* file_name)
{
    const char* directory = std::getenv("POSTERN_TEST_DATA");
    BOOST_TEST_REQUIRE(directory != nullptr);
    std::ifstream file(std::filesystem::path(directory) / file_name);
    BOOST_TEST_REQUIRE(file.is_open());
    return nlohmann::json::parse(file);
}

std::string repeat(std::string_view text, std::size_t count)
{
    std::string result;
    for (std::size_t i = 0; i < count; ++i)
        result += text;
    return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(base64)

BOOST_AUTO_TEST_CASE(base64_encodes_rfc4648_vectors)
{
    const auto vectors = load_vectors("rfc4648-base64.json").at("base64");
    BOOST_TEST_REQUIRE(vectors.size() == 7u);
    for (const auto& vector : vectors) {
        const auto input = vector.at("input").get<std::string>();
        const auto output = vector.at("output").get<std::string>();
        BOOST_TEST_CONTEXT("input \"" << input << "\"")
        {
            BOOST_TEST(postern::base64_encode(input) == output);
        }
    }
}

BOOST_AUTO_TEST_CASE(base64_decodes_rfc4648_vectors)
{
    const auto vectors = load_vectors("rfc4648-base64.json").at("base64");
    BOOST_TEST_REQUIRE(vectors.size() == 7u);
    for (const auto& vector : vectors) {
        const auto input = vector.at("input").get<std::string>();
        const auto output = vector.at("output").get<std::string>();
        BOOST_TEST_CONTEXT("text \"" << output << "\"")
        {
            const auto decoded = postern::base64_decode(output);
            BOOST_TEST_REQUIRE(decoded.has_value());
            BOOST_TEST(*decoded == input);
        }
    }
}

BOOST_AUTO_TEST_CASE(base64_round_trips_every_octet)
{
    std::string bytes;
    for (int value = 0; value < 256; ++value)
        bytes.push_back(static_cast<char>(value));

    const std::string text = postern::base64_encode(bytes);
    BOOST_TEST(text.size() == 344u);
    BOOST_TEST(text.substr(0, 8) == "AAECAwQF");
    BOOST_TEST(text.substr(336) == "/P3+/w==");

    const auto decoded = postern::base64_decode(text);
    BOOST_TEST_REQUIRE(decoded.has_value());
    BOOST_TEST(*decoded == bytes);
}

// Inputs longer than one OpenSSL call's piece take several calls, and the
// pieces must join without padding between them.
BOOST_AUTO_TEST_CASE(base64_handles_long_input)
{
    const std::string bytes = repeat("foo", 20000) + "f";
    const std::string text = repeat("Zm9v", 20000) + "Zg==";

    BOOST_TEST(postern::base64_encode(bytes) == text);

    const auto decoded = postern::base64_decode(text);
    BOOST_TEST_REQUIRE(decoded.has_value());
    BOOST_TEST(*decoded == bytes);
}

BOOST_AUTO_TEST_CASE(base64_decodes_binary_octets)
{
    const auto decoded = postern::base64_decode("AP8A");
    BOOST_TEST_REQUIRE(decoded.has_value());
    BOOST_TEST(*decoded == std::string("\x00\xff\x00", 3));
}

BOOST_AUTO_TEST_CASE(base64_rejects_invalid_text)
{
    struct reject_case {
        const char* label;
        std::string text;
    };
    const reject_case cases[] = {
        {"character outside the alphabet", "Zm9*"},
        {"URL-safe alphabet", "-_-_"},
        {"NUL octet", std::string("Zm9\0", 4)},
        {"non-ASCII octet", "Zm9\xc3"},
        {"space inside a quantum", "Zm 9"},
        {"tab inside a quantum", "Zm9\t"},
        {"leading space", " Zm9v"},
        {"trailing CRLF", "Zm9v\r\n"},
        {"line break between quanta", "Zm9v\r\nZm9v"},
        {"missing two padding characters", "Zg"},
        {"missing one padding character", "Zm8"},
        {"length not a multiple of 4", "Zm9vY"},
        {"padding in the middle", "Zg==Zm9v"},
        {"padding inside a quantum", "Zm=v"},
        {"padding before a data character", "Zg=a"},
        {"three padding characters", "Z==="},
        {"only padding", "===="},
        {"non-canonical bits with two padding", "QR=="},
        {"non-canonical bits after 'g'", "Zh=="},
        {"non-canonical bits with one padding", "Zm9="},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            BOOST_TEST(!postern::base64_decode(c.text).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(base64_decodes_empty_text)
{
    const auto decoded = postern::base64_decode("");
    BOOST_TEST_REQUIRE(decoded.has_value());
    BOOST_TEST(decoded->empty());
}

BOOST_AUTO_TEST_SUITE_END()
