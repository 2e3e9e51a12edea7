// The server log: one line per event on standard error through spdlog, in
// the form "LEVEL session=ID client=ADDR event=NAME key=value ...".
#pragma once

#include <postern/core/event.hpp>

#include <spdlog/logger.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace postern_server {

/// Maximum length of one logged value in octets, after escaping.
inline constexpr std::size_t max_log_value = 200;

/// Creates the logger that writes to standard error, one line per record
/// as "LEVEL message" with no timestamp, because journald adds its own.
std::shared_ptr<spdlog::logger> make_logger();

/// Escapes a value for a log line: octets below 0x21, 0x7F and above, '"',
/// '\\' and '=' become \xHH, so a value can never end a line, open another
/// field or pass for one. The result is cut to max_log_value octets, with
/// "..." at the end when something was cut.
std::string escape_log_value(std::string_view value);

/// Formats `e` without its level: "session=ID client=ADDR event=NAME
/// key=value ...". The session and client are left out when empty.
std::string format_event(const postern::event& e);

/// Writes `e` to `logger` at the level of the event.
void log_event(spdlog::logger& logger, const postern::event& e);

/// The event hook that the library calls, writing to `logger`.
postern::event_hook make_event_hook(std::shared_ptr<spdlog::logger> logger);

} // namespace postern_server
