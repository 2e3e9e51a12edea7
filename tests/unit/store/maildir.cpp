#include <postern/store/maildir.hpp>

#include "temp_folder.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <fstream>
#include <regex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using postern::store::envelope;
using postern::store::maildir_store;
using store_test::file_mode;
using store_test::list_folder;
using store_test::read_file;

static_assert(postern::store::mail_store<maildir_store>);

struct fixture {
    store_test::temp_folder folder;
    std::filesystem::path mail_root = folder.path() / "mail";
    std::filesystem::path queue_root = folder.path() / "queue";
    maildir_store store{mail_root, queue_root, "mx.example.com"};
};

struct invalid_user_case {
    const char* label;
    std::string_view user;
};

// SECONDS.M<usec>P<pid>Q<counter>.HOST,S=<size>,W=<wire size>
const std::regex maildir_name(
    R"(([0-9]+)\.M([0-9]+)P([0-9]+)Q([0-9]+)\.(.*),S=([0-9]+),W=([0-9]+))");

} // namespace

BOOST_FIXTURE_TEST_SUITE(maildir, fixture)

BOOST_AUTO_TEST_CASE(deliver_writes_exact_bytes)
{
    const std::string_view pieces[] = {
        "Received: from client.example.org\n",
        "Subject: hi\n\nline one\nline two\n",
    };
    BOOST_TEST_REQUIRE(!store.deliver("alice", pieces));

    const auto box = mail_root / "alice";
    BOOST_TEST(list_folder(box / "tmp").empty());
    BOOST_TEST(list_folder(box / "cur").empty());
    const auto delivered = list_folder(box / "new");
    BOOST_TEST_REQUIRE(delivered.size() == 1u);
    BOOST_TEST(read_file(delivered[0]) ==
               "Received: from client.example.org\n"
               "Subject: hi\n\nline one\nline two\n");
}

BOOST_AUTO_TEST_CASE(deliver_names_file_with_sizes)
{
    // 9 + 10 = 19 octets with 4 LFs: 23 octets as CRLF on the wire.
    const std::string_view pieces[] = {"To: bob\n\n", "a\nbcdefgh\n"};
    BOOST_TEST_REQUIRE(!store.deliver("bob", pieces));

    const auto delivered = list_folder(mail_root / "bob" / "new");
    BOOST_TEST_REQUIRE(delivered.size() == 1u);
    const std::string name = delivered[0].filename().string();
    std::smatch parts;
    BOOST_TEST_REQUIRE(std::regex_match(name, parts, maildir_name));
    BOOST_TEST(parts[3].str() == std::to_string(::getpid()));
    BOOST_TEST(parts[5].str() == "mx.example.com");
    BOOST_TEST(parts[6].str() == "19");
    BOOST_TEST(parts[7].str() == "23");
    BOOST_TEST(std::stol(parts[2].str()) < 1000000);
}

BOOST_AUTO_TEST_CASE(wire_size_counts_crlf_after_last_line)
{
    // The last line lacks LF; POP3 sends it with CRLF: 3 + 2 octets.
    const std::string_view pieces[] = {"abc"};
    BOOST_TEST_REQUIRE(!store.deliver("bob", pieces));

    const auto delivered = list_folder(mail_root / "bob" / "new");
    BOOST_TEST_REQUIRE(delivered.size() == 1u);
    BOOST_TEST(delivered[0].filename().string().ends_with(",S=3,W=5"));
}

BOOST_AUTO_TEST_CASE(deliver_sets_private_modes)
{
    const std::string_view pieces[] = {"Subject: x\n\nbody\n"};
    BOOST_TEST_REQUIRE(!store.deliver("alice", pieces));

    const auto box = mail_root / "alice";
    BOOST_TEST(file_mode(box) == 0700u);
    BOOST_TEST(file_mode(box / "tmp") == 0700u);
    BOOST_TEST(file_mode(box / "new") == 0700u);
    BOOST_TEST(file_mode(box / "cur") == 0700u);
    const auto delivered = list_folder(box / "new");
    BOOST_TEST_REQUIRE(delivered.size() == 1u);
    BOOST_TEST(file_mode(delivered[0]) == 0600u);
}

BOOST_AUTO_TEST_CASE(deliver_escapes_host_name)
{
    maildir_store odd_host(mail_root, queue_root, "mx/1:25");
    const std::string_view pieces[] = {"x\n"};
    BOOST_TEST_REQUIRE(!odd_host.deliver("alice", pieces));

    const auto delivered = list_folder(mail_root / "alice" / "new");
    BOOST_TEST_REQUIRE(delivered.size() == 1u);
    const std::string name = delivered[0].filename().string();
    std::smatch parts;
    BOOST_TEST_REQUIRE(std::regex_match(name, parts, maildir_name));
    BOOST_TEST(parts[5].str() == "mx\\0571\\07225");
    BOOST_TEST(parts[6].str() == "2");
    BOOST_TEST(parts[7].str() == "3");
}

BOOST_AUTO_TEST_CASE(deliver_gives_unique_names)
{
    const std::string_view pieces[] = {"x\n"};
    for (int i = 0; i < 5; ++i)
        BOOST_TEST_REQUIRE(!store.deliver("alice", pieces));

    auto delivered = list_folder(mail_root / "alice" / "new");
    BOOST_TEST(delivered.size() == 5u);
}

BOOST_AUTO_TEST_CASE(deliver_writes_empty_message)
{
    BOOST_TEST_REQUIRE(!store.deliver("alice", {}));
    const auto delivered = list_folder(mail_root / "alice" / "new");
    BOOST_TEST_REQUIRE(delivered.size() == 1u);
    BOOST_TEST(read_file(delivered[0]).empty());
    BOOST_TEST(delivered[0].filename().string().ends_with(",S=0,W=0"));
}

BOOST_AUTO_TEST_CASE(deliver_writes_more_pieces_than_iov_max)
{
    // 3000 pieces need several writev calls of at most IOV_MAX each.
    std::vector<std::string> lines;
    std::string expected;
    for (int i = 0; i < 3000; ++i) {
        lines.push_back("line " + std::to_string(i) + "\n");
        expected += lines.back();
        lines.push_back("");
    }
    std::vector<std::string_view> pieces(lines.begin(), lines.end());
    BOOST_TEST_REQUIRE(!store.deliver("alice", pieces));

    const auto delivered = list_folder(mail_root / "alice" / "new");
    BOOST_TEST_REQUIRE(delivered.size() == 1u);
    BOOST_TEST(read_file(delivered[0]) == expected);
    const auto suffix = ",S=" + std::to_string(expected.size()) +
                        ",W=" + std::to_string(expected.size() + 3000);
    BOOST_TEST(delivered[0].filename().string().ends_with(suffix));
}

BOOST_AUTO_TEST_CASE(deliver_rejects_invalid_user_names)
{
    const invalid_user_case cases[] = {
        {"empty", ""},
        {"not canonical", "Alice"},
        {"dot dot", ".."},
        {"parent path", "../alice"},
        {"slash", "a/b"},
        {"absolute", "/etc"},
        {"leading dot", ".alice"},
        {"NUL", std::string_view("a\0b", 3)},
    };
    const std::string_view pieces[] = {"x\n"};
    const std::error_code invalid = postern::error::invalid_user_name;
    for (const auto& row : cases) {
        BOOST_TEST_CONTEXT(row.label)
        {
            BOOST_TEST(store.deliver(row.user, pieces) == invalid);
        }
    }
    BOOST_TEST(!std::filesystem::exists(mail_root));
    BOOST_TEST(list_folder(folder.path()).empty());
}

BOOST_AUTO_TEST_CASE(deliver_fails_when_root_is_file)
{
    std::ofstream(mail_root) << "not a folder";
    const std::string_view pieces[] = {"x\n"};
    auto failure = store.deliver("alice", pieces);
    BOOST_TEST(failure == std::make_error_code(std::errc::not_a_directory));
    BOOST_TEST(read_file(mail_root) == "not a folder");
}

BOOST_AUTO_TEST_CASE(deliver_leaves_no_file_on_failure)
{
    // new/ is a file, so the rename fails after tmp/NAME was written.
    const auto box = mail_root / "alice";
    std::filesystem::create_directories(box / "tmp");
    std::filesystem::create_directories(box / "cur");
    std::ofstream(box / "new") << "";

    const std::string_view pieces[] = {"x\n"};
    auto failure = store.deliver("alice", pieces);
    BOOST_TEST(failure == std::make_error_code(std::errc::not_a_directory));
    BOOST_TEST(list_folder(box / "tmp").empty());
    BOOST_TEST(std::filesystem::is_regular_file(box / "new"));
}

BOOST_AUTO_TEST_CASE(store_message_writes_every_copy)
{
    const std::string users[] = {"alice", "bob"};
    const std::string_view local[] = {"Return-Path: <a@b>\n", "x\n"};
    const std::string_view queued[] = {"x\n"};
    const envelope relay{"a@b", {"c@d.example"}};
    postern::store::delivery copies{users, local, &relay, queued};
    BOOST_TEST_REQUIRE(!store.store_message(copies));

    BOOST_TEST(list_folder(mail_root / "alice" / "new").size() == 1u);
    BOOST_TEST(list_folder(mail_root / "bob" / "new").size() == 1u);
    BOOST_TEST(list_folder(queue_root / "new").size() == 1u);
    BOOST_TEST(list_folder(mail_root / "alice" / "tmp").empty());
}

BOOST_AUTO_TEST_CASE(store_message_is_all_or_nothing)
{
    // bob's new/ is a file, so his copy fails after alice's was staged.
    const auto bob = mail_root / "bob";
    std::filesystem::create_directories(bob / "tmp");
    std::filesystem::create_directories(bob / "cur");
    std::ofstream(bob / "new") << "";

    const std::string users[] = {"alice", "bob"};
    const std::string_view local[] = {"x\n"};
    const envelope relay{"a@b", {"c@d.example"}};
    postern::store::delivery copies{users, local, &relay, local};
    auto failure = store.store_message(copies);
    BOOST_TEST(failure == std::make_error_code(std::errc::not_a_directory));

    BOOST_TEST(list_folder(mail_root / "alice" / "new").empty());
    BOOST_TEST(list_folder(mail_root / "alice" / "tmp").empty());
    BOOST_TEST(list_folder(bob / "tmp").empty());
    bool queue_empty = !std::filesystem::exists(queue_root / "new") ||
                       list_folder(queue_root / "new").empty();
    BOOST_TEST(queue_empty);
}

BOOST_AUTO_TEST_CASE(deliver_creates_missing_parents)
{
    maildir_store nested(folder.path() / "a" / "b" / "mail", queue_root,
                         "mx.example.com");
    const std::string_view pieces[] = {"x\n"};
    BOOST_TEST_REQUIRE(!nested.deliver("alice", pieces));
    const auto box = folder.path() / "a" / "b" / "mail" / "alice";
    BOOST_TEST(list_folder(box / "new").size() == 1u);
    BOOST_TEST(file_mode(folder.path() / "a") == 0700u);
}

BOOST_AUTO_TEST_CASE(mailbox_is_under_mail_root)
{
    BOOST_TEST(store.mailbox("alice") == mail_root / "alice");
}

BOOST_AUTO_TEST_CASE(enqueue_writes_into_queue_root)
{
    const envelope env{"alice@example.com", {"bob@example.net"}};
    const std::string_view pieces[] = {"Subject: relay\n\nbody\n"};
    BOOST_TEST_REQUIRE(!store.enqueue(env, pieces));

    BOOST_TEST(list_folder(queue_root / "tmp").empty());
    const auto queued = list_folder(queue_root / "new");
    BOOST_TEST_REQUIRE(queued.size() == 1u);
    BOOST_TEST(read_file(queued[0]) ==
               "MAIL FROM:<alice@example.com>\n"
               "RCPT TO:<bob@example.net>\n"
               "\n"
               "Subject: relay\n\nbody\n");
    BOOST_TEST(!std::filesystem::exists(mail_root));
}

BOOST_AUTO_TEST_CASE(concurrent_deliveries_share_folder_fsyncs)
{
    constexpr int threads = 8;
    constexpr int per_thread = 25;
    auto& syncer = postern::store::detail::shared_folder_syncer();
    auto before = syncer.fsyncs();

    std::vector<std::thread> writers;
    std::atomic<int> failures{0};
    for (int t = 0; t < threads; ++t)
        writers.emplace_back([&] {
            const std::string_view pieces[] = {"Subject: x\n\nbody\n"};
            for (int i = 0; i < per_thread; ++i)
                if (store.deliver("alice", pieces))
                    ++failures;
        });
    for (auto& writer : writers)
        writer.join();

    BOOST_TEST(failures.load() == 0);
    BOOST_TEST(list_folder(mail_root / "alice" / "new").size() ==
               static_cast<std::size_t>(threads * per_thread));
    BOOST_TEST(list_folder(mail_root / "alice" / "tmp").empty());
    // At most one fsync per delivery; fewer when deliveries overlapped.
    BOOST_TEST(syncer.fsyncs() - before <=
               static_cast<std::uint64_t>(threads * per_thread));
}

BOOST_AUTO_TEST_SUITE_END()
