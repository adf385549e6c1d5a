#include "study/option_help.h"

#include <utility>

#include "models/option_help.h"
#include "trainers/option_help.h"

namespace lrlab::study {

namespace {

/// The keys of the top level, `output` and `study` (read by the study runner and framework/context).
void add_study_option_help(OptionHelpTable& t) {
  t.add("config", "",
        {{"name", "study name; results go to runs/<name> unless output.dir says otherwise"},
         {"seed", "first seed; run i of a sweep point uses seed + i"},
         {"replicas", "seeds per run when there is no study (stacked on the replica axis)"},
         {"device", "cpu | cuda (an error where there is none) | auto (CUDA if available)"},
         {"dtype", "float32 | float64"},
         {"base", "the base network W (a section, see `lrlab list base`)"},
         {"teacher", "the teacher W* (a section, see `lrlab list teacher`)"},
         {"adapter", "the fine-tuned adapter Delta (a section, see `lrlab list adapter`)"},
         {"trainer", "the training algorithm (a section, see `lrlab list trainer`)"},
         {"metrics", "what is recorded and when (a section)"},
         {"output", "where and what is written (a section)"},
         {"study", "sweep, zip, seeds, fit: the runs of the study (see Studies in the README)"}});
  t.add("output", "",
        {{"dir", "results folder (default runs/<name>)"},
         {"plots", "render the plots with gnuplot after the study"},
         {"save_tensors", "save each run's adapter and teacher, at the step its runs.csv row reports, as .safetensors"},
         {"flush_seconds", "a running group's new curve rows reach curves.csv at most this often (0: every record)"}});
  t.add("study", "",
        {{"sweep", "key path -> list of values: every combination (a grid, first key slowest)"},
         {"zip", "key path -> list of values of one length, varied together and crossed with the grid"},
         {"seeds", "runs per sweep point (seeds seed, seed + 1, ...)"},
         {"fit", "{x: swept key, y: result column[, by: keys, method: censored | least_squares]} or a list: "
                 "scaling fits (censored MLE by default)"},
         {"figure", "{x, y, by, series, title, xlabel, ylabel}: the study's combined figure (plots/figure)"}});
}

/// Sections whose keys are options, by path, with the kind of their table; other maps are values.
const std::vector<std::pair<std::string, std::string>>& section_kinds() {
  static const std::vector<std::pair<std::string, std::string>> kinds = {
      {"", "config"},           {"base", "base network"},       {"base.activation", "activation"},
      {"teacher", "teacher"},   {"adapter", "adapter"},   {"trainer", "trainer"},
      {"trainer.update", "update rule"}, {"trainer.schedule", "schedule"}, {"metrics", "metrics"},
      {"output", "output"},     {"study", "study"}};
  return kinds;
}

/// The kind of the mapping at `path` ("" when it is not an option section); `adapter.inner` (and its
/// own inner) are adapters.
std::string kind_of(const std::string& path) {
  for (const auto& [p, kind] : section_kinds())
    if (p == path) return kind;
  const std::string inner = ".inner";
  if (path.size() > inner.size() && path.compare(path.size() - inner.size(), inner.size(), inner) == 0 &&
      kind_of(path.substr(0, path.size() - inner.size())) == "adapter")
    return "adapter";
  return "";
}

void collect_sections(const ConfigValue& map, const std::string& path, std::vector<OptionSection>& out) {
  const std::string kind = kind_of(path);
  if (kind.empty() || kind == "study") {
    if (kind == "study") out.push_back({path, kind, ""});
    return;
  }
  out.push_back({path, kind, map.at("type").is_scalar() ? map.at("type").scalar() : ""});
  for (const std::string& key : map.keys())
    if (map.at(key).is_map()) collect_sections(map.at(key), path.empty() ? key : path + "." + key, out);
}

}  // namespace

const OptionHelpTable& option_help() {
  static const OptionHelpTable table = [] {
    OptionHelpTable t;
    models::add_model_option_help(t);
    trainers::add_trainer_option_help(t);
    add_study_option_help(t);
    return t;
  }();
  return table;
}

std::vector<OptionSection> option_sections(const Config& resolved_root) {
  std::vector<OptionSection> out;
  collect_sections(resolved_root.value(), "", out);
  return out;
}

std::string section_option_help(const OptionSection& section, const std::string& key) {
  std::string help = option_help().find(section.kind, section.type, key);
  if (help.empty() && section.kind == "trainer") help = option_help().find_any("data source", key);
  return help;
}

}  // namespace lrlab::study
