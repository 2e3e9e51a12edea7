#include <postern/directory/user_options.hpp>

#include <boost/test/unit_test.hpp>

#include <string>

namespace {

using postern::secret;
using postern::directory::builtin_directory_supplies;
using postern::directory::make_credentials;
using postern::directory::secret_kind;
using postern::directory::user_options;
using postern::directory::verify_password_hash;

struct kind_case {
    const char* label;
    secret_kind kind;
    bool supplied;
};

} // namespace

BOOST_AUTO_TEST_SUITE(user_options_tests)

BOOST_AUTO_TEST_CASE(credentials_default_hold_only_verifier)
{
    const auto stored = make_credentials("alice", secret("pw1"), {});
    BOOST_TEST(stored.user == "alice");
    BOOST_TEST_REQUIRE(stored.password_verifier.has_value());
    BOOST_TEST(verify_password_hash(*stored.password_verifier, "pw1"));
    BOOST_TEST(!stored.plaintext.has_value());
    BOOST_TEST(!stored.pop3_override_verifier.has_value());
    BOOST_TEST(!stored.pop3_override_plaintext.has_value());
    BOOST_TEST(!stored.cram_md5.has_value());
    BOOST_TEST(!stored.scram_sha1.has_value());
    BOOST_TEST(!stored.scram_sha256.has_value());
    BOOST_TEST(!stored.nt_hash.has_value());
}

BOOST_AUTO_TEST_CASE(credentials_keep_plaintext_on_request)
{
    user_options options;
    options.keep_plaintext = true;
    const auto stored = make_credentials("alice", secret("pw1"), options);
    BOOST_TEST_REQUIRE(stored.plaintext.has_value());
    BOOST_TEST(stored.plaintext->view() == "pw1");
    BOOST_TEST(!stored.pop3_override_plaintext.has_value());
}

BOOST_AUTO_TEST_CASE(credentials_hold_both_override_forms)
{
    user_options options;
    options.pop3_override = secret("pop-only");
    const auto stored = make_credentials("alice", secret("pw1"), options);
    BOOST_TEST(!stored.plaintext.has_value());
    BOOST_TEST_REQUIRE(stored.pop3_override_verifier.has_value());
    BOOST_TEST(verify_password_hash(*stored.pop3_override_verifier,
                                    "pop-only"));
    BOOST_TEST(!verify_password_hash(*stored.pop3_override_verifier, "pw1"));
    BOOST_TEST_REQUIRE(stored.pop3_override_plaintext.has_value());
    BOOST_TEST(stored.pop3_override_plaintext->view() == "pop-only");
    BOOST_TEST(!verify_password_hash(*stored.password_verifier, "pop-only"));
}

BOOST_AUTO_TEST_CASE(builtin_supplies_table)
{
    const kind_case cases[] = {
        {"password verifier", secret_kind::password_verifier, true},
        {"plaintext", secret_kind::plaintext, true},
        {"CRAM-MD5", secret_kind::cram_md5, true},
        {"SCRAM-SHA-1", secret_kind::scram_sha1, true},
        {"SCRAM-SHA-256", secret_kind::scram_sha256, true},
        {"NT hash", secret_kind::nt_hash, true},
    };
    for (const auto& row : cases) {
        BOOST_TEST_CONTEXT(row.label)
        {
            BOOST_TEST(builtin_directory_supplies(row.kind) == row.supplied);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
