#define BOOST_TEST_MODULE trust
#include <boost/test/unit_test.hpp>
