#include "study/gnuplot_script.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "framework/atomic_file.h"
#include "framework/error.h"
#include "framework/strings.h"

namespace lrlab {
namespace study {

namespace {

// Colour-blind-friendly categorical palette (matplotlib's tab10).
const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
// gnuplot's five built-in dash types, then custom patterns (dash, gap, ...).
const char* const kDashTypes[kDistinctStyles] = {"1", "2", "3", "4", "5", "(12,4,2,4,2,4)", "(2,6)", "(16,6)"};
// Filled circle, filled square, filled diamond, filled triangle down, filled pentagon, open
// circle, open square, open diamond: none is the censored marker (open triangle up, 8).
const int kPointTypes[kDistinctStyles] = {7, 5, 13, 11, 15, 6, 4, 12};

// True when the image at `path` is whole: gnuplot exits 0 on a full disk and leaves images empty or
// cut short, so each format's trailer is checked (PNG's IEND chunk, PDF's %%EOF, SVG's </svg>).
bool image_complete(const std::string& path, const std::string& ext) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char tail[64] = {};
  if (std::fseek(f, -static_cast<long>(sizeof tail), SEEK_END) != 0) std::fseek(f, 0, SEEK_SET);
  const size_t n = std::fread(tail, 1, sizeof tail, f);
  std::fclose(f);
  const std::string end(tail, n);
  if (ext == ".png") return end.size() >= 8 && end.compare(end.size() - 8, 8, "IEND\xAE\x42\x60\x82") == 0;
  if (ext == ".pdf") return end.find("%%EOF") != std::string::npos;
  return end.find("</svg>") != std::string::npos;
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

// True when `list` (gnuplot's `set terminal` output) names the terminal `t` as a word.
bool has_terminal(const std::string& list, const std::string& t) {
  std::size_t pos = 0;
  while ((pos = list.find(t, pos)) != std::string::npos) {
    const bool start = pos == 0 || list[pos - 1] == ' ' || list[pos - 1] == '\n';
    const std::size_t end = pos + t.size();
    if (start && end < list.size() && (list[end] == ' ' || list[end] == '\t')) return true;
    pos = end;
  }
  return false;
}

}  // namespace

SeriesStyle series_style(std::size_t i) {
  const std::size_t k = i % kDistinctStyles;
  return SeriesStyle{kPalette[i % (sizeof kPalette / sizeof kPalette[0])], kDashTypes[k], kPointTypes[k]};
}

std::string gp_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string safe_name(const std::string& s) {
  std::string out;
  for (char c : s)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
  return out.empty() ? "unnamed" : out;
}

GnuplotRenderer::GnuplotRenderer(const std::string& plots_dir, const PlotOptions& options, PlotReport& report)
    : plots_(plots_dir), options_(options), report_(report) {
  if (options.render) {
    program_ = find_program(options.gnuplot);
    if (program_.empty())
      report_.warnings.push_back(fmt::format(
          "gnuplot not found ('{}'); wrote the data and scripts only. Install it (Debian: "
          "apt install gnuplot-nox) and run `cd {} && gnuplot NAME.gp`",
          options.gnuplot, plots_));
  }
  if (!program_.empty()) {
    std::string list;
    run_program(program_, {"-e", "set terminal"}, ".", list);
    // Prefer cairo's antialiased PNG; plain libgd `png` where gnuplot was built without cairo.
    if (!has_terminal(list, "pngcairo")) raster_ = has_terminal(list, "png") ? "png" : "";
    report_.terminal = raster_;
    if (raster_.empty())
      report_.warnings.push_back("gnuplot has neither the pngcairo nor the png terminal; PNG files will be missing");
    svg_ = has_terminal(list, "svg");
    if (!svg_) report_.warnings.push_back("gnuplot has no svg terminal; SVG files will be missing");
    pdf_ = has_terminal(list, "pdfcairo");
    if (!pdf_) report_.warnings.push_back("gnuplot has no pdfcairo terminal; PDF files will be missing");
  }
  if (::mkdir(plots_.c_str(), 0755) != 0 && errno != EEXIST)
    throw Error(fmt::format("cannot create folder '{}': {}", plots_, std::strerror(errno)));
}

std::string GnuplotRenderer::header(const std::string& base, const FigureText& text) const {
  std::string gp = text.comment;
  if (!gp.empty() && gp.back() != '\n') gp += '\n';
  gp += fmt::format("# Re-render: cd into this folder, then `gnuplot {}.gp`.\n", base);
  // The first output is the PNG; without a raster terminal the plot still goes to SVG and PDF.
  const std::string raster = raster_.empty() ? "svg" : raster_;
  gp += fmt::format("set terminal {} size {},{} noenhanced font 'sans,10'\nset output {}\n", raster,
                    options_.width, options_.height, gp_quote(base + (raster_.empty() ? ".svg" : ".png")));
  gp += "set encoding utf8\n";
  if (!text.title.empty()) gp += fmt::format("set title {}\n", gp_quote(text.title));
  gp += fmt::format("set xlabel {}\nset ylabel {}\n", gp_quote(text.xlabel), gp_quote(text.ylabel));
  // The legend goes below the plot: it never hides data, and long series names do not squeeze it.
  gp += "set grid\nset key below center Left reverse\n";
  return gp;
}

std::string GnuplotRenderer::footer(const std::string& base) const {
  std::string gp;
  if (svg_ && !raster_.empty())
    gp += fmt::format("\n# The same plot as SVG.\nset terminal svg size {},{} dynamic noenhanced font 'sans,10'\n"
                      "set output {}\nreplot\n",
                      options_.width, options_.height, gp_quote(base + ".svg"));
  // A vector PDF for papers: 5 in wide at the default 900 px, a standard font (Helvetica metrics).
  if (pdf_)
    gp += fmt::format("\n# The same plot as PDF (vector).\nset terminal pdfcairo size {:.2f}in,{:.2f}in noenhanced "
                      "font 'Helvetica,9'\nset output {}\nreplot\n",
                      options_.width / 180.0, options_.height / 180.0, gp_quote(base + ".pdf"));
  return gp + "unset output\n";
}

void GnuplotRenderer::add(const std::string& base, const std::string& dat, const std::string& gp) {
  write_file_atomic(plots_ + "/" + base + ".dat", dat);
  report_.files.push_back(plots_ + "/" + base + ".dat");
  write_file_atomic(plots_ + "/" + base + ".gp", gp);
  report_.files.push_back(plots_ + "/" + base + ".gp");
  queued_.push_back(base);
}

void GnuplotRenderer::render() {
  if (program_.empty()) return;
  for (const auto& base : queued_) {
    // Stale images of an earlier rendering must not count as made by this one.
    for (const char* ext : {".png", ".svg", ".pdf"}) ::unlink((plots_ + "/" + base + ext).c_str());
    std::string output;
    const int rc = run_program(program_, {base + ".gp"}, plots_, output);
    output = trim(output);
    std::vector<std::string> missing;
    // The images this gnuplot can make (the others were already warned about once).
    const bool expected[] = {!raster_.empty(), svg_ || raster_.empty(), pdf_};
    int e = 0;
    for (const char* ext : {".png", ".svg", ".pdf"}) {
      const std::string image = plots_ + "/" + base + ext;
      if (image_complete(image, ext)) {
        report_.files.push_back(image);
      } else {
        // A full disk leaves them empty or cut short, with exit 0: remove them, so that the folder
        // never holds a broken image, and report them.
        ::unlink(image.c_str());  // nothing to do when it is missing
        missing.push_back(base + ext);
        if (expected[e]) report_.failed.push_back(image);
      }
      ++e;
    }
    std::string what = output.empty() ? "no message" : output;
    if (!missing.empty()) what += "; missing: " + join(missing);
    if (rc != 0)
      report_.warnings.push_back(fmt::format("gnuplot failed on {}/{}.gp (exit {}): {}", plots_, base, rc, what));
    else if (!output.empty())
      report_.warnings.push_back(fmt::format("gnuplot on {}/{}.gp: {}", plots_, base, output));
  }
  queued_.clear();
  if (!report_.failed.empty())
    report_.warnings.push_back(fmt::format("{} plot image(s) missing, empty or cut short (full disk?), not kept: {}; re-render with "
                                           "`lrlab plot {}`",
                                           report_.failed.size(), join(report_.failed),
                                           plots_.substr(0, plots_.rfind('/'))));
}

}  // namespace study
}  // namespace lrlab
