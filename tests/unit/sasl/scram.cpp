// Unit tests for postern/sasl/scram.hpp.
