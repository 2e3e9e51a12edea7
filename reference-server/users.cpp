// user add, passwd, remove and list: account administration in the SQLite
// user directory.
#include "commands.hpp"
#include "composition.hpp"

#include <postern/core/error.hpp>
#include <postern/core/secret.hpp>
#include <postern/directory/user_name.hpp>
#include <postern/directory/user_options.hpp>
#include <postern/sasl/derive.hpp>
#include <postern/sasl/plain.hpp>

#include <openssl/crypto.h>
#include <termios.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace postern_server {

namespace {

using postern::secret;

// Moves the text into a secret and wipes the original.
secret take_secret(std::string& text)
{
    secret result(text);
    if (!text.empty())
        OPENSSL_cleanse(text.data(), text.size());
    text.clear();
    return result;
}

void strip_line_ending(std::string& line)
{
    if (!line.empty() && line.back() == '\n')
        line.pop_back();
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
}

// Reads one line of standard input. A final line without LF counts.
secret read_stdin_line(std::string_view description)
{
    std::string line;
    line.reserve(256);
    if (!std::getline(std::cin, line))
        throw command_error(exit_invalid,
                            "no " + std::string(description) +
                                " on standard input");
    strip_line_ending(line);
    return take_secret(line);
}

struct file_closer {
    void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};

using file_handle = std::unique_ptr<std::FILE, file_closer>;

// Turns terminal echo off until destroyed.
class echo_off {
public:
    explicit echo_off(int descriptor) : descriptor_(descriptor)
    {
        active_ = ::tcgetattr(descriptor_, &saved_) == 0;
        if (!active_)
            return;
        termios quiet = saved_;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(descriptor_, TCSAFLUSH, &quiet);
    }

    echo_off(const echo_off&) = delete;
    echo_off& operator=(const echo_off&) = delete;

    ~echo_off()
    {
        if (active_)
            ::tcsetattr(descriptor_, TCSAFLUSH, &saved_);
    }

private:
    int descriptor_;
    termios saved_{};
    bool active_ = false;
};

// Prints `prompt` on the terminal and reads a line with echo off.
secret prompt_line(std::FILE* terminal, std::string_view prompt)
{
    std::fputs(std::string(prompt).c_str(), terminal);
    std::fflush(terminal);

    std::string line;
    line.reserve(256);
    {
        echo_off quiet(::fileno(terminal));
        int c = 0;
        while ((c = std::fgetc(terminal)) != EOF && c != '\n')
            line.push_back(static_cast<char>(c));
    }
    std::fputs("\n", terminal);
    strip_line_ending(line);
    return take_secret(line);
}

// Asks twice on the controlling terminal, as passwd(1) does.
secret prompt_password(const std::string& name)
{
    file_handle terminal(std::fopen("/dev/tty", "r+"));
    if (!terminal)
        throw command_error(exit_invalid,
                            "no terminal to ask for the password on; use "
                            "--password-stdin");

    secret first =
        prompt_line(terminal.get(), "New password for " + name + ": ");
    secret second = prompt_line(terminal.get(), "Repeat the password: ");
    if (first.view() != second.view())
        throw command_error(exit_invalid, "the passwords do not match");
    return first;
}

// PLAIN sends the password in a field of at most 255 octets (RFC 4616,
// section 2), and the LOGIN mechanism applies the same bound, so a longer
// password could never log in.
constexpr std::size_t max_password_octets = 255;

// C0 controls and DEL. After the UTF-8 check every octet below 0x80 is a
// whole character, so checking octets is enough.
bool has_control_character(std::string_view text)
{
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto octet = static_cast<unsigned char>(c);
        return octet < 0x20 || octet == 0x7f;
    });
}

// Returns the rule that `password` breaks, or nullopt when a client can
// send it. The reason never quotes the password.
std::optional<std::string_view> password_problem(std::string_view password)
{
    if (password.empty())
        return "is empty";
    if (password.size() > max_password_octets)
        return "is longer than 255 octets, the limit of a PLAIN or LOGIN"
               " field (RFC 4616, section 2)";
    // The check that PLAIN applies to the password a client sends, so
    // whatever passes here can also pass there.
    if (!postern::sasl::detail::is_valid_utf8(password))
        return "is not valid UTF-8";
    // No client can type NUL, and PLAIN cannot carry it. A line break
    // would end a POP3 PASS command early.
    if (has_control_character(password))
        return "contains a control character (U+0000 to U+001F or"
               " U+007F)";
    return std::nullopt;
}

void check_password(const secret& password, std::string_view description)
{
    if (auto problem = password_problem(password.view()))
        throw command_error(exit_invalid, "the " + std::string(description) +
                                              " " + std::string(*problem));
}

// Reads the password, and the POP3 override with --pop3-override-stdin,
// into `options`.
secret read_passwords(const user_command& command,
                      postern::directory::user_options& options)
{
    secret password = command.password_stdin
                          ? read_stdin_line("password")
                          : prompt_password(command.name);
    check_password(password, "password");

    if (command.override_stdin) {
        options.pop3_override = read_stdin_line("POP3 override password");
        check_password(*options.pop3_override, "POP3 override password");
        std::cerr << "warning: the POP3 override password of "
                  << command.name
                  << " is stored in plaintext, because APOP and CRAM-MD5"
                     " need it\n";
    }
    return password;
}

postern::directory::user_options read_options(const user_command& command)
{
    postern::directory::user_options options;
    options.keep_plaintext = command.apop;
    if (command.apop)
        std::cerr << "warning: --apop stores the plaintext password of "
                  << command.name << ", because APOP needs it\n";
    return options;
}

// Maps a directory error to a message and an exit status: a bad name,
// account or password is the caller's error, anything else the
// database's.
void check(std::error_code error, const std::string& name)
{
    if (!error)
        return;
    if (error == postern::error::invalid_user_name)
        throw command_error(exit_invalid,
                            "invalid user name \"" + name +
                                "\": use 1 to 64 of a-z, 0-9, '.', '_', '-'"
                                ", starting with a letter or digit and "
                                "not ending with '.'");
    if (error == postern::error::user_exists ||
        error == postern::error::user_not_found)
        throw command_error(exit_invalid, name + ": " + error.message());
    if (error == std::errc::invalid_argument)
        throw command_error(exit_invalid,
                            "the password cannot be stored: " +
                                error.message());
    throw command_error(exit_unavailable,
                        "user directory: " + error.message());
}

// Checks the name and whether the account exists before any password is
// asked for, so a typo does not cost two prompts.
void check_account(postern::directory::sqlite_directory& directory,
                   const std::string& name, bool should_exist)
{
    if (!postern::directory::canonical_user_name(name))
        check(postern::error::invalid_user_name, name);

    bool exists = false;
    try {
        exists = directory.exists(name);
    } catch (const std::system_error& failure) {
        throw command_error(exit_unavailable,
                            std::string("user directory: ") +
                                failure.what());
    }
    if (exists && !should_exist)
        check(postern::error::user_exists, name);
    if (!exists && should_exist)
        check(postern::error::user_not_found, name);
}

// Every secret the compiled-in mechanisms need, derived from the one
// password: the crypt(3) hash, the CRAM-MD5 context, the SCRAM keys and
// the NT hash (plus the plaintext with --apop).
postern::directory::credentials
derive_account(const config& settings, const std::string& name,
               const secret& password,
               const postern::directory::user_options& options)
{
    auto user = postern::directory::canonical_user_name(name);
    if (!user)
        check(postern::error::invalid_user_name, name);

    postern::directory::credentials account;
    try {
        account =
            postern::directory::make_credentials(*user, password, options);
    } catch (const std::system_error& failure) {
        check(failure.code(), name);
    }
    postern::sasl::derive_options derive;
    derive.scram_iterations = settings.scram_iterations;
    auto failure = postern::sasl::derive_secrets<stored_mechanisms>(
        password.view(), derive, account);
    if (failure)
        throw command_error(exit_invalid, "cannot store the password of " +
                                              name + ": " +
                                              failure.message());
    return account;
}

} // namespace

int add_user(const config& settings, const user_command& command)
{
    auto directory = open_user_directory(settings);
    check_account(*directory, command.name, false);
    postern::directory::user_options options = read_options(command);
    secret password = read_passwords(command, options);
    auto account = derive_account(settings, command.name, password, options);
    check(directory->add_user(account), command.name);
    return exit_success;
}

int change_password(const config& settings, const user_command& command)
{
    auto directory = open_user_directory(settings);
    check_account(*directory, command.name, true);
    postern::directory::user_options options = read_options(command);
    secret password = read_passwords(command, options);
    auto account = derive_account(settings, command.name, password, options);
    check(directory->replace_credentials(account), command.name);
    return exit_success;
}

int remove_user(const config& settings, const std::string& name)
{
    auto directory = open_user_directory(settings);
    check(directory->remove_user(name), name);
    return exit_success;
}

int list_users(const config& settings)
{
    auto directory = open_user_directory(settings);
    try {
        for (const std::string& name : directory->list_users())
            std::cout << name << '\n';
    } catch (const std::system_error& failure) {
        throw command_error(exit_unavailable,
                            std::string("user directory: ") +
                                failure.what());
    }
    return exit_success;
}

} // namespace postern_server
