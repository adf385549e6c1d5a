#pragma once
/// The results folder of a study and the guarantees that make it crash-safe and resumable.
///
///   config.yaml   the resolved config (defaults filled in), with the study section
///   study.yaml    the config exactly as given (file + overrides): a resumed study must match it
///   meta.yaml     versions, BLAS, device, command line, overrides, seeds, what determinism depends on,
///                 and per finished group its runs and the computation path it ran (study/meta.h)
///   curves.csv, runs.csv        the result tables (study/runs_table.h)
///   summary.csv / summary.md / fits.csv   per sweep point medians and IQRs, fitted exponents
///   plots/        PNG and SVG rendered with gnuplot
///   tensors/<run>.safetensors   per-run tensors (when output.save_tensors, study/tensor_files.h)
///   .lrlab-results  the marker: this folder was created by lrlab, so lrlab may delete what it wrote here
///   .lock           the one-writer lock (framework/folder_lock.h): host, pid and command of the holder
///
/// Safety: one writer per folder (lock_results, held for the whole run; a second writer fails naming
/// the holder). lrlab writes only into a new or empty folder or one that carries the marker (or an older
/// lrlab folder: study.yaml and a meta.yaml with lrlab_version, which then gets the marker), and
/// `--restart` deletes only the files named above (tensors/: only `<run id>.safetensors`), never a
/// folder recursively. Temporary files (`<file>.tmp.<pid>.<n>`) of dead processes are removed; those
/// of a live process never are.
///
/// study.yaml is written first (after the marker); a group's curves.csv rows are appended while it runs
/// (whole rows, one write each: a crash leaves at most a truncated last line, which resume cuts), then its
/// tensors and its runs.csv rows (replaced atomically). A run is finished
/// once its runs.csv row exists; meta.yaml plays no part in the resume check.

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <memory>

#include "framework/config.h"
#include "framework/folder_lock.h"
#include "study/group_runner.h"
#include "study/plan.h"

namespace lrlab::study {

/// The marker file that makes a folder an lrlab results folder.
inline constexpr const char* kResultsMarker = ".lrlab-results";

/// Takes the one-writer lock of the results folder `dir` (`writer_subdir` empty: `<dir>/.lock`) or of
/// one writer's part of it (e.g. `writer_subdir` "shards/2-of-4": `<dir>/shards/2-of-4/.lock`),
/// creating those folders as needed. Throws lrlab::Error naming the holder when another process holds
/// it; a stale lock (its holder died) is taken over and `warn` gets one line saying so. `command` is
/// written into the lock file for the next writer's message.
std::unique_ptr<FolderLock> lock_results(const std::string& dir, const std::string& writer_subdir,
                                         const std::string& command,
                                         const std::function<void(const std::string&)>& warn);

/// Throws ConfigError at the sweep or zip entry when the study varies `name`, `output.dir` or a
/// whole `output` section with a dir: every point would write into one folder.
void check_folder_keys(const Config& root, const StudyPlan& plan);

/// Refuses (through `fail_dir`, which throws) a folder lrlab must not write into: one that exists, is
/// not empty and is not a results folder (with `restart` the message says that --restart deletes only
/// in results folders); then creates the folder (and its parents) if missing. Call before locking it.
void create_results_folder(const std::string& dir, bool restart,
                           const std::function<void(const std::string&)>& fail_dir);

/// Creates (or reopens) the results folder; the caller holds its lock (lock_results). Nothing is
/// written unless the folder is usable: the marker, then study.yaml (`document`) are written first, so
/// no result file ever exists without them. A folder of another study, or with results but no
/// study.yaml, is refused unless `restart` (which deletes the earlier results: only files lrlab names).
/// A study.yaml that differs only in summary keys (study.fit, study.figure, output.plots) is accepted and rewritten,
/// saying so through `log`. `fail_dir` reports a folder that cannot be created, naming what chose it.
void prepare_folder(const std::string& dir, const std::string& document, bool restart,
                    const std::function<void(const std::string&)>& fail_dir,
                    const std::function<void(const std::string&)>& log);

/// Writes the marker `dir`/.lrlab-results (once): the folder was created by lrlab, so lrlab may delete
/// what it wrote. Not through a temporary file: its existence is what counts, and a temporary file left
/// by a kill would make the folder look like a user's.
void write_marker(const std::string& dir);

/// True when two study.yaml documents describe the same runs: equal once the summary-only keys
/// (study.fit, study.figure, output.plots) are removed from both.
bool same_runs(const std::string& document_a, const std::string& document_b);

/// Compares `document` with `dir`/study.yaml: false when they describe different runs; else true,
/// after rewriting study.yaml with `document` when the summary settings differ (said through `log`).
bool adopt_study_document(const std::string& dir, const std::string& document,
                          const std::function<void(const std::string&)>& log);

/// True when `dir` carries the marker, or is an lrlab folder from before the marker (study.yaml and a
/// meta.yaml with lrlab_version).
bool is_results_folder(const std::string& dir);

/// What a resumed folder must agree with.
struct ResumeCheck {
  std::vector<std::string> runs_header;  ///< this config's runs.csv header
  bool save_tensors = false;             ///< finished runs must have tensors/<run>.safetensors
  std::string fix_command;               ///< the command that discards the folder's results (--restart)
};

/// Reads the ids of finished runs (those with a runs.csv row) after checking the folder: runs whose
/// rows are duplicated, that lack their curves.csv rows, or (with save_tensors) their tensors file
/// are dropped (rows and tensors) and so trained again, each repair said through `log`; curve rows of
/// unfinished runs are dropped (a crash between the two appends of a group leaves curves without runs
/// rows). Throws lrlab::Error, giving `check.fix_command`, for what cannot be repaired by rerunning:
/// a runs.csv or curves.csv header of another config, run ids that are not in `plan`.
std::set<std::string> check_finished_runs(const std::string& dir, const StudyPlan& plan, const ResumeCheck& check,
                                          const std::function<void(const std::string&)>& log);

/// The text of config.yaml (what `lrlab config` prints): the first run's resolved config
/// (`first_run`, defaults filled in) with the study section of `root` and the top-level `seed` set to
/// `base_seed`.
std::string resolved_config_text(const Config& first_run, const Config& root, int64_t base_seed);

/// Cuts a truncated last line of `path` (a crash in the middle of a live append of curve rows: rows are
/// appended whole, one write each, so everything up to the last line end is whole rows); removes the
/// file when not even its header is whole. check_finished_runs does this first for curves.csv.
void repair_truncated_last_line(const std::string& path);

/// Writes config.yaml: the first run's resolved config (`first_run`, defaults filled in) with the study
/// section of `root` and the top-level `seed` set to `base_seed`.
void write_resolved_config(const std::string& dir, const Config& first_run, const Config& root, int64_t base_seed);

/// The rows one trained group adds to the folder.
struct GroupRows {
  std::vector<std::vector<std::string>> curves;  ///< curves.csv rows
  std::vector<std::string> runs_header;          ///< runs.csv header
  std::vector<std::vector<std::string>> runs;    ///< runs.csv rows (one per run of the group)
};

/// Saves one trained group: its tensors (when `save_tensors`), then its curves.csv rows (none when the
/// caller appended them already, study/scheduler.h), then its runs.csv rows (last: a run counts as finished once its row exists). Never recreates a folder that
/// vanished (deleted, moved, unmounted): that is an Error saying so.
void save_group(const std::string& dir, bool save_tensors, const GroupOutcome& outcome, const GroupRows& rows);

/// Rewrites runs.csv and curves.csv in plan order (run order of the plan; a run's curve rows keep
/// their recording order), so the files do not depend on which group finished first.
void write_in_plan_order(const std::string& dir, const StudyPlan& plan);

}  // namespace lrlab::study
