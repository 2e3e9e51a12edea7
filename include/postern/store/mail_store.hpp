// The MailStore concept: where a session puts accepted mail.
#pragma once

#include <concepts>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace postern::store {

/// The SMTP envelope (RFC 5321, section 2.3.1). Paths are written without
/// angle brackets; an empty reverse path is the null path <>.
struct envelope {
    std::string reverse_path;
    std::vector<std::string> recipients;
};

/// Every copy of one accepted message: one per local account, and one in
/// the relay queue when `relay` names recipients. Pieces are views that
/// must stay valid during the call.
struct delivery {
    /// Local accounts (canonical names), each receiving `local_message`.
    std::span<const std::string> local_users;
    /// The message as stored locally: trace headers, then the data.
    std::span<const std::string_view> local_message;
    /// Recipients for the relay queue; nullptr or empty for none.
    const envelope* relay = nullptr;
    /// The message as queued for relay.
    std::span<const std::string_view> relay_message;
};

/// A mail store. Messages are scattered pieces with LF line endings, as
/// they should lie on disk. Each call returns only once what it stored is
/// durable (file and folder fsynced); calls block, so session drivers make
/// them on the worker pool.
///
/// - store_message stores every copy of a delivery or, on error, none.
/// - deliver stores a copy in a local account's mailbox.
/// - enqueue stores one copy with its envelope in the relay queue.
template <typename S>
concept mail_store = requires(S& store, std::string_view user,
                              const envelope& env, const delivery& copies,
                              std::span<const std::string_view> message) {
    { store.store_message(copies) } -> std::same_as<std::error_code>;
    { store.deliver(user, message) } -> std::same_as<std::error_code>;
    { store.enqueue(env, message) } -> std::same_as<std::error_code>;
};

} // namespace postern::store
