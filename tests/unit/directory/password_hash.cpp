#include <postern/directory/password_hash.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>
#include <system_error>

namespace {

using postern::directory::hash_password;
using postern::directory::verify_password_hash;

// Hashes of "correct horse" made by OpenSSL 3.0 (`openssl passwd` with -6,
// -5 and -1, `-salt saltsalt`), so verification is checked against another
// implementation.
constexpr std::string_view sha512_crypt_hash =
    "$6$saltsalt$hRM5XZ86KXEw9UOmjigeVqFgULtFB2sgpC9lXQDfMib3Zgw7mEiUvBJI2Epl"
    "zfAqxL5Vvwp2scFtv/uamSo5z0";
constexpr std::string_view sha256_crypt_hash =
    "$5$saltsalt$myjXcpMpE2Ofk7fj9hqyNYSn6lmWG4Mqnjx.KIRRr4/";
constexpr std::string_view md5_crypt_hash =
    "$1$saltsalt$NuzA7WTAelpl95xgBGWN60";

const std::error_code invalid_argument =
    std::make_error_code(std::errc::invalid_argument);

struct malformed_case {
    const char* label;
    std::string_view hash;
};

} // namespace

BOOST_AUTO_TEST_SUITE(password_hash)

BOOST_AUTO_TEST_CASE(hash_password_uses_yescrypt)
{
    const std::string hash = hash_password("correct horse");
    BOOST_TEST(hash.starts_with("$y$"));
    BOOST_TEST(hash.find("correct") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(hash_password_salts_each_hash)
{
    BOOST_TEST(hash_password("correct horse") !=
               hash_password("correct horse"));
}

BOOST_AUTO_TEST_CASE(verify_accepts_right_password)
{
    const std::string hash = hash_password("correct horse");
    BOOST_TEST(verify_password_hash(hash, "correct horse"));
}

BOOST_AUTO_TEST_CASE(verify_rejects_wrong_password)
{
    const std::string hash = hash_password("correct horse");
    BOOST_TEST(!verify_password_hash(hash, "correct horsE"));
    BOOST_TEST(!verify_password_hash(hash, "correct hors"));
    BOOST_TEST(!verify_password_hash(hash, "correct horse "));
    BOOST_TEST(!verify_password_hash(hash, ""));
}

BOOST_AUTO_TEST_CASE(verify_handles_empty_password)
{
    const std::string hash = hash_password("");
    BOOST_TEST(verify_password_hash(hash, ""));
    BOOST_TEST(!verify_password_hash(hash, "x"));
}

BOOST_AUTO_TEST_CASE(verify_accepts_openssl_hashes)
{
    BOOST_TEST(verify_password_hash(sha512_crypt_hash, "correct horse"));
    BOOST_TEST(!verify_password_hash(sha512_crypt_hash, "correct horsf"));
    BOOST_TEST(verify_password_hash(sha256_crypt_hash, "correct horse"));
    BOOST_TEST(!verify_password_hash(sha256_crypt_hash, "wrong"));
    BOOST_TEST(verify_password_hash(md5_crypt_hash, "correct horse"));
    BOOST_TEST(!verify_password_hash(md5_crypt_hash, "wrong"));
}

BOOST_AUTO_TEST_CASE(verify_rejects_malformed_hashes)
{
    const std::string valid = hash_password("correct horse");
    const std::string truncated = valid.substr(0, valid.size() - 1);
    const std::string with_nul = valid + std::string(1, '\0');
    const std::string locked = "!" + valid;
    const malformed_case cases[] = {
        {"empty", ""},
        {"star", "*"},
        {"libcrypt failure", "*0"},
        {"locked", locked},
        {"truncated", truncated},
        {"trailing NUL", with_nul},
        {"unknown method", "$zz$saltsalt$abcdefgh"},
        {"plain text", "correct horse"},
    };
    for (const auto& row : cases) {
        BOOST_TEST_CONTEXT(row.label)
        {
            BOOST_TEST(!verify_password_hash(row.hash, "correct horse"));
        }
    }
}

BOOST_AUTO_TEST_CASE(verify_rejects_password_with_nul)
{
    const std::string hash = hash_password("correct");
    const std::string_view with_nul("correct\0horse", 13);
    BOOST_TEST(!verify_password_hash(hash, with_nul));
}

BOOST_AUTO_TEST_CASE(verify_rejects_overlong_password)
{
    const std::string longest(511, 'p');
    const std::string hash = hash_password(longest);
    BOOST_TEST(verify_password_hash(hash, longest));
    BOOST_TEST(!verify_password_hash(hash, longest + "p"));
}

BOOST_AUTO_TEST_CASE(hash_password_rejects_nul)
{
    try {
        hash_password(std::string_view("correct\0horse", 13));
        BOOST_FAIL("expected std::system_error");
    } catch (const std::system_error& failure) {
        BOOST_TEST(failure.code() == invalid_argument);
    }
}

BOOST_AUTO_TEST_CASE(hash_password_rejects_512_octets)
{
    try {
        hash_password(std::string(512, 'p'));
        BOOST_FAIL("expected std::system_error");
    } catch (const std::system_error& failure) {
        BOOST_TEST(failure.code() == invalid_argument);
    }
}

BOOST_AUTO_TEST_CASE(unknown_user_check_is_false)
{
    namespace detail = postern::directory::detail;
    BOOST_TEST(detail::dummy_password_hash().starts_with("$y$"));
    BOOST_TEST(!detail::verify_unknown_user("postern-no-such-user"));
    BOOST_TEST(!detail::verify_unknown_user(""));
}

BOOST_AUTO_TEST_SUITE_END()
