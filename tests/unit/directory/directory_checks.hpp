// Checks that every built-in user directory must pass, run by the tests
// of memory_directory and sqlite_directory.
#pragma once

#include <postern/core/error.hpp>
#include <postern/core/secret.hpp>
#include <postern/directory/credentials.hpp>
#include <postern/directory/password_hash.hpp>
#include <postern/directory/user_options.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <system_error>
#include <string_view>
#include <vector>

namespace directory_checks {

using postern::secret;
using postern::directory::secret_kind;
using postern::directory::user_options;
using postern::directory::verify_password_hash;

struct invalid_name_case {
    const char* label;
    std::string_view name;
};

inline const std::string too_long_name(65, 'a');

inline std::vector<invalid_name_case> invalid_names()
{
    return {
        {"empty", ""},
        {"dot dot", ".."},
        {"slash", "a/b"},
        {"leading dot", ".hidden"},
        {"at sign", "alice@example.com"},
        {"space", "a b"},
        {"65 octets", too_long_name},
    };
}

template <typename Directory>
void check_round_trip(Directory& directory)
{
    BOOST_TEST(!directory.add_user("alice", secret("pw1")));
    BOOST_TEST(directory.exists("alice"));
    BOOST_TEST(directory.exists("ALICE"));
    BOOST_TEST(!directory.exists("bob"));

    auto found = directory.find_user("Alice");
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(found->user == "alice");
    BOOST_TEST_REQUIRE(found->password_verifier.has_value());
    BOOST_TEST(found->password_verifier->starts_with("$y$"));
    BOOST_TEST(verify_password_hash(*found->password_verifier, "pw1"));
    BOOST_TEST(!found->plaintext.has_value());
    BOOST_TEST(!found->pop3_override_verifier.has_value());
    BOOST_TEST(!found->pop3_override_plaintext.has_value());
    BOOST_TEST(!directory.find_user("bob").has_value());

    BOOST_TEST(directory.verify_password("alice", "pw1"));
    BOOST_TEST(directory.verify_password("ALICE", "pw1"));
    BOOST_TEST(!directory.verify_password("alice", "pw2"));
    BOOST_TEST(!directory.verify_password("alice", ""));
    BOOST_TEST(!directory.verify_password("bob", "pw1"));
    BOOST_TEST(!directory.verify_password("..", "pw1"));

    BOOST_TEST(!directory.set_password("alice", secret("pw2")));
    BOOST_TEST(directory.verify_password("alice", "pw2"));
    BOOST_TEST(!directory.verify_password("alice", "pw1"));

    BOOST_TEST(!directory.remove_user("alice"));
    BOOST_TEST(!directory.exists("alice"));
    BOOST_TEST(!directory.find_user("alice").has_value());
    BOOST_TEST(!directory.verify_password("alice", "pw2"));
}

template <typename Directory>
void check_stored_secrets(Directory& directory)
{
    user_options options;
    options.keep_plaintext = true;
    options.pop3_override = secret("pop-only");
    BOOST_TEST(!directory.add_user("carol", secret("pw1"), options));

    auto found = directory.find_user("carol");
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST_REQUIRE(found->plaintext.has_value());
    BOOST_TEST(found->plaintext->view() == "pw1");
    BOOST_TEST_REQUIRE(found->pop3_override_verifier.has_value());
    BOOST_TEST(verify_password_hash(*found->pop3_override_verifier,
                                    "pop-only"));
    BOOST_TEST_REQUIRE(found->pop3_override_plaintext.has_value());
    BOOST_TEST(found->pop3_override_plaintext->view() == "pop-only");
    // The override is for POP3 USER/PASS only, not the account password.
    BOOST_TEST(!directory.verify_password("carol", "pop-only"));
    BOOST_TEST(directory.verify_password("carol", "pw1"));

    // set_password replaces every secret, so the override and the
    // plaintext go away unless given again.
    BOOST_TEST(!directory.set_password("carol", secret("pw2")));
    found = directory.find_user("carol");
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(!found->plaintext.has_value());
    BOOST_TEST(!found->pop3_override_verifier.has_value());
    BOOST_TEST(!found->pop3_override_plaintext.has_value());
    BOOST_TEST(directory.verify_password("carol", "pw2"));
}

template <typename Directory>
void check_list_sorted(Directory& directory)
{
    BOOST_TEST(directory.list_users().empty());
    for (const char* name : {"mallory", "Bob", "alice", "zoe", "carol"})
        BOOST_TEST(!directory.add_user(name, secret("pw")));
    const std::vector<std::string> expected = {"alice", "bob", "carol",
                                               "mallory", "zoe"};
    BOOST_TEST(directory.list_users() == expected,
               boost::test_tools::per_element());
}

template <typename Directory>
void check_admin_errors(Directory& directory)
{
    using postern::error;
    BOOST_TEST(!directory.add_user("alice", secret("pw1")));
    BOOST_TEST(directory.add_user("alice", secret("pw2")) ==
               std::error_code(error::user_exists));
    BOOST_TEST(directory.add_user("ALICE", secret("pw2")) ==
               std::error_code(error::user_exists));
    // The failed adds left the first password in place.
    BOOST_TEST(directory.verify_password("alice", "pw1"));

    BOOST_TEST(directory.set_password("bob", secret("pw")) ==
               std::error_code(error::user_not_found));
    BOOST_TEST(directory.remove_user("bob") ==
               std::error_code(error::user_not_found));
    BOOST_TEST(!directory.exists("bob"));

    const std::string_view nul_password("a\0b", 3);
    const auto invalid_argument =
        std::make_error_code(std::errc::invalid_argument);
    BOOST_TEST(directory.add_user("dave", secret(nul_password)) ==
               invalid_argument);
    BOOST_TEST(!directory.exists("dave"));
}

template <typename Directory>
void check_invalid_names(Directory& directory)
{
    const std::error_code invalid_user_name =
        postern::error::invalid_user_name;
    const std::error_code user_not_found = postern::error::user_not_found;
    for (const auto& row : invalid_names()) {
        BOOST_TEST_CONTEXT(row.label)
        {
            BOOST_TEST(directory.add_user(row.name, secret("pw")) ==
                       invalid_user_name);
            BOOST_TEST(!directory.exists(row.name));
            BOOST_TEST(!directory.find_user(row.name).has_value());
            BOOST_TEST(!directory.verify_password(row.name, "pw"));
            BOOST_TEST(directory.set_password(row.name, secret("pw")) ==
                       user_not_found);
            BOOST_TEST(directory.remove_user(row.name) == user_not_found);
        }
    }
    BOOST_TEST(directory.list_users().empty());
}

template <typename Directory>
void check_supplies(const Directory& directory)
{
    BOOST_TEST(directory.supplies(secret_kind::password_verifier));
    BOOST_TEST(directory.supplies(secret_kind::plaintext));
    BOOST_TEST(directory.supplies(secret_kind::cram_md5));
    BOOST_TEST(directory.supplies(secret_kind::scram_sha1));
    BOOST_TEST(directory.supplies(secret_kind::scram_sha256));
    BOOST_TEST(directory.supplies(secret_kind::nt_hash));
}

} // namespace directory_checks
