// The standard trust policy: trusted listeners, address assumptions and
// SASL authentication, checked in that order of precedence.
#pragma once

#include <postern/trust/policy.hpp>

#include <asio/ip/address.hpp>
#include <asio/ip/address_v4.hpp>
#include <asio/ip/address_v6.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace postern::trust {

namespace detail {

/// Returns the IPv4 address that an IPv4-mapped IPv6 address (::ffff:a.b.c.d,
/// RFC 4291, section 2.5.5.2) carries, and any other address unchanged. A
/// dual-stack listener reports IPv4 clients in the mapped form.
inline asio::ip::address unmap(const asio::ip::address& address)
{
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    return address;
}

/// Tells whether the first `bits` bits of two byte strings agree.
template <std::size_t N>
bool same_prefix(const std::array<unsigned char, N>& a,
                 const std::array<unsigned char, N>& b, unsigned bits)
{
    std::size_t whole = bits / 8;
    if (!std::equal(a.begin(), a.begin() + whole, b.begin()))
        return false;
    unsigned rest = bits % 8;
    if (rest == 0)
        return true;
    auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

/// Tells whether every bit after the first `bits` bits is zero.
template <std::size_t N>
bool host_bits_zero(const std::array<unsigned char, N>& bytes, unsigned bits)
{
    for (std::size_t bit = bits; bit < N * 8; ++bit) {
        if ((bytes[bit / 8] & (0x80 >> (bit % 8))) != 0)
            return false;
    }
    return true;
}

/// Parses a decimal prefix length of at most `max`, with no sign, spaces
/// or leading zeros.
inline std::optional<unsigned> parse_prefix_length(std::string_view text,
                                                   unsigned max)
{
    if (text.empty() || text.size() > 3)
        return std::nullopt;
    if (text.size() > 1 && text.front() == '0')
        return std::nullopt;
    unsigned value = 0;
    auto [end, status] =
        std::from_chars(text.data(), text.data() + text.size(), value);
    if (status != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    if (value > max)
        return std::nullopt;
    return value;
}

} // namespace detail

/// An IP network: an address and a prefix length (RFC 4632, section 3.1,
/// and RFC 4291, section 2.3).
struct network {
    asio::ip::address address;
    unsigned prefix_length = 0;

    /// Parses "ADDRESS/LENGTH", or a bare address for a single host (/32
    /// or /128). Rejects bits set after the prefix ("192.0.2.1/24"),
    /// lengths out of range, IPv6 zone indexes and anything but dotted
    /// quad IPv4 or RFC 4291 IPv6 text. An IPv4-mapped IPv6 network of
    /// length 96 or more becomes the IPv4 network it covers.
    static std::optional<network> parse(std::string_view text)
    {
        auto slash = text.find('/');
        auto address_text = text.substr(0, slash);

        std::error_code error;
        auto address = asio::ip::make_address(address_text, error);
        if (error)
            return std::nullopt;
        if (address.is_v6() && address.to_v6().scope_id() != 0)
            return std::nullopt;

        unsigned max = address.is_v4() ? 32 : 128;
        unsigned length = max;
        if (slash != std::string_view::npos) {
            auto parsed =
                detail::parse_prefix_length(text.substr(slash + 1), max);
            if (!parsed)
                return std::nullopt;
            length = *parsed;
        }

        if (!host_bits_zero(address, length))
            return std::nullopt;
        return normalized(network{address, length});
    }

    /// Tells whether `client` lies in this network. An IPv4-mapped IPv6
    /// address counts as the IPv4 address it carries, and IPv4 addresses
    /// lie only in IPv4 networks.
    bool contains(const asio::ip::address& client) const
    {
        auto candidate = detail::unmap(client);
        if (candidate.is_v4() != address.is_v4())
            return false;
        if (candidate.is_v4())
            return detail::same_prefix(address.to_v4().to_bytes(),
                                       candidate.to_v4().to_bytes(),
                                       prefix_length);
        return detail::same_prefix(address.to_v6().to_bytes(),
                                   candidate.to_v6().to_bytes(),
                                   prefix_length);
    }

    friend bool operator==(const network&, const network&) = default;

private:
    static bool host_bits_zero(const asio::ip::address& address,
                               unsigned length)
    {
        if (address.is_v4())
            return detail::host_bits_zero(address.to_v4().to_bytes(), length);
        return detail::host_bits_zero(address.to_v6().to_bytes(), length);
    }

    static network normalized(network parsed)
    {
        bool mapped_v4 = parsed.address.is_v6() &&
                         parsed.address.to_v6().is_v4_mapped() &&
                         parsed.prefix_length >= 96;
        if (mapped_v4)
            return {detail::unmap(parsed.address), parsed.prefix_length - 96};
        return parsed;
    }
};

/// A configured assumption: clients in `net` act as the account `user`
/// without authenticating.
struct assumption {
    network net;
    std::string user;
};

/// The trust policy of postern-server. A client is trusted, in this order
/// of precedence, because it authenticated, because an assumption covers
/// its address, or because it connected on a trusted listener.
class rules {
public:
    explicit rules(std::vector<assumption> assumptions = {})
        : assumptions_(std::move(assumptions))
    {
    }

    decision evaluate(const client& peer) const
    {
        if (peer.authenticated_user)
            return {basis::authenticated, *peer.authenticated_user};
        if (auto user = assumed_user(peer.address))
            return {basis::assumption, std::move(*user)};
        if (peer.trusted_listener)
            return {basis::listener, {}};
        return {basis::none, {}};
    }

    /// Returns the user of the assumption whose network contains `address`
    /// with the longest prefix. Among equal prefixes the first configured
    /// wins.
    std::optional<std::string> assumed_user(
        const asio::ip::address& address) const
    {
        const assumption* best = nullptr;
        for (const auto& candidate : assumptions_) {
            if (!candidate.net.contains(address))
                continue;
            if (!best ||
                candidate.net.prefix_length > best->net.prefix_length)
                best = &candidate;
        }
        if (!best)
            return std::nullopt;
        return best->user;
    }

private:
    std::vector<assumption> assumptions_;
};

static_assert(trust_policy<rules>);

} // namespace postern::trust
