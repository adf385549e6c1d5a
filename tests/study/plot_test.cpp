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
#include "study/gnuplot_script.h"
#include "study/summary.h"

namespace {

using lrlab::testing::TempDir;

long size_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : -1;
}

// Plots `dir` without rendering: the data and scripts only.
lrlab::study::PlotReport write_scripts(const std::string& dir) {
  lrlab::study::PlotOptions options;
  options.render = false;
  return lrlab::study::plot_study(dir, options);
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
  const auto report = write_scripts(dir);
  CHECK(report.warnings.empty());
  const std::string dat = lrlab::read_file_text(dir + "/plots/overlap_curves.dat");
  // Three blocks (points) named with the label table; step 0 is kept.
  CHECK_THAT(dat, Catch::Contains("# series 0: d = 64"));
  CHECK_THAT(dat, Catch::Contains("# series 2: d = 256"));
  CHECK_THAT(dat, Catch::Contains("\n0 "));
  const std::string gp = lrlab::read_file_text(dir + "/plots/overlap_curves.gp");
  CHECK_THAT(gp, Catch::Contains("filledcurves"));
  // Steps over four decades: a log(1 + step) axis that shows step 0, with ticks in one format.
  CHECK_THAT(gp, Catch::Contains("set nonlinear x via log10(x+1) inverse 10**x-1"));
  CHECK_THAT(gp, Catch::Contains("set xtics ('0' 0, '10' 10, '100' 100, '1000' 1000, '10000' 10000)"));
  CHECK_THAT(gp, Catch::Contains("title 'd = 128'"));
  CHECK_THAT(gp, Catch::Contains("set xlabel 'step'") && Catch::Contains("set ylabel 'overlap'"));
  // The overlap stays within [0, 1]: linear; the test loss spans four decades: log.
  CHECK_THAT(gp, !Catch::Contains("set logscale y"));
  CHECK_THAT(lrlab::read_file_text(dir + "/plots/test_loss_curves.gp"),
             Catch::Contains("set logscale y") && Catch::Contains("set ylabel 'test loss'"));
  CHECK(size_of(dir + "/plots/fit_steps_to_overlap_0.95_vs_base.d.gp") > 0);
  CHECK(size_of(dir + "/plots/overlap_curves.png") < 0);  // not rendered
}

TEST_CASE("fit plots: ticks at the swept values, human labels, censored runs at the budget", "[study][plot]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  make_study(dir);
  write_scripts(dir);
  const std::string base = dir + "/plots/fit_steps_to_overlap_0.95_vs_base.d";
  const std::string gp = lrlab::read_file_text(base + ".gp");
  CHECK_THAT(gp, Catch::Contains("set xtics ('64' 64, '128' 128, '256' 256)"));
  CHECK_THAT(gp, Catch::Contains("set xlabel 'input dimension d'") &&
                     Catch::Contains("set ylabel 'steps to overlap 0.95'"));
  CHECK_THAT(gp, Catch::Contains("(1 of 9 runs not reached)"));
  // The fitted line and its exponent with interval in the legend.
  CHECK_THAT(gp, Catch::Contains(") * x**") && Catch::Contains("title 'fit: exponent ") && Catch::Contains(" ["));
  // The run that did not reach: an open triangle at its last step, with the censored legend.
  CHECK_THAT(gp, Catch::Contains("with points pt 8 ps 1.4") &&
                     Catch::Contains("title 'not reached (censored at budget)'"));
  const std::string dat = lrlab::read_file_text(base + ".dat");
  CHECK_THAT(dat, Catch::Contains("# runs: not reached, at the step the run stopped\n256 10000\n"));
}

namespace {

// The (dash type, point type) of every legend entry of a script (its `NaN with linespoints` or
// `with linespoints` clauses).
std::vector<std::pair<std::string, std::string>> legend_styles(const std::string& gp) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t pos = 0;
  while ((pos = gp.find("with linespoints", pos)) != std::string::npos) {
    const std::size_t end = gp.find('\n', pos);
    const std::string clause = gp.substr(pos, end - pos);
    auto word_after = [&](const std::string& key) {
      const std::size_t at = clause.find(key);
      if (at == std::string::npos) return std::string("?");
      const std::size_t from = at + key.size();
      return clause.substr(from, clause.find(' ', from) - from);
    };
    out.emplace_back(word_after(" dt "), word_after(" pt "));
    pos = end;
  }
  return out;
}

}  // namespace

TEST_CASE("series differ in dash type and point type, not only colour", "[study][plot]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  make_study(dir);
  write_scripts(dir);
  for (const std::string name : {"overlap_curves", "test_loss_curves"}) {
    INFO(name);
    const auto styles = legend_styles(lrlab::read_file_text(dir + "/plots/" + name + ".gp"));
    REQUIRE(styles.size() == 3);
    for (std::size_t i = 0; i < styles.size(); ++i)
      for (std::size_t j = 0; j < i; ++j) {
        CHECK(styles[i].first != styles[j].first);
        CHECK(styles[i].second != styles[j].second);
      }
  }
  for (std::size_t i = 0; i < lrlab::study::kDistinctStyles; ++i)
    for (std::size_t j = 0; j < i; ++j) {
      CHECK(lrlab::study::series_style(i).dashtype != lrlab::study::series_style(j).dashtype);
      CHECK(lrlab::study::series_style(i).pointtype != lrlab::study::series_style(j).pointtype);
    }
  for (std::size_t i = 0; i < lrlab::study::kDistinctStyles; ++i)
    CHECK(lrlab::study::series_style(i).pointtype != lrlab::study::kCensoredPointType);
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
    CHECK(size_of(dir + "/plots/" + name + ".pdf") > 1000);
    CHECK(size_of(dir + "/plots/" + name + ".gp") > 0);
  }
  auto magic_of = [&](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[5] = {};
    in.read(magic, 4);
    return std::string(magic);
  };
  CHECK(magic_of(dir + "/plots/overlap_curves.png").substr(1) == "PNG");
  CHECK(magic_of(dir + "/plots/overlap_curves.pdf") == "%PDF");
  // The rendered fit shows its legend: the exponent with interval and the censored marker.
  const std::string svg = lrlab::read_file_text(dir + "/plots/fit_steps_to_overlap_0.95_vs_base.d.svg");
  CHECK_THAT(svg, Catch::Contains("fit: exponent ") && Catch::Contains("not reached (censored at budget)"));
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
  CHECK_THAT(lrlab::read_file_text(dir + "/plots/overlap_curves.gp"), Catch::Contains("set terminal pdfcairo"));
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
    saw = saw || (w.find("gnuplot failed on " + dir + "/plots/overlap_curves.gp") != std::string::npos &&
                  w.find("line 3: boom") != std::string::npos &&
                  w.find("missing: overlap_curves.png, overlap_curves.svg, overlap_curves.pdf") != std::string::npos);
  CHECK(saw);
}

TEST_CASE("images gnuplot leaves empty or cut short (a full disk) are listed and removed, even over an old image",
          "[study][plot]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  make_study(dir);
  // Lists the terminals, then "renders" with exit 0 but writes an empty PNG and an SVG cut short, as
  // on a full disk; the SVG of the test-loss plot is whole.
  const std::string fake = dir + "/full_disk_gnuplot";
  lrlab::write_file_atomic(fake,
                           "#!/bin/sh\n"
                           "if [ \"$1\" = -e ]; then printf ' pngcairo  cairo\\n svg  svg\\n'; exit 0; fi\n"
                           ": > \"${1%.gp}.png\"\n"
                           "case \"$1\" in test_loss*) printf '<svg>\\n</svg>\\n' ;; *) printf '<svg><path d=\"M0' ;; esac"
                           " > \"${1%.gp}.svg\"\n"
                           "exit 0\n");
  ::chmod(fake.c_str(), 0755);
  std::filesystem::create_directories(dir + "/plots");
  lrlab::write_file_atomic(dir + "/plots/overlap_curves.pdf", "%PDF an earlier render %%EOF");
  lrlab::study::PlotOptions options;
  options.gnuplot = fake;
  const auto report = lrlab::study::plot_study(dir, options);
  const auto failed = [&](const std::string& name) {
    return std::find(report.failed.begin(), report.failed.end(), dir + "/plots/" + name) != report.failed.end();
  };
  const auto kept = [&](const std::string& name) {
    return std::find(report.files.begin(), report.files.end(), dir + "/plots/" + name) != report.files.end();
  };
  CHECK(failed("overlap_curves.png"));  // empty
  CHECK(failed("overlap_curves.svg"));  // cut short
  CHECK(failed("test_loss_curves.png"));
  CHECK_FALSE(failed("test_loss_curves.svg"));  // whole
  CHECK(kept("test_loss_curves.svg"));
  CHECK(report.failed.size() >= 4);
  // Broken images are not left in the folder, nor is the earlier render this one replaced.
  CHECK_FALSE(std::filesystem::exists(dir + "/plots/overlap_curves.png"));
  CHECK_FALSE(std::filesystem::exists(dir + "/plots/overlap_curves.svg"));
  CHECK_FALSE(std::filesystem::exists(dir + "/plots/overlap_curves.pdf"));
  CHECK(std::filesystem::exists(dir + "/plots/test_loss_curves.svg"));
  bool listed = false;
  for (const auto& w : report.warnings)
    listed = listed || (w.find("missing, empty or cut short") != std::string::npos &&
                        w.find("overlap_curves.png") != std::string::npos && w.find("lrlab plot") != std::string::npos);
  CHECK(listed);
  for (const auto& f : report.files) CHECK(f.find(".png") == std::string::npos);
}

TEST_CASE("missing inputs are warnings", "[study][plot]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  const auto report = write_scripts(dir);
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
  lrlab::study::write_study_summary(dir, {{"base.d", "steps_to_overlap_0.95", {"base.zero_base"}, "least_squares"}},
                                    200, 1);
}

const char* kGroupedFit = "fit_steps_to_overlap_0.95_vs_base.d_by_base.zero_base";

}  // namespace

TEST_CASE("a grouped fit is one figure with a colour per group", "[study][plot]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  make_grouped_study(dir);
  const auto report = write_scripts(dir);
  // Only the missing curves.csv is reported.
  REQUIRE(report.warnings.size() == 1);
  CHECK_THAT(report.warnings[0], Catch::Contains("curves.csv"));
  const std::string base = dir + "/plots/" + kGroupedFit;
  CHECK(size_of(dir + "/plots/fit_steps_to_overlap_0.95_vs_base.d.gp") < 0);  // no pooled figure
  const std::string dat = lrlab::read_file_text(base + ".dat");
  // Blocks: group false's 9 runs, group true's 8 that reached and its 1 censored run.
  const std::size_t first = dat.find("# zero base = false: runs that reached");
  const std::size_t second = dat.find("# zero base = true: runs that reached");
  const std::size_t third = dat.find("# zero base = true: not reached, at the step the run stopped");
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  REQUIRE(third != std::string::npos);
  const auto lines_in = [](const std::string& text) {
    int n = 0;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
      if (!line.empty() && line[0] != '#') ++n;
    return n;
  };
  CHECK(lines_in(dat.substr(first, second - first)) == 9);
  CHECK(lines_in(dat.substr(second, third - second)) == 8);
  CHECK(lines_in(dat.substr(third)) == 1);

  const std::string gp = lrlab::read_file_text(base + ".gp");
  CHECK_THAT(gp, Catch::Contains("set title 'steps to overlap 0.95 against d, one fit per zero base") &&
                     Catch::Contains("(1 of 18 runs not reached)"));
  CHECK_THAT(gp, Catch::Contains("index 0 using 1:2") && Catch::Contains("index 1 using 1:2") &&
                     Catch::Contains("index 2 using 1:2 with points pt 8"));
  // One colour, marker and dash per group, on its points, its line and its legend entry, which
  // gives the exponent and its interval.
  CHECK_THAT(gp, Catch::Contains("dt 1 pt 7 lc rgb '#1f77b4' title 'zero base = false: exponent 1.00 [") &&
                     Catch::Contains("dt 2 pt 5 lc rgb '#ff7f0e' title 'zero base = true: exponent 1.9"));
  CHECK_THAT(gp, Catch::Contains("with points pt 7 ps 0.9 lc rgb '#1f77b4' notitle") &&
                     Catch::Contains("with points pt 5 ps 0.9 lc rgb '#ff7f0e' notitle"));
}

namespace {

// study.yaml of make_grouped_study's sweep with the given `figure:` mapping.
void write_study_yaml(const std::string& dir, const std::string& figure) {
  lrlab::write_file_atomic(dir + "/study.yaml", "base: {d: 64, zero_base: false}\n"
                                                "study:\n"
                                                "  sweep: {base.d: [64, 128, 256], base.zero_base: [false, true]}\n"
                                                "  seeds: 3\n"
                                                "  fit: {x: base.d, y: steps_to_overlap_0.95, by: base.zero_base, method: least_squares}\n"
                                                "  figure: " +
                                                    figure + "\n");
}

}  // namespace

TEST_CASE("a grouped fit figure and the study figure render with gnuplot", "[study][plot]") {
  if (!gnuplot_available()) {
    WARN("gnuplot is not installed: grouped fit rendering not tested");
    return;
  }
  const TempDir temp;
  const std::string& dir = temp.path;
  make_grouped_study(dir);
  write_study_yaml(dir, "{x: base.d, y: steps_to_overlap_0.95, by: base.zero_base, "
                        "series: {base.zero_base: [fine-tuning, GLM]}}");
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
  CHECK_THAT(svg, Catch::Contains("zero base = false: exponent") &&
                      Catch::Contains("zero base = true: exponent"));
  // The study's figure in all three formats, with the declared names.
  for (const char* ext : {".png", ".svg", ".pdf"}) {
    INFO(ext);
    CHECK(size_of(dir + "/plots/figure" + ext) > 1000);
  }
  CHECK_THAT(lrlab::read_file_text(dir + "/plots/figure.svg"),
             Catch::Contains("fine-tuning: exponent") && Catch::Contains("GLM: exponent"));
}

TEST_CASE("study.figure: both fits on one axis with the declared names", "[study][plot]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  make_grouped_study(dir);
  write_study_yaml(dir, "{x: base.d, y: steps_to_overlap_0.95, by: base.zero_base, "
                        "series: {base.zero_base: [fine-tuning, GLM]}, title: Fine-tuning against GLM}");
  const auto report = write_scripts(dir);
  REQUIRE(report.warnings.size() == 1);  // curves.csv
  const std::string gp = lrlab::read_file_text(dir + "/plots/figure.gp");
  CHECK_THAT(gp, Catch::Contains("set title 'Fine-tuning against GLM'") &&
                     Catch::Contains("set xlabel 'input dimension d'") &&
                     Catch::Contains("set xtics ('64' 64, '128' 128, '256' 256)"));
  // Both fitted lines, each named, with its exponent and interval; the censored run.
  CHECK_THAT(gp, Catch::Contains("title 'fine-tuning: exponent 1.00 [") &&
                     Catch::Contains("title 'GLM: exponent 1.9"));
  std::size_t lines = 0;
  for (std::size_t pos = 0; (pos = gp.find(") * x**", pos)) != std::string::npos; ++pos) ++lines;
  CHECK(lines == 2);  // one fitted line per group (SVG and PDF replot the same command)
  CHECK_THAT(gp, Catch::Contains("title 'not reached (censored at budget)'"));
}

TEST_CASE("study.figure of curves: one series per group, median over its runs", "[study][plot]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  make_study(dir);
  lrlab::write_file_atomic(dir + "/study.yaml", "base: {d: 64}\nstudy:\n  sweep: {base.d: [64, 128, 256]}\n"
                                                "  seeds: 3\n  figure: {x: step, y: test_loss}\n");
  const auto report = write_scripts(dir);
  CHECK(report.warnings.empty());
  const std::string gp = lrlab::read_file_text(dir + "/plots/figure.gp");
  CHECK_THAT(gp, Catch::Contains("title 'd = 64'") && Catch::Contains("title 'd = 256'") &&
                     Catch::Contains("set logscale y") && Catch::Contains("set nonlinear x"));
  // The figure's series are the same aggregates as the per-metric curve plot's.
  const std::string figure = lrlab::read_file_text(dir + "/plots/figure.dat");
  const std::string curves = lrlab::read_file_text(dir + "/plots/test_loss_curves.dat");
  REQUIRE(figure.find("# series 0") != std::string::npos);
  CHECK(figure.substr(figure.find("# series 0")) == curves.substr(curves.find("# series 0")));
}

TEST_CASE("an invalid study.figure in study.yaml is a warning with its location", "[study][plot]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  make_grouped_study(dir);
  write_study_yaml(dir, "{x: base.d, y: steps_to_overlap_0.95, by: base.zero_bas}");
  const auto report = write_scripts(dir);
  bool saw = false;
  for (const auto& w : report.warnings)
    saw = saw || (w.find("study.figure is not drawn") != std::string::npos &&
                  w.find("study.yaml:") != std::string::npos && w.find("did you mean 'base.zero_base'") != std::string::npos);
  CHECK(saw);
  CHECK(size_of(dir + "/plots/figure.gp") < 0);
  // A column the results lack: a warning, no figure.
  write_study_yaml(dir, "{x: base.d, y: steps_to_overlap_0.5}");
  const auto second = write_scripts(dir);
  saw = false;
  for (const auto& w : second.warnings) saw = saw || w.find("runs.csv has no column 'steps_to_overlap_0.5'") != std::string::npos;
  CHECK(saw);
}
