#pragma once
/// meta.yaml: what a study ran on (versions, BLAS, device, command line, overrides, seeds, what
/// determinism depends on) and, per finished group, its runs and the computation path it ran.
///
/// The file is rewritten atomically each time a group finishes; a resumed study keeps the group
/// entries of the earlier sessions. The resume check never reads it (runs.csv decides).

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "framework/config.h"
#include "framework/context.h"
#include "study/plan.h"

namespace lrlab::study {

/// What meta.yaml says about one finished group.
struct GroupMeta {
  int group = 0;                  ///< the group's number in the plan (1-based, as in the run log)
  std::vector<std::string> runs;  ///< run ids trained in this group
  std::string path;               ///< the computation path (trainers::Trainer::path()), e.g. "kernel"
};

/// The fixed part of meta.yaml (a YAML mapping, ending in a newline).
std::string meta_header(const Config& root, const std::string& command_line, const StudyPlan& plan,
                        const Context& ctx, int jobs, int threads);

/// meta.yaml of a results folder: the fixed header, then a `groups:` list (in group order).
class MetaFile {
 public:
  /// Writes `header` and the `earlier` group entries (of previous sessions) to `path`.
  MetaFile(std::string path, std::string header, std::vector<GroupMeta> earlier);
  /// Adds one finished group and rewrites the file atomically (thread-safe).
  void add_group(GroupMeta group);
  /// The group entries so far, in group order.
  std::vector<GroupMeta> groups() const;

  /// The `groups` entries of an existing meta.yaml whose runs are all in `finished` (empty when the
  /// file is absent or unreadable).
  static std::vector<GroupMeta> read_groups(const std::string& path, const std::set<std::string>& finished);

 private:
  void write() const;

  std::string path_;
  std::string header_;
  std::vector<GroupMeta> groups_;
  mutable std::mutex mutex_;
};

}  // namespace lrlab::study
