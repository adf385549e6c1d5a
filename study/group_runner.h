#pragma once
/// Builds and trains one group of stacked runs: every run of a group shares the tensor shapes, and
/// the group executes as one tensor program with a leading replica axis.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "framework/config.h"
#include "framework/progress.h"
#include "models/metrics.h"
#include "models/register.h"
#include "trainers/monitor.h"
#include "trainers/recorder.h"
#include "trainers/trainer.h"

namespace lrlab::study {

/// A group built and ready to train.
struct BuiltGroup {
  Config config;                                  ///< the stacked config (one document per run)
  models::Model model;                            ///< base, teacher, adapter
  std::shared_ptr<trainers::Trainer> trainer;     ///< the trainer
  models::MetricsOptions metrics;                 ///< metric options
};

/// Reads the top-level keys of a run config (name, seed, replicas, device, dtype, output, study) and
/// builds the model, trainer and metric options of a group; checks strict keys everywhere.
/// `run_configs` hold one root config per run (each with its own `seed`).
BuiltGroup build_group(const std::vector<Config>& run_configs);

/// The outcome of a trained group.
struct GroupOutcome {
  BuiltGroup group;                    ///< the trained model
  std::unique_ptr<Recorder> recorder;  ///< curves, hitting times, final values per run
};

/// Builds and trains a group; `records` gives each run's id and seed (same order as `run_configs`).
/// Once `*cancel` is true the group stops at its next record by throwing Cancelled. `on_record` (may
/// be empty) is called after each record (live curves and progress).
GroupOutcome run_group(const std::vector<Config>& run_configs, std::vector<RunRecord> records,
                       Progress* progress = nullptr, const std::atomic<bool>* cancel = nullptr,
                       trainers::RecordHook on_record = {});

/// The options of the `output` section.
struct OutputOptions {
  std::string dir;            ///< results folder (default runs/<name>)
  bool plots = true;          ///< render plots at the end of a study
  bool save_tensors = true;   ///< save per-run tensors (adapter, base, teacher, student)
  double flush_seconds = 5;   ///< a running group's new curve rows reach curves.csv at most this often (0: every record)
};

/// Reads the `output` section (default dir: runs/<name>).
OutputOptions read_output_options(const Config& root);

}  // namespace lrlab::study
