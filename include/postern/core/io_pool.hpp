// A pool of io_contexts, one per thread, that sessions are spread over.
#pragma once

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <atomic>
#include <cassert>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

namespace postern {

/// One io_context per thread, so a session's coroutine, timers and socket
/// all run on one thread and need no strand. Sessions are assigned round
/// robin with next().
class io_pool {
public:
    explicit io_pool(std::size_t size)
    {
        assert(size > 0);
        for (std::size_t i = 0; i < size; ++i) {
            contexts_.push_back(std::make_unique<asio::io_context>(1));
            guards_.emplace_back(contexts_.back()->get_executor());
        }
    }

    io_pool(const io_pool&) = delete;
    io_pool& operator=(const io_pool&) = delete;

    ~io_pool() { join(); }

    /// The io_context for the next session.
    asio::io_context& next() noexcept
    {
        auto index = next_.fetch_add(1, std::memory_order_relaxed);
        return *contexts_[index % contexts_.size()];
    }

    /// The first io_context, where listeners and signal handlers live.
    asio::io_context& main() noexcept { return *contexts_.front(); }

    /// Runs every io_context but the first on its own thread, and the
    /// first on the calling thread until it runs out of work.
    void run()
    {
        for (std::size_t i = 1; i < contexts_.size(); ++i)
            threads_.emplace_back([context = contexts_[i].get()] {
                context->run();
            });
        contexts_.front()->run();
        join();
    }

    /// Lets each io_context return once its work is done.
    void release() noexcept
    {
        for (auto& guard : guards_)
            guard.reset();
    }

    /// Stops every io_context now, abandoning outstanding work.
    void stop() noexcept
    {
        for (auto& context : contexts_)
            context->stop();
    }

    std::size_t size() const noexcept { return contexts_.size(); }

private:
    void join()
    {
        for (auto& thread : threads_)
            if (thread.joinable())
                thread.join();
        threads_.clear();
    }

    using guard_type =
        asio::executor_work_guard<asio::io_context::executor_type>;

    std::vector<std::unique_ptr<asio::io_context>> contexts_;
    std::vector<guard_type> guards_;
    std::vector<std::thread> threads_;
    std::atomic<std::size_t> next_{0};
};

} // namespace postern
