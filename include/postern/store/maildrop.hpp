// The POP3 maildrop over a Maildir (RFC 1939): an exclusive lock, a listing
// numbered at open, deletion in the UPDATE state, and the message stream as
// sent on the wire. Every call blocks, so drivers run it on a worker pool.
#pragma once

#include <postern/core/error.hpp>
#include <postern/directory/user_name.hpp>
#include <postern/store/detail/durable_file.hpp>
#include <postern/store/detail/maildir_name.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

namespace postern::store {

/// One message of a maildrop, as LIST and UIDL report it.
struct maildrop_message {
    /// The UIDL value: the Maildir name up to the first ',' or ':', or the
    /// hex MD5 of that when it is not 1 to 70 octets in 0x21 to 0x7E.
    std::string unique_id;
    /// Octets on the wire with CRLF line endings and without the
    /// byte-stuffing dots, as RETR's "+OK n octets" and LIST report it.
    std::uint64_t size = 0;
    /// The file in cur/.
    std::filesystem::path path;
    /// Marked by DELE, unmarked by RSET.
    bool deleted = false;
};

namespace detail {

/// A file descriptor that is closed on destruction.
class unique_descriptor {
public:
    unique_descriptor() = default;
    explicit unique_descriptor(int descriptor) noexcept
        : descriptor_(descriptor)
    {
    }
    unique_descriptor(unique_descriptor&& other) noexcept
        : descriptor_(std::exchange(other.descriptor_, -1))
    {
    }
    unique_descriptor& operator=(unique_descriptor&& other) noexcept
    {
        if (this != &other)
            reset(std::exchange(other.descriptor_, -1));
        return *this;
    }
    ~unique_descriptor() { reset(); }

    int get() const noexcept { return descriptor_; }
    explicit operator bool() const noexcept { return descriptor_ >= 0; }

    void reset(int descriptor = -1) noexcept
    {
        if (descriptor_ >= 0)
            ::close(descriptor_);
        descriptor_ = descriptor;
    }

private:
    int descriptor_ = -1;
};

/// Octets read from a message file per system call.
inline constexpr std::size_t message_block_size = 64 * 1024;

/// The name of the lock file in the account's Maildir folder.
inline constexpr const char* maildrop_lock_name = "postern-pop3.lock";

/// Takes the maildrop lock of the Maildir at `box` into `lock`.
///
/// RFC 1939, section 4, has the server take an exclusive lock on the
/// maildrop so that no other session changes it before UPDATE. The lock is
/// a flock() on a file of its own because:
/// - flock() locks belong to the open file description, so two sessions in
///   one process, each with its own descriptor, exclude each other. POSIX
///   fcntl() locks belong to the process, so a second session of this
///   server would share the lock, and closing any descriptor of the file
///   would drop it.
/// - The kernel drops the lock when the descriptor closes, even when the
///   process dies, so a crash leaves no stale lock, unlike a dot-lock file.
/// - The file sits beside tmp/, new/ and cur/. Maildir keeps messages
///   only in those folders, so no reader takes the file for a message.
/// NOTE: since Linux 2.6.12, NFS emulates flock() with fcntl() locks
/// (flock(2)), so there two sessions in one process may not conflict.
inline std::error_code lock_maildrop(const std::filesystem::path& box,
                                     unique_descriptor& lock)
{
    auto file = box / maildrop_lock_name;
    unique_descriptor descriptor(
        ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!descriptor)
        return last_system_error();

    while (::flock(descriptor.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            return error::maildrop_in_use;
        if (errno != EINTR)
            return last_system_error();
    }
    lock = std::move(descriptor);
    return {};
}

struct directory_closer {
    void operator()(DIR* directory) const noexcept { ::closedir(directory); }
};

using directory_stream = std::unique_ptr<DIR, directory_closer>;

/// A folder entry whose name may be a Maildir message.
struct folder_entry {
    std::string name;
    unsigned char type = DT_UNKNOWN;
};

/// Lists the entries of `folder` whose names parse as Maildir names, so
/// dot files and other leftovers are skipped. `stream` stays open for
/// the *at() calls on its descriptor.
inline std::error_code list_message_entries(
    const std::filesystem::path& folder, directory_stream& stream,
    std::vector<folder_entry>& entries)
{
    stream.reset(::opendir(folder.c_str()));
    if (!stream)
        return last_system_error();

    while (true) {
        errno = 0;
        const dirent* entry = ::readdir(stream.get());
        if (entry == nullptr)
            break;
        if (parse_maildir_name(entry->d_name))
            entries.push_back({entry->d_name, entry->d_type});
    }
    if (errno != 0)
        return last_system_error();
    return {};
}

/// Sets `regular` when the entry is a regular file (not a folder or a
/// symbolic link). A file that vanished is not regular. Most file systems
/// report the type in readdir(), so fstatat() runs only where they do not.
inline std::error_code check_regular_file(int folder,
                                          const folder_entry& entry,
                                          bool& regular)
{
    regular = entry.type == DT_REG;
    if (entry.type != DT_UNKNOWN)
        return {};

    struct stat status {};
    if (::fstatat(folder, entry.name.c_str(), &status,
                  AT_SYMLINK_NOFOLLOW) == 0) {
        regular = S_ISREG(status.st_mode);
        return {};
    }
    return errno == ENOENT ? std::error_code{} : last_system_error();
}

/// Moves every message of new/ into cur/ with the info ":2," appended,
/// which the Maildir specification requires of a reader that has seen
/// them. A file that vanishes meanwhile (another reader moved it) is
/// skipped.
inline std::error_code move_new_to_cur(const std::filesystem::path& box)
{
    directory_stream new_folder;
    std::vector<folder_entry> entries;
    if (auto failure = list_message_entries(box / "new", new_folder, entries))
        return failure;
    if (entries.empty())
        return {};

    auto cur = box / "cur";
    unique_descriptor cur_folder(
        ::open(cur.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cur_folder)
        return last_system_error();

    int from = ::dirfd(new_folder.get());
    for (const auto& entry : entries) {
        bool regular = false;
        if (auto failure = check_regular_file(from, entry, regular))
            return failure;
        if (!regular)
            continue;
        auto target = cur_name(entry.name);
        if (::renameat(from, entry.name.c_str(), cur_folder.get(),
                       target.c_str()) != 0 &&
            errno != ENOENT)
            return last_system_error();
    }
    return {};
}

/// Measures a file without a ,W= field: its size plus one octet per LF
/// (sent as CRLF), plus 2 when the last line lacks its LF (a CRLF is
/// added on the wire). Sets `vanished` instead when the file is gone.
inline std::error_code count_wire_size(int folder, const std::string& name,
                                       std::vector<char>& block,
                                       std::uint64_t& size, bool& vanished)
{
    unique_descriptor file(::openat(folder, name.c_str(),
                                    O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!file) {
        vanished = errno == ENOENT;
        return vanished ? std::error_code{} : last_system_error();
    }

    size = 0;
    char last = '\n';
    while (true) {
        ssize_t got = ::read(file.get(), block.data(), block.size());
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return last_system_error();
        if (got == 0)
            break;
        auto octets = static_cast<std::size_t>(got);
        size += octets + static_cast<std::uint64_t>(
                             std::count(block.data(), block.data() + octets,
                                        '\n'));
        last = block[octets - 1];
    }
    if (last != '\n')
        size += 2;
    return {};
}

/// A message found in cur/ with the key that orders the listing.
struct scanned_message {
    std::uint64_t seconds = 0;
    std::uint64_t microseconds = 0;
    std::string base;
    maildrop_message message;
};

inline bool delivered_before(const scanned_message& a,
                             const scanned_message& b)
{
    return std::tie(a.seconds, a.microseconds, a.base) <
           std::tie(b.seconds, b.microseconds, b.base);
}

/// Adds the message named by `entry` to `found` unless it is not a
/// regular file or vanished.
inline std::error_code scan_message(const std::filesystem::path& cur,
                                    int folder, const folder_entry& entry,
                                    std::vector<char>& block,
                                    std::vector<scanned_message>& found)
{
    bool regular = false;
    if (auto failure = check_regular_file(folder, entry, regular))
        return failure;
    if (!regular)
        return {};

    // W= is taken as it is; maildir_store::deliver counts in it the CRLF
    // that the wire adds after a last line without LF.
    auto name = parse_maildir_name(entry.name);
    std::uint64_t size = name->wire_size.value_or(0);
    if (!name->wire_size) {
        // TODO: a file measured here is read again at each open. Adding
        // W= to its name (as Dovecot does) would save the reads.
        if (block.empty())
            block.resize(message_block_size);
        bool vanished = false;
        if (auto failure =
                count_wire_size(folder, entry.name, block, size, vanished))
            return failure;
        if (vanished)
            return {};
    }

    found.push_back({name->seconds, name->microseconds,
                     std::string(name->base),
                     {unique_id(name->unique), size, cur / entry.name}});
    return {};
}

/// Lists the messages of cur/ ordered by delivery time, then by name, so
/// the numbering of a maildrop is the same at every open.
// NOTE: two files with the same unique part (which no Maildir writer
// makes) would share one UIDL value.
inline std::error_code scan_cur(const std::filesystem::path& cur,
                                std::vector<maildrop_message>& messages)
{
    directory_stream folder;
    std::vector<folder_entry> entries;
    if (auto failure = list_message_entries(cur, folder, entries))
        return failure;

    std::vector<char> block;
    std::vector<scanned_message> found;
    found.reserve(entries.size());
    for (const auto& entry : entries) {
        if (auto failure = scan_message(cur, ::dirfd(folder.get()), entry,
                                        block, found))
            return failure;
    }

    std::sort(found.begin(), found.end(), delivered_before);
    messages.clear();
    messages.reserve(found.size());
    for (auto& scanned : found)
        messages.push_back(std::move(scanned.message));
    return {};
}

} // namespace detail

/// A POP3 maildrop over one account's Maildir, locked from open() until
/// commit(), release() or destruction. Messages delivered after open()
/// appear at the next open(). Movable, not copyable.
class maildir_maildrop {
public:
    maildir_maildrop() = default;

    /// Locks and lists the Maildir mail_root/USER. It first moves every
    /// message of new/ into cur/ with the info ":2,", then numbers the
    /// messages by delivery time. A missing Maildir is created (USER/tmp,
    /// new and cur, mode 0700) and is an empty maildrop. `out` changes
    /// only on success.
    /// @returns error::invalid_user_name unless `user` is a canonical
    /// account name. Returns error::maildrop_in_use while another maildrop
    /// of the same account is open, in this process or another. Otherwise
    /// returns the system error of a failed file operation, or success.
    static std::error_code open(const std::filesystem::path& mail_root,
                                std::string_view user, maildir_maildrop& out)
    {
        // The name becomes a path component, so it must not lead outside
        // mail_root.
        auto canonical = directory::canonical_user_name(user);
        if (!canonical || *canonical != user)
            return error::invalid_user_name;

        auto box = mail_root / std::filesystem::path(user);
        for (const char* folder : {"tmp", "new", "cur"}) {
            if (auto failure = detail::make_private_directory(box / folder))
                return failure;
        }

        maildir_maildrop drop;
        if (auto failure = detail::lock_maildrop(box, drop.lock_))
            return failure;
        if (auto failure = detail::move_new_to_cur(box))
            return failure;
        drop.cur_ = box / "cur";
        if (auto failure = detail::scan_cur(drop.cur_, drop.messages_))
            return failure;
        drop.seen_.assign(drop.messages_.size(), false);

        out = std::move(drop);
        return {};
    }

    /// The messages numbered at open(): message n is messages()[n - 1].
    /// Deleted messages keep their place. Empty once closed.
    const std::vector<maildrop_message>& messages() const noexcept
    {
        return messages_;
    }

    /// The number of messages not marked deleted, as STAT reports it.
    std::size_t count() const noexcept
    {
        return static_cast<std::size_t>(
            std::count_if(messages_.begin(), messages_.end(),
                          [](const auto& m) { return !m.deleted; }));
    }

    /// The wire size of the messages not marked deleted, in octets.
    std::uint64_t total_size() const noexcept
    {
        std::uint64_t total = 0;
        for (const auto& message : messages_) {
            if (!message.deleted)
                total += message.size;
        }
        return total;
    }

    /// Marks messages()[index] for deletion at commit() (DELE). Returns
    /// false if `index` is out of range or the message is already marked.
    bool mark_deleted(std::size_t index)
    {
        if (index >= messages_.size() || messages_[index].deleted)
            return false;
        messages_[index].deleted = true;
        return true;
    }

    /// Unmarks every message marked for deletion (RSET).
    void reset() noexcept
    {
        for (auto& message : messages_)
            message.deleted = false;
    }

    /// Records that messages()[index] was retrieved, so commit() adds the
    /// Maildir flag S (seen) to its name. An index out of range is
    /// ignored.
    void mark_seen(std::size_t index)
    {
        if (index < seen_.size())
            seen_[index] = true;
    }

    /// Applies the session in the UPDATE state (RFC 1939, section 6):
    /// unlinks the messages marked deleted, adds the S flag to the ones
    /// marked seen, fsyncs cur/, then releases the lock. A file that
    /// someone else removed meanwhile counts as done. A failure does not
    /// stop the other changes.
    /// @returns the first system error, or success. Nothing happens when
    /// the maildrop is not open.
    std::error_code commit()
    {
        if (!lock_)
            return {};

        std::error_code first_failure;
        bool changed = false;
        for (std::size_t i = 0; i < messages_.size(); ++i) {
            auto failure = apply_changes(i, changed);
            if (failure && !first_failure)
                first_failure = failure;
        }

        if (changed) {
            auto failure = detail::fsync_directory(cur_);
            if (failure && !first_failure)
                first_failure = failure;
        }
        release();
        return first_failure;
    }

    /// Releases the lock without changing any file, as when the connection
    /// is lost before QUIT: no message is deleted.
    void release() noexcept
    {
        lock_.reset();
        messages_.clear();
        seen_.clear();
        cur_.clear();
    }

private:
    /// Unlinks or renames one message as marked. Sets `changed` when cur/
    /// changed.
    std::error_code apply_changes(std::size_t index, bool& changed)
    {
        const auto& message = messages_[index];
        if (message.deleted) {
            if (::unlink(message.path.c_str()) == 0)
                changed = true;
            else if (errno != ENOENT)
                return detail::last_system_error();
            return {};
        }

        if (!seen_[index])
            return {};
        auto name = message.path.filename().string();
        auto renamed = detail::seen_name(name);
        if (!renamed)
            return {};
        auto target = cur_ / *renamed;
        if (::rename(message.path.c_str(), target.c_str()) == 0)
            changed = true;
        else if (errno != ENOENT)
            return detail::last_system_error();
        return {};
    }

    detail::unique_descriptor lock_;
    std::filesystem::path cur_;
    std::vector<maildrop_message> messages_;
    std::vector<bool> seen_;
};

/// Streams one message as POP3 sends it (RFC 1939, section 3): every LF
/// becomes CRLF, a '.' that starts a line is doubled, and a last line
/// without LF gets a CRLF. It does not append the ".\r\n" terminator.
/// Memory stays bounded: the file is read in blocks of at most 64 KiB,
/// and only the position and the line state persist between calls.
/// NOTE: a file holding CRLF line endings is sent with CRCRLF, because
/// Maildir files written by Postern, Postfix and Dovecot hold LF only.
class wire_reader {
public:
    /// Opens `file` for RETR, or for TOP when `body_lines` is set: then
    /// the stream ends after the header, the blank line that ends it, and
    /// at most that many body lines. A message without a blank line is
    /// all header.
    /// @returns the system error of a failed open().
    std::error_code open(const std::filesystem::path& file,
                         std::optional<std::size_t> body_lines = std::nullopt)
    {
        *this = wire_reader();
        file_.reset(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
        if (!file_)
            return detail::last_system_error();
        body_lines_left_ = body_lines;
        return {};
    }

    /// Appends the next part of the stream to `out`: at most max_octets
    /// octets, or 2 when max_octets is smaller. Sets `finished` once the
    /// message (or the TOP part) is complete. The last call may append
    /// nothing.
    /// @returns the system error of a failed read, or
    /// std::errc::bad_file_descriptor when no file is open.
    std::error_code read(std::string& out, std::size_t max_octets,
                         bool& finished)
    {
        finished = finished_;
        if (finished_)
            return {};
        if (!file_)
            return std::make_error_code(std::errc::bad_file_descriptor);
        if (block_.empty())
            block_.resize(detail::message_block_size);

        // Each octet read yields at least one octet of output, so reading
        // no more than the room left wastes no more than half a block.
        std::size_t room = std::max<std::size_t>(max_octets, 2);
        while (!finished_ && room >= 2) {
            std::size_t got = 0;
            auto want = std::min(block_.size(), room);
            if (auto failure = read_block(want, got))
                return failure;
            if (got == 0) {
                finish_at_end_of_file(out);
                break;
            }
            auto consumed = convert(block_.data(), got, out, room);
            offset_ += consumed;
            if (consumed == 0)
                break;
        }
        finished = finished_;
        return {};
    }

private:
    std::error_code read_block(std::size_t want, std::size_t& got)
    {
        while (true) {
            ssize_t result = ::pread(file_.get(), block_.data(), want,
                                     static_cast<off_t>(offset_));
            if (result >= 0) {
                got = static_cast<std::size_t>(result);
                return {};
            }
            if (errno != EINTR)
                return detail::last_system_error();
        }
    }

    /// Converts octets of `data` into `out` while `room` allows and the
    /// stream is not finished. Returns the number of octets consumed.
    std::size_t convert(const char* data, std::size_t size, std::string& out,
                        std::size_t& room)
    {
        std::size_t position = 0;
        while (position < size && !finished_) {
            char c = data[position];
            if (c == '\n' || (c == '.' && line_start_)) {
                if (room < 2)
                    break;
                out += c == '\n' ? "\r\n" : "..";
                room -= 2;
                ++position;
                if (c == '\n')
                    end_line();
                else
                    line_start_ = false;
                continue;
            }
            position += copy_run(data + position, size - position, out, room);
            if (room == 0)
                break;
        }
        return position;
    }

    /// Copies octets up to the next LF, as many as `room` allows.
    std::size_t copy_run(const char* data, std::size_t size, std::string& out,
                         std::size_t& room)
    {
        auto limit = std::min(size, room);
        const void* line_feed = std::memchr(data, '\n', limit);
        auto length = line_feed == nullptr
                          ? limit
                          : static_cast<std::size_t>(
                                static_cast<const char*>(line_feed) - data);
        out.append(data, length);
        room -= length;
        if (length > 0)
            line_start_ = false;
        return length;
    }

    /// Counts the line that just ended toward the TOP limit.
    void end_line()
    {
        bool blank = line_start_;
        line_start_ = true;
        if (!body_lines_left_)
            return;
        if (in_header_) {
            if (!blank)
                return;
            in_header_ = false;
        } else {
            --*body_lines_left_;
        }
        if (*body_lines_left_ == 0)
            finish();
    }

    void finish_at_end_of_file(std::string& out)
    {
        if (!line_start_)
            out += "\r\n";
        finish();
    }

    void finish()
    {
        finished_ = true;
        file_.reset();
        block_ = {};
    }

    detail::unique_descriptor file_;
    std::vector<char> block_;
    std::uint64_t offset_ = 0;
    bool line_start_ = true;
    bool in_header_ = true;
    std::optional<std::size_t> body_lines_left_;
    bool finished_ = false;
};

} // namespace postern::store
