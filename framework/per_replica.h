#pragma once
/// A per-replica option: one value for every replica of a stacked group (R values, or one value that
/// holds for all). Options structs hold these instead of replica 0's value, so nothing downstream can
/// read one replica's setting for another.

#include <cstddef>
#include <utility>
#include <vector>

#include "framework/error.h"

namespace lrlab {

/// R values of one option, one per replica (a single value broadcasts to every replica).
template <class T>
class PerReplica {
 public:
  /// One value for every replica.
  PerReplica(T value = T{}) : values_{std::move(value)} {}  // NOLINT(google-explicit-constructor)
  /// One value per replica (must not be empty).
  explicit PerReplica(std::vector<T> values) : values_(std::move(values)) {
    check(!values_.empty(), "PerReplica: needs at least one value");
  }
  /// Replica r's value (a single value broadcasts).
  const T& operator[](std::size_t r) const { return values_.size() == 1 ? values_[0] : values_.at(r); }
  /// Number of stored values (1 when broadcast).
  std::size_t size() const { return values_.size(); }
  /// True when every replica has the same value.
  bool uniform() const {
    for (const T& v : values_)
      if (!(v == values_[0])) return false;
    return true;
  }
  /// The stored values.
  const std::vector<T>& values() const { return values_; }
  /// The values expanded to `replicas` entries.
  std::vector<T> expand(std::size_t replicas) const {
    std::vector<T> out;
    out.reserve(replicas);
    for (std::size_t r = 0; r < replicas; ++r) out.push_back((*this)[r]);
    return out;
  }

 private:
  std::vector<T> values_;
};

}  // namespace lrlab
