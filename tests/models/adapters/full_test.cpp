// Gradient checks of the `full` adapter.
#include <catch2/catch.hpp>

#include "tests/models/adapters/adapter_test_support.h"

TEST_CASE("full: analytic gradient == autograd == finite differences", "[adapters][full][gradcheck]") {
  lrlab::test::check_adapter_gradients("{type: full}");
}
