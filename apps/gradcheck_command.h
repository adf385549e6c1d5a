#pragma once
/// `lrlab gradcheck CONFIG [key=value ...]`: checks the configured adapter's hand-derived gradient
/// against autograd and central finite differences in float64 on the CPU, prints one table and exits
/// non-zero (naming the parameter) beyond tolerance. This is what a user runs after writing an adapter.
///
/// The functions below are the command's building blocks, shared with the tests:
///   gradcheck_model     checks a built model on one batch (the binding of framework/gradcheck.h);
///   perturb_parameters  moves every parameter to a random nearby point (B = 0 would hide A's gradient);
///   run_gradcheck       what the command does for a loaded config.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "framework/config.h"
#include "framework/gradcheck.h"
#include "models/register.h"

namespace CLI {
class App;
}

namespace lrlab {

/// Gradient check of `model` (float64) on the batch x [R, B, d], labels y [R, B]: the adapter's analytic
/// gradient (trainers::GradPath::kAnalytic) against autograd (kAutograd) and against central finite
/// differences of the batch loss L = (1/B) sum_b (f(x_b) - y_b)^2 / 2, reusing the same batch.
/// Parameters on the sphere are compared by their Euclidean gradient (the trainer projects it).
/// With options.kink > 0, an element is skipped where a pre-activation lies within `kink` of 0 at
/// theta +- h (ReLU's kink). Parameter values are restored; Parameter::grad holds the analytic gradient.
GradcheckReport gradcheck_model(models::Model& model, const at::Tensor& x, const at::Tensor& y,
                                const GradcheckOptions& options);

/// Adds to every parameter of `adapter` Gaussian noise of Frobenius norm `scale * max(||p_r||, 1)` per
/// replica r (parameters on the sphere are re-normalised), drawn from a generator seeded by `seed`.
void perturb_parameters(models::Adapter& adapter, double scale, uint64_t seed);

/// The kink window `lrlab gradcheck` uses by default for an activation: 1e-4 for relu, 0 otherwise.
double default_kink_window(const std::string& activation_type);

/// Options of `lrlab gradcheck`.
struct GradcheckCommandOptions {
  int64_t batch = 5;               ///< B samples in the batch
  int64_t replicas = 2;            ///< R replicas (seeds seed .. seed + R - 1), stacked as in a run
  double tolerance = 1e-8;         ///< relative error allowed between analytic and autograd
  double fd_tolerance = 1e-5;      ///< relative error allowed between analytic and finite differences
  double perturb = 0.5;            ///< perturb_parameters scale before checking (0: check at the init)
  double step = 1e-6;              ///< finite-difference step (scaled by max(1, |theta_j|))
  double kink = -1;                ///< kink window; negative: default_kink_window of the activation
  int64_t max_elements = 2000;     ///< finite differences on at most this many elements per parameter
};

/// Builds the model `root` describes (first run of a study; `dtype: float64`, `device: cpu` forced;
/// `replicas` seeds), draws a batch from the data stream with the teacher's labels, perturbs the
/// parameters, checks, and writes a header and the table to `out`. Returns 0 when every comparison is
/// within tolerance, else 1 after writing one line per failing parameter to `err`.
int run_gradcheck(const Config& root, const GradcheckCommandOptions& options, std::ostream& out, std::ostream& err);

/// Adds the `gradcheck` subcommand to `app`; returns the function to call when it was parsed (it
/// loads the config with its overrides, runs run_gradcheck on stdout/stderr and returns the exit status).
std::function<int()> add_gradcheck_command(CLI::App& app);

}  // namespace lrlab
