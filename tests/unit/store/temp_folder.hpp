// Test helpers for the store tests: a temporary folder and file readers.
#pragma once

#include <boost/test/unit_test.hpp>

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

namespace store_test {

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

/// Returns the entries of `folder`, or none if it does not exist.
inline std::vector<std::filesystem::path> list_folder(
    const std::filesystem::path& folder)
{
    std::vector<std::filesystem::path> entries;
    std::error_code error;
    for (const auto& entry :
         std::filesystem::directory_iterator(folder, error))
        entries.push_back(entry.path());
    return entries;
}

inline std::string read_file(const std::filesystem::path& file)
{
    std::ifstream input(file, std::ios::binary);
    BOOST_TEST_REQUIRE(input.is_open());
    return {std::istreambuf_iterator<char>(input),
            std::istreambuf_iterator<char>()};
}

/// Returns the permission bits of `path`.
inline unsigned file_mode(const std::filesystem::path& path)
{
    struct stat status {};
    BOOST_TEST_REQUIRE(::stat(path.c_str(), &status) == 0);
    return status.st_mode & 07777;
}

} // namespace store_test
