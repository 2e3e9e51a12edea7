// SMTP replies (RFC 5321, section 4.2) with enhanced status codes
// (RFC 2034, RFC 3463) and the AUTH replies of RFC 4954, section 6.
#pragma once

#include <string>
#include <string_view>

namespace postern::smtp {

/// One SMTP reply. `enhanced` is empty for 3xx replies, which carry no
/// enhanced status code.
struct reply {
    int code;
    std::string_view enhanced;
    std::string_view text;
};

/// Appends `r` as one reply line: "CODE ENHANCED TEXT" and CRLF.
inline void append_reply(std::string& out, const reply& r)
{
    out += std::to_string(r.code);
    out += ' ';
    if (!r.enhanced.empty()) {
        out += r.enhanced;
        out += ' ';
    }
    out += r.text;
    out += "\r\n";
}

/// Appends a reply whose text is built at run time.
inline void append_reply(std::string& out, int code,
                         std::string_view enhanced, std::string_view text)
{
    append_reply(out, reply{code, enhanced, text});
}

namespace replies {

// Success.
inline constexpr reply ok{250, "2.0.0", "OK"};
inline constexpr reply sender_ok{250, "2.1.0", "Sender OK"};
inline constexpr reply recipient_ok{250, "2.1.5", "Recipient OK"};
inline constexpr reply reset_ok{250, "2.0.0", "Reset OK"};
inline constexpr reply message_accepted{250, "2.0.0",
                                        "Message accepted for delivery"};
inline constexpr reply cannot_verify{
    252, "2.5.0", "Cannot VRFY user, but will accept message for delivery"};
inline constexpr reply help{
    214, "2.0.0",
    "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS "
    "AUTH"};
inline constexpr reply ready_for_tls{220, "2.0.0", "Ready to start TLS"};
inline constexpr reply auth_succeeded{235, "2.7.0",
                                      "Authentication successful"};
inline constexpr reply start_data{354, "",
                                  "End data with <CR><LF>.<CR><LF>"};

// Temporary failures.
inline constexpr reply shutting_down{421, "4.3.2",
                                     "Service shutting down"};
inline constexpr reply too_many_sessions{421, "4.3.2",
                                         "Too many connections, try later"};
inline constexpr reply timeout{421, "4.4.2", "Timeout, closing connection"};
inline constexpr reply too_many_errors{421, "4.7.0",
                                       "Too many errors, closing connection"};
inline constexpr reply local_error{451, "4.3.0",
                                   "Local error in processing, try later"};
inline constexpr reply too_many_recipients{452, "4.5.3",
                                           "Too many recipients"};
inline constexpr reply auth_temporary_failure{
    454, "4.7.0", "Temporary authentication failure"};
inline constexpr reply tls_not_available{454, "4.7.0",
                                         "TLS not available"};
inline constexpr reply recipient_check_failed{
    451, "4.3.0", "Recipient lookup failed, try later"};

// Permanent failures: syntax and sequence.
inline constexpr reply command_unrecognized{500, "5.5.1",
                                            "Command unrecognized"};
inline constexpr reply line_too_long{500, "5.5.6", "Line too long"};
inline constexpr reply bad_command_bytes{
    500, "5.5.2", "Bare CR, LF or NUL in command line"};
inline constexpr reply syntax_error{
    501, "5.5.4", "Syntax error in parameters or arguments"};
inline constexpr reply ehlo_syntax{501, "5.5.4", "Syntax: EHLO hostname"};
inline constexpr reply helo_syntax{501, "5.5.4", "Syntax: HELO hostname"};
inline constexpr reply no_parameters{501, "5.5.4",
                                     "Syntax error, no parameters allowed"};
inline constexpr reply bad_sender_syntax{501, "5.1.7",
                                         "Invalid sender address syntax"};
inline constexpr reply bad_recipient_syntax{
    501, "5.1.3", "Invalid recipient address syntax"};
inline constexpr reply command_not_implemented{502, "5.5.1",
                                               "Command not implemented"};
inline constexpr reply send_hello_first{503, "5.5.1",
                                        "Send EHLO or HELO first"};
inline constexpr reply nested_mail{503, "5.5.1", "Sender already specified"};
inline constexpr reply need_mail{503, "5.5.1", "Need MAIL command"};
inline constexpr reply need_recipient{503, "5.5.1", "Need RCPT command"};
inline constexpr reply tls_already_active{503, "5.5.1",
                                          "TLS already active"};
inline constexpr reply unsupported_parameter{
    555, "5.5.4", "Unsupported MAIL or RCPT parameter"};

// Permanent failures: policy and content.
inline constexpr reply auth_required{530, "5.7.0", "Authentication required"};
inline constexpr reply user_unknown{550, "5.1.1",
                                    "Mailbox unavailable: user unknown"};
inline constexpr reply message_too_big{
    552, "5.3.4", "Message size exceeds fixed maximum message size"};
inline constexpr reply relay_denied{554, "5.7.1", "Relaying denied"};
inline constexpr reply bare_line_ending{
    554, "5.5.2", "Bare CR or LF in message data, lines must end with CRLF"};
inline constexpr reply data_line_too_long{
    554, "5.6.0", "Message line longer than 1000 octets"};
inline constexpr reply no_valid_recipients{554, "5.5.1",
                                           "No valid recipients"};

// AUTH (RFC 4954).
inline constexpr reply auth_not_in_transaction{
    503, "5.5.1", "AUTH not allowed during a mail transaction"};
inline constexpr reply already_authenticated{503, "5.5.1",
                                             "Already authenticated"};
inline constexpr reply auth_mechanism_unsupported{
    504, "5.5.4", "Unrecognized authentication type"};
inline constexpr reply auth_cancelled{501, "5.7.0",
                                      "Authentication cancelled"};
inline constexpr reply auth_bad_base64{501, "5.5.2",
                                       "Cannot decode base64 response"};
inline constexpr reply auth_malformed{501, "5.5.2",
                                      "Malformed authentication message"};
inline constexpr reply auth_line_too_long{
    500, "5.5.6", "Authentication exchange line is too long"};
inline constexpr reply auth_credentials_invalid{
    535, "5.7.8", "Authentication credentials invalid"};
inline constexpr reply auth_encryption_required{
    538, "5.7.11", "Encryption required for requested authentication "
                   "mechanism"};

} // namespace replies

} // namespace postern::smtp
