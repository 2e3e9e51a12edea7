#define BOOST_TEST_MODULE sasl
#include <boost/test/unit_test.hpp>
