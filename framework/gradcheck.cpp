#include "framework/gradcheck.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "framework/error.h"

namespace lrlab {

namespace {

/// The multi-index of flat position `flat` in a tensor of `sizes`.
std::vector<int64_t> unravel(int64_t flat, at::IntArrayRef sizes) {
  std::vector<int64_t> index(sizes.size());
  for (int64_t i = static_cast<int64_t>(sizes.size()) - 1; i >= 0; --i) {
    index[i] = flat % sizes[i];
    flat /= sizes[i];
  }
  return index;
}

std::string index_text(const std::vector<int64_t>& index) {
  return "[" + fmt::format("{}", fmt::join(index, ",")) + "]";
}

}  // namespace

GradientComparison compare_gradients(const at::Tensor& a, const at::Tensor& b, const at::Tensor& mask) {
  check(a.sizes() == b.sizes(), "compare_gradients: shapes differ (" + c10::str(a.sizes()) + " vs " +
                                    c10::str(b.sizes()) + ")");
  GradientComparison c;
  const at::Tensor fa = a.detach().to(at::kCPU, at::kDouble).reshape({-1});
  const at::Tensor fb = b.detach().to(at::kCPU, at::kDouble).reshape({-1});
  const at::Tensor m = mask.defined() ? mask.to(at::kCPU, at::kBool).reshape({-1}) : at::ones_like(fa, at::kBool);
  c.compared = m.sum().item<int64_t>();
  c.skipped = fa.numel() - c.compared;
  if (c.compared == 0) return c;
  // Non-finite differences are infinitely wrong (NaN would otherwise compare as "not larger").
  at::Tensor diff = (fa - fb).abs();
  diff = at::where(at::isfinite(diff), diff, at::full_like(diff, std::numeric_limits<double>::infinity()));
  const at::Tensor masked = at::where(m, diff, at::zeros_like(diff));
  const int64_t worst = masked.argmax().item<int64_t>();
  c.max_abs_error = masked[worst].item<double>();
  c.worst_index = unravel(worst, a.sizes());
  c.worst_a = fa[worst].item<double>();
  c.worst_b = fb[worst].item<double>();
  const double diff_norm = masked.norm().item<double>();
  const double scale = at::where(m, fa, at::zeros_like(fa)).norm().item<double>() +
                       at::where(m, fb, at::zeros_like(fb)).norm().item<double>();
  const double tiny = std::numeric_limits<double>::min();
  c.relative_error = std::isfinite(diff_norm) ? diff_norm / std::max(scale, tiny)
                                              : std::numeric_limits<double>::infinity();
  if (diff_norm == 0) c.relative_error = 0;
  return c;
}

FiniteDifference finite_difference_gradient(at::Tensor value, const LossFunction& loss,
                                            const GradcheckOptions& options) {
  check(value.scalar_type() == at::kDouble, "gradient check: finite differences need float64 values");
  check(value.is_contiguous(), "gradient check: the checked tensor must be contiguous");
  check(value.dim() >= 1, "gradient check: the checked tensor needs a leading replica axis");
  at::NoGradGuard no_grad;
  const int64_t replicas = value.size(0);
  const int64_t n = replicas == 0 ? 0 : value.numel() / replicas;
  at::Tensor flat = value.view({replicas, n});  // shares storage: writes perturb `value`
  FiniteDifference out;
  out.gradient = at::zeros({replicas, n}, value.options());
  out.checked = at::zeros({replicas, n}, value.options().dtype(at::kBool));

  std::vector<int64_t> elements;
  if (n <= options.max_elements) {
    for (int64_t j = 0; j < n; ++j) elements.push_back(j);
  } else {
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(options.seed);
    at::Tensor pick = at::randperm(n, gen, at::TensorOptions().dtype(at::kLong)).narrow(0, 0, options.max_elements);
    pick = std::get<0>(pick.sort());
    for (int64_t i = 0; i < pick.numel(); ++i) elements.push_back(pick[i].item<int64_t>());
  }

  for (int64_t j : elements) {
    at::Tensor column = flat.select(1, j);        // element j of every replica [R]
    const at::Tensor original = column.clone();
    const at::Tensor h = options.step * original.abs().clamp_min(1.0);  // [R]
    column.copy_(original + h);
    const LossProbe plus = loss();
    column.copy_(original - h);
    const LossProbe minus = loss();
    column.copy_(original);  // restored bit for bit
    // The step actually taken is (theta + h) - (theta - h) in floating point.
    const at::Tensor taken = (original + h) - (original - h);
    out.gradient.select(1, j).copy_((plus.loss - minus.loss) / taken);
    at::Tensor ok = at::ones({replicas}, out.checked.options());
    if (options.kink > 0 && plus.kink_distance.defined() && minus.kink_distance.defined())
      ok = (plus.kink_distance >= options.kink).logical_and(minus.kink_distance >= options.kink);
    out.checked.select(1, j).copy_(ok);
  }
  out.gradient = out.gradient.view(value.sizes());
  out.checked = out.checked.view(value.sizes());
  return out;
}

GradcheckReport gradient_check(const std::vector<GradcheckInput>& inputs, const LossFunction& loss,
                               const GradcheckOptions& options) {
  GradcheckReport report;
  for (const auto& in : inputs) {
    TensorGradcheck t;
    t.name = in.name;
    t.autograd = compare_gradients(in.analytic, in.autograd);
    const FiniteDifference fd = finite_difference_gradient(in.value, loss, options);
    t.finite_difference = compare_gradients(in.analytic, fd.gradient, fd.checked);
    report.tensors.push_back(std::move(t));
  }
  return report;
}

std::vector<std::string> GradcheckReport::failures(double autograd_tolerance, double fd_tolerance) const {
  std::vector<std::string> out;
  for (const auto& t : tensors) {
    if (!(t.autograd.relative_error <= autograd_tolerance))
      out.push_back(fmt::format("parameter '{}': analytic vs autograd relative error {:.3e} > {:.1e} (worst element "
                                "{}: analytic {:.6e}, autograd {:.6e})",
                                t.name, t.autograd.relative_error, autograd_tolerance,
                                index_text(t.autograd.worst_index), t.autograd.worst_a, t.autograd.worst_b));
    if (!(t.finite_difference.relative_error <= fd_tolerance))
      out.push_back(fmt::format("parameter '{}': analytic vs finite differences relative error {:.3e} > {:.1e} "
                                "(worst element {}: analytic {:.6e}, finite difference {:.6e})",
                                t.name, t.finite_difference.relative_error, fd_tolerance,
                                index_text(t.finite_difference.worst_index), t.finite_difference.worst_a,
                                t.finite_difference.worst_b));
  }
  return out;
}

std::string GradcheckReport::table(double autograd_tolerance, double fd_tolerance) const {
  std::string out = fmt::format("{:<10} {:<17} {:>13} {:>13}  {:<44} {:>9} {:>8}  {}\n", "parameter", "comparison",
                                "max abs err", "rel err", "worst element: analytic vs other", "compared", "skipped",
                                "status");
  auto row = [&](const std::string& name, const char* kind, const GradientComparison& c, double tol) {
    const std::string worst =
        c.compared ? fmt::format("{} {:.6e} vs {:.6e}", index_text(c.worst_index), c.worst_a, c.worst_b) : "-";
    out += fmt::format("{:<10} {:<17} {:>13.3e} {:>13.3e}  {:<44} {:>9} {:>8}  {}\n", name, kind, c.max_abs_error,
                       c.relative_error, worst, c.compared, c.skipped, c.relative_error <= tol ? "ok" : "FAIL");
  };
  for (const auto& t : tensors) {
    row(t.name, "autograd", t.autograd, autograd_tolerance);
    row(t.name, "finite difference", t.finite_difference, fd_tolerance);
  }
  return out;
}

double GradcheckReport::worst_relative_error(const std::string& comparison) const {
  check(comparison == "autograd" || comparison == "finite_difference",
        "worst_relative_error: comparison is autograd or finite_difference, got '" + comparison + "'");
  double worst = 0;
  for (const auto& t : tensors) {
    const double e = comparison == "autograd" ? t.autograd.relative_error : t.finite_difference.relative_error;
    if (!(e <= worst)) worst = e;  // NaN propagates as the worst
  }
  return worst;
}

}  // namespace lrlab
