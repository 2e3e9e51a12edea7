// Listeners and session bookkeeping shared by the SMTP and POP3 servers:
// accept loops, the session limit, session ids and a graceful stop.
#pragma once

#include <postern/core/event.hpp>
#include <postern/core/io_pool.hpp>
#include <postern/core/listener.hpp>
#include <postern/transport/tcp.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace postern {

/// Accepts connections on any number of listeners and runs one Connection
/// per client on the next io_context of the pool.
///
/// @tparam Connection has `asio::awaitable<void> run(bool over_limit)`,
///   which serves the client (or only turns it away when over_limit),
///   `void request_stop()`, which ends the session at its next command,
///   and `void abort()`, which closes it now; both are called on the
///   connection's executor.
template <typename Connection>
class server_core {
public:
    /// Creates the connection for an accepted client.
    using factory = std::function<std::shared_ptr<Connection>(
        transport::tcp_transport, const listener_options&, std::string id)>;

    /// `tls` may be nullptr, and then no listener may use TLS.
    server_core(io_pool& pool, const event_hook& events,
                asio::ssl::context* tls, std::size_t max_sessions,
                factory make)
        : pool_(pool), events_(events), tls_(tls),
          max_sessions_(max_sessions), make_(std::move(make)),
          id_prefix_(std::random_device{}())
    {
    }

    server_core(const server_core&) = delete;
    server_core& operator=(const server_core&) = delete;

    /// Binds a listener and starts accepting on the pool's main context.
    /// Throws std::system_error when the address cannot be bound, and
    /// std::invalid_argument for a TLS listener without a TLS context.
    void listen(const listener_options& options)
    {
        if (options.tls != tls_mode::none && !tls_)
            throw std::invalid_argument("listener " + options.name +
                                        " needs TLS but none is configured");

        auto acceptor =
            std::make_shared<asio::ip::tcp::acceptor>(pool_.main());
        acceptor->open(options.endpoint.protocol());
        acceptor->set_option(asio::socket_base::reuse_address(true));
        acceptor->bind(options.endpoint);
        acceptor->listen(asio::socket_base::max_listen_connections);

        auto listener = std::make_shared<listener_options>(options);
        listener->endpoint = acceptor->local_endpoint();
        {
            std::lock_guard lock(mutex_);
            acceptors_.push_back(acceptor);
        }
        asio::co_spawn(pool_.main(), accept_loop(acceptor, listener),
                       asio::detached);
    }

    /// The bound address of each listener, in listen() order (useful when
    /// a listener asked for port 0).
    std::vector<asio::ip::tcp::endpoint> local_endpoints() const
    {
        std::lock_guard lock(mutex_);
        std::vector<asio::ip::tcp::endpoint> endpoints;
        for (const auto& acceptor : acceptors_)
            endpoints.push_back(acceptor->local_endpoint());
        return endpoints;
    }

    /// Stops accepting and requests every session to stop. Sessions still
    /// running after `grace` (a client sending a message very slowly, for
    /// example) are closed then, so a stop always ends. Thread-safe.
    void stop(std::chrono::seconds grace = std::chrono::seconds(30))
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        if (!sessions_.empty())
            arm_grace_timer(grace);
        for (auto& acceptor : acceptors_)
            asio::post(pool_.main(), [acceptor] {
                std::error_code ignored;
                acceptor->close(ignored);
            });
        for (auto& [id, entry] : sessions_)
            asio::post(entry.executor, [weak = entry.session] {
                if (auto session = weak.lock())
                    session->request_stop();
            });
    }

private:
    struct session_entry {
        asio::any_io_executor executor;
        std::weak_ptr<Connection> session;
    };

    asio::awaitable<void>
    accept_loop(std::shared_ptr<asio::ip::tcp::acceptor> acceptor,
                std::shared_ptr<listener_options> listener)
    {
        while (acceptor->is_open()) {
            std::error_code ec;
            auto socket = co_await acceptor->async_accept(
                pool_.next(), asio::redirect_error(asio::use_awaitable, ec));
            if (ec == asio::error::operation_aborted || !acceptor->is_open())
                co_return;
            if (ec) {
                co_await back_off(*listener, ec);
                continue;
            }
            start_session(std::move(socket), *listener);
        }
    }

    // Running out of file descriptors makes accept fail at once, again and
    // again; pause instead of spinning, and log once per minute with the
    // count of failures since the last line. Accept loops all run on the
    // main context, so these counters need no lock.
    asio::awaitable<void> back_off(const listener_options& listener,
                                   std::error_code ec)
    {
        ++accept_failures_;
        auto now = std::chrono::steady_clock::now();
        if (events_ && now - last_accept_log_ >= std::chrono::minutes(1)) {
            auto reason = ec.message();
            auto count = std::to_string(accept_failures_);
            events_(event{event_level::error, "-", "-", "accept-failed",
                          {{"listener", listener.name},
                           {"error", reason},
                           {"failures", count}}});
            last_accept_log_ = now;
            accept_failures_ = 0;
        }
        asio::steady_timer pause(pool_.main(), std::chrono::milliseconds(100));
        co_await pause.async_wait(
            asio::redirect_error(asio::use_awaitable, ec));
    }

    void start_session(asio::ip::tcp::socket socket,
                       const listener_options& listener)
    {
        std::error_code ignored;
        socket.set_option(asio::ip::tcp::no_delay(true), ignored);
        auto executor = socket.get_executor();
        auto id = next_session_id();

        auto* context = listener.tls == tls_mode::none ? nullptr : tls_;
        auto session = make_(
            transport::tcp_transport(std::move(socket), context), listener,
            id);

        bool over_limit = !register_session(id, executor, session);
        asio::co_spawn(
            executor,
            [this, session, id, over_limit]() -> asio::awaitable<void> {
                co_await session->run(over_limit);
                unregister_session(id);
            },
            asio::detached);
    }

    // Returns false when the server is full or stopping; the session then
    // only turns the client away.
    bool register_session(const std::string& id,
                          asio::any_io_executor executor,
                          const std::shared_ptr<Connection>& session)
    {
        std::lock_guard lock(mutex_);
        bool accepted = !stopping_ && sessions_.size() < max_sessions_;
        sessions_.emplace(id, session_entry{executor, session});
        return accepted;
    }

    void unregister_session(const std::string& id)
    {
        std::lock_guard lock(mutex_);
        sessions_.erase(id);
        // The timer is work that keeps the pool running; the last session
        // of a stop releases it.
        if (stopping_ && sessions_.empty() && grace_timer_)
            asio::post(pool_.main(), [timer = grace_timer_] {
                timer->cancel();
            });
    }

    // Called with the mutex held.
    void arm_grace_timer(std::chrono::seconds grace)
    {
        if (grace_timer_)
            return;
        grace_timer_ =
            std::make_shared<asio::steady_timer>(pool_.main(), grace);
        grace_timer_->async_wait([this](std::error_code ec) {
            if (!ec)
                abort_all();
        });
    }

    void abort_all()
    {
        std::lock_guard lock(mutex_);
        for (auto& [id, entry] : sessions_)
            asio::post(entry.executor, [weak = entry.session] {
                if (auto session = weak.lock())
                    session->abort();
            });
    }

    // A per-process random prefix and a counter: unique within the run and
    // unlikely to repeat across restarts, so log lines and message ids of
    // different runs stay apart.
    std::string next_session_id()
    {
        auto n = counter_.fetch_add(1, std::memory_order_relaxed);
        char text[32];
        std::snprintf(text, sizeof text, "%06x%06llx",
                      id_prefix_ & 0xffffffu,
                      static_cast<unsigned long long>(n));
        return text;
    }

    io_pool& pool_;
    const event_hook& events_;
    asio::ssl::context* tls_;
    std::size_t max_sessions_;
    factory make_;

    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<asio::ip::tcp::acceptor>> acceptors_;
    std::unordered_map<std::string, session_entry> sessions_;
    bool stopping_ = false;
    std::shared_ptr<asio::steady_timer> grace_timer_;
    std::chrono::steady_clock::time_point last_accept_log_{};
    std::uint64_t accept_failures_ = 0;
    std::uint32_t id_prefix_;
    std::atomic<std::uint64_t> counter_{0};
};

} // namespace postern
