// Run-time settings of an SMTP server: identity, domains, limits, listeners.
#pragma once

#include <postern/core/listener.hpp>
#include <postern/sasl/availability.hpp>

#include <asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace postern::smtp {

using postern::listener_options;
using postern::tls_mode;

struct settings {
    std::string identity; ///< the server's host name (greeting, Received:)
    std::vector<std::string> local_domains; ///< lower case
    /// SIZE (RFC 1870): the largest message accepted, in octets.
    std::size_t max_message_size = 36700160;
    std::size_t max_recipients = 100;
    /// Availability of each SASL mechanism for SMTP.
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
    /// RFC 5321, section 4.5.3.2: at least 5 minutes for commands and
    /// 10 minutes between data blocks.
    std::chrono::seconds command_timeout{300};
    std::chrono::seconds data_timeout{600};
    /// Sessions served at once; further clients get 421 and are closed.
    std::size_t max_sessions = 10000;
};

} // namespace postern::smtp
