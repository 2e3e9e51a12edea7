#include <postern/directory/sqlite.hpp>

#include "directory_checks.hpp"

#include <boost/test/unit_test.hpp>

#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using postern::secret;
using postern::directory::sqlite_directory;

static_assert(postern::directory::user_directory<sqlite_directory>);

/// A fresh folder under the system's temporary folder, removed with its
/// contents at the end of the test.
class temp_folder {
public:
    temp_folder()
    {
        auto pattern =
            (std::filesystem::temp_directory_path() / "postern-XXXXXX")
                .string();
        BOOST_TEST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    temp_folder(const temp_folder&) = delete;
    temp_folder& operator=(const temp_folder&) = delete;

    ~temp_folder()
    {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

struct fixture {
    temp_folder folder;
    std::filesystem::path database = folder.path() / "data" / "users.sqlite";
};

void run_sql(const std::filesystem::path& file, const char* sql)
{
    sqlite3* connection = nullptr;
    BOOST_TEST_REQUIRE(sqlite3_open(file.c_str(), &connection) == SQLITE_OK);
    int result = sqlite3_exec(connection, sql, nullptr, nullptr, nullptr);
    sqlite3_close(connection);
    BOOST_TEST_REQUIRE(result == SQLITE_OK);
}

void check_open_fails(const std::filesystem::path& file)
{
    try {
        sqlite_directory directory(file);
        BOOST_FAIL("expected std::system_error");
    } catch (const std::system_error& failure) {
        BOOST_TEST(std::string(failure.what()).find(file.string()) !=
                   std::string::npos);
    }
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(sqlite, fixture)

BOOST_AUTO_TEST_CASE(sqlite_round_trip)
{
    sqlite_directory directory(database);
    directory_checks::check_round_trip(directory);
}

BOOST_AUTO_TEST_CASE(sqlite_stores_requested_secrets)
{
    sqlite_directory directory(database);
    directory_checks::check_stored_secrets(directory);
}

BOOST_AUTO_TEST_CASE(sqlite_lists_users_sorted)
{
    sqlite_directory directory(database);
    directory_checks::check_list_sorted(directory);
}

BOOST_AUTO_TEST_CASE(sqlite_admin_errors)
{
    sqlite_directory directory(database);
    directory_checks::check_admin_errors(directory);
}

BOOST_AUTO_TEST_CASE(sqlite_rejects_invalid_names)
{
    sqlite_directory directory(database);
    directory_checks::check_invalid_names(directory);
}

BOOST_AUTO_TEST_CASE(sqlite_supplies_table)
{
    const sqlite_directory directory(database);
    directory_checks::check_supplies(directory);
}

BOOST_AUTO_TEST_CASE(sqlite_creates_file_mode_0600)
{
    sqlite_directory directory(database);
    struct stat status {};
    BOOST_TEST_REQUIRE(::stat(database.c_str(), &status) == 0);
    BOOST_TEST((status.st_mode & 07777) == 0600u);
}

BOOST_AUTO_TEST_CASE(sqlite_reopen_keeps_users)
{
    {
        sqlite_directory directory(database);
        postern::directory::user_options options;
        options.pop3_override = secret("pop-only");
        BOOST_TEST(!directory.add_user("alice", secret("pw1"), options));
        BOOST_TEST(!directory.add_user("bob", secret("pw2")));
    }
    sqlite_directory reopened(database);
    BOOST_TEST(reopened.exists("alice"));
    BOOST_TEST(reopened.verify_password("alice", "pw1"));
    BOOST_TEST(reopened.verify_password("bob", "pw2"));
    auto found = reopened.find_user("alice");
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST_REQUIRE(found->pop3_override_plaintext.has_value());
    BOOST_TEST(found->pop3_override_plaintext->view() == "pop-only");
    BOOST_TEST(reopened.list_users().size() == 2u);
}

BOOST_AUTO_TEST_CASE(sqlite_stores_derived_secrets)
{
    postern::directory::credentials stored;
    stored.user = "carol";
    stored.password_verifier = postern::directory::hash_password("pw");
    stored.cram_md5 = std::string(32, '\x01');
    stored.nt_hash = std::array<std::uint8_t, 16>{1, 2, 3, 4, 5, 6, 7, 8,
                                                  9, 10, 11, 12, 13, 14,
                                                  15, 0};
    stored.scram_sha256 = postern::directory::scram_credentials{
        std::string("salt\0salt", 9), 4096, std::string(32, '\x02'),
        std::string(32, '\x03')};
    {
        sqlite_directory directory(database);
        BOOST_TEST(!directory.add_user(stored));
        BOOST_TEST(directory.add_user(stored) ==
                   postern::error::user_exists);
    }

    sqlite_directory reopened(database);
    auto found = reopened.find_user("carol");
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(*found->cram_md5 == *stored.cram_md5);
    BOOST_TEST((*found->nt_hash == *stored.nt_hash));
    BOOST_TEST_REQUIRE(found->scram_sha256.has_value());
    BOOST_TEST(found->scram_sha256->salt == stored.scram_sha256->salt);
    BOOST_TEST(found->scram_sha256->iterations == 4096u);
    BOOST_TEST(found->scram_sha256->stored_key ==
               stored.scram_sha256->stored_key);
    BOOST_TEST(found->scram_sha256->server_key ==
               stored.scram_sha256->server_key);
    BOOST_TEST(!found->scram_sha1.has_value());
    BOOST_TEST(reopened.verify_password("carol", "pw"));

    stored.cram_md5.reset();
    BOOST_TEST(!reopened.replace_credentials(stored));
    BOOST_TEST(!reopened.find_user("carol")->cram_md5.has_value());
}

BOOST_AUTO_TEST_CASE(sqlite_remove_deletes_secrets)
{
    {
        sqlite_directory directory(database);
        postern::directory::user_options options;
        options.keep_plaintext = true;
        BOOST_TEST(!directory.add_user("alice", secret("pw1"), options));
        BOOST_TEST(!directory.remove_user("alice"));
    }
    sqlite3* connection = nullptr;
    BOOST_TEST_REQUIRE(sqlite3_open(database.c_str(), &connection) ==
                       SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    BOOST_TEST_REQUIRE(sqlite3_prepare_v2(connection,
                                          "SELECT count(*) FROM secrets", -1,
                                          &statement, nullptr) == SQLITE_OK);
    BOOST_TEST(sqlite3_step(statement) == SQLITE_ROW);
    BOOST_TEST(sqlite3_column_int(statement, 0) == 0);
    sqlite3_finalize(statement);
    sqlite3_close(connection);
}

BOOST_AUTO_TEST_CASE(sqlite_rejects_text_file)
{
    std::filesystem::create_directories(database.parent_path());
    std::ofstream(database) << "name:{CRYPT}$y$...\n";
    check_open_fails(database);
}

BOOST_AUTO_TEST_CASE(sqlite_rejects_foreign_database)
{
    std::filesystem::create_directories(database.parent_path());
    run_sql(database, "CREATE TABLE accounts (id INTEGER)");
    check_open_fails(database);
}

BOOST_AUTO_TEST_CASE(sqlite_rejects_newer_schema)
{
    {
        sqlite_directory directory(database);
    }
    run_sql(database, "PRAGMA user_version = 2");
    check_open_fails(database);
}

BOOST_AUTO_TEST_CASE(sqlite_rejects_folder_path)
{
    std::filesystem::create_directories(database);
    check_open_fails(database);
}

BOOST_AUTO_TEST_CASE(sqlite_two_connections_share_file)
{
    // The admin command and a running server open the same file.
    sqlite_directory server(database);
    sqlite_directory admin(database);
    BOOST_TEST(!admin.add_user("alice", secret("pw1")));
    BOOST_TEST(server.exists("alice"));
    BOOST_TEST(server.verify_password("alice", "pw1"));
    BOOST_TEST(!server.set_password("alice", secret("pw2")));
    BOOST_TEST(admin.verify_password("alice", "pw2"));
    BOOST_TEST(!admin.remove_user("alice"));
    BOOST_TEST(!server.exists("alice"));
}

BOOST_AUTO_TEST_CASE(sqlite_serves_concurrent_calls)
{
    sqlite_directory directory(database);
    BOOST_TEST_REQUIRE(!directory.add_user("alice", secret("pw1")));

    std::atomic<int> failures{0};
    std::vector<std::thread> workers;
    for (int worker = 0; worker < 4; ++worker) {
        workers.emplace_back([&directory, &failures, worker] {
            std::string name = "user" + std::to_string(worker);
            if (directory.add_user(name, secret("pw")))
                ++failures;
            for (int round = 0; round < 3; ++round) {
                if (!directory.verify_password("alice", "pw1"))
                    ++failures;
                if (!directory.find_user(name))
                    ++failures;
            }
        });
    }
    for (auto& worker : workers)
        worker.join();

    BOOST_TEST(failures.load() == 0);
    BOOST_TEST(directory.list_users().size() == 5u);
}

BOOST_AUTO_TEST_CASE(sqlite_error_category_names_result)
{
    auto code = postern::directory::detail::make_sqlite_error(SQLITE_BUSY);
    BOOST_TEST(code.category().name() == std::string("sqlite"));
    BOOST_TEST(code.message() == "database is locked");
}

BOOST_AUTO_TEST_SUITE_END()
