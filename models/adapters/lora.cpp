#include "models/adapters/lora.h"

#include <cmath>

#include "framework/config.h"
#include "framework/context.h"
#include "framework/error.h"
#include "models/two_layer.h"

namespace lrlab::models {

void read_factor_options(const Config& cfg, int64_t d, int64_t k, int64_t& rank, PerReplica<double>& alpha,
                         std::string& scaling, std::string& init_a, double* lr_ratio) {
  rank = cfg.get<int64_t>("rank", rank);
  const std::vector<double> alphas = cfg.get_each<double>("alpha", alpha[0]);
  alpha = PerReplica<double>(alphas);
  scaling = cfg.get_choice("scaling", scaling, {"standard", "rs"});
  init_a = cfg.get_choice("init_a", init_a, {"gaussian", "kaiming", "orthogonal"});
  if (lr_ratio) *lr_ratio = cfg.get<double>("lr_ratio", *lr_ratio);
  if (rank < 1 || rank > std::min(d, k))
    cfg.fail("rank", "must be in 1..min(k, d) = " + std::to_string(std::min(d, k)) + ", got " + std::to_string(rank));
  for (double a : alphas)
    if (!std::isfinite(a) || a == 0) cfg.fail("alpha", "must be finite and non-zero");
  if (lr_ratio && (!(*lr_ratio > 0) || !std::isfinite(*lr_ratio))) cfg.fail("lr_ratio", "must be finite and > 0");
}

LoraOptions LoraOptions::from_config(const Config& cfg, int64_t d, int64_t k) {
  LoraOptions o;
  read_factor_options(cfg, d, k, o.rank, o.alpha, o.scaling, o.init_a, &o.lr_ratio);
  o.init = cfg.get_choice("init", o.init, {"default", "pissa", "spectral"});
  o.init_samples = cfg.get<int64_t>("init_samples", o.init_samples);
  o.init_scale = cfg.get<double>("init_scale", o.init_scale);
  if (o.init_samples < 1 || o.init_samples > 10'000'000)
    cfg.fail("init_samples", "must be in 1..1e7, got " + std::to_string(o.init_samples));
  if (!(o.init_scale > 0) || !std::isfinite(o.init_scale)) cfg.fail("init_scale", "must be finite and > 0");
  return o;
}

at::Tensor draw_lora_a(const std::string& init, int64_t r, int64_t d, at::Generator& gen) {
  if (init == "kaiming") {
    // PEFT: kaiming_uniform_(a = sqrt 5) gives U(-1/sqrt(d), 1/sqrt(d)).
    const double bound = 1.0 / std::sqrt(static_cast<double>(d));
    return at::rand({r, d}, gen, at::kDouble) * (2 * bound) - bound;
  }
  if (init == "orthogonal") return draw_rows("orthonormal", r, d, gen);
  return draw_rows("gaussian", r, d, gen);
}

std::vector<double> lora_scales(const PerReplica<double>& alpha, int64_t replicas, int64_t r,
                                const std::string& scaling) {
  const double denom = scaling == "rs" ? std::sqrt(static_cast<double>(r)) : static_cast<double>(r);
  std::vector<double> s;
  for (double a : alpha.expand(replicas)) s.push_back(a / denom);
  return s;
}

at::Tensor sampled_full_gradient(const AdapterInputs& in, int64_t samples) {
  check(in.teacher != nullptr, "sampled_full_gradient: needs a teacher for the labels");
  const int64_t d = in.base->d();
  auto drawn = stack_replicas_multi(in.ctx, Stream::kInitData, [&](at::Generator& gen, int64_t) {
    at::Tensor x = cpu_normal({samples, d}, gen);
    at::Tensor eps = cpu_normal({samples}, gen);
    return std::vector<at::Tensor>{x, eps};
  });
  const at::Tensor& x = drawn[0];                        // [R, n, d]
  const at::Tensor wx = in.base->preactivations(x);      // [R, n, k]
  const at::Tensor y = in.teacher->labels(x, wx, drawn[1]);  // [R, n]
  const at::Tensor e = in.base->output(wx) - y;          // f_W(x) - y at Delta = 0: [R, n]
  // dL/dh of the mean loss: g = (e / n) lam (.) sigma'(W x) [R, n, k]; dL/dDelta = g^T x [R, k, d].
  const at::Tensor g = output_to_preactivation_grad(*in.base, wx, e / static_cast<double>(samples));
  return at::bmm(g.transpose(1, 2), x);
}

Lora::Lora(const LoraOptions& options, const AdapterInputs& in)
    : Adapter(in.base), options_(options) {
  const int64_t d = base_->d(), k = base_->k(), r = options.rank;
  scale_ = per_replica(in.ctx, lora_scales(options.alpha, in.ctx.replicas(), r, options.scaling));
  // Balanced split of a rank-r target T = U_r S_r V_r^T into s B A = T: both factors carry
  // sqrt(S_r / |s|), B carries sign(s). U [R,k,r], sv [R,r], vh [R,r,d].
  auto split = [&](const at::Tensor& u, const at::Tensor& sv, const at::Tensor& vh, double eta) {
    const at::Tensor root = at::sqrt(sv * eta / scale_.abs().unsqueeze(1));  // [R, r]
    a_.value = (root.unsqueeze(2) * vh).contiguous();                            // [R, r, d]
    b_.value = (u * (root * scale_.sign().unsqueeze(1)).unsqueeze(1)).contiguous();  // [R, k, r]
  };
  if (options.init == "pissa") {
    auto [u, sv, vh] = at::linalg_svd(base_->weight(), /*full_matrices=*/false);  // W = U S Vh
    split(u.narrow(2, 0, r), sv.narrow(1, 0, r), vh.narrow(1, 0, r), 1.0);
    a0_.value = a_.value.clone();
    b0_.value = b_.value.clone();
  } else if (options.init == "spectral") {
    const at::Tensor neg_grad = -sampled_full_gradient(in, options.init_samples);  // -G [R, k, d]
    auto [u, sv, vh] = at::linalg_svd(neg_grad, /*full_matrices=*/false);
    split(u.narrow(2, 0, r), sv.narrow(1, 0, r), vh.narrow(1, 0, r), options.init_scale);
  } else {
    a_.value = stack_replicas(in.ctx, Stream::kAdapter,
                              [&](at::Generator& gen) { return draw_lora_a(options.init_a, r, d, gen); });
    b_.value = at::zeros({in.ctx.replicas(), k, r}, in.ctx.options());
  }
  b_.lr_scale = options.lr_ratio;
}

std::vector<Parameter*> Lora::buffers() {
  if (options_.init == "pissa") return {&a0_, &b0_};
  return {};
}

at::Tensor Lora::preactivations(const at::Tensor& x, const at::Tensor& wx) {
  const at::Tensor s = scale_.view({-1, 1, 1});
  ax_ = at::bmm(x, a_.value.transpose(1, 2));              // A x: [R,B,d] x [R,d,r] -> [R,B,r]
  at::Tensor low = at::bmm(ax_, b_.value.transpose(1, 2));  // B (A x): [R,B,r] x [R,r,k] -> [R,B,k]
  if (a0_.value.defined())  // PiSSA's frozen top-r part: - B0 (A0 x)
    low = low - at::bmm(at::bmm(x, a0_.value.transpose(1, 2)), b0_.value.transpose(1, 2));
  return wx + s * low;
}

void Lora::backward_preactivations(const at::Tensor& x, const at::Tensor&, const at::Tensor& g) {
  const at::Tensor s = scale_.view({-1, 1, 1});
  b_.grad = s * at::bmm(g.transpose(1, 2), ax_);                   // [R,k,B] x [R,B,r] -> [R,k,r]
  a_.grad = s * at::bmm(at::bmm(g, b_.value).transpose(1, 2), x);  // [R,r,B] x [R,B,d] -> [R,r,d]
}

at::Tensor Lora::delta() const {
  at::Tensor ba = at::bmm(b_.value, a_.value);  // [R, k, d]
  if (a0_.value.defined()) ba = ba - at::bmm(b0_.value, a0_.value);
  return scale_.view({-1, 1, 1}) * ba;
}

}  // namespace lrlab::models
