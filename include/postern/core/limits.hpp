// Line length limits of SMTP (RFC 5321, section 4.5.3.1) shared by the
// SMTP and POP3 drivers.
#pragma once

#include <cstddef>

namespace postern {

/// Maximum length of an SMTP command line in octets, CRLF included
/// (RFC 5321, section 4.5.3.1.4).
inline constexpr std::size_t command_line_limit = 512;

/// Maximum length of a line of message text in octets, CRLF included
/// (RFC 5321, section 4.5.3.1.6).
inline constexpr std::size_t text_line_limit = 1000;

/// Maximum length of a reply line in octets, CRLF included
/// (RFC 5321, section 4.5.3.1.5).
inline constexpr std::size_t reply_line_limit = 512;

} // namespace postern
