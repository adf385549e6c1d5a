#include "models/metrics.h"

#include <ATen/CPUGeneratorImpl.h>

#include "framework/config.h"
#include "framework/error.h"
#include "framework/strings.h"
#include "models/population.h"
#include "models/symmetric_error.h"

namespace lrlab::models {

namespace {

/// Reads `success: {metric: ">= x" | "<= x", ...}` into o.success (every metric must be recorded).
void read_success(const Config& cfg, MetricsOptions& o) {
  const Config s = cfg.child("success");
  for (const auto& metric : s.keys()) {
    if (std::find(o.names.begin(), o.names.end(), metric) == o.names.end())
      s.fail(metric, "success condition on '" + metric + "', which is not a recorded metric (metrics.names: " +
                         join(o.names) + ")");
    SuccessCondition c;
    std::string why;
    if (!parse_success_condition(metric, s.get<std::string>(metric), &c, &why))
      s.fail(metric, why + " (quote it in YAML: " + metric + ": \">= 0.95\")");
    o.success.push_back(c);
  }
}

}  // namespace

MetricsOptions MetricsOptions::from_config(const Config& cfg) {
  MetricsOptions o;
  o.names = cfg.get<std::vector<std::string>>("names", o.names);
  o.every = cfg.get<int64_t>("every", o.every);
  o.test_samples = cfg.get<int64_t>("test_samples", o.test_samples);
  o.test_seed = cfg.get<int64_t>("test_seed", o.test_seed);
  const auto& registry = metric_registry();
  for (const auto& name : o.names)
    if (name != "train_loss" && !registry.contains(name)) {
      auto known = registry.keys();
      known.push_back("train_loss");
      std::string near = closest_match(name, known);
      cfg.fail("names", "unknown metric '" + name + "' (known: " + join(known) + ")" +
                            (near.empty() ? "" : "; did you mean '" + near + "'?"));
    }
  for (std::size_t i = 0; i < o.names.size(); ++i)
    if (std::find(o.names.begin(), o.names.begin() + static_cast<std::ptrdiff_t>(i), o.names[i]) !=
        o.names.begin() + static_cast<std::ptrdiff_t>(i))
      cfg.fail("names", "'" + o.names[i] + "' is listed twice (each metric is one column of curves and runs.csv)");
  if (o.every < 0) cfg.fail("every", "must be >= 0 (0 = about 100 records per run)");
  if (o.test_samples < 1 || o.test_samples > 10'000'000) cfg.fail("test_samples", "must be in 1..1e7");
  const Config th = cfg.child("thresholds");
  for (const auto& metric : th.keys()) {
    if (std::find(o.names.begin(), o.names.end(), metric) == o.names.end())
      th.fail(metric, "thresholds for '" + metric + "', which is not a recorded metric (metrics.names: " +
                          join(o.names) + ")");
    auto values = th.get<std::vector<double>>(metric);
    for (double v : values) {
      if (!std::isfinite(v)) th.fail(metric, "thresholds must be finite");
      if (metric == "overlap" && !(v > 0 && v <= 1)) th.fail(metric, "overlap thresholds must be in (0, 1]");
      if (metric != "overlap" && v < 0) th.fail(metric, "thresholds must be >= 0");
    }
    o.thresholds[metric] = values;
  }
  read_success(cfg, o);
  return o;
}

at::Tensor subspace_overlap(const at::Tensor& teacher_basis, const at::Tensor& student_basis) {
  // U* [R,d,r], Q [R,d,q]: ||U*^T Q||_F^2 / r; for r = q = 1 this is <u*, u>^2, so take the square
  // root there to report |<u, u*>| as MATH.md defines it.
  at::Tensor m = at::bmm(teacher_basis.transpose(1, 2), student_basis);  // [R,r,q]
  at::Tensor value = m.pow(2).sum({1, 2}) / static_cast<double>(teacher_basis.size(2));
  if (teacher_basis.size(2) == 1 && student_basis.size(2) == 1) value = value.sqrt();
  return value.to(at::kCPU, at::kDouble);
}

at::Tensor relative_delta_error(const at::Tensor& delta, const at::Tensor& delta_star) {
  at::Tensor num = (delta - delta_star).flatten(1).norm(2, {1});
  at::Tensor den = delta_star.flatten(1).norm(2, {1});
  return at::where(den > 0, num / den, num).to(at::kCPU, at::kDouble);
}

at::Tensor monte_carlo_loss(Model& model, const at::Tensor& x) {
  // Chunks bound memory at about R * chunk * max(d, k) numbers.
  const int64_t R = model.ctx.replicas(), n = x.size(0), d = x.size(1);
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(n, (int64_t{1} << 22) / std::max<int64_t>(1, R * d)));
  at::Tensor total = at::zeros({R}, x.options());
  for (int64_t start = 0; start < n; start += chunk) {
    at::Tensor xb = x.narrow(0, start, std::min(chunk, n - start)).unsqueeze(0).expand({R, -1, d}).contiguous();
    at::Tensor wx = model.base->preactivations(xb);
    at::Tensor f = model.adapter->forward(xb, wx);
    at::Tensor fstar = model.teacher->clean_labels(xb, wx);
    total += (f - fstar).pow(2).sum(1);
  }
  at::Tensor tau = model.teacher->tau();
  return (total / (2.0 * n) + tau.pow(2) / 2).to(at::kCPU, at::kDouble);
}

namespace {

class Overlap : public Metric {
 public:
  std::string name() const override { return "overlap"; }
  bool higher_is_better() const override { return true; }
  at::Tensor compute(Model& m) override {
    const at::Tensor& u_star = m.teacher->subspace();
    return subspace_overlap(u_star, m.adapter->row_space(u_star.size(2)));
  }
};

class DeltaError : public Metric {
 public:
  std::string name() const override { return "delta_error"; }
  bool higher_is_better() const override { return false; }
  at::Tensor compute(Model& m) override { return relative_delta_error(m.adapter->delta(), m.teacher->delta()); }
};

// The student lam^T sigma(Q x) is unchanged by lam-preserving row permutations of Q and, for an even sigma,
// by row sign flips, so every adapter whose student has that form gets both (for fine-tuning adapters the
// identity matching is optimal once the student is near the teacher; scratch is where it matters). The
// linearized student f_W(x) + sum_i lam_i sigma'(<w_i,x>) <D_i,x> has neither symmetry: there the metric
// is delta_error.
class DeltaErrorSym : public Metric {
 public:
  explicit DeltaErrorSym(const Model& m)
      : even_(activation_is_even(m.base->activation())), symmetric_(m.adapter->type() != "linearized") {}
  std::string name() const override { return "delta_error_sym"; }
  bool higher_is_better() const override { return false; }
  at::Tensor compute(Model& m) override {
    return symmetric_delta_error(m.adapter->effective_weight(), m.teacher->weight(), m.base->lam(),
                                 m.teacher->delta(), even_ && symmetric_, symmetric_);
  }

 private:
  bool even_, symmetric_;
};

class TestLoss : public Metric {
 public:
  TestLoss(const Model& m, const MetricsOptions& o) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(o.test_seed));
    x_ = at::normal(0.0, 1.0, {o.test_samples, m.base->d()}, gen, at::TensorOptions().dtype(at::kDouble))
             .to(m.ctx.options());
  }
  std::string name() const override { return "test_loss"; }
  bool higher_is_better() const override { return false; }
  at::Tensor compute(Model& m) override { return monte_carlo_loss(m, x_); }

 private:
  at::Tensor x_;  // [n, d], shared by all replicas
};

}  // namespace

MetricRegistry& metric_registry() {
  static MetricRegistry registry = [] {
    MetricRegistry r("metric");
    r.add("overlap", [](const Config&, const Model&, const MetricsOptions&) { return std::make_shared<Overlap>(); },
          "|<u, u*>| (rank 1) or ||U*^T Q||_F^2 / r: alignment of the adapter's row space with the teacher's");
    r.add("delta_error",
          [](const Config&, const Model&, const MetricsOptions&) { return std::make_shared<DeltaError>(); },
          "||Delta - Delta*||_F / ||Delta*||_F");
    r.add("delta_error_sym",
          [](const Config&, const Model& m, const MetricsOptions&) { return std::make_shared<DeltaErrorSym>(m); },
          "delta_error up to the student's symmetries: min over lam-preserving row permutations of Q = W + Delta "
          "(and row sign flips when sigma is even, e.g. He_2) of ||Q - W*||_F / ||Delta*||_F");
    r.add("test_loss",
          [](const Config&, const Model& m, const MetricsOptions& o) { return std::make_shared<TestLoss>(m, o); },
          "Monte-Carlo E[(f - f*)^2]/2 + tau^2/2 on a fixed held-out set of metrics.test_samples inputs");
    r.add("population_loss", [](const Config&, const Model& m, const MetricsOptions& o) { return make_population_loss_metric(m, o); },
          "exact E[(f - f*)^2]/2 + tau^2/2 from the activation's kernel K (closed form or quadrature), O(k^2 d)");
    return r;
  }();
  return registry;
}

bool metric_higher_is_better(const std::string& metric) { return metric == "overlap"; }

MetricSet::MetricSet(const MetricsOptions& options, const Model& model) : options_(options) {
  const Config empty = Config::load_string("{}", "<metrics>");
  for (const auto& name : options.names)
    if (name != "train_loss")
      if (auto metric = metric_registry().find(name, empty).make(empty, model, options)) metrics_.push_back(metric);
}

std::map<std::string, at::Tensor> MetricSet::evaluate(Model& model) {
  std::map<std::string, at::Tensor> out;
  for (auto& metric : metrics_) out[metric->name()] = metric->compute(model);
  return out;
}

}  // namespace lrlab::models
