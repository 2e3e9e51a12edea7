// Run-time settings of a POP3 server.
#pragma once

#include <postern/core/listener.hpp>
#include <postern/sasl/availability.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace postern::pop3 {

using postern::listener_options;
using postern::tls_mode;

/// The availability names of the two POP3 logins that are not SASL.
inline constexpr std::string_view user_pass_name = "USER";
inline constexpr std::string_view apop_name = "APOP";

struct settings {
    std::string identity; ///< the server's host name (greeting, APOP)
    /// Availability per login: "USER" (USER/PASS), "APOP" and the SASL
    /// mechanism names.
    sasl::availability_map auth;
    /// Accept NTLMv1 and NTLM2 session responses, which are insecure
    /// (configuration key ntlm_v1).
    bool allow_ntlmv1 = false;
    /// SCRAM: the key of the fake salts for unknown users; keep it across
    /// restarts (see sasl::context::scram_fake_salt_key). Empty: random
    /// per process.
    std::string scram_fake_salt_key;
    /// SCRAM: the iteration count real accounts store, shown with fake
    /// salts too. Zero: sasl::scram_default_iterations.
    std::uint32_t scram_iterations = 0;
    /// RFC 1939, section 3: the inactivity timer is at least 10 minutes.
    std::chrono::seconds idle_timeout{600};
    /// Sessions served at once; further clients get -ERR and are closed.
    std::size_t max_sessions = 10000;
};

} // namespace postern::pop3
