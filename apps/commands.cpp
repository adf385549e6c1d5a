#include "apps/commands.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>


#include <iostream>

#include "apps/cli_checks.h"
#include "apps/config_command.h"
#include "apps/export_command.h"
#include "apps/gradcheck_command.h"
#include "apps/list_command.h"
#include "apps/multirun.h"
#include "apps/slurm_command.h"
#include "apps/summarize_command.h"
#include "apps/status_command.h"
#include "framework/config.h"
#include "framework/interrupt.h"
#include "study/defaults.h"
#include "study/plot.h"
#include "study/results_folder.h"
#include "study/runner.h"

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
      if (study::default_value(root, assignment.substr(0, eq)).empty() && !study::accepts_added_key(root, assignment))
        throw;
      root.apply_override("+" + assignment);
    }
  }
  study::fill_swept_defaults(root);
  return root;
}

namespace {

/// An unknown first word (`lrlab frob`) is an error listing the commands, with a did-you-mean;
/// CLI11 alone says only "A subcommand is required".
void check_command_word(const CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return;
  std::vector<std::string> names;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
  const std::string message = unknown_command_message(argv[1], names);
  if (!message.empty()) throw Error(message);
}


}  // namespace

int run_cli(int argc, char** argv, const std::string& command_line) {
  CLI::App app{"lrlab: how low-rank fine-tuning learns, in the student-teacher setting (Dayi & Chen, COLT 2025)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lrlab 0.1.0");

  std::string config_path, out_dir;
  std::vector<std::string> overrides;
  study::StudyRunOptions run_options;
  auto* run = app.add_subcommand("run", "run the study (or single run) described by CONFIG");
  run->add_option("config", config_path, "YAML config")->required()->check(CLI::ExistingFile);
  run->add_option("overrides", overrides, "key.path=value (must exist), +key.path=value (adds), ~key.path (deletes)");
  bool multirun = false;
  run->add_flag("--multirun,-m", multirun, "key=a,b overrides become study.sweep axes (a grid)");
  run->add_option("--out", run_options.out_dir, "results folder (default: output.dir, i.e. runs/<name>)");
  run->add_option("--jobs,-j", run_options.jobs, "groups trained in parallel (default: one per core)")->check(int_in_range(0, 1024));
  run->add_option("--max-group", run_options.max_group, "most runs stacked into one group")->check(int_in_range(1, 1'000'000));
  run->add_option("--threads", run_options.threads, "intra-op threads per job (default 1; worth it for large d x R)")
      ->check(int_in_range(1, 1024));
  run->add_flag("--dry-run", run_options.dry_run, "print the plan (runs, groups, estimated cost) and stop");
  run->add_flag("--restart", run_options.restart, "discard earlier results in the folder instead of resuming");
  run->add_flag("--quiet,-q", run_options.quiet, "no progress or summary on the terminal");
  std::string shard;
  run->add_option("--shard", shard, "run only shard I of N (I/N, e.g. 2/4) into DIR/shards/I-of-N; see lrlab merge");
  run->add_flag("--force", run_options.force, "run even when the estimated memory or disk use exceeds what is free");

  auto* validate = app.add_subcommand("validate", "check CONFIG (strict keys, types, ranges) without training");
  validate->add_option("config", config_path, "YAML config")->required()->check(CLI::ExistingFile);
  validate->add_option("overrides", overrides, "key.path=value overrides");
  validate->add_flag("--multirun,-m", multirun, "key=a,b overrides become study.sweep axes (as run -m)");

  auto list = add_list_command(app);
  auto config = add_config_command(app);
  auto export_peft = add_export_command(app);

  std::string plot_dir;
  auto* plot = app.add_subcommand("plot", "render the plots of a results folder with gnuplot");
  plot->add_option("dir", plot_dir, "results folder")->required()->check(CLI::ExistingDirectory);

  auto gradcheck = add_gradcheck_command(app);
  auto slurm = add_slurm_command(app);
  auto merge = add_merge_command(app);
  auto summarize = add_summarize_command(app);
  auto status = add_status_command(app);

  check_command_word(app, argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (run->parsed()) {
    install_interrupt_handlers();
    run_options.command_line = command_line;
    if (!shard.empty()) run_options.shard = study::parse_shard(shard);
    Config root = multirun ? load_multirun(config_path, overrides) : load_with_overrides(config_path, overrides);
    study::run_study(root, run_options, [](const std::string& line) { std::cout << line << std::endl; });
    return 0;
  }
  if (validate->parsed()) {
    Config root = multirun ? load_multirun(config_path, overrides) : load_with_overrides(config_path, overrides);
    const std::string plan = study::validate_study(root);  // first: an error must not follow a printed "ok ("
    std::cout << config_path << ": ok (" << plan << ")" << std::endl;
    return 0;
  }
  if (app.got_subcommand("list")) return list();
  if (app.got_subcommand("config")) return config();
  if (app.got_subcommand("export")) return export_peft();
  if (app.got_subcommand("gradcheck")) return gradcheck();
  if (app.got_subcommand("slurm")) return slurm();
  if (app.got_subcommand("merge")) return merge();
  if (app.got_subcommand("summarize")) return summarize();
  if (app.got_subcommand("status")) return status();
  if (plot->parsed()) {
    if (!study::is_results_folder(plot_dir))
      throw Error(plot_dir + " is not an lrlab results folder (no " + study::kResultsMarker +
                  " marker); give the folder that `lrlab run` wrote");
    study::PlotReport report = study::plot_study(plot_dir);
    for (const auto& w : report.warnings) std::cerr << "warning: " << w << "\n";
    for (const auto& f : report.files) std::cout << f << "\n";
    return report.failed.empty() ? 0 : 1;  // images gnuplot should have written are missing, empty or cut short
  }
  return 0;
}

}  // namespace lrlab
