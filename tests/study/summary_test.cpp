#include "tests/support/temp_dir.h"
#include "study/summary.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "framework/atomic_file.h"
#include "framework/error.h"
#include "framework/strings.h"
#include "study/runs_table.h"

using lrlab::Table;
using lrlab::study::Summary;

namespace {

// Two sweep points of four seeds; point 0 has one run that did not reach and one that diverged.
Table hand_made_runs() {
  Table t;
  t.columns = {"run",    "seed",  "point",         "base.d",
               "status", "steps", "final_overlap", "steps_to_overlap_0.95"};
  t.rows = {{"p000_s00", "0", "0", "64", "ok", "1000", "0.9", "100"},
            {"p000_s01", "1", "0", "64", "ok", "1000", "0.95", "200"},
            {"p000_s02", "2", "0", "64", "ok", "1000", "0.97", ""},
            {"p000_s03", "3", "0", "64", "diverged", "37", "", ""},
            {"p001_s00", "0", "1", "128", "ok", "2000", "0.8", "400"},
            {"p001_s01", "1", "1", "128", "ok", "2000", "0.85", "1600"},
            {"p001_s02", "2", "1", "128", "ok", "2000", "0.95", "800"},
            {"p001_s03", "3", "1", "128", "ok", "2000", "0.9", "1200"}};
  return t;
}

using lrlab::testing::TempDir;

}  // namespace

TEST_CASE("swept columns sit between point and status", "[study][summary]") {
  CHECK(lrlab::study::swept_columns(hand_made_runs()) == std::vector<std::string>{"base.d"});
  Table t;
  t.columns = {"run", "seed", "point", "teacher.xi", "steps", "final_loss"};
  CHECK(lrlab::study::swept_columns(t) == std::vector<std::string>{"teacher.xi"});
}

TEST_CASE("summary medians, quartiles, reached counts and divergences", "[study][summary]") {
  const Summary s = lrlab::study::summarize_runs(hand_made_runs());
  CHECK(s.result_columns == std::vector<std::string>{"final_overlap", "steps_to_overlap_0.95"});
  REQUIRE(s.points.size() == 2);

  const auto& p0 = s.points[0];
  CHECK(p0.point == "0");
  CHECK(p0.values == std::vector<std::pair<std::string, std::string>>{{"base.d", "64"}});
  CHECK(p0.runs == 4);
  CHECK(p0.diverged == 1);
  const auto& f0 = p0.columns[0];  // final_overlap over {0.9, 0.95, 0.97}
  CHECK_FALSE(f0.hitting_time);
  CHECK(f0.count == 3);
  CHECK(f0.median == Approx(0.95));
  CHECK(f0.q25 == Approx(0.925));
  CHECK(f0.q75 == Approx(0.96));
  // steps_to: 100 and 200 reached, p000_s02 censored at its 1000 steps, the diverged run left out.
  // Kaplan-Meier: S = 2/3 after 100, 1/3 after 200, so q25 = 100, median = 200, and q75 lies beyond
  // the budget (NaN). (The median of the runs that reached, 150, would be biased low.)
  const auto& h0 = p0.columns[1];
  CHECK(h0.hitting_time);
  CHECK(h0.count == 2);
  CHECK(h0.total == 4);
  CHECK(h0.censored == 1);
  CHECK(h0.kaplan_meier);
  CHECK(h0.censored_at == 1000);
  CHECK(h0.median == Approx(200));
  CHECK(h0.q25 == Approx(100));
  CHECK(std::isnan(h0.q75));

  const auto& p1 = s.points[1];
  CHECK(p1.diverged == 0);
  CHECK(p1.columns[0].median == Approx(0.875));
  CHECK(p1.columns[0].q25 == Approx(0.8375));
  CHECK(p1.columns[0].q75 == Approx(0.9125));
  CHECK(p1.columns[1].median == Approx(1000));
  CHECK(p1.columns[1].q25 == Approx(700));
  CHECK(p1.columns[1].q75 == Approx(1300));
  CHECK(p1.columns[1].count == 4);
  CHECK(p1.columns[1].censored == 0);
  CHECK_FALSE(p1.columns[1].kaplan_meier);  // nothing censored: plain quantiles as before
}

TEST_CASE("summary tables: csv long format, aligned markdown, fits", "[study][summary]") {
  const Summary s = lrlab::study::summarize_runs(
      hand_made_runs(), {{"base.d", "steps_to_overlap_0.95", {}, "least_squares"}}, 200, 1);
  REQUIRE(s.fits.size() == 1);
  CHECK(s.fits[0].method == "least_squares");
  CHECK(s.fits[0].n_used == 6);
  CHECK(s.fits[0].n_not_reached == 2);
  CHECK(s.fits[0].not_reached_by_x == std::vector<std::pair<double, int>>{{64.0, 2}});

  const Table csv = lrlab::study::summary_table(s);
  CHECK(csv.columns == std::vector<std::string>{"point", "base.d", "runs", "diverged", "column", "n", "median",
                                                "q25", "q75", "censored", "estimator"});
  REQUIRE(csv.rows.size() == 4);
  CHECK(csv.rows[1] == std::vector<std::string>{"0", "64", "4", "1", "steps_to_overlap_0.95", "2", "200", "100",
                                                "", "1", "kaplan_meier"});
  CHECK(csv.rows[3] == std::vector<std::string>{"1", "128", "4", "0", "steps_to_overlap_0.95", "4", "1000", "700",
                                                "1300", "0", "quantile"});

  const std::string md = lrlab::study::summary_markdown(s);
  CHECK_THAT(md, Catch::Contains("200 [100, >1000] 2/4 KM"));
  CHECK_THAT(md, Catch::Contains("steps_to_overlap_0.95, median (KM)"));
  CHECK_THAT(md, Catch::Contains("0.95 [0.925, 0.96]"));
  CHECK_THAT(md, Catch::Contains("## Scaling fits"));
  CHECK_THAT(md, Catch::Contains("2 (64: 2)"));
  // Every line of a table has the same width (aligned for the terminal).
  std::istringstream lines(lrlab::study::format_summary_table(s));
  std::string line;
  std::size_t width = 0;
  int table_lines = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '|') {
      width = 0;
      continue;
    }
    if (width == 0) width = line.size();
    CHECK(line.size() == width);
    ++table_lines;
  }
  CHECK(table_lines == 4 + 3);  // header, rule, 2 points; header, rule, 1 fit
}

TEST_CASE("write_study_summary writes summary.csv, summary.md and fits.csv", "[study][summary]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  lrlab::write_file_atomic(dir + "/runs.csv", lrlab::to_csv_text(hand_made_runs()));
  const Summary s = lrlab::study::write_study_summary(
      dir, {{"base.d", "steps_to_overlap_0.95", {}, "least_squares"}}, 200, 1);
  CHECK(lrlab::read_csv(dir + "/summary.csv").rows.size() == 4);
  CHECK_THAT(lrlab::read_file_text(dir + "/summary.md"), Catch::StartsWith("# Study summary"));
  const auto fits = lrlab::study::fits_from_table(lrlab::read_csv(dir + "/fits.csv"));
  REQUIRE(fits.size() == 1);
  CHECK(fits[0].slope == Approx(s.fits[0].slope));
  CHECK(fits[0].slope_lo == Approx(s.fits[0].slope_lo));
  CHECK(fits[0].n_not_reached == 2);
  CHECK(fits[0].x == "base.d");
}

TEST_CASE("summary errors name the run and the column", "[study][summary]") {
  Table t = hand_made_runs();
  t.rows[2][6] = "high";
  CHECK_THROWS_WITH(lrlab::study::summarize_runs(t), Catch::Contains("p000_s02") &&
                                                         Catch::Contains("final_overlap") &&
                                                         Catch::Contains("'high'"));
  Table no_point = hand_made_runs();
  no_point.columns[2] = "pt";
  CHECK_THROWS_WITH(lrlab::study::summarize_runs(no_point), Catch::Contains("no column 'point'"));
}

namespace {

// d in {64, 128} x base.zero_base in {false, true} x 3 seeds: T = 2 d (false) or d^2 / 32 (true);
// one run at d = 128 without zero base did not reach.
Table grouped_runs() {
  Table t;
  t.columns = {"run",
               "seed",
               "point",
               "base.d",
               "base.zero_base",
               "status",
               "steps",
               "steps_to_overlap_0.95"};
  int point = 0;
  for (int d : {64, 128})
    for (const char* zero_base : {"false", "true"}) {
      for (int s = 0; s < 3; ++s) {
        const bool zb = std::string(zero_base) == "true";
        const double t_hit = (zb ? d * d / 32.0 : 2.0 * d) * (1.0 + 0.05 * s);
        const bool reached = !(d == 128 && !zb && s == 2);
        t.rows.push_back({"p00" + std::to_string(point) + "_s0" + std::to_string(s),
                          std::to_string(s), std::to_string(point), std::to_string(d), zero_base,
                          "ok", "5000", reached ? lrlab::format_number(t_hit) : ""});
      }
      ++point;
    }
  return t;
}

}  // namespace

TEST_CASE("grouped fits: one per group, fits.csv round trip, group column in the tables",
          "[study][summary]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  lrlab::write_file_atomic(dir + "/runs.csv", lrlab::to_csv_text(grouped_runs()));
  const std::vector<lrlab::study::FitSpec> specs = {
      {"base.d", "steps_to_overlap_0.95", {}, "least_squares"},
      {"base.d", "steps_to_overlap_0.95", {"base.zero_base"}, "least_squares"}};
  const Summary s = lrlab::study::write_study_summary(dir, specs, 200, 1);
  REQUIRE(s.fits.size() == 3);
  CHECK(s.fits[0].group.empty());
  CHECK_THAT(s.fits[0].note, Catch::Contains("pooled over other swept keys: base.zero_base"));
  CHECK(s.fits[1].group == "base.zero_base=false");
  CHECK(s.fits[2].group == "base.zero_base=true");
  CHECK(s.fits[1].slope == Approx(1.0).margin(0.05));
  CHECK(s.fits[2].slope == Approx(2.0).margin(0.05));
  CHECK(s.fits[1].n_not_reached == 1);
  CHECK(s.fits[2].n_not_reached == 0);

  const Table csv = lrlab::read_csv(dir + "/fits.csv");
  CHECK(csv.columns[2] == "by");
  CHECK(csv.columns[3] == "group");
  CHECK(csv.cell(2, "group") == "base.zero_base=true");
  const auto back = lrlab::study::fits_from_table(csv);
  REQUIRE(back.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("fit " << i);
    CHECK(back[i].group == s.fits[i].group);
    CHECK(back[i].by == s.fits[i].by);
    CHECK(back[i].x == s.fits[i].x);
    CHECK(back[i].y == s.fits[i].y);
    CHECK(back[i].slope == Approx(s.fits[i].slope));
    CHECK(back[i].slope_lo == Approx(s.fits[i].slope_lo));
    CHECK(back[i].slope_hi == Approx(s.fits[i].slope_hi));
    CHECK(back[i].intercept == Approx(s.fits[i].intercept));
    CHECK(back[i].n_used == s.fits[i].n_used);
    CHECK(back[i].n_not_reached == s.fits[i].n_not_reached);
    CHECK(back[i].note == s.fits[i].note);
  }
  CHECK(back[0].by.empty());
  CHECK(back[2].by == std::vector<std::string>{"base.zero_base"});

  // Two by keys survive the round trip as a list.
  auto two = s.fits[2];
  two.by = {"base.zero_base", "teacher.xi"};
  two.group = "base.zero_base=true, teacher.xi=0.5";
  const auto two_back = lrlab::study::fits_from_table(
      lrlab::parse_csv(lrlab::to_csv_text(lrlab::study::fits_table({two}))));
  REQUIRE(two_back.size() == 1);
  CHECK(two_back[0].by == two.by);
  CHECK(two_back[0].group == two.group);

  // An old fits.csv without by/group reads as ungrouped.
  Table old = csv;
  old.columns.erase(old.columns.begin() + 2, old.columns.begin() + 4);
  for (auto& row : old.rows) row.erase(row.begin() + 2, row.begin() + 4);
  const auto old_back = lrlab::study::fits_from_table(old);
  REQUIRE(old_back.size() == 3);
  CHECK(old_back[2].group.empty());
  CHECK(old_back[2].by.empty());
  CHECK(old_back[2].slope == Approx(s.fits[2].slope));

  const std::string md = lrlab::read_file_text(dir + "/summary.md");
  CHECK_THAT(md, Catch::Contains("| group ") && Catch::Contains("base.zero_base=true") &&
                     Catch::Contains("all runs") && Catch::Contains("pooled over"));
  const std::string table = lrlab::study::format_summary_table(s);
  CHECK_THAT(table, Catch::Contains("base.zero_base=false"));
  // Aligned: every line of the fits table has the same width.
  std::istringstream lines(table.substr(table.find("Scaling fits")));
  std::string line;
  std::size_t width = 0;
  int rows = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '|') continue;
    if (width == 0) width = line.size();
    CHECK(line.size() == width);
    ++rows;
  }
  CHECK(rows == 2 + 3);
}
