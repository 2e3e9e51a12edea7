#include <postern/smtp/parser.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

using namespace postern::smtp;

BOOST_AUTO_TEST_SUITE(parser)

BOOST_AUTO_TEST_CASE(command_verbs_and_arguments)
{
    struct row {
        std::string_view label;
        std::string_view line;
        verb name;
        std::string_view argument;
    };
    const row rows[] = {
        {"ehlo", "EHLO client.example", verb::ehlo, "client.example"},
        {"lower case", "ehlo client.example", verb::ehlo, "client.example"},
        {"mixed case", "MaIl FROM:<a@b.c>", verb::mail, "FROM:<a@b.c>"},
        {"no argument", "QUIT", verb::quit, ""},
        {"starttls", "STARTTLS", verb::starttls, ""},
        {"auth", "AUTH PLAIN AGEAYg==", verb::auth, "PLAIN AGEAYg=="},
        {"unknown", "BDAT 100 LAST", verb::unknown, "100 LAST"},
        {"prefix only", "QUITX", verb::unknown, ""},
        {"empty", "", verb::unknown, ""},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.label)
        {
            auto c = parse_command(r.line);
            BOOST_TEST((c.name == r.name));
            BOOST_TEST(c.argument == r.argument);
        }
    }
}

BOOST_AUTO_TEST_CASE(mail_from_accepts_valid_paths)
{
    struct row {
        std::string_view label;
        std::string_view argument;
        std::string_view address;
    };
    const row rows[] = {
        {"plain", "FROM:<alice@example.com>", "alice@example.com"},
        {"null path", "FROM:<>", ""},
        {"space after colon", "FROM: <alice@example.com>",
         "alice@example.com"},
        {"lower keyword", "from:<alice@example.com>", "alice@example.com"},
        {"domain lowered", "FROM:<Alice@Example.COM>", "Alice@example.com"},
        {"source route dropped", "FROM:<@relay.example:bob@b.example>",
         "bob@b.example"},
        {"quoted local part", "FROM:<\"john doe\"@example.com>",
         "\"john doe\"@example.com"},
        {"address literal", "FROM:<a@[192.0.2.1]>", "a@[192.0.2.1]"},
        {"quoted bracket", "FROM:<\"a>b\"@example.com>",
         "\"a>b\"@example.com"},
        {"atext specials", "FROM:<a+b=c/d!#$%&'*^_`{|}~@example.com>",
         "a+b=c/d!#$%&'*^_`{|}~@example.com"},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.label)
        {
            auto parsed = parse_mail_from(r.argument);
            BOOST_TEST_REQUIRE(parsed.value.has_value());
            BOOST_TEST(parsed.value->path.address == r.address);
        }
    }
}

BOOST_AUTO_TEST_CASE(mail_from_rejects_bad_paths)
{
    const std::string long_local(65, 'a');
    const std::string long_path = "FROM:<" + std::string(60, 'a') + "@" +
                                  std::string(200, 'b') + ".example>";
    struct row {
        std::string label;
        std::string argument;
        path_error error;
    };
    const row rows[] = {
        {"no brackets", "FROM:alice@example.com", path_error::syntax},
        {"no keyword", "<alice@example.com>", path_error::syntax},
        {"no domain", "FROM:<alice>", path_error::syntax},
        {"double dot", "FROM:<a..b@example.com>", path_error::syntax},
        {"leading dot", "FROM:<.a@example.com>", path_error::syntax},
        {"hyphen label", "FROM:<a@-b.example>", path_error::syntax},
        {"empty label", "FROM:<a@b..example>", path_error::syntax},
        {"space in local", "FROM:<a b@example.com>", path_error::syntax},
        {"8-bit local", "FROM:<j\xc3\xb6rg@example.com>", path_error::syntax},
        {"local over 64", "FROM:<" + long_local + "@example.com>",
         path_error::syntax},
        {"path over 256", long_path, path_error::syntax},
        {"unclosed", "FROM:<a@example.com", path_error::syntax},
        {"bad size", "FROM:<a@b.example> SIZE=12x",
         path_error::bad_parameter},
        {"bad parameter", "FROM:<a@b.example> =x", path_error::syntax},
        {"binarymime", "FROM:<a@b.example> BODY=BINARYMIME",
         path_error::unsupported_parameter},
        {"unknown parameter", "FROM:<a@b.example> RET=FULL",
         path_error::unsupported_parameter},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.label)
        {
            auto parsed = parse_mail_from(r.argument);
            BOOST_TEST(!parsed.value.has_value());
            BOOST_TEST((parsed.error == r.error));
        }
    }
}

BOOST_AUTO_TEST_CASE(mail_from_reads_parameters)
{
    auto parsed = parse_mail_from(
        "FROM:<a@b.example> SIZE=12345 BODY=8BITMIME AUTH=<>");
    BOOST_TEST_REQUIRE(parsed.value.has_value());
    BOOST_TEST(*parsed.value->parameters.size == 12345u);
    BOOST_TEST(parsed.value->parameters.eight_bit);

    auto huge = parse_mail_from("FROM:<a@b.example> SIZE=99999999999999999999");
    BOOST_TEST_REQUIRE(huge.value.has_value());
    BOOST_TEST(*huge.value->parameters.size == UINT64_MAX);

    auto seven = parse_mail_from("FROM:<a@b.example> body=7bit");
    BOOST_TEST_REQUIRE(seven.value.has_value());
    BOOST_TEST(!seven.value->parameters.eight_bit);
}

BOOST_AUTO_TEST_CASE(rcpt_to_paths)
{
    auto postmaster = parse_rcpt_to("TO:<Postmaster>");
    BOOST_TEST_REQUIRE(postmaster.value.has_value());
    BOOST_TEST(postmaster.value->local_part == "postmaster");
    BOOST_TEST(postmaster.value->domain == "");

    auto bob = parse_rcpt_to("To:<bob@Mail.Test>");
    BOOST_TEST_REQUIRE(bob.value.has_value());
    BOOST_TEST(bob.value->local_part == "bob");
    BOOST_TEST(bob.value->domain == "mail.test");

    BOOST_TEST(!parse_rcpt_to("TO:<>").value.has_value());
    BOOST_TEST(!parse_rcpt_to("FROM:<bob@mail.test>").value.has_value());

    auto notify = parse_rcpt_to("TO:<bob@mail.test> NOTIFY=NEVER");
    BOOST_TEST(!notify.value.has_value());
    BOOST_TEST((notify.error == path_error::unsupported_parameter));
}

BOOST_AUTO_TEST_SUITE_END()
