// The POP3 session driver: runs a session state machine over a Transport
// with Asio coroutines and performs the logins, maildrop access and
// message streaming that the machine requests.
#pragma once

#include <postern/core/blocking.hpp>
#include <postern/core/event.hpp>
#include <postern/core/session_io.hpp>
#include <postern/directory/credentials.hpp>
#include <postern/directory/password_hash.hpp>
#include <postern/pop3/replies.hpp>
#include <postern/pop3/session.hpp>
#include <postern/pop3/settings.hpp>
#include <postern/store/maildrop.hpp>
#include <postern/transport/transport.hpp>

#include <asio/awaitable.hpp>
#include <asio/thread_pool.hpp>

#include <bitset>
#include <chrono>
#include <cstddef>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace postern::pop3 {

/// The shared objects every POP3 session uses. All must outlive the
/// sessions.
template <typename Directory>
struct services {
    Directory& directory;
    asio::thread_pool& workers;
    const settings& config;
    const event_hook& events;
    const std::filesystem::path& mail_root; ///< holds USER/ Maildirs
};

/// Checks a plaintext POP3 login (USER/PASS, or AUTH PLAIN and LOGIN over
/// POP3). An account with a POP3 override password accepts only that
/// password here; its normal password is rejected. Blocking.
template <directory::user_directory Directory>
bool verify_pop3_password(Directory& directory, std::string_view user,
                          std::string_view password)
{
    auto found = directory.find_user(user);
    if (found && found->pop3_override_verifier)
        return directory::verify_password_hash(
            *found->pop3_override_verifier, password);
    return directory.verify_password(user, password);
}

/// One POP3 connection. Create it with std::make_shared and co_await
/// run() on the transport's executor.
template <transport::transport Transport, typename Directory,
          typename Mechanisms>
class connection : public std::enable_shared_from_this<
                       connection<Transport, Directory, Mechanisms>> {
public:
    using services_type = services<Directory>;

    connection(Transport transport, services_type services, std::string
               listener, tls_mode tls, std::string id)
        : services_(services), listener_(std::move(listener)), tls_(tls),
          io_(std::move(transport), std::move(id), services.events,
              read_buffer_size),
          machine_(services.config, make_connection_info(),
                   directory::supplied_secrets(services.directory))
    {
        io_.set_output_source([this] { return machine_.take_output(); });
    }

    /// Serves the connection until QUIT, an error, a timeout or a stop.
    asio::awaitable<void> run(bool over_limit = false)
    {
        // GCC 12 miscompiles temporaries of class type in a co_await
        // expression and co_await inside conditions, so arguments are named
        // and awaited values are stored before they are tested.
        typename session_io<Transport>::farewells farewells{
            line(replies::shutting_down), line(replies::timeout)};
        std::shared_ptr<void> self = this->shared_from_this();
        co_await io_.start(std::move(self), services_.config.idle_timeout,
                           std::move(farewells));
        io_.log(event_level::info, "connect", {{"listener", listener_}});

        if (over_limit) {
            auto goodbye = line(replies::too_many_sessions);
            co_await io_.say_goodbye(goodbye);
        } else {
            bool opened = co_await open();
            if (opened)
                co_await serve();
        }
        finish();
    }

    void request_stop() { io_.request_stop(); }

    /// Closes the connection now, whatever the session is doing. Call on
    /// the connection's executor.
    void abort() { io_.close(); }

private:
    // RFC 5034 keeps AUTH lines within 255 octets, but SASL responses
    // after a challenge may be longer; allow what SMTP allows.
    static constexpr std::size_t auth_line_limit = 12288;
    static constexpr std::size_t read_buffer_size = 16384;
    static constexpr std::size_t message_chunk = 64 * 1024;
    static constexpr std::chrono::seconds tls_handshake_timeout{30};

    using maildrop_type = store::maildir_maildrop;

    static std::string line(std::string_view text)
    {
        return std::string(text) + "\r\n";
    }

    connection_info make_connection_info() const
    {
        connection_info info;
        info.tls_offered =
            tls_ == tls_mode::starttls && io_.transport().can_start_tls();
        info.encrypted = io_.transport().encrypted();
        return info;
    }


    asio::awaitable<bool> open()
    {
        if (tls_ == tls_mode::implicit) {
            bool secured = co_await io_.handshake(tls_handshake_timeout);
            if (!secured)
                co_return false;
            bindings_ = io_.channel_bindings();
            machine_.tls_started(&bindings_);
        }
        machine_.greet();
        co_return true;
    }

    asio::awaitable<void> serve()
    {
        co_await io_.serve_commands(
            machine_, auth_line_limit, services_.config.idle_timeout,
            [this](action next) { return perform(next); });
    }

    asio::awaitable<action> perform(action next)
    {
        switch (next) {
        case action::start_tls: co_return co_await start_tls();
        case action::verify_password: co_return co_await verify_password();
        case action::lookup_credentials:
            co_return co_await lookup_credentials();
        case action::authenticated: co_return co_await open_maildrop();
        case action::auth_failed: co_return on_auth_failed();
        case action::send_message: co_return co_await send_message();
        case action::update: co_return co_await update();
        case action::open_maildrop: co_return co_await open_maildrop();
        case action::close:
            co_await io_.flush();
            io_.close();
            co_return action::none;
        case action::none: break;
        }
        co_return action::none;
    }

    asio::awaitable<action> start_tls()
    {
        bool secured = co_await io_.upgrade(tls_handshake_timeout);
        if (secured)
            bindings_ = io_.channel_bindings();
        machine_.tls_started(&bindings_);
        co_return action::none;
    }

    asio::awaitable<action> verify_password()
    {
        auto& request = machine_.request();
        auto user = request.authcid;
        auto password = std::move(request.password);
        auto ok = co_await try_blocking(
            services_.workers,
            [&] {
                return verify_pop3_password(services_.directory, user,
                                            password.view());
            },
            [&](const std::exception& e) { log_directory_error(user, e); });
        password.wipe();
        co_return machine_.password_verified(ok.value_or(false), !ok);
    }

    asio::awaitable<action> lookup_credentials()
    {
        auto user = machine_.request().authcid;
        auto found = co_await try_blocking(
            services_.workers,
            [&] { return services_.directory.find_user(user); },
            [&](const std::exception& e) { log_directory_error(user, e); });
        const directory::credentials* account =
            found && *found ? &**found : nullptr;
        co_return machine_.credentials_found(account, !found);
    }

    void log_directory_error(std::string_view user, const std::exception& e)
    {
        io_.log(event_level::error, "directory-error",
                {{"user", user}, {"error", e.what()}});
    }

    // After a successful login: lock and list the maildrop.
    asio::awaitable<action> open_maildrop()
    {
        io_.log(event_level::info, "auth",
                {{"mechanism", machine_.mechanism_name()},
                 {"user", machine_.user()},
                 {"result", "ok"}});

        auto user = machine_.user();
        std::error_code ec;
        try {
            ec = co_await run_blocking(services_.workers, [&] {
                return maildrop_type::open(services_.mail_root, user, drop_);
            });
        } catch (const std::exception& e) {
            ec = std::make_error_code(std::errc::io_error);
        }

        if (ec == postern::error::maildrop_in_use) {
            io_.log(event_level::info, "maildrop-in-use", {{"user", user}});
            co_return machine_.maildrop_failed(open_outcome::in_use);
        }
        if (ec) {
            auto reason = ec.message();
            io_.log(event_level::error, "maildrop-failed",
                    {{"user", user}, {"error", reason}});
            co_return machine_.maildrop_failed(open_outcome::failed);
        }
        machine_.maildrop_opened(drop_);
        co_return action::none;
    }

    action on_auth_failed()
    {
        // A mechanism's note names a setting that made it fail, such as
        // ntlm_v1, so the admin can tell a policy refusal from a wrong
        // password.
        auto note = machine_.request().note;
        if (note.empty())
            io_.log(event_level::info, "auth",
                    {{"mechanism", machine_.mechanism_name()},
                     {"user", machine_.login_user()},
                     {"result", "failed"}});
        else
            io_.log(event_level::info, "auth",
                    {{"mechanism", machine_.mechanism_name()},
                     {"user", machine_.login_user()},
                     {"result", "failed"},
                     {"note", note}});
        if (machine_.current_state() == state::closed)
            return action::close;
        return action::none;
    }

    // RETR and TOP: the status line, the message in chunks read on the
    // worker pool, then the terminating "." line.
    asio::awaitable<action> send_message()
    {
        const auto& message = drop_.messages()[machine_.message_index()];
        auto path = message.path;
        auto body_lines = machine_.top_lines();
        store::wire_reader reader;
        auto ec = co_await run_blocking(services_.workers, [&] {
            return reader.open(path, body_lines);
        });
        if (ec) {
            log_read_error(path, ec);
            machine_.message_failed();
            co_return action::none;
        }

        machine_.message_opened();
        co_await io_.flush();
        bool finished = false;
        while (!finished && !io_.closed()) {
            std::string chunk;
            ec = co_await run_blocking(services_.workers, [&] {
                return reader.read(chunk, message_chunk, finished);
            });
            if (ec) {
                // The status line is out, so the only honest end of a
                // broken multi-line response is closing the connection.
                log_read_error(path, ec);
                io_.close();
                co_return action::none;
            }
            io_.queue(chunk);
            io_.set_deadline(services_.config.idle_timeout);
            co_await io_.flush();
        }
        io_.queue(".\r\n");
        co_return action::none;
    }

    void log_read_error(const std::filesystem::path& path, std::error_code ec)
    {
        auto file = path.filename().string();
        auto reason = ec.message();
        io_.log(event_level::error, "read-failed",
                {{"file", file}, {"error", reason}});
    }

    // The UPDATE state (RFC 1939, section 6).
    asio::awaitable<action> update()
    {
        auto deleted = std::to_string(deleted_count());
        std::error_code ec;
        try {
            ec = co_await run_blocking(services_.workers,
                                       [&] { return drop_.commit(); });
        } catch (const std::exception&) {
            ec = std::make_error_code(std::errc::io_error);
        }
        if (ec) {
            auto reason = ec.message();
            io_.log(event_level::error, "update-failed",
                    {{"user", machine_.user()}, {"error", reason}});
        } else {
            io_.log(event_level::info, "update",
                    {{"user", machine_.user()}, {"deleted", deleted}});
        }
        co_return machine_.update_finished(!ec);
    }

    std::size_t deleted_count() const
    {
        std::size_t n = 0;
        for (const auto& message : drop_.messages())
            n += message.deleted ? 1 : 0;
        return n;
    }

    // A session that ends without QUIT deletes nothing (RFC 1939,
    // section 6).
    void finish()
    {
        drop_.release();
        io_.close();
        io_.log(event_level::info, "disconnect");
    }

    services_type services_;
    std::string listener_;
    tls_mode tls_;
    session_io<Transport> io_;
    session<Mechanisms, maildrop_type> machine_;
    sasl::channel_bindings bindings_;
    maildrop_type drop_;
};

} // namespace postern::pop3
