#include "apps/gradcheck_command.h"

#include <ATen/CPUGeneratorImpl.h>
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <memory>

#include "apps/cli_checks.h"
#include "apps/commands.h"
#include "framework/bounded_read.h"
#include "framework/checked_math.h"
#include "framework/context.h"
#include "framework/machine_resources.h"
#include "framework/error.h"
#include "study/group_runner.h"
#include "study/plan.h"
#include "trainers/data_sampler.h"
#include "trainers/gradients.h"

namespace lrlab {

GradcheckReport gradcheck_model(models::Model& model, const at::Tensor& x, const at::Tensor& y,
                                const GradcheckOptions& options) {
  check(model.ctx.dtype == at::kDouble, "gradient check: the model must be float64 (dtype: float64)");
  models::Adapter& adapter = *model.adapter;
  auto params = adapter.parameters();
  at::Tensor wx;
  {
    at::NoGradGuard no_grad;
    wx = model.base->preactivations(x);  // [R, B, k]
  }
  auto take = [&](const models::Parameter* p) {
    return p->grad.defined() ? p->grad.detach().clone() : at::zeros_like(p->value.detach());
  };

  trainers::set_requires_grad(adapter, false);
  for (auto* p : params) p->grad = at::Tensor();  // an analytic path that forgets a gradient shows as zero
  trainers::compute_gradients(model, x, wx, y, trainers::GradPath::kAnalytic, false);
  std::vector<at::Tensor> analytic;
  for (auto* p : params) analytic.push_back(take(p));

  for (auto* p : params) p->grad = at::Tensor();
  trainers::compute_gradients(model, x, wx, y, trainers::GradPath::kAutograd, false);
  std::vector<at::Tensor> autograd;
  for (auto* p : params) autograd.push_back(take(p));
  trainers::set_requires_grad(adapter, false);

  // The probe: per-replica batch loss [R] at the current values, and the distance of the nearest
  // pre-activation to ReLU's kink at 0 (min over the batch and the neurons) when a window is asked for.
  const LossFunction loss = [&]() {
    at::NoGradGuard no_grad;
    LossProbe probe;
    probe.loss = (adapter.forward(x, wx) - y).pow(2).mean(1) * 0.5;
    if (options.kink > 0) probe.kink_distance = adapter.preactivations(x, wx).abs().amin({1, 2});
    return probe;
  };
  std::vector<GradcheckInput> inputs;
  for (size_t i = 0; i < params.size(); ++i)
    inputs.push_back({params[i]->name, params[i]->value, analytic[i], autograd[i]});
  GradcheckReport report = gradient_check(inputs, loss, options);
  for (size_t i = 0; i < params.size(); ++i) params[i]->grad = analytic[i];
  return report;
}

void perturb_parameters(models::Adapter& adapter, double scale, uint64_t seed) {
  if (scale == 0) return;
  at::NoGradGuard no_grad;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto* p : adapter.parameters()) {
    at::Tensor& v = p->value;
    const int64_t replicas = v.size(0);
    at::Tensor noise = at::normal(0.0, 1.0, v.sizes(), gen, at::TensorOptions().dtype(at::kDouble));
    at::Tensor flat_noise = noise.reshape({replicas, -1});
    const at::Tensor size = v.detach().to(at::kCPU, at::kDouble).reshape({replicas, -1}).norm(2, {1}, true).clamp_min(1.0);
    flat_noise = flat_noise / flat_noise.norm(2, {1}, true).clamp_min(1e-300) * size * scale;
    v.add_(flat_noise.reshape(v.sizes()).to(v.options()));
    if (p->on_sphere) v.div_(v.norm(2, {-1}, true));
  }
  adapter.after_update();
}

double default_kink_window(const std::string& activation_type) { return activation_type == "relu" ? 1e-4 : 0.0; }

namespace {

/// The run configs of the check: the study's first run, in float64 on the CPU, once per replica seed.
std::vector<Config> gradcheck_configs(const Config& root, int64_t replicas) {
  Config cfg = root.clone();
  cfg.set("dtype", "float64");
  cfg.set("device", "cpu");
  cfg.erase("replicas");
  const study::StudyPlan plan = study::expand_study(cfg);
  const Config first = study::config_for_run(cfg, plan, plan.runs.at(0));
  if (!checked_add(plan.runs.at(0).seed, replicas - 1))
    throw Error(fmt::format("gradcheck: seed {} + --replicas {} would pass 2^63-1 (the replicas use seed, seed+1, ...)",
                            plan.runs.at(0).seed, replicas));
  std::vector<Config> out;
  for (int64_t i = 0; i < replicas; ++i) {
    Config c = first.clone();
    c.set("seed", std::to_string(plan.runs.at(0).seed + i));
    out.push_back(c);
  }
  return out;
}

/// The batch x [R, B, d] (float64, with a copy per finite-difference probe) must fit in memory:
/// `--batch 100000000` is refused here, not by the allocator.
void check_batch_fits(int64_t replicas, int64_t batch, int64_t d) {
  const auto bytes = checked_product({replicas, batch, d, 8 * 4});
  const uint64_t limit = available_memory_bytes();
  if (!bytes || (limit > 0 && static_cast<uint64_t>(*bytes) > limit))
    throw Error(fmt::format("gradcheck: --replicas {} x --batch {} x d = {} needs {} for the batch, more than the {} "
                            "of memory available; use a smaller --batch",
                            replicas, batch, d, bytes ? format_bytes(static_cast<uint64_t>(*bytes)) : "over 2^63 bytes",
                            format_bytes(limit)));
}

}  // namespace

int run_gradcheck(const Config& root, const GradcheckCommandOptions& options, std::ostream& out, std::ostream& err) {
  if (options.batch < 1) throw Error("gradcheck: --batch must be >= 1");
  if (options.replicas < 1) throw Error("gradcheck: --replicas must be >= 1");
  if (!(options.step > 0) || !std::isfinite(options.step)) throw Error("gradcheck: --step must be finite and > 0");
  if (!(options.tolerance > 0) || !std::isfinite(options.tolerance) || !(options.fd_tolerance > 0) ||
      !std::isfinite(options.fd_tolerance))
    throw Error("gradcheck: --tolerance and --fd-tolerance must be finite and > 0 (inf would pass everything)");
  study::BuiltGroup group = study::build_group(gradcheck_configs(root, options.replicas));
  models::Model& model = group.model;
  const int64_t d = model.base->d();
  check_batch_fits(model.ctx.replicas(), options.batch, d);
  at::Tensor x, y;
  {
    at::NoGradGuard no_grad;
    trainers::DataSampler sampler(model.ctx, options.batch, d);
    x = sampler.next_inputs().clone();                    // [R, B, d]
    const at::Tensor eps = sampler.next_noise().clone();  // [R, B]
    y = model.teacher->labels(x, model.base->preactivations(x), eps);
  }
  perturb_parameters(*model.adapter, options.perturb, static_cast<uint64_t>(model.ctx.seeds.at(0)) + 0x9E3779B9ULL);

  GradcheckOptions check_options;
  check_options.step = options.step;
  check_options.max_elements = options.max_elements;
  check_options.kink = options.kink >= 0 ? options.kink : default_kink_window(model.base->activation().type());
  check_options.seed = static_cast<uint64_t>(model.ctx.seeds.at(0));
  const GradcheckReport report = gradcheck_model(model, x, y, check_options);

  out << fmt::format("lrlab gradcheck: adapter {}, activation {}, d = {}, k = {}, R = {}, B = {}, float64 cpu, "
                     "parameters perturbed by {}, finite-difference step {:.0e}, kink window {:.0e}\n",
                     model.adapter->type(), model.base->activation().type(), d, model.base->k(),
                     model.ctx.replicas(), options.batch, options.perturb, options.step, check_options.kink);
  out << report.table(options.tolerance, options.fd_tolerance);
  const auto failures = report.failures(options.tolerance, options.fd_tolerance);
  if (failures.empty()) {
    out << fmt::format("ok: every parameter within tolerance (autograd {:.0e}, finite differences {:.0e})\n",
                       options.tolerance, options.fd_tolerance);
    return 0;
  }
  for (const auto& f : failures) err << "lrlab: gradcheck failed: " << f << "\n";
  return 1;
}

std::function<int()> add_gradcheck_command(CLI::App& app) {
  struct State {
    std::string config_path;
    std::vector<std::string> overrides;
    GradcheckCommandOptions options;
  };
  auto state = std::make_shared<State>();
  auto* sub = app.add_subcommand(
      "gradcheck", "check the adapter's hand-derived gradient against autograd and finite differences (float64)");
  sub->add_option("config", state->config_path, "YAML config")->required()->check(CLI::ExistingFile);
  sub->add_option("overrides", state->overrides, "key.path=value (must exist) or +key.path=value (adds)");
  auto& o = state->options;
  sub->add_option("--batch", o.batch, "samples in the batch")->capture_default_str()->check(int_in_range(1, 1'000'000));
  sub->add_option("--replicas", o.replicas, "replicas (seeds) stacked")->capture_default_str()->check(int_in_range(1, 1024));
  sub->add_option("--tolerance", o.tolerance, "relative error allowed against autograd")
      ->capture_default_str()
      ->check(finite_positive());
  sub->add_option("--fd-tolerance", o.fd_tolerance, "relative error allowed against finite differences")
      ->capture_default_str()
      ->check(finite_positive());
  sub->add_option("--perturb", o.perturb, "move the parameters this far from their init first (0: at the init)")
      ->capture_default_str()
      ->check(finite_non_negative());
  sub->add_option("--step", o.step, "finite-difference step")->capture_default_str()->check(finite_positive());
  sub->add_option("--kink", o.kink, "kink window (default: 1e-4 for relu, 0 otherwise)");
  sub->add_option("--max-elements", o.max_elements, "finite differences on at most this many elements per parameter")
      ->capture_default_str()
      ->check(int_in_range(1, 1'000'000'000));
  return [sub, state]() {
    if (!sub->parsed()) return 0;
    const Config root = load_with_overrides(state->config_path, state->overrides);
    return run_gradcheck(root, state->options, std::cout, std::cerr);
  };
}

}  // namespace lrlab
