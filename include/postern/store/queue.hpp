// The relay queue: one durable file per message, holding its SMTP envelope
// (RFC 5321, section 2.3.1) followed by the message.
#pragma once

#include <postern/store/detail/durable_file.hpp>
#include <postern/store/mail_store.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace postern::store {

/// A message read back from the queue.
struct queued_message {
    envelope env;
    std::string message; ///< the message bytes, LF line endings
};

namespace detail {

/// Tells whether a path can be written between angle brackets on one
/// header line. A CR, LF or '>' would let a client-supplied address end
/// the line or the brackets early and forge further envelope lines. NUL
/// is rejected as well because no valid address contains it. RFC 5321
/// permits '>' inside a quoted local part, which the queue does not carry.
inline bool is_safe_path(std::string_view path) noexcept
{
    return path.find_first_of(std::string_view("\r\n>\0", 4)) ==
           std::string_view::npos;
}

inline bool is_safe_envelope(const envelope& env) noexcept
{
    if (env.recipients.empty() || !is_safe_path(env.reverse_path))
        return false;
    for (const auto& recipient : env.recipients) {
        if (recipient.empty() || !is_safe_path(recipient))
            return false;
    }
    return true;
}

/// Writes the envelope header: "MAIL FROM:<path>", one "RCPT TO:<path>"
/// per recipient, then an empty line, each ending in LF.
inline std::string format_envelope(const envelope& env)
{
    std::string header = "MAIL FROM:<" + env.reverse_path + ">\n";
    for (const auto& recipient : env.recipients)
        header += "RCPT TO:<" + recipient + ">\n";
    header += '\n';
    return header;
}

/// Reads the path from "PREFIX<path>", or nullopt if `line` has another
/// form.
inline std::optional<std::string> parse_path_line(std::string_view line,
                                                  std::string_view prefix)
{
    if (!line.starts_with(prefix) || !line.ends_with('>'))
        return std::nullopt;
    auto path = line.substr(prefix.size(), line.size() - prefix.size() - 1);
    if (!is_safe_path(path))
        return std::nullopt;
    return std::string(path);
}

/// Takes the next LF-terminated line from `rest`, without its LF.
inline std::optional<std::string_view> take_line(std::string_view& rest)
{
    auto end = rest.find('\n');
    if (end == std::string_view::npos)
        return std::nullopt;
    auto line = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    return line;
}

inline std::optional<queued_message> parse_queue_file(std::string_view rest)
{
    queued_message parsed;
    auto first = take_line(rest);
    auto sender = first ? parse_path_line(*first, "MAIL FROM:<") : std::nullopt;
    if (!sender)
        return std::nullopt;
    parsed.env.reverse_path = std::move(*sender);

    while (true) {
        auto line = take_line(rest);
        if (!line)
            return std::nullopt;
        if (line->empty())
            break;
        auto recipient = parse_path_line(*line, "RCPT TO:<");
        if (!recipient || recipient->empty())
            return std::nullopt;
        parsed.env.recipients.push_back(std::move(*recipient));
    }
    if (parsed.env.recipients.empty())
        return std::nullopt;

    parsed.message = std::string(rest);
    return parsed;
}

} // namespace detail

namespace detail {

/// Stages a queue file (see write_queue_file) in `batch`.
inline std::error_code stage_queue_file(
    durable_batch& batch, const std::filesystem::path& queue_root,
    std::string_view host_name, const envelope& env,
    std::span<const std::string_view> message)
{
    if (!is_safe_envelope(env))
        return std::make_error_code(std::errc::invalid_argument);

    for (const char* folder : {"tmp", "new"}) {
        if (auto failure = make_private_directory(queue_root / folder))
            return failure;
    }

    std::string header = format_envelope(env);
    std::vector<std::string_view> pieces;
    pieces.reserve(message.size() + 1);
    pieces.push_back(header);
    pieces.insert(pieces.end(), message.begin(), message.end());

    return batch.stage(queue_root, unique_file_name(host_name), pieces);
}

} // namespace detail

/// Stores a message with its envelope in the relay queue under
/// `queue_root`: written as tmp/NAME, fsynced and renamed to new/NAME, with
/// new/ fsynced, so the queue contains either the whole message or nothing.
/// `host_name` goes into the file name to keep names unique across hosts.
/// @returns std::errc::invalid_argument for an envelope without recipients
/// or with a path containing CR, LF, '>' or NUL, or the system error of a
/// failed file operation.
inline std::error_code write_queue_file(
    const std::filesystem::path& queue_root, std::string_view host_name,
    const envelope& env, std::span<const std::string_view> message)
{
    detail::durable_batch batch;
    if (auto failure = detail::stage_queue_file(batch, queue_root,
                                                host_name, env, message))
        return failure;
    return batch.publish();
}

/// Reads a queue file written by write_queue_file. Returns nullopt when the
/// file cannot be read or its envelope header is malformed.
inline std::optional<queued_message> read_queue_file(
    const std::filesystem::path& file)
{
    std::ifstream input(file, std::ios::binary);
    if (!input)
        return std::nullopt;
    std::string contents{std::istreambuf_iterator<char>(input),
                         std::istreambuf_iterator<char>()};
    if (input.bad())
        return std::nullopt;
    return detail::parse_queue_file(contents);
}

} // namespace postern::store
