#include <postern/core/md4.hpp>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

nlohmann::json load_vectors(const char* file_name)
{
    const char* directory = std::getenv("POSTERN_TEST_DATA");
    BOOST_TEST_REQUIRE(directory != nullptr);
    std::ifstream file(std::filesystem::path(directory) / file_name);
    BOOST_TEST_REQUIRE(file.is_open());
    return nlohmann::json::parse(file);
}

std::string to_hex(const std::array<std::uint8_t, 16>& digest)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (std::uint8_t octet : digest) {
        hex += digits[octet >> 4];
        hex += digits[octet & 0x0f];
    }
    return hex;
}

} // namespace

BOOST_AUTO_TEST_SUITE(md4)

BOOST_AUTO_TEST_CASE(md4_matches_rfc1320_test_suite)
{
    const auto cases = load_vectors("rfc1320-md4.json").at("cases");
    BOOST_TEST_REQUIRE(cases.size() == 7u);
    for (const auto& vector : cases) {
        const auto input = vector.at("input").get<std::string>();
        BOOST_TEST_CONTEXT("input \"" << input << "\"")
        {
            BOOST_TEST(to_hex(postern::md4_digest(input)) ==
                       vector.at("digest_hex").get<std::string>());
        }
    }
}

// The padding takes one block when the last piece of the message is up to
// 55 octets and two blocks from 56 on, and whole blocks add none. The
// expected digests come from OpenSSL 3.0's legacy provider
// (`openssl dgst -md4 -provider legacy`).
BOOST_AUTO_TEST_CASE(md4_pads_at_block_boundaries)
{
    struct boundary_case {
        const char* label;
        std::size_t length;
        const char* digest_hex;
    };
    const boundary_case cases[] = {
        {"55 octets", 55, "c889c81dd86c4d2e025778944ea02881"},
        {"56 octets", 56, "d5f9a9e9257077a5f08b0b92f348b0ad"},
        {"63 octets", 63, "7ea3da77432d44c323671097d1348fc8"},
        {"64 octets", 64, "52f5076fabd22680234a3fa9f9dc5732"},
        {"65 octets", 65, "330e377bf231f3cacfecc2c182fe7e5b"},
        {"119 octets", 119, "e65dd227ccef97fa1d34d70189120f76"},
        {"120 octets", 120, "b03ddbd470b47c013e0c7ab2ddd763db"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.label)
        {
            const std::string input(c.length, 'a');
            BOOST_TEST(to_hex(postern::md4_digest(input)) ==
                       std::string(c.digest_hex));
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
