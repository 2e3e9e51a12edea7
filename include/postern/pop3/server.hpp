// A POP3 server: listeners that accept connections and run a session per
// connection on an io_pool (RFC 1939; STLS per RFC 2595; implicit TLS per
// RFC 8314).
#pragma once

#include <postern/core/event.hpp>
#include <postern/core/io_pool.hpp>
#include <postern/core/server_core.hpp>
#include <postern/directory/credentials.hpp>
#include <postern/pop3/connection.hpp>
#include <postern/pop3/settings.hpp>
#include <postern/transport/tcp.hpp>

#include <asio/ssl/context.hpp>
#include <asio/thread_pool.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace postern::pop3 {

/// A POP3 server over Maildir maildrops under `mail_root`/USER/.
///
/// @tparam Directory  a directory::user_directory
/// @tparam Mechanisms a sasl::mechanism_set for AUTH; empty disables it
template <directory::user_directory Directory, typename Mechanisms>
class server {
public:
    using connection_type =
        connection<transport::tcp_transport, Directory, Mechanisms>;

    /// `tls` may be nullptr, and then no listener may use TLS. Every
    /// reference must outlive the server.
    server(io_pool& pool, asio::thread_pool& workers, Directory& directory,
           std::filesystem::path mail_root, settings config,
           event_hook events, asio::ssl::context* tls)
        : config_(std::move(config)), events_(std::move(events)),
          mail_root_(std::move(mail_root)),
          services_{directory, workers, config_, events_, mail_root_},
          core_(pool, events_, tls, config_.max_sessions,
                [this](transport::tcp_transport transport,
                       const listener_options& listener, std::string id) {
                    return std::make_shared<connection_type>(
                        std::move(transport), services_, listener.name,
                        listener.tls, std::move(id));
                })
    {
    }

    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Binds a listener; see server_core::listen().
    void listen(const listener_options& options) { core_.listen(options); }

    std::vector<asio::ip::tcp::endpoint> local_endpoints() const
    {
        return core_.local_endpoints();
    }

    /// Stops accepting; idle sessions get -ERR [SYS/TEMP] and close, and a
    /// message being sent is finished first. Thread-safe.
    void stop() { core_.stop(); }

private:
    settings config_;
    event_hook events_;
    std::filesystem::path mail_root_;
    typename connection_type::services_type services_;
    server_core<connection_type> core_;
};

} // namespace postern::pop3
