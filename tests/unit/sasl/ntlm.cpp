// Unit tests for postern/sasl/ntlm.hpp.
