#include "apps/summarize_command.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "study/runner.h"

namespace lrlab {

std::function<int()> add_summarize_command(CLI::App& app) {
  struct State {
    std::string dir, config_path;
    std::vector<std::string> overrides;
  };
  auto state = std::make_shared<State>();
  auto* sub = app.add_subcommand(
      "summarize", "recompute summary.csv, summary.md, fits.csv and the plots of a results folder from its runs.csv");
  sub->add_option("dir", state->dir, "results folder")->required()->check(CLI::ExistingDirectory);
  sub->add_option("overrides", state->overrides, "key.path=value overrides of the config (e.g. study.fit=...)");
  sub->add_option("--config", state->config_path,
                  "config whose study section gives the fits (default: DIR/study.yaml); it must describe the "
                  "same runs (only study.fit, study.figure and output.plots may differ)")
      ->check(CLI::ExistingFile);
  return [sub, state]() {
    if (!sub->parsed()) return 0;
    const std::string path = state->config_path.empty() ? state->dir + "/study.yaml" : state->config_path;
    const Config root = load_with_overrides(path, state->overrides);
    std::string command = "lrlab summarize " + state->dir;
    study::summarize_study(state->dir, root, command, [](const std::string& line) { std::cout << line << std::endl; });
    return 0;
  };
}

}  // namespace lrlab
