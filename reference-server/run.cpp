// run: composes the server from the library's policies and serves until
// SIGTERM or SIGINT. Protocols, directories and stores are chosen here;
// the SASL mechanisms in composition.hpp.
#include "commands.hpp"
#include "composition.hpp"
#include "log.hpp"

#include <postern/core/io_pool.hpp>
#include <postern/directory/sqlite.hpp>
#include <postern/pop3/server.hpp>
#include <postern/smtp/server.hpp>
#include <postern/store/maildir.hpp>
#include <postern/tls/certificate.hpp>
#include <postern/tls/context.hpp>
#include <postern/trust/rules.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>
#include <asio/ssl/context.hpp>
#include <asio/thread_pool.hpp>

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace postern_server {

namespace {

using smtp_server =
    postern::smtp::server<postern::directory::sqlite_directory,
                          smtp_mechanisms, postern::trust::rules,
                          postern::store::maildir_store>;

using pop3_server =
    postern::pop3::server<postern::directory::sqlite_directory,
                          pop3_mechanisms>;

// Both protocol servers of one run, started and stopped together.
struct servers {
    smtp_server& smtp;
    pop3_server& pop3;

    void listen(const listener_config& listener,
                const postern::listener_options& options)
    {
        if (listener.kind == protocol::smtp)
            smtp.listen(options);
        else
            pop3.listen(options);
    }

    void stop()
    {
        smtp.stop();
        pop3.stop();
    }
};

using postern::event;
using postern::event_level;

// Crypt hashing, SQLite and fsync block, so they run on this many worker
// threads instead of the I/O threads.
constexpr std::size_t worker_threads = 4;

void log_line(spdlog::logger& logger, event_level level,
              std::string_view name,
              std::initializer_list<std::pair<std::string_view,
                                              std::string_view>> fields)
{
    log_event(logger, event{level, {}, {}, name, fields});
}

void create_data_folders(const config& settings)
{
    create_private_folder(settings.data_dir);
    create_private_folder(settings.data_dir / "mail");
    create_private_folder(settings.data_dir / "queue");
    create_private_folder(settings.data_dir / "tls");
}

void ensure_certificate(const config& settings)
{
    if (!settings.tls.generate)
        return;
    postern::tls::certificate_options options;
    options.names = settings.tls.names;
    std::error_code error = postern::tls::ensure_certificate(
        options, settings.tls.certificate, settings.tls.private_key);
    if (error)
        throw command_error(exit_unavailable,
                            "cannot create the certificate " +
                                settings.tls.certificate.string() + ": " +
                                error.message());
}

// Returns no context when no listener uses TLS.
std::optional<asio::ssl::context> make_tls_context(const config& settings)
{
    if (!uses_tls(settings))
        return std::nullopt;
    ensure_certificate(settings);
    try {
        return postern::tls::make_server_context(
            {settings.tls.certificate, settings.tls.private_key,
             settings.tls.min_version});
    } catch (const std::system_error& failure) {
        // what() names the file and the OpenSSL reason.
        throw command_error(exit_unavailable, failure.what());
    }
}

postern::trust::rules make_trust_rules(const config& settings)
{
    std::vector<postern::trust::assumption> assumptions;
    for (const assumption_config& entry : settings.assumptions)
        assumptions.push_back(
            {*postern::trust::network::parse(entry.network), entry.user});
    return postern::trust::rules(std::move(assumptions));
}

// The key of SCRAM's fake salts for unknown users, kept in the data folder
// so that the salts stay the same across restarts: salts that changed at
// each start for unknown users only would tell them from real ones.
std::string scram_fake_salt_key(const config& settings)
{
    auto path = settings.data_dir / "scram-fake-salt.key";
    std::ifstream existing(path, std::ios::binary);
    std::string key((std::istreambuf_iterator<char>(existing)), {});
    if (key.size() == 32)
        return key;

    key.assign(32, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), 32) != 1)
        throw command_error(exit_unavailable,
                            "cannot create random bytes for " +
                                path.string());
    int descriptor = ::open(path.c_str(),
                            O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    bool written = descriptor >= 0 &&
                   ::write(descriptor, key.data(), key.size()) ==
                       static_cast<ssize_t>(key.size()) &&
                   ::fsync(descriptor) == 0;
    if (descriptor >= 0)
        ::close(descriptor);
    if (!written)
        throw command_error(exit_unavailable,
                            "cannot write " + path.string() + ": " +
                                std::strerror(errno));
    return key;
}

postern::smtp::settings make_smtp_settings(const config& settings)
{
    postern::smtp::settings result;
    result.identity = settings.identity;
    result.local_domains = settings.local_domains;
    result.max_message_size = settings.max_message_size;
    result.auth = settings.smtp_auth;
    result.allow_ntlmv1 = settings.ntlm_v1;
    result.max_sessions = settings.max_sessions;
    result.command_timeout = std::chrono::seconds(settings.smtp_timeout);
    result.data_timeout = std::chrono::seconds(2 * settings.smtp_timeout);
    result.scram_fake_salt_key = scram_fake_salt_key(settings);
    result.scram_iterations = settings.scram_iterations;
    return result;
}

postern::pop3::settings make_pop3_settings(const config& settings)
{
    postern::pop3::settings result;
    result.identity = settings.identity;
    result.auth = settings.pop3_auth;
    result.allow_ntlmv1 = settings.ntlm_v1;
    result.max_sessions = settings.max_sessions;
    result.idle_timeout = std::chrono::seconds(settings.pop3_timeout);
    result.scram_fake_salt_key = scram_fake_salt_key(settings);
    result.scram_iterations = settings.scram_iterations;
    return result;
}

postern::store::maildir_store make_store(const config& settings)
{
    try {
        return postern::store::maildir_store(settings.data_dir / "mail",
                                             settings.data_dir / "queue",
                                             settings.identity);
    } catch (const std::system_error& failure) {
        throw command_error(exit_unavailable,
                            std::string("mail store: ") + failure.what());
    }
}

// Logs each configured feature that this build does not serve.
void warn_unserved(const config& settings, spdlog::logger& logger)
{
    for (const config_warning& warning : settings.warnings)
        log_line(logger, event_level::warning, "config",
                 {{"key", warning.key}, {"reason", warning.reason}});

    // TODO: no relay delivery agent exists yet, so relayed mail waits in
    // queue/ and [relay] smarthost has no effect.
    if (settings.smarthost)
        log_line(logger, event_level::warning, "not-served",
                 {{"setting", "relay.smarthost"},
                  {"reason", "not-implemented"}});
}

// An assumption for an account that does not exist trusts its network
// for relaying all the same, which the admin should know about.
void warn_unknown_assumed_users(const config& settings,
                                postern::directory::sqlite_directory& users,
                                spdlog::logger& logger)
{
    for (const assumption_config& entry : settings.assumptions) {
        if (!users.exists(entry.user))
            log_line(logger, event_level::warning, "unknown-user",
                     {{"network", entry.network}, {"user", entry.user}});
    }
}

postern::listener_options to_listener_options(
    const listener_config& listener)
{
    return {listener.name, listener.endpoint, listener.tls,
            listener.trusted, listener.auth_required};
}

// Opens every listener's port as server_core::listen does, then closes
// them all, before anything is written to disk. A port in use, a
// privileged port or a missing address thus ends start-up with nothing
// created. The probes stay open until all listen, so two listeners that
// overlap, such as 0.0.0.0:25 and 127.0.0.1:25, fail here too. A client
// that connects during the probe is reset.
// NOTE: a port taken between this check and listen_all still fails there,
// after the data folders, certificate and database exist.
void check_ports_free(const config& settings)
{
    asio::io_context context;
    std::vector<asio::ip::tcp::acceptor> probes;
    probes.reserve(settings.listeners.size());
    for (const listener_config& listener : settings.listeners) {
        asio::ip::tcp::acceptor& probe = probes.emplace_back(context);
        try {
            probe.open(listener.endpoint.protocol());
            probe.set_option(asio::socket_base::reuse_address(true));
            probe.bind(listener.endpoint);
            probe.listen(asio::socket_base::max_listen_connections);
        } catch (const std::system_error& failure) {
            // what() is "bind: REASON" or "listen: REASON", the same text
            // that listen_all reports.
            throw command_error(exit_unavailable,
                                "listener " + listener.name +
                                    ": cannot listen on " +
                                    listener.address + ": " +
                                    failure.what());
        }
    }
}

// Binds every listener; the first failure ends start-up with the
// listener's name and address.
void listen_all(servers& server, const config& settings,
                spdlog::logger& logger)
{
    for (const listener_config& listener : settings.listeners) {
        try {
            server.listen(listener, to_listener_options(listener));
        } catch (const std::exception& failure) {
            throw command_error(exit_unavailable,
                                "listener " + listener.name +
                                    ": cannot listen on " +
                                    listener.address + ": " +
                                    failure.what());
        }
        log_line(logger, event_level::info, "listening",
                 {{"listener", listener.name},
                  {"address", listener.address},
                  {"tls", to_string(listener.tls)}});
    }
}

std::size_t io_threads()
{
    return std::max(1u, std::thread::hardware_concurrency());
}

// On SIGTERM or SIGINT: stop accepting, let sessions end, and let every
// io_context return once its work is done.
void stop_on_signal(asio::signal_set& signals, servers& server,
                    postern::io_pool& pool, spdlog::logger& logger)
{
    signals.async_wait([&](const std::error_code& error, int) {
        if (error)
            return;
        log_line(logger, event_level::info, "stopping", {});
        server.stop();
        pool.release();
    });
}

// When a listener fails to bind, the accept loops of those that did bind
// must end before the server is destroyed.
void listen_or_unwind(servers& server, asio::signal_set& signals,
                      postern::io_pool& pool, const config& settings,
                      spdlog::logger& logger)
{
    try {
        listen_all(server, settings, logger);
    } catch (const command_error&) {
        signals.cancel();
        server.stop();
        pool.release();
        pool.run();
        throw;
    }
}

// The part of run that needs the directory, store and TLS context.
int serve(const config& settings, postern::directory::sqlite_directory& users,
          asio::ssl::context* tls,
          const std::shared_ptr<spdlog::logger>& logger)
{
    postern::trust::rules trust = make_trust_rules(settings);
    postern::store::maildir_store store = make_store(settings);
    postern::io_pool pool(io_threads());
    asio::thread_pool workers(worker_threads);
    auto events = make_event_hook(logger);
    smtp_server smtp(pool, workers, users, trust, store,
                     make_smtp_settings(settings), events, tls);
    pop3_server pop3(pool, workers, users, settings.data_dir / "mail",
                     make_pop3_settings(settings), events, tls);
    servers server{smtp, pop3};

    // The handler is in place before any port opens, so a signal during
    // start-up still stops the server in order.
    asio::signal_set signals(pool.main(), SIGINT, SIGTERM);
    stop_on_signal(signals, server, pool, *logger);
    listen_or_unwind(server, signals, pool, settings, *logger);

    log_line(*logger, event_level::info, "started",
             {{"identity", settings.identity},
              {"data_dir", settings.data_dir.string()}});
    pool.run();
    workers.join();
    log_line(*logger, event_level::info, "stopped", {});
    return exit_success;
}

} // namespace

// Every check that can fail without touching the disk runs before the
// first folder is created.
int run_server(const config& settings)
{
    check_directory_supported(settings);
    std::shared_ptr<spdlog::logger> logger = make_logger();
    warn_unserved(settings, *logger);
    check_ports_free(settings);
    create_data_folders(settings);
    std::optional<asio::ssl::context> tls = make_tls_context(settings);
    auto users = open_user_directory(settings);
    warn_unknown_assumed_users(settings, *users, *logger);
    return serve(settings, *users, tls ? &*tls : nullptr, logger);
}

} // namespace postern_server
