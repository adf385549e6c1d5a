#include "study/plot.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <utility>

#include "framework/atomic_file.h"
#include "framework/csv.h"
#include "framework/error.h"
#include "framework/strings.h"
#include "study/fit.h"
#include "study/runs_table.h"
#include "study/summary.h"

namespace lrlab {
namespace study {

namespace {

// Colour-blind-friendly categorical palette (matplotlib's tab10); cycles beyond ten points.
const std::vector<std::string> kPalette = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

long file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : -1;
}

// Names that are safe as file names and inside gnuplot's quotes.
std::string safe_name(const std::string& s) {
  std::string out;
  for (char c : s)
    out +=
        (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
  return out.empty() ? "unnamed" : out;
}

// A gnuplot single-quoted string: only the quote itself needs escaping (doubled).
std::string gp_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Resolves a program name on PATH before forking, so the child only calls exec (fork in a process
// with LibTorch's threads allows async-signal-safe calls only).
std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return "";
}

// Runs `program args...` in folder `cwd` with stdin from /dev/null; returns the exit status (-1 if
// it could not start) and its stdout and stderr together in `output`.
int run_program(const std::string& program, const std::vector<std::string>& args,
                const std::string& cwd, std::string& output) {
  output.clear();
  int fds[2];
  if (::pipe(fds) != 0) {
    output = std::string("pipe: ") + std::strerror(errno);
    return -1;
  }
  std::vector<std::string> storage = {program};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(&s[0]);
  argv.push_back(nullptr);
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

  const pid_t pid = ::fork();
  if (pid < 0) {
    output = std::string("fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    if (devnull >= 0) ::close(devnull);
    return -1;
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  if (devnull >= 0) ::close(devnull);
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (output.size() < 64 * 1024) output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

void make_folder(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    throw Error(fmt::format("cannot create folder '{}': {}", path, std::strerror(errno)));
}

// Sweep point of each run and a legend label for each point, from runs.csv.
struct Points {
  std::map<std::string, std::string> point_of_run;
  std::map<std::string, std::string> label;  // point -> "base.d=64, teacher.xi=0.5"
};

Points read_points(const Table& runs) {
  Points out;
  const int rc = runs.column_index("run");
  const int pc = runs.find_column("point");
  const std::vector<std::string> swept = swept_columns(runs);
  for (const auto& row : runs.rows) {
    const std::string point = pc >= 0 ? row[static_cast<std::size_t>(pc)] : "0";
    out.point_of_run[row[static_cast<std::size_t>(rc)]] = point;
    if (out.label.count(point)) continue;
    std::string label;
    for (const auto& k : swept)
      label += (label.empty() ? "" : ", ") + k + "=" +
               row[static_cast<std::size_t>(runs.column_index(k))];
    out.label[point] = label.empty() ? "all runs" : label;
  }
  return out;
}

// Numeric order for point ids ("2" before "10"), text after numbers.
bool point_less(const std::string& a, const std::string& b) {
  char* ea = nullptr;
  char* eb = nullptr;
  const double va = std::strtod(a.c_str(), &ea);
  const double vb = std::strtod(b.c_str(), &eb);
  const bool na = !a.empty() && *ea == '\0';
  const bool nb = !b.empty() && *eb == '\0';
  if (na != nb) return na;
  if (na) return va < vb;
  return a < b;
}

struct Job {
  std::string script;  // file name inside the plots folder
  std::string png, svg;
};

std::string terminal_lines(const std::string& raster, const PlotOptions& o,
                           const std::string& base) {
  return fmt::format("set terminal {} size {},{} noenhanced font 'sans,10'\nset output {}\n",
                     raster, o.width, o.height, gp_quote(base + ".png"));
}

std::string svg_lines(const PlotOptions& o, const std::string& base) {
  return fmt::format(
      "\n# The same plot as SVG.\nset terminal svg size {},{} dynamic noenhanced font 'sans,10'\n"
      "set output {}\nreplot\nunset output\n",
      o.width, o.height, gp_quote(base + ".svg"));
}

// Writes `<plots>/<base>.dat` and lists it in the report.
void write_data(const std::string& plots, const std::string& base, const std::string& dat, PlotReport& report) {
  write_file_atomic(plots + "/" + base + ".dat", dat);
  report.files.push_back(plots + "/" + base + ".dat");
}

// Writes `<plots>/<base>.gp`, lists it in the report, and queues its rendering to PNG and SVG.
void write_script(const std::string& plots, const std::string& base, const std::string& gp, PlotReport& report,
                  std::vector<Job>& jobs) {
  write_file_atomic(plots + "/" + base + ".gp", gp);
  report.files.push_back(plots + "/" + base + ".gp");
  jobs.push_back(Job{base + ".gp", plots + "/" + base + ".png", plots + "/" + base + ".svg"});
}

/// Curve values read from curves.csv: metric -> point -> step -> values over seeds, metrics in
/// first-seen order.
struct CurveData {
  std::vector<std::string> metric_order;
  std::map<std::string, std::map<std::string, std::map<double, std::vector<double>>>> data;
};

// Reads curves.csv into CurveData. Non-finite values (diverged runs) are dropped: they would make
// every quantile at that step meaningless. Runs absent from runs.csv are skipped with a warning.
CurveData read_curves(const std::string& dir, const Points& points, PlotReport& report) {
  const Table curves = read_csv(dir + "/curves.csv");
  const std::size_t rc = static_cast<std::size_t>(curves.column_index("run"));
  const std::size_t sc = static_cast<std::size_t>(curves.column_index("step"));
  const std::size_t mc = static_cast<std::size_t>(curves.column_index("metric"));
  const std::size_t vc = static_cast<std::size_t>(curves.column_index("value"));
  CurveData out;
  std::set<std::string> unknown_runs;
  for (std::size_t r = 0; r < curves.rows.size(); ++r) {
    const auto& row = curves.rows[r];
    const std::string where = fmt::format("{}/curves.csv:{}", dir, r + 2);
    auto step = parse_number(row[sc], where + ": column step");
    auto value = parse_number(row[vc], where + ": column value");
    if (!step || !value || !std::isfinite(*value)) continue;
    std::string point = "0";
    if (!points.point_of_run.empty()) {
      auto it = points.point_of_run.find(row[rc]);
      if (it == points.point_of_run.end()) {
        unknown_runs.insert(row[rc]);
        continue;
      }
      point = it->second;
    }
    if (!out.data.count(row[mc])) out.metric_order.push_back(row[mc]);
    out.data[row[mc]][point][*step].push_back(*value);
  }
  if (!unknown_runs.empty())
    report.warnings.push_back(
        fmt::format("curves.csv has {} run(s) absent from runs.csv (e.g. {}); "
                    "their curves are not plotted",
                    unknown_runs.size(), *unknown_runs.begin()));
  return out;
}

// The curves plot of one metric: its data file, its gnuplot script, and the job that renders it.
// About 90 lines: the data file and the script are written side by side because the script's
// blocks (gnuplot `index`) must follow the data file's block order exactly.
void plot_metric_curves(const std::string& metric,
                        const std::map<std::string, std::map<double, std::vector<double>>>& by_point,
                        const std::string& plots, const Points& points, const std::string& raster,
                        const PlotOptions& o, PlotReport& report, std::vector<Job>& jobs) {
  std::vector<std::string> order;
  for (const auto& kv : by_point) order.push_back(kv.first);
  std::sort(order.begin(), order.end(), point_less);

  double min_pos_step = INFINITY, max_step = 0;
  double min_med = INFINITY, max_med = -INFINITY, min_q25 = INFINITY;
  struct Row {
    double step, median, q25, q75;
    std::size_t n;
  };
  std::map<std::string, std::vector<Row>> rows;
  for (const auto& p : order) {
    for (const auto& kv : by_point.at(p)) {
      Row row{kv.first, quantile(kv.second, 0.5), quantile(kv.second, 0.25),
              quantile(kv.second, 0.75), kv.second.size()};
      rows[p].push_back(row);
      if (kv.first > 0) min_pos_step = std::min(min_pos_step, kv.first);
      max_step = std::max(max_step, kv.first);
      min_med = std::min(min_med, row.median);
      max_med = std::max(max_med, row.median);
      min_q25 = std::min(min_q25, row.q25);
    }
  }
  // Log axes where the data span more than two decades (hitting-time curves in d, decaying
  // losses); a log x axis drops step 0, which it cannot show.
  const bool log_x = std::isfinite(min_pos_step) && max_step / min_pos_step > 100;
  const bool log_y = min_q25 > 0 && min_med > 0 && max_med / min_med > 100;

  const std::string base = safe_name(metric) + "_curves";
  std::string dat = fmt::format(
      "# {} against step: median, q25, q75 over the seeds of each sweep "
      "point (n = seeds with a value at that step).\n"
      "# One block per point (gnuplot `index`), blocks separated by two "
      "blank lines.\n",
      metric);
  std::vector<std::pair<std::string, std::string>> blocks;  // point, label
  for (const auto& p : order) {
    std::string block;
    for (const auto& row : rows[p]) {
      if (log_x && row.step <= 0) continue;
      block += fmt::format("{} {} {} {} {}\n", row.step, row.median, row.q25, row.q75, row.n);
    }
    if (block.empty()) continue;
    if (!blocks.empty()) dat += "\n\n";
    const std::string label = points.label.count(p) ? points.label.at(p) : "point " + p;
    dat += fmt::format("# point {}: {}\n# step median q25 q75 n\n", p, label) + block;
    blocks.emplace_back(p, label);
  }
  if (blocks.empty()) return;
  write_data(plots, base, dat, report);

  std::string gp = fmt::format(
      "# {}: median (line) and interquartile range (band) over seeds.\n"
      "# Re-render: cd into this folder, then `gnuplot {}.gp`.\n",
      metric, base);
  gp += terminal_lines(raster, o, base);
  gp += fmt::format("set title {}\nset xlabel 'step'\nset ylabel {}\n", gp_quote(metric),
                    gp_quote(metric));
  // The legend goes below the plot: sweep-point labels (whole sections when a study sweeps
  // `adapter: [...]`) are long, and a legend at the side squeezes the plot.
  gp += "set grid\nset key below left Left reverse\n";
  if (log_x) gp += "set logscale x\nset format x '%g'\n";
  if (log_y) gp += "set logscale y\nset format y '%g'\n";
  gp += "set style fill transparent solid 0.2 noborder\n";
  gp += "plot \\\n";
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const std::string& colour = kPalette[i % kPalette.size()];
    gp += fmt::format("  {} index {} using 1:3:4 with filledcurves lc rgb '{}' notitle, \\\n",
                      i == 0 ? gp_quote(base + ".dat") : "''", i, colour);
    gp += fmt::format("  '' index {} using 1:2 with lines lw 2 lc rgb '{}' title {}{}\n", i,
                      colour, gp_quote(blocks[i].second), i + 1 < blocks.size() ? ", \\" : "");
  }
  gp += svg_lines(o, base);
  write_script(plots, base, gp, report, jobs);
}

// (a) metric vs step: median line and interquartile band per sweep point.
void plot_curves(const std::string& dir, const std::string& plots, const Points& points,
                 const std::string& raster, const PlotOptions& o, PlotReport& report,
                 std::vector<Job>& jobs) {
  const CurveData curves = read_curves(dir, points, report);
  for (const auto& metric : curves.metric_order)
    plot_metric_curves(metric, curves.data.at(metric), plots, points, raster, o, report, jobs);
}

// Legend of one group's fit: "base.zero_base=true: slope 1.02 [0.9, 1.1]".
std::string group_legend(const FitResult& f) {
  std::string out = f.group + ": ";
  if (!(std::isfinite(f.slope) && std::isfinite(f.intercept))) {
    out += "no fit";
  } else {
    out += fmt::format("slope {:.3g}", f.slope);
    out += std::isfinite(f.slope_lo) ? fmt::format(" [{:.3g}, {:.3g}]", f.slope_lo, f.slope_hi)
                                     : " (no interval)";
  }
  if (f.n_not_reached > 0) out += fmt::format(" ({} not reached)", f.n_not_reached);
  return out;
}

// The gnuplot script of a grouped fit: per plotted group (`plotted`, in data-file block order) its
// points and its fitted line, on log-log axes over [xmin, xmax] with a margin.
std::string grouped_fit_script(const std::vector<FitResult>& group_fits, const std::vector<std::size_t>& plotted,
                               int not_reached, double xmin, double xmax, const std::string& base,
                               const std::string& raster, const PlotOptions& o) {
  const FitResult& first = group_fits.front();
  const std::string by_text = join(first.by);
  std::string title = fmt::format("{} vs {}, one fit per {}", first.y, first.x, by_text);
  if (not_reached > 0) title += fmt::format(" ({} not reached)", not_reached);
  std::string gp = fmt::format(
      "# {} against {} on log-log axes, one colour per group of {}: runs that reached (points) and "
      "each group's least-squares line of log y on log x.\n"
      "# Re-render: cd into this folder, then `gnuplot {}.gp`.\n",
      first.y, first.x, by_text, base);
  gp += terminal_lines(raster, o, base);
  gp += fmt::format("set title {}\nset xlabel {}\nset ylabel {}\n", gp_quote(title),
                    gp_quote(first.x), gp_quote(first.y));
  gp += "set grid\nset logscale xy\nset key left top\n";
  gp += fmt::format("set xrange [{}:{}]\n", xmin / 1.25, xmax * 1.25);
  gp += "plot";
  for (std::size_t b = 0; b < plotted.size(); ++b) {
    const FitResult& f = group_fits[plotted[b]];
    const std::string& colour = kPalette[plotted[b] % kPalette.size()];
    const bool fitted = std::isfinite(f.slope) && std::isfinite(f.intercept);
    // The legend entry goes on the line when there is one, else on the points.
    gp += fmt::format("{} \\\n  {} index {} using 1:2 with points pt 7 ps 0.8 lc rgb '{}' {}",
                      b == 0 ? "" : ",", b == 0 ? gp_quote(base + ".dat") : "''", b, colour,
                      fitted ? "notitle" : "title " + gp_quote(group_legend(f)));
    if (fitted)
      gp += fmt::format(", \\\n  exp({}) * x**{} with lines lw 2 lc rgb '{}' title {}", f.intercept,
                        f.slope, colour, gp_quote(group_legend(f)));
  }
  gp += "\n" + svg_lines(o, base);
  return gp;
}

// (b') one figure for the groups of one (y, x, by) fit: per group a colour, its reached runs as
// points and its fitted line, the slope and interval in the legend.
void plot_grouped_fit(const std::string& dir, const std::string& plots, const Table& runs,
                      const std::vector<FitResult>& group_fits, const std::string& raster,
                      const PlotOptions& o, PlotReport& report, std::vector<Job>& jobs) {
  const FitResult& first = group_fits.front();
  const std::string by_text = join(first.by);
  const std::string what = fmt::format("fit {} vs {} by {}", first.y, first.x, by_text);
  for (const auto& column : [&] {
         std::vector<std::string> c = {first.x, first.y};
         c.insert(c.end(), first.by.begin(), first.by.end());
         return c;
       }()) {
    if (!runs.has_column(column)) {
      report.warnings.push_back(fmt::format("{}: runs.csv lacks the column {}", what, column));
      return;
    }
  }
  const std::size_t xc = static_cast<std::size_t>(runs.column_index(first.x));
  const std::size_t yc = static_cast<std::size_t>(runs.column_index(first.y));
  std::map<std::string, std::size_t> index_of;  // group label -> position in group_fits
  for (std::size_t g = 0; g < group_fits.size(); ++g) index_of.emplace(group_fits[g].group, g);
  std::vector<std::string> points(group_fits.size());
  double xmin = INFINITY, xmax = 0;
  for (std::size_t r = 0; r < runs.rows.size(); ++r) {
    auto it = index_of.find(fit_group_label(runs, first.by, r));
    if (it == index_of.end()) continue;
    const std::string where = fmt::format("{}/runs.csv:{}", dir, r + 2);
    auto x = parse_number(runs.rows[r][xc], where + ": column " + first.x);
    auto y = parse_number(runs.rows[r][yc], where + ": column " + first.y);
    if (!x || !y || !(*x > 0) || !(*y > 0) || !std::isfinite(*x) || !std::isfinite(*y)) continue;
    points[it->second] += fmt::format("{} {}\n", *x, *y);
    xmin = std::min(xmin, *x);
    xmax = std::max(xmax, *x);
  }
  const std::string base = "fit_" + safe_name(first.y) + "_vs_" + safe_name(first.x) + "_by_" +
                           safe_name(join(first.by, "_"));
  std::string dat = fmt::format(
      "# {} against {}, one line per run that reached, one block per group of {} (gnuplot "
      "`index`), blocks separated by two blank lines.\n",
      first.y, first.x, by_text);
  std::vector<std::size_t> plotted;  // groups with points, in block order
  int not_reached = 0;
  for (std::size_t g = 0; g < group_fits.size(); ++g) {
    not_reached += group_fits[g].n_not_reached;
    if (points[g].empty()) {
      report.warnings.push_back(fmt::format("{}: no run of {} reached; that group is not plotted",
                                            what, group_fits[g].group));
      continue;
    }
    if (!plotted.empty()) dat += "\n\n";
    dat += fmt::format("# group {}\n# x y\n", group_fits[g].group) + points[g];
    plotted.push_back(g);
  }
  if (plotted.empty()) {
    report.warnings.push_back(fmt::format("{}: no run reached; nothing to plot", what));
    return;
  }
  write_data(plots, base, dat, report);

  const std::string gp = grouped_fit_script(group_fits, plotted, not_reached, xmin, xmax, base, raster, o);
  write_script(plots, base, gp, report, jobs);
}

// (b) hitting time vs x, log-log, points per reached run and the fitted line; fits with `by` go
// to plot_grouped_fit, one figure per (y, x, by).
void plot_fits(const std::string& dir, const std::string& plots, const Table& runs,
               const std::string& raster, const PlotOptions& o, PlotReport& report,
               std::vector<Job>& jobs) {
  const std::vector<FitResult> fits = fits_from_table(read_csv(dir + "/fits.csv"));
  // The groups of each grouped spec (y, x, by); its figure is made where the spec first appears.
  auto spec_key = [](const FitResult& f) { return f.y + "\n" + f.x + "\n" + join(f.by, "\n"); };
  std::map<std::string, std::vector<FitResult>> grouped;
  for (const auto& f : fits)
    if (!f.by.empty()) grouped[spec_key(f)].push_back(f);
  std::set<std::string> done;
  for (const auto& f : fits) {
    if (!f.by.empty()) {
      if (done.insert(spec_key(f)).second)
        plot_grouped_fit(dir, plots, runs, grouped[spec_key(f)], raster, o, report, jobs);
      continue;
    }
    if (!runs.has_column(f.x) || !runs.has_column(f.y)) {
      report.warnings.push_back(fmt::format("fit {} vs {}: runs.csv lacks the column {}", f.y, f.x,
                                            runs.has_column(f.x) ? f.y : f.x));
      continue;
    }
    const std::size_t xc = static_cast<std::size_t>(runs.column_index(f.x));
    const std::size_t yc = static_cast<std::size_t>(runs.column_index(f.y));
    std::string points;
    double xmin = INFINITY, xmax = 0;
    for (std::size_t r = 0; r < runs.rows.size(); ++r) {
      const std::string where = fmt::format("{}/runs.csv:{}", dir, r + 2);
      auto x = parse_number(runs.rows[r][xc], where + ": column " + f.x);
      auto y = parse_number(runs.rows[r][yc], where + ": column " + f.y);
      if (!x || !y || !(*x > 0) || !(*y > 0) || !std::isfinite(*x) || !std::isfinite(*y)) continue;
      points += fmt::format("{} {}\n", *x, *y);
      xmin = std::min(xmin, *x);
      xmax = std::max(xmax, *x);
    }
    const std::string base = "fit_" + safe_name(f.y) + "_vs_" + safe_name(f.x);
    if (points.empty()) {
      report.warnings.push_back(
          fmt::format("fit {} vs {}: no run reached; nothing to plot", f.y, f.x));
      continue;
    }
    write_file_atomic(
        plots + "/" + base + ".dat",
        fmt::format("# {} against {}, one line per run that reached\n# x y\n", f.y, f.x) + points);
    report.files.push_back(plots + "/" + base + ".dat");

    const bool fitted = std::isfinite(f.slope) && std::isfinite(f.intercept);
    std::string title = fmt::format("{} vs {}: ", f.y, f.x);
    if (!fitted) {
      title += f.note.empty() ? "no fit" : f.note;
    } else {
      title += fmt::format("slope {:.3f}", f.slope);
      title += std::isfinite(f.slope_lo)
                   ? fmt::format(", 95% interval [{:.3f}, {:.3f}]", f.slope_lo, f.slope_hi)
                   : ", no interval";
    }
    if (f.n_not_reached > 0) title += fmt::format(" ({} not reached)", f.n_not_reached);

    std::string gp = fmt::format(
        "# {} against {} on log-log axes: runs that reached (points) and "
        "the least-squares line of log y on log x.\n"
        "# Re-render: cd into this folder, then `gnuplot {}.gp`.\n",
        f.y, f.x, base);
    gp += terminal_lines(raster, o, base);
    gp += fmt::format("set title {}\nset xlabel {}\nset ylabel {}\n", gp_quote(title),
                      gp_quote(f.x), gp_quote(f.y));
    gp += "set grid\nset logscale xy\nset key left top\n";
    // Pad the x range so the extreme points are not on the frame.
    gp += fmt::format("set xrange [{}:{}]\n", xmin / 1.25, xmax * 1.25);
    gp += fmt::format("plot {} using 1:2 with points pt 7 ps 0.8 lc rgb '{}' title 'runs'",
                      gp_quote(base + ".dat"), kPalette[0]);
    if (fitted)
      gp += fmt::format(", \\\n  exp({}) * x**{} with lines lw 2 lc rgb '{}' title {}", f.intercept,
                        f.slope, kPalette[3], gp_quote(fmt::format("fit: slope {:.3f}", f.slope)));
    gp += "\n" + svg_lines(o, base);
    write_script(plots, base, gp, report, jobs);
  }
}

}  // namespace

PlotReport plot_study(const std::string& dir, const PlotOptions& options) {
  PlotReport report;
  const std::string plots = dir + "/plots";

  const std::string gnuplot = options.render ? find_program(options.gnuplot) : "";
  std::string raster = "pngcairo";
  bool can_png = true, can_svg = true;  // which images a job must leave (else: reported as failed)
  if (options.render && gnuplot.empty()) {
    report.warnings.push_back(fmt::format(
        "gnuplot not found ('{}'); wrote the data and scripts only. Install it (Debian: "
        "apt install gnuplot-nox) and run `cd {} && gnuplot NAME.gp`",
        options.gnuplot, plots));
  } else if (!gnuplot.empty()) {
    // Prefer cairo's antialiased PNG; plain libgd `png` where gnuplot was built without cairo.
    std::string list;
    run_program(gnuplot, {"-e", "set terminal"}, ".", list);
    auto has = [&](const std::string& t) {
      std::size_t pos = 0;
      while ((pos = list.find(t, pos)) != std::string::npos) {
        const bool start = pos == 0 || list[pos - 1] == ' ' || list[pos - 1] == '\n';
        const std::size_t end = pos + t.size();
        if (start && end < list.size() && (list[end] == ' ' || list[end] == '\t')) return true;
        pos = end;
      }
      return false;
    };
    if (has("pngcairo")) {
      raster = "pngcairo";
    } else if (has("png")) {
      raster = "png";
    } else {
      can_png = false;
      report.warnings.push_back(
          "gnuplot has neither the pngcairo nor the png terminal; PNG files "
          "will be missing");
    }
    can_svg = has("svg");
    if (!can_svg)
      report.warnings.push_back("gnuplot has no svg terminal; SVG files will be missing");
    report.terminal = raster;
  }

  make_folder(plots);
  std::vector<Job> jobs;
  Points points;
  Table runs;
  const bool have_runs = file_exists(dir + "/runs.csv");
  if (have_runs) {
    runs = read_csv(dir + "/runs.csv");
    points = read_points(runs);
  } else {
    report.warnings.push_back(
        fmt::format("{}/runs.csv not found: curves are not grouped by sweep "
                    "point and fits are not plotted",
                    dir));
  }
  if (file_exists(dir + "/curves.csv")) {
    plot_curves(dir, plots, points, raster, options, report, jobs);
  } else {
    report.warnings.push_back(fmt::format("{}/curves.csv not found: no curve plots", dir));
  }
  if (have_runs && file_exists(dir + "/fits.csv"))
    plot_fits(dir, plots, runs, raster, options, report, jobs);

  if (gnuplot.empty()) return report;
  for (const auto& job : jobs) {
    // An image left from an earlier render must not pass for this one (e.g. when gnuplot fails early).
    for (const auto& image : {job.png, job.svg}) std::remove(image.c_str());
    std::string output;
    const int rc = run_program(gnuplot, {job.script}, plots, output);
    output = trim(output);
    if (rc != 0) {
      report.warnings.push_back(fmt::format("gnuplot failed on {}/{} (exit {}): {}", plots,
                                            job.script, rc,
                                            output.empty() ? "no message" : output));
    } else if (!output.empty()) {
      report.warnings.push_back(fmt::format("gnuplot on {}/{}: {}", plots, job.script, output));
    }
    for (const auto& [image, expected] : {std::pair{job.png, can_png}, std::pair{job.svg, can_svg}}) {
      if (file_size(image) > 0) {
        report.files.push_back(image);
      } else if (expected) {
        report.failed.push_back(image);  // a full disk leaves gnuplot's output empty, with exit 0
      }
    }
  }
  if (!report.failed.empty())
    report.warnings.push_back(fmt::format("{} plot image(s) missing or empty (full disk?): {}; re-render with "
                                          "`lrlab plot {}`",
                                          report.failed.size(), join(report.failed), dir));
  return report;
}

}  // namespace study
}  // namespace lrlab
