#pragma once
/// Arithmetic on numbers a user wrote: step budgets (steps_per_d x d), seeds + replicas, tensor sizes
/// (R x k x d x bytes), sample counts. Plain int64 arithmetic wraps silently (1e17 steps became
/// -9223372036854775808), and a double cast to int64 outside its range is undefined behaviour, so
/// every such computation goes through these helpers. Each returns std::nullopt when the result does
/// not exist as an int64; the caller turns that into a located ConfigError (it knows the key).

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>

namespace lrlab {

/// a * b, or nullopt when it overflows int64.
inline std::optional<int64_t> checked_mul(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

/// a + b, or nullopt when it overflows int64.
inline std::optional<int64_t> checked_add(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
  return out;
}

/// The product of `factors`, or nullopt when any partial product overflows int64.
inline std::optional<int64_t> checked_product(std::initializer_list<int64_t> factors) {
  int64_t out = 1;
  for (int64_t f : factors) {
    const auto next = checked_mul(out, f);
    if (!next) return std::nullopt;
    out = *next;
  }
  return out;
}

/// `value` as an int64 when it is finite, a whole number and inside int64's range; else nullopt
/// (1e30, NaN, 2.5 are refused rather than truncated or wrapped).
inline std::optional<int64_t> exact_int64(double value) {
  // 2^63 is exactly representable; every double below it (and >= -2^63) converts without overflow.
  constexpr double kTwo63 = 9223372036854775808.0;
  if (!std::isfinite(value) || value < -kTwo63 || value >= kTwo63) return std::nullopt;
  if (std::trunc(value) != value) return std::nullopt;
  return static_cast<int64_t>(value);
}

/// ceil(value) as an int64 when `value` is finite and the result fits; else nullopt.
inline std::optional<int64_t> ceil_int64(double value) {
  if (!std::isfinite(value)) return std::nullopt;
  return exact_int64(std::ceil(value));
}

}  // namespace lrlab
