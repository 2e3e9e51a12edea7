// Unit tests for postern/sasl/cram_md5.hpp.
