#include "apps/config_command.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/multirun.h"
#include "framework/config.h"
#include "study/group_runner.h"
#include "study/plan.h"
#include "study/results_folder.h"

namespace lrlab {

std::string resolved_config(const Config& root) {
  const study::StudyPlan plan = study::expand_study(root);
  Config first = study::config_for_run(root, plan, plan.runs.front());
  const study::BuiltGroup group = study::build_group({first});
  study::read_output_options(group.config);  // records output's defaults, as the runner does
  return study::resolved_config_text(group.config, root, plan.base_seed);
}

std::function<int()> add_config_command(CLI::App& app) {
  struct State {
    std::string config_path;
    std::vector<std::string> overrides;
    bool multirun = false;
  };
  auto state = std::make_shared<State>();
  auto* sub = app.add_subcommand(
      "config", "print the resolved config (defaults filled in): the first run and the study section, as config.yaml");
  sub->add_option("config", state->config_path, "YAML config")->required()->check(CLI::ExistingFile);
  sub->add_option("overrides", state->overrides, "key.path=value, +key.path=value (adds), ~key.path (deletes)");
  sub->add_flag("--multirun,-m", state->multirun, "key=a,b overrides become study.sweep axes (as lrlab run -m)");
  return [sub, state]() {
    if (!sub->parsed()) return 0;
    const Config root = state->multirun ? load_multirun(state->config_path, state->overrides)
                                        : load_with_overrides(state->config_path, state->overrides);
    std::cout << resolved_config(root);
    return 0;
  };
}

}  // namespace lrlab
