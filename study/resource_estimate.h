#pragma once
/// Estimates, before anything is trained or written, the peak tensor memory of each group and the
/// disk the results will take, so that `validate`, `run --dry-run` and `run` refuse a study that
/// cannot fit (a d = 1e7 test set is 80 GB; metrics.every = 1 grows curves.csv by ~45 bytes a row,
/// and each append rewrites the file through a full temporary copy) instead of failing mid-run.
///
/// The estimate is deliberately simple and on the high side (a bound, not a prediction): per group
/// of R runs with d inputs, k neurons, S samples per step (trainer.batch; offline: the training set),
/// T test samples, P adapter numbers per run, E bytes per number (dtype):
///   model      2 R k d E        base weights and teacher
///   adapter    4 R P E          values, gradients and two optimiser moments
///   samples    2 R S (d + k + 1) E
///   test set   8 T (d + 2 R (k + 1))   (float64, shared by the group)
///   curves     400 bytes per curve row held in memory (rows: R x records x metrics)
/// Disk: 45 bytes per curve row, twice (the rewrite on append needs a full copy), plus the saved
/// tensors (8 P bytes per run) when output.save_tensors is on.

#include <cstdint>
#include <string>
#include <vector>

#include "study/group_runner.h"

namespace lrlab::study {

/// What one group needs.
struct GroupEstimate {
  uint64_t memory_bytes = 0;  ///< estimated peak tensor (and in-memory curve) bytes while it trains
  std::string largest;        ///< the largest memory term, e.g. "test set (metrics.test_samples x d)"
  uint64_t curve_rows = 0;    ///< curve rows it adds (an upper bound: early stopping writes fewer)
  uint64_t disk_bytes = 0;    ///< bytes it adds to the results folder (curves twice, saved tensors)
};

/// The estimate for a built group (`group.config` is its stacked config).
GroupEstimate estimate_group(const BuiltGroup& group, bool save_tensors);

/// The study-wide totals: peak memory (the `jobs` largest groups at once) and disk.
struct StudyEstimate {
  uint64_t peak_memory_bytes = 0;  ///< the `jobs` largest group estimates, summed
  uint64_t disk_bytes = 0;         ///< every group's disk bytes, summed
  uint64_t available_memory = 0;   ///< MemAvailable (0: unknown)
  uint64_t free_disk = 0;          ///< free space at the results folder's file system (0: unknown)
};

/// A group's estimate when only `remaining` of its `runs` runs are left to train (a resume): the disk
/// and curve rows scale with the runs left; a group with none left needs no memory.
GroupEstimate remaining_part(const GroupEstimate& group, size_t remaining, size_t runs);

/// Sums `groups` for `jobs` parallel jobs and measures the machine (`dir`: the results folder).
/// `existing_curves_bytes`: the size of a resumed folder's curves.csv, which its final rewrite in plan
/// order copies once more (0 for a new folder).
StudyEstimate estimate_study(const std::vector<GroupEstimate>& groups, int jobs, const std::string& dir,
                             uint64_t existing_curves_bytes = 0);

/// "estimated peak memory 1.2 GB (3.4 GB available), results on disk 15 MB (20 GB free at DIR)".
std::string estimate_text(const StudyEstimate& study, const std::string& dir);

/// Throws lrlab::Error when the estimate exceeds the available memory or the free disk, naming the
/// largest group and term and saying that --force runs anyway (unless `force`, when it returns).
void check_estimate(const StudyEstimate& study, const std::vector<GroupEstimate>& groups, const std::string& dir,
                    bool force);

}  // namespace lrlab::study
