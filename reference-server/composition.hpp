// The SASL mechanisms compiled into postern-server. Adding a mechanism to
// the server means adding it here; configuration can only narrow these.
#pragma once

#include <postern/sasl/cram_md5.hpp>
#include <postern/sasl/login.hpp>
#include <postern/sasl/mechanism_set.hpp>
#include <postern/sasl/ntlm.hpp>
#include <postern/sasl/plain.hpp>
#include <postern/sasl/scram.hpp>

namespace postern_server {

// Offered in this order, after runtime availability narrows the set.
// SCRAM -PLUS variants appear only on TLS connections.
using smtp_mechanisms = postern::sasl::mechanism_set<
    postern::sasl::scram_sha256_plus, postern::sasl::scram_sha256,
    postern::sasl::scram_sha1_plus, postern::sasl::scram_sha1,
    postern::sasl::cram_md5, postern::sasl::ntlm, postern::sasl::plain,
    postern::sasl::login>;

// POP3 AUTH (RFC 5034) offers the same mechanisms. USER/PASS and APOP are
// part of every POP3 server; [auth.pop3] USER and APOP switch them.
using pop3_mechanisms = smtp_mechanisms;

// The secrets `user add` derives: every mechanism either protocol offers.
using stored_mechanisms = smtp_mechanisms;

} // namespace postern_server
