// The SMTP session driver: runs a session state machine over a Transport
// with Asio coroutines and performs the I/O, lookups and storage that the
// machine requests.
#pragma once

#include <postern/core/blocking.hpp>
#include <postern/core/event.hpp>
#include <postern/core/limits.hpp>
#include <postern/core/line_reader.hpp>
#include <postern/core/session_io.hpp>
#include <postern/directory/credentials.hpp>
#include <postern/smtp/message.hpp>
#include <postern/smtp/session.hpp>
#include <postern/smtp/settings.hpp>
#include <postern/store/mail_store.hpp>
#include <postern/transport/transport.hpp>
#include <postern/trust/policy.hpp>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <bitset>
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::smtp {

/// The shared objects every session of a server uses. All must outlive
/// the sessions.
template <typename Directory, typename Trust, typename Store>
struct services {
    Directory& directory;
    Trust& trust;
    Store& store;
    asio::thread_pool& workers;
    const settings& config;
    const event_hook& events;
};

/// The listener that accepted a session.
struct listener_info {
    std::string name;
    bool trusted = false;
    tls_mode tls = tls_mode::none;
    bool auth_required = false;
};

/// One SMTP connection. Create it with std::make_shared and co_await
/// run() on the transport's executor; request_stop() may be posted to
/// that executor from any thread.
template <transport::transport Transport, typename Directory,
          typename Mechanisms, typename Trust, typename Store>
class connection : public std::enable_shared_from_this<
                       connection<Transport, Directory, Mechanisms, Trust,
                                  Store>> {
public:
    using services_type = services<Directory, Trust, Store>;

    connection(Transport transport, services_type services,
               listener_info listener, std::string id)
        : services_(services), listener_(listener),
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
            format_reply(replies::shutting_down),
            format_reply(replies::timeout)};
        std::shared_ptr<void> self = this->shared_from_this();
        co_await io_.start(std::move(self), services_.config.command_timeout,
                           std::move(farewells));
        io_.log(event_level::info, "connect", {{"listener", listener_.name}});

        if (over_limit) {
            auto line = format_reply(replies::too_many_sessions);
            co_await io_.say_goodbye(line);
        } else {
            bool opened = co_await open();
            if (opened)
                co_await serve();
        }
        finish();
    }

    /// Ends the session at the next command boundary with 421; a message
    /// being received is finished first. Call on the connection's
    /// executor.
    void request_stop() { io_.request_stop(); }

    /// Closes the connection now, whatever the session is doing. Call on
    /// the connection's executor.
    void abort() { io_.close(); }

private:
    // An AUTH line may carry an initial response of up to 12288 octets
    // (RFC 4954, section 4); the buffer fits one such line plus room.
    static constexpr std::size_t auth_line_limit = 12288;
    static constexpr std::size_t read_buffer_size = 16384;
    static constexpr std::chrono::seconds tls_handshake_timeout{30};

    static std::string format_reply(const reply& r)
    {
        std::string line;
        append_reply(line, r);
        return line;
    }

    connection_info make_connection_info() const
    {
        connection_info info;
        info.tls_offered = listener_.tls == tls_mode::starttls &&
                           io_.transport().can_start_tls();
        info.encrypted = io_.transport().encrypted();
        info.auth_required = listener_.auth_required;
        info.client_address = io_.client();
        return info;
    }


    // Implicit TLS starts with the handshake; then the 220 greeting.
    asio::awaitable<bool> open()
    {
        if (listener_.tls == tls_mode::implicit) {
            bool secured = co_await io_.handshake(tls_handshake_timeout);
            if (!secured)
                co_return false;
            bindings_ = io_.channel_bindings();
            machine_.tls_started(&bindings_);
        }
        evaluate_trust();
        machine_.greet();
        co_return true;
    }

    asio::awaitable<void> serve()
    {
        co_await io_.serve_commands(
            machine_, auth_line_limit, services_.config.command_timeout,
            [this](action next) { return perform(next); });
    }

    asio::awaitable<action> perform(action next)
    {
        switch (next) {
        case action::start_tls: co_return co_await start_tls();
        case action::verify_password: co_return co_await verify_password();
        case action::lookup_credentials:
            co_return co_await lookup_credentials();
        case action::check_recipient: co_return co_await check_recipient();
        case action::receive_data: co_return co_await receive_data();
        case action::authenticated: co_return on_authenticated();
        case action::auth_failed: co_return on_auth_failed();
        case action::close:
            co_await io_.flush();
            io_.close();
            co_return action::none;
        case action::none: break;
        }
        co_return action::none;
    }

    // RFC 3207, section 4.2: after the handshake the session starts over.
    asio::awaitable<action> start_tls()
    {
        bool secured = co_await io_.upgrade(tls_handshake_timeout);
        if (!secured)
            co_return action::none;
        bindings_ = io_.channel_bindings();
        machine_.tls_started(&bindings_);
        evaluate_trust();
        co_return action::none;
    }

    asio::awaitable<action> verify_password()
    {
        auto& request = machine_.sasl_request();
        auto user = request.authcid;
        auto password = std::move(request.password);
        auto ok = co_await try_blocking(
            services_.workers,
            [&] {
                return services_.directory.verify_password(user,
                                                           password.view());
            },
            [&](const std::exception& e) { log_directory_error(user, e); });
        password.wipe();
        co_return machine_.password_verified(ok.value_or(false), !ok);
    }

    asio::awaitable<action> lookup_credentials()
    {
        auto user = machine_.sasl_request().authcid;
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
        log(event_level::error, "directory-error",
            {{"user", user}, {"error", e.what()}});
    }

    asio::awaitable<action> check_recipient()
    {
        auto user = machine_.pending_user();
        auto outcome = lookup_outcome::failed;
        try {
            bool exists = co_await run_blocking(services_.workers, [&] {
                return services_.directory.exists(user);
            });
            outcome = exists ? lookup_outcome::found
                             : lookup_outcome::not_found;
        } catch (const std::exception& e) {
            log(event_level::error, "directory-error",
                {{"user", user}, {"error", e.what()}});
        }
        if (outcome == lookup_outcome::not_found)
            log(event_level::info, "recipient-rejected",
                {{"user", user}, {"reason", "unknown-user"}});
        co_return machine_.recipient_checked(outcome);
    }

    asio::awaitable<action> receive_data()
    {
        co_await io_.flush();
        message_assembler message(services_.config.max_message_size);
        while (true) {
            auto line = co_await io_.next_line(
                message_assembler::wire_line_limit,
                services_.config.data_timeout, false);
            if (!line) {
                log(event_level::info, "data-aborted",
                    {{"reason", "connection lost"}});
                co_return action::none;
            }
            if (line->state == line_reader::status::too_long)
                message.add_overlong_line();
            else if (message.add_line(line->text))
                break;
        }

        auto outcome = message.rejection();
        if (outcome)
            log(event_level::info, "message-rejected",
                {{"reason", rejection_name(*outcome)}});
        else
            outcome = co_await store_message(message.body());
        machine_.data_finished(*outcome);
        co_return action::none;
    }

    static std::string_view rejection_name(data_outcome outcome)
    {
        switch (outcome) {
        case data_outcome::too_big: return "too-big";
        case data_outcome::bare_line_ending: return "bare-cr-or-lf";
        case data_outcome::line_too_long: return "line-too-long";
        case data_outcome::store_failed: return "store-failed";
        case data_outcome::stored: break;
        }
        return "stored";
    }

    // Writes one copy per local account and one to the relay queue, all
    // durable before the 250 reply, or none of them.
    asio::awaitable<data_outcome> store_message(const std::string& body)
    {
        auto id = io_.id() + "." + std::to_string(++messages_);
        auto received = received_header(trace(id), std::time(nullptr));
        auto return_path = return_path_header(machine_.reverse_path());
        store::envelope relay{machine_.reverse_path(),
                              machine_.relay_recipients()};

        std::error_code ec;
        try {
            ec = co_await run_blocking(services_.workers, [&] {
                return write_copies(return_path, received, body, relay);
            });
        } catch (const std::exception& e) {
            ec = std::make_error_code(std::errc::io_error);
            log(event_level::error, "store-error", {{"error", e.what()}});
        }
        if (ec) {
            auto reason = ec.message();
            log(event_level::error, "store-failed",
                {{"id", id}, {"error", reason}});
            co_return data_outcome::store_failed;
        }
        log_delivery(id, body.size());
        co_return data_outcome::stored;
    }

    // Runs on a worker thread.
    std::error_code write_copies(const std::string& return_path,
                                 const std::string& received,
                                 const std::string& body,
                                 const store::envelope& relay)
    {
        const std::string_view local[] = {return_path, received, body};
        const std::string_view queued[] = {received, body};
        store::delivery copies;
        copies.local_users = machine_.local_users();
        copies.local_message = local;
        copies.relay = &relay;
        copies.relay_message = queued;
        return services_.store.store_message(copies);
    }

    trace_info trace(std::string_view id) const
    {
        trace_info info;
        info.identity = services_.config.identity;
        info.helo = machine_.helo_name();
        info.client_address = io_.client();
        info.esmtp = machine_.esmtp();
        info.tls = io_.transport().tls();
        if (machine_.authenticated_user())
            info.authenticated_user = *machine_.authenticated_user();
        info.id = id;
        for (const auto& r : machine_.recipients())
            info.recipients.push_back(r);
        return info;
    }

    void log_delivery(std::string_view id, std::size_t size)
    {
        std::string local;
        for (const auto& user : machine_.local_users())
            local += (local.empty() ? "" : ",") + user;
        auto relayed = std::to_string(machine_.relay_recipients().size());
        auto bytes = std::to_string(size);
        log(event_level::info, "delivered",
            {{"id", id},
             {"from", machine_.reverse_path()},
             {"local", local},
             {"relay", relayed},
             {"size", bytes}});
    }

    void evaluate_trust()
    {
        trust::client client;
        client.trusted_listener = listener_.trusted;
        client.address = io_.transport().remote_address();
        client.authenticated_user = machine_.authenticated_user();
        machine_.set_trust(services_.trust.evaluate(client));
    }

    action on_authenticated()
    {
        evaluate_trust();
        log(event_level::info, "auth",
            {{"mechanism", machine_.mechanism_name()},
             {"user", *machine_.authenticated_user()},
             {"result", "ok"}});
        return action::none;
    }

    action on_auth_failed()
    {
        // A mechanism's note names a setting that made it fail, such as
        // ntlm_v1, so the admin can tell a policy refusal from a wrong
        // password.
        auto note = machine_.sasl_request().note;
        if (note.empty())
            log(event_level::info, "auth",
                {{"mechanism", machine_.mechanism_name()},
                 {"user", machine_.login_user()},
                 {"result", "failed"}});
        else
            log(event_level::info, "auth",
                {{"mechanism", machine_.mechanism_name()},
                 {"user", machine_.login_user()},
                 {"result", "failed"},
                 {"note", note}});
        if (machine_.current_state() == state::closed)
            return action::close;
        return action::none;
    }

    void finish()
    {
        io_.close();
        auto count = std::to_string(messages_);
        io_.log(event_level::info, "disconnect", {{"messages", count}});
    }

    void log(event_level level, std::string_view name,
             std::initializer_list<std::pair<std::string_view,
                                             std::string_view>> fields)
    {
        io_.log(level, name, fields);
    }

    services_type services_;
    listener_info listener_;
    session_io<Transport> io_;
    session<Mechanisms> machine_;
    sasl::channel_bindings bindings_;
    unsigned messages_ = 0;
};

} // namespace postern::smtp
