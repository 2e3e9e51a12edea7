// The I/O side shared by the SMTP and POP3 session drivers: buffered line
// reads with deadlines, batched replies, STARTTLS/STLS, a watchdog for
// timeouts and stops, and event logging.
#pragma once

#include <postern/core/event.hpp>
#include <postern/core/line_reader.hpp>
#include <postern/sasl/mechanism.hpp>
#include <postern/transport/transport.hpp>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace postern {

/// The connection of one session as its driver uses it. Everything runs on
/// the transport's executor, one thread, so no member needs a lock.
template <transport::transport Transport>
class session_io {
public:
    using clock = std::chrono::steady_clock;

    /// The lines a session sends before closing on its own initiative,
    /// each with its CRLF.
    struct farewells {
        std::string stop;    ///< the server is stopping
        std::string timeout; ///< the client was idle too long
    };

    session_io(Transport transport, std::string id, const event_hook& events,
               std::size_t buffer_size)
        : transport_(std::move(transport)), id_(std::move(id)),
          client_(transport_.remote_address().to_string()), events_(events),
          reader_(buffer_size)
    {
    }

    Transport& transport() noexcept { return transport_; }
    const Transport& transport() const noexcept { return transport_; }
    const std::string& id() const noexcept { return id_; }
    const std::string& client() const noexcept { return client_; }
    bool closed() const noexcept { return closed_; }
    bool stop_requested() const noexcept { return stop_requested_; }

    /// Sets where replies come from: called before every write, so that a
    /// state machine's output is sent in order with queued bytes.
    void set_output_source(std::function<std::string()> source)
    {
        output_source_ = std::move(source);
    }

    /// Starts the watchdog. `owner` keeps this object alive while the
    /// watchdog runs. Call on the transport's executor.
    asio::awaitable<void> start(std::shared_ptr<void> owner,
                                std::chrono::seconds first_timeout,
                                farewells lines)
    {
        farewells_ = std::move(lines);
        auto executor = co_await asio::this_coro::executor;
        timer_.emplace(executor);
        deadline_ = clock::now() + first_timeout;
        asio::co_spawn(executor, watchdog(std::move(owner), this),
                       asio::detached);
    }

    void queue(std::string_view bytes) { pending_ += bytes; }

    /// Writes everything queued and the state machine's output.
    asio::awaitable<void> flush()
    {
        if (output_source_)
            pending_ += output_source_();
        if (pending_.empty() || closed_)
            co_return;
        auto bytes = std::exchange(pending_, {});
        std::error_code ec;
        co_await transport_.write(asio::buffer(bytes), ec);
        if (ec)
            close();
    }

    /// Returns the next line, reading as needed; nullopt when the
    /// connection is gone. Output is flushed only when no complete line is
    /// buffered, which is what pipelining needs (RFC 2920, section 3.2;
    /// RFC 2449, section 6.6). A command read after a stop request sends
    /// the stop farewell instead.
    asio::awaitable<std::optional<line_reader::result>>
    next_line(std::size_t limit, std::chrono::seconds timeout, bool command)
    {
        while (!closed_) {
            auto line = reader_.next_line(limit);
            if (line.state != line_reader::status::incomplete)
                co_return line;

            co_await flush();
            if (command && stop_requested_ && !closed_) {
                co_await say_goodbye(farewells_.stop);
                co_return std::nullopt;
            }
            if (closed_)
                co_return std::nullopt;
            bool filled = co_await fill(timeout, command);
            if (!filled)
                co_return std::nullopt;
        }
        co_return std::nullopt;
    }

    /// Feeds command lines to `machine` until the connection closes, and
    /// runs each action it returns through `perform` (a callable returning
    /// asio::awaitable of the next action) until one is `none`. Both
    /// protocols' session machines have on_line() and on_line_too_long().
    template <typename Machine, typename Perform>
    asio::awaitable<void> serve_commands(Machine& machine, std::size_t limit,
                                         std::chrono::seconds timeout,
                                         Perform perform)
    {
        while (!closed_) {
            auto line = co_await next_line(limit, timeout, true);
            if (!line)
                co_return;

            auto next = line->state == line_reader::status::too_long
                            ? machine.on_line_too_long()
                            : machine.on_line(line->text);
            while (next != decltype(next)::none && !closed_)
                next = co_await perform(next);
        }
    }

    /// Sends `line` and what is queued, then closes.
    asio::awaitable<void> say_goodbye(std::string_view line)
    {
        queue(line);
        co_await flush();
        close();
    }

    /// Runs the server side of a TLS handshake, bounded by `timeout`.
    /// Returns false, with the connection closed, when it fails.
    asio::awaitable<bool> handshake(std::chrono::seconds timeout)
    {
        set_deadline(timeout);
        std::error_code ec;
        in_handshake_ = true;
        co_await transport_.start_tls(ec);
        in_handshake_ = false;
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

    /// STARTTLS and STLS: the positive reply goes out in clear, then the
    /// handshake. Anything the client sent after the command and before
    /// the handshake was sent in clear and could have been injected by an
    /// attacker (CVE-2011-0411), so it is dropped unread.
    asio::awaitable<bool> upgrade(std::chrono::seconds timeout)
    {
        co_await flush();
        reader_.discard_buffered();
        if (closed_)
            co_return false;
        bool secured = co_await handshake(timeout);
        co_return secured;
    }

    /// The channel binding data of the TLS connection, for SCRAM -PLUS;
    /// empty for transports that cannot provide it.
    sasl::channel_bindings channel_bindings() const
    {
        if constexpr (requires { transport_.channel_bindings(); })
            return transport_.channel_bindings();
        else
            return {};
    }

    /// Ends the session at the next command boundary with the stop
    /// farewell. Call on the transport's executor.
    void request_stop()
    {
        stop_requested_ = true;
        if (timer_)
            timer_->cancel();
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

    void log(event_level level, std::string_view name,
             std::initializer_list<std::pair<std::string_view,
                                             std::string_view>> fields = {})
    {
        if (!events_)
            return;
        event e{level, id_, client_, name, fields};
        events_(e);
    }

    /// Gives the session `timeout` from now before the watchdog closes it;
    /// a long reply calls it as each part goes out, so that only a stalled
    /// client times out. The watchdog sleeps until the deadline it last
    /// saw and is woken when the new deadline is earlier.
    void set_deadline(std::chrono::seconds timeout)
    {
        deadline_ = clock::now() + timeout;
        if (timer_ && deadline_ < timer_->expiry())
            timer_->cancel();
    }

private:
    asio::awaitable<bool> fill(std::chrono::seconds timeout, bool command)
    {
        auto space = reader_.prepare();
        if (space.empty()) {
            close();
            co_return false;
        }

        set_deadline(timeout);
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


    // Sends a farewell on a timeout or a stop while the session waits for
    // a command, and closes the connection when any other read or a TLS
    // handshake passes its deadline. It runs beside the session on the
    // same thread, so it writes only while the session is blocked in a
    // command read and is not writing itself. A stop during DATA is left
    // to the session, which checks for it before the next command.
    static asio::awaitable<void> watchdog(std::shared_ptr<void> owner,
                                          session_io* self)
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
            // A client still in its TLS handshake has no session to finish.
            if (stop && self->in_handshake_) {
                self->close();
                co_return;
            }
            if (self->waiting_for_command_ && (expired || stop)) {
                self->log(event_level::info, expired ? "timeout" : "stop");
                co_await self->say_goodbye(expired ? self->farewells_.timeout
                                                   : self->farewells_.stop);
                co_return;
            }
            if (expired)
                self->close();
        }
        (void)owner;
    }

    Transport transport_;
    std::string id_;
    std::string client_;
    const event_hook& events_;
    line_reader reader_;
    std::string pending_;
    std::function<std::string()> output_source_;
    farewells farewells_;

    std::optional<asio::steady_timer> timer_;
    clock::time_point deadline_ = clock::now();
    bool waiting_for_command_ = false;
    bool in_handshake_ = false;
    bool stop_requested_ = false;
    bool closed_ = false;
};

} // namespace postern
