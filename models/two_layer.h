#pragma once
/// `two_layer`: the base network with rows drawn on the sphere, Gaussian or orthonormal, and a second
/// layer that is constant, random signs, Gaussian or given. `zero_base: true` gives W = 0 (GLM case).

#include <string>
#include <vector>

#include "models/base_network.h"

namespace lrlab {
class Config;
struct Context;
}  // namespace lrlab

namespace lrlab::models {

/// Options of the `two_layer` base network (YAML section `base`).
struct TwoLayerOptions {
  int64_t d = 64;                    ///< input dimension
  int64_t k = 8;                     ///< width
  std::string init = "sphere";       ///< rows: sphere (unit norm) | gaussian (N(0, I/d)) | orthonormal (k <= d)
  double row_scale = 1.0;            ///< multiplies every row after init
  std::string second_layer = "constant";  ///< constant (1/k) | signs (+-1/sqrt k) | gaussian (N(0, 1/k)) | given
  std::vector<double> lam;           ///< the second layer when second_layer = given (length k)
  bool zero_base = false;            ///< W = 0: the GLM / single-index case of MATH.md

  /// Reads and validates the options (errors name the YAML key).
  static TwoLayerOptions from_config(const Config& cfg);
};

/// The registered `two_layer` base network.
class TwoLayer : public BaseNetwork {
 public:
  /// Draws W and lam for every replica from its base stream.
  TwoLayer(const TwoLayerOptions& options, std::shared_ptr<Activation> activation, const Context& ctx);
  std::string type() const override { return "two_layer"; }
  /// The options it was built with.
  const TwoLayerOptions& options() const { return options_; }

 private:
  TwoLayerOptions options_;
};

/// Draws a [k, d] matrix of rows by `init` (sphere | gaussian | orthonormal) in float64 on the CPU.
at::Tensor draw_rows(const std::string& init, int64_t k, int64_t d, at::Generator& gen);

}  // namespace lrlab::models
