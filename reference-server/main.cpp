// postern-server: the command line. Parses the options, loads the
// configuration and runs one command.
#include "commands.hpp"
#include "config.hpp"

#include <CLI/CLI.hpp>

#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <string>

namespace {

using namespace postern_server;
namespace fs = std::filesystem;

/// Values of the options every command shares.
struct global_options {
    std::optional<fs::path> config_file;
    std::optional<fs::path> data_dir;
};

config load(const global_options& options)
{
    if (options.config_file)
        return load_config(*options.config_file, options.data_dir);
    return default_config(options.data_dir.value_or("postern-data"));
}

int check_config(const config& settings)
{
    for (const config_warning& warning : settings.warnings)
        std::cerr << "warning: " << settings.source.string() << ": "
                  << warning.key << ": " << warning.message << '\n';
    std::cout << to_toml(settings);
    return exit_success;
}

void add_user_options(CLI::App& command, user_command& values)
{
    command.add_option("NAME", values.name, "account name")->required();
    auto* password = command.add_flag(
        "--password-stdin", values.password_stdin,
        "read the password from the first line of standard input instead "
        "of asking on the terminal");
    command
        .add_flag("--pop3-override-stdin", values.override_stdin,
                  "read a POP3 override password from the second line of "
                  "standard input")
        ->needs(password);
    command.add_flag("--apop", values.apop,
                     "also store the password in plaintext, which APOP "
                     "needs");
}

// Each setup function registers a subcommand and stores in `action` the
// command to run when it is chosen.
using action_type = std::function<int(const config&)>;

void add_user_commands(CLI::App& app, user_command& user,
                       action_type& action)
{
    CLI::App* users = app.add_subcommand("user", "manage user accounts");
    users->require_subcommand(1);

    CLI::App* add = users->add_subcommand("add", "add an account");
    add_user_options(*add, user);
    add->callback([&] {
        action = [&user](const config& c) { return add_user(c, user); };
    });

    CLI::App* passwd = users->add_subcommand(
        "passwd", "replace the password of an account and every secret "
                  "stored with it, so repeat --apop and "
                  "--pop3-override-stdin to keep them");
    add_user_options(*passwd, user);
    passwd->callback([&] {
        action = [&user](const config& c) {
            return change_password(c, user);
        };
    });

    CLI::App* remove = users->add_subcommand("remove", "remove an account");
    remove->add_option("NAME", user.name, "account name")->required();
    remove->callback([&] {
        action = [&user](const config& c) { return remove_user(c, user.name); };
    });

    CLI::App* list = users->add_subcommand("list", "print the account "
                                                   "names, one per line");
    list->callback([&] { action = list_users; });
}

void add_cert_commands(CLI::App& app, cert_command& cert, action_type& action)
{
    CLI::App* certs = app.add_subcommand("cert", "manage the certificate");
    certs->require_subcommand(1);

    CLI::App* generate = certs->add_subcommand(
        "generate", "write a self-signed certificate and key as PEM, "
                    "replacing existing files, and print their paths");
    generate->add_option("--identity", cert.identity,
                         "host name to certify (default: the server "
                         "identity)");
    generate->add_option("--wildcard", cert.wildcard,
                         "also certify *.DOMAIN");
    generate
        ->add_option("--out", cert.out,
                     "folder for cert.pem and key.pem (default: the [tls] "
                     "certificate and private_key paths)")
        ->type_name("DIR");
    generate->add_option("--days", cert.days, "validity in days")
        ->capture_default_str()
        ->check(CLI::Range(1, 36500));
    generate->callback([&] {
        action = [&cert](const config& c) {
            return generate_certificate(c, cert);
        };
    });
}

int run_command(const global_options& options, const action_type& action)
{
    try {
        return action(load(options));
    } catch (const config_error& failure) {
        std::cerr << failure.what() << '\n';
        return exit_invalid;
    } catch (const command_error& failure) {
        std::cerr << "error: " << failure.what() << '\n';
        return failure.status();
    } catch (const std::exception& failure) {
        std::cerr << "error: " << failure.what() << '\n';
        return exit_unavailable;
    }
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app("Postern mail server: SMTP and POP3 with policies chosen "
                 "at build time",
                 "postern-server");
    // Subcommands inherit this, so --config and --data-dir work before
    // and after the command name.
    app.fallthrough();
    app.set_version_flag("--version", "postern-server " POSTERN_VERSION);
    app.require_subcommand(0, 1);

    global_options options;
    app.add_option("--config", options.config_file,
                   "configuration file (TOML); without it the embedded "
                   "default applies")
        ->type_name("FILE");
    app.add_option("--data-dir", options.data_dir,
                   "data folder (default: ./postern-data, or [server] "
                   "data_dir)")
        ->type_name("DIR");

    action_type action = run_server;
    app.add_subcommand("run", "start the listeners (the default command)");
    app.add_subcommand("check-config",
                       "check the configuration and print it with every "
                       "default filled in")
        ->callback([&] { action = check_config; });

    user_command user;
    cert_command cert;
    add_user_commands(app, user, action);
    add_cert_commands(app, cert, action);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& failure) {
        int status = app.exit(failure);
        return status == 0 ? exit_success : exit_invalid;
    }
    return run_command(options, action);
}
