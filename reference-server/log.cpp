#include "log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include <utility>

namespace postern_server {

namespace {

bool needs_escape(unsigned char c)
{
    return c <= ' ' || c >= 0x7F || c == '"' || c == '\\' || c == '=';
}

void append_escaped(std::string& out, unsigned char c)
{
    constexpr std::string_view digits = "0123456789ABCDEF";
    out += "\\x";
    out += digits[c >> 4];
    out += digits[c & 0x0F];
}

void append_field(std::string& line, std::string_view key,
                  std::string_view value)
{
    if (!line.empty())
        line += ' ';
    line += key;
    line += '=';
    line += escape_log_value(value);
}

spdlog::level::level_enum to_spdlog(postern::event_level level)
{
    switch (level) {
    case postern::event_level::debug: return spdlog::level::debug;
    case postern::event_level::info: return spdlog::level::info;
    case postern::event_level::warning: return spdlog::level::warn;
    case postern::event_level::error: return spdlog::level::err;
    }
    return spdlog::level::info;
}

} // namespace

std::shared_ptr<spdlog::logger> make_logger()
{
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto logger = std::make_shared<spdlog::logger>("postern", sink);
    logger->set_pattern("%l %v");
    logger->set_level(spdlog::level::info);
    // A log line is written whole or not at all, even when the process
    // dies right after it.
    logger->flush_on(spdlog::level::debug);
    return logger;
}

std::string escape_log_value(std::string_view value)
{
    constexpr std::string_view cut_marker = "...";
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        auto c = static_cast<unsigned char>(value[i]);
        std::size_t width = needs_escape(c) ? 4 : 1;
        std::size_t reserve = i + 1 < value.size() ? cut_marker.size() : 0;
        if (out.size() + width + reserve > max_log_value) {
            out += cut_marker;
            break;
        }
        if (needs_escape(c))
            append_escaped(out, c);
        else
            out += static_cast<char>(c);
    }
    return out;
}

std::string format_event(const postern::event& e)
{
    std::string line;
    if (!e.session.empty())
        append_field(line, "session", e.session);
    if (!e.client.empty())
        append_field(line, "client", e.client);
    append_field(line, "event", e.name);
    for (const auto& [key, value] : e.fields)
        append_field(line, key, value);
    return line;
}

void log_event(spdlog::logger& logger, const postern::event& e)
{
    logger.log(to_spdlog(e.level), "{}", format_event(e));
}

postern::event_hook make_event_hook(std::shared_ptr<spdlog::logger> logger)
{
    return [logger = std::move(logger)](const postern::event& e) {
        log_event(*logger, e);
    };
}

} // namespace postern_server
