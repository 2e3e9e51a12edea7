#include <postern/store/queue.hpp>

#include "temp_folder.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <regex>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using postern::store::envelope;
using postern::store::read_queue_file;
using postern::store::write_queue_file;
using store_test::file_mode;
using store_test::list_folder;
using store_test::read_file;

struct fixture {
    store_test::temp_folder folder;
    std::filesystem::path queue_root = folder.path() / "queue";
};

struct envelope_case {
    const char* label;
    envelope env;
};

struct malformed_case {
    const char* label;
    std::string_view contents;
};

std::filesystem::path only_queued_file(const std::filesystem::path& root)
{
    auto queued = list_folder(root / "new");
    BOOST_TEST_REQUIRE(queued.size() == 1u);
    return queued[0];
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(queue, fixture)

BOOST_AUTO_TEST_CASE(queue_round_trips_envelope)
{
    const envelope env{"", {"bob@example.net", "carol@example.org"}};
    const std::string_view pieces[] = {"Received: x\n", "Subject: s\n\n",
                                       "body\n"};
    BOOST_TEST_REQUIRE(
        !write_queue_file(queue_root, "mx.example.com", env, pieces));

    const auto file = only_queued_file(queue_root);
    BOOST_TEST(read_file(file) == "MAIL FROM:<>\n"
                                  "RCPT TO:<bob@example.net>\n"
                                  "RCPT TO:<carol@example.org>\n"
                                  "\n"
                                  "Received: x\nSubject: s\n\nbody\n");

    auto queued = read_queue_file(file);
    BOOST_TEST_REQUIRE(queued.has_value());
    BOOST_TEST(queued->env.reverse_path == "");
    BOOST_TEST(queued->env.recipients == env.recipients,
               boost::test_tools::per_element());
    BOOST_TEST(queued->message == "Received: x\nSubject: s\n\nbody\n");
}

BOOST_AUTO_TEST_CASE(queue_keeps_body_lines_like_envelope)
{
    // Envelope-like lines after the blank line belong to the message.
    const envelope env{"alice@example.com", {"bob@example.net"}};
    const std::string_view pieces[] = {"RCPT TO:<evil@example.org>\n\n"};
    BOOST_TEST_REQUIRE(
        !write_queue_file(queue_root, "mx.example.com", env, pieces));

    auto queued = read_queue_file(only_queued_file(queue_root));
    BOOST_TEST_REQUIRE(queued.has_value());
    BOOST_TEST(queued->env.reverse_path == "alice@example.com");
    BOOST_TEST_REQUIRE(queued->env.recipients.size() == 1u);
    BOOST_TEST(queued->env.recipients[0] == "bob@example.net");
    BOOST_TEST(queued->message == "RCPT TO:<evil@example.org>\n\n");
}

BOOST_AUTO_TEST_CASE(queue_file_is_private_and_named)
{
    const envelope env{"alice@example.com", {"bob@example.net"}};
    const std::string_view pieces[] = {"x\n"};
    BOOST_TEST_REQUIRE(!write_queue_file(queue_root, "mx:1", env, pieces));

    const auto file = only_queued_file(queue_root);
    BOOST_TEST(file_mode(file) == 0600u);
    BOOST_TEST(file_mode(queue_root / "new") == 0700u);
    BOOST_TEST(file_mode(queue_root / "tmp") == 0700u);
    BOOST_TEST(list_folder(queue_root / "tmp").empty());
    const std::regex name(R"([0-9]+\.M[0-9]+P[0-9]+Q[0-9]+\.mx\\0721)");
    BOOST_TEST(std::regex_match(file.filename().string(), name));
}

BOOST_AUTO_TEST_CASE(queue_rejects_forged_envelopes)
{
    const envelope_case cases[] = {
        {"no recipients", {"alice@example.com", {}}},
        {"LF in reverse path",
         {"a@x>\nRCPT TO:<evil@example.org", {"bob@example.net"}}},
        {"CR in reverse path", {"a@x\r", {"bob@example.net"}}},
        {"bracket in reverse path", {"a>b@x", {"bob@example.net"}}},
        {"LF in recipient",
         {"a@x", {"bob@example.net>\nRCPT TO:<evil@example.org"}}},
        {"CR in recipient", {"a@x", {"bob@example.net\r"}}},
        {"bracket in recipient", {"a@x", {"bob>@example.net"}}},
        {"NUL in recipient", {"a@x", {std::string("bob\0x", 5)}}},
        {"empty recipient", {"a@x", {"bob@example.net", ""}}},
    };
    const std::string_view pieces[] = {"x\n"};
    const auto invalid = std::make_error_code(std::errc::invalid_argument);
    for (const auto& row : cases) {
        BOOST_TEST_CONTEXT(row.label)
        {
            BOOST_TEST(write_queue_file(queue_root, "mx.example.com",
                                        row.env, pieces) == invalid);
        }
    }
    BOOST_TEST(list_folder(queue_root / "new").empty());
    BOOST_TEST(list_folder(queue_root / "tmp").empty());
}

BOOST_AUTO_TEST_CASE(read_queue_file_rejects_malformed)
{
    const malformed_case cases[] = {
        {"empty", ""},
        {"no header end", "MAIL FROM:<a@x>\nRCPT TO:<b@x>\n"},
        {"no recipient", "MAIL FROM:<a@x>\n\nbody\n"},
        {"missing MAIL", "RCPT TO:<b@x>\n\nbody\n"},
        {"lower case", "mail from:<a@x>\nRCPT TO:<b@x>\n\nbody\n"},
        {"no brackets", "MAIL FROM:a@x\nRCPT TO:<b@x>\n\nbody\n"},
        {"bracket inside", "MAIL FROM:<a>b@x>\nRCPT TO:<b@x>\n\nbody\n"},
        {"CR line end", "MAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\n\r\nbody\n"},
        {"other line", "MAIL FROM:<a@x>\nDATA\n\nbody\n"},
        {"empty recipient", "MAIL FROM:<a@x>\nRCPT TO:<>\n\nbody\n"},
    };
    std::filesystem::create_directories(queue_root);
    const auto file = queue_root / "case";
    for (const auto& row : cases) {
        BOOST_TEST_CONTEXT(row.label)
        {
            std::ofstream(file, std::ios::binary | std::ios::trunc)
                << row.contents;
            BOOST_TEST(!read_queue_file(file).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(read_queue_file_accepts_empty_message)
{
    std::filesystem::create_directories(queue_root);
    const auto file = queue_root / "case";
    std::ofstream(file, std::ios::binary) << "MAIL FROM:<>\nRCPT TO:<b@x>\n\n";
    auto queued = read_queue_file(file);
    BOOST_TEST_REQUIRE(queued.has_value());
    BOOST_TEST(queued->env.reverse_path == "");
    BOOST_TEST_REQUIRE(queued->env.recipients.size() == 1u);
    BOOST_TEST(queued->env.recipients[0] == "b@x");
    BOOST_TEST(queued->message == "");
}

BOOST_AUTO_TEST_CASE(read_queue_file_missing_file)
{
    BOOST_TEST(!read_queue_file(queue_root / "absent").has_value());
}

BOOST_AUTO_TEST_CASE(queue_fails_when_root_is_file)
{
    std::ofstream(queue_root) << "not a folder";
    const envelope env{"a@x", {"b@x"}};
    const std::string_view pieces[] = {"x\n"};
    BOOST_TEST(write_queue_file(queue_root, "mx.example.com", env, pieces) ==
               std::make_error_code(std::errc::not_a_directory));
}

BOOST_AUTO_TEST_SUITE_END()
