#include <postern/sasl/derive.hpp>

#include <postern/directory/user_options.hpp>
#include <postern/sasl/plain.hpp>

#include <boost/test/unit_test.hpp>

#include <string>

using namespace postern;
using namespace postern::sasl;

BOOST_AUTO_TEST_SUITE(derive)

BOOST_AUTO_TEST_CASE(derives_only_what_the_set_needs)
{
    directory::credentials out;
    auto failure = derive_secrets<mechanism_set<plain, cram_md5>>(
        "pencil", {}, out);
    BOOST_TEST(!failure);
    BOOST_TEST(out.cram_md5.has_value());
    BOOST_TEST(out.cram_md5->size() == 32u);
    BOOST_TEST(!out.nt_hash.has_value());
    BOOST_TEST(!out.scram_sha1.has_value());
    BOOST_TEST(!out.scram_sha256.has_value());
}

BOOST_AUTO_TEST_CASE(derives_every_secret)
{
    using all = mechanism_set<plain, cram_md5, scram_sha1, scram_sha256,
                              scram_sha256_plus, ntlm>;
    directory::credentials out;
    BOOST_TEST(!derive_secrets<all>("Password", {4096}, out));

    BOOST_TEST_REQUIRE(out.nt_hash.has_value());
    // MS-NLMP, section 4.2.2.1.2: NTOWFv1("Password").
    const std::uint8_t expected[16] = {0xa4, 0xf4, 0x9c, 0x40, 0x65, 0x10,
                                       0xbd, 0xca, 0xb6, 0x82, 0x4e, 0xe7,
                                       0xc3, 0x0f, 0xd8, 0x52};
    BOOST_TEST(std::equal(out.nt_hash->begin(), out.nt_hash->end(),
                          expected));
    BOOST_TEST_REQUIRE(out.scram_sha256.has_value());
    BOOST_TEST(out.scram_sha256->iterations == 4096u);
    BOOST_TEST(out.scram_sha256->stored_key.size() == 32u);
    BOOST_TEST_REQUIRE(out.scram_sha1.has_value());
    BOOST_TEST(out.scram_sha1->stored_key.size() == 20u);
}

BOOST_AUTO_TEST_CASE(keeps_existing_secrets)
{
    directory::credentials out;
    out.cram_md5 = std::string(32, 'x');
    BOOST_TEST(!derive_secrets<mechanism_set<cram_md5>>("pencil", {}, out));
    BOOST_TEST(*out.cram_md5 == std::string(32, 'x'));
}

BOOST_AUTO_TEST_CASE(reports_unusable_passwords)
{
    directory::credentials out;
    auto not_utf8 =
        derive_secrets<mechanism_set<ntlm>>("\xff\xfe", {}, out);
    BOOST_TEST(not_utf8.message() ==
               "password is not valid UTF-8, which NTLM needs");

    // U+0007 is prohibited output of SASLprep (RFC 4013, section 2.3).
    auto prohibited =
        derive_secrets<mechanism_set<scram_sha256>>("a\x07", {}, out);
    BOOST_TEST(prohibited.message() ==
               "password is not valid for SCRAM (SASLprep, RFC 4013)");

    auto iterations =
        derive_secrets<mechanism_set<scram_sha256>>("pencil", {10}, out);
    BOOST_TEST(iterations.message() == "SCRAM iteration count out of range");
}

BOOST_AUTO_TEST_SUITE_END()
