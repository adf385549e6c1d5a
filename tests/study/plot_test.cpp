#include "tests/support/temp_dir.h"
#include "study/plot.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "framework/atomic_file.h"
#include "framework/csv.h"
#include "framework/strings.h"
#include "study/summary.h"

namespace {

using lrlab::testing::TempDir;

long size_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : -1;
}

bool gnuplot_available() { return std::system("command -v gnuplot > /dev/null 2>&1") == 0; }

// A small study: d in {64, 128, 256}, 3 seeds, overlap and test_loss curves over 4 decades.
void make_study(const std::string& dir) {
  lrlab::Table runs;
  runs.columns = {"run",    "seed",  "point",         "base.d",
                  "status", "steps", "final_overlap", "steps_to_overlap_0.95"};
  lrlab::Table curves;
  curves.columns = {"run", "step", "metric", "value"};
  const std::vector<int> ds = {64, 128, 256};
  for (int p = 0; p < 3; ++p)
    for (int s = 0; s < 3; ++s) {
      const std::string id = "p00" + std::to_string(p) + "_s0" + std::to_string(s);
      const double t = 2.0 * ds[p] * (1.0 + 0.1 * s);  // hitting time ~ d
      // The slowest seed at d = 256 does not reach.
      const bool reached = !(p == 2 && s == 2);
      runs.rows.push_back({id, std::to_string(s), std::to_string(p), std::to_string(ds[p]), "ok",
                           "10000", "0.99", reached ? lrlab::format_number(t) : ""});
      for (int step : {0, 1, 10, 100, 1000, 10000}) {
        const double overlap = 1.0 - std::exp(-step / t);
        curves.rows.push_back({id, std::to_string(step), "overlap", lrlab::format_number(overlap)});
        curves.rows.push_back(
            {id, std::to_string(step), "test_loss", lrlab::format_number(1.0 - overlap + 1e-4)});
      }
    }
  lrlab::write_file_atomic(dir + "/runs.csv", lrlab::to_csv_text(runs));
  lrlab::write_file_atomic(dir + "/curves.csv", lrlab::to_csv_text(curves));
  lrlab::study::write_study_summary(dir, {{"base.d", "steps_to_overlap_0.95"}}, 200, 1);
}

}  // namespace

TEST_CASE("plot_study aggregates curves into median and quartiles per point", "[study][plot]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  make_study(dir);
  lrlab::study::PlotOptions options;
  options.render = false;
  const auto report = lrlab::study::plot_study(dir, options);
  CHECK(report.warnings.empty());
  const std::string dat = lrlab::read_file_text(dir + "/plots/overlap_curves.dat");
  // Three blocks (points), and the log x axis drops step 0.
  CHECK_THAT(dat, Catch::Contains("# point 0: base.d=64"));
  CHECK_THAT(dat, Catch::Contains("# point 2: base.d=256"));
  CHECK_THAT(dat, !Catch::Contains("\n0 "));
  const std::string gp = lrlab::read_file_text(dir + "/plots/overlap_curves.gp");
  CHECK_THAT(gp, Catch::Contains("filledcurves"));
  CHECK_THAT(gp, Catch::Contains("set logscale x"));
  CHECK_THAT(gp, Catch::Contains("title 'base.d=128'"));
  CHECK(size_of(dir + "/plots/fit_steps_to_overlap_0.95_vs_base.d.gp") > 0);
  CHECK(size_of(dir + "/plots/overlap_curves.png") < 0);  // not rendered
}

TEST_CASE("plot_study renders PNG and SVG with gnuplot", "[study][plot]") {
  if (!gnuplot_available()) {
    WARN("gnuplot is not installed: plot rendering not tested");
    return;
  }
  const TempDir temp;
  const std::string& dir = temp.path;
  make_study(dir);
  const auto report = lrlab::study::plot_study(dir);
  for (const auto& w : report.warnings) WARN(w);
  CHECK(report.warnings.empty());
  CHECK((report.terminal == "pngcairo" || report.terminal == "png"));
  for (const std::string name :
       {"overlap_curves", "test_loss_curves", "fit_steps_to_overlap_0.95_vs_base.d"}) {
    INFO(name);
    CHECK(size_of(dir + "/plots/" + name + ".png") > 1000);
    CHECK(size_of(dir + "/plots/" + name + ".svg") > 1000);
    CHECK(size_of(dir + "/plots/" + name + ".gp") > 0);
  }
  std::ifstream png(dir + "/plots/overlap_curves.png", std::ios::binary);
  char magic[4] = {};
  png.read(magic, 4);
  CHECK(std::string(magic + 1, 3) == "PNG");
  const std::string gp =
      lrlab::read_file_text(dir + "/plots/fit_steps_to_overlap_0.95_vs_base.d.gp");
  CHECK_THAT(gp, Catch::Contains("95% interval [") && Catch::Contains("(1 not reached)"));
}

TEST_CASE("a missing gnuplot is a warning, the scripts are still written", "[study][plot]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  make_study(dir);
  lrlab::study::PlotOptions options;
  options.gnuplot = "/nonexistent/gnuplot";
  lrlab::study::PlotReport report;
  REQUIRE_NOTHROW(report = lrlab::study::plot_study(dir, options));
  REQUIRE(report.warnings.size() == 1);
  CHECK_THAT(report.warnings[0], Catch::Contains("gnuplot not found"));
  CHECK(size_of(dir + "/plots/overlap_curves.gp") > 0);
  CHECK(size_of(dir + "/plots/overlap_curves.dat") > 0);
}

TEST_CASE("a failing gnuplot is a warning with its message", "[study][plot]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  make_study(dir);
  const std::string fake = dir + "/fake_gnuplot";
  lrlab::write_file_atomic(fake, "#!/bin/sh\necho 'line 3: boom' >&2\nexit 1\n");
  ::chmod(fake.c_str(), 0755);
  lrlab::study::PlotOptions options;
  options.gnuplot = fake;
  const auto report = lrlab::study::plot_study(dir, options);
  bool saw = false;
  for (const auto& w : report.warnings)
    saw = saw || (w.find("gnuplot failed on") != std::string::npos &&
                  w.find("line 3: boom") != std::string::npos);
  CHECK(saw);
}

TEST_CASE("images gnuplot leaves missing or empty (a full disk) are listed even over an old image",
          "[study][plot]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  make_study(dir);
  // Lists the terminals, then "renders" with exit 0 but writes empty images, as on a full disk.
  const std::string fake = dir + "/full_disk_gnuplot";
  lrlab::write_file_atomic(fake,
                           "#!/bin/sh\n"
                           "if [ \"$1\" = -e ]; then printf ' pngcairo  cairo\\n svg  svg\\n'; exit 0; fi\n"
                           ": > \"${1%.gp}.png\"\n"
                           "exit 0\n");
  ::chmod(fake.c_str(), 0755);
  std::filesystem::create_directories(dir + "/plots");
  lrlab::write_file_atomic(dir + "/plots/overlap_curves.svg", "<svg>an earlier render</svg>");
  lrlab::study::PlotOptions options;
  options.gnuplot = fake;
  const auto report = lrlab::study::plot_study(dir, options);
  const auto failed = [&](const std::string& name) {
    return std::find(report.failed.begin(), report.failed.end(), dir + "/plots/" + name) != report.failed.end();
  };
  CHECK(failed("overlap_curves.png"));  // empty
  CHECK(failed("overlap_curves.svg"));  // the earlier render does not count
  CHECK(failed("test_loss_curves.png"));
  CHECK(report.failed.size() >= 4);
  bool listed = false;
  for (const auto& w : report.warnings)
    listed = listed || (w.find("missing or empty") != std::string::npos &&
                        w.find("overlap_curves.png") != std::string::npos && w.find("lrlab plot") != std::string::npos);
  CHECK(listed);
  for (const auto& f : report.files) CHECK(f.find(".png") == std::string::npos);
}

TEST_CASE("missing inputs are warnings", "[study][plot]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  lrlab::study::PlotOptions options;
  options.render = false;
  const auto report = lrlab::study::plot_study(dir, options);
  CHECK(report.warnings.size() == 2);
  CHECK(report.files.empty());
}

namespace {

// d in {64, 128, 256} x base.zero_base in {false, true} x 3 seeds, T = 2 d (false) or d^2 / 32
// (true); fits.csv holds the fit by base.zero_base. The slowest seed at d = 256 with zero base
// does not reach.
void make_grouped_study(const std::string& dir) {
  lrlab::Table runs;
  runs.columns = {"run",
                  "seed",
                  "point",
                  "base.d",
                  "base.zero_base",
                  "status",
                  "steps",
                  "steps_to_overlap_0.95"};
  int point = 0;
  for (int d : {64, 128, 256})
    for (const char* zero_base : {"false", "true"}) {
      const bool zb = std::string(zero_base) == "true";
      for (int s = 0; s < 3; ++s) {
        const double t = (zb ? d * d / 32.0 : 2.0 * d) * (1.0 + 0.1 * s);
        const bool reached = !(zb && d == 256 && s == 2);
        runs.rows.push_back({"p00" + std::to_string(point) + "_s0" + std::to_string(s),
                             std::to_string(s), std::to_string(point), std::to_string(d), zero_base,
                             "ok", "10000", reached ? lrlab::format_number(t) : ""});
      }
      ++point;
    }
  lrlab::write_file_atomic(dir + "/runs.csv", lrlab::to_csv_text(runs));
  lrlab::study::write_study_summary(dir, {{"base.d", "steps_to_overlap_0.95", {"base.zero_base"}}},
                                    200, 1);
}

const char* kGroupedFit = "fit_steps_to_overlap_0.95_vs_base.d_by_base.zero_base";

}  // namespace

TEST_CASE("a grouped fit is one figure with a colour per group", "[study][plot]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  make_grouped_study(dir);
  lrlab::study::PlotOptions options;
  options.render = false;
  const auto report = lrlab::study::plot_study(dir, options);
  // Only the missing curves.csv is reported.
  REQUIRE(report.warnings.size() == 1);
  CHECK_THAT(report.warnings[0], Catch::Contains("curves.csv"));
  const std::string base = dir + "/plots/" + kGroupedFit;
  CHECK(size_of(dir + "/plots/fit_steps_to_overlap_0.95_vs_base.d.gp") < 0);  // no pooled figure
  const std::string dat = lrlab::read_file_text(base + ".dat");
  CHECK_THAT(dat, Catch::Contains("# group base.zero_base=false") &&
                      Catch::Contains("# group base.zero_base=true"));
  // Block 0 holds the 9 runs without zero base, block 1 the 8 that reached with it.
  const std::size_t split = dat.find("# group base.zero_base=true");
  const auto lines_in = [](const std::string& text) {
    int n = 0;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
      if (!line.empty() && line[0] != '#') ++n;
    return n;
  };
  CHECK(lines_in(dat.substr(0, split)) == 9);
  CHECK(lines_in(dat.substr(split)) == 8);

  const std::string gp = lrlab::read_file_text(base + ".gp");
  CHECK_THAT(gp, Catch::Contains("set title 'steps_to_overlap_0.95 vs base.d") &&
                     Catch::Contains("(1 not reached)"));
  CHECK_THAT(gp, Catch::Contains("index 0 using 1:2") && Catch::Contains("index 1 using 1:2"));
  // One colour per group, on its points and its line; the legend gives slope and interval.
  CHECK_THAT(gp, Catch::Contains("lc rgb '#1f77b4' title 'base.zero_base=false: slope 1 [") &&
                     Catch::Contains("lc rgb '#ff7f0e' title 'base.zero_base=true: slope 1.9") &&
                     Catch::Contains("] (1 not reached)'"));
  CHECK_THAT(gp, Catch::Contains("with points pt 7 ps 0.8 lc rgb '#1f77b4' notitle") &&
                     Catch::Contains("with points pt 7 ps 0.8 lc rgb '#ff7f0e' notitle"));
}

TEST_CASE("a grouped fit figure renders with gnuplot", "[study][plot]") {
  if (!gnuplot_available()) {
    WARN("gnuplot is not installed: grouped fit rendering not tested");
    return;
  }
  const TempDir temp;
  const std::string& dir = temp.path;
  make_grouped_study(dir);
  const auto report = lrlab::study::plot_study(dir);
  std::string warnings;
  for (const auto& w : report.warnings) warnings += w + "\n";
  INFO(warnings);
  REQUIRE(report.warnings.size() == 1);  // no curves.csv; gnuplot itself had nothing to say
  const std::string base = dir + "/plots/" + kGroupedFit;
  CHECK(size_of(base + ".png") > 1000);
  CHECK(size_of(base + ".svg") > 1000);
  // Both groups' legend entries are in the rendered image.
  const std::string svg = lrlab::read_file_text(base + ".svg");
  CHECK_THAT(svg, Catch::Contains("base.zero_base=false: slope") &&
                      Catch::Contains("base.zero_base=true: slope"));
}
