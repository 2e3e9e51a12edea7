// Derives, from one password, the stored secrets that the mechanisms of a
// mechanism_set need, so a directory can hold them without the password.
#pragma once

#include <postern/directory/credentials.hpp>
#include <postern/sasl/cram_md5.hpp>
#include <postern/sasl/mechanism_set.hpp>
#include <postern/sasl/ntlm.hpp>
#include <postern/sasl/scram.hpp>

#include <cstdint>
#include <string_view>
#include <system_error>

namespace postern::sasl {

struct derive_options {
    /// PBKDF2 iterations for the SCRAM keys (RFC 5802, section 3). More
    /// iterations cost the attacker of a stolen database more, and cost
    /// the server nothing at login, because it stores the derived keys.
    std::uint32_t scram_iterations = scram_default_iterations;
};

/// Reasons a password cannot serve a mechanism.
enum class derive_error {
    not_saslprep = 1, ///< fails SASLprep (RFC 4013), so SCRAM cannot use it
    not_utf8,         ///< not UTF-8, so it has no NT hash
    bad_iterations,   ///< the SCRAM iteration count is out of range
};

namespace detail {

class derive_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "postern.derive"; }

    std::string message(int value) const override
    {
        switch (static_cast<derive_error>(value)) {
        case derive_error::not_saslprep:
            return "password is not valid for SCRAM (SASLprep, RFC 4013)";
        case derive_error::not_utf8:
            return "password is not valid UTF-8, which NTLM needs";
        case derive_error::bad_iterations:
            return "SCRAM iteration count out of range";
        }
        return "unknown derive error";
    }
};

inline std::error_code make_error(derive_error e)
{
    static const derive_category_impl category;
    return {static_cast<int>(e), category};
}

// The secret a mechanism needs; mechanisms that check the crypt(3)
// verifier (PLAIN, LOGIN) need nothing beyond directory::make_credentials.
template <typename Mechanism>
struct secret_deriver {
    static std::error_code derive(std::string_view, const derive_options&,
                                  directory::credentials&)
    {
        return {};
    }
};

template <>
struct secret_deriver<cram_md5> {
    static std::error_code derive(std::string_view password,
                                  const derive_options&,
                                  directory::credentials& out)
    {
        if (!out.cram_md5)
            out.cram_md5 = derive_cram_md5_context(password);
        return {};
    }
};

template <>
struct secret_deriver<ntlm> {
    static std::error_code derive(std::string_view password,
                                  const derive_options&,
                                  directory::credentials& out)
    {
        if (out.nt_hash)
            return {};
        out.nt_hash = nt_hash(password);
        return out.nt_hash ? std::error_code{}
                           : make_error(derive_error::not_utf8);
    }
};

// SCRAM and its -PLUS variant share one set of keys per hash.
template <bool Plus>
struct secret_deriver<basic_scram<scram_sha1_hash, Plus>> {
    static std::error_code derive(std::string_view password,
                                  const derive_options& options,
                                  directory::credentials& out)
    {
        if (out.scram_sha1)
            return {};
        out.scram_sha1 = derive_scram_sha1(password, options.scram_iterations);
        return out.scram_sha1 ? std::error_code{}
                              : make_error(derive_error::not_saslprep);
    }
};

template <bool Plus>
struct secret_deriver<basic_scram<scram_sha256_hash, Plus>> {
    static std::error_code derive(std::string_view password,
                                  const derive_options& options,
                                  directory::credentials& out)
    {
        if (out.scram_sha256)
            return {};
        out.scram_sha256 =
            derive_scram_sha256(password, options.scram_iterations);
        return out.scram_sha256 ? std::error_code{}
                                : make_error(derive_error::not_saslprep);
    }
};

template <typename Set>
struct set_deriver;

template <typename... Mechanisms>
struct set_deriver<mechanism_set<Mechanisms...>> {
    static std::error_code derive(std::string_view password,
                                  const derive_options& options,
                                  directory::credentials& out)
    {
        std::error_code failure;
        ((failure = failure ? failure
                            : secret_deriver<Mechanisms>::derive(
                                  password, options, out)),
         ...);
        return failure;
    }
};

} // namespace detail

/// Adds to `out` the secrets that the mechanisms of `Set` (a
/// mechanism_set) need, derived from `password`; secrets already present
/// are kept. Call it on credentials from directory::make_credentials, then
/// store them with the directory's add_user(credentials).
/// @returns the first derive_error, with `out` partly filled.
template <typename Set>
std::error_code derive_secrets(std::string_view password,
                               const derive_options& options,
                               directory::credentials& out)
{
    if (options.scram_iterations < scram_min_iterations ||
        options.scram_iterations > scram_max_iterations)
        return detail::make_error(derive_error::bad_iterations);
    return detail::set_deriver<Set>::derive(password, options, out);
}

} // namespace postern::sasl
