#include "apps/commands.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <iostream>

#include "apps/gradcheck_command.h"
#include "apps/status_command.h"
#include "framework/config.h"
#include "framework/interrupt.h"
#include "models/activation_registry.h"
#include "models/metrics.h"
#include "models/register.h"
#include "study/defaults.h"
#include "study/group_runner.h"
#include "study/plot.h"
#include "study/runner.h"
#include "trainers/trainer.h"

namespace lrlab {

Config load_with_overrides(const std::string& path, const std::vector<std::string>& overrides) {
  Config root = Config::load_file(path);
  for (const auto& assignment : overrides) {
    try {
      root.apply_override(assignment);
    } catch (const ConfigError&) {
      // `key=value` must name an existing key; a key the file omits but that has a default exists too.
      const auto eq = assignment.find('=');
      if (assignment.empty() || assignment[0] == '+' || eq == std::string::npos) throw;
      if (study::default_value(root, assignment.substr(0, eq)).empty()) throw;
      root.apply_override("+" + assignment);
    }
  }
  study::fill_swept_defaults(root);
  return root;
}

namespace {

/// The resolved options of one section when a component is built from its defaults.
std::string default_options(const std::string& yaml, const std::string& section) {
  try {
    Config cfg = Config::load_string(yaml, "<defaults>");
    study::build_group({cfg});
    YAML::Node node = YAML::Load(cfg.resolved_yaml());
    for (const auto& part : {section.substr(0, section.find('.')),
                             section.find('.') == std::string::npos ? "" : section.substr(section.find('.') + 1)}) {
      if (part.empty()) continue;
      node = node[part];
    }
    YAML::Emitter e;
    e.SetMapFormat(YAML::Flow);
    e.SetSeqFormat(YAML::Flow);
    e << node;
    return e.c_str();
  } catch (const std::exception& e) {
    return std::string("(needs options: ") + e.what() + ")";
  }
}

/// The fast online-SGD path of an adapter built with its defaults: "kernel" when it provides a CPU
/// kernel (models/adapters/adapter_kernel.h), else "batched (<why>)".
std::string adapter_fast_path(const std::string& key) {
  try {
    study::BuiltGroup group = study::build_group({Config::load_string("adapter: {type: " + key + "}", "<defaults>")});
    std::string why;
    return group.model.adapter->cpu_kernel(at::kFloat, &why) ? "kernel" : "batched (" + why + ")";
  } catch (const std::exception& e) {
    return std::string("(needs options: ") + e.what() + ")";
  }
}

/// `extra` (may be empty) gives one more line per entry when `with_options`.
template <class RegistryT>
void list_registry(std::string& out, const RegistryT& registry, const std::string& section,
                   const std::function<std::string(const std::string&)>& yaml_for, bool with_options,
                   const std::function<std::string(const std::string&)>& extra = {}) {
  out += fmt::format("{} ({}.type):\n", registry.kind(), section);
  for (const auto* e : registry.entries()) {
    out += fmt::format("  {:<14} {}\n", e->key, e->help);
    if (with_options) out += fmt::format("  {:<14}   options: {}\n", "", default_options(yaml_for(e->key), section));
    if (with_options && extra) out += fmt::format("  {:<14}   {}\n", "", extra(e->key));
    if (!e->stackable.empty()) out += fmt::format("  {:<14}   may differ within a group: {}\n", "", fmt::join(e->stackable, ", "));
  }
}

}  // namespace

std::string list_components(bool with_options) {
  std::string out;
  // hermite has no default order: list it with p: 3 as the example.
  list_registry(out, models::activation_registry(), "base.activation",
                [](const std::string& k) {
                  return "base: {activation: {type: " + k + (k == "hermite" ? ", p: 3" : "") + "}}";
                },
                with_options);
  list_registry(out, models::base_registry(), "base",
                [](const std::string& k) { return "base: {type: " + k + "}"; }, with_options);
  list_registry(out, models::teacher_registry(), "teacher",
                [](const std::string& k) { return "teacher: {type: " + k + "}"; }, with_options);
  list_registry(out, models::adapter_registry(), "adapter",
                [](const std::string& k) { return "adapter: {type: " + k + "}"; }, with_options,
                [](const std::string& k) { return "fast path (CPU online SGD): " + adapter_fast_path(k); });
  list_registry(out, trainers::trainer_registry(), "trainer",
                [](const std::string& k) { return "trainer: {type: " + k + "}"; }, with_options);
  out += "metric (metrics.names):\n";
  for (const auto* e : models::metric_registry().entries()) out += fmt::format("  {:<14} {}\n", e->key, e->help);
  out += fmt::format("  {:<14} {}\n", "train_loss", "running mean of the training loss since the previous record");
  if (with_options) out += "  metrics options: " + default_options("{}", "metrics") + "\n";
  return out;
}

int run_cli(int argc, char** argv, const std::string& command_line) {
  CLI::App app{"lrlab: how low-rank fine-tuning learns, in the student-teacher setting (Dayi & Chen, COLT 2025)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lrlab 0.1.0");

  std::string config_path, out_dir;
  std::vector<std::string> overrides;
  study::StudyRunOptions run_options;
  auto* run = app.add_subcommand("run", "run the study (or single run) described by CONFIG");
  run->add_option("config", config_path, "YAML config")->required()->check(CLI::ExistingFile);
  run->add_option("overrides", overrides, "key.path=value (must exist) or +key.path=value (adds)");
  run->add_option("--out", run_options.out_dir, "results folder (default: output.dir, i.e. runs/<name>)");
  run->add_option("--jobs,-j", run_options.jobs, "groups trained in parallel (default: one per core)")->check(CLI::NonNegativeNumber);
  run->add_option("--max-group", run_options.max_group, "most runs stacked into one group")->check(CLI::PositiveNumber);
  run->add_option("--threads", run_options.threads, "intra-op threads per job (default 1; worth it for large d x R)")
      ->check(CLI::PositiveNumber);
  run->add_flag("--dry-run", run_options.dry_run, "print the plan (runs, groups, estimated cost) and stop");
  run->add_flag("--restart", run_options.restart, "discard earlier results in the folder instead of resuming");
  run->add_flag("--quiet,-q", run_options.quiet, "no progress or summary on the terminal");

  auto* validate = app.add_subcommand("validate", "check CONFIG (strict keys, types, ranges) without training");
  validate->add_option("config", config_path, "YAML config")->required()->check(CLI::ExistingFile);
  validate->add_option("overrides", overrides, "key.path=value overrides");

  bool brief = false;
  auto* list = app.add_subcommand("list", "list every registered component with its options and defaults");
  list->add_flag("--brief", brief, "keys and help only");

  std::string plot_dir;
  auto* plot = app.add_subcommand("plot", "render the plots of a results folder with gnuplot");
  plot->add_option("dir", plot_dir, "results folder")->required()->check(CLI::ExistingDirectory);

  auto gradcheck = add_gradcheck_command(app);
  auto status = add_status_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (run->parsed()) {
    install_interrupt_handlers();
    run_options.command_line = command_line;
    Config root = load_with_overrides(config_path, overrides);
    study::run_study(root, run_options, [](const std::string& line) { std::cout << line << std::endl; });
    return 0;
  }
  if (validate->parsed()) {
    Config root = load_with_overrides(config_path, overrides);
    const std::string plan = study::validate_study(root);  // first: an error must not follow a printed "ok ("
    std::cout << config_path << ": ok (" << plan << ")" << std::endl;
    return 0;
  }
  if (list->parsed()) {
    std::cout << list_components(!brief);
    return 0;
  }
  if (app.got_subcommand("gradcheck")) return gradcheck();
  if (app.got_subcommand("status")) return status();
  if (plot->parsed()) {
    study::PlotReport report = study::plot_study(plot_dir);
    for (const auto& w : report.warnings) std::cerr << "warning: " << w << "\n";
    for (const auto& f : report.files) std::cout << f << "\n";
    return 0;
  }
  return 0;
}

}  // namespace lrlab
