#include "apps/multirun.h"

#include <algorithm>

#include "apps/commands.h"
#include "framework/error.h"
#include "study/defaults.h"

namespace lrlab {

Config load_multirun(const std::string& path, const std::vector<std::string>& assignments) {
  std::vector<std::string> plain, sweeps;
  for (const std::string& a : assignments) {
    const bool is_sweep = !a.empty() && a[0] != '+' && a[0] != '~' && a.find('=') != std::string::npos &&
                          a.rfind("study.", 0) != 0;
    (is_sweep ? sweeps : plain).push_back(a);
  }
  Config root = load_with_overrides(path, plain);
  const std::vector<std::string> swept = study::swept_keys(root);
  for (const std::string& a : sweeps) {
    const std::string key = a.substr(0, a.find('='));
    if (std::find(swept.begin(), swept.end(), key) != swept.end())
      throw ConfigError("<override -m " + a + ">: " + key + ": already swept by the study (" + root.source() +
                        "); replace that axis with study.sweep." + key + "=[...] or delete it with ~study.sweep." + key);
    // `a,b` is a YAML flow list once bracketed; a value with its own brackets or braces stays one item each.
    root.apply_override("+study.sweep." + key + "=[" + a.substr(a.find('=') + 1) + "]");
  }
  study::fill_swept_defaults(root);
  return root;
}

}  // namespace lrlab
