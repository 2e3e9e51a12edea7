// An in-memory pair of connected plain transports, for testing session
// drivers without sockets.
#pragma once

#include <postern/core/error.hpp>
#include <postern/transport/transport.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/address_v4.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

namespace postern::transport {

namespace detail {

/// One direction of a memory pair. The timers never expire. They serve as
/// signals: a waiter calls async_wait and the other side wakes it with
/// cancel().
struct memory_channel {
    explicit memory_channel(const asio::any_io_executor& executor)
        : readable(executor, asio::steady_timer::time_point::max()),
          writable(executor, asio::steady_timer::time_point::max())
    {
    }

    std::deque<char> unread;
    asio::steady_timer readable; ///< woken when bytes arrive or on close
    asio::steady_timer writable; ///< woken when the reader frees space
    bool writer_closed = false;
    bool reader_closed = false;
};

struct memory_link {
    explicit memory_link(const asio::any_io_executor& executor)
        : channels{memory_channel(executor), memory_channel(executor)}
    {
    }

    memory_channel channels[2];
};

inline asio::awaitable<void> wait_for_signal(asio::steady_timer& signal)
{
    std::error_code cancelled;
    co_await signal.async_wait(
        asio::redirect_error(asio::use_awaitable, cancelled));
}

} // namespace detail

/// One end of an in-memory connection made by make_memory_pair(). Bytes
/// written on one end become readable on the other. It never offers TLS.
///
/// Backpressure: a write that would leave more than max_unread bytes unread
/// at the peer delivers what fits and waits for the peer to read before it
/// delivers the rest, as a full TCP send buffer would.
///
/// Both ends must run on one thread (or one strand), and each end allows at
/// most one read and one write in progress at a time.
class memory_transport {
public:
    /// The maximum number of bytes that can wait unread at one end: 64 KiB.
    static constexpr std::size_t max_unread = 64 * 1024;

    memory_transport(memory_transport&&) noexcept = default;
    memory_transport& operator=(memory_transport&& other) noexcept
    {
        if (this != &other) {
            close();
            link_ = std::move(other.link_);
            side_ = other.side_;
            executor_ = std::move(other.executor_);
            remote_address_ = other.remote_address_;
            closed_ = other.closed_;
        }
        return *this;
    }

    ~memory_transport() { close(); }

    /// Reads at least one byte, waiting until the peer writes. Sets `ec` to
    /// asio::error::eof once the peer has closed and every byte it wrote
    /// has been read. After close() it sets asio::error::bad_descriptor, or
    /// asio::error::operation_aborted for a read that was waiting.
    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer,
                                           std::error_code& ec)
    {
        ec.clear();
        if (!link_ || closed_) {
            ec = asio::error::bad_descriptor;
            co_return 0;
        }
        for (;;) {
            detail::memory_channel& in = incoming();
            if (!in.unread.empty())
                co_return take_unread(in, buffer);
            if (in.writer_closed) {
                ec = asio::error::eof;
                co_return 0;
            }
            co_await detail::wait_for_signal(in.readable);
            if (closed_) {
                ec = asio::error::operation_aborted;
                co_return 0;
            }
        }
    }

    /// Delivers all of `buffer` to the peer, waiting while the peer has
    /// max_unread bytes unread. Sets `ec` to asio::error::broken_pipe when
    /// the peer has closed, possibly after part of the buffer was
    /// delivered. After close() it sets asio::error::bad_descriptor, or
    /// asio::error::operation_aborted for a write that was waiting.
    asio::awaitable<void> write(asio::const_buffer buffer,
                                std::error_code& ec)
    {
        ec.clear();
        if (!link_ || closed_) {
            ec = asio::error::bad_descriptor;
            co_return;
        }
        const char* data = static_cast<const char*>(buffer.data());
        std::size_t remaining = buffer.size();
        while (remaining > 0) {
            detail::memory_channel& out = outgoing();
            if (out.reader_closed) {
                ec = asio::error::broken_pipe;
                co_return;
            }
            const std::size_t room = max_unread - out.unread.size();
            if (room == 0) {
                co_await detail::wait_for_signal(out.writable);
                if (closed_) {
                    ec = asio::error::operation_aborted;
                    co_return;
                }
                continue;
            }
            const std::size_t n = std::min(room, remaining);
            out.unread.insert(out.unread.end(), data, data + n);
            data += n;
            remaining -= n;
            out.readable.cancel();
        }
    }

    /// Always fails with postern::error::tls_unavailable.
    asio::awaitable<void> start_tls(std::error_code& ec)
    {
        ec = error::tls_unavailable;
        co_return;
    }

    /// Closes this end. The peer reads what was already written and then
    /// gets eof, and its writes fail. Operations of this end that are
    /// waiting end with asio::error::operation_aborted. Safe to call
    /// repeatedly.
    void close() noexcept
    {
        if (!link_ || closed_)
            return;
        closed_ = true;

        detail::memory_channel& in = incoming();
        in.reader_closed = true;
        in.unread.clear();
        in.readable.cancel();
        in.writable.cancel();

        detail::memory_channel& out = outgoing();
        out.writer_closed = true;
        out.readable.cancel();
        out.writable.cancel();
    }

    bool can_start_tls() const { return false; }
    bool encrypted() const { return false; }
    std::optional<tls_details> tls() const { return std::nullopt; }

    /// The address given to make_memory_pair(); both ends report it.
    asio::ip::address remote_address() const { return remote_address_; }

    asio::any_io_executor get_executor() { return executor_; }

private:
    friend std::pair<memory_transport, memory_transport> make_memory_pair(
        asio::any_io_executor executor, asio::ip::address remote);

    memory_transport(std::shared_ptr<detail::memory_link> link, int side,
                     asio::any_io_executor executor,
                     asio::ip::address remote)
        : link_(std::move(link)),
          side_(side),
          executor_(std::move(executor)),
          remote_address_(remote)
    {
    }

    detail::memory_channel& incoming() { return link_->channels[side_]; }
    detail::memory_channel& outgoing() { return link_->channels[1 - side_]; }

    std::size_t take_unread(detail::memory_channel& in,
                            asio::mutable_buffer buffer)
    {
        const std::size_t n = std::min(buffer.size(), in.unread.size());
        const auto end = in.unread.begin() + static_cast<std::ptrdiff_t>(n);
        std::copy(in.unread.begin(), end, static_cast<char*>(buffer.data()));
        in.unread.erase(in.unread.begin(), end);
        in.writable.cancel();
        return n;
    }

    std::shared_ptr<detail::memory_link> link_;
    int side_ = 0;
    asio::any_io_executor executor_;
    asio::ip::address remote_address_;
    bool closed_ = false;
};

static_assert(transport<memory_transport>);

/// Creates two connected ends. What one end writes, the other reads.
/// `remote` is the client address that both ends report, 127.0.0.1 unless
/// given.
inline std::pair<memory_transport, memory_transport> make_memory_pair(
    asio::any_io_executor executor,
    asio::ip::address remote = asio::ip::address_v4::loopback())
{
    auto link = std::make_shared<detail::memory_link>(executor);
    return {memory_transport(link, 0, executor, remote),
            memory_transport(link, 1, executor, remote)};
}

} // namespace postern::transport
