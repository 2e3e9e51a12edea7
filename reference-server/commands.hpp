// The commands of postern-server, each taking the loaded configuration and
// returning the process exit status.
#pragma once

#include "config.hpp"

#include <postern/directory/sqlite.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

namespace postern_server {

/// Exit statuses of every command.
enum exit_status : int {
    exit_success = 0,
    exit_invalid = 1,     ///< a usage or validation error
    exit_unavailable = 2, ///< a port, file or database cannot be used
};

/// A failed command: the one-line message for standard error and the exit
/// status.
class command_error : public std::runtime_error {
public:
    command_error(exit_status status, const std::string& message)
        : std::runtime_error(message), status_(status)
    {
    }

    exit_status status() const noexcept { return status_; }

private:
    exit_status status_;
};

/// Options of `user add` and `user passwd`.
struct user_command {
    std::string name;
    bool password_stdin = false; ///< read the password from standard input
    bool override_stdin = false; ///< then read a POP3 override password
    bool apop = false;           ///< keep the plaintext password for APOP
};

/// Options of `cert generate`.
struct cert_command {
    std::optional<std::string> identity;
    std::optional<std::string> wildcard; ///< the domain under "*."
    std::optional<std::filesystem::path> out;
    int days = 825;
};

int run_server(const config& settings);
int add_user(const config& settings, const user_command& command);
int change_password(const config& settings, const user_command& command);
int remove_user(const config& settings, const std::string& name);
int list_users(const config& settings);
int generate_certificate(const config& settings, const cert_command& command);

/// Creates `folder` and any missing parent with mode 0700. Folders that
/// exist keep their mode.
///
/// @throws command_error (exit_unavailable) naming the folder.
void create_private_folder(const std::filesystem::path& folder);

/// Checks that this build can open the directory kind that `settings`
/// names.
///
/// @throws command_error (exit_invalid) naming the key.
void check_directory_supported(const config& settings);

/// Opens the SQLite user directory that `settings` names, creating the
/// data folder first.
///
/// @throws command_error: exit_invalid for a directory kind this build
///   cannot open, exit_unavailable when the database cannot be used.
std::unique_ptr<postern::directory::sqlite_directory>
open_user_directory(const config& settings);

} // namespace postern_server
