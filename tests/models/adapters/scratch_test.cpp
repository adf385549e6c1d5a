// Gradient checks of the `scratch` adapter.
#include <catch2/catch.hpp>

#include "tests/models/adapters/adapter_test_support.h"

TEST_CASE("scratch: analytic gradient == autograd == finite differences", "[adapters][scratch][gradcheck]") {
  lrlab::test::check_adapter_gradients("{type: scratch}");
  lrlab::test::check_adapter_gradients("{type: scratch, init: gaussian, row_scale: 0.5}");
}
