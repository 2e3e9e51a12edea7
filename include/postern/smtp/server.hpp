// An SMTP server: listeners that accept connections and run a session per
// connection on an io_pool (RFC 5321; implicit TLS per RFC 8314).
#pragma once

#include <postern/core/event.hpp>
#include <postern/core/io_pool.hpp>
#include <postern/core/server_core.hpp>
#include <postern/directory/credentials.hpp>
#include <postern/smtp/connection.hpp>
#include <postern/smtp/settings.hpp>
#include <postern/store/mail_store.hpp>
#include <postern/transport/tcp.hpp>
#include <postern/trust/policy.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace postern::smtp {

/// An SMTP server built from one choice per policy.
///
/// @tparam Directory  a directory::user_directory
/// @tparam Mechanisms a sasl::mechanism_set; an empty set disables AUTH
/// @tparam Trust      a trust::trust_policy
/// @tparam Store      a store::mail_store
template <directory::user_directory Directory, typename Mechanisms,
          trust::trust_policy Trust, store::mail_store Store>
class server {
public:
    using connection_type =
        connection<transport::tcp_transport, Directory, Mechanisms, Trust,
                   Store>;

    /// `tls` may be nullptr, and then no listener may use TLS. Every
    /// reference must outlive the server.
    server(io_pool& pool, asio::thread_pool& workers, Directory& directory,
           Trust& trust, Store& store, settings config, event_hook events,
           asio::ssl::context* tls)
        : config_(std::move(config)), events_(std::move(events)),
          services_{directory, trust, store, workers, config_, events_},
          core_(pool, events_, tls, config_.max_sessions,
                [this](transport::tcp_transport transport,
                       const listener_options& listener, std::string id) {
                    return std::make_shared<connection_type>(
                        std::move(transport), services_,
                        listener_info{listener.name, listener.trusted,
                                      listener.tls, listener.auth_required},
                        std::move(id));
                })
    {
    }

    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Binds a listener; see server_core::listen().
    void listen(const listener_options& options) { core_.listen(options); }

    /// The bound address of each listener, in listen() order.
    std::vector<asio::ip::tcp::endpoint> local_endpoints() const
    {
        return core_.local_endpoints();
    }

    /// Stops accepting and requests every session to end: sessions waiting
    /// for a command get 421 now, a session receiving a message finishes
    /// it. Thread-safe.
    void stop() { core_.stop(); }

private:
    settings config_;
    event_hook events_;
    typename connection_type::services_type services_;
    server_core<connection_type> core_;
};

} // namespace postern::smtp
