// The standard mail store: local delivery into Maildir (qmail's maildir(5)
// layout with Dovecot's file names) and relay through the queue.
#pragma once

#include <postern/core/error.hpp>
#include <postern/directory/user_name.hpp>
#include <postern/store/detail/durable_file.hpp>
#include <postern/store/mail_store.hpp>
#include <postern/store/queue.hpp>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace postern::store {

namespace detail {

/// The sizes Dovecot records in a Maildir file name: S= is the size on
/// disk, W= the size on the wire, where each LF is sent as CRLF.
struct message_size {
    std::size_t disk = 0;
    std::size_t wire = 0;
};

/// POP3 ends a last line that lacks LF with CRLF on the wire, so W= counts
/// those two octets too and matches what RETR sends.
inline message_size measure(std::span<const std::string_view> message)
{
    message_size size;
    char last = '\n';
    for (auto piece : message) {
        auto line_feeds = std::count(piece.begin(), piece.end(), '\n');
        size.disk += piece.size();
        size.wire += piece.size() + static_cast<std::size_t>(line_feeds);
        if (!piece.empty())
            last = piece.back();
    }
    if (last != '\n')
        size.wire += 2;
    return size;
}

} // namespace detail

/// Stores local mail in one Maildir per account, mail_root/USER/, and
/// relayed mail in the queue at queue_root. Every call is thread-safe.
class maildir_store {
public:
    /// @param host_name the server identity, written into file names.
    maildir_store(std::filesystem::path mail_root,
                  std::filesystem::path queue_root, std::string host_name)
        : mail_root_(std::move(mail_root)),
          queue_root_(std::move(queue_root)),
          host_name_(std::move(host_name))
    {
    }

    /// Delivers a message into new/ of the account's Maildir, creating
    /// USER/tmp, new and cur with mode 0700 where missing. The file has
    /// mode 0600 and the name SECONDS.M<usec>P<pid>Q<n>.HOST,S=<size>,
    /// W=<wire size>. Returns once file and folder are fsynced.
    /// @returns error::invalid_user_name unless `user` is a canonical
    /// account name, or the system error of a failed file operation, in
    /// which case no file remains.
    std::error_code deliver(std::string_view user,
                            std::span<const std::string_view> message)
    {
        detail::durable_batch batch;
        if (auto failure = stage_local(batch, user, message))
            return failure;
        return batch.publish();
    }

    /// Stores every local copy and the relay queue file of one message,
    /// all or nothing: on error no copy stays behind, so a client that
    /// retries does not deliver twice to the accounts that had worked.
    std::error_code store_message(const delivery& copies)
    {
        detail::durable_batch batch;
        for (const auto& user : copies.local_users)
            if (auto failure = stage_local(batch, user, copies.local_message))
                return failure;

        if (copies.relay && !copies.relay->recipients.empty())
            if (auto failure = detail::stage_queue_file(
                    batch, queue_root_, host_name_, *copies.relay,
                    copies.relay_message))
                return failure;
        return batch.publish();
    }

    /// Queues a message for relay (see write_queue_file).
    std::error_code enqueue(const envelope& env,
                            std::span<const std::string_view> message)
    {
        return write_queue_file(queue_root_, host_name_, env, message);
    }

    /// Returns the Maildir folder of an account: mail_root/USER.
    std::filesystem::path mailbox(std::string_view user) const
    {
        return mail_root_ / std::filesystem::path(user);
    }

private:
    std::error_code stage_local(detail::durable_batch& batch,
                                std::string_view user,
                                std::span<const std::string_view> message)
    {
        // The name becomes a path component, so a caller that skipped the
        // directory must not be able to write outside mail_root.
        auto canonical = directory::canonical_user_name(user);
        if (!canonical || *canonical != user)
            return error::invalid_user_name;

        auto box = mailbox(user);
        for (const char* folder : {"tmp", "new", "cur"}) {
            if (auto failure = detail::make_private_directory(box / folder))
                return failure;
        }

        auto size = detail::measure(message);
        auto name = detail::unique_file_name(host_name_) +
                    ",S=" + std::to_string(size.disk) +
                    ",W=" + std::to_string(size.wire);
        return batch.stage(box, name, message);
    }

    std::filesystem::path mail_root_;
    std::filesystem::path queue_root_;
    std::string host_name_;
};

static_assert(mail_store<maildir_store>);

} // namespace postern::store
