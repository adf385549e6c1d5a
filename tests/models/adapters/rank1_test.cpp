// Gradient checks of the `rank1` adapter for every c mode, with and without a trained xi.
#include <catch2/catch.hpp>

#include "tests/models/adapters/adapter_test_support.h"

TEST_CASE("rank1: analytic gradient == autograd == finite differences for every c mode and train_xi",
          "[adapters][rank1][gradcheck]") {
  for (const char* c : {"train", "fixed_random", "teacher"}) {
    for (const char* train_xi : {"false", "true"}) {
      lrlab::test::check_adapter_gradients(fmt::format("{{type: rank1, c: {}, train_xi: {}}}", c, train_xi));
    }
  }
  lrlab::test::check_adapter_gradients("{type: rank1, c: train, c_init: zero, xi_from_teacher: false, xi: 1.5}");
}
