#pragma once
/// Device, dtype and seeding of a group of stacked runs (replicas).
///
/// Replica axis: every per-run tensor has a leading axis R. Replica i of a group is seeded by its own
/// run seed, and every random draw of a replica comes from a generator derived from that seed alone,
/// so replica i of a stacked group starts from exactly the tensors of the same seed run alone.

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lrlab {
class Config;

/// Independent random streams derived from one run seed (one per purpose, so that adding draws to
/// one component never changes another's).
enum class Stream : uint64_t {
  kBase = 1,      ///< base network W, lam
  kTeacher = 2,   ///< teacher perturbation U*, C*
  kAdapter = 3,   ///< adapter initialisation
  kData = 4,      ///< training samples (x, label noise)
  kTest = 5,      ///< held-out test set (shared by all runs: seeded by metrics.test_seed)
  kInitData = 6,  ///< samples used by data-dependent initialisations (spectral init)
};

/// Where and in which precision a group runs, and the seeds of its replicas.
struct Context {
  c10::Device device = c10::Device(c10::kCPU);  ///< cpu or cuda
  at::ScalarType dtype = at::kFloat;            ///< float32 or float64
  std::vector<int64_t> seeds;                   ///< one seed per replica: R = seeds.size()
  std::string device_note;                      ///< e.g. "auto: CUDA not available, using cpu"

  /// Number of replicas R.
  int64_t replicas() const { return static_cast<int64_t>(seeds.size()); }
  /// Tensor options (dtype, device) of every model tensor.
  at::TensorOptions options() const { return at::TensorOptions().dtype(dtype).device(device); }
};

/// Reads `device: cpu | cuda | auto` and `dtype: float32 | float64` from the root config.
/// `cuda` without CUDA is a ConfigError; `auto` falls back to cpu and says so in device_note.
Context make_context(const Config& root, std::vector<int64_t> seeds);

/// A CPU generator for `stream` of the run seeded `seed` (splitmix64 of both: independent streams).
at::Generator stream_generator(int64_t seed, Stream stream);

/// Builds a stacked tensor [R, ...]: `draw(generator)` is called once per replica, in replica order,
/// with that replica's generator for `stream`; it must return a CPU float64 tensor (same shape for every
/// replica). The result is cast to the context's dtype and moved to its device.
at::Tensor stack_replicas(const Context& ctx, Stream stream,
                          const std::function<at::Tensor(at::Generator&)>& draw);

/// Like stack_replicas, but `draw` receives the replica's generator and index and may draw several
/// tensors; `draw` returns them in a fixed order, and the result holds one stacked tensor per position.
std::vector<at::Tensor> stack_replicas_multi(
    const Context& ctx, Stream stream,
    const std::function<std::vector<at::Tensor>(at::Generator&, int64_t replica)>& draw);

/// A [R] tensor of per-replica values (context dtype and device).
at::Tensor per_replica(const Context& ctx, const std::vector<double>& values);

/// Standard normals in float64 on the CPU with `gen` (shape `sizes`).
at::Tensor cpu_normal(at::IntArrayRef sizes, at::Generator& gen);

/// The LibTorch version as "major.minor.patch".
std::string torch_version();

}  // namespace lrlab
