#include "framework/study/summary.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "framework/atomic_file.h"
#include "framework/error.h"

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

// A fresh folder under /tmp, removed with everything in it when the test ends.
struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/lrlab_summary_test_XXXXXX";
    if (!::mkdtemp(name)) throw std::runtime_error("mkdtemp failed");
    path = name;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

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
  const auto& h0 = p0.columns[1];  // steps_to over the runs that reached: {100, 200}
  CHECK(h0.hitting_time);
  CHECK(h0.count == 2);
  CHECK(h0.total == 4);
  CHECK(h0.median == Approx(150));
  CHECK(h0.q25 == Approx(125));
  CHECK(h0.q75 == Approx(175));

  const auto& p1 = s.points[1];
  CHECK(p1.diverged == 0);
  CHECK(p1.columns[0].median == Approx(0.875));
  CHECK(p1.columns[0].q25 == Approx(0.8375));
  CHECK(p1.columns[0].q75 == Approx(0.9125));
  CHECK(p1.columns[1].median == Approx(1000));
  CHECK(p1.columns[1].q25 == Approx(700));
  CHECK(p1.columns[1].q75 == Approx(1300));
  CHECK(p1.columns[1].count == 4);
}

TEST_CASE("summary tables: csv long format, aligned markdown, fits", "[study][summary]") {
  const Summary s =
      lrlab::study::summarize_runs(hand_made_runs(), {{"base.d", "steps_to_overlap_0.95"}}, 200, 1);
  REQUIRE(s.fits.size() == 1);
  CHECK(s.fits[0].n_used == 6);
  CHECK(s.fits[0].n_not_reached == 2);
  CHECK(s.fits[0].not_reached_by_x == std::vector<std::pair<double, int>>{{64.0, 2}});

  const Table csv = lrlab::study::summary_table(s);
  CHECK(csv.columns == std::vector<std::string>{"point", "base.d", "runs", "diverged", "column",
                                                "n", "median", "q25", "q75"});
  REQUIRE(csv.rows.size() == 4);
  CHECK(csv.rows[1] == std::vector<std::string>{"0", "64", "4", "1", "steps_to_overlap_0.95", "2",
                                                "150", "125", "175"});

  const std::string md = lrlab::study::summary_markdown(s);
  CHECK_THAT(md, Catch::Contains("150 [125, 175] 2/4"));
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
  const Summary s =
      lrlab::study::write_study_summary(dir, {{"base.d", "steps_to_overlap_0.95"}}, 200, 1);
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
