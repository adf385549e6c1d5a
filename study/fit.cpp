#include "study/fit.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "framework/error.h"
#include "framework/strings.h"
#include "study/censored_fit.h"
#include "study/runs_table.h"

namespace lrlab {
namespace study {

namespace {

struct Line {
  double slope = kNaN;
  double intercept = kNaN;
  double r2 = kNaN;
};

// Ordinary least squares on (already logged) coordinates, picked by `index` (with repetitions).
// Centred sums keep it accurate when log x is far from zero.
Line least_squares(const std::vector<double>& lx, const std::vector<double>& ly,
                   const std::vector<std::size_t>& index) {
  Line line;
  const double n = static_cast<double>(index.size());
  if (index.size() < 2) return line;
  double mx = 0, my = 0;
  for (std::size_t i : index) {
    mx += lx[i];
    my += ly[i];
  }
  mx /= n;
  my /= n;
  double sxx = 0, sxy = 0, syy = 0;
  for (std::size_t i : index) {
    sxx += (lx[i] - mx) * (lx[i] - mx);
    sxy += (lx[i] - mx) * (ly[i] - my);
    syy += (ly[i] - my) * (ly[i] - my);
  }
  if (!(sxx > 0)) return line;  // a single distinct x: no slope
  line.slope = sxy / sxx;
  line.intercept = my - line.slope * mx;
  line.r2 = syy > 0 ? sxy * sxy / (sxx * syy) : 1.0;
  return line;
}

// Uniform index below n. Plain modulo rather than std::uniform_int_distribution, whose output
// differs between standard libraries; the bias is below 2^-50 for any realistic n.
std::size_t draw(std::mt19937_64& rng, std::size_t n) {
  return static_cast<std::size_t>(rng() % n);
}

}  // namespace

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  q = std::min(1.0, std::max(0.0, q));
  const double h = q * static_cast<double>(values.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (h - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

FitResult fit_power_law(const std::vector<double>& x, const std::vector<double>& y,
                        const std::vector<int>& seed_group, int bootstrap, uint64_t rng_seed) {
  check(x.size() == y.size(),
        fmt::format("power-law fit: {} x values but {} y values", x.size(), y.size()));
  check(seed_group.empty() || seed_group.size() == x.size(),
        fmt::format("power-law fit: {} seed groups for {} points", seed_group.size(), x.size()));
  check(bootstrap >= 0, fmt::format("power-law fit: bootstrap must be >= 0, got {}", bootstrap));
  std::vector<double> lx(x.size()), ly(y.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    check(std::isfinite(x[i]) && x[i] > 0,
          fmt::format("power-law fit: x must be positive and finite, got {} (point {})", x[i], i));
    check(std::isfinite(y[i]) && y[i] > 0,
          fmt::format("power-law fit: y must be positive and finite, got {} (point {})", y[i], i));
    lx[i] = std::log(x[i]);
    ly[i] = std::log(y[i]);
  }
  const std::set<double> distinct_x(x.begin(), x.end());
  check(
      distinct_x.size() >= 2,
      fmt::format("power-law fit: needs at least 2 distinct x values, got {}", distinct_x.size()));

  FitResult result;
  std::vector<std::size_t> all(x.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  const Line line = least_squares(lx, ly, all);
  result.slope = line.slope;
  result.intercept = line.intercept;
  result.r2 = line.r2;
  result.n_used = static_cast<int>(x.size());
  result.slope_lo = result.slope_hi = kNaN;

  // Resampling units: whole seeds when there are at least two, else points within each x.
  std::map<int, std::vector<std::size_t>> by_seed;
  for (std::size_t i = 0; i < seed_group.size(); ++i) by_seed[seed_group[i]].push_back(i);
  std::vector<std::vector<std::size_t>> units;
  bool stratified = false;
  if (by_seed.size() >= 2) {
    for (auto& kv : by_seed) units.push_back(std::move(kv.second));
    result.resampled = "seeds";
  } else {
    std::map<double, std::vector<std::size_t>> by_x;
    for (std::size_t i = 0; i < x.size(); ++i) by_x[x[i]].push_back(i);
    bool any_spread = false;
    for (auto& kv : by_x) {
      any_spread = any_spread || kv.second.size() >= 2;
      units.push_back(std::move(kv.second));
    }
    stratified = true;
    result.resampled = any_spread ? "points within x" : "none";
  }
  if (bootstrap == 0 || result.resampled == "none") return result;

  std::mt19937_64 rng(rng_seed);
  std::vector<double> slopes;
  slopes.reserve(static_cast<std::size_t>(bootstrap));
  std::vector<std::size_t> index;
  for (int b = 0; b < bootstrap; ++b) {
    index.clear();
    if (stratified) {
      for (const auto& stratum : units)
        for (std::size_t j = 0; j < stratum.size(); ++j)
          index.push_back(stratum[draw(rng, stratum.size())]);
    } else {
      for (std::size_t j = 0; j < units.size(); ++j) {
        const auto& unit = units[draw(rng, units.size())];
        index.insert(index.end(), unit.begin(), unit.end());
      }
    }
    // A resample can miss all but one x (seeds that reached at one x only): it has no slope.
    const Line l = least_squares(lx, ly, index);
    if (std::isfinite(l.slope)) slopes.push_back(l.slope);
  }
  result.bootstrap_used = static_cast<int>(slopes.size());
  if (!slopes.empty()) {
    result.slope_lo = quantile(slopes, 0.025);
    result.slope_hi = quantile(slopes, 0.975);
  }
  return result;
}

std::string fit_group_label(const Table& runs, const std::vector<std::string>& by,
                            std::size_t row) {
  std::string label;
  for (const auto& key : by) label += (label.empty() ? "" : ", ") + key + "=" + runs.cell(row, key);
  return label;
}

namespace {

// One row's x and y cells (y absent: not reached), parsed with errors that name the run and column.
struct RowCells {
  double x = kNaN;
  std::optional<double> y;
  std::string where;  // "runs table, run p000_s01"
};

RowCells read_row(const Table& runs, const FitSpec& spec, std::size_t r) {
  const auto& row = runs.rows[r];
  const int rc = runs.find_column("run");
  RowCells out;
  out.where = fmt::format("runs table, run {}", rc >= 0 ? row[static_cast<std::size_t>(rc)] : std::to_string(r));
  const auto xv = parse_number(row[static_cast<std::size_t>(runs.column_index(spec.x))], out.where + ", column " + spec.x);
  if (!xv) throw Error(fmt::format("{}: column {} is empty (it is the fit's x)", out.where, spec.x));
  out.x = *xv;
  out.y = parse_number(row[static_cast<std::size_t>(runs.column_index(spec.y))], out.where + ", column " + spec.y);
  return out;
}

bool loggable(double v) { return std::isfinite(v) && v > 0; }

// One least-squares power-law fit over the rows `rows` of `runs` (one group of fit_from_runs).
FitResult fit_rows(const Table& runs, const FitSpec& spec, const std::vector<std::size_t>& rows,
                   int bootstrap, uint64_t rng_seed) {
  const int sc = runs.find_column("seed");

  std::vector<double> xs, ys;
  std::vector<int> groups;
  std::map<std::string, int> group_of_seed;
  std::map<double, int> not_reached;
  int excluded = 0;
  for (std::size_t r : rows) {
    const RowCells cells = read_row(runs, spec, r);
    if (!cells.y) {
      ++not_reached[cells.x];
      continue;
    }
    if (!(loggable(*cells.y) && loggable(cells.x))) {
      ++excluded;
      continue;
    }
    xs.push_back(cells.x);
    ys.push_back(*cells.y);
    if (sc >= 0) {
      const std::string& seed = runs.rows[r][static_cast<std::size_t>(sc)];
      auto it = group_of_seed.emplace(seed, static_cast<int>(group_of_seed.size())).first;
      groups.push_back(it->second);
    }
  }

  FitResult result;
  const std::set<double> distinct_x(xs.begin(), xs.end());
  if (distinct_x.size() >= 2) {
    result = fit_power_law(xs, ys, groups, bootstrap, rng_seed);
  } else {
    result.slope = result.intercept = result.r2 = result.slope_lo = result.slope_hi = kNaN;
    result.n_used = static_cast<int>(xs.size());
    result.resampled = "none";
    result.note = fmt::format("no fit: runs reached {} at {} distinct {} value(s); a slope needs 2",
                              spec.y, distinct_x.size(), spec.x);
  }
  result.x = spec.x;
  result.y = spec.y;
  result.n_excluded = excluded;
  for (const auto& kv : not_reached) {
    result.not_reached_by_x.push_back(kv);
    result.n_not_reached += kv.second;
  }
  return result;
}

// One censored (log-normal AFT) fit over the rows `rows`: a run that did not reach is censored at
// its `steps` (the steps it trained: its budget, since an early-stopped run stops only once it has
// reached every threshold); a diverged run that had not reached is left out (it stopped for another
// reason, so its steps say nothing about when it would have reached); one that reached before it
// diverged keeps its observed hitting time.
FitResult fit_rows_censored(const Table& runs, const FitSpec& spec, const std::vector<std::size_t>& rows,
                            int bootstrap, uint64_t rng_seed) {
  const int status = runs.find_column("status");
  const int steps = runs.find_column("steps");
  std::vector<double> xs, ts;
  std::vector<bool> reached;
  int excluded = 0, diverged = 0;
  for (std::size_t r : rows) {
    const RowCells cells = read_row(runs, spec, r);
    std::optional<double> t = cells.y;
    if (!t && status >= 0 && runs.rows[r][static_cast<std::size_t>(status)] == "diverged") {
      ++diverged;
      continue;
    }
    if (!t) {
      if (steps < 0)
        throw Error(fmt::format("{}: a censored fit of {} needs the steps column (the censoring time of a run "
                                "that did not reach); use method: least_squares",
                                cells.where, spec.y));
      t = parse_number(runs.rows[r][static_cast<std::size_t>(steps)], cells.where + ", column steps");
      if (!t) throw Error(fmt::format("{}: column steps is empty (the censoring time)", cells.where));
    }
    if (!(loggable(*t) && loggable(cells.x))) {
      ++excluded;
      continue;
    }
    xs.push_back(cells.x);
    ts.push_back(*t);
    reached.push_back(cells.y.has_value());
  }
  const CensoredFit c = censored_aft_fit(xs, ts, reached, bootstrap, rng_seed);
  FitResult result;
  result.method = "censored";
  result.x = spec.x;
  result.y = spec.y;
  result.slope = c.slope;
  result.intercept = c.intercept;
  result.sigma = c.sigma;
  result.slope_lo = c.slope_lo;
  result.slope_hi = c.slope_hi;
  result.n_used = c.n_used;
  result.n_censored = result.n_not_reached = c.n_censored;
  result.censored_by_x = result.not_reached_by_x = c.censored_by_x;
  result.n_excluded = excluded;
  result.n_diverged = diverged;
  result.bootstrap_used = c.bootstrap_used;
  result.resampled = c.bootstrap_used > 0 ? "runs within x" : "none";
  result.note = c.note.empty() || std::isfinite(c.slope) ? c.note : "no fit: " + c.note;
  return result;
}

// Swept columns other than x and `by` that take more than one value at the same x among `rows`:
// the conditions a fit over these rows mixes. A key that varies only together with x (a zipped
// learning rate, say) is not listed.
std::vector<std::string> pooled_keys(const Table& runs, const FitSpec& spec,
                                     const std::vector<std::size_t>& rows) {
  std::vector<std::string> out;
  const auto xc = static_cast<std::size_t>(runs.column_index(spec.x));
  for (const auto& key : swept_columns(runs)) {
    if (key == spec.x || std::find(spec.by.begin(), spec.by.end(), key) != spec.by.end()) continue;
    const auto kc = static_cast<std::size_t>(runs.column_index(key));
    std::map<std::string, std::string> value_at_x;  // x cell -> first value of key seen there
    for (std::size_t r : rows) {
      const auto& row = runs.rows[r];
      auto it = value_at_x.emplace(row[xc], row[kc]).first;
      if (it->second != row[kc]) {
        out.push_back(key);
        break;
      }
    }
  }
  return out;
}

}  // namespace

std::vector<FitResult> fit_from_runs(const Table& runs, const FitSpec& spec, int bootstrap,
                                     uint64_t rng_seed) {
  runs.column_index(spec.x);  // a missing column is an error even for an empty table
  runs.column_index(spec.y);
  for (const auto& key : spec.by) runs.column_index(key);

  // Rows of each group, groups in order of first appearance.
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::size_t>> rows_of;
  if (spec.by.empty()) order.push_back("");
  for (std::size_t r = 0; r < runs.rows.size(); ++r) {
    const std::string label = fit_group_label(runs, spec.by, r);
    if (!rows_of.count(label) && !spec.by.empty()) order.push_back(label);
    rows_of[label].push_back(r);
  }

  std::vector<FitResult> out;
  for (const auto& label : order) {
    const std::vector<std::size_t>& rows = rows_of[label];
    FitResult result = spec.method == "least_squares" ? fit_rows(runs, spec, rows, bootstrap, rng_seed)
                                                      : fit_rows_censored(runs, spec, rows, bootstrap, rng_seed);
    result.by = spec.by;
    result.group = label;
    const std::vector<std::string> pooled = pooled_keys(runs, spec, rows);
    if (!pooled.empty())
      result.note += (result.note.empty() ? "" : "; ") +
                     fmt::format("pooled over other swept keys: {}", join(pooled));
    out.push_back(std::move(result));
  }
  return out;
}

}  // namespace study
}  // namespace lrlab
