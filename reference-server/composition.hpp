// The SASL mechanisms compiled into postern-server. Adding a mechanism to
// the server means adding it here; configuration can only narrow these.
#pragma once

#include <postern/sasl/login.hpp>
#include <postern/sasl/mechanism_set.hpp>
#include <postern/sasl/plain.hpp>

namespace postern_server {

using smtp_mechanisms =
    postern::sasl::mechanism_set<postern::sasl::plain, postern::sasl::login>;

// POP3 AUTH (RFC 5034). USER/PASS and APOP are built into every POP3
// server; [auth.pop3] USER and APOP switch them.
using pop3_mechanisms =
    postern::sasl::mechanism_set<postern::sasl::plain, postern::sasl::login>;

} // namespace postern_server
