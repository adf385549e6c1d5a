// Bad input never crashes lrlab: a table of bad configs, bad overrides and bad paths, each run through
// the real `lrlab run` binary. Each must exit non-zero (not by a signal), name the file, line and key
// in its message, and leave no results folder behind (validation happens before the folder exists).

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/apps/run_binary.h"

namespace fs = std::filesystem;
using lrlab::test::run_lrlab;

namespace {

// A small valid study; line numbers matter (cases replace lines and expect them in messages).
const std::vector<std::string> kBase = {
    "name: tiny",                               // 1
    "seed: 0",                                  // 2
    "dtype: float64",                           // 3
    "base:",                                    // 4
    "  d: 8",                                   // 5
    "  k: 2",                                   // 6
    "teacher:",                                 // 7
    "  rank: 1",                                // 8
    "  xi: 1.0",                                // 9
    "adapter:",                                 // 10
    "  type: rank1",                            // 11
    "trainer:",                                 // 12
    "  steps: 20",                              // 13
    "  lr: 0.5",                                // 14
    "metrics:",                                 // 15
    "  names: [overlap, test_loss]",            // 16
    "  every: 10",                              // 17
    "  test_samples: 20",                       // 18
    "  thresholds: {overlap: [0.5]}",           // 19
    "output: {plots: false, save_tensors: false}",  // 20
};

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

/// The base config with line `line` (1-based) replaced by `text` (which may hold several lines).
std::string with_line(int line, const std::string& text) {
  auto lines = kBase;
  lines.at(static_cast<size_t>(line - 1)) = text;
  return join_lines(lines);
}

/// The base config with lines `line` and `line + 1` (1-based) replaced by `first` and `second`.
std::string with_two_lines(int line, const std::string& first, const std::string& second) {
  auto lines = kBase;
  lines.at(static_cast<size_t>(line - 1)) = first;
  lines.at(static_cast<size_t>(line)) = second;
  return join_lines(lines);
}

/// The base config with `text` appended.
std::string plus(const std::string& text) { return join_lines(kBase) + text; }

struct BadCase {
  std::string name;                   // also the config file's stem
  std::string text;                   // config file contents (kUseBase: the valid base config)
  std::vector<std::string> extra;     // overrides and options after the config path
  std::vector<std::string> expected;  // substrings stderr must hold (file:line, key)
};

const std::string kUseBase = "<base>";

std::string billion_laughs() {
  std::string s = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    s += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) s += (j ? ", *a" : "*a") + std::to_string(i - 1);
    s += "]\n";
  }
  return join_lines(kBase) + s;
}

std::vector<BadCase> bad_cases() {
  std::string garbage;
  for (int i = 0; i < 512; ++i) garbage += static_cast<char>((i * 7919 + 13) % 256);
  return {
      // Whole-file problems.
      {"empty", "", {}, {"empty.yaml", "empty"}},
      {"only_comment", "# nothing here\n", {}, {"only_comment.yaml", "empty"}},
      {"binary", garbage, {}, {"binary.yaml:"}},
      {"not_a_map", "- a\n- b\n", {}, {"not_a_map.yaml:1:"}},
      {"two_documents", join_lines(kBase) + "---\nname: other\n", {}, {"two_documents.yaml:22:", "more than one"}},
      // Malformed YAML.
      {"bad_indent", with_line(6, "  k: 2\n   x: ["), {}, {"bad_indent.yaml:7:", "malformed YAML"}},
      {"open_flow", with_line(16, "  names: [overlap, test_loss"), {}, {"open_flow.yaml:1", "malformed YAML"}},
      {"tab_indent", with_line(5, "\td: 8"), {}, {"tab_indent.yaml:5:"}},
      {"duplicate_key", with_line(5, "  d: 8\n  d: 9"), {}, {"duplicate_key.yaml:6:3:", "base.d", "duplicate"}},
      {"deep_nesting", plus("deep: " + std::string(5000, '[') + std::string(5000, ']') + "\n"), {},
       {"deep_nesting.yaml:21:"}},
      {"recursive_alias", plus("loop: &a [*a]\n"), {}, {"recursive_alias.yaml:21:", "loop", "nested deeper"}},
      {"recursive_merge", plus("loop: &m {<<: *m}\n"), {}, {"recursive_merge.yaml:21:", "loop"}},
      {"billion_laughs", billion_laughs(), {}, {"billion_laughs.yaml:2", "more than"}},
      // Wrong types.
      {"d_word", with_line(5, "  d: eight"), {}, {"d_word.yaml:5:6:", "base.d", "integer"}},
      {"lr_list", with_line(14, "  lr: [1, 2]"), {}, {"lr_list.yaml:14:7:", "trainer.lr", "number"}},
      {"base_scalar", with_line(4, "base: 3\nx_unused:"), {}, {"base_scalar.yaml:4:7:", "base"}},
      {"seed_word", with_line(2, "seed: abc"), {}, {"seed_word.yaml:2:7:", "seed"}},
      // Out-of-range values.
      {"d_zero", with_line(5, "  d: 0"), {}, {"d_zero.yaml:5:6:", "base.d"}},
      {"d_negative", with_line(5, "  d: -3"), {}, {"d_negative.yaml:5:6:", "base.d"}},
      {"d_enormous", with_line(5, "  d: 99999999999999999999999999"), {}, {"d_enormous.yaml:5:6:", "base.d"}},
      {"d_overflow_float", with_line(5, "  d: 1e400"), {}, {"d_overflow_float.yaml:5:6:", "base.d"}},
      {"k_too_large", with_line(6, "  k: 123456789"), {}, {"k_too_large.yaml:6:6:", "base.k"}},
      {"lr_negative", with_line(14, "  lr: -0.1"), {}, {"lr_negative.yaml:14:7:", "trainer.lr"}},
      {"lr_nan", with_line(14, "  lr: .nan"), {}, {"lr_nan.yaml:14:7:", "trainer.lr"}},
      {"lr_inf", with_line(14, "  lr: .inf"), {}, {"lr_inf.yaml:14:7:", "trainer.lr"}},
      {"steps_negative", with_line(13, "  steps: -5"), {}, {"steps_negative.yaml:13:10:", "trainer.steps"}},
      {"rank_too_large", with_line(8, "  rank: 3"), {}, {"rank_too_large.yaml:8:9:", "teacher.rank", "min(k, d)"}},
      {"xi_negative", with_line(9, "  xi: -1"), {}, {"xi_negative.yaml:9:7:", "teacher.xi"}},
      {"threshold_above_one", with_line(19, "  thresholds: {overlap: [1.5]}"), {},
       {"threshold_above_one.yaml:19:", "metrics.thresholds.overlap"}},
      {"threshold_negative", with_line(19, "  thresholds: {overlap: [-0.5]}"), {},
       {"threshold_negative.yaml:19:", "metrics.thresholds.overlap"}},
      {"success_no_operator", with_line(19, "  success: {overlap: \"0.95\"}"), {},
       {"success_no_operator.yaml:19:", "metrics.success.overlap", "'>= NUMBER'"}},
      {"success_bad_number", with_line(19, "  success: {overlap: \">= high\"}"), {},
       {"success_bad_number.yaml:19:", "metrics.success.overlap", "finite number"}},
      {"success_unrecorded", with_line(19, "  success: {overlap: \">= 0.9\", delta_error: \"<= 0.5\"}"), {},
       {"success_unrecorded.yaml:19:", "metrics.success.delta_error", "not a recorded metric"}},
      {"test_samples_zero", with_line(18, "  test_samples: 0"), {}, {"test_samples_zero.yaml:18:17:", "metrics.test_samples"}},
      // Unknown keys and types.
      {"unknown_top_key", plus("bogus: 1\n"), {}, {"unknown_top_key.yaml:21:1:", "bogus", "unknown key"}},
      {"unknown_nested_key", with_line(14, "  lr_rate: 0.5"), {},
       {"unknown_nested_key.yaml:14:3:", "trainer.lr_rate", "did you mean 'lr'"}},
      {"unknown_adapter", with_line(11, "  type: rank_one"), {}, {"unknown_adapter.yaml:11:9:", "adapter.type"}},
      {"unknown_activation", with_line(6, "  k: 2\n  activation: {type: reluu}"), {},
       {"unknown_activation.yaml:7:", "base.activation.type", "relu"}},
      {"unknown_metric", with_line(16, "  names: [overlapp]"), {}, {"unknown_metric.yaml:16:", "metrics.names", "overlap"}},
      {"unknown_dtype", with_line(3, "dtype: float16"), {}, {"unknown_dtype.yaml:3:8:", "dtype"}},
      {"unknown_device", with_line(3, "device: tpu"), {}, {"unknown_device.yaml:3:9:", "device"}},
      // Studies: errors of any run (not only the first of a group) come before the folder exists.
      {"zip_bad_second_lr", plus("study: {zip: {trainer.lr: [0.5, -1.0]}}\n"), {}, {"zip_bad_second_lr.yaml:", "trainer.lr"}},
      {"sweep_unknown_key", plus("study: {sweep: {base.dd: [8, 16]}}\n"), {},
       {"sweep_unknown_key.yaml:21:", "study.sweep.base.dd", "base.d"}},
      {"sweep_bad_second_d", plus("study: {sweep: {base.d: [8, 0]}}\n"), {}, {"sweep_bad_second_d.yaml:", "base.d"}},
      {"study_seeds_zero", plus("study: {seeds: 0}\n"), {}, {"study_seeds_zero.yaml:21:", "study.seeds"}},
      {"name_with_slash", with_line(1, "name: a/b"), {}, {"name_with_slash.yaml:1:7:", "name"}},
      // The results folder: one folder per study, inside runs/ by default.
      {"name_dotdot", with_line(1, "name: .."), {"--restart"}, {"name_dotdot.yaml:1:7:", "name", "single folder name"}},
      {"ov_name_dot", kUseBase, {"name=."}, {"<override name=.>", "name", "single folder name"}},
      {"sweep_name", plus("study: {sweep: {name: [a, b]}}\n"), {}, {"sweep_name.yaml:21:", "study.sweep.name", "cannot be swept"}},
      {"zip_output_dir", plus("study:\n  zip:\n    output.dir: [a, b]\n"), {"+output.dir=<file>/sub"},
       {"zip_output_dir.yaml:23:", "study.zip.output.dir", "cannot be swept"}},
      // Bad overrides (the message names the override and the key).
      {"ov_d_zero", kUseBase, {"base.d=0"}, {"<override base.d=0>", "base.d"}},
      {"ov_unknown_key", kUseBase, {"trainer.lrr=1"}, {"<override trainer.lrr=1>", "trainer.lrr", "did you mean 'lr'"}},
      {"ov_malformed_value", kUseBase, {"base.d=[1"}, {"<override base.d=[1>", "base.d", "malformed"}},
      {"ov_no_equals", kUseBase, {"base.d"}, {"<override base.d>", "'='"}},
      {"ov_empty_key", kUseBase, {"=3"}, {"<override =3>", "empty key"}},
      {"ov_empty_segment", kUseBase, {"trainer..lr=3"}, {"<override trainer..lr=3>", "trainer..lr"}},
      {"ov_add_existing", kUseBase, {"+trainer.lr=3"}, {"trainer.lr=3>", "trainer.lr", "already exists"}},
      {"ov_into_scalar", kUseBase, {"base.d.x=3"}, {"<override base.d.x=3>", "base.d"}},
      {"ov_wrong_type", kUseBase, {"trainer.lr=fast"}, {"<override trainer.lr=fast>", "trainer.lr", "number"}},
      {"ov_binary", kUseBase, {std::string("base.d=\x01\x02\x7f", 10)}, {"base.d"}},
      // Checked arithmetic (issue 11, case 4): products and sums of user numbers never wrap.
      {"steps_per_d_overflow", with_line(13, "  steps_per_d: 1e30"), {},
       {"steps_per_d_overflow.yaml:13:16:", "trainer.steps_per_d", "2^40"}},
      {"steps_per_d_over_cap", with_line(13, "  steps_per_d: 1e17"), {},
       {"steps_per_d_over_cap.yaml:13:16:", "trainer.steps_per_d", "2^40"}},
      {"seed_plus_replicas_wraps", with_line(2, "seed: 9223372036854775807\nreplicas: 3"), {},
       {"seed_plus_replicas_wraps.yaml:2:7:", "seed", "2^63-1", "9223372036854775805"}},
      {"offline_epochs_over_cap", with_line(13, "  type: offline_gd\n  n: 100000000\n  batch: 1\n  epochs: 100000"), {},
       {"offline_epochs_over_cap.yaml:16:11:", "trainer.epochs", "2^40"}},
      // Validation sees what the run would hit (case 5).
      {"metrics_duplicate", with_line(16, "  names: [overlap, overlap]"), {},
       {"metrics_duplicate.yaml:16:", "metrics.names", "'overlap' is listed twice"}},
      {"fit_missing_column", plus("study: {sweep: {base.d: [8, 16]}, fit: {x: base.d, y: steps_to_overlap_0.9}}\n"), {},
       {"fit_missing_column.yaml:21:", "study.fit", "steps_to_overlap_0.9", "not a column of runs.csv",
        "did you mean 'steps_to_overlap_0.5'"}},
      {"d_test_set_too_large", with_line(5, "  d: 10000000"), {"metrics.test_samples=10000"},
       {"more memory than is available", "test set (metrics.test_samples x d)", "--force"}},
      {"k_d_replicas_too_large", with_two_lines(5, "  d: 10000000", "  k: 1000000"), {},
       {"k_d_replicas_too_large.yaml:5:6:", "base.d", "W [R, k, d]", "more than this machine can allocate"}},
      // Bounded inputs (case 3): tensor files must be regular files.
      {"load_directory", with_line(11, "  type: rank1\n  load: /tmp"), {},
       {"load_directory.yaml:12:9:", "adapter.load", "/tmp: is a directory, not a .safetensors file"}},
      {"load_dev_zero", with_line(11, "  type: rank1\n  load: /dev/zero"), {},
       {"load_dev_zero.yaml:12:9:", "adapter.load", "is a character device"}},
      // Messages (case 6): a bad sweep element is located at its own line and column.
      {"sweep_element_located", plus("study:\n  sweep:\n    trainer.lr:\n      - 0.5\n      - -1.0\n"), {},
       {"sweep_element_located.yaml:25:9:", "trainer.lr"}},
      {"ov_unterminated_quote", kUseBase, {"name='tiny"}, {"name", "unterminated quoted string"}},
      {"ov_text_after_quote", kUseBase, {"name='tiny' x"}, {"name", "after the closing quote"}},
      {"ov_long_value", kUseBase, {"trainer.lr=" + std::string(100000, 'x')}, {"trainer.lr", "(100011 characters)"}},
      {"threads_zero", kUseBase, {"--threads", "0"}, {"--threads", "must be a whole number in 1..1024, got '0'"}},
      {"jobs_negative", kUseBase, {"--jobs=-1"}, {"--jobs", "must be a whole number in 0..1024"}},
      // Unreadable and unwritable paths (tests run as root: a path below a regular file is unwritable).
      {"out_under_file", kUseBase, {"--out", "<file>/sub"}, {"--out", "cannot create the results folder"}},
      {"dir_under_file", plus("# output below\n"), {"output.plots=false", "+output.dir=<file>/sub"},
       {"output.dir", "cannot create the results folder"}},
  };
}

}  // namespace

TEST_CASE("bad configs, overrides and paths give one located error and no results folder", "[bad_input]") {
  const std::string root = lrlab::test::fresh_dir("bad_input");
  const std::string regular_file = root + "/regular_file";
  lrlab::test::write_text(regular_file, "not a folder\n");
  const auto cases = bad_cases();
  REQUIRE(cases.size() >= 30);

  // Started a few at a time: each run is mostly LibTorch's start-up.
  constexpr size_t kParallel = 3;
  for (size_t begin = 0; begin < cases.size(); begin += kParallel) {
    std::vector<std::unique_ptr<lrlab::test::Child>> children;
    std::vector<std::string> outs;
    const size_t end = std::min(cases.size(), begin + kParallel);
    for (size_t i = begin; i < end; ++i) {
      const BadCase& c = cases[i];
      const std::string config = root + "/" + c.name + ".yaml";
      lrlab::test::write_text(config, c.text == kUseBase ? join_lines(kBase) : c.text);
      const std::string out = root + "/out_" + c.name;
      std::vector<std::string> args{"run", config};
      bool has_out = false;
      for (std::string a : c.extra) {
        const auto at = a.find("<file>");
        if (at != std::string::npos) a.replace(at, 6, regular_file);
        has_out = has_out || a == "--out" || a.find("output.dir=") != std::string::npos;
        args.push_back(a);
      }
      if (!has_out) args.insert(args.end(), {"--out", out});
      args.push_back("-q");
      outs.push_back(out);
      children.push_back(std::make_unique<lrlab::test::Child>(args, root + "/" + c.name));
    }
    for (size_t i = begin; i < end; ++i) {
      const BadCase& c = cases[i];
      const lrlab::test::ProcessResult r = children[i - begin]->wait(60);
      INFO("case " << c.name << "\nstderr: " << r.err << "\nstdout: " << r.out);
      CHECK_FALSE(r.timed_out);
      CHECK(r.signal == 0);
      CHECK(r.exit_code > 0);
      CHECK(r.exit_code < 128);
      for (const auto& e : c.expected) CHECK_THAT(r.err, Catch::Matchers::Contains(e));
      // One error, not a backtrace or a cascade, and no long echo of a value.
      CHECK(std::count(r.err.begin(), r.err.end(), '\n') <= 3);
      CHECK(r.err.size() < 2000);
      CHECK_THAT(r.err, !Catch::Matchers::Contains("Exception raised from"));
      CHECK_FALSE(fs::exists(outs[i - begin]));
    }
  }
  // The file the unwritable-path cases aimed below is untouched.
  CHECK(lrlab::test::slurp(regular_file) == "not a folder\n");
  fs::remove_all(root);
}

TEST_CASE("a missing or non-file config path is an error naming it", "[bad_input]") {
  const std::string root = lrlab::test::fresh_dir("bad_path");
  for (const std::string& path : {root + "/missing.yaml", root}) {
    const auto r = run_lrlab({"run", path, "--out", root + "/out", "-q"}, root + "/capture", 60);
    INFO("path " << path << "\nstderr: " << r.err);
    CHECK(r.signal == 0);
    CHECK(r.exit_code > 0);
    CHECK_THAT(r.err, Catch::Matchers::Contains(path));
    CHECK_FALSE(fs::exists(root + "/out"));
  }
  fs::remove_all(root);
}

TEST_CASE("a FIFO or /dev/zero as config or adapter.load is refused at once, with no folder", "[bad_input]") {
  const std::string root = lrlab::test::fresh_dir("bad_stream");
  const std::string fifo = root + "/pipe.yaml";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const std::string config = root + "/load_fifo.yaml";
  lrlab::test::write_text(config, with_line(11, "  type: rank1\n  load: " + fifo));
  struct PathCase {
    std::vector<std::string> args;
    std::vector<std::string> expected;
  };
  const std::vector<PathCase> cases = {
      {{"run", fifo}, {fifo, "is a FIFO (named pipe), not a configuration file"}},
      {{"validate", fifo}, {fifo, "FIFO"}},
      {{"run", "/dev/zero"}, {"/dev/zero", "is a character device, not a configuration file"}},
      {{"run", config}, {"load_fifo.yaml:12:9:", "adapter.load", "is a FIFO (named pipe), not a .safetensors file"}},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--out", root + "/out", "-q"});
    if (args[0] == "validate") args.resize(2);
    // A blocking open or read of the FIFO (no writer ever comes) would hit the timeout.
    const auto r = run_lrlab(args, root + "/capture", 120);
    INFO(args[0] << " " << args[1] << "\nstderr: " << r.err);
    CHECK_FALSE(r.timed_out);
    CHECK(r.signal == 0);
    CHECK(r.exit_code == 1);
    for (const auto& e : c.expected) CHECK_THAT(r.err, Catch::Matchers::Contains(e));
    CHECK_FALSE(fs::exists(root + "/out"));
  }
  fs::remove_all(root);
}

TEST_CASE("command-line mistakes get one clear line: unknown commands, ranges, non-results folders",
          "[bad_input]") {
  const std::string root = lrlab::test::fresh_dir("bad_cli");
  const std::string config = root + "/tiny.yaml";
  lrlab::test::write_text(config, join_lines(kBase));
  struct CliCase {
    std::vector<std::string> args;
    std::vector<std::string> expected;
  };
  const std::vector<CliCase> cases = {
      {{"frob"}, {"unknown command 'frob'; the commands are run, validate, list, config, export, plot, gradcheck, slurm, merge, summarize, status"}},
      {{"rn", config}, {"unknown command 'rn'", "did you mean 'run'?"}},
      {{"plot", root}, {root, "is not an lrlab results folder"}},
      {{"gradcheck", config, "--tolerance=-1"}, {"--tolerance", "must be a finite number > 0, got '-1'"}},
      {{"gradcheck", config, "--tolerance", "0"}, {"--tolerance", "must be a finite number > 0"}},
      {{"gradcheck", config, "--tolerance", "nan"}, {"--tolerance", "must be a finite number > 0"}},
      {{"gradcheck", config, "--fd-tolerance", "inf"}, {"--fd-tolerance", "must be a finite number > 0"}},
      {{"gradcheck", config, "--batch", "100000000"}, {"--batch", "must be a whole number in 1..1000000"}},
      {{"gradcheck", config, "--batch", "1000000", "base.d=10000000", "dtype=float64"},
       {"gradcheck: --replicas 2 x --batch 1000000 x d = 10000000", "more than"}},
  };
  for (const auto& c : cases) {
    const auto r = run_lrlab(c.args, root + "/capture", 60);
    INFO(c.args[0] << " " << (c.args.size() > 1 ? c.args.back() : "") << "\nstderr: " << r.err);
    CHECK(r.signal == 0);
    CHECK(r.exit_code > 0);
    CHECK(r.exit_code < 128);
    for (const auto& e : c.expected) CHECK_THAT(r.err, Catch::Matchers::Contains(e));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') <= 3);
    CHECK_THAT(r.err, !Catch::Matchers::Contains("Exception raised from"));
  }
  CHECK_FALSE(fs::exists(root + "/plots"));  // plot on a folder that is not a results folder creates nothing
  fs::remove_all(root);
}

TEST_CASE("A dry run shows the memory and disk estimates and refuses what will not fit unless --force",
          "[bad_input]") {
  const std::string root = lrlab::test::fresh_dir("estimate");
  const std::string config = root + "/tiny.yaml";
  lrlab::test::write_text(config, join_lines(kBase));
  auto r = run_lrlab({"run", config, "--out", root + "/out", "--dry-run"}, root + "/capture", 60);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Matchers::Contains("estimated peak memory"));
  CHECK_THAT(r.out, Catch::Matchers::Contains("results on disk"));
  CHECK_THAT(r.out, Catch::Matchers::Contains("free at " + root + "/out"));
  CHECK_THAT(r.out, Catch::Matchers::Matches("(.|\n)*group +0: .* memory, ~.* disk(.|\n)*"));
  // A test set of 1e4 x 1e7 float64 numbers (800 GB): the dry run prints the plan, then refuses.
  const std::string huge_d = "base.d=10000000", huge_test = "metrics.test_samples=10000";
  r = run_lrlab({"run", config, huge_d, huge_test, "--out", root + "/out", "--dry-run"}, root + "/capture", 60);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Matchers::Contains("estimated peak memory 80"));
  CHECK_THAT(r.err, Catch::Matchers::Contains("more memory than is available"));
  // --force accepts it (only the dry run, so nothing is allocated).
  r = run_lrlab({"run", config, huge_d, huge_test, "--out", root + "/out", "--dry-run", "--force"}, root + "/capture", 60);
  CHECK(r.exit_code == 0);
  // validate refuses it too, before anything runs.
  r = run_lrlab({"validate", config, huge_d, huge_test}, root + "/capture", 60);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Matchers::Contains("more memory than is available"));
  CHECK_FALSE(fs::exists(root + "/out"));
  fs::remove_all(root);
}

namespace {
// The number of bytes in "results on disk 6.51 MB (" of a dry run's estimate line (-1 when absent).
double estimated_disk_bytes(const std::string& out) {
  const auto at = out.find("results on disk ");
  if (at == std::string::npos) return -1;
  std::istringstream in(out.substr(at + 16));
  double value = 0;
  std::string unit;
  in >> value >> unit;
  const std::map<std::string, double> scale = {{"bytes", 1}, {"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}};
  return scale.count(unit) ? value * scale.at(unit) : -1;
}
}  // namespace

TEST_CASE("A resume's disk estimate counts the runs still to train and one copy of curves.csv", "[bad_input]") {
  const std::string root = lrlab::test::fresh_dir("estimate_resume");
  const std::string config = root + "/tiny.yaml";
  lrlab::test::write_text(config, join_lines(kBase));
  auto r = run_lrlab({"run", config, "--out", root + "/fresh", "--dry-run"}, root + "/capture", 60);
  const double fresh = estimated_disk_bytes(r.out);
  r = run_lrlab({"run", config, "--out", root + "/out", "-q"}, root + "/capture", 120);
  REQUIRE(r.exit_code == 0);
  r = run_lrlab({"run", config, "--out", root + "/out", "--dry-run"}, root + "/capture", 60);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  const double resumed = estimated_disk_bytes(r.out);
  const double curves = static_cast<double>(fs::file_size(root + "/out/curves.csv"));
  REQUIRE(fresh > 0);
  REQUIRE(curves > 0);
  // Every run is finished: only the final rewrite's copy of curves.csv (to the 3 digits printed).
  CHECK(resumed == Approx(curves).epsilon(0.01));
  CHECK(resumed < fresh);
  // --restart discards the runs, so it needs the whole study again.
  r = run_lrlab({"run", config, "--out", root + "/out", "--dry-run", "--restart"}, root + "/capture", 60);
  CHECK(estimated_disk_bytes(r.out) == Approx(fresh).epsilon(0.01));
  fs::remove_all(root);
}

TEST_CASE("SIGTERM stops planning a large study within a second and leaves no folder", "[bad_input]") {
  const std::string root = lrlab::test::fresh_dir("plan_interrupt");
  const std::string config = root + "/many.yaml";
  // 200000 runs of one point: building their configs takes many seconds.
  lrlab::test::write_text(config, with_line(2, "seed: 0\nreplicas: 200000"));
  lrlab::test::Child child({"run", config, "--out", root + "/out", "-q"}, root + "/capture");
  // Start-up (loading LibTorch) takes from 1 to 20 s on a loaded machine: wait until lrlab catches
  // SIGTERM (its handlers are installed just before the config is read), then let planning begin.
  // Only after the exec: between fork and exec the child still has this test's (Catch's) handlers.
  const auto catches_sigterm = [&] {
    const std::string proc = "/proc/" + std::to_string(child.pid());
    std::error_code error;
    const fs::path exe = fs::read_symlink(proc + "/exe", error);
    if (error || !fs::equivalent(exe, LRLAB_BINARY, error) || error) return 0ULL;
    std::ifstream status(proc + "/status");
    std::string line;
    while (std::getline(status, line))
      if (line.rfind("SigCgt:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> (SIGTERM - 1)) & 1;
    return 0ULL;
  };
  for (int i = 0; i < 1200 && !catches_sigterm() && !child.poll(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  REQUIRE_FALSE(child.poll());
  const auto sent = std::chrono::steady_clock::now();
  child.kill(SIGTERM);
  const lrlab::test::ProcessResult r = child.wait(30);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  INFO("stderr: " << r.err);
  CHECK(seconds < 1.5);
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK_FALSE(fs::exists(root + "/out"));
  fs::remove_all(root);
}
