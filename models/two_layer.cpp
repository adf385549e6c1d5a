#include "models/two_layer.h"

#include <cmath>

#include "framework/config.h"
#include "framework/context.h"

namespace lrlab::models {

TwoLayerOptions TwoLayerOptions::from_config(const Config& cfg) {
  TwoLayerOptions o;
  o.d = cfg.get<int64_t>("d", o.d);
  o.k = cfg.get<int64_t>("k", o.k);
  o.init = cfg.get_choice("init", o.init, {"sphere", "gaussian", "orthonormal"});
  o.row_scale = cfg.get<double>("row_scale", o.row_scale);
  o.second_layer = cfg.get_choice("second_layer", o.second_layer, {"constant", "signs", "gaussian", "given"});
  o.lam = cfg.get<std::vector<double>>("lam", {});
  o.zero_base = cfg.get<bool>("zero_base", o.zero_base);
  if (o.d < 1 || o.d > 10'000'000) cfg.fail("d", "must be in 1..1e7, got " + std::to_string(o.d));
  if (o.k < 1 || o.k > 1'000'000) cfg.fail("k", "must be in 1..1e6, got " + std::to_string(o.k));
  if (o.init == "orthonormal" && o.k > o.d)
    cfg.fail("init", "orthonormal rows need k <= d (k = " + std::to_string(o.k) + ", d = " + std::to_string(o.d) + ")");
  if (!std::isfinite(o.row_scale)) cfg.fail("row_scale", "must be finite");
  if (o.second_layer == "given" && static_cast<int64_t>(o.lam.size()) != o.k)
    cfg.fail("lam", "second_layer: given needs lam with k = " + std::to_string(o.k) + " entries, got " +
                        std::to_string(o.lam.size()));
  if (o.second_layer != "given" && !o.lam.empty()) cfg.fail("lam", "lam is only used with second_layer: given");
  return o;
}

at::Tensor draw_rows(const std::string& init, int64_t k, int64_t d, at::Generator& gen) {
  at::Tensor g = cpu_normal({k, d}, gen);
  if (init == "gaussian") return g / std::sqrt(static_cast<double>(d));
  if (init == "orthonormal") {
    // Q of a Gaussian [d, k] matrix has orthonormal columns; its transpose has orthonormal rows.
    auto [q, r] = at::linalg_qr(g.t());
    // Fix the signs so the draw is Haar-distributed (sign of R's diagonal).
    q = q * at::sign(at::diagonal(r)).unsqueeze(0);
    return q.t().contiguous();
  }
  return g / g.norm(2, {1}, true);  // sphere: Gaussian rows normalised are uniform on the sphere
}

TwoLayer::TwoLayer(const TwoLayerOptions& options, std::shared_ptr<Activation> activation, const Context& ctx)
    : options_(options) {
  activation_ = std::move(activation);
  const int64_t k = options.k, d = options.d;
  auto tensors = stack_replicas_multi(ctx, Stream::kBase, [&](at::Generator& gen, int64_t) {
    at::Tensor w = draw_rows(options.init, k, d, gen) * options.row_scale;
    if (options.zero_base) w.zero_();
    at::Tensor lam;
    const double kd = static_cast<double>(k);
    if (options.second_layer == "constant") {
      lam = at::full({k}, 1.0 / kd, at::kDouble);
    } else if (options.second_layer == "signs") {
      lam = (at::bernoulli(at::full({k}, 0.5, at::kDouble), gen) * 2 - 1) / std::sqrt(kd);
    } else if (options.second_layer == "gaussian") {
      lam = cpu_normal({k}, gen) / std::sqrt(kd);
    } else {
      lam = at::tensor(options.lam, at::kDouble);
    }
    return std::vector<at::Tensor>{w, lam};
  });
  weight_ = tensors[0];
  lam_ = tensors[1];
}

}  // namespace lrlab::models
