// Parsers for the SCRAM client messages (RFC 5802, sections 5.1 and 7) and
// the server-error values a SCRAM server may send back.
#pragma once

#include <postern/core/base64.hpp>
#include <postern/sasl/plain.hpp> // detail::is_valid_utf8

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::sasl::detail {

/// A client message longer than this is rejected. RFC 5802 sets no limit,
/// but without one a client could make the server parse, store and hash
/// text of unbounded length. 4096 octets leave room for long user names
/// and extensions.
inline constexpr std::size_t scram_max_message_octets = 4096;

/// The server-error-value of RFC 5802, section 7, that a failure sends.
enum class scram_error {
    none,
    invalid_encoding,
    extensions_not_supported,
    invalid_proof,
    channel_bindings_dont_match,
    server_does_support_channel_binding,
    channel_binding_not_supported,
    unsupported_channel_binding_type,
    invalid_username_encoding,
    no_resources,
    other_error,
};

/// Returns the wire spelling of `error`, empty for scram_error::none.
constexpr std::string_view to_string(scram_error error) noexcept
{
    switch (error) {
    case scram_error::none: return "";
    case scram_error::invalid_encoding: return "invalid-encoding";
    case scram_error::extensions_not_supported:
        return "extensions-not-supported";
    case scram_error::invalid_proof: return "invalid-proof";
    case scram_error::channel_bindings_dont_match:
        return "channel-bindings-dont-match";
    case scram_error::server_does_support_channel_binding:
        return "server-does-support-channel-binding";
    case scram_error::channel_binding_not_supported:
        return "channel-binding-not-supported";
    case scram_error::unsupported_channel_binding_type:
        return "unsupported-channel-binding-type";
    case scram_error::invalid_username_encoding:
        return "invalid-username-encoding";
    case scram_error::no_resources: return "no-resources";
    case scram_error::other_error: return "other-error";
    }
    return "other-error";
}

/// The gs2-cbind-flag of the GS2 header (RFC 5802, section 6).
enum class channel_binding_flag {
    not_supported, ///< "n": the client cannot bind
    not_used,      ///< "y": the client can bind but thinks the server can't
    used,          ///< "p=TYPE": the client binds with TYPE
};

/// A parsed client-first-message. The views point into the parsed text.
struct scram_client_first {
    channel_binding_flag flag = channel_binding_flag::not_supported;
    std::string_view channel_binding_type; ///< set with flag `used`
    std::optional<std::string> authzid;    ///< unescaped, not prepared
    std::string user;                      ///< unescaped, not prepared
    std::string_view nonce;
    std::string_view gs2_header; ///< including its final ','
    std::string_view bare;       ///< client-first-message-bare
};

/// A parsed client-final-message. The views point into the parsed text.
struct scram_client_final {
    std::string channel_binding; ///< the decoded c= value
    std::string_view nonce;
    std::string proof;                ///< the decoded p= value
    std::string_view without_proof;   ///< for the AuthMessage
};

/// A parse result: `message` is meaningful only when `error` is none.
template <typename Message>
struct scram_parse_result {
    Message message;
    scram_error error = scram_error::none;
};

// An attribute of RFC 5802, section 7: attr-val = ALPHA "=" value.
struct scram_attribute {
    char name = '\0';
    std::string_view value;
};

constexpr bool is_ascii_alpha(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

constexpr bool is_ascii_digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

// RFC 5802, section 7: printable = %x21-2B / %x2D-7E, that is printable
// ASCII except ','. A nonce is one or more of them.
constexpr bool is_scram_nonce(std::string_view text) noexcept
{
    if (text.empty())
        return false;
    for (char c : text) {
        if (c < 0x21 || c > 0x7e || c == ',')
            return false;
    }
    return true;
}

// cb-name = 1*(ALPHA / DIGIT / "." / "-") (RFC 5802, section 7).
constexpr bool is_channel_binding_type(std::string_view text) noexcept
{
    if (text.empty())
        return false;
    for (char c : text) {
        if (!is_ascii_alpha(c) && !is_ascii_digit(c) && c != '.' && c != '-')
            return false;
    }
    return true;
}

// Every message is UTF-8 without NUL, and no value contains ','
// (value-char in RFC 5802, section 7), so a message splits at each ','.
inline bool is_scram_text(std::string_view text)
{
    return text.size() <= scram_max_message_octets &&
           text.find('\0') == std::string_view::npos && is_valid_utf8(text);
}

inline std::vector<std::string_view> split_at_commas(std::string_view text)
{
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = text.find(',', start);
        if (comma == std::string_view::npos) {
            fields.push_back(text.substr(start));
            return fields;
        }
        fields.push_back(text.substr(start, comma - start));
        start = comma + 1;
    }
}

inline std::optional<scram_attribute> parse_attribute(std::string_view field)
{
    if (field.size() < 3 || !is_ascii_alpha(field[0]) || field[1] != '=')
        return std::nullopt;
    return scram_attribute{field[0], field.substr(2)};
}

// Parses `field` as the attribute called `name`. RFC 5802, section 5.1:
// the "m" attribute is reserved for mandatory extensions, and its presence
// anywhere must fail the exchange because this version defines none.
inline scram_error expect_attribute(std::string_view field, char name,
                                    scram_attribute& attribute)
{
    const auto parsed = parse_attribute(field);
    if (!parsed)
        return scram_error::invalid_encoding;
    if (parsed->name == 'm' && name != 'm')
        return scram_error::extensions_not_supported;
    if (parsed->name != name)
        return scram_error::invalid_encoding;
    attribute = *parsed;
    return scram_error::none;
}

// RFC 5802, section 5.1: optional extensions follow the fixed attributes.
// Unknown ones are ignored, "m" fails the exchange, and an attribute that
// RFC 5802 defines is out of order in that place.
inline scram_error check_extensions(
    const std::vector<std::string_view>& fields, std::size_t first)
{
    constexpr std::string_view defined_names = "aceinprsv";
    for (std::size_t i = first; i < fields.size(); ++i) {
        const auto attribute = parse_attribute(fields[i]);
        if (!attribute)
            return scram_error::invalid_encoding;
        if (attribute->name == 'm')
            return scram_error::extensions_not_supported;
        if (defined_names.find(attribute->name) != std::string_view::npos)
            return scram_error::invalid_encoding;
    }
    return scram_error::none;
}

/// Decodes a saslname (RFC 5802, section 5.1): "=2C" encodes ',' and
/// "=3D" encodes '='. Returns nullopt for an empty name or for any other '='.
inline std::optional<std::string> decode_saslname(std::string_view text)
{
    if (text.empty())
        return std::nullopt;
    std::string name;
    name.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '=') {
            name += text[i];
            continue;
        }
        const std::string_view escape = text.substr(i + 1, 2);
        if (escape == "2C")
            name += ',';
        else if (escape == "3D")
            name += '=';
        else
            return std::nullopt;
        i += escape.size();
    }
    return name;
}

// gs2-cbind-flag = ("p=" cb-name) / "n" / "y" (RFC 5802, section 7).
inline scram_error parse_channel_binding_flag(std::string_view field,
                                              scram_client_first& message)
{
    if (field == "n") {
        message.flag = channel_binding_flag::not_supported;
    } else if (field == "y") {
        message.flag = channel_binding_flag::not_used;
    } else if (field.starts_with("p=") &&
               is_channel_binding_type(field.substr(2))) {
        message.flag = channel_binding_flag::used;
        message.channel_binding_type = field.substr(2);
    } else {
        return scram_error::invalid_encoding;
    }
    return scram_error::none;
}

// gs2-header = gs2-cbind-flag "," [authzid] "," where authzid is
// "a=" saslname (RFC 5802, section 7). Fills the flag, the authzid and
// the header, and stores the text after the header in `rest`.
inline scram_error parse_gs2_header(std::string_view text,
                                    scram_client_first& message,
                                    std::string_view& rest)
{
    const std::size_t first_comma = text.find(',');
    if (first_comma == std::string_view::npos)
        return scram_error::invalid_encoding;
    const std::size_t second_comma = text.find(',', first_comma + 1);
    if (second_comma == std::string_view::npos)
        return scram_error::invalid_encoding;

    const scram_error flag_error =
        parse_channel_binding_flag(text.substr(0, first_comma), message);
    if (flag_error != scram_error::none)
        return flag_error;

    const std::string_view authzid =
        text.substr(first_comma + 1, second_comma - first_comma - 1);
    if (!authzid.empty()) {
        if (!authzid.starts_with("a="))
            return scram_error::invalid_encoding;
        message.authzid = decode_saslname(authzid.substr(2));
        if (!message.authzid)
            return scram_error::invalid_encoding;
    }

    message.gs2_header = text.substr(0, second_comma + 1);
    rest = text.substr(second_comma + 1);
    return scram_error::none;
}

// client-first-message-bare = [reserved-mext ","] username "," nonce
// ["," extensions] (RFC 5802, section 7).
inline scram_error parse_client_first_bare(std::string_view bare,
                                           scram_client_first& message)
{
    const auto fields = split_at_commas(bare);
    scram_attribute user;
    scram_error error = expect_attribute(fields[0], 'n', user);
    if (error != scram_error::none)
        return error;
    if (fields.size() < 2)
        return scram_error::invalid_encoding;
    auto decoded = decode_saslname(user.value);
    if (!decoded)
        return scram_error::invalid_username_encoding;
    message.user = std::move(*decoded);

    scram_attribute nonce;
    error = expect_attribute(fields[1], 'r', nonce);
    if (error != scram_error::none)
        return error;
    if (!is_scram_nonce(nonce.value))
        return scram_error::invalid_encoding;
    message.nonce = nonce.value;
    message.bare = bare;
    return check_extensions(fields, 2);
}

/// Parses a client-first-message (RFC 5802, section 7). The result's views
/// point into `text`.
inline scram_parse_result<scram_client_first> parse_client_first(
    std::string_view text)
{
    scram_parse_result<scram_client_first> result;
    if (!is_scram_text(text)) {
        result.error = scram_error::invalid_encoding;
        return result;
    }
    std::string_view bare;
    result.error = parse_gs2_header(text, result.message, bare);
    if (result.error == scram_error::none)
        result.error = parse_client_first_bare(bare, result.message);
    return result;
}

// Decodes the base64 value of the attribute called `name` in `field`.
inline scram_error expect_base64_attribute(std::string_view field, char name,
                                           std::string& decoded)
{
    scram_attribute attribute;
    const scram_error error = expect_attribute(field, name, attribute);
    if (error != scram_error::none)
        return error;
    auto bytes = base64_decode(attribute.value);
    if (!bytes)
        return scram_error::invalid_encoding;
    decoded = std::move(*bytes);
    return scram_error::none;
}

// client-final-message-without-proof = channel-binding "," nonce
// ["," extensions] (RFC 5802, section 7).
inline scram_error parse_client_final_without_proof(
    std::string_view text, scram_client_final& message)
{
    const auto fields = split_at_commas(text);
    scram_error error =
        expect_base64_attribute(fields[0], 'c', message.channel_binding);
    if (error != scram_error::none)
        return error;
    if (fields.size() < 2)
        return scram_error::invalid_encoding;

    scram_attribute nonce;
    error = expect_attribute(fields[1], 'r', nonce);
    if (error != scram_error::none)
        return error;
    if (!is_scram_nonce(nonce.value))
        return scram_error::invalid_encoding;
    message.nonce = nonce.value;
    message.without_proof = text;
    return check_extensions(fields, 2);
}

/// Parses a client-final-message: the part without the proof, then ","
/// and the proof "p=" base64 (RFC 5802, section 7). The result's views
/// point into `text`.
inline scram_parse_result<scram_client_final> parse_client_final(
    std::string_view text)
{
    scram_parse_result<scram_client_final> result;
    const std::size_t last_comma = text.rfind(',');
    if (!is_scram_text(text) || last_comma == std::string_view::npos) {
        result.error = scram_error::invalid_encoding;
        return result;
    }

    result.error = parse_client_final_without_proof(
        text.substr(0, last_comma), result.message);
    if (result.error == scram_error::none)
        result.error = expect_base64_attribute(
            text.substr(last_comma + 1), 'p', result.message.proof);
    return result;
}

} // namespace postern::sasl::detail
