#include "study/plot_labels.h"

#include <map>
#include <optional>

#include "framework/config.h"
#include "framework/csv.h"
#include "framework/error.h"
#include "framework/strings.h"
#include "study/plot_scales.h"

namespace lrlab {
namespace study {

namespace {

struct Label {
  std::string axis;    // axis label, with the unit where there is one
  std::string symbol;  // short name in legends
};

// The one label table. Metrics are listed by their registry name; runs.csv columns built from them
// (steps_to_<metric>_<threshold>, final_<metric>) are labelled from these entries.
const std::map<std::string, Label>& label_table() {
  static const std::map<std::string, Label> table = {
      {"base.d", {"input dimension d", "d"}},
      {"base.k", {"hidden units k", "k"}},
      {"teacher.rank", {"teacher rank r*", "r*"}},
      {"adapter.rank", {"adapter rank r", "r"}},
      {"teacher.xi", {"perturbation size ξ*", "ξ*"}},
      {"teacher.tau", {"label noise τ", "τ"}},
      {"adapter.alpha", {"LoRA scale α", "α"}},
      {"trainer.lr", {"learning rate η", "η"}},
      {"trainer.batch", {"batch size B", "B"}},
      {"trainer.steps", {"step budget (steps)", "steps"}},
      {"trainer.steps_per_d", {"step budget per input dimension (steps / d)", "steps/d"}},
      {"step", {"step", "step"}},
      {"steps", {"steps run", "steps"}},
      {"diverged_step", {"step of divergence", "diverged at"}},
      {"overlap", {"overlap", "overlap"}},
      {"test_loss", {"test loss", "test loss"}},
      {"train_loss", {"training loss", "training loss"}},
      {"population_loss", {"population loss", "population loss"}},
      {"delta_error", {"relative error of Δ", "error of Δ"}},
      {"delta_error_sym", {"relative error of Δ up to symmetries", "error of Δ (sym.)"}},
  };
  return table;
}

// "adapter.alpha" -> "alpha", "base.zero_base" -> "zero base".
std::string readable(const std::string& key) {
  std::string last = key.substr(key.rfind('.') == std::string::npos ? 0 : key.rfind('.') + 1);
  for (char& c : last)
    if (c == '_') c = ' ';
  return last.empty() ? key : last;
}

std::optional<Label> derived_label(const std::string& key) {
  const auto& table = label_table();
  auto it = table.find(key);
  if (it != table.end()) return it->second;
  const std::string steps_to = "steps_to_";
  if (key.compare(0, steps_to.size(), steps_to) == 0) {
    // steps_to_<metric>_<threshold>: the threshold follows the last underscore.
    const std::size_t cut = key.rfind('_');
    if (cut > steps_to.size()) {
      const std::string metric = key.substr(steps_to.size(), cut - steps_to.size());
      std::string threshold = key.substr(cut + 1);
      try {
        if (auto v = parse_number(threshold)) threshold = number_text(*v);
      } catch (const Error&) {
      }
      const std::string text = "steps to " + axis_label(metric) + " " + threshold;
      return Label{text, text};
    }
  }
  const std::string final_ = "final_";
  if (key.compare(0, final_.size(), final_) == 0) {
    const std::string metric = key.substr(final_.size());
    return Label{"final " + axis_label(metric), "final " + symbol_label(metric)};
  }
  return std::nullopt;
}

}  // namespace

std::string axis_label(const std::string& key) {
  auto label = derived_label(key);
  return label ? label->axis : readable(key);
}

std::string symbol_label(const std::string& key) {
  auto label = derived_label(key);
  return label ? label->symbol : readable(key);
}

std::string value_label(const std::string& value) {
  if (value.empty() || value[0] != '{') return value;
  ConfigValue node;
  try {
    node = Config::load_string(value, "<value>").value();
  } catch (const Error&) {
    return value;
  }
  if (!node.at("type").is_scalar()) return value;
  // The type word, then the section's other options: "lora (rank 1)", "hermite (coefficients
  // [0, 1, 1])", "linearized (inner lora (rank 1))": a value the legend leaves out could make two
  // different series read the same.
  std::string options;
  for (const std::string& key : node.keys()) {
    if (key == "type") continue;
    const ConfigValue& option = node.at(key);
    const std::string shown = option.is_scalar() ? option.scalar() : value_label(option.text());
    options += (options.empty() ? "" : ", ") + readable(key) + " " + shown;
  }
  return node.at("type").scalar() + (options.empty() ? "" : " (" + options + ")");
}

std::string combination_label(const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  for (const auto& kv : values) {
    const bool section = !kv.second.empty() && kv.second[0] == '{';
    out += (out.empty() ? "" : ", ") +
           (section ? value_label(kv.second) : symbol_label(kv.first) + " = " + kv.second);
  }
  return out.empty() ? "all runs" : out;
}

}  // namespace study
}  // namespace lrlab
