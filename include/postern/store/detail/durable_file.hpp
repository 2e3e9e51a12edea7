// Crash-safe file creation shared by Maildir delivery and the relay queue:
// write into tmp/, fsync, rename into new/, fsync new/.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace postern::store::detail {

inline std::error_code last_system_error() noexcept
{
    return {errno, std::generic_category()};
}

/// Numbers the files this process creates, so that two files made in the
/// same microsecond still get different names.
inline std::atomic<std::uint64_t> file_counter{0};

/// Writes a host name as a Maildir name part: '/' becomes "\057" and ':'
/// becomes "\072", so the name stays one path component and the ":2,"
/// flag suffix stays unambiguous (qmail's maildir(5)).
inline std::string escape_host_name(std::string_view host)
{
    std::string escaped;
    escaped.reserve(host.size());
    for (char c : host) {
        if (c == '/')
            escaped += "\\057";
        else if (c == ':')
            escaped += "\\072";
        else
            escaped += c;
    }
    return escaped;
}

/// Returns a name unique to this host: SECONDS.M<microseconds>P<pid>
/// Q<counter>.HOST, the form Dovecot gives new Maildir files.
inline std::string unique_file_name(std::string_view host)
{
    using namespace std::chrono;
    auto now = system_clock::now().time_since_epoch();
    auto seconds = duration_cast<std::chrono::seconds>(now);
    auto micros = duration_cast<microseconds>(now - seconds);
    auto count = file_counter.fetch_add(1, std::memory_order_relaxed);

    return std::to_string(seconds.count()) + ".M" +
           std::to_string(micros.count()) + "P" +
           std::to_string(::getpid()) + "Q" + std::to_string(count) + "." +
           escape_host_name(host);
}

/// Flushes a folder's entries (new names, renames) to disk.
inline std::error_code fsync_directory(const std::filesystem::path& folder)
{
    int descriptor =
        ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (descriptor < 0)
        return last_system_error();
    std::error_code failure;
    if (::fsync(descriptor) != 0)
        failure = last_system_error();
    ::close(descriptor);
    return failure;
}
/// Group commit of folder fsyncs: concurrent deliveries into one folder
/// share a single fsync instead of one each, which is what limits the rate
/// of durable deliveries on most disks. A caller returns only after an
/// fsync that started after its own rename, so each file it renamed is
/// durable. The caller that finds no fsync running runs one for everyone
/// waiting, and the others wait for it on a condition variable. Callers
/// block, so they run on worker threads, never on an I/O thread.
class folder_syncer {
public:
    std::error_code sync(const std::filesystem::path& folder)
    {
        std::unique_lock lock(mutex_);
        auto& state = folders_[folder.string()];
        std::uint64_t ticket = ++state.requested;
        ++state.waiting;

        std::error_code result;
        while (state.completed < ticket) {
            if (state.running) {
                changed_.wait(lock);
                continue;
            }
            state.running = true;
            std::uint64_t covered = state.requested;
            lock.unlock();
            auto failure = fsync_directory(folder);
            lock.lock();
            state.running = false;
            state.completed = covered;
            state.failure = failure;
            ++fsyncs_;
            changed_.notify_all();
        }
        result = state.failure;
        if (--state.waiting == 0 && !state.running)
            folders_.erase(folder.string());
        return result;
    }

    /// fsync calls made so far, for tests and measurements.
    std::uint64_t fsyncs() const
    {
        std::lock_guard lock(mutex_);
        return fsyncs_;
    }

private:
    struct folder_state {
        std::uint64_t requested = 0; ///< tickets handed out
        std::uint64_t completed = 0; ///< tickets covered by a finished fsync
        bool running = false;
        std::size_t waiting = 0;
        std::error_code failure; ///< of the last finished fsync
    };

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::unordered_map<std::string, folder_state> folders_;
    std::uint64_t fsyncs_ = 0;
};

/// The process's folder_syncer: deliveries of every store share it.
inline folder_syncer& shared_folder_syncer()
{
    static folder_syncer instance;
    return instance;
}


inline std::filesystem::path parent_folder(const std::filesystem::path& path)
{
    auto parent = path.parent_path();
    return parent.empty() ? std::filesystem::path(".") : parent;
}

/// Creates `folder` and any missing parents with mode 0700, fsyncing the
/// parent of each folder it creates so the new entry survives a crash.
/// An existing folder is left as it is.
inline std::error_code make_private_directory(
    const std::filesystem::path& folder)
{
    if (::mkdir(folder.c_str(), 0700) == 0)
        return fsync_directory(parent_folder(folder));
    if (errno == EEXIST)
        return {};
    if (errno != ENOENT || folder.parent_path() == folder ||
        !folder.has_relative_path())
        return last_system_error();

    auto parent_failure = make_private_directory(folder.parent_path());
    if (parent_failure)
        return parent_failure;
    if (::mkdir(folder.c_str(), 0700) == 0)
        return fsync_directory(parent_folder(folder));
    if (errno == EEXIST)
        return {};
    return last_system_error();
}

/// Writes every piece to `descriptor` in order with writev, continuing
/// after partial writes and EINTR.
inline std::error_code write_all(int descriptor,
                                 std::span<const std::string_view> pieces)
{
    std::vector<iovec> vectors;
    vectors.reserve(pieces.size());
    for (auto piece : pieces) {
        // writev only reads through iov_base. The cast drops const because
        // the POSIX struct has no const variant.
        if (!piece.empty())
            vectors.push_back({const_cast<char*>(piece.data()), piece.size()});
    }

    std::size_t next = 0;
    while (next < vectors.size()) {
        auto count = std::min<std::size_t>(vectors.size() - next, IOV_MAX);
        ssize_t written =
            ::writev(descriptor, &vectors[next], static_cast<int>(count));
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0)
            return last_system_error();
        if (written == 0)
            return std::make_error_code(std::errc::io_error);

        auto remaining = static_cast<std::size_t>(written);
        while (remaining > 0 && remaining >= vectors[next].iov_len) {
            remaining -= vectors[next].iov_len;
            ++next;
        }
        if (remaining > 0) {
            vectors[next].iov_base =
                static_cast<char*>(vectors[next].iov_base) + remaining;
            vectors[next].iov_len -= remaining;
        }
    }
    return {};
}

/// Creates `file` with mode 0600 (never over an existing one), writes the
/// pieces, and fsyncs and closes it.
inline std::error_code write_new_file(const std::filesystem::path& file,
                                      std::span<const std::string_view> pieces)
{
    int descriptor = ::open(file.c_str(),
                            O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (descriptor < 0)
        return last_system_error();

    std::error_code failure = write_all(descriptor, pieces);
    if (!failure && ::fsync(descriptor) != 0)
        failure = last_system_error();
    // NFS may report a failed write only at close.
    if (::close(descriptor) != 0 && !failure)
        failure = last_system_error();
    return failure;
}

/// A set of files that become visible together or not at all: each is
/// written and fsynced under ROOT/tmp/ by stage(), then publish() renames
/// them all into ROOT/new/ and fsyncs each new/ folder once. A crash at
/// any moment leaves in new/ only whole files (a partial file may remain
/// in tmp/, which readers ignore). When any step fails, every file of the
/// batch is removed again, so a client that retries after the error does
/// not get a second copy of the part that had worked.
class durable_batch {
public:
    durable_batch() = default;
    durable_batch(const durable_batch&) = delete;
    durable_batch& operator=(const durable_batch&) = delete;

    ~durable_batch() { discard(); }

    /// Writes ROOT/tmp/NAME with mode 0600 and fsyncs it.
    std::error_code stage(const std::filesystem::path& root,
                          const std::string& name,
                          std::span<const std::string_view> pieces)
    {
        entry e{root / "tmp" / name, root / "new" / name, false};
        if (auto failure = write_new_file(e.temporary, pieces)) {
            ::unlink(e.temporary.c_str());
            discard();
            return failure;
        }
        entries_.push_back(std::move(e));
        return {};
    }

    /// Renames every staged file into new/ and fsyncs the folders.
    std::error_code publish()
    {
        for (auto& e : entries_) {
            if (::rename(e.temporary.c_str(), e.final.c_str()) != 0) {
                auto failure = last_system_error();
                discard();
                return failure;
            }
            e.published = true;
        }

        std::vector<std::filesystem::path> synced;
        for (const auto& e : entries_) {
            auto folder = e.final.parent_path();
            if (std::find(synced.begin(), synced.end(), folder) !=
                synced.end())
                continue;
            if (auto failure = shared_folder_syncer().sync(folder)) {
                discard();
                return failure;
            }
            synced.push_back(folder);
        }
        entries_.clear();
        return {};
    }

private:
    struct entry {
        std::filesystem::path temporary;
        std::filesystem::path final;
        bool published;
    };

    void discard() noexcept
    {
        for (const auto& e : entries_)
            ::unlink(e.published ? e.final.c_str() : e.temporary.c_str());
        entries_.clear();
    }

    std::vector<entry> entries_;
};

/// Stores one file durably under `root`, which contains tmp/ and new/
/// (see durable_batch). On failure no file remains in either folder.
inline std::error_code store_durably(const std::filesystem::path& root,
                                     const std::string& name,
                                     std::span<const std::string_view> pieces)
{
    durable_batch batch;
    if (auto failure = batch.stage(root, name, pieces))
        return failure;
    return batch.publish();
}

} // namespace postern::store::detail
