// Hydra habits: conflicting keys, `~key` deletion, `-m` multirun, `lrlab config`, a one-value sweep
// with a fit. Configs go through the same loading as the command line (load_with_overrides).

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/config_command.h"
#include "apps/multirun.h"
#include "framework/error.h"
#include "study/plan.h"
#include "study/runner.h"
#include "tests/apps/run_binary.h"
#include "tests/support/temp_dir.h"

namespace {

using lrlab::Config;
using lrlab::load_with_overrides;

// A small study with a step budget per dimension and a fit over a swept d.
const char* kStudy =
    "name: habits\n"
    "dtype: float64\n"
    "base: {d: 8, k: 2}\n"
    "teacher: {rank: 1, xi: 1.0}\n"
    "adapter: {type: rank1}\n"
    "trainer:\n"
    "  steps_per_d: 10\n"
    "  lr: 4.0\n"
    "  lr_scaling: inverse_d\n"
    "metrics: {names: [overlap], every: 8, thresholds: {overlap: [0.5]}}\n"
    "study:\n"
    "  sweep: {base.d: [8, 16]}\n"
    "  fit: {x: base.d, y: steps_to_overlap_0.5}\n";

/// Writes `text` as a config file in `dir` and returns its path.
std::string write_config(const lrlab::testing::TempDir& dir, const std::string& text, const std::string& name = "c.yaml") {
  const std::string path = dir.path + "/" + name;
  lrlab::test::write_text(path, text);
  return path;
}

/// The message of the lrlab::Error that `f` throws ("" when it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const lrlab::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("two keys that set the same thing are an error naming both", "[config_habits]") {
  lrlab::testing::TempDir dir;
  const std::string path = write_config(dir, kStudy);
  // The case: an override of steps next to the file's steps_per_d was silently ignored.
  const std::string message = error_of([&] { lrlab::study::validate_study(load_with_overrides(path, {"trainer.steps=2000"})); });
  INFO(message);
  CHECK_THAT(message, Catch::Matchers::Contains("trainer.steps and trainer.steps_per_d both set the step budget"));
  CHECK_THAT(message, Catch::Matchers::Contains("<override trainer.steps=2000>"));
  // Offline: n and n_per_d both set the training set size.
  const std::string offline = error_of([&] {
    lrlab::study::validate_study(load_with_overrides(path, {"trainer.type=offline_gd", "+trainer.n_per_d=4", "+trainer.n=100"}));
  });
  CHECK_THAT(offline, Catch::Matchers::Contains("trainer.n_per_d and trainer.n both set the training set size"));
  // steps_per_d: 0 means "use steps", so a resolved config (which holds both) reloads.
  CHECK(error_of([&] { lrlab::study::validate_study(load_with_overrides(path, {"trainer.steps_per_d=0", "trainer.steps=50"})); })
            .empty());
}

TEST_CASE("deleting a key with ~key.path, and an absent key named with the closest one", "[config_habits]") {
  lrlab::testing::TempDir dir;
  const std::string path = write_config(dir, kStudy);
  const Config root = load_with_overrides(path, {"~trainer.steps_per_d", "trainer.steps=50"});
  CHECK(root.value_text("trainer.steps_per_d").empty());
  CHECK(root.value_text("trainer.steps") == "50");
  CHECK(root.overrides() == std::vector<std::string>{"~trainer.steps_per_d", "+trainer.steps=50"});
  const std::string resolved = lrlab::resolved_config(root);
  INFO(resolved);
  CHECK_THAT(resolved, Catch::Matchers::Contains("steps: 50"));
  CHECK_THAT(resolved, Catch::Matchers::Contains("steps_per_d: 0"));
  // A sweep axis is one dotted key: ~study.sweep.base.d removes it.
  const Config unswept = load_with_overrides(path, {"~study.sweep.base.d", "~study.fit"});
  CHECK(lrlab::study::expand_study(unswept).runs.size() == 1);

  const std::string missing = error_of([&] { load_with_overrides(path, {"~trainer.step_per_d"}); });
  CHECK_THAT(missing, Catch::Matchers::Contains("<override ~trainer.step_per_d>: trainer.step_per_d: unknown key"));
  CHECK_THAT(missing, Catch::Matchers::Contains("did you mean 'steps_per_d'?"));
  CHECK_THAT(missing, Catch::Matchers::Contains("nothing to delete"));
  CHECK_THAT(error_of([&] { load_with_overrides(path, {"~trainer.lr=4"}); }),
             Catch::Matchers::Contains("a deletion takes no value: write '~trainer.lr'"));
}

TEST_CASE("multirun: -m key=a,b adds sweep axes (a grid with the file's axes), and an axis the file sweeps is refused", "[config_habits]") {
  lrlab::testing::TempDir dir;
  const std::string path = write_config(dir, kStudy);
  const Config root = lrlab::load_multirun(path, {"trainer.lr=1,2,4", "adapter.c=train,teacher", "+study.seeds=2"});
  const auto plan = lrlab::study::expand_study(root);
  CHECK(plan.points.size() == 2 * 3 * 2);
  CHECK(plan.runs.size() == 2 * 3 * 2 * 2);
  CHECK(plan.swept_keys == std::vector<std::string>{"base.d", "trainer.lr", "adapter.c"});
  const std::string twice = error_of([&] { lrlab::load_multirun(path, {"base.d=32,64"}); });
  CHECK_THAT(twice, Catch::Matchers::Contains("base.d: already swept by the study"));
  CHECK_THAT(twice, Catch::Matchers::Contains("~study.sweep.base.d"));
  // Deleting the file's axis first makes room for the new one.
  CHECK(lrlab::study::expand_study(lrlab::load_multirun(path, {"~study.sweep.base.d", "base.d=32,64,128"})).points.size() == 3);
}

TEST_CASE("lrlab config prints the first run's resolved config with the study section", "[config_habits]") {
  lrlab::testing::TempDir dir;
  const std::string path = write_config(dir, kStudy);
  const auto r = lrlab::test::run_lrlab({"config", path, "trainer.lr=2.5"}, dir.path + "/capture", 60);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const Config printed = Config::load_string(r.out, "printed");
  CHECK(printed.value_text("trainer.lr") == "2.5");
  CHECK(printed.value_text("base.d") == "8");                 // the first point of the sweep
  CHECK(printed.value_text("metrics.test_samples") == "1000");  // a default filled in
  CHECK(printed.value_text("output.dir") == "runs/habits");
  CHECK(printed.value_text("study.sweep").find("base.d") != std::string::npos);
  // The printed config is a valid config that plans the same study.
  CHECK(lrlab::study::expand_study(printed).runs.size() == 2);
}

TEST_CASE("a one-value sweep with a fit runs and reports the fit as skipped", "[config_habits]") {
  lrlab::testing::TempDir dir;
  const std::string path = write_config(dir, kStudy);
  const auto r = lrlab::test::run_lrlab({"run", path, "-m", "~study.sweep.base.d", "base.d=8", "--out", dir.path + "/out"},
                                        dir.path + "/capture", 120);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const std::string fits = lrlab::test::slurp(dir.path + "/out/fits.csv");
  CHECK_THAT(fits, Catch::Matchers::Contains("no fit"));
  CHECK_THAT(r.out, Catch::Matchers::Contains("no fit"));
}
