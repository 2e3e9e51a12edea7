// Message data after DATA (RFC 5321, section 4.1.1.4): dot-unstuffing,
// the end-of-data mark, the SMTP smuggling checks and the trace headers of
// section 4.4.
#pragma once

#include <postern/core/limits.hpp>
#include <postern/smtp/session.hpp>
#include <postern/transport/transport.hpp>

#include <cstddef>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::smtp {

/// Collects the lines of one message, as a line_reader returns them, into
/// the bytes stored on disk: LF line endings, dot-stuffing removed.
///
/// TODO: the message is held in memory up to the SIZE limit. Streaming it
/// into the Maildir's tmp/ as it arrives would bound memory per session.
///
/// The data ends only at a line holding a single "." after CRLF. A bare CR
/// or LF anywhere in the data would let a client hide a second message
/// from servers that end data differently (SMTP smuggling), so such a
/// message is read to its end and rejected as a whole.
class message_assembler {
public:
    /// Octets of text per line, without CRLF and dot-stuffing.
    static constexpr std::size_t max_line_octets = text_line_limit - 2;

    /// The longest line, with CRLF and a stuffed dot, that a line reader
    /// must accept so that add_line() receives it.
    static constexpr std::size_t wire_line_limit = text_line_limit + 1;

    explicit message_assembler(std::size_t max_size) : max_size_(max_size)
    {
    }

    /// Takes one complete line without its CRLF. Returns true at the
    /// end-of-data line.
    bool add_line(std::string_view line)
    {
        if (line == ".")
            return true;
        if (!line.empty() && line.front() == '.')
            line.remove_prefix(1);
        if (line.find_first_of("\r\n") != std::string_view::npos)
            flag(data_outcome::bare_line_ending);
        // RFC 5321, section 4.5.3.1.6: 998 octets of text before CRLF,
        // counted before dot-stuffing, so a 998-octet line that starts
        // with a dot arrives as 999 octets and is accepted.
        if (line.size() > max_line_octets)
            flag(data_outcome::line_too_long);

        // The limit counts octets as received, with CRLF.
        received_ += line.size() + 2;
        if (received_ > max_size_)
            flag(data_outcome::too_big);
        if (!rejected_) {
            body_ += line;
            body_ += '\n';
        }
        return false;
    }

    /// Records a line longer than the text line limit; the reader dropped
    /// its bytes.
    void add_overlong_line() { flag(data_outcome::line_too_long); }

    /// The outcome so far: stored until something was rejected.
    std::optional<data_outcome> rejection() const noexcept
    {
        return rejected_;
    }

    /// The message with LF line endings.
    const std::string& body() const noexcept { return body_; }

private:
    void flag(data_outcome why)
    {
        if (!rejected_)
            rejected_ = why;
        body_.clear();
        body_.shrink_to_fit();
    }

    std::size_t max_size_;
    std::size_t received_ = 0;
    std::string body_;
    std::optional<data_outcome> rejected_;
};

/// The session details that the Received: header records.
struct trace_info {
    std::string_view identity;    ///< this server
    std::string_view helo;        ///< the client's EHLO or HELO argument
    std::string_view client_address;
    bool esmtp = true;
    std::optional<transport::tls_details> tls;
    std::optional<std::string_view> authenticated_user;
    std::string_view id;          ///< this message's id
    std::vector<std::string_view> recipients;
};

/// Formats `when` as an RFC 5322 date-time in UTC.
inline std::string rfc5322_date(std::time_t when)
{
    std::tm utc{};
    gmtime_r(&when, &utc);
    char text[64];
    auto size = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S +0000",
                              &utc);
    return std::string(text, size);
}

/// Returns the "with" protocol name of RFC 3848: ESMTP plus S for TLS and A
/// for an authenticated client.
inline std::string_view with_protocol(const trace_info& info)
{
    if (!info.esmtp)
        return "SMTP";
    if (info.tls && info.authenticated_user)
        return "ESMTPSA";
    if (info.tls)
        return "ESMTPS";
    if (info.authenticated_user)
        return "ESMTPA";
    return "ESMTP";
}

/// Builds the Received: header (RFC 5321, section 4.4) with LF line
/// endings. TLS parameters and the authenticated user go in comments, as
/// Postfix writes them; "for" names the recipient only when there is one,
/// so that a copy does not disclose the other recipients.
inline std::string received_header(const trace_info& info, std::time_t when)
{
    // TODO: RFC 5321, section 4.4, wants the client's name from a reverse
    // DNS lookup (TCP-info); only the address literal is written so far.

    std::string h = "Received: from ";
    h += info.helo;
    h += " ([";
    h += info.client_address;
    h += "])\n\tby ";
    h += info.identity;
    h += " (Postern) with ";
    h += with_protocol(info);
    if (info.tls) {
        h += "\n\t(using " + info.tls->version + " with cipher " +
             info.tls->cipher + " (" + std::to_string(info.tls->bits) +
             " bits))";
    }
    if (info.authenticated_user) {
        h += "\n\t(authenticated as ";
        h += *info.authenticated_user;
        h += ')';
    }
    h += "\n\tid ";
    h += info.id;
    if (info.recipients.size() == 1) {
        h += "\n\tfor <";
        h += info.recipients.front();
        h += '>';
    }
    h += "; ";
    h += rfc5322_date(when);
    h += '\n';
    return h;
}

/// Builds the Return-Path: header that final delivery adds (RFC 5321,
/// section 4.4).
inline std::string return_path_header(std::string_view reverse_path)
{
    std::string h = "Return-Path: <";
    h += reverse_path;
    h += ">\n";
    return h;
}

} // namespace postern::smtp
