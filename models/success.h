#pragma once
/// A combined success criterion (`metrics.success`): a run succeeds at the first record where every
/// condition holds at once, e.g. `{overlap: ">= 0.95", population_loss: "<= 1e-3"}`. Unlike a single
/// threshold, which a stalled run can cross on one metric while failing on another (an overlap of 0.95
/// with a population loss stuck at 1e-2), a joint condition on an alignment and a loss cannot be met by
/// a run that has not learned the teacher. Torch-free.

#include <string>
#include <vector>

namespace lrlab::models {

/// One condition of a success criterion: `metric` >= `value` (at_least) or `metric` <= `value`.
struct SuccessCondition {
  std::string metric;    ///< a recorded metric
  bool at_least = true;  ///< true: value >= bound; false: value <= bound
  double bound = 0.0;    ///< the bound

  /// Whether `value` satisfies the condition (false for NaN).
  bool holds(double value) const { return at_least ? value >= bound : value <= bound; }
  /// The condition as written, e.g. "overlap >= 0.95".
  std::string text() const;
};

/// Parses one condition's text, ">= 0.95" or "<= 1e-3" (spaces optional). Returns false (and leaves
/// `out` unchanged) when the text is not an operator followed by a finite number; `why` then says why.
bool parse_success_condition(const std::string& metric, const std::string& text, SuccessCondition* out,
                             std::string* why);

/// Name of the runs.csv column that holds the first step where every condition held.
inline const char* success_column() { return "steps_to_success"; }

}  // namespace lrlab::models
