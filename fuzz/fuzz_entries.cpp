#include "fuzz/fuzz_entries.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "framework/config.h"
#include "framework/error.h"
#include "framework/safetensors.h"
#include "study/group_runner.h"
#include "study/grouping.h"
#include "study/plan.h"

namespace lrlab::fuzz {

namespace {

/// Largest d * k * runs of a group that the harness builds (building allocates [R, k, d] tensors).
constexpr long long kTinyGroup = 4096;
/// Most runs a study may expand to for the harness to form groups (each run clones the config).
constexpr size_t kMostRuns = 64;

[[noreturn]] void bug(const char* what, const std::exception* e) {
  std::fprintf(stderr, "lrlab fuzz: %s escaped: %s\n", what, e ? e->what() : "(not a std::exception)");
  std::abort();
}

/// True when a user-facing error names where the bad value is: a file (`fuzz.yaml:`, the temp file of
/// the command-line loader) or an override (`<override ...>`).
bool located(const std::string& message) {
  for (const char* source : {"fuzz.yaml", "base.yaml", "<override ", "/lrlab_fuzz_"})
    if (message.find(source) != std::string::npos) return true;
  return false;
}

/// Runs `body`; a located lrlab::Error is the expected outcome of bad input, anything else is a bug
/// (an error that does not say where the problem is included).
template <class F>
void expect_only_lrlab_errors(F&& body) {
  try {
    body();
  } catch (const Error& e) {
    if (!located(e.what())) bug("an unlocated lrlab error", &e);
  } catch (const std::exception& e) {
    bug("a non-lrlab exception", &e);
  } catch (...) {
    bug("a non-standard exception", nullptr);
  }
}

/// An integer value of `key` in `cfg`, or `fallback` when absent; -1 when not a plain integer.
long long int_value(const Config& cfg, const std::string& key, long long fallback) {
  const std::string text = cfg.value_text(key);
  if (text.empty()) return fallback;
  if (text.size() > 12 || text.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(text);
}

/// True when building the group is cheap: small shapes, and no file is read (adapter.load).
bool tiny(const std::vector<Config>& runs) {
  const Config& c = runs[0];
  const long long d = int_value(c, "base.d", 64), k = int_value(c, "base.k", 8);
  if (d < 0 || k < 0) return true;  // rejected by validation before any allocation
  if (!c.value_text("adapter.load").empty()) return false;
  return d * k * static_cast<long long>(runs.size()) <= kTinyGroup;
}

/// What `lrlab run` does with a config before the first training step.
void plan_and_build(const Config& root) {
  (void)root.resolved_yaml();
  (void)root.document_yaml();
  const study::StudyPlan plan = study::expand_study(root);
  if (plan.runs.size() > kMostRuns) return;
  for (const auto& group : study::group_runs(root, plan, 4)) {
    std::vector<Config> configs;
    for (int r : group.runs) configs.push_back(study::config_for_run(root, plan, plan.runs[r]));
    if (!tiny(configs)) continue;
    study::BuiltGroup built = study::build_group(configs);
    (void)built.config.resolved_yaml();
  }
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

/// A temporary file holding `text`, for inputs that must come from a file; removed when it goes.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text)
      : path((std::filesystem::temp_directory_path() / ("lrlab_fuzz_" + std::to_string(::getpid()) + ".yaml")).string()) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
  }
  ~TempFile() { std::remove(path.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
};

const char* const kBaseStudy =
    "name: fuzz\n"
    "seed: 0\n"
    "dtype: float64\n"
    "base: {d: 6, k: 2, activation: {type: relu}}\n"
    "teacher: {rank: 1, xi: 1.0}\n"
    "adapter: {type: rank1}\n"
    "trainer: {steps: 10, lr: 0.5}\n"
    "metrics: {names: [overlap, test_loss], every: 5, test_samples: 10, thresholds: {overlap: [0.5]}}\n"
    "output: {plots: false, save_tensors: false}\n"
    "study: {sweep: {base.d: [4, 6]}, zip: {trainer.lr: [0.1, 0.2]}, seeds: 2}\n";

}  // namespace

void config_one(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::string marker = "\n#%overrides\n";
  const size_t at = input.find(marker);
  const std::string yaml = at == std::string::npos ? input : input.substr(0, at + 1);
  std::vector<std::string> overrides;
  if (at != std::string::npos) overrides = lines_of(input.substr(at + marker.size()));
  expect_only_lrlab_errors([&] {
    Config root = Config::load_string(yaml, "fuzz.yaml");
    for (const auto& o : overrides) expect_only_lrlab_errors([&] { root.apply_override(o); });
    plan_and_build(root);
  });
  // The command line's own path (`lrlab run FILE OVERRIDES...`): from a file, overrides that may name
  // keys with defaults, defaults of swept keys filled in. It builds groups to find defaults, so only
  // for tiny base shapes.
  expect_only_lrlab_errors([&] {
    const Config probe = Config::load_string(yaml, "fuzz.yaml");
    if (!tiny({probe})) return;
    const TempFile file(yaml);
    Config root = load_with_overrides(file.path, overrides);
    plan_and_build(root);
  });
}

void override_one(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  expect_only_lrlab_errors([&] {
    const TempFile file(kBaseStudy);
    Config root = load_with_overrides(file.path, lines_of(input));
    plan_and_build(root);
  });
  expect_only_lrlab_errors([&] {
    Config root = Config::load_string(kBaseStudy, "base.yaml");
    for (const auto& line : lines_of(input)) {
      expect_only_lrlab_errors([&] { root.apply_override(line); });
      const size_t from = !line.empty() && line[0] == '+' ? 1 : 0;
      const size_t eq = line.find('=', from);
      const std::string key = line.substr(from, eq == std::string::npos ? std::string::npos : eq - from);
      expect_only_lrlab_errors([&] { (void)root.value_text(key); });
    }
    plan_and_build(root);
  });
}

void safetensors_one(const uint8_t* data, size_t size) {
  const TempFile file(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const TensorFile tensors = read_safetensors(file.path);
    for (const auto& [name, t] : tensors.tensors) (void)t.numel();
  } catch (const Error& e) {
    const std::string message = e.what();
    if (message.find(file.path) == std::string::npos) bug("an error not naming the file", &e);
    // Binary content of the file must never reach the terminal.
    for (char c : message)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) bug("an error echoing control bytes", &e);
  } catch (const std::exception& e) {
    bug("a non-lrlab exception", &e);
  } catch (...) {
    bug("a non-standard exception", nullptr);
  }
}

}  // namespace lrlab::fuzz
