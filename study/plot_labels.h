#pragma once
/// Human labels for the keys and columns a study's figures show, from one table.
///
/// Axis labels name the quantity and its unit where it has one ("input dimension d",
/// "steps to overlap 0.95", "final population loss", "learning rate η"); legend entries use the
/// short symbol ("d = 64, ξ* = 0.5"). A key outside the table falls back to a readable form of the
/// key: its last dotted part with underscores as spaces ("adapter.alpha" -> "alpha";
/// "base.zero_base" -> "zero base").

#include <string>
#include <vector>

namespace lrlab {
namespace study {

/// The axis label of a config key, a runs.csv column or a metric: "base.d" -> "input dimension d",
/// "steps_to_overlap_0.95" -> "steps to overlap 0.95", "final_population_loss" -> "final population
/// loss", "step" -> "step"; an unknown key -> its readable form.
std::string axis_label(const std::string& key);

/// The short name of a key in legends: "base.d" -> "d", "teacher.xi" -> "ξ*", "trainer.lr" -> "η";
/// an unknown key -> its readable form.
std::string symbol_label(const std::string& key);

/// A swept value as a legend shows it: a whole section `{type: lora, rank: 1}` -> "lora (rank 1)",
/// `{type: linearized, inner: {...}}` -> "linearized"; other values as written.
std::string value_label(const std::string& value);

/// The legend entry of one combination of swept values: "d = 64, ξ* = 0.5"; a whole section is
/// shown by itself ("lora (rank 1), d = 32"); "all runs" for none.
std::string combination_label(const std::vector<std::pair<std::string, std::string>>& values);

}  // namespace study
}  // namespace lrlab
