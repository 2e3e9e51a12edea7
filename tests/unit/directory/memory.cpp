#include <postern/directory/memory.hpp>

#include "directory_checks.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace {

using postern::secret;
using postern::directory::memory_directory;

static_assert(postern::directory::user_directory<memory_directory>);

} // namespace

BOOST_AUTO_TEST_SUITE(memory)

BOOST_AUTO_TEST_CASE(memory_round_trip)
{
    memory_directory directory;
    directory_checks::check_round_trip(directory);
}

BOOST_AUTO_TEST_CASE(memory_stores_requested_secrets)
{
    memory_directory directory;
    directory_checks::check_stored_secrets(directory);
}

BOOST_AUTO_TEST_CASE(memory_lists_users_sorted)
{
    memory_directory directory;
    directory_checks::check_list_sorted(directory);
}

BOOST_AUTO_TEST_CASE(memory_admin_errors)
{
    memory_directory directory;
    directory_checks::check_admin_errors(directory);
}

BOOST_AUTO_TEST_CASE(memory_rejects_invalid_names)
{
    memory_directory directory;
    directory_checks::check_invalid_names(directory);
}

BOOST_AUTO_TEST_CASE(memory_supplies_table)
{
    const memory_directory directory;
    directory_checks::check_supplies(directory);
}

BOOST_AUTO_TEST_CASE(memory_serves_concurrent_calls)
{
    memory_directory directory;
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
                if (!directory.exists(name))
                    ++failures;
            }
        });
    }
    for (auto& worker : workers)
        worker.join();

    BOOST_TEST(failures.load() == 0);
    BOOST_TEST(directory.list_users().size() == 5u);
}

BOOST_AUTO_TEST_SUITE_END()
