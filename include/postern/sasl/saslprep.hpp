// SASLprep (RFC 4013), the stringprep profile (RFC 3454) that prepares user
// names and passwords for comparison, through GNU Libidn. Link with -lidn.
#pragma once

#include <idn-free.h>
#include <openssl/crypto.h>
#include <stringprep.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace postern::sasl {

namespace detail {

// Frees a string that Libidn allocated, wiping it first because it may be
// a prepared password.
struct libidn_string_deleter {
    void operator()(char* text) const noexcept
    {
        OPENSSL_cleanse(text, std::strlen(text));
        idn_free(text);
    }
};

} // namespace detail

/// The kind of string being prepared, as RFC 3454, section 7, defines
/// them.
enum class saslprep_kind {
    /// A string sent by a client for comparison: unassigned code points of
    /// Unicode 3.2 are allowed. RFC 5802, section 5.1, prepares SCRAM user
    /// names this way.
    query,
    /// A string being stored: unassigned code points are prohibited.
    /// RFC 5802, section 2.2, prepares SCRAM passwords this way.
    stored,
};

/// Prepares `text`, which must be UTF-8, with the SASLprep profile: maps
/// non-ASCII spaces to SPACE and removes the characters of RFC 3454,
/// table B.1, normalizes to NFKC, then checks for prohibited output and
/// the bidirectional rule. Returns nullopt when `text` is not valid UTF-8
/// or contains NUL, or when it fails those checks. An empty `text` gives
/// an empty string. Passwords may pass through here, so the copies made
/// along the way are wiped, and the caller wipes the result.
inline std::optional<std::string> saslprep(
    std::string_view text, saslprep_kind kind = saslprep_kind::query)
{
    // Libidn reads a NUL-terminated string, so an embedded NUL would cut
    // the input short. U+0000 is prohibited output anyway (RFC 3454,
    // table C.2.1).
    if (text.find('\0') != std::string_view::npos)
        return std::nullopt;

    std::string input(text); // a NUL-terminated copy for Libidn
    const auto flags = kind == saslprep_kind::stored
                           ? STRINGPREP_NO_UNASSIGNED
                           : Stringprep_profile_flags{};
    char* output = nullptr;
    // Libidn 1.41 rejects malformed UTF-8 here (STRINGPREP_ICONV_ERROR),
    // overlong forms and surrogates included.
    const int status =
        stringprep_profile(input.c_str(), &output, "SASLprep", flags);
    OPENSSL_cleanse(input.data(), input.size());
    const std::unique_ptr<char, detail::libidn_string_deleter> owned(output);
    if (status != STRINGPREP_OK || output == nullptr)
        return std::nullopt;
    return std::string(output);
}

} // namespace postern::sasl
