// Error codes that travel as std::error_code through I/O and storage paths.
#pragma once

#include <string>
#include <system_error>

namespace postern {

/// Errors raised by Postern itself; system and OpenSSL errors keep their
/// own categories.
enum class error {
    line_too_long = 1,     ///< a line exceeded its limit before CRLF
    bare_line_ending,      ///< a CR or LF that is not part of CRLF
    buffer_full,           ///< a bounded buffer has no room left
    invalid_base64,        ///< not strict RFC 4648 base64
    connection_closed,     ///< the peer closed the connection
    tls_unavailable,       ///< STARTTLS without a TLS context
    tls_already_active,    ///< STARTTLS on an encrypted connection
    invalid_user_name,     ///< a name unfit for a mailbox path
    user_not_found,        ///< no such account in the directory
    user_exists,           ///< the account already exists
    timed_out,             ///< a session timer expired
    shutting_down,         ///< the server is stopping
    maildrop_in_use,       ///< another session holds the POP3 maildrop
};

namespace detail {

class error_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "postern"; }

    std::string message(int value) const override
    {
        switch (static_cast<error>(value)) {
        case error::line_too_long: return "line too long";
        case error::bare_line_ending: return "bare CR or LF";
        case error::buffer_full: return "buffer full";
        case error::invalid_base64: return "invalid base64";
        case error::connection_closed: return "connection closed";
        case error::tls_unavailable: return "TLS is not configured";
        case error::tls_already_active: return "TLS is already active";
        case error::invalid_user_name: return "invalid user name";
        case error::user_not_found: return "user not found";
        case error::user_exists: return "user already exists";
        case error::timed_out: return "timed out";
        case error::shutting_down: return "server shutting down";
        case error::maildrop_in_use: return "maildrop in use";
        }
        return "unknown postern error";
    }
};

} // namespace detail

/// The category of postern::error values.
inline const std::error_category& error_category() noexcept
{
    static const detail::error_category_impl instance;
    return instance;
}

inline std::error_code make_error_code(error value) noexcept
{
    return {static_cast<int>(value), error_category()};
}

} // namespace postern

template <>
struct std::is_error_code_enum<postern::error> : std::true_type {};
