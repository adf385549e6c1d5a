#include "study/plot_labels.h"

#include <catch2/catch.hpp>
#include <utility>
#include <vector>

using lrlab::study::axis_label;
using lrlab::study::combination_label;
using lrlab::study::symbol_label;
using lrlab::study::value_label;

namespace {

using Table = std::vector<std::pair<const char*, const char*>>;

// Checks label(key) == expected for every row of `table`.
template <class Label>
void check_labels(Label label, const Table& table) {
  for (const auto& [key, expected] : table) {
    INFO(key);
    CHECK(label(key) == expected);
  }
}

}  // namespace

TEST_CASE("the label table names keys, hitting times and final metrics", "[study][plot]") {
  check_labels(axis_label, {
      {"base.d", "input dimension d"},
      {"trainer.lr", "learning rate η"},
      {"base.k", "hidden units k"},
      {"adapter.rank", "adapter rank r"},
      {"teacher.xi", "perturbation size ξ*"},
      {"population_loss", "population loss"},
      {"step", "step"},
      // Columns built from metrics: the threshold in the figures' number format.
      {"steps_to_overlap_0.95", "steps to overlap 0.95"},
      {"steps_to_population_loss_1e-05", "steps to population loss 1e-5"},
      {"steps_to_population_loss_0.001", "steps to population loss 0.001"},
      {"final_population_loss", "final population loss"},
      {"final_delta_error", "final relative error of Δ"},
      // Unknown keys fall back to a readable form of the key.
      {"base.zero_base", "zero base"},
      {"adapter.some_option", "some option"},
      {"final_new_metric", "final new metric"},
  });
}

TEST_CASE("legend labels use symbols and readable sections", "[study][plot]") {
  CHECK(symbol_label("base.d") == "d");
  CHECK(symbol_label("teacher.xi") == "ξ*");
  check_labels(value_label, {
      {"{type: lora, rank: 1}", "lora (rank 1)"},
      {"{type: linearized, inner: {type: lora, rank: 1}}", "linearized (inner lora (rank 1))"},
      {"{type: hermite, coefficients: [0, 0, 1, 1], normalize: true}",
       "hermite (coefficients [0, 0, 1, 1], normalize true)"},
      {"{type: rank1, c: train}", "rank1 (c train)"},
      {"64", "64"},
  });
  CHECK(combination_label({{"base.d", "64"}, {"teacher.xi", "0.5"}}) == "d = 64, ξ* = 0.5");
  CHECK(combination_label({{"adapter", "{type: scratch}"}, {"base.d", "32"}}) == "scratch, d = 32");
  CHECK(combination_label({}) == "all runs");
}
