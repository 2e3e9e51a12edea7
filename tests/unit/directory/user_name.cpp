#include <postern/directory/user_name.hpp>

#include <boost/test/unit_test.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace {

using postern::directory::canonical_user_name;
using postern::directory::same_user;

struct name_case {
    const char* label;
    std::string_view input;
    std::optional<std::string> canonical;
};

const std::string max_length_name(64, 'a');
const std::string too_long_name(65, 'a');

} // namespace

// Prints expected and actual names in failure messages.
template <>
struct boost::test_tools::tt_detail::print_log_value<
    std::optional<std::string>> {
    void operator()(std::ostream& out, const std::optional<std::string>& name)
    {
        if (name)
            out << '"' << *name << '"';
        else
            out << "nullopt";
    }
};

BOOST_AUTO_TEST_SUITE(user_name)

BOOST_AUTO_TEST_CASE(canonical_user_name_table)
{
    const name_case cases[] = {
        {"lower case", "alice", "alice"},
        {"upper case folded", "Alice.Smith", "alice.smith"},
        {"digits", "0day", "0day"},
        {"underscore and hyphen", "a_b-c", "a_b-c"},
        {"single letter", "x", "x"},
        {"trailing dot", "bob.", std::nullopt},
        {"64 octets", max_length_name, max_length_name},
        {"empty", "", std::nullopt},
        {"65 octets", too_long_name, std::nullopt},
        {"leading dot", ".alice", std::nullopt},
        {"leading hyphen", "-alice", std::nullopt},
        {"leading underscore", "_alice", std::nullopt},
        {"dot", ".", std::nullopt},
        {"dot dot", "..", std::nullopt},
        {"inner dot dot", "a..b", std::nullopt},
        {"slash", "a/b", std::nullopt},
        {"backslash", "a\\b", std::nullopt},
        {"space", "a b", std::nullopt},
        {"at sign", "alice@example.com", std::nullopt},
        {"plus", "alice+tag", std::nullopt},
        {"colon", "a:b", std::nullopt},
        {"NUL", std::string_view("a\0b", 3), std::nullopt},
        {"non-ASCII", "j\xc3\xbcrgen", std::nullopt},
        {"Kelvin sign", "\xe2\x84\xaa", std::nullopt},
    };
    for (const auto& row : cases) {
        BOOST_TEST_CONTEXT(row.label)
        {
            BOOST_TEST(canonical_user_name(row.input) == row.canonical);
        }
    }
}

BOOST_AUTO_TEST_CASE(same_user_compares_canonical_forms)
{
    BOOST_TEST(same_user("alice", "alice"));
    BOOST_TEST(same_user("ALICE", "alice"));
    BOOST_TEST(same_user("Alice.Smith", "aLICE.sMITH"));
    BOOST_TEST(!same_user("alice", "alice2"));
    BOOST_TEST(!same_user("alice", "bob"));
}

BOOST_AUTO_TEST_CASE(same_user_rejects_invalid_names)
{
    BOOST_TEST(!same_user("", ""));
    BOOST_TEST(!same_user("..", ".."));
    BOOST_TEST(!same_user("a b", "a b"));
    BOOST_TEST(!same_user("alice", "alice "));
}

BOOST_AUTO_TEST_SUITE_END()
