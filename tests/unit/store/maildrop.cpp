#include <postern/store/maildrop.hpp>

#include "temp_folder.hpp"

#include <postern/store/maildir.hpp>

#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace {

using postern::store::maildir_maildrop;
using postern::store::maildir_store;
using postern::store::wire_reader;
using store_test::file_mode;
using store_test::list_folder;

static_assert(std::is_nothrow_move_constructible_v<maildir_maildrop>);
static_assert(!std::is_copy_constructible_v<maildir_maildrop>);
static_assert(std::is_move_constructible_v<wire_reader>);

const std::error_code in_use = postern::error::maildrop_in_use;
const std::error_code invalid_user = postern::error::invalid_user_name;

struct fixture {
    store_test::temp_folder folder;
    std::filesystem::path mail_root = folder.path() / "mail";
    maildir_store store{mail_root, folder.path() / "queue", "mx.example.com"};

    std::filesystem::path box(std::string_view user) const
    {
        return mail_root / std::filesystem::path(user);
    }

    void deliver(std::string_view user, std::string_view message)
    {
        const std::string_view pieces[] = {message};
        BOOST_TEST_REQUIRE(!store.deliver(user, pieces));
    }

    /// Writes a message file directly, as another Maildir writer would.
    void write_raw(std::string_view user, const char* folder,
                   std::string_view name, std::string_view content) const
    {
        auto path = box(user) / folder;
        std::filesystem::create_directories(path);
        std::ofstream output(path / std::filesystem::path(name),
                             std::ios::binary);
        output << content;
        BOOST_TEST_REQUIRE(output.good());
    }

    maildir_maildrop open_drop(std::string_view user) const
    {
        maildir_maildrop drop;
        BOOST_TEST_REQUIRE(!maildir_maildrop::open(mail_root, user, drop));
        return drop;
    }
};

/// Reads a whole stream in pieces of `max_octets`, checking the bound of
/// every piece.
std::string read_wire(const std::filesystem::path& file,
                      std::optional<std::size_t> body_lines = std::nullopt,
                      std::size_t max_octets = 4096)
{
    wire_reader reader;
    BOOST_TEST_REQUIRE(!reader.open(file, body_lines));
    std::string wire;
    bool finished = false;
    for (int calls = 0; !finished; ++calls) {
        BOOST_TEST_REQUIRE(calls < 10'000'000);
        auto before = wire.size();
        BOOST_TEST_REQUIRE(!reader.read(wire, max_octets, finished));
        BOOST_TEST_REQUIRE(wire.size() - before <=
                           std::max<std::size_t>(max_octets, 2));
    }
    return wire;
}

/// Counts the lines of a file that start with '.', each of which gains a
/// stuffing dot on the wire.
std::size_t dot_lines(std::string_view content)
{
    std::size_t count = 0;
    for (std::size_t i = 0; i < content.size(); ++i) {
        bool line_start = i == 0 || content[i - 1] == '\n';
        if (line_start && content[i] == '.')
            ++count;
    }
    return count;
}

/// The wire form computed octet by octet, to check the block-wise reader
/// on input too large to spell out.
std::string reference_wire(std::string_view content)
{
    std::string wire;
    bool line_start = true;
    for (char c : content) {
        if (c == '\n') {
            wire += "\r\n";
            line_start = true;
            continue;
        }
        if (line_start && c == '.')
            wire += '.';
        wire += c;
        line_start = false;
    }
    if (!line_start)
        wire += "\r\n";
    return wire;
}

std::vector<std::string> unique_ids(const maildir_maildrop& drop)
{
    std::vector<std::string> ids;
    for (const auto& message : drop.messages())
        ids.push_back(message.unique_id);
    return ids;
}

std::vector<std::string> file_names(const std::filesystem::path& folder)
{
    std::vector<std::string> names;
    for (const auto& path : list_folder(folder))
        names.push_back(path.filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

struct wire_case {
    const char* label;
    std::string content;
    std::string wire;
    bool has_final_line_feed;
};

std::vector<wire_case> wire_cases()
{
    const std::string long_line(998, 'x');
    return {
        {"dot lines", "Subject: dots\n\n.hidden\n..two\nend.\n.\n",
         "Subject: dots\r\n\r\n..hidden\r\n...two\r\nend.\r\n..\r\n", true},
        {"998-octet line", "Subject: long\n\n" + long_line + "\n",
         "Subject: long\r\n\r\n" + long_line + "\r\n", true},
        {"empty body", "Subject: empty\n\n", "Subject: empty\r\n\r\n", true},
        {"no final LF", "Subject: cut\n\n.last",
         "Subject: cut\r\n\r\n..last\r\n", false},
        {"empty file", "", "", true},
    };
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(maildrop, fixture)

BOOST_AUTO_TEST_CASE(open_creates_missing_mailbox)
{
    auto drop = open_drop("alice");

    BOOST_TEST(drop.count() == 0u);
    BOOST_TEST(drop.total_size() == 0u);
    BOOST_TEST(drop.messages().empty());
    BOOST_TEST(file_mode(box("alice")) == 0700u);
    BOOST_TEST(file_mode(box("alice") / "tmp") == 0700u);
    BOOST_TEST(file_mode(box("alice") / "new") == 0700u);
    BOOST_TEST(file_mode(box("alice") / "cur") == 0700u);
    BOOST_TEST(file_mode(box("alice") / "postern-pop3.lock") == 0600u);
}

BOOST_AUTO_TEST_CASE(open_rejects_invalid_user_name)
{
    const struct {
        const char* label;
        std::string_view user;
    } cases[] = {
        {"empty", ""},
        {"upper case", "Alice"},
        {"slash", "alice/cur"},
        {"dot dot", ".."},
        {"leading dot", ".alice"},
        {"space", "al ice"},
    };
    for (const auto& row : cases) {
        BOOST_TEST_CONTEXT(row.label)
        {
            maildir_maildrop drop;
            auto failure = maildir_maildrop::open(mail_root, row.user, drop);
            BOOST_TEST(failure == invalid_user);
        }
    }
    BOOST_TEST(list_folder(mail_root).empty());
}

BOOST_AUTO_TEST_CASE(open_counts_messages_and_sizes)
{
    deliver("alice", "Subject: a\n\none\n");      // 16 octets, 3 LF
    deliver("alice", "Subject: b\n\ntwo\nlines\n"); // 22 octets, 4 LF
    deliver("alice", "x");                          // 1 octet, no LF

    auto drop = open_drop("alice");

    BOOST_TEST_REQUIRE(drop.messages().size() == 3u);
    BOOST_TEST(drop.count() == 3u);
    BOOST_TEST(drop.messages()[0].size == 19u);
    BOOST_TEST(drop.messages()[1].size == 26u);
    // W= of a message without a final LF counts the CRLF the wire adds.
    BOOST_TEST(drop.messages()[2].size == 3u);
    BOOST_TEST(drop.total_size() == 48u);
}

BOOST_AUTO_TEST_CASE(list_sizes_match_wire_bytes)
{
    auto cases = wire_cases();
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto& row = cases[i];
        BOOST_TEST_CONTEXT(row.label)
        {
            // Without W=, the maildrop measures the file.
            auto raw_user = "raw" + std::to_string(i);
            write_raw(raw_user, "cur", "1700000000.M1P1Q1.other:2,",
                      row.content);
            std::vector<std::string> users = {raw_user};
            // Delivery writes W=, which the maildrop takes from the name.
            if (row.has_final_line_feed) {
                users.push_back("delivered" + std::to_string(i));
                deliver(users.back(), row.content);
            }

            for (const auto& user : users) {
                auto drop = open_drop(user);
                BOOST_TEST_REQUIRE(drop.messages().size() == 1u);
                const auto& message = drop.messages()[0];
                auto wire = read_wire(message.path);
                BOOST_TEST(wire == row.wire);
                BOOST_TEST(message.size ==
                           wire.size() - dot_lines(row.content));
                BOOST_TEST(drop.total_size() == message.size);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(size_comes_from_wire_size_field)
{
    write_raw("alice", "cur", "1700000000.M1P1Q1.other,S=5,W=999:2,", "ab\n");

    auto drop = open_drop("alice");

    BOOST_TEST_REQUIRE(drop.messages().size() == 1u);
    BOOST_TEST(drop.messages()[0].size == 999u);
}

BOOST_AUTO_TEST_CASE(wire_reader_output_is_byte_exact)
{
    auto cases = wire_cases();
    const std::size_t piece_sizes[] = {0, 1, 2, 3, 7, 65536};
    for (const auto& row : cases) {
        write_raw("alice", "cur", "message", row.content);
        auto file = box("alice") / "cur" / "message";
        for (auto piece_size : piece_sizes) {
            BOOST_TEST_CONTEXT(row.label << ", pieces of " << piece_size)
            {
                BOOST_TEST(read_wire(file, std::nullopt, piece_size) ==
                           row.wire);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(wire_reader_crosses_block_boundaries)
{
    // Lines of 100 octets, each starting with '.', so line starts fall on
    // both sides of every 64 KiB block boundary.
    std::string content = "Subject: big\n\n";
    for (int i = 0; i < 3000; ++i)
        content += "." + std::string(98, static_cast<char>('a' + i % 26)) +
                   "\n";
    content += "tail without LF";
    write_raw("alice", "cur", "big", content);
    auto file = box("alice") / "cur" / "big";

    const std::size_t piece_sizes[] = {1000, 65536, 1 << 20};
    for (auto piece_size : piece_sizes) {
        BOOST_TEST_CONTEXT("pieces of " << piece_size)
        {
            BOOST_TEST(read_wire(file, std::nullopt, piece_size) ==
                       reference_wire(content));
        }
    }
}

BOOST_AUTO_TEST_CASE(wire_reader_stops_at_top_lines)
{
    const std::string content =
        "From: a\nSubject: top\n\nline 1\n.line 2\nline 3\n";
    write_raw("alice", "cur", "message", content);
    auto file = box("alice") / "cur" / "message";

    const struct {
        const char* label;
        std::size_t lines;
        std::string wire;
    } cases[] = {
        {"zero lines", 0, "From: a\r\nSubject: top\r\n\r\n"},
        {"one line", 1, "From: a\r\nSubject: top\r\n\r\nline 1\r\n"},
        {"two lines", 2,
         "From: a\r\nSubject: top\r\n\r\nline 1\r\n..line 2\r\n"},
        {"more lines than exist", 10,
         "From: a\r\nSubject: top\r\n\r\nline 1\r\n..line 2\r\nline 3\r\n"},
    };
    for (const auto& row : cases) {
        for (std::size_t piece_size : {1, 5, 4096}) {
            BOOST_TEST_CONTEXT(row.label << ", pieces of " << piece_size)
            {
                BOOST_TEST(read_wire(file, row.lines, piece_size) == row.wire);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(wire_reader_top_edge_cases)
{
    const struct {
        const char* label;
        std::string content;
        std::size_t lines;
        std::string wire;
    } cases[] = {
        {"no blank line", "From: a\nTo: b\n", 0, "From: a\r\nTo: b\r\n"},
        {"body without final LF", "From: a\n\nbody", 5,
         "From: a\r\n\r\nbody\r\n"},
        {"empty header", "\nbody 1\nbody 2\n", 1, "\r\nbody 1\r\n"},
        {"empty file", "", 3, ""},
    };
    for (const auto& row : cases) {
        BOOST_TEST_CONTEXT(row.label)
        {
            write_raw("alice", "cur", "message", row.content);
            auto file = box("alice") / "cur" / "message";
            BOOST_TEST(read_wire(file, row.lines) == row.wire);
        }
    }
}

BOOST_AUTO_TEST_CASE(wire_reader_reports_missing_file)
{
    wire_reader reader;
    auto failure = reader.open(box("alice") / "cur" / "missing");
    BOOST_TEST(failure ==
               std::make_error_code(std::errc::no_such_file_or_directory));

    std::string out;
    bool finished = false;
    BOOST_TEST(reader.read(out, 100, finished) ==
               std::make_error_code(std::errc::bad_file_descriptor));
    BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_CASE(second_open_is_in_use)
{
    auto first = open_drop("alice");
    maildir_maildrop second;

    BOOST_TEST(maildir_maildrop::open(mail_root, "alice", second) == in_use);
    // Another account is not affected.
    BOOST_TEST(!maildir_maildrop::open(mail_root, "bob", second));
}

BOOST_AUTO_TEST_CASE(release_allows_next_open)
{
    deliver("alice", "Subject: a\n\nbody\n");
    auto first = open_drop("alice");
    first.release();

    BOOST_TEST(first.messages().empty());
    auto second = open_drop("alice");
    BOOST_TEST(second.count() == 1u);
}

BOOST_AUTO_TEST_CASE(destruction_allows_next_open)
{
    {
        auto first = open_drop("alice");
        maildir_maildrop moved(std::move(first));
        maildir_maildrop again;
        BOOST_TEST(maildir_maildrop::open(mail_root, "alice", again) ==
                   in_use);
    }
    auto second = open_drop("alice");
    BOOST_TEST(second.count() == 0u);
}

BOOST_AUTO_TEST_CASE(open_in_other_process_is_in_use)
{
    auto first = open_drop("alice");

    pid_t child = ::fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
        maildir_maildrop second;
        auto failure = maildir_maildrop::open(mail_root, "alice", second);
        ::_exit(failure == in_use ? 0 : 1);
    }
    int status = 0;
    BOOST_TEST_REQUIRE(::waitpid(child, &status, 0) == child);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0);
}

BOOST_AUTO_TEST_CASE(commit_removes_deleted_file)
{
    deliver("alice", "Subject: a\n\none\n");
    deliver("alice", "Subject: b\n\ntwo\n");
    auto drop = open_drop("alice");
    auto kept_path = drop.messages()[1].path;

    BOOST_TEST(drop.mark_deleted(0));
    BOOST_TEST(drop.count() == 1u);
    BOOST_TEST(drop.total_size() == drop.messages()[1].size);
    BOOST_TEST(!drop.commit());

    BOOST_TEST(list_folder(box("alice") / "cur") ==
               std::vector<std::filesystem::path>{kept_path});
    auto reopened = open_drop("alice");
    BOOST_TEST(reopened.count() == 1u);
}

BOOST_AUTO_TEST_CASE(commit_ignores_vanished_file)
{
    deliver("alice", "Subject: a\n\none\n");
    auto drop = open_drop("alice");
    BOOST_TEST_REQUIRE(drop.mark_deleted(0));
    std::filesystem::remove(drop.messages()[0].path);

    BOOST_TEST(!drop.commit());
    BOOST_TEST(open_drop("alice").count() == 0u);
}

BOOST_AUTO_TEST_CASE(release_keeps_deleted_file)
{
    deliver("alice", "Subject: a\n\none\n");
    auto drop = open_drop("alice");
    auto path = drop.messages()[0].path;
    BOOST_TEST_REQUIRE(drop.mark_deleted(0));
    drop.release();

    BOOST_TEST(std::filesystem::exists(path));
    BOOST_TEST(open_drop("alice").count() == 1u);
}

BOOST_AUTO_TEST_CASE(mark_deleted_rejects_bad_index)
{
    deliver("alice", "Subject: a\n\none\n");
    auto drop = open_drop("alice");

    BOOST_TEST(!drop.mark_deleted(1));
    BOOST_TEST(drop.mark_deleted(0));
    BOOST_TEST(!drop.mark_deleted(0));
    BOOST_TEST(drop.messages()[0].deleted);
}

BOOST_AUTO_TEST_CASE(reset_unmarks_deleted)
{
    deliver("alice", "Subject: a\n\none\n");
    deliver("alice", "Subject: b\n\ntwo\n");
    auto drop = open_drop("alice");
    auto total = drop.total_size();
    BOOST_TEST_REQUIRE(drop.mark_deleted(0));
    BOOST_TEST_REQUIRE(drop.mark_deleted(1));
    BOOST_TEST(drop.count() == 0u);
    BOOST_TEST(drop.total_size() == 0u);

    drop.reset();

    BOOST_TEST(drop.count() == 2u);
    BOOST_TEST(drop.total_size() == total);
    BOOST_TEST(!drop.messages()[0].deleted);
    BOOST_TEST(!drop.messages()[1].deleted);
    BOOST_TEST(!drop.commit());
    BOOST_TEST(list_folder(box("alice") / "cur").size() == 2u);
}

BOOST_AUTO_TEST_CASE(mark_seen_adds_seen_flag)
{
    const struct {
        const char* label;
        const char* folder;
        const char* name;
        const char* seen;
    } cases[] = {
        {"from new/", "new", "1700000000.M1P1Q1.a,S=2,W=3",
         "1700000000.M1P1Q1.a,S=2,W=3:2,S"},
        {"no flags", "cur", "1700000001.M1P1Q1.a:2,",
         "1700000001.M1P1Q1.a:2,S"},
        {"flags kept in ASCII order", "cur", "1700000002.M1P1Q1.a:2,FTa",
         "1700000002.M1P1Q1.a:2,FSTa"},
        {"already seen", "cur", "1700000003.M1P1Q1.a:2,RS",
         "1700000003.M1P1Q1.a:2,RS"},
        {"no info", "cur", "1700000004.M1P1Q1.a", "1700000004.M1P1Q1.a:2,S"},
        {"experimental info", "cur", "1700000005.M1P1Q1.a:1,x",
         "1700000005.M1P1Q1.a:1,x"},
    };
    std::vector<std::string> expected;
    for (const auto& row : cases) {
        write_raw("alice", row.folder, row.name, "x\n");
        expected.push_back(row.seen);
    }
    std::sort(expected.begin(), expected.end());

    auto drop = open_drop("alice");
    BOOST_TEST_REQUIRE(drop.messages().size() == std::size(cases));
    for (std::size_t i = 0; i < drop.messages().size(); ++i)
        drop.mark_seen(i);
    drop.mark_seen(99);
    BOOST_TEST(!drop.commit());

    BOOST_TEST(file_names(box("alice") / "cur") == expected);
}

BOOST_AUTO_TEST_CASE(open_moves_new_to_cur)
{
    deliver("alice", "Subject: a\n\none\n");
    deliver("alice", "Subject: b\n\ntwo\n");
    auto delivered = file_names(box("alice") / "new");
    BOOST_TEST_REQUIRE(delivered.size() == 2u);

    auto drop = open_drop("alice");

    BOOST_TEST(list_folder(box("alice") / "new").empty());
    BOOST_TEST(file_names(box("alice") / "cur") ==
               (std::vector<std::string>{delivered[0] + ":2,",
                                         delivered[1] + ":2,"}));
    BOOST_TEST_REQUIRE(drop.messages().size() == 2u);
    std::vector<std::string> listed;
    for (const auto& message : drop.messages()) {
        BOOST_TEST(message.path.parent_path() == box("alice") / "cur");
        listed.push_back(message.path.filename().string());
    }
    std::sort(listed.begin(), listed.end());
    BOOST_TEST(listed == file_names(box("alice") / "cur"));
}

BOOST_AUTO_TEST_CASE(open_ignores_implausible_names)
{
    write_raw("alice", "cur", ".hidden", "x\n");
    write_raw("alice", "cur", "README", "x\n");
    write_raw("alice", "cur", "1700000000", "x\n");
    write_raw("alice", "cur", "1700000000.", "x\n");
    write_raw("alice", "new", ".1700000000.M1P1Q1.a", "x\n");
    std::filesystem::create_directories(box("alice") / "cur" /
                                        "1700000000.M1P1Q1.folder");
    std::filesystem::create_symlink(box("alice") / "cur" / "README",
                                    box("alice") / "cur" /
                                        "1700000000.M1P1Q1.link");
    write_raw("alice", "cur", "1700000000.M1P1Q1.real", "x\n");

    auto drop = open_drop("alice");

    BOOST_TEST_REQUIRE(drop.messages().size() == 1u);
    BOOST_TEST(drop.messages()[0].unique_id == "1700000000.M1P1Q1.real");
    BOOST_TEST(file_names(box("alice") / "new") ==
               std::vector<std::string>{".1700000000.M1P1Q1.a"});
}

BOOST_AUTO_TEST_CASE(open_orders_by_delivery_time)
{
    // M<usec> compares as a number, so M40 comes after M5. A name without
    // an M part counts as microsecond 0.
    const char* names[] = {
        "1700000001.M40P1Q1.a",   "1700000001.M5P1Q1.b:2,S",
        "1700000001.M5P1Q0.c",    "1699999999.M999999P1Q1.d",
        "1700000001.other.e",
    };
    for (const char* name : names)
        write_raw("alice", "cur", name, "x\n");

    auto drop = open_drop("alice");

    BOOST_TEST(unique_ids(drop) ==
               (std::vector<std::string>{
                   "1699999999.M999999P1Q1.d", "1700000001.other.e",
                   "1700000001.M5P1Q0.c", "1700000001.M5P1Q1.b",
                   "1700000001.M40P1Q1.a"}));
}

BOOST_AUTO_TEST_CASE(unique_id_is_stable_across_opens)
{
    // Each UIDL value is the delivered name up to its first ','.
    std::vector<std::string> expected;
    std::vector<std::string> before;
    for (auto message : {"Subject: a\n\none\n", "Subject: b\n\ntwo\n"}) {
        deliver("alice", message);
        auto after = file_names(box("alice") / "new");
        std::vector<std::string> added;
        std::set_difference(after.begin(), after.end(), before.begin(),
                            before.end(), std::back_inserter(added));
        BOOST_TEST_REQUIRE(added.size() == 1u);
        expected.push_back(added[0].substr(0, added[0].find(',')));
        before = after;
    }

    std::vector<std::string> first_ids;
    {
        auto drop = open_drop("alice");
        first_ids = unique_ids(drop);
        drop.mark_seen(0);
        BOOST_TEST(!drop.commit());
    }
    BOOST_TEST(first_ids == expected);

    // A restart: a new store instance delivers, a new maildrop opens.
    maildir_store restarted(mail_root, folder.path() / "queue",
                            "mx.example.com");
    const std::string_view pieces[] = {"Subject: c\n\nthree\n"};
    BOOST_TEST_REQUIRE(!restarted.deliver("alice", pieces));

    auto drop = open_drop("alice");
    auto ids = unique_ids(drop);
    BOOST_TEST_REQUIRE(ids.size() == 3u);
    BOOST_TEST(ids[0] == expected[0]);
    BOOST_TEST(ids[1] == expected[1]);
    BOOST_TEST(ids[2] != ids[0]);
    BOOST_TEST(ids[2] != ids[1]);
}

BOOST_AUTO_TEST_CASE(later_delivery_waits_for_next_open)
{
    deliver("alice", "Subject: a\n\none\n");
    auto drop = open_drop("alice");
    deliver("alice", "Subject: b\n\ntwo\n");

    BOOST_TEST(drop.count() == 1u);
    BOOST_TEST(drop.messages().size() == 1u);
    BOOST_TEST(!drop.commit());

    BOOST_TEST(open_drop("alice").count() == 2u);
}

BOOST_AUTO_TEST_CASE(long_unique_part_gives_md5_id)
{
    maildir_store long_host(mail_root, folder.path() / "queue",
                            std::string(80, 'h'));
    const std::string_view pieces[] = {"Subject: a\n\none\n"};
    BOOST_TEST_REQUIRE(!long_host.deliver("alice", pieces));

    auto drop = open_drop("alice");

    BOOST_TEST_REQUIRE(drop.messages().size() == 1u);
    const auto& id = drop.messages()[0].unique_id;
    BOOST_TEST(id.size() == 32u);
    BOOST_TEST(id.find_first_not_of("0123456789abcdef") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(unique_id_values)
{
    const struct {
        const char* label;
        const char* name;
        const char* id;
    } cases[] = {
        {"fields and info cut", "1700000000.M1P1Q1.mx,S=2,W=3:2,S",
         "1700000000.M1P1Q1.mx"},
        {"86 octets hashed",
         "1700000000.M123456P4242Q7."
         "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh:2,",
         "5c2bb5e5feabfff12674ceeedf44427a"},
        {"space hashed", "1700000000.M1P1Q1.mail host",
         "b9f65947e52c6ce162418495595efed3"},
    };
    for (const auto& row : cases) {
        BOOST_TEST_CONTEXT(row.label)
        {
            write_raw("alice", "cur", row.name, "x\n");
            {
                auto drop = open_drop("alice");
                BOOST_TEST_REQUIRE(drop.messages().size() == 1u);
                BOOST_TEST(drop.messages()[0].unique_id == row.id);
                BOOST_TEST_REQUIRE(drop.mark_deleted(0));
                BOOST_TEST(!drop.commit());
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
