#include "commands.hpp"

#include <sys/stat.h>

#include <cerrno>

namespace postern_server {

void create_private_folder(const std::filesystem::path& folder)
{
    std::filesystem::path partial;
    for (const std::filesystem::path& part : folder) {
        partial /= part;
        if (::mkdir(partial.c_str(), 0700) == 0 || errno == EEXIST)
            continue;
        std::error_code error(errno, std::generic_category());
        throw command_error(exit_unavailable,
                            partial.string() +
                                ": cannot create folder: " + error.message());
    }

    std::error_code error;
    if (!std::filesystem::is_directory(folder, error))
        throw command_error(exit_unavailable,
                            folder.string() + ": not a folder");
}

void check_directory_supported(const config& settings)
{
    // TODO: the passwd-file and PAM directories do not exist yet; the
    // configuration accepts them so that files written for them stay
    // valid.
    if (settings.directory.kind != directory_kind::sqlite)
        throw command_error(exit_invalid,
                            settings.source.string() +
                                ": directory.kind: this build supports"
                                " only \"sqlite\" so far");
}

std::unique_ptr<postern::directory::sqlite_directory>
open_user_directory(const config& settings)
{
    check_directory_supported(settings);
    create_private_folder(settings.data_dir);
    try {
        return std::make_unique<postern::directory::sqlite_directory>(
            settings.directory.path);
    } catch (const std::system_error& failure) {
        // what() names the database file.
        throw command_error(exit_unavailable,
                            std::string("cannot open the user directory: ") +
                                failure.what());
    }
}

} // namespace postern_server
