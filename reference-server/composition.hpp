// The SASL mechanisms compiled into postern-server. Adding a mechanism to
// the server means adding it here; configuration can only narrow these.
#pragma once

#include <postern/sasl/login.hpp>
#include <postern/sasl/mechanism_set.hpp>
#include <postern/sasl/plain.hpp>

namespace postern_server {

using smtp_mechanisms =
    postern::sasl::mechanism_set<postern::sasl::plain, postern::sasl::login>;

// TODO: POP3 is not served yet, so no POP3 mechanism is compiled in; USER,
// APOP and the SASL mechanisms of POP3 AUTH belong here once it is.
using pop3_mechanisms = postern::sasl::mechanism_set<>;

} // namespace postern_server
