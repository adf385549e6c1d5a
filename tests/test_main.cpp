// The Catch2 main of the lrlab test suite.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
