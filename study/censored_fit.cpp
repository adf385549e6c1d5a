#include "study/censored_fit.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "framework/error.h"
#include "study/fit.h"

namespace lrlab {
namespace study {

CensoredFit::CensoredFit()
    : intercept(kNaN), slope(kNaN), sigma(kNaN), slope_lo(kNaN), slope_hi(kNaN), log_likelihood(kNaN) {}

namespace {

constexpr double kHalfLog2Pi = 0.91893853320467274178;  // log(2 pi) / 2
// Above this standardised censoring point the normal tail uses its asymptotic series (erfc underflows
// near 38; at 30 the truncation error of the series, 105 / w^8, is below 2e-10 relative).
constexpr double kTailSeriesFrom = 30.0;

/// log P(Z > w), Z ~ N(0, 1), without underflow.
double log_normal_tail(double w) {
  if (w < kTailSeriesFrom) return std::log(0.5 * std::erfc(w / std::sqrt(2.0)));
  const double r = 1.0 / (w * w);
  return -0.5 * w * w - std::log(w) - kHalfLog2Pi + std::log1p(-r + 3 * r * r - 15 * r * r * r);
}

/// The hazard phi(w) / P(Z > w) (inverse Mills ratio), without underflow.
double normal_hazard(double w) {
  if (w < kTailSeriesFrom) return std::exp(-0.5 * w * w - kHalfLog2Pi) / (0.5 * std::erfc(w / std::sqrt(2.0)));
  const double r = 1.0 / (w * w);
  return w / (1.0 - r + 3 * r * r - 15 * r * r * r);
}

/// Runs on centred logs: u = log x - mean, y = log t - mean, with the reached flags.
struct LogData {
  std::vector<double> u, y;
  std::vector<bool> reached;
};

/// Olsen's parameters theta = (g0, g1, h) = (a, b, 1) / sigma on the centred data, with the standardised
/// residual w_i = h y_i - g0 - g1 u_i; dw/dtheta = z_i = (-1, -u_i, y_i).
using Vec3 = std::array<double, 3>;
using Mat3 = std::array<Vec3, 3>;

// Log-likelihood, gradient and Hessian in theta:
//   reached:  l_i = log h - w^2/2 - log(2 pi)/2,  grad = -w z + (0, 0, 1/h),  Hess = -z z^T - diag(0, 0, 1/h^2)
//   censored: l_i = log P(Z > w),                 grad = -lambda z,           Hess = -lambda (lambda - w) z z^T
// (lambda = phi(w) / P(Z > w), d log P(Z > w) / dw = -lambda, d lambda / dw = lambda (lambda - w) in (0, 1)).
// Both Hessians are negative semi-definite: the log-likelihood is concave (Olsen 1978).
double log_likelihood(const LogData& d, const Vec3& th, Vec3* grad, Mat3* hess) {
  double l = 0;
  if (grad) *grad = {0, 0, 0};
  if (hess) *hess = Mat3{};
  for (std::size_t i = 0; i < d.u.size(); ++i) {
    const double w = th[2] * d.y[i] - th[0] - th[1] * d.u[i];
    const Vec3 z = {-1.0, -d.u[i], d.y[i]};
    double dl, d2l;  // dl/dw and d2l/dw2
    if (d.reached[i]) {
      l += std::log(th[2]) - 0.5 * w * w - kHalfLog2Pi;
      dl = -w;
      d2l = -1.0;
    } else {
      const double lambda = normal_hazard(w);
      l += log_normal_tail(w);
      dl = -lambda;
      d2l = -lambda * (lambda - w);
    }
    for (int a = 0; a < 3; ++a) {
      if (grad) (*grad)[a] += dl * z[a];
      if (hess)
        for (int b = 0; b < 3; ++b) (*hess)[a][b] += d2l * z[a] * z[b];
    }
    if (d.reached[i]) {
      if (grad) (*grad)[2] += 1.0 / th[2];
      if (hess) (*hess)[2][2] -= 1.0 / (th[2] * th[2]);
    }
  }
  return l;
}

/// Solves m s = r for a 3x3 system by Gaussian elimination with partial pivoting; false when singular.
bool solve3(Mat3 m, Vec3 r, Vec3& s) {
  for (int c = 0; c < 3; ++c) {
    int piv = c;
    for (int i = c + 1; i < 3; ++i)
      if (std::abs(m[i][c]) > std::abs(m[piv][c])) piv = i;
    if (!(std::abs(m[piv][c]) > 0)) return false;
    std::swap(m[c], m[piv]);
    std::swap(r[c], r[piv]);
    for (int i = c + 1; i < 3; ++i) {
      const double f = m[i][c] / m[c][c];
      for (int j = c; j < 3; ++j) m[i][j] -= f * m[c][j];
      r[i] -= f * r[c];
    }
  }
  for (int c = 2; c >= 0; --c) {
    double v = r[c];
    for (int j = c + 1; j < 3; ++j) v -= m[c][j] * s[j];
    s[c] = v / m[c][c];
  }
  return std::isfinite(s[0]) && std::isfinite(s[1]) && std::isfinite(s[2]);
}

/// The MLE on centred data: {a_c, b, sigma, log-likelihood, iterations}, or a note why there is none.
struct Estimate {
  double a = kNaN, b = kNaN, sigma = kNaN, loglik = kNaN;
  int iterations = 0;
  std::string note;
};

// Starts from least squares on the reached runs (the exact answer when nothing is censored), then
// maximises by Newton steps d = -H^{-1} g with backtracking (Armijo) and stops when the Newton decrement
// g.d / 2 falls below 1e-12 (the log-likelihood is then within about that of its maximum).
Estimate maximise(const LogData& d) {
  Estimate e;
  std::vector<std::size_t> hit;
  std::set<double> hit_u;
  for (std::size_t i = 0; i < d.u.size(); ++i)
    if (d.reached[i]) {
      hit.push_back(i);
      hit_u.insert(d.u[i]);
    }
  if (hit_u.size() < 2) {
    e.note = "fewer than 2 distinct x with a reached run";
    return e;
  }
  if (hit.size() < 3) {
    e.note = "fewer than 3 reached runs";
    return e;
  }
  double mu = 0, my = 0;
  for (std::size_t i : hit) {
    mu += d.u[i];
    my += d.y[i];
  }
  mu /= hit.size();
  my /= hit.size();
  double suu = 0, suy = 0, syy = 0;
  for (std::size_t i : hit) {
    suu += (d.u[i] - mu) * (d.u[i] - mu);
    suy += (d.u[i] - mu) * (d.y[i] - my);
    syy += (d.y[i] - my) * (d.y[i] - my);
  }
  const double b0 = suy / suu, a0 = my - b0 * mu;
  const double rss = std::max(0.0, syy - b0 * suy);
  if (!(rss > 1e-24 * (1.0 + syy))) {
    e.note = "the reached runs lie on a line (sigma = 0): no maximum-likelihood fit";
    return e;
  }
  const double s0 = std::sqrt(rss / hit.size());
  Vec3 th = {a0 / s0, b0 / s0, 1.0 / s0};
  Vec3 g;
  Mat3 h;
  double l = log_likelihood(d, th, &g, &h);
  for (int it = 1; it <= 200; ++it) {
    e.iterations = it;
    Mat3 neg;
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) neg[a][b] = -h[a][b];
    Vec3 step;
    if (!solve3(neg, g, step)) step = g;  // singular Hessian: a gradient step (the line search scales it)
    const double decrement = g[0] * step[0] + g[1] * step[1] + g[2] * step[2];
    if (decrement < 2e-12) break;
    double s = 1.0, next_l = -std::numeric_limits<double>::infinity();
    Vec3 next = th;
    for (int k = 0; k < 60; ++k, s *= 0.5) {
      next = {th[0] + s * step[0], th[1] + s * step[1], th[2] + s * step[2]};
      if (!(next[2] > 0)) continue;
      next_l = log_likelihood(d, next, nullptr, nullptr);
      if (next_l >= l + 1e-4 * s * decrement) break;
    }
    if (!(next_l >= l)) break;  // no ascent possible at rounding level: at the maximum
    th = next;
    l = log_likelihood(d, th, &g, &h);
    if (th[2] > 1e12) {
      e.note = "sigma -> 0: no maximum-likelihood fit";
      return e;
    }
  }
  e.sigma = 1.0 / th[2];
  e.a = th[0] * e.sigma;
  e.b = th[1] * e.sigma;
  e.loglik = l;
  return e;
}

void check_inputs(const std::vector<double>& t, const std::vector<bool>& reached, const char* what) {
  check(t.size() == reached.size(),
        fmt::format("{}: {} times but {} reached flags", what, t.size(), reached.size()));
  for (std::size_t i = 0; i < t.size(); ++i)
    check(std::isfinite(t[i]) && t[i] > 0,
          fmt::format("{}: times must be positive and finite, got {} (run {})", what, t[i], i));
}

/// The fit on the runs `index` (with repetitions) of the logged data, the logs centred on their means.
Estimate fit_runs(const std::vector<double>& lx, const std::vector<double>& ly, const std::vector<bool>& reached,
                  const std::vector<std::size_t>& index, double* mean_u, double* mean_y) {
  LogData d;
  double mu = 0, my = 0;
  for (std::size_t i : index) {
    mu += lx[i];
    my += ly[i];
  }
  mu /= static_cast<double>(index.size());
  my /= static_cast<double>(index.size());
  for (std::size_t i : index) {
    d.u.push_back(lx[i] - mu);
    d.y.push_back(ly[i] - my);
    d.reached.push_back(reached[i]);
  }
  *mean_u = mu;
  *mean_y = my;
  return maximise(d);
}

// Uniform index below n (as fit.cpp: modulo, identical across standard libraries; bias < 2^-50).
std::size_t draw(std::mt19937_64& rng, std::size_t n) { return static_cast<std::size_t>(rng() % n); }

}  // namespace

CensoredFit censored_aft_fit(const std::vector<double>& x, const std::vector<double>& t,
                             const std::vector<bool>& reached, int bootstrap, uint64_t rng_seed) {
  check_inputs(t, reached, "censored fit");
  check(x.size() == t.size(), fmt::format("censored fit: {} x values but {} times", x.size(), t.size()));
  check(bootstrap >= 0, fmt::format("censored fit: bootstrap must be >= 0, got {}", bootstrap));
  std::vector<double> lx(x.size()), ly(t.size());
  std::map<double, std::vector<std::size_t>> strata;
  CensoredFit out;
  std::map<double, int> censored;
  for (std::size_t i = 0; i < x.size(); ++i) {
    check(std::isfinite(x[i]) && x[i] > 0,
          fmt::format("censored fit: x must be positive and finite, got {} (run {})", x[i], i));
    lx[i] = std::log(x[i]);
    ly[i] = std::log(t[i]);
    strata[x[i]].push_back(i);
    if (!reached[i]) ++censored[x[i]];
  }
  out.n_used = static_cast<int>(x.size());
  for (const auto& [value, count] : censored) {
    out.n_censored += count;
    out.censored_by_x.emplace_back(value, count);
  }
  if (x.empty()) {
    out.note = "no runs";
    return out;
  }
  std::vector<std::size_t> all(x.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  double mu = 0, my = 0;
  const Estimate full = fit_runs(lx, ly, reached, all, &mu, &my);
  out.note = full.note;
  if (!full.note.empty()) return out;
  out.slope = full.b;
  out.intercept = my + full.a - full.b * mu;  // log T = my + a_c + b (log x - mu)
  out.sigma = full.sigma;
  out.log_likelihood = full.loglik;
  out.iterations = full.iterations;
  if (bootstrap == 0) return out;

  std::mt19937_64 rng(rng_seed);
  std::vector<double> slopes;
  std::vector<std::size_t> index;
  for (int b = 0; b < bootstrap; ++b) {
    index.clear();
    for (const auto& [value, runs] : strata)
      for (std::size_t j = 0; j < runs.size(); ++j) index.push_back(runs[draw(rng, runs.size())]);
    double bu = 0, by = 0;
    const Estimate e = fit_runs(lx, ly, reached, index, &bu, &by);
    if (e.note.empty()) slopes.push_back(e.b);
  }
  out.bootstrap_used = static_cast<int>(slopes.size());
  if (!slopes.empty()) {
    out.slope_lo = quantile(slopes, 0.025);
    out.slope_hi = quantile(slopes, 0.975);
  }
  if (out.bootstrap_used < bootstrap)
    out.note = fmt::format("{} of {} bootstrap resamples had no fit", bootstrap - out.bootstrap_used, bootstrap);
  return out;
}

// S(t) = prod over event times s <= t of (1 - d_s / n_s): d_s reached runs at s, n_s runs with t >= s
// (censored runs at s count as at risk at s).
KaplanMeierCurve kaplan_meier(const std::vector<double>& t, const std::vector<bool>& reached) {
  check_inputs(t, reached, "Kaplan-Meier");
  std::vector<std::size_t> order(t.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return t[a] < t[b]; });
  KaplanMeierCurve curve;
  double s = 1.0;
  std::size_t at_risk = t.size();
  for (std::size_t k = 0; k < order.size();) {
    const double time = t[order[k]];
    std::size_t events = 0, leaving = 0;
    for (; k < order.size() && t[order[k]] == time; ++k, ++leaving)
      if (reached[order[k]]) ++events;
    if (events > 0) {
      s *= 1.0 - static_cast<double>(events) / static_cast<double>(at_risk);
      curve.times.push_back(time);
      curve.survival.push_back(s);
    }
    at_risk -= leaving;
  }
  return curve;
}

double kaplan_meier_quantile(const std::vector<double>& t, const std::vector<bool>& reached, double q) {
  check(q > 0 && q < 1, fmt::format("Kaplan-Meier quantile: q must be in (0, 1), got {}", q));
  const KaplanMeierCurve curve = kaplan_meier(t, reached);
  // A relative slack of 1e-12 so that S = 0.5 computed as 1 - 1/2 or (3/4)(2/3) counts as reaching 0.5.
  for (std::size_t i = 0; i < curve.times.size(); ++i)
    if (curve.survival[i] <= (1.0 - q) * (1.0 + 1e-12)) return curve.times[i];
  return kNaN;
}

KaplanMeierSummary kaplan_meier_summary(const std::vector<double>& t, const std::vector<bool>& reached) {
  KaplanMeierSummary s;
  s.q25 = kaplan_meier_quantile(t, reached, 0.25);
  s.median = kaplan_meier_quantile(t, reached, 0.5);
  s.q75 = kaplan_meier_quantile(t, reached, 0.75);
  s.n = static_cast<int>(t.size());
  for (bool r : reached) s.n_censored += r ? 0 : 1;
  return s;
}

}  // namespace study
}  // namespace lrlab
