#pragma once
// Shared by the fused step's tests (fused_math_test.cpp on the CPU, fused_step_cuda_test.cpp on CUDA):
// small problems, the sgd rule, a relative error, and the batched path's step on given samples.

#include <ATen/ATen.h>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "apps/gradcheck_command.h"
#include "framework/config.h"
#include "framework/context.h"
#include "models/register.h"
#include "trainers/cuda/fused_step.h"
#include "trainers/gradients.h"
#include "trainers/parameter_ops.h"
#include "trainers/update_rule.h"

namespace lrlab::fused_test {

using lrlab::Config;
using lrlab::trainers::UpdateRule;

/// A problem: adapter and activation sections, R, B, decay, spherical step, dtype, seeds, device.
struct Case {
  std::string adapter = "{type: rank1}";
  std::string activation = "{type: tanh}";
  int64_t replicas = 3;
  int64_t batch = 3;
  double weight_decay = 0.0;
  bool spherical = true;
  std::string dtype = "float64";
  std::vector<int64_t> seeds = {};  // default: 40, 41, ...
  std::string device = "cpu";
  bool grouped_start = true;  // label noise on all but the second replica, parameters perturbed over the group
};

/// A problem on `c.device`, d = 24, k = 4, a rank-2 teacher. With `grouped_start`, label noise on every
/// replica but the second and parameters moved off the init identically each time (a start that
/// depends on the group); else tau = 0.2 everywhere and the seeds' own init (replica r of a group
/// starts as its seed alone).
inline lrlab::models::Model build(const Case& c) {
  std::vector<Config> documents;
  std::vector<int64_t> seeds = c.seeds;
  for (int64_t r = static_cast<int64_t>(seeds.size()); r < c.replicas; ++r) seeds.push_back(40 + r);
  for (int64_t r = 0; r < c.replicas; ++r)
    documents.push_back(Config::load_string(
        fmt::format("dtype: {}\ndevice: {}\nbase: {{type: two_layer, d: 24, k: 4, activation: {}}}\n"
                    "teacher: {{type: low_rank, rank: 2, xi: 1.5, tau: {}}}\nadapter: {}\n",
                    c.dtype, c.device, c.activation, r == 1 && c.grouped_start ? "0.0" : "0.2", c.adapter),
        "<fused_test>"));
  const Config root = c.replicas == 1 ? documents[0] : Config::stack(documents);
  lrlab::models::Model model = lrlab::models::build_model(root, lrlab::make_context(root, seeds));
  if (c.grouped_start) lrlab::perturb_parameters(*model.adapter, 0.3, 77);
  return model;
}

/// The registered rule `type`, initialised for the model's parameters.
inline std::shared_ptr<UpdateRule> make_rule(const std::string& type, lrlab::models::Model& model) {
  auto rule = lrlab::trainers::update_rule_registry().make(Config::load_string("type: " + type), type,
                                                          model.ctx.replicas());
  rule->init(model.adapter->parameters());
  return rule;
}

/// max |a - b| / max(1, max |b|).
inline double rel_err(const at::Tensor& a, const at::Tensor& b) {
  const double scale = std::max(1.0, b.abs().max().item<double>());
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>() / scale;
}

/// The batched path's step (trainers/online_step.cpp) on given inputs x [R, B, d] and noise eps [R, B].
inline at::Tensor batched_step(lrlab::models::Model& m, UpdateRule& rule, const at::Tensor& x,
                               const at::Tensor& eps, const at::Tensor& lr, const at::Tensor& decay, bool spherical, int64_t step) {
  at::Tensor wx, y;
  {
    at::NoGradGuard no_grad;
    wx = m.base->preactivations(x);
    const bool noisy = m.teacher->tau().abs().max().item<double>() > 0;
    y = noisy ? m.teacher->labels(x, wx, eps) : m.teacher->clean_labels(x, wx);
  }
  at::Tensor loss = lrlab::trainers::compute_gradients(m, x, wx, y, lrlab::trainers::GradPath::kAnalytic, true);
  lrlab::trainers::apply_updates(*m.adapter, rule, lr, decay, spherical, step);
  return loss;
}

/// `steps` steps of the fused step (the host instantiation on the CPU, the kernel on CUDA) and of the
/// batched path on the same injected samples, compared after each; `launch` steps per fused launch
/// (its loss is their mean); tolerance `tol64` in float64, 1e-5 in float32.
inline void compare(const Case& c, int steps = 4, int launch = 1, double tol64 = 1e-12) {
  INFO("adapter " << c.adapter << ", activation " << c.activation << ", R " << c.replicas << ", B " << c.batch
                  << ", weight_decay " << c.weight_decay << ", spherical " << c.spherical << ", " << c.dtype
                  << ", launch " << launch);
  auto fm = build(c), bm = build(c), start = build(c);
  auto fr = make_rule("sgd", fm), br = make_rule("sgd", bm);
  std::string why;
  auto step = lrlab::trainers::FusedStep::make(fm, c.batch, c.spherical, *fr, &why);
  INFO("why: " << why);
  REQUIRE(step);
  const bool float64 = c.dtype == "float64";
  const double tol = float64 ? tol64 : 1e-5;
  const double base_lr = c.activation.find("hermite") != std::string::npos ? 0.002 : 0.03;
  std::vector<double> lr_values;
  for (int64_t r = 0; r < c.replicas; ++r) lr_values.push_back(base_lr * (1.0 + 0.5 * static_cast<double>(r)));
  const at::Tensor lr = lrlab::per_replica(fm.ctx, lr_values);
  const at::Tensor decay = c.weight_decay > 0 ? lr * c.weight_decay : at::Tensor();
  const int64_t d = fm.base->d();
  auto gen = lrlab::stream_generator(9, lrlab::Stream::kData);
  for (int s = 1; s <= steps; s += launch) {
    INFO("step " << s);
    const at::Tensor x = lrlab::cpu_normal({launch, c.replicas, c.batch, d}, gen).to(fm.ctx.options());
    const at::Tensor eps = lrlab::cpu_normal({launch, c.replicas, c.batch}, gen).to(fm.ctx.options());
    step->inject(x, eps);
    const at::Tensor lf = step->steps(s, launch, lr, decay, /*want_loss=*/true).clone();
    at::Tensor lb = at::zeros_like(lf);
    for (int i = 0; i < launch; ++i) lb += batched_step(bm, *br, x[i], eps[i], lr, decay, c.spherical, s + i);
    lb /= launch;
    REQUIRE(at::isfinite(lb).all().item<bool>());
    CHECK(rel_err(lf, lb) < tol);
    CHECK(lb.abs().min().item<double>() > 0);  // not a comparison of zero losses
  }
  auto fp = fm.adapter->parameters(), bp = bm.adapter->parameters(), sp = start.adapter->parameters();
  double moved = 0.0;
  for (size_t j = 0; j < fp.size(); ++j) {
    INFO("parameter " << fp[j]->name);
    CHECK(rel_err(fp[j]->value, bp[j]->value) < tol);
    const double moved_j = rel_err(fp[j]->value, sp[j]->value);
    CHECK(moved_j > 100 * tol);  // every trained parameter moved, far beyond the tolerance
    moved = std::max(moved, moved_j);
  }
  CHECK(moved > (float64 ? 1e-6 : 1e-4));
}

}  // namespace lrlab::fused_test
