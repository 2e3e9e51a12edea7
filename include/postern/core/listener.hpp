// Listener options shared by the SMTP and POP3 servers.
#pragma once

#include <asio/ip/tcp.hpp>

#include <string>

namespace postern {

/// The TLS mode of a listener.
enum class tls_mode {
    none,     ///< plain text only
    starttls, ///< plain text, with STARTTLS (RFC 3207) or STLS (RFC 2595)
    implicit, ///< TLS from the first byte (RFC 8314: ports 465 and 995)
};

struct listener_options {
    std::string name;                 ///< for logs, e.g. "submission"
    asio::ip::tcp::endpoint endpoint; ///< address and port to bind
    tls_mode tls = tls_mode::starttls;
    bool trusted = false; ///< SMTP: clients on this listener may relay
    /// SMTP submission: MAIL needs an authenticated or otherwise trusted
    /// client (RFC 6409, section 4.3).
    bool auth_required = false;
};

} // namespace postern
