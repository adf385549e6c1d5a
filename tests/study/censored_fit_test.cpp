// Censored scaling fits: the log-normal AFT maximum-likelihood fit equals least squares without censoring,
// recovers a known exponent under heavy censoring (interval coverage over 100 synthetic studies, where
// dropping the censored runs does not), handles degenerate inputs; Kaplan-Meier against hand-computed curves.
#include "study/censored_fit.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "framework/error.h"
#include "study/fit.h"

using namespace lrlab;
using namespace lrlab::study;

namespace {

/// A synthetic sweep: at each x, `runs` runs with log T = a + b log x + sigma eps, censored at `budget(x)`.
struct Synthetic {
  std::vector<double> x, t;
  std::vector<bool> reached;
};

Synthetic synthetic(uint64_t seed, double a, double b, double sigma, const std::vector<double>& xs, int runs,
                    double budget_scale) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Synthetic s;
  for (double x : xs) {
    // One budget for the whole sweep, as a study with a fixed step budget has: the largest x are censored most.
    const double budget = budget_scale * std::exp(a + b * std::log(xs[xs.size() / 2]));
    for (int r = 0; r < runs; ++r) {
      const double time = std::exp(a + b * std::log(x) + sigma * normal(rng));
      s.x.push_back(x);
      s.reached.push_back(time <= budget);
      s.t.push_back(std::min(time, budget));
    }
  }
  return s;
}

}  // namespace

TEST_CASE("censored AFT fit: without censoring it is least squares, sigma^2 = RSS / n", "[fit][censored]") {
  const Synthetic s = synthetic(3, 1.0, 1.5, 0.4, {10, 20, 40, 80}, 6, 1e9);
  for (bool r : s.reached) REQUIRE(r);
  const CensoredFit c = censored_aft_fit(s.x, s.t, s.reached, 0);
  const FitResult ls = fit_power_law(s.x, s.t, {}, 0);
  REQUIRE(c.note.empty());
  CHECK(c.slope == Approx(ls.slope).epsilon(1e-9));
  CHECK(c.intercept == Approx(ls.intercept).epsilon(1e-9));
  double rss = 0;
  for (std::size_t i = 0; i < s.x.size(); ++i)
    rss += std::pow(std::log(s.t[i]) - ls.intercept - ls.slope * std::log(s.x[i]), 2);
  CHECK(c.sigma == Approx(std::sqrt(rss / s.x.size())).epsilon(1e-9));
  CHECK(c.n_censored == 0);
  CHECK(c.censored_by_x.empty());
}

TEST_CASE("censored AFT fit: the MLE is a maximum of the censored likelihood", "[fit][censored]") {
  const Synthetic s = synthetic(5, 0.5, 2.0, 0.5, {8, 16, 32, 64, 128}, 10, 1.0);
  const CensoredFit c = censored_aft_fit(s.x, s.t, s.reached, 0);
  REQUIRE(c.note.empty());
  REQUIRE(c.n_censored > 10);
  // The log-likelihood recomputed here at the fit and at perturbed parameters.
  auto loglik = [&](double a, double b, double sigma) {
    double l = 0;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      const double w = (std::log(s.t[i]) - a - b * std::log(s.x[i])) / sigma;
      l += s.reached[i] ? -0.5 * w * w - std::log(sigma) - 0.5 * std::log(2 * M_PI)
                        : std::log(0.5 * std::erfc(w / std::sqrt(2.0)));
    }
    return l;
  };
  const double best = loglik(c.intercept, c.slope, c.sigma);
  CHECK(best == Approx(c.log_likelihood).epsilon(1e-10));
  for (double da : {-1e-3, 1e-3})
    for (double db : {-1e-3, 0.0, 1e-3})
      for (double ds : {-1e-3, 0.0, 1e-3}) CHECK(loglik(c.intercept + da, c.slope + db, c.sigma + ds) < best);
}

TEST_CASE("censored AFT fit: the bootstrap interval covers a known exponent under heavy censoring",
          "[fit][censored][coverage]") {
  // 100 synthetic studies: b = 1.5, 5 sweep points, 16 runs each, about 40% of runs censored (most at the
  // largest x). The 95% stratified-bootstrap interval must cover b in >= 90 of them. The naive fit that
  // drops censored runs is biased low and covers far less often (what issue 12 reports).
  const double a = 0.2, b = 1.5, sigma = 0.6;
  const std::vector<double> xs = {16, 32, 64, 128, 256};
  int covered = 0, naive_covered = 0, censored = 0, total = 0;
  double mean_slope = 0;
  for (int rep = 0; rep < 100; ++rep) {
    const Synthetic s = synthetic(1000 + rep, a, b, sigma, xs, 16, 1.2);
    const CensoredFit c = censored_aft_fit(s.x, s.t, s.reached, 200, rep);
    REQUIRE(c.note.empty());
    covered += c.slope_lo <= b && b <= c.slope_hi;
    mean_slope += c.slope / 100;
    censored += c.n_censored;
    total += c.n_used;
    std::vector<double> rx, rt;
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (s.reached[i]) {
        rx.push_back(s.x[i]);
        rt.push_back(s.t[i]);
      }
    const FitResult naive = fit_power_law(rx, rt, {}, 200, rep);
    naive_covered += naive.slope_lo <= b && b <= naive.slope_hi;
  }
  INFO("coverage " << covered << "/100, naive " << naive_covered << "/100, censored " << censored << "/" << total
                   << ", mean slope " << mean_slope);
  CHECK(static_cast<double>(censored) / total > 0.3);  // heavy censoring
  CHECK(covered >= 90);
  CHECK(std::abs(mean_slope - b) < 0.05);
  CHECK(naive_covered < 50);
}

TEST_CASE("censored AFT fit: degenerate inputs", "[fit][censored]") {
  SECTION("all runs censored at one x still fit") {
    Synthetic s = synthetic(7, 0.0, 1.0, 0.3, {10, 20, 40}, 5, 1e9);
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (s.x[i] == 40) {
        s.reached[i] = false;
        s.t[i] = 100;  // T > 100 where the line gives about 40: the censored point pulls the slope up
      }
    const CensoredFit c = censored_aft_fit(s.x, s.t, s.reached, 50, 1);
    CHECK(c.note.empty());
    CHECK(c.n_censored == 5);
    REQUIRE(c.censored_by_x.size() == 1);
    CHECK(c.censored_by_x[0] == std::make_pair(40.0, 5));
    CHECK(std::isfinite(c.slope));
    CHECK(c.slope > 1.2);
    CHECK(c.bootstrap_used == 50);
  }
  SECTION("reached runs at a single x: no fit, a note, no throw") {
    const std::vector<double> x = {10, 10, 10, 20, 20};
    const std::vector<double> t = {5, 6, 7, 100, 100};
    const CensoredFit c = censored_aft_fit(x, t, {true, true, true, false, false}, 10);
    CHECK(std::isnan(c.slope));
    CHECK(c.note.find("fewer than 2 distinct x") != std::string::npos);
  }
  SECTION("everything censored") {
    const CensoredFit c = censored_aft_fit({1, 2, 3}, {5, 5, 5}, {false, false, false}, 10);
    CHECK(std::isnan(c.slope));
    CHECK(c.n_censored == 3);
  }
  SECTION("too few points and exact lines") {
    CHECK(censored_aft_fit({1, 2}, {1, 2}, {true, true}, 0).note.find("fewer than 3") != std::string::npos);
    CHECK(censored_aft_fit({1, 2, 4}, {1, 2, 4}, {true, true, true}, 0).note.find("line") != std::string::npos);
    CHECK(censored_aft_fit({}, {}, {}, 0).note == "no runs");
  }
  SECTION("bad inputs throw") {
    CHECK_THROWS_AS(censored_aft_fit({1, 2}, {1}, {true}, 0), Error);
    CHECK_THROWS_AS(censored_aft_fit({1, -2, 3}, {1, 2, 3}, {true, true, true}, 0), Error);
    CHECK_THROWS_AS(censored_aft_fit({1, 2, 3}, {1, 0, 3}, {true, true, true}, 0), Error);
  }
}

TEST_CASE("Kaplan-Meier curve and quantiles against hand-computed examples", "[fit][censored][kaplan_meier]") {
  SECTION("no censoring: the empirical survival function") {
    const auto curve = kaplan_meier({4, 1, 3, 2}, {true, true, true, true});
    CHECK(curve.times == std::vector<double>{1, 2, 3, 4});
    CHECK(curve.survival == std::vector<double>{0.75, 0.5, 0.25, 0.0});
    CHECK(kaplan_meier_quantile({4, 1, 3, 2}, {true, true, true, true}, 0.5) == 2);
    CHECK(kaplan_meier_quantile({5, 1, 3, 2, 4}, {true, true, true, true, true}, 0.5) == 3);
  }
  SECTION("censoring: times 1, 2+, 3, 4+, 5 (+ = did not reach)") {
    // S(1) = 4/5; at 3 the risk set is {3, 4+, 5}: S(3) = 4/5 * 2/3 = 8/15; at 5: {5}: S(5) = 0.
    const std::vector<double> t = {1, 2, 3, 4, 5};
    const std::vector<bool> r = {true, false, true, false, true};
    const auto curve = kaplan_meier(t, r);
    REQUIRE(curve.times == std::vector<double>{1, 3, 5});
    CHECK(curve.survival[0] == Approx(0.8));
    CHECK(curve.survival[1] == Approx(8.0 / 15));
    CHECK(curve.survival[2] == 0.0);
    CHECK(kaplan_meier_quantile(t, r, 0.25) == 3);  // S(1) = 0.8 > 0.75, S(3) = 0.533 <= 0.75
    CHECK(kaplan_meier_quantile(t, r, 0.5) == 5);   // S(3) = 0.533 > 0.5
  }
  SECTION("ties: an event and a censoring at the same time (the censored run is at risk)") {
    // times 2, 2+, 3, 3: at 2 risk 4, one event: 3/4; at 3 risk 2, two events: 0.
    const auto curve = kaplan_meier({2, 2, 3, 3}, {true, false, true, true});
    CHECK(curve.times == std::vector<double>{2, 3});
    CHECK(curve.survival == std::vector<double>{0.75, 0.0});
  }
  SECTION("most runs did not reach: the median is beyond the budget") {
    const std::vector<double> t = {10, 100, 100, 100};
    const std::vector<bool> r = {true, false, false, false};
    CHECK(kaplan_meier_quantile(t, r, 0.25) == 10);
    CHECK(std::isnan(kaplan_meier_quantile(t, r, 0.5)));
    const KaplanMeierSummary s = kaplan_meier_summary(t, r);
    CHECK(s.q25 == 10);
    CHECK(std::isnan(s.median));
    CHECK(std::isnan(s.q75));
    CHECK(s.n == 4);
    CHECK(s.n_censored == 3);
  }
  CHECK_THROWS_AS(kaplan_meier_quantile({1}, {true}, 1.0), Error);
  CHECK_THROWS_AS(kaplan_meier({1, 2}, {true}), Error);
}
