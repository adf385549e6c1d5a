// Censored fits and Kaplan-Meier medians through the whole summary path (issue 12): a runs table with a
// known exponent and heavy censoring at the budget, written to runs.csv, summarised by
// write_study_summary, and read back from fits.csv and summary.csv.

#include "tests/support/temp_dir.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "framework/atomic_file.h"
#include "framework/csv.h"
#include "framework/strings.h"
#include "study/summary.h"

using lrlab::Table;

namespace {

/// A study's runs.csv: d in {32, 64, 128, 256}, `seeds` runs each, hitting time T = e^a d^b e^(sigma eps).
/// A run with T above `budget` did not reach: empty cell, steps = budget. Run 0 of each point diverges
/// (status diverged, steps = 7, empty cell): it must be left out, not censored.
struct Study {
  Table runs;
  std::vector<std::vector<double>> times;  // the true T of the runs that did not diverge, per point
  int censored = 0;
};

Study synthetic_study(uint64_t seed, double b, int seeds, double budget) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.5);
  Study s;
  s.runs.columns = {"run", "seed", "point", "base.d", "status", "diverged_step", "steps", "steps_to_overlap_0.95"};
  const std::vector<int> ds = {32, 64, 128, 256};
  for (std::size_t p = 0; p < ds.size(); ++p) {
    s.times.emplace_back();
    for (int r = 0; r < seeds; ++r) {
      const std::string run = "p00" + std::to_string(p) + "_s" + std::to_string(r);
      if (r == 0) {
        s.runs.rows.push_back({run, "0", std::to_string(p), std::to_string(ds[p]), "diverged", "7", "7", ""});
        continue;
      }
      const double t = std::round(std::exp(0.5 + b * std::log(ds[p]) + noise(rng)));
      s.times.back().push_back(t);
      const bool reached = t <= budget;
      s.censored += reached ? 0 : 1;
      s.runs.rows.push_back({run, std::to_string(r), std::to_string(p), std::to_string(ds[p]), "ok", "",
                             lrlab::format_number(reached ? t : budget), reached ? lrlab::format_number(t) : ""});
    }
  }
  return s;
}

using lrlab::testing::TempDir;

}  // namespace

TEST_CASE("censored fits through the summary: known exponent, heavy censoring, fits.csv and summary.csv",
          "[study][summary][censored]") {
  const double b = 2.0, budget = 40000;  // median T at d = 256 is e^0.5 256^2 = 1.1e5: most runs censored there
  const Study study = synthetic_study(7, b, 21, budget);
  REQUIRE(study.censored > 20);  // heavy censoring (of 80 runs)
  const TempDir temp;
  lrlab::write_file_atomic(temp.path + "/runs.csv", lrlab::to_csv_text(study.runs));
  const std::vector<lrlab::study::FitSpec> specs = {{"base.d", "steps_to_overlap_0.95"},
                                                    {"base.d", "steps_to_overlap_0.95", {}, "least_squares"}};
  const lrlab::study::Summary s = lrlab::study::write_study_summary(temp.path, specs, 400, 3);
  REQUIRE(s.fits.size() == 2);
  const auto& censored = s.fits[0];
  const auto& naive = s.fits[1];
  INFO("censored slope " << censored.slope << " [" << censored.slope_lo << ", " << censored.slope_hi
                         << "], least squares " << naive.slope << " [" << naive.slope_lo << ", " << naive.slope_hi
                         << "]");
  CHECK(censored.method == "censored");
  CHECK(censored.slope_lo <= b);
  CHECK(censored.slope_hi >= b);
  CHECK(censored.n_censored == study.censored);
  CHECK(censored.n_not_reached == study.censored);
  CHECK(censored.n_used == 80);      // every run that did not diverge: reached or censored
  CHECK(censored.n_diverged == 4);   // one per point, left out
  CHECK(censored.resampled == "runs within x");
  CHECK(censored.sigma > 0.3);
  CHECK(censored.sigma < 0.8);
  // The fit that drops the censored runs is biased low: below the censored fit (measured 1.90 against
  // 1.985 on this data; most of the bias sits at d = 256, where only the fastest runs reached).
  CHECK(naive.slope < censored.slope - 0.05);

  // fits.csv states the method and how many runs were censored, per x.
  const Table csv = lrlab::read_csv(temp.path + "/fits.csv");
  CHECK(csv.cell(0, "method") == "censored");
  CHECK(csv.cell(1, "method") == "least_squares");
  CHECK(csv.cell(0, "n_censored") == std::to_string(study.censored));
  CHECK(csv.cell(0, "n_diverged") == "4");
  const auto back = lrlab::study::fits_from_table(csv);
  REQUIRE(back.size() == 2);
  CHECK(back[0].method == "censored");
  CHECK(back[0].slope == Approx(censored.slope));
  CHECK(back[0].sigma == Approx(censored.sigma));
  CHECK(back[0].n_censored == censored.n_censored);
  CHECK(back[0].censored_by_x == censored.censored_by_x);
  CHECK(back[0].not_reached_by_x == censored.not_reached_by_x);
  CHECK(back[1].method == "least_squares");
  CHECK(std::isnan(back[1].sigma));
  int by_x = 0;
  for (const auto& kv : back[0].censored_by_x) by_x += kv.second;
  CHECK(by_x == study.censored);

  // summary.csv: Kaplan-Meier medians where runs were censored. The budget lies above every reached
  // time, so while fewer than half are censored the KM median is the order-statistic median of the true
  // times (the ceil(n/2)-th smallest), which the median of the reached runs alone underestimates.
  const Table summary = lrlab::read_csv(temp.path + "/summary.csv");
  int km_points = 0;
  for (std::size_t r = 0; r < summary.rows.size(); ++r) {
    if (summary.cell(r, "column") != "steps_to_overlap_0.95") continue;
    const std::size_t p = static_cast<std::size_t>(std::stoi(summary.cell(r, "point")));
    std::vector<double> truth = study.times[p];
    std::sort(truth.begin(), truth.end());
    const int censored_here = static_cast<int>(std::count_if(truth.begin(), truth.end(), [&](double t) { return t > budget; }));
    CHECK(summary.cell(r, "censored") == std::to_string(censored_here));
    if (censored_here == 0) {
      CHECK(summary.cell(r, "estimator") == "quantile");
      continue;
    }
    ++km_points;
    CHECK(summary.cell(r, "estimator") == "kaplan_meier");
    const double true_median = truth[(truth.size() + 1) / 2 - 1];
    if (true_median <= budget)
      CHECK(std::stod(summary.cell(r, "median")) == true_median);
    else
      CHECK(summary.cell(r, "median").empty());  // beyond the budget: not estimable
  }
  CHECK(km_points >= 2);
  const std::string table = lrlab::study::format_summary_table(s);
  CHECK_THAT(table, Catch::Contains("median (KM)") && Catch::Contains(" KM") && Catch::Contains("censored"));
}

TEST_CASE("censored fits: the interval covers the exponent in at least 90% of synthetic studies",
          "[study][summary][censored][coverage]") {
  // The whole fit_from_runs path (censoring at steps, diverged runs left out, stratified bootstrap) on 40
  // independent heavily censored studies.
  const double b = 2.0;
  int covered = 0;
  for (int rep = 0; rep < 40; ++rep) {
    const Study study = synthetic_study(100 + rep, b, 13, 40000);
    const auto fit = lrlab::study::fit_from_runs(study.runs, {"base.d", "steps_to_overlap_0.95"}, 200, rep).at(0);
    covered += fit.slope_lo <= b && b <= fit.slope_hi;
  }
  INFO("covered " << covered << "/40");
  CHECK(covered >= 36);
}

TEST_CASE("censored fits: a run that did not reach needs its steps", "[study][summary][censored]") {
  Table runs;
  runs.columns = {"run", "seed", "point", "base.d", "status", "steps_to_x"};
  runs.rows = {{"a", "0", "0", "10", "ok", "10"}, {"b", "0", "1", "20", "ok", ""}};
  CHECK_THROWS_WITH(lrlab::study::fit_from_runs(runs, {"base.d", "steps_to_x"}, 0, 0),
                    Catch::Contains("run b") && Catch::Contains("steps column") && Catch::Contains("least_squares"));
  CHECK_NOTHROW(lrlab::study::fit_from_runs(runs, {"base.d", "steps_to_x", {}, "least_squares"}, 0, 0));
}
