// POP3 status lines (RFC 1939) with the response codes of RFC 2449,
// section 8, and RFC 3206.
#pragma once

#include <string>
#include <string_view>

namespace postern::pop3::replies {

// Positive.
inline constexpr std::string_view ok = "+OK";
inline constexpr std::string_view capability_list =
    "+OK Capability list follows";
inline constexpr std::string_view mechanism_list =
    "+OK Authentication mechanisms follow";
inline constexpr std::string_view begin_tls = "+OK Begin TLS negotiation";
inline constexpr std::string_view user_accepted = "+OK Send PASS";
inline constexpr std::string_view unique_id_list =
    "+OK Unique-ID listing follows";
inline constexpr std::string_view top_follows = "+OK Top of message follows";

// Sequence and syntax.
inline constexpr std::string_view unknown_command = "-ERR Unknown command";
inline constexpr std::string_view line_too_long = "-ERR Line too long";
inline constexpr std::string_view bad_command_bytes =
    "-ERR Bare CR, LF or NUL in command line";
inline constexpr std::string_view syntax_error =
    "-ERR Syntax error in arguments";
inline constexpr std::string_view wrong_state =
    "-ERR Command not valid in this state";
inline constexpr std::string_view no_user = "-ERR Send USER first";
inline constexpr std::string_view no_such_message = "-ERR No such message";
inline constexpr std::string_view already_deleted =
    "-ERR Message already deleted";
inline constexpr std::string_view tls_active =
    "-ERR Command not permitted when TLS active";
inline constexpr std::string_view tls_unavailable =
    "-ERR STLS not available";
inline constexpr std::string_view too_many_errors =
    "-ERR Too many errors, closing connection";

// Authentication (RFC 3206 [AUTH], [SYS/TEMP]; RFC 2449 [IN-USE]).
inline constexpr std::string_view auth_failed =
    "-ERR [AUTH] Authentication failed";
inline constexpr std::string_view plaintext_disallowed =
    "-ERR [AUTH] Plaintext authentication disallowed on unencrypted "
    "connections";
inline constexpr std::string_view mechanism_unsupported =
    "-ERR Unrecognized authentication type";
inline constexpr std::string_view mechanism_needs_tls =
    "-ERR [AUTH] Authentication mechanism requires an encrypted "
    "connection";
inline constexpr std::string_view auth_cancelled =
    "-ERR Authentication cancelled";
inline constexpr std::string_view auth_bad_base64 =
    "-ERR Cannot decode base64 response";
inline constexpr std::string_view auth_malformed =
    "-ERR Malformed authentication message";
inline constexpr std::string_view auth_temporary =
    "-ERR [SYS/TEMP] Temporary authentication failure";
inline constexpr std::string_view in_use =
    "-ERR [IN-USE] Mailbox is locked by another session";
inline constexpr std::string_view maildrop_failed =
    "-ERR [SYS/TEMP] Cannot open the mailbox, try later";
inline constexpr std::string_view read_failed =
    "-ERR [SYS/TEMP] Cannot read the message";
inline constexpr std::string_view update_failed =
    "-ERR [SYS/TEMP] Some deleted messages not removed";
inline constexpr std::string_view shutting_down =
    "-ERR [SYS/TEMP] Server shutting down";
inline constexpr std::string_view timeout =
    "-ERR Timeout, closing connection";
inline constexpr std::string_view too_many_sessions =
    "-ERR [SYS/TEMP] Too many connections, try later";

/// Appends `line` and CRLF.
inline void append_line(std::string& out, std::string_view line)
{
    out += line;
    out += "\r\n";
}

} // namespace postern::pop3::replies
