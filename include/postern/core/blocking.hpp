// Runs blocking work (crypt hashing, SQLite, fsync, PAM) off the I/O
// threads.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace postern {

/// Runs `work` on a thread of `workers` and resumes the calling coroutine
/// on its own executor with the result. An exception from `work` is
/// rethrown in the caller.
template <typename Work>
asio::awaitable<std::invoke_result_t<Work&>>
run_blocking(asio::thread_pool& workers, Work work)
{
    using result_type = std::invoke_result_t<Work&>;
    co_return co_await asio::co_spawn(
        workers,
        [work = std::move(work)]() mutable -> asio::awaitable<result_type> {
            co_return work();
        },
        asio::use_awaitable);
}

/// Runs `work` as run_blocking does, but turns a std::exception thrown by
/// it into nullopt after passing it to `on_error` (on the calling
/// coroutine's executor). Callers use it where a failure becomes a
/// temporary error reply instead of the end of the session.
template <typename Work, typename OnError>
asio::awaitable<std::optional<std::invoke_result_t<Work&>>>
try_blocking(asio::thread_pool& workers, Work work, OnError on_error)
{
    try {
        co_return co_await run_blocking(workers, std::move(work));
    } catch (const std::exception& e) {
        on_error(e);
    }
    co_return std::nullopt;
}

} // namespace postern
