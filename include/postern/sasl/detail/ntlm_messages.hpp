// The NTLM message formats ([MS-NLMP] section 2.2): parsing the client's
// NEGOTIATE_MESSAGE and AUTHENTICATE_MESSAGE, and building the server's
// CHALLENGE_MESSAGE.
#pragma once

#include <postern/sasl/detail/utf16.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ratio>
#include <string>
#include <string_view>

namespace postern::sasl::detail {

inline constexpr std::string_view ntlm_signature{"NTLMSSP\0", 8};

inline constexpr std::uint32_t ntlm_negotiate_type = 1;
inline constexpr std::uint32_t ntlm_challenge_type = 2;
inline constexpr std::uint32_t ntlm_authenticate_type = 3;

// Caps each client message, so that a client cannot make the server buffer
// and parse an endless one. An AUTHENTICATE_MESSAGE is typically a few
// hundred octets: its largest part is the NTLMv2 blob, which repeats the
// server's AV pairs.
inline constexpr std::size_t ntlm_max_message_octets = 4096;

/// NegotiateFlags bits ([MS-NLMP] section 2.2.2.5).
namespace ntlm_flag {
inline constexpr std::uint32_t unicode = 0x00000001;
inline constexpr std::uint32_t oem = 0x00000002;
inline constexpr std::uint32_t request_target = 0x00000004;
inline constexpr std::uint32_t ntlm = 0x00000200;
inline constexpr std::uint32_t anonymous = 0x00000800;
inline constexpr std::uint32_t target_type_domain = 0x00010000;
inline constexpr std::uint32_t extended_session_security = 0x00080000;
inline constexpr std::uint32_t target_info = 0x00800000;
inline constexpr std::uint32_t version = 0x02000000;
inline constexpr std::uint32_t negotiate_128 = 0x20000000;
inline constexpr std::uint32_t negotiate_56 = 0x80000000;
} // namespace ntlm_flag

/// AvId values of the AV_PAIR structure ([MS-NLMP] section 2.2.2.1).
namespace ntlm_av {
inline constexpr std::uint16_t eol = 0;
inline constexpr std::uint16_t nb_computer_name = 1;
inline constexpr std::uint16_t nb_domain_name = 2;
inline constexpr std::uint16_t dns_computer_name = 3;
inline constexpr std::uint16_t dns_domain_name = 4;
inline constexpr std::uint16_t timestamp = 7;
} // namespace ntlm_av

// All integers in NTLM messages are little-endian. Callers check bounds.
inline std::uint32_t read_le(std::string_view bytes, std::size_t at,
                             std::size_t width)
{
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < width; ++i) {
        const auto octet = static_cast<unsigned char>(bytes[at + i]);
        value |= std::uint32_t{octet} << 8 * i;
    }
    return value;
}

inline void append_le(std::string& out, std::uint64_t value,
                      std::size_t width)
{
    for (std::size_t i = 0; i < width; ++i)
        out += static_cast<char>((value >> 8 * i) & 0xff);
}

// Checks the 8-octet signature and the 32-bit MessageType that open every
// NTLM message ([MS-NLMP] section 2.2.1).
inline bool has_ntlm_header(std::string_view message, std::uint32_t type)
{
    return message.size() >= 12 &&
           message.substr(0, 8) == ntlm_signature &&
           read_le(message, 8, 4) == type;
}

// Returns the payload that the security buffer at `at` describes: Len (16
// bits), MaxLen (16 bits, ignored on receipt) and Offset (32 bits). A
// non-empty payload must lie inside the message and after the fixed header
// of `header_octets`, or the result is nullopt. The sum is taken in 64 bits,
// so an Offset near 0xffffffff cannot wrap around to a small value.
inline std::optional<std::string_view> read_ntlm_field(
    std::string_view message, std::size_t at, std::size_t header_octets)
{
    const std::uint32_t length = read_le(message, at, 2);
    const std::uint32_t offset = read_le(message, at + 4, 4);
    if (length == 0)
        return std::string_view{};

    const std::uint64_t end = std::uint64_t{offset} + length;
    if (offset < header_octets || end > message.size())
        return std::nullopt;
    return message.substr(offset, length);
}

/// The fields of a NEGOTIATE_MESSAGE that the server uses.
struct negotiate_message {
    std::uint32_t flags = 0;
};

// Parses a NEGOTIATE_MESSAGE ([MS-NLMP] section 2.2.1.1): signature,
// MessageType 1, NegotiateFlags, then DomainNameFields and
// WorkstationFields. Old clients end the message after the flags, so both
// 16 octets and 32 or more are accepted. The domain and workstation are
// not used, but their security buffers must be in bounds.
inline std::optional<negotiate_message> parse_negotiate(
    std::string_view message)
{
    if (message.size() > ntlm_max_message_octets ||
        !has_ntlm_header(message, ntlm_negotiate_type) || message.size() < 16)
        return std::nullopt;

    const negotiate_message parsed{read_le(message, 12, 4)};
    if (message.size() == 16)
        return parsed;

    constexpr std::size_t header_octets = 32;
    if (message.size() < header_octets ||
        !read_ntlm_field(message, 16, header_octets) ||
        !read_ntlm_field(message, 24, header_octets))
        return std::nullopt;
    return parsed;
}

// Picks the flags of the CHALLENGE_MESSAGE from the client's request
// ([MS-NLMP] section 3.2.5.1.1). UNICODE wins over OEM when both are
// requested. The server echoes 128 and 56 although it derives no session
// keys, because Windows clients by default require 128 in the reply
// (the "Minimum session security for NTLM SSP" policy).
inline std::uint32_t choose_challenge_flags(std::uint32_t requested)
{
    std::uint32_t flags = ntlm_flag::ntlm | ntlm_flag::request_target |
                          ntlm_flag::target_type_domain |
                          ntlm_flag::target_info;
    flags |= (requested & ntlm_flag::unicode) != 0 ? ntlm_flag::unicode
                                                   : ntlm_flag::oem;
    flags |= requested & (ntlm_flag::extended_session_security |
                          ntlm_flag::negotiate_128 | ntlm_flag::negotiate_56);
    return flags;
}

/// The names a server announces in its CHALLENGE_MESSAGE, in UTF-8.
struct ntlm_names {
    std::string nb_computer_name; ///< NetBIOS computer name
    std::string nb_domain_name;   ///< NetBIOS domain name
    std::string dns_computer_name;
    std::string dns_domain_name;
};

// A NetBIOS name is at most 15 characters, conventionally upper case.
// Host names are ASCII (RFC 1123, section 2.1), so ASCII case rules apply.
inline std::string to_netbios_name(std::string_view label)
{
    std::string name(label.substr(0, 15));
    for (char& c : name) {
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
    }
    return name;
}

// Derives the names from the server's host name: "mail.example.com" gives
// computer MAIL, domain EXAMPLE, DNS domain example.com. A single-label
// host name is its own DNS domain.
inline ntlm_names derive_ntlm_names(std::string_view identity)
{
    if (!identity.empty() && identity.back() == '.')
        identity.remove_suffix(1);

    const std::size_t dot = identity.find('.');
    const std::string_view first_label = identity.substr(0, dot);
    const std::string_view dns_domain =
        dot == std::string_view::npos ? identity : identity.substr(dot + 1);

    ntlm_names names;
    names.nb_computer_name = to_netbios_name(first_label);
    names.nb_domain_name =
        to_netbios_name(dns_domain.substr(0, dns_domain.find('.')));
    names.dns_computer_name = identity;
    names.dns_domain_name = dns_domain;
    return names;
}

// Returns the current time as a FILETIME: 100-nanosecond intervals since
// 1601-01-01 UTC, the format of MsvAvTimestamp ([MS-NLMP] section 2.2.2.1).
inline std::uint64_t filetime_now()
{
    using filetime_interval =
        std::chrono::duration<std::int64_t, std::ratio<1, 10000000>>;
    constexpr std::uint64_t unix_epoch_as_filetime = 116444736000000000u;

    // std::chrono::system_clock counts from the Unix epoch (C++20).
    const auto since_unix_epoch =
        std::chrono::duration_cast<filetime_interval>(
            std::chrono::system_clock::now().time_since_epoch());
    return unix_epoch_as_filetime +
           static_cast<std::uint64_t>(since_unix_epoch.count());
}

// Encodes a name in UTF-16LE. The names come from the configured host
// name, and one that is not UTF-8 is sent as far as it converts.
inline std::string ntlm_utf16le(std::string_view utf8)
{
    std::string encoded;
    append_utf8_as_utf16le(encoded, utf8);
    return encoded;
}

inline void append_av_pair(std::string& out, std::uint16_t id,
                           std::string_view value)
{
    append_le(out, id, 2);
    append_le(out, value.size(), 2);
    out += value;
}

// Builds the TargetInfo AV pairs, whose strings are always UTF-16LE
// ([MS-NLMP] section 2.2.2.1). The list ends with MsvAvEOL.
inline std::string build_target_info(const ntlm_names& names,
                                     std::uint64_t filetime)
{
    std::string timestamp;
    append_le(timestamp, filetime, 8);

    std::string info;
    append_av_pair(info, ntlm_av::nb_domain_name,
                   ntlm_utf16le(names.nb_domain_name));
    append_av_pair(info, ntlm_av::nb_computer_name,
                   ntlm_utf16le(names.nb_computer_name));
    append_av_pair(info, ntlm_av::dns_domain_name,
                   ntlm_utf16le(names.dns_domain_name));
    append_av_pair(info, ntlm_av::dns_computer_name,
                   ntlm_utf16le(names.dns_computer_name));
    append_av_pair(info, ntlm_av::timestamp, timestamp);
    append_av_pair(info, ntlm_av::eol, {});
    return info;
}

// Builds a CHALLENGE_MESSAGE ([MS-NLMP] section 2.2.1.2). The fixed part is
// 56 octets: signature, MessageType 2, TargetNameFields, NegotiateFlags,
// ServerChallenge, 8 reserved octets, TargetInfoFields and Version. The
// VERSION flag is never set, so Version stays zero. The TargetName (the
// NetBIOS domain) is UTF-16LE or OEM as `flags` chose, and OEM here is
// ASCII because host names are.
inline std::string build_challenge(
    std::uint32_t flags, const std::array<std::uint8_t, 8>& server_challenge,
    const ntlm_names& names, std::uint64_t filetime)
{
    const std::string target_name =
        (flags & ntlm_flag::unicode) != 0 ? ntlm_utf16le(names.nb_domain_name)
                                          : names.nb_domain_name;
    const std::string target_info = build_target_info(names, filetime);
    constexpr std::size_t header_octets = 56;

    std::string message(ntlm_signature);
    append_le(message, ntlm_challenge_type, 4);
    append_le(message, target_name.size(), 2);
    append_le(message, target_name.size(), 2);
    append_le(message, header_octets, 4);
    append_le(message, flags, 4);
    message.append(reinterpret_cast<const char*>(server_challenge.data()),
                   server_challenge.size());
    message.append(8, '\0');
    append_le(message, target_info.size(), 2);
    append_le(message, target_info.size(), 2);
    append_le(message, header_octets + target_name.size(), 4);
    message.append(8, '\0');

    message += target_name;
    message += target_info;
    return message;
}

// Widens an OEM string to UTF-16LE. The OEM code page is the client's and
// unknown here, so only ASCII is accepted.
inline std::optional<std::string> oem_to_utf16le(std::string_view oem)
{
    std::string encoded;
    for (char c : oem) {
        const auto octet = static_cast<unsigned char>(c);
        if (octet >= 0x80)
            return std::nullopt;
        append_utf16le_unit(encoded, octet);
    }
    return encoded;
}

/// The parts of an AUTHENTICATE_MESSAGE that the server verifies. The
/// responses point into the parsed message, and the names are UTF-16LE.
struct authenticate_message {
    std::string_view lm_response;
    std::string_view nt_response;
    std::string domain;
    std::string user;
    std::string workstation;
    std::uint32_t flags = 0;
};

// Reads the name in the security buffer at `at` as UTF-16LE: the bytes
// themselves when UNICODE was negotiated, else widened from OEM. A UTF-16
// field of odd length is malformed.
inline std::optional<std::string> read_ntlm_name(std::string_view message,
                                                 std::size_t at,
                                                 std::size_t header_octets,
                                                 bool unicode)
{
    const auto field = read_ntlm_field(message, at, header_octets);
    if (!field)
        return std::nullopt;
    if (!unicode)
        return oem_to_utf16le(*field);
    if (field->size() % 2 != 0)
        return std::nullopt;
    return std::string(*field);
}

// Parses an AUTHENTICATE_MESSAGE ([MS-NLMP] section 2.2.1.3). The fixed
// part is 64 octets: signature, MessageType 3, six security buffers
// (LmChallengeResponse, NtChallengeResponse, DomainName, UserName,
// Workstation, EncryptedRandomSessionKey) and NegotiateFlags. Version and
// MIC may follow, and payloads start after them. Every security buffer is
// bounds-checked, the session key's too although it is not used.
inline std::optional<authenticate_message> parse_authenticate(
    std::string_view message, bool unicode)
{
    constexpr std::size_t header_octets = 64;
    if (message.size() > ntlm_max_message_octets ||
        !has_ntlm_header(message, ntlm_authenticate_type) ||
        message.size() < header_octets)
        return std::nullopt;

    const auto lm_response = read_ntlm_field(message, 12, header_octets);
    const auto nt_response = read_ntlm_field(message, 20, header_octets);
    auto domain = read_ntlm_name(message, 28, header_octets, unicode);
    auto user = read_ntlm_name(message, 36, header_octets, unicode);
    auto workstation = read_ntlm_name(message, 44, header_octets, unicode);
    const auto session_key = read_ntlm_field(message, 52, header_octets);
    if (!lm_response || !nt_response || !domain || !user || !workstation ||
        !session_key)
        return std::nullopt;

    authenticate_message parsed;
    parsed.lm_response = *lm_response;
    parsed.nt_response = *nt_response;
    parsed.domain = std::move(*domain);
    parsed.user = std::move(*user);
    parsed.workstation = std::move(*workstation);
    parsed.flags = read_le(message, 60, 4);
    return parsed;
}

} // namespace postern::sasl::detail
