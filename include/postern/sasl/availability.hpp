// Per-mechanism availability (deny, allow, tls) as read from the
// configuration, and the rule that decides whether a mechanism is offered.
#pragma once

#include <postern/sasl/mechanism.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace postern::sasl {

/// Parses a configuration value: exactly "deny", "allow" or "tls", in
/// lower case. Returns nullopt for anything else.
inline std::optional<availability> parse_availability(std::string_view text)
{
    if (text == "deny")
        return availability::deny;
    if (text == "allow")
        return availability::allow;
    if (text == "tls")
        return availability::tls;
    return std::nullopt;
}

/// Returns the configuration spelling of `value`.
inline std::string_view to_string(availability value) noexcept
{
    switch (value) {
    case availability::deny: return "deny";
    case availability::allow: return "allow";
    case availability::tls: return "tls";
    }
    return "deny";
}

namespace detail {

// SASL mechanism names are upper case (RFC 4422, section 3.1). Names from
// clients and configuration files are mapped to upper case before lookup.
inline std::string upper_case_name(std::string_view name)
{
    std::string upper(name);
    for (char& c : upper)
        c = to_ascii_upper(c);
    return upper;
}

} // namespace detail

/// The availability of each mechanism for one protocol. Names compare
/// without regard to ASCII case, and a mechanism never set is denied.
class availability_map {
public:
    /// Sets the availability of `mechanism`, replacing an earlier value.
    void set(std::string_view mechanism, availability value)
    {
        entries_.insert_or_assign(detail::upper_case_name(mechanism), value);
    }

    /// Returns the availability of `mechanism`, or deny when it was never
    /// set.
    availability get(std::string_view mechanism) const
    {
        const auto found = entries_.find(detail::upper_case_name(mechanism));
        return found == entries_.end() ? availability::deny : found->second;
    }

    /// Tells whether `mechanism` may be offered and accepted now: always
    /// for allow, only on an encrypted connection for tls, never for deny.
    bool offered(std::string_view mechanism, bool encrypted) const
    {
        switch (get(mechanism)) {
        case availability::allow: return true;
        case availability::tls: return encrypted;
        case availability::deny: return false;
        }
        return false;
    }

    /// The entries by upper-case name, for printing the effective
    /// configuration.
    const std::map<std::string, availability, std::less<>>&
    entries() const noexcept
    {
        return entries_;
    }

private:
    std::map<std::string, availability, std::less<>> entries_;
};

} // namespace postern::sasl
