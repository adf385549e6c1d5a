#include "study/defaults.h"

#include <optional>
#include <string>
#include <vector>

#include "framework/error.h"
#include "study/group_runner.h"

namespace lrlab::study {

namespace {

/// The dotted keys a `study.sweep` / `study.zip` mapping varies (nested maps flattened).
void collect_swept_keys(const ConfigValue& node, const std::string& prefix, std::vector<std::string>& out) {
  for (const std::string& local : node.keys()) {
    const std::string key = prefix + local;
    if (node.at(local).is_map()) collect_swept_keys(node.at(local), key + ".", out);
    else out.push_back(key);
  }
}

/// The value at a dotted key path of a root config (null when absent).
ConfigValue value_at(const Config& root, const std::string& dotted_key) {
  ConfigValue value = root.value();
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = dotted_key.find('.', start);
    value = value.at(dotted_key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return value;
    start = dot + 1;
  }
}

/// The config of `root` without its study, with every default filled in (throws when it does not build).
Config resolved_without_study(const Config& root) {
  Config run = root.clone();
  run.erase("study");
  build_group({run});
  return run.resolved();
}

}  // namespace

std::string default_value(const Config& root, const std::string& dotted_key) {
  try {
    return resolved_without_study(root).value_text(dotted_key);
  } catch (const std::exception&) {
    return "";  // the config is broken elsewhere: the caller reports its own error
  }
}

std::vector<std::string> swept_keys(const Config& root) {
  const ConfigValue study = root.value("study");
  std::vector<std::string> keys;
  for (const char* section : {"sweep", "zip"}) collect_swept_keys(study.at(section), "", keys);
  return keys;
}

bool accepts_added_key(const Config& root, const std::string& assignment) {
  Config trial = root.clone();
  try {
    trial.apply_override("+" + assignment);
  } catch (const ConfigError&) {
    return false;
  }
  try {
    resolved_without_study(trial);
    return true;
  } catch (const ConfigError& e) {
    // The key is known but clashes with another (trainer.steps next to steps_per_d): that error says
    // more than "unknown key". Any other error belongs to the config, reported where it is built.
    if (std::string(e.what()).find("unknown key") == std::string::npos) throw;
    return false;
  } catch (const std::exception&) {
    return false;
  }
}

void fill_swept_defaults(Config& root) {
  const std::vector<std::string> keys = swept_keys(root);
  std::vector<std::string> missing;
  for (const auto& key : keys)
    if (root.value_text(key).empty()) missing.push_back(key);
  if (missing.empty()) return;
  std::optional<Config> resolved;
  try {
    resolved = resolved_without_study(root);
  } catch (const std::exception&) {
    return;  // the config is broken elsewhere: expanding the study reports it
  }
  for (const auto& key : missing)
    if (!resolved->value_text(key).empty()) root.set_value(key, value_at(*resolved, key));
}

}  // namespace lrlab::study
