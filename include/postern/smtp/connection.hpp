// The SMTP session driver: runs a session state machine over a Transport
// with Asio coroutines and performs the I/O, lookups and storage that the
// machine requests.
#pragma once

#include <postern/core/blocking.hpp>
#include <postern/core/event.hpp>
#include <postern/core/limits.hpp>
#include <postern/core/line_reader.hpp>
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
    std::string_view name;
    bool trusted = false;
    tls_mode tls = tls_mode::none;
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
        : transport_(std::move(transport)), services_(services),
          listener_(listener), id_(std::move(id)),
          client_(transport_.remote_address().to_string()),
          machine_(services.config, make_connection_info(),
                   supplied_secrets(services.directory)),
          reader_(read_buffer_size)
    {
    }

    /// Serves the connection until QUIT, an error, a timeout or a stop.
    asio::awaitable<void> run(bool over_limit = false)
    {
        auto executor = co_await asio::this_coro::executor;
        timer_.emplace(executor);
        deadline_ = clock::now() + services_.config.command_timeout;
        asio::co_spawn(executor, watchdog(this->shared_from_this()),
                       asio::detached);

        log(event_level::info, "connect",
            {{"listener", listener_.name}});
        // GCC 12 miscompiles co_await inside conditions, so every awaited
        // value is stored before it is tested.
        if (over_limit) {
            append_reply(pending_, replies::too_many_sessions);
            co_await flush();
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
    void request_stop()
    {
        stop_requested_ = true;
        if (timer_)
            timer_->cancel();
    }

private:
    // An AUTH line may carry an initial response of up to 12288 octets
    // (RFC 4954, section 4); the buffer fits one such line plus room.
    static constexpr std::size_t auth_line_limit = 12288;
    static constexpr std::size_t read_buffer_size = 16384;
    static constexpr std::chrono::seconds tls_handshake_timeout{30};

    using clock = std::chrono::steady_clock;

    connection_info make_connection_info() const
    {
        connection_info info;
        info.tls_offered = listener_.tls == tls_mode::starttls &&
                           transport_.can_start_tls();
        info.encrypted = transport_.encrypted();
        info.client_address = client_;
        return info;
    }

    static std::bitset<8> supplied_secrets(const Directory& directory)
    {
        std::bitset<8> supplied;
        for (std::size_t kind = 0; kind < supplied.size(); ++kind)
            supplied.set(kind, directory.supplies(
                                   static_cast<directory::secret_kind>(kind)));
        return supplied;
    }

    // Implicit TLS starts with the handshake; then the 220 greeting.
    asio::awaitable<bool> open()
    {
        if (listener_.tls == tls_mode::implicit) {
            bool secured = co_await handshake();
            if (!secured)
                co_return false;
            machine_.tls_started();
        }
        evaluate_trust();
        machine_.greet();
        co_return true;
    }

    asio::awaitable<void> serve()
    {
        while (!closed_) {
            auto line = co_await next_line(auth_line_limit, true);
            if (!line)
                co_return;

            auto next = line->state == line_reader::status::too_long
                            ? machine_.on_line_too_long()
                            : machine_.on_line(line->text);
            while (next != action::none && !closed_)
                next = co_await perform(next);
        }
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
            co_await flush();
            close();
            co_return action::none;
        case action::none: break;
        }
        co_return action::none;
    }

    // Returns the next line, reading as needed; nullopt when the
    // connection is gone. Replies are flushed only when no complete line
    // is buffered, which is what PIPELINING needs (RFC 2920, section 3.2).
    asio::awaitable<std::optional<line_reader::result>>
    next_line(std::size_t limit, bool command)
    {
        while (!closed_) {
            auto line = reader_.next_line(limit);
            if (line.state != line_reader::status::incomplete)
                co_return line;

            co_await flush();
            if (command && stop_requested_ && !closed_) {
                co_await say_goodbye(replies::shutting_down);
                co_return std::nullopt;
            }
            if (closed_)
                co_return std::nullopt;
            bool filled = co_await fill(command);
            if (!filled)
                co_return std::nullopt;
        }
        co_return std::nullopt;
    }

    asio::awaitable<bool> fill(bool command)
    {
        auto space = reader_.prepare();
        if (space.empty()) {
            close();
            co_return false;
        }

        set_deadline(command ? services_.config.command_timeout
                             : services_.config.data_timeout);
        waiting_for_command_ = command;
        std::error_code ec;
        auto n = co_await transport_.read_some(
            asio::buffer(space.data(), space.size()), ec);
        waiting_for_command_ = false;
        if (ec) {
            close();
            co_return false;
        }
        reader_.commit(n);
        co_return true;
    }

    // The watchdog sleeps until the deadline it last saw; wake it when the
    // new deadline is earlier.
    void set_deadline(std::chrono::seconds timeout)
    {
        deadline_ = clock::now() + timeout;
        if (timer_ && deadline_ < timer_->expiry())
            timer_->cancel();
    }

    asio::awaitable<void> flush()
    {
        pending_ += machine_.take_output();
        if (pending_.empty() || closed_)
            co_return;
        auto bytes = std::exchange(pending_, {});
        std::error_code ec;
        co_await transport_.write(asio::buffer(bytes), ec);
        if (ec)
            close();
    }

    asio::awaitable<void> say_goodbye(const reply& r)
    {
        append_reply(pending_, r);
        co_await flush();
        close();
    }

    asio::awaitable<bool> handshake()
    {
        set_deadline(tls_handshake_timeout);
        std::error_code ec;
        co_await transport_.start_tls(ec);
        if (ec) {
            auto reason = ec.message();
            log(event_level::info, "tls-failed", {{"error", reason}});
            close();
            co_return false;
        }
        auto details = transport_.tls();
        log(event_level::info, "tls",
            {{"version", details ? details->version : ""},
             {"cipher", details ? details->cipher : ""}});
        co_return true;
    }

    // RFC 3207, section 4: "220 Ready to start TLS" goes out in clear,
    // then the handshake. Anything the client sent after STARTTLS and
    // before the handshake was sent in clear and could have been injected
    // by an attacker (CVE-2011-0411), so it is dropped unread.
    asio::awaitable<action> start_tls()
    {
        co_await flush();
        reader_.discard_buffered();
        if (closed_)
            co_return action::none;
        bool secured = co_await handshake();
        if (!secured)
            co_return action::none;
        machine_.tls_started();
        evaluate_trust();
        co_return action::none;
    }

    asio::awaitable<action> verify_password()
    {
        auto& request = machine_.sasl_request();
        auto user = request.authcid;
        auto password = std::move(request.password);
        bool ok = false;
        bool temporary = false;
        try {
            ok = co_await run_blocking(services_.workers, [&] {
                return services_.directory.verify_password(user,
                                                           password.view());
            });
        } catch (const std::exception& e) {
            temporary = true;
            log(event_level::error, "directory-error",
                {{"user", user}, {"error", e.what()}});
        }
        password.wipe();
        co_return machine_.password_verified(ok, temporary);
    }

    asio::awaitable<action> lookup_credentials()
    {
        auto user = machine_.sasl_request().authcid;
        std::optional<directory::credentials> found;
        bool temporary = false;
        try {
            found = co_await run_blocking(services_.workers, [&] {
                return services_.directory.find_user(user);
            });
        } catch (const std::exception& e) {
            temporary = true;
            log(event_level::error, "directory-error",
                {{"user", user}, {"error", e.what()}});
        }
        co_return machine_.credentials_found(found ? &*found : nullptr,
                                             temporary);
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
                {{"user", user}, {"reason", "unknown user"}});
        co_return machine_.recipient_checked(outcome);
    }

    asio::awaitable<action> receive_data()
    {
        co_await flush();
        message_assembler message(services_.config.max_message_size);
        while (true) {
            auto line = co_await next_line(text_line_limit, false);
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
    // durable before the 250 reply.
    asio::awaitable<data_outcome> store_message(const std::string& body)
    {
        auto id = id_ + "." + std::to_string(++messages_);
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
        for (const auto& user : machine_.local_users())
            if (auto ec = services_.store.deliver(user, local))
                return ec;

        if (relay.recipients.empty())
            return {};
        const std::string_view queued[] = {received, body};
        return services_.store.enqueue(relay, queued);
    }

    trace_info trace(std::string_view id) const
    {
        trace_info info;
        info.identity = services_.config.identity;
        info.helo = machine_.helo_name();
        info.client_address = client_;
        info.esmtp = machine_.esmtp();
        info.tls = transport_.tls();
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
        client.address = transport_.remote_address();
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
        log(event_level::info, "auth",
            {{"mechanism", machine_.mechanism_name()},
             {"user", machine_.sasl_request().authcid},
             {"result", "failed"}});
        return action::none;
    }

    // Sends 421 on a timeout or a stop while the session waits for a
    // command, and closes the connection when any other read or a TLS
    // handshake passes its deadline. It runs beside the session on the
    // same thread, so it writes only while the session is blocked in a
    // command read and is not writing itself. A stop during DATA is left
    // to the session, which checks for it before the next command.
    static asio::awaitable<void> watchdog(std::shared_ptr<connection> self)
    {
        while (!self->closed_) {
            self->timer_->expires_at(self->deadline_);
            std::error_code ec;
            co_await self->timer_->async_wait(
                asio::redirect_error(asio::use_awaitable, ec));
            if (self->closed_)
                co_return;

            bool expired = clock::now() >= self->deadline_;
            bool stop = self->stop_requested_;
            if (self->waiting_for_command_ && (expired || stop)) {
                self->log(event_level::info, expired ? "timeout" : "stop",
                          {});
                co_await self->say_goodbye(expired ? replies::timeout
                                                   : replies::shutting_down);
                co_return;
            }
            if (expired)
                self->close();
        }
    }

    void close()
    {
        if (closed_)
            return;
        closed_ = true;
        transport_.close();
        if (timer_)
            timer_->cancel();
    }

    void finish()
    {
        close();
        log(event_level::info, "disconnect",
            {{"messages", std::to_string(messages_)}});
    }

    void log(event_level level, std::string_view name,
             std::initializer_list<std::pair<std::string_view,
                                             std::string_view>> fields)
    {
        if (!services_.events)
            return;
        event e{level, id_, client_, name, fields};
        services_.events(e);
    }

    Transport transport_;
    services_type services_;
    listener_info listener_;
    std::string id_;
    std::string client_;
    session<Mechanisms> machine_;
    line_reader reader_;
    std::string pending_;

    std::optional<asio::steady_timer> timer_;
    clock::time_point deadline_ = clock::now();
    bool waiting_for_command_ = false;
    bool stop_requested_ = false;
    bool closed_ = false;
    unsigned messages_ = 0;
};

} // namespace postern::smtp
