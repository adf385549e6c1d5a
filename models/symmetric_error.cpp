#include "models/symmetric_error.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "framework/error.h"
#include "models/activation.h"

namespace lrlab::models {

bool activation_is_even(const Activation& act) {
  at::NoGradGuard no_grad;
  const at::Tensor z = at::linspace(-6.0, 6.0, 241, at::TensorOptions().dtype(at::kDouble));
  const at::Tensor v = act.value(z);
  const double scale = v.abs().max().item<double>();
  return (v - act.value(-z)).abs().max().item<double>() <= 1e-12 * scale;
}

// Hungarian algorithm with potentials (shortest augmenting paths), 1-based internally: u, v are the row
// and column potentials, way[j] the previous column on the augmenting path, match[j] the row of column j.
std::vector<int64_t> min_cost_assignment(const std::vector<double>& cost, int64_t n) {
  check(static_cast<int64_t>(cost.size()) == n * n, "min_cost_assignment: cost must have n * n entries");
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0.0), v(n + 1, 0.0);
  std::vector<int64_t> match(n + 1, 0), way(n + 1, 0);
  for (int64_t i = 1; i <= n; ++i) {
    match[0] = i;
    int64_t j0 = 0;
    std::vector<double> minv(n + 1, inf);
    std::vector<bool> used(n + 1, false);
    do {
      used[j0] = true;
      const int64_t i0 = match[j0];
      double delta = inf;
      int64_t j1 = 0;
      for (int64_t j = 1; j <= n; ++j) {
        if (used[j]) continue;
        const double cur = cost[(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (int64_t j = 0; j <= n; ++j) {
        if (used[j]) {
          u[match[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (match[j0] != 0);
    do {
      const int64_t j1 = way[j0];
      match[j0] = match[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int64_t> column(n);
  for (int64_t j = 1; j <= n; ++j) column[match[j] - 1] = j - 1;
  return column;
}

// Per replica: cost_ij = min_s |s q_j - p_i|^2 (s = 1, or s = +-1 when even) for teacher row i and student
// row j with lam_i == lam_j, from the Gram entries |q_j|^2 + |p_i|^2 - 2 s <q_j, p_i> (matching only); a
// forbidden pair costs more than any full assignment. The matched rows are then gathered, their signs set,
// and the distance taken from the difference vectors.
at::Tensor symmetric_delta_error(const at::Tensor& q, const at::Tensor& p, const at::Tensor& lam,
                                 const at::Tensor& delta_star, bool even, bool permute) {
  at::NoGradGuard no_grad;
  const auto cpu64 = [](const at::Tensor& t) { return t.detach().to(at::kCPU, at::kDouble).contiguous(); };
  const at::Tensor q64 = cpu64(q), p64 = cpu64(p), lam64 = cpu64(lam), ds = cpu64(delta_star);  // [R,k,d], [R,k]
  const int64_t replicas = q64.size(0), k = q64.size(1);
  const at::Tensor cross = at::bmm(p64, q64.transpose(1, 2));                // <p_i, q_j> [R,k,k]
  const at::Tensor pn = (p64 * p64).sum(-1), qn = (q64 * q64).sum(-1);       // [R,k]
  const at::Tensor plus = pn.unsqueeze(2) + qn.unsqueeze(1) - 2.0 * cross;   // |q_j - p_i|^2
  const at::Tensor minus = pn.unsqueeze(2) + qn.unsqueeze(1) + 2.0 * cross;  // |q_j + p_i|^2
  const at::Tensor best = even ? at::minimum(plus, minus) : plus;            // [R,k,k]
  at::Tensor matched = at::empty_like(q64);                                  // S Pi Q [R,k,d]
  for (int64_t r = 0; r < replicas; ++r) {
    std::vector<int64_t> column(k);
    for (int64_t i = 0; i < k; ++i) column[i] = i;
    if (permute && k > 1) {
      const at::Tensor c = best[r].contiguous();
      const double* cd = c.data_ptr<double>();
      const double* l = lam64[r].data_ptr<double>();
      const double forbidden = 1.0 + static_cast<double>(k) * (c.abs().max().item<double>() + 1.0);
      std::vector<double> cost(k * k);
      for (int64_t i = 0; i < k; ++i)
        for (int64_t j = 0; j < k; ++j) cost[i * k + j] = l[i] == l[j] ? cd[i * k + j] : forbidden;
      column = min_cost_assignment(cost, k);
    }
    for (int64_t i = 0; i < k; ++i) {
      const int64_t j = column[i];
      const bool flip = even && minus[r][i][j].item<double>() < plus[r][i][j].item<double>();
      matched[r][i] = flip ? -q64[r][j] : q64[r][j];
    }
  }
  const at::Tensor num = (matched - p64).flatten(1).norm(2, {1});
  const at::Tensor den = ds.flatten(1).norm(2, {1});
  return at::where(den > 0, num / den, num);
}

}  // namespace lrlab::models
