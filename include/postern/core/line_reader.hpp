// A bounded, sans-I/O splitter of CRLF-terminated lines for the SMTP
// (RFC 5321, section 2.3.8) and POP3 (RFC 1939, section 3) drivers.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace postern {

/// Splits a byte stream into lines that end in CRLF, in a buffer of fixed
/// capacity. The driver reads into prepare(), calls commit(), then calls
/// next_line() until it returns incomplete.
///
/// Only CRLF ends a line. A bare CR or LF stays in the text, so that the
/// protocol layer can reject it (RFC 5321, section 2.3.8).
class line_reader {
public:
    enum class status {
        complete,   ///< `text` holds a whole line
        incomplete, ///< no CRLF yet; read more input
        too_long,   ///< a line exceeded the limit and is being dropped
    };

    /// One call's outcome. `text` excludes the CRLF, is empty unless
    /// `state` is complete, and is valid until the next call of prepare(),
    /// commit(), next_line() or discard_buffered().
    struct result {
        status state;
        std::string_view text;
    };

    /// Creates a reader with room for `capacity` octets. The capacity
    /// must be at least the largest `limit` passed to next_line().
    explicit line_reader(std::size_t capacity)
        : buffer_(std::make_unique<char[]>(capacity)), capacity_(capacity)
    {
    }

    /// Moves unread bytes to the front of the buffer and returns the free
    /// space after them, which is empty when the buffer is full.
    std::span<char> prepare()
    {
        compact();
        return {buffer_.get() + end_, capacity_ - end_};
    }

    /// Marks `n` bytes written into the span from prepare() as received.
    void commit(std::size_t n)
    {
        assert(n <= capacity_ - end_);
        end_ += n;
    }

    /// Returns the next line if a CRLF has arrived. `limit` is the maximum
    /// line length in octets, CRLF included.
    ///
    /// A peer that never sends CRLF must not grow the buffer or stall the
    /// reader. When `limit` octets arrive without a CRLF, or a line longer
    /// than `limit` completes, this returns too_long once. The rest of that
    /// line, up to and including its CRLF, is dropped, and the next call
    /// reads the line after it.
    result next_line(std::size_t limit)
    {
        assert(limit >= 2);
        assert(limit <= capacity_);
        if (skipping_ && !skip_rest_of_line())
            return {status::incomplete, {}};

        const std::string_view unread = unread_bytes();
        const std::size_t crlf = unread.find("\r\n", scanned_);
        if (crlf == std::string_view::npos)
            return wait_for_crlf(unread, limit);

        begin_ += crlf + 2;
        scanned_ = 0;
        if (crlf + 2 > limit)
            return {status::too_long, {}};
        return {status::complete, unread.substr(0, crlf)};
    }

    /// Drops every byte received but not yet returned as a line, and any
    /// overlong line being skipped. After STARTTLS, bytes that arrived
    /// before the TLS handshake must not be executed as commands, or an
    /// attacker could inject them in plaintext (CVE-2011-0411).
    void discard_buffered() noexcept
    {
        begin_ = 0;
        end_ = 0;
        scanned_ = 0;
        skipping_ = false;
    }

    /// Returns the number of bytes received but not yet consumed.
    std::size_t buffered() const noexcept { return end_ - begin_; }

private:
    std::string_view unread_bytes() const noexcept
    {
        return {buffer_.get() + begin_, end_ - begin_};
    }

    void compact() noexcept
    {
        if (begin_ == 0)
            return;
        std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }

    // Handles unread input that contains no CRLF. Reports too_long once the
    // line can no longer fit, and otherwise waits for more input.
    result wait_for_crlf(std::string_view unread, std::size_t limit)
    {
        // With `limit` octets and no CRLF the line has at least limit + 1
        // octets once its LF arrives, even if the last octet is a CR.
        if (unread.size() >= limit) {
            skipping_ = true;
            drop_all_but_trailing_cr();
            return {status::too_long, {}};
        }

        // A trailing CR may be the first half of a CRLF split across two
        // reads, so the next search starts at it.
        scanned_ = unread.empty() ? 0 : unread.size() - 1;
        return {status::incomplete, {}};
    }

    // Drops the rest of an overlong line. Returns true when its CRLF was
    // found, so the following line can be read.
    bool skip_rest_of_line() noexcept
    {
        const std::size_t crlf = unread_bytes().find("\r\n");
        if (crlf == std::string_view::npos) {
            drop_all_but_trailing_cr();
            return false;
        }
        begin_ += crlf + 2;
        scanned_ = 0;
        skipping_ = false;
        return true;
    }

    // Keeps a trailing CR because the next read may start with its LF.
    void drop_all_but_trailing_cr() noexcept
    {
        const bool trailing_cr = end_ > begin_ && buffer_[end_ - 1] == '\r';
        begin_ = trailing_cr ? end_ - 1 : end_;
        scanned_ = 0;
    }

    std::unique_ptr<char[]> buffer_;
    std::size_t capacity_;
    std::size_t begin_ = 0;   // first unread byte
    std::size_t end_ = 0;     // one past the last received byte
    std::size_t scanned_ = 0; // unread bytes already searched for CRLF
    bool skipping_ = false;   // dropping the rest of an overlong line
};

} // namespace postern
