#include "models/activations/hermite.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "framework/config.h"
#include "models/activations/common.h"

namespace lrlab::models {

namespace {

// Degree limit of a coefficient list: He_p grows like sqrt(p!) |z|^p and the kernel's terms like
// (p!)^2, so beyond ~30 double precision cannot represent the sums meaningfully.
constexpr int kMaxDegree = 30;

double factorial(int n) {
  double f = 1.0;
  for (int i = 2; i <= n; ++i) f *= i;
  return f;
}

std::string format_number(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

void validate(const HermiteOptions& o, const Config* cfg) {
  const bool has_p = o.p != 0;
  const bool has_c = !o.coefficients.empty();
  if (has_p && has_c) detail::option_fail(cfg, "hermite", "coefficients", "give either p or coefficients, not both");
  if (!has_p && !has_c)
    detail::option_fail(cfg, "hermite", "p",
                        "hermite needs p (sigma = He_p, p in 1..6) or coefficients: [a_0, a_1, ...] "
                        "(sigma = sum_p a_p He_p / p!)");
  if (has_p && (o.p < 1 || o.p > 6))
    detail::option_fail(cfg, "hermite", "p", "p must be in 1..6, got " + std::to_string(o.p));
  if (has_c) {
    if (static_cast<int>(o.coefficients.size()) > kMaxDegree + 1)
      detail::option_fail(cfg, "hermite", "coefficients",
                          "at most " + std::to_string(kMaxDegree + 1) + " coefficients (degree " +
                              std::to_string(kMaxDegree) + "), got " + std::to_string(o.coefficients.size()));
    bool nonconstant = false;
    for (size_t i = 0; i < o.coefficients.size(); ++i) {
      if (!std::isfinite(o.coefficients[i]))
        detail::option_fail(
            cfg, "hermite", "coefficients",
            "coefficient a_" + std::to_string(i) + " is not finite: " + format_number(o.coefficients[i]));
      if (i >= 1 && o.coefficients[i] != 0.0) nonconstant = true;
    }
    if (!nonconstant)
      detail::option_fail(cfg, "hermite", "coefficients",
                          "some a_p with p >= 1 must be non-zero (a constant activation has no information exponent)");
  }
  const std::string problem = detail::quadrature_nodes_problem(o.quadrature_nodes);
  if (!problem.empty()) detail::option_fail(cfg, "hermite", "quadrature_nodes", problem);
}

}  // namespace

HermiteOptions HermiteOptions::from_config(const Config& cfg) {
  HermiteOptions o;
  // Only the keys present are read: reading an absent `p` with a default would record it in the
  // resolved config next to `coefficients`, and that config would then be rejected when reloaded.
  if (cfg.has("p")) {
    o.p = cfg.get<int>("p");
    if (o.p == 0) cfg.fail("p", "p must be in 1..6, got 0");
  }
  if (cfg.has("coefficients")) {
    o.coefficients = cfg.get<std::vector<double>>("coefficients");
    if (o.coefficients.empty()) cfg.fail("coefficients", "coefficients must not be empty");
  }
  o.normalize = cfg.get<bool>("normalize", o.normalize);
  o.quadrature_nodes = detail::read_quadrature_nodes(cfg);
  cfg.finish();
  validate(o, &cfg);
  return o;
}

Hermite::Hermite(const HermiteOptions& options) {
  validate(options, nullptr);
  quadrature_nodes_ = options.quadrature_nodes;
  if (options.p != 0) {
    coefficients_.assign(options.p + 1, 0.0);
    coefficients_[options.p] = factorial(options.p);  // He_p = p! He_p / p!
  } else {
    coefficients_ = options.coefficients;
  }
  while (coefficients_.size() > 2 && coefficients_.back() == 0.0) coefficients_.pop_back();
  if (options.normalize) {
    // E[sigma(z)^2] = sum_p a_p^2 / p! by orthogonality, E[He_m He_n] = n! delta_mn.
    double second_moment = 0.0;
    for (size_t p = 0; p < coefficients_.size(); ++p)
      second_moment += coefficients_[p] * coefficients_[p] / factorial(static_cast<int>(p));
    const double scale = 1.0 / std::sqrt(second_moment);
    for (double& a : coefficients_) a *= scale;
  }
  for (size_t p = 1; p < coefficients_.size(); ++p) {
    if (coefficients_[p] != 0.0) {
      information_exponent_ = static_cast<int>(p);
      break;
    }
  }
  for (size_t p = 0; p < coefficients_.size(); ++p) {
    value_coef_.push_back(coefficients_[p] / factorial(static_cast<int>(p)));
    if (p + 1 < coefficients_.size()) derivative_coef_.push_back(coefficients_[p + 1] / factorial(static_cast<int>(p)));
  }
}

Hermite::Hermite(const Config& cfg) : Hermite(HermiteOptions::from_config(cfg)) {}

// He_0 = 1, He_1 = z, He_{n+1} = z He_n - n He_{n-1}; sigma = sum_p (a_p / p!) He_p.
at::Tensor Hermite::value(const at::Tensor& z) const {
  at::Tensor prev = at::ones_like(z);  // He_0
  at::Tensor out = coefficients_[0] * prev;
  at::Tensor cur = z;  // He_1
  for (size_t p = 1; p < coefficients_.size(); ++p) {
    if (coefficients_[p] != 0.0) out = out + (coefficients_[p] / factorial(p)) * cur;
    if (p + 1 < coefficients_.size()) {
      at::Tensor next = z * cur - static_cast<double>(p) * prev;
      prev = cur;
      cur = next;
    }
  }
  return out;
}

// He_p' = p He_{p-1}, so sigma' = sum_{p>=1} (a_p / (p-1)!) He_{p-1}.
at::Tensor Hermite::derivative(const at::Tensor& z) const {
  at::Tensor prev;
  at::Tensor cur = at::ones_like(z);  // He_0
  at::Tensor out = at::zeros_like(z);
  for (size_t p = 1; p < coefficients_.size(); ++p) {
    // here cur = He_{p-1}
    if (coefficients_[p] != 0.0) out = out + (coefficients_[p] / factorial(p - 1)) * cur;
    if (p + 1 < coefficients_.size()) {
      at::Tensor next = p == 1 ? z * cur : z * cur - static_cast<double>(p - 1) * prev;
      prev = cur;
      cur = next;
    }
  }
  return out;
}

// Exact kernel for any covariance [[saa, sab], [sab, sbb]] (not only unit vectors).
//
// Scaling identity: from the generating function exp(t x - t^2/2) = sum_n He_n(x) t^n / n!,
//   exp(t s x - t^2/2) = exp((s t) x - (s t)^2/2) exp((s^2 - 1) t^2 / 2), so
//   He_m(s x) = sum_{k <= m/2} m! / (k! 2^k (m-2k)!) s^{m-2k} (s^2 - 1)^k He_{m-2k}(x).
// Hence, with z = sqrt(s) x, x ~ N(0, 1), the Hermite expansion of sigma on the scaled input is
//   sigma(sqrt(s) x) = sum_j (s^{j/2} / j!) B_j(s) He_j(x),
//   B_j(s) = sum_{k >= 0} a_{j+2k} ((s - 1) / 2)^k / k!
// (a_m / m! * m! / (k! 2^k j!) = a_{j+2k} / (k! 2^k j!) with m = j + 2k).
// For standard x1, x2 with correlation rho, E[He_j(x1) He_l(x2)] = j! rho^j delta_jl (Mehler), so with
// z1 = sqrt(saa) x1, z2 = sqrt(sbb) x2 and rho sqrt(saa sbb) = sab:
//   K = sum_j (saa^{j/2} B_j(saa) / j!) (sbb^{j/2} B_j(sbb) / j!) j! rho^j
//     = sum_j sab^j / j! * B_j(saa) B_j(sbb).
// Equivalently K = sum_{m,n} a_m a_n / (m! n!) E[He_m(z1) He_n(z2)] with
//   E[He_m He_n] = sum_j j! sab^j m! n! / (j!^2 k1! k2! 2^{k1+k2}) (saa-1)^{k1} (sbb-1)^{k2},
//   k1 = (m-j)/2, k2 = (n-j)/2 (j of the parity of m and n).
// Checks: unit vectors and sigma = He_p give p! sab^p (MATH.md); He_2 with saa = sbb = sab = s gives
// (s-1)^2 + 2 s^2 = E[(z^2-1)^2]. Both sides are polynomials in the covariance entries (Isserlis), equal
// on positive-definite covariances, hence everywhere: zero and parallel vectors are regular points, and
// autograd of this polynomial is exact (no sqrt, no division).
at::Tensor Hermite::kernel(const at::Tensor& saa, const at::Tensor& sbb, const at::Tensor& sab) const {
  const int degree = static_cast<int>(coefficients_.size()) - 1;
  const at::Tensor ha = (saa - 1.0) * 0.5;  // (saa - 1) / 2
  const at::Tensor hb = (sbb - 1.0) * 0.5;
  // B_j(s) by Horner in h = (s - 1) / 2: sum_k (a_{j+2k} / k!) h^k.
  auto b_poly = [&](int j, const at::Tensor& h) {
    const int kmax = (degree - j) / 2;
    at::Tensor acc = at::full_like(h, coefficients_[j + 2 * kmax] / factorial(kmax));
    for (int k = kmax - 1; k >= 0; --k) acc = acc * h + coefficients_[j + 2 * k] / factorial(k);
    return acc;
  };
  at::Tensor out;
  at::Tensor sab_power;  // sab^j / j!
  for (int j = 0; j <= degree; ++j) {
    sab_power = j == 0 ? at::ones_like(sab) : sab_power * sab * (1.0 / j);
    bool any = false;
    for (int m = j; m <= degree; m += 2) any = any || coefficients_[m] != 0.0;
    if (!any) continue;  // B_j == 0 (e.g. the other parity for a single He_p)
    const at::Tensor term = sab_power * b_poly(j, ha) * b_poly(j, hb);
    out = out.defined() ? out + term : term;
  }
  return out;
}

// sigma = sum_p (a_p / p!) He_p and sigma' = sum_p (a_{p+1} / p!) He_p, both by the recurrence
// He_0 = 1, He_1 = z, He_{p+1} = z He_p - p He_{p-1} (coefficient lists from the constructor).
void Hermite::cpu_values(const double* z, double* v, double* dv, int64_t n) const {
  auto sum = [](const std::vector<double>& coef, double x) {
    double prev = 1.0, cur = x, out = coef.empty() ? 0.0 : coef[0];
    for (size_t p = 1; p < coef.size(); ++p) {
      out += coef[p] * cur;
      const double next = x * cur - static_cast<double>(p) * prev;
      prev = cur;
      cur = next;
    }
    return out;
  };
  detail::scalar_values(z, v, dv, n, [&](double x, double& value, double& slope) {
    value = sum(value_coef_, x);
    slope = sum(derivative_coef_, x);
  });
}

std::optional<fused::ActivationDesc> Hermite::cuda_descriptor(std::string* why) const {
  fused::ActivationDesc desc;
  desc.kind = fused::ActivationKind::kHermite;
  // The lists cpu_values sums (normalised in the constructor); the descriptor's capacity is the
  // activation's own degree limit, so every valid hermite fits.
  if (value_coef_.size() > static_cast<size_t>(fused::kMaxHermiteTerms)) {
    if (why) *why = "activation 'hermite' has more coefficients than the fused CUDA step holds";
    return std::nullopt;
  }
  desc.value_terms = static_cast<int32_t>(value_coef_.size());
  desc.slope_terms = static_cast<int32_t>(derivative_coef_.size());
  std::copy(value_coef_.begin(), value_coef_.end(), desc.value_coef);
  std::copy(derivative_coef_.begin(), derivative_coef_.end(), desc.slope_coef);
  return desc;
}

}  // namespace lrlab::models
