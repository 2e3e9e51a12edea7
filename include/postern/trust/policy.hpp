// The TrustPolicy concept: who may relay mail to non-local domains.
#pragma once

#include <asio/ip/address.hpp>

#include <concepts>
#include <optional>
#include <string>

namespace postern::trust {

/// The client details a trust policy decides on.
struct client {
    bool trusted_listener = false; ///< connected on a listener marked trusted
    asio::ip::address address;     ///< the client's IP address
    std::optional<std::string> authenticated_user; ///< after SASL success
};

/// The reason a client is trusted, in the order the rules are checked.
enum class basis {
    none,          ///< untrusted: may deliver only to local domains
    listener,      ///< the listener is marked trusted
    assumption,    ///< the client's address maps to a user account
    authenticated, ///< the client authenticated with SASL
};

struct decision {
    basis reason = basis::none;
    std::string user; ///< the assumed or authenticated account, if any

    bool may_relay() const noexcept { return reason != basis::none; }
};

/// A trust policy decides from the listener, the client address and the
/// authenticated identity whether a client is trusted.
template <typename T>
concept trust_policy = requires(const T& policy, const client& c) {
    { policy.evaluate(c) } -> std::same_as<decision>;
};

} // namespace postern::trust
