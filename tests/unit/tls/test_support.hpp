// Test helpers: a temporary folder for generated keys and certificates,
// file reading and writing, and error code checks.
#pragma once

#include <boost/test/unit_test.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <system_error>

namespace postern::tls::test {

/// A folder under the system temporary folder, removed with everything in
/// it when the test ends.
class temp_folder {
public:
    temp_folder()
    {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "postern-tls-XXXXXX")
                .string();
        if (::mkdtemp(pattern.data()) == nullptr)
            throw std::system_error(errno, std::system_category(),
                                    "mkdtemp failed for " + pattern);
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

    std::filesystem::path operator/(const std::filesystem::path& name) const
    {
        return path_ / name;
    }

private:
    std::filesystem::path path_;
};

inline std::string read_file(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot open " + file.string());
    return {std::istreambuf_iterator<char>(in),
            std::istreambuf_iterator<char>()};
}

inline void write_file(const std::filesystem::path& file,
                       const std::string& bytes)
{
    std::ofstream out(file, std::ios::binary);
    out << bytes;
    if (!out)
        throw std::runtime_error("cannot write " + file.string());
}

/// Checks `ec` against a portable error condition. Boost.Test cannot print
/// std::errc, so the code and its message are attached as context.
inline void check_error(const std::error_code& ec, std::errc expected)
{
    BOOST_TEST_INFO("error code " << ec << ": " << ec.message());
    BOOST_TEST((ec == expected));
}

} // namespace postern::tls::test
