#include "study/summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>

#include "framework/atomic_file.h"
#include "framework/error.h"
#include "framework/strings.h"
#include "study/censored_fit.h"
#include "study/runs_table.h"

namespace lrlab {
namespace study {

namespace {

// Compact display: whole numbers (step counts) in full, others to 4 significant digits.
std::string show(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == std::round(v) && std::fabs(v) < 1e9) return fmt::format("{:.0f}", v);
  return fmt::format("{:.4g}", v);
}

// The number as written to CSV: empty for NaN, so that readers see "missing" rather than a value.
std::string cell_number(double v) { return std::isnan(v) ? std::string() : format_number(v); }

// "a;b" -> {"a", "b"}; "" -> {}.
std::vector<std::string> split_list(const std::string& text, char separator) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(separator, start);
    out.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

double number_or_nan(const std::string& text, const std::string& where) {
  auto v = parse_number(text, where);
  return v ? *v : kNaN;
}

// The inverse of by_x_text(..., ":", ";"): "64:1;128:2" -> {(64, 1), (128, 2)}.
std::vector<std::pair<double, int>> by_x_from_text(const std::string& text, const std::string& where) {
  std::vector<std::pair<double, int>> out;
  for (const std::string& item : split_list(text, ';')) {
    const std::vector<std::string> parts = split_list(item, ':');
    if (parts.size() != 2) throw Error(fmt::format("{}: '{}' is not x:count", where, item));
    const auto x = parse_number(parts[0], where);
    const auto n = parse_number(parts[1], where);
    if (!x || !n) throw Error(fmt::format("{}: '{}' is not x:count", where, item));
    out.emplace_back(*x, static_cast<int>(*n));
  }
  return out;
}

// An aligned Markdown table: every column padded to its widest cell, so it reads in a terminal.
// Cells are ASCII by construction (widths are byte counts).
std::string aligned_table(const std::vector<std::string>& header,
                          const std::vector<std::vector<std::string>>& rows,
                          const std::vector<bool>& right) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c)
    width[c] = std::max<std::size_t>(3, header[c].size());
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = "|";
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::string pad(width[c] - cells[c].size(), ' ');
      out += " " + (right[c] ? pad + cells[c] : cells[c] + pad) + " |";
    }
    return out + "\n";
  };
  std::string out = line(header);
  out += "|";
  for (std::size_t c = 0; c < header.size(); ++c)
    out += right[c] ? " " + std::string(width[c] - 1, '-') + ": |"
                    : " " + std::string(width[c], '-') + " |";
  out += "\n";
  for (const auto& row : rows) out += line(row);
  return out;
}

std::string points_table(const Summary& s) {
  std::vector<std::string> header = {"point"};
  std::vector<bool> right = {true};
  for (const auto& k : s.swept_keys) {
    header.push_back(k);
    right.push_back(true);
  }
  for (const char* h : {"runs", "diverged"}) {
    header.push_back(h);
    right.push_back(true);
  }
  for (std::size_t i = 0; i < s.result_columns.size(); ++i) {
    bool km = false;
    for (const auto& p : s.points) km = km || p.columns[i].kaplan_meier;
    header.push_back(km ? s.result_columns[i] + ", median (KM)" : s.result_columns[i]);
    right.push_back(false);
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : s.points) {
    std::vector<std::string> row = {p.point};
    for (const auto& kv : p.values) row.push_back(kv.second);
    row.push_back(std::to_string(p.runs));
    row.push_back(std::to_string(p.diverged));
    for (const auto& c : p.columns) {
      // A Kaplan-Meier quantile beyond every budget is only known to exceed the largest censoring time.
      auto km_show = [&](double v) { return std::isnan(v) && c.kaplan_meier ? ">" + show(c.censored_at) : show(v); };
      std::string cell = c.count == 0 ? (c.hitting_time ? "not reached" : "-")
                                      : fmt::format("{} [{}, {}]", km_show(c.median), km_show(c.q25), km_show(c.q75));
      if (c.hitting_time) cell += fmt::format(" {}/{}", c.count, c.total);
      if (c.kaplan_meier && c.count > 0) cell += " KM";
      row.push_back(cell);
    }
    rows.push_back(row);
  }
  return aligned_table(header, rows, right);
}

// "64:1;128:2" (inner ":", sep ";") from (x, count) pairs.
std::string by_x_text(const std::vector<std::pair<double, int>>& by_x, const std::string& inner,
                      const std::string& sep) {
  std::string out;
  for (const auto& kv : by_x) out += (out.empty() ? "" : sep) + show(kv.first) + inner + std::to_string(kv.second);
  return out;
}

// The fits as an aligned table; a `group` column after x when any fit is grouped (`by`).
std::string fits_text_table(const std::vector<FitResult>& fits) {
  bool grouped = false;
  for (const auto& f : fits) grouped = grouped || !f.group.empty();
  std::vector<std::string> header = {"y",  "x",      "method", "slope",       "95% interval",
                                     "r2", "n used", "not reached", "note"};
  std::vector<bool> right = {false, false, false, true, false, true, true, false, false};
  if (grouped) {
    header.insert(header.begin() + 2, "group");
    right.insert(right.begin() + 2, false);
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& f : fits) {
    std::string interval =
        std::isnan(f.slope_lo) ? "none" : fmt::format("[{:.3f}, {:.3f}]", f.slope_lo, f.slope_hi);
    std::string nr = std::to_string(f.n_not_reached);
    if (f.method == "censored") nr += " censored";
    if (!f.not_reached_by_x.empty()) nr += " (" + by_x_text(f.not_reached_by_x, ": ", ", ") + ")";
    std::string note = f.note;
    if (f.n_excluded > 0)
      note +=
          (note.empty() ? "" : "; ") + fmt::format("{} runs with y <= 0 left out", f.n_excluded);
    if (std::isfinite(f.slope) && f.n_excluded == 0 && f.resampled != "seeds" && f.resampled != "runs within x" &&
        !f.resampled.empty())
      note += (note.empty() ? "" : "; ") + ("interval resamples " + f.resampled);
    if (f.n_diverged > 0)
      note += (note.empty() ? "" : "; ") + fmt::format("{} diverged runs left out", f.n_diverged);
    std::vector<std::string> row = {f.y,
                                    f.x,
                                    f.method,
                                    std::isnan(f.slope) ? "nan" : fmt::format("{:.3f}", f.slope),
                                    interval,
                                    f.method == "censored" ? "-" : std::isnan(f.r2) ? "nan" : fmt::format("{:.3f}", f.r2),
                                    std::to_string(f.n_used),
                                    nr,
                                    note};
    if (grouped) row.insert(row.begin() + 2, f.group.empty() ? "all runs" : f.group);
    rows.push_back(std::move(row));
  }
  return aligned_table(header, rows, right);
}

// The statistics of column `c` over the rows `rows` of one point. A hitting-time column with runs
// that did not reach (and did not diverge) gets Kaplan-Meier quantiles, those runs censored at their
// `steps`; otherwise plain quantiles of the non-empty cells.
ColumnStats column_stats(const Table& runs, const std::vector<std::size_t>& rows, const std::string& c) {
  const auto ci = static_cast<std::size_t>(runs.column_index(c));
  const int rc = runs.find_column("run");
  const int sc = runs.find_column("status");
  const int steps = runs.find_column("steps");
  ColumnStats st;
  st.column = c;
  st.hitting_time = is_hitting_time_column(c);
  st.total = static_cast<int>(rows.size());
  std::vector<double> values, times;
  std::vector<bool> reached;
  for (std::size_t r : rows) {
    const std::string run = rc >= 0 ? runs.rows[r][static_cast<std::size_t>(rc)] : std::to_string(r);
    const std::string where = fmt::format("runs table, run {}, column {}", run, c);
    const auto v = parse_number(runs.rows[r][ci], where);
    if (v) values.push_back(*v);
    if (!st.hitting_time || steps < 0) continue;
    if (!v && sc >= 0 && runs.rows[r][static_cast<std::size_t>(sc)] == "diverged") continue;
    const auto t = v ? v : parse_number(runs.rows[r][static_cast<std::size_t>(steps)],
                                        fmt::format("runs table, run {}, column steps", run));
    // A time of 0 (reached at the first record) is still a time; Kaplan-Meier needs t > 0, so it is
    // kept at the smallest positive double (the order of the times is all that matters).
    if (t) times.push_back(std::max(*t, std::numeric_limits<double>::min()));
    if (t) reached.push_back(v.has_value());
    if (t && !v) {
      ++st.censored;
      st.censored_at = std::isnan(st.censored_at) ? *t : std::max(st.censored_at, *t);
    }
  }
  st.count = static_cast<int>(values.size());
  st.kaplan_meier = st.censored > 0;
  if (st.kaplan_meier) {
    const KaplanMeierSummary km = kaplan_meier_summary(times, reached);
    st.median = km.median;
    st.q25 = km.q25;
    st.q75 = km.q75;
    // Kaplan-Meier's quantiles are event times: a time of 0 comes back as the stand-in above.
    for (double* q : {&st.median, &st.q25, &st.q75})
      if (*q == std::numeric_limits<double>::min()) *q = 0.0;
  } else {
    st.median = quantile(values, 0.5);
    st.q25 = quantile(values, 0.25);
    st.q75 = quantile(values, 0.75);
  }
  return st;
}

}  // namespace

Summary summarize_runs(const Table& runs, const std::vector<FitSpec>& fits, int bootstrap,
                       uint64_t rng_seed) {
  Summary summary;
  summary.swept_keys = swept_columns(runs);
  for (const auto& c : runs.columns)
    if (is_result_column(c)) summary.result_columns.push_back(c);

  const int pc = runs.column_index("point");
  const int sc = runs.find_column("status");

  // Rows of each point, in increasing point index (numeric when the cells are numbers).
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::size_t>> rows_of;
  for (std::size_t r = 0; r < runs.rows.size(); ++r) {
    const std::string& p = runs.rows[r][static_cast<std::size_t>(pc)];
    if (!rows_of.count(p)) order.push_back(p);
    rows_of[p].push_back(r);
  }
  std::stable_sort(order.begin(), order.end(), [](const std::string& a, const std::string& b) {
    double va = 0, vb = 0;
    const bool na = point_number(a, &va), nb = point_number(b, &vb);
    if (na && nb) return va < vb;
    return na && !nb;  // numbers first, then text in order of appearance
  });

  for (const auto& p : order) {
    const auto& rows = rows_of[p];
    PointSummary ps;
    ps.point = p;
    ps.runs = static_cast<int>(rows.size());
    for (const auto& k : summary.swept_keys)
      ps.values.emplace_back(
          k, runs.rows[rows.front()][static_cast<std::size_t>(runs.column_index(k))]);
    if (sc >= 0)
      for (std::size_t r : rows)
        if (runs.rows[r][static_cast<std::size_t>(sc)] == "diverged") ++ps.diverged;
    for (const auto& c : summary.result_columns) ps.columns.push_back(column_stats(runs, rows, c));
    summary.points.push_back(std::move(ps));
  }

  for (const auto& spec : fits)
    for (auto& f : fit_from_runs(runs, spec, bootstrap, rng_seed))
      summary.fits.push_back(std::move(f));
  return summary;
}

Table summary_table(const Summary& summary) {
  Table t;
  t.columns = {"point"};
  for (const auto& k : summary.swept_keys) t.columns.push_back(k);
  for (const char* c : {"runs", "diverged", "column", "n", "median", "q25", "q75", "censored", "estimator"})
    t.columns.push_back(c);
  for (const auto& p : summary.points) {
    for (const auto& c : p.columns) {
      std::vector<std::string> row = {p.point};
      for (const auto& kv : p.values) row.push_back(kv.second);
      row.push_back(std::to_string(p.runs));
      row.push_back(std::to_string(p.diverged));
      row.push_back(c.column);
      row.push_back(std::to_string(c.count));
      row.push_back(cell_number(c.median));
      row.push_back(cell_number(c.q25));
      row.push_back(cell_number(c.q75));
      row.push_back(std::to_string(c.censored));
      row.push_back(c.kaplan_meier ? "kaplan_meier" : "quantile");
      t.rows.push_back(std::move(row));
    }
  }
  return t;
}

Table fits_table(const std::vector<FitResult>& fits) {
  Table t;
  t.columns = {"x",
               "y",
               "by",
               "group",
               "slope",
               "slope_lo",
               "slope_hi",
               "intercept",
               "r2",
               "n_used",
               "n_not_reached",
               "n_excluded",
               "not_reached_by_x",
               "resampled",
               "bootstrap_used",
               "note",
               "method",
               "sigma",
               "n_censored",
               "censored_by_x",
               "n_diverged"};
  for (const auto& f : fits)
    t.rows.push_back({f.x, f.y, join(f.by, ";"), f.group, cell_number(f.slope),
                      cell_number(f.slope_lo), cell_number(f.slope_hi), cell_number(f.intercept),
                      cell_number(f.r2), std::to_string(f.n_used), std::to_string(f.n_not_reached),
                      std::to_string(f.n_excluded), by_x_text(f.not_reached_by_x, ":", ";"), f.resampled,
                      std::to_string(f.bootstrap_used), f.note, f.method, cell_number(f.sigma),
                      std::to_string(f.n_censored), by_x_text(f.censored_by_x, ":", ";"),
                      std::to_string(f.n_diverged)});
  return t;
}

std::vector<FitResult> fits_from_table(const Table& fits) {
  std::vector<FitResult> out;
  for (std::size_t r = 0; r < fits.rows.size(); ++r) {
    const std::string where = fmt::format("fits table, row {}", r + 1);
    auto num = [&](const char* c) { return number_or_nan(fits.cell(r, c), where + ", " + c); };
    auto count = [&](const char* c) {
      if (!fits.has_column(c)) return 0;
      double v = num(c);
      return std::isnan(v) ? 0 : static_cast<int>(v);
    };
    FitResult f;
    f.x = fits.cell(r, "x");
    f.y = fits.cell(r, "y");
    if (fits.has_column("by")) f.by = split_list(fits.cell(r, "by"), ';');
    if (fits.has_column("group")) f.group = fits.cell(r, "group");
    f.slope = num("slope");
    f.intercept = num("intercept");
    f.slope_lo = fits.has_column("slope_lo") ? num("slope_lo") : kNaN;
    f.slope_hi = fits.has_column("slope_hi") ? num("slope_hi") : kNaN;
    f.r2 = fits.has_column("r2") ? num("r2") : kNaN;
    f.n_used = count("n_used");
    f.n_not_reached = count("n_not_reached");
    f.n_excluded = count("n_excluded");
    if (fits.has_column("resampled")) f.resampled = fits.cell(r, "resampled");
    f.bootstrap_used = count("bootstrap_used");
    if (fits.has_column("note")) f.note = fits.cell(r, "note");
    if (fits.has_column("method")) f.method = fits.cell(r, "method");
    if (fits.has_column("sigma")) f.sigma = num("sigma");
    f.n_censored = count("n_censored");
    f.n_diverged = count("n_diverged");
    if (fits.has_column("not_reached_by_x"))
      f.not_reached_by_x = by_x_from_text(fits.cell(r, "not_reached_by_x"), where + ", not_reached_by_x");
    if (fits.has_column("censored_by_x"))
      f.censored_by_x = by_x_from_text(fits.cell(r, "censored_by_x"), where + ", censored_by_x");
    out.push_back(std::move(f));
  }
  return out;
}

std::string format_summary_table(const Summary& summary) {
  std::string out = points_table(summary);
  if (!summary.fits.empty())
    out +=
        "\nScaling fits (log y = intercept + slope * log x):\n\n" + fits_text_table(summary.fits);
  return out;
}

std::string summary_markdown(const Summary& summary) {
  int runs = 0;
  for (const auto& p : summary.points) runs += p.runs;
  std::string out = "# Study summary\n\n";
  out += fmt::format("{} runs at {} sweep point(s).\n\n", runs, summary.points.size());
  out += points_table(summary);
  out +=
      "\nEach cell is `median [q25, q75]` over the seeds of the point. Hitting times "
      "(`steps_to_*`) are followed by reached/runs. Where every run that did not diverge reached, "
      "they are quantiles of the hitting times; where some did not reach, the cell ends in KM: "
      "Kaplan-Meier quantiles with those runs right-censored at their steps (diverged runs left "
      "out), and `>N` for a quantile beyond every budget (N the largest).\n";
  if (!summary.fits.empty()) {
    out += "\n## Scaling fits\n\n";
    out +=
        "Method `censored` (the default): log y = intercept + slope log x + sigma eps fitted by "
        "maximum likelihood with runs that did not reach right-censored at their steps (not reached "
        "= censored runs, in the fit; diverged runs left out); the 95% interval is a percentile "
        "bootstrap of runs within each x. Method `least_squares`: log y on log x over the runs that "
        "reached only (biased low when some did not), the interval a bootstrap over seeds.";
    bool grouped = false;
    for (const auto& f : summary.fits) grouped = grouped || !f.group.empty();
    if (grouped)
      out +=
          " A fit with `by` is made once per combination of those keys' values (the group "
          "column); compare the groups' intervals.";
    out += "\n\n" + fits_text_table(summary.fits);
  }
  return out;
}

Summary write_study_summary(const std::string& dir, const std::vector<FitSpec>& fits, int bootstrap,
                            uint64_t rng_seed) {
  const Table runs = read_csv(dir + "/runs.csv");
  Summary summary = summarize_runs(runs, fits, bootstrap, rng_seed);
  write_file_atomic(dir + "/summary.csv", to_csv_text(summary_table(summary)));
  write_file_atomic(dir + "/fits.csv", to_csv_text(fits_table(summary.fits)));
  write_file_atomic(dir + "/summary.md", summary_markdown(summary));
  return summary;
}

}  // namespace study
}  // namespace lrlab
