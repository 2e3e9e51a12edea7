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

/// A mail store. `message` is the whole message as scattered pieces (the
/// added trace headers, then the client's data) with LF line endings, as
/// it should lie on disk. deliver and enqueue return only once the message
/// is durable (file and folder fsynced); they block, so session drivers
/// call them on the worker pool.
///
/// - deliver stores a copy in a local account's mailbox.
/// - enqueue stores one copy with its envelope in the relay queue.
template <typename S>
concept mail_store = requires(S& store, std::string_view user,
                              const envelope& env,
                              std::span<const std::string_view> message) {
    { store.deliver(user, message) } -> std::same_as<std::error_code>;
    { store.enqueue(env, message) } -> std::same_as<std::error_code>;
};

} // namespace postern::store
