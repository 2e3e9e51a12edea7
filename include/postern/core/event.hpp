// Session events: the library never logs, it reports events to a hook that
// the application writes to its log.
#pragma once

#include <functional>
#include <initializer_list>
#include <string_view>
#include <utility>

namespace postern {

enum class event_level { debug, info, warning, error };

/// One session event. Values are views valid only during the hook call.
/// `fields` contains key=value pairs in a fixed order; values that came from
/// the client are not yet capped or escaped, which is the hook's job.
/// No field ever contains a password, SASL payload, hash or key.
struct event {
    event_level level = event_level::info;
    std::string_view session; ///< the session id
    std::string_view client;  ///< the client's address
    std::string_view name;    ///< e.g. "connect", "auth", "delivered"
    std::initializer_list<std::pair<std::string_view, std::string_view>>
        fields;
};

using event_hook = std::function<void(const event&)>;

} // namespace postern
