// framework/checked_math.h: products, sums and conversions of user numbers refuse what does not fit
// an int64 instead of wrapping (1e17 steps became -9223372036854775808 before).

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "framework/checked_math.h"

namespace {
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
}  // namespace

TEST_CASE("checked_mul and checked_add give the result or nothing on overflow", "[checked_math]") {
  CHECK(lrlab::checked_mul(3, 4) == 12);
  CHECK(lrlab::checked_mul(-3, 4) == -12);
  CHECK(lrlab::checked_mul(kMax, 1) == kMax);
  CHECK_FALSE(lrlab::checked_mul(kMax, 2));
  CHECK_FALSE(lrlab::checked_mul(int64_t{1} << 32, int64_t{1} << 31));
  CHECK(lrlab::checked_mul(int64_t{1} << 31, int64_t{1} << 31) == int64_t{1} << 62);
  CHECK_FALSE(lrlab::checked_mul(kMin, -1));
  CHECK(lrlab::checked_add(kMax - 2, 2) == kMax);
  CHECK_FALSE(lrlab::checked_add(kMax - 1, 2));  // seed 2^63-2 with 3 replicas
  CHECK_FALSE(lrlab::checked_add(kMin, -1));
  CHECK(lrlab::checked_add(-5, 3) == -2);
}

TEST_CASE("checked_product multiplies sizes such as R x k x d x bytes", "[checked_math]") {
  CHECK(lrlab::checked_product({}) == 1);
  CHECK(lrlab::checked_product({256, 8, 1000, 8}) == 256 * 8 * 1000 * 8);
  CHECK_FALSE(lrlab::checked_product({10'000'000, 1'000'000, 1'000'000, 8}));  // 8e19 > 2^63
  CHECK(lrlab::checked_product({0, kMax, kMax}) == 0);  // a zero factor first: no overflow happens
}

TEST_CASE("exact_int64 and ceil_int64 refuse non-integers, NaN, infinities and out-of-range values",
          "[checked_math]") {
  CHECK(lrlab::exact_int64(0.0) == 0);
  CHECK(lrlab::exact_int64(-7.0) == -7);
  CHECK(lrlab::exact_int64(1e15) == 1'000'000'000'000'000);
  CHECK_FALSE(lrlab::exact_int64(2.5));
  CHECK_FALSE(lrlab::exact_int64(std::nan("")));
  CHECK_FALSE(lrlab::exact_int64(INFINITY));
  CHECK_FALSE(lrlab::exact_int64(-INFINITY));
  CHECK_FALSE(lrlab::exact_int64(1e30));
  CHECK_FALSE(lrlab::exact_int64(9223372036854775808.0));  // 2^63: one past the largest int64
  CHECK(lrlab::exact_int64(-9223372036854775808.0) == kMin);
  CHECK(lrlab::exact_int64(9223372036854774784.0) == 9223372036854774784);  // the largest double below 2^63
  CHECK(lrlab::ceil_int64(2.1) == 3);
  CHECK(lrlab::ceil_int64(1e17) == 100'000'000'000'000'000);
  CHECK_FALSE(lrlab::ceil_int64(1e30));
  CHECK_FALSE(lrlab::ceil_int64(std::nan("")));
}
