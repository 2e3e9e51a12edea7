// Lets Boost.Test print SASL enums in failure messages.
#pragma once

#include <postern/sasl/availability.hpp>
#include <postern/sasl/mechanism.hpp>

#include <ostream>

namespace postern::sasl {

inline std::ostream& boost_test_print_type(std::ostream& out,
                                           availability value)
{
    return out << to_string(value);
}

inline std::ostream& boost_test_print_type(std::ostream& out, step_kind kind)
{
    switch (kind) {
    case step_kind::challenge: return out << "challenge";
    case step_kind::verify_password: return out << "verify_password";
    case step_kind::lookup_credentials: return out << "lookup_credentials";
    case step_kind::success: return out << "success";
    case step_kind::failure: return out << "failure";
    }
    return out << "step_kind " << static_cast<int>(kind);
}

inline std::ostream& boost_test_print_type(std::ostream& out,
                                           failure_reason reason)
{
    switch (reason) {
    case failure_reason::none: return out << "none";
    case failure_reason::malformed: return out << "malformed";
    case failure_reason::invalid_credentials:
        return out << "invalid_credentials";
    case failure_reason::authzid_rejected: return out << "authzid_rejected";
    }
    return out << "failure_reason " << static_cast<int>(reason);
}

} // namespace postern::sasl

namespace postern::directory {

inline std::ostream& boost_test_print_type(std::ostream& out,
                                           secret_kind kind)
{
    return out << "secret_kind " << static_cast<int>(kind);
}

} // namespace postern::directory
