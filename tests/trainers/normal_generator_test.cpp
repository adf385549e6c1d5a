// The ziggurat normal generator: moments, the whole distribution (probability-integral transform,
// Kolmogorov-Smirnov), the tails, and independence across replicas, streams and steps.
// Thresholds are at p ~ 1e-3 or stricter, with fixed seeds (the test is deterministic).

#include <catch2/catch.hpp>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "framework/error.h"
#include "trainers/normal_generator.h"

namespace {

using lrlab::trainers::NormalGenerator;

double phi_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

std::vector<double> draws(NormalGenerator gen, int64_t n) {
  std::vector<double> v(n);
  gen.fill(v.data(), n);
  return v;
}

double correlation(const double* a, const double* b, int64_t n) {
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (int64_t i = 0; i < n; ++i) {
    sa += a[i];
    sb += b[i];
    saa += a[i] * a[i];
    sbb += b[i] * b[i];
    sab += a[i] * b[i];
  }
  const double m = static_cast<double>(n);
  const double cov = sab / m - (sa / m) * (sb / m);
  return cov / std::sqrt((saa / m - sa * sa / (m * m)) * (sbb / m - sb * sb / (m * m)));
}

}  // namespace

TEST_CASE("normal generator: mean, variance, skewness and kurtosis of N(0, 1)", "[sampler][generator]") {
  const int64_t n = 4'000'000;
  const auto x = draws(NormalGenerator(int64_t{7}, lrlab::Stream::kData), n);
  double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
  for (double v : x) {
    m1 += v;
    m2 += v * v;
    m3 += v * v * v;
    m4 += v * v * v * v;
  }
  const double nn = static_cast<double>(n);
  m1 /= nn, m2 /= nn, m3 /= nn, m4 /= nn;
  // 5 standard errors: sd of the sample mean 1/sqrt(n), of m2 sqrt(2/n), of m3 sqrt(15/n), of m4 sqrt(96/n).
  CHECK(std::abs(m1) < 5 / std::sqrt(nn));
  CHECK(std::abs(m2 - 1) < 5 * std::sqrt(2 / nn));
  CHECK(std::abs(m3) < 5 * std::sqrt(15 / nn));
  CHECK(std::abs(m4 - 3) < 5 * std::sqrt(96 / nn));
}

TEST_CASE("normal generator: the probability-integral transform is uniform (chi-square and KS)",
          "[sampler][generator]") {
  const int64_t n = 4'000'000, bins = 1000;
  const auto x = draws(NormalGenerator(uint64_t{12345}), n);
  std::vector<int64_t> count(bins, 0);
  for (double v : x) count[std::min<int64_t>(bins - 1, static_cast<int64_t>(phi_cdf(v) * bins))]++;
  const double expected = static_cast<double>(n) / bins;
  double chi2 = 0;
  for (int64_t c : count) chi2 += (c - expected) * (c - expected) / expected;
  // 999 degrees of freedom: mean 999, sd 44.7; 4.5 sd ~ p 1e-5.
  CHECK(chi2 < 999 + 4.5 * 44.7);
  CHECK(chi2 > 999 - 4.5 * 44.7);  // too regular would be suspicious too

  // Kolmogorov-Smirnov on the first 200k draws: sqrt(n) D < 1.95 at p = 0.001.
  std::vector<double> s(x.begin(), x.begin() + 200'000);
  std::sort(s.begin(), s.end());
  double dmax = 0;
  const double m = static_cast<double>(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const double f = phi_cdf(s[i]);
    dmax = std::max({dmax, f - static_cast<double>(i) / m, static_cast<double>(i + 1) / m - f});
  }
  CHECK(std::sqrt(m) * dmax < 1.95);
}

TEST_CASE("normal generator: tail frequencies beyond 2, 3, 3.5, the ziggurat's 4.039 and 4.5 sigma",
          "[sampler][generator]") {
  const int64_t n = 16'000'000;
  NormalGenerator gen(int64_t{3}, lrlab::Stream::kData);
  // Bins symmetric in x; the edge 4.038849846109505 is where the ziggurat switches to its tail algorithm.
  const double r = 4.038849846109505;
  const std::vector<double> edges = {-INFINITY, -4.5, -r,  -3.5, -3.0, -2.0, 0.0,
                                     2.0,       3.0,  3.5, r,    4.5,  INFINITY};
  std::vector<int64_t> count(edges.size() - 1, 0);
  double biggest = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = gen.normal();
    biggest = std::max(biggest, std::abs(v));
    size_t b = 0;
    while (v >= edges[b + 1]) ++b;
    count[b]++;
  }
  double chi2 = 0;
  for (size_t b = 0; b < count.size(); ++b) {
    const double p = phi_cdf(edges[b + 1]) - phi_cdf(edges[b]);
    const double e = p * static_cast<double>(n);
    INFO("bin [" << edges[b] << ", " << edges[b + 1] << "): " << count[b] << " vs " << e);
    CHECK(std::abs(count[b] - e) < 5 * std::sqrt(e) + 1);
    chi2 += (count[b] - e) * (count[b] - e) / e;
  }
  CHECK(chi2 < 33.1);  // 11 degrees of freedom, p = 0.0005
  // 1.6e7 draws reach beyond 4.5 sigma with probability 1 - (1 - 6.8e-6)^1.6e7 ~ 1: the tail is not cut off.
  CHECK(biggest > 4.5);
}

TEST_CASE("normal generator: independent across replicas, streams and steps", "[sampler][generator]") {
  const int64_t n = 1'000'000;
  const double bound = 5 / std::sqrt(static_cast<double>(n));
  const auto a = draws(NormalGenerator(int64_t{100}, lrlab::Stream::kData), n);
  const auto b = draws(NormalGenerator(int64_t{101}, lrlab::Stream::kData), n);  // next replica's seed
  const auto c = draws(NormalGenerator(int64_t{100}, lrlab::Stream::kTest), n);  // another stream
  CHECK(std::abs(correlation(a.data(), b.data(), n)) < bound);
  CHECK(std::abs(correlation(a.data(), c.data(), n)) < bound);
  // Across steps: draw i against draw i + lag (lag 1, and one step of d = 100 or 1000 numbers).
  for (int64_t lag : {1, 2, 100, 1000}) {
    INFO("lag " << lag);
    CHECK(std::abs(correlation(a.data(), a.data() + lag, n - lag)) < bound);
    std::vector<double> sq(n);
    for (int64_t i = 0; i < n; ++i) sq[i] = a[i] * a[i];
    CHECK(std::abs(correlation(sq.data(), sq.data() + lag, n - lag)) < bound);  // no dependence in scale
  }
  // And the squares across replicas.
  std::vector<double> sa(n), sb(n);
  for (int64_t i = 0; i < n; ++i) sa[i] = a[i] * a[i], sb[i] = b[i] * b[i];
  CHECK(std::abs(correlation(sa.data(), sb.data(), n)) < bound);
}

TEST_CASE("normal generator: deterministic per seed, float draws are the double draws rounded",
          "[sampler][generator]") {
  const int64_t n = 1000;
  const auto a = draws(NormalGenerator(int64_t{5}, lrlab::Stream::kData), n);
  const auto b = draws(NormalGenerator(int64_t{5}, lrlab::Stream::kData), n);
  CHECK(a == b);
  const auto c = draws(NormalGenerator(int64_t{6}, lrlab::Stream::kData), n);
  CHECK(a != c);
  std::vector<float> f(n);
  NormalGenerator(int64_t{5}, lrlab::Stream::kData).fill(f.data(), n);
  for (int64_t i = 0; i < n; ++i) REQUIRE(f[i] == static_cast<float>(a[i]));
  // Filling in pieces continues the same sequence.
  NormalGenerator g(int64_t{5}, lrlab::Stream::kData);
  std::vector<double> pieces(n);
  g.fill(pieces.data(), 3);
  g.fill(pieces.data() + 3, n - 3);
  CHECK(pieces == a);
  // Tensor fill: contiguous CPU float/double only.
  at::Tensor t = at::empty({10, 100}, at::kDouble);
  NormalGenerator(int64_t{5}, lrlab::Stream::kData).fill(t);
  CHECK(t.flatten()[999].item<double>() == a[999]);
  at::Tensor bad = at::empty({4}, at::kInt);
  CHECK_THROWS_AS(g.fill(bad), lrlab::Error);
}
