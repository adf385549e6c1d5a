#include "study/plan.h"

#include <catch2/catch.hpp>
#include <set>

#include "framework/config.h"
#include "framework/error.h"

using lrlab::Config;
using lrlab::ConfigError;
using lrlab::study::expand_study;
using lrlab::study::StudyPlan;

namespace {

const char* kBase = R"(
seed: 5
base: {d: 32, k: 2, activation: relu}
teacher: {xi: 1.0}
trainer: {lr: 0.1, steps: 10}
)";

Config load(const std::string& study) {
  return Config::load_string(std::string(kBase) + study, "study.yaml");
}

std::string value_of(const lrlab::study::SweepPoint& p, const std::string& key) {
  for (const auto& kv : p.values)
    if (kv.first == key) return kv.second;
  return "<absent>";
}

}  // namespace

TEST_CASE("grid x zip x seeds: counts, order and run ids", "[study][sweep]") {
  const Config root = load(R"(
study:
  sweep: {base.d: [64, 128, 256], teacher.xi: [0.5, 1.0]}
  zip: {trainer.lr: [0.1, 0.2], trainer.steps: [100, 200]}
  seeds: 3
)");
  const StudyPlan plan = expand_study(root);
  CHECK(plan.swept_keys ==
        std::vector<std::string>{"base.d", "teacher.xi", "trainer.lr", "trainer.steps"});
  REQUIRE(plan.points.size() == 12);
  REQUIRE(plan.runs.size() == 36);
  CHECK(plan.seeds == 3);
  // First sweep key slowest, zip positions fastest, zipped keys move together.
  const std::vector<std::vector<std::string>> expect = {
      {"64", "0.5", "0.1", "100"},  {"64", "0.5", "0.2", "200"},  {"64", "1.0", "0.1", "100"},
      {"64", "1.0", "0.2", "200"},  {"128", "0.5", "0.1", "100"}, {"128", "0.5", "0.2", "200"},
      {"128", "1.0", "0.1", "100"}, {"128", "1.0", "0.2", "200"}, {"256", "0.5", "0.1", "100"},
      {"256", "0.5", "0.2", "200"}, {"256", "1.0", "0.1", "100"}, {"256", "1.0", "0.2", "200"}};
  for (std::size_t i = 0; i < expect.size(); ++i) {
    INFO("point " << i);
    CHECK(plan.points[i].index == static_cast<int>(i));
    CHECK(value_of(plan.points[i], "base.d") == expect[i][0]);
    CHECK(value_of(plan.points[i], "teacher.xi") == expect[i][1]);
    CHECK(value_of(plan.points[i], "trainer.lr") == expect[i][2]);
    CHECK(value_of(plan.points[i], "trainer.steps") == expect[i][3]);
  }
  CHECK(plan.runs[0].id == "p000_s00");
  CHECK(plan.runs[1].id == "p000_s01");
  CHECK(plan.runs[3].id == "p001_s00");
  CHECK(plan.runs[35].id == "p011_s02");
  CHECK(plan.runs[4].seed == 6);  // seed 5 + index 1
  CHECK(plan.runs[4].seed_index == 1);
  CHECK(plan.runs[4].point == 1);
  std::set<std::string> ids;
  for (const auto& r : plan.runs) ids.insert(r.id);
  CHECK(ids.size() == plan.runs.size());
}

TEST_CASE("config_for_point sets the swept values and drops the study", "[study][sweep]") {
  const Config root = load("study: {sweep: {base.d: [64, 128]}, seeds: 2}\n");
  const StudyPlan plan = expand_study(root);
  const Config c = lrlab::study::config_for_point(root, plan.points[1]);
  CHECK(c.value_text("base.d") == "128");
  CHECK_FALSE(c.has("study"));
  CHECK(root.value_text("base.d") == "32");  // the root is untouched
  CHECK(root.has("study"));
  const Config r = lrlab::study::config_for_run(root, plan, plan.runs[3]);
  CHECK(r.value_text("seed") == "6");
  CHECK(r.value_text("base.d") == "128");
  CHECK(lrlab::study::point_label(plan.points[1]) == "base.d=128");
}

TEST_CASE("no study: one point, seeds from replicas", "[study][sweep]") {
  StudyPlan plan = expand_study(load(""));
  CHECK(plan.points.size() == 1);
  CHECK(plan.runs.size() == 1);
  CHECK(plan.swept_keys.empty());
  CHECK(lrlab::study::point_label(plan.points[0]) == "all runs");

  plan = expand_study(load("replicas: 4\n"));
  REQUIRE(plan.runs.size() == 4);
  CHECK(plan.runs[3].seed == 8);
  CHECK(plan.runs[3].id == "p000_s03");

  plan = expand_study(load("study: {}\n"));
  CHECK(plan.runs.size() == 1);
}

TEST_CASE("nested sweep keys are key paths written in parts", "[study][sweep]") {
  const StudyPlan plan = expand_study(load("study: {sweep: {base: {d: [64, 128], k: [1, 2]}}}\n"));
  CHECK(plan.swept_keys == std::vector<std::string>{"base.d", "base.k"});
  CHECK(plan.points.size() == 4);
  CHECK(value_of(plan.points[2], "base.d") == "128");
}

TEST_CASE("a sweep given as a command-line override", "[study][sweep]") {
  SECTION("added to a config without a study") {
    Config root = load("");
    root.apply_override("+study.sweep.base.d=[64,128]");
    const StudyPlan plan = expand_study(root);
    CHECK(plan.swept_keys == std::vector<std::string>{"base.d"});
    REQUIRE(plan.points.size() == 2);
    CHECK(value_of(plan.points[1], "base.d") == "128");
  }
  SECTION("replacing a nested sweep key") {
    Config root = load("study: {sweep: {base: {d: [32]}}}\n");
    root.apply_override("study.sweep.base.d=[64,128,256]");
    CHECK(expand_study(root).points.size() == 3);
  }
  SECTION("replacing the whole sweep section") {
    Config root = load("study: {sweep: {base.d: [32]}, seeds: 2}\n");
    root.apply_override("study.sweep={base.d: [64, 128], teacher.xi: [0.5, 1]}");
    root.apply_override("study.seeds=3");
    const StudyPlan plan = expand_study(root);
    CHECK(plan.points.size() == 4);
    CHECK(plan.runs.size() == 12);
  }
}

TEST_CASE("study keys count as read for strict key checking", "[study][sweep]") {
  const Config root = load(R"(
study:
  sweep: {base.d: [64, 128], teacher: {xi: [1, 2]}}
  zip: {trainer.lr: [[0.1], [0.2]]}
  seeds: 2
  fit: {x: base.d, y: steps_to_overlap_0.95, by: teacher.xi}
)");
  expand_study(root);
  CHECK_NOTHROW(root.child("study").finish_recursive());
}

TEST_CASE("an unknown swept key is a located error naming it and the closest key",
          "[study][sweep]") {
  const Config root = load("study:\n  sweep: {base.dd: [64, 128]}\n");
  CHECK_THROWS_AS(expand_study(root), ConfigError);
  CHECK_THROWS_WITH(expand_study(root), Catch::StartsWith("study.yaml:") &&
                                            Catch::Contains("study.sweep.base.dd") &&
                                            Catch::Contains("'base.dd' is not in the config") &&
                                            Catch::Contains("did you mean 'base.d'"));
  CHECK_THROWS_WITH(expand_study(load("study: {zip: {trainer.lr: [1], optimiser.beta: [2]}}\n")),
                    Catch::Contains("optimiser.beta"));
}

TEST_CASE("zip lists of different lengths are an error", "[study][sweep]") {
  const Config root =
      load("study:\n  zip: {trainer.lr: [0.1, 0.2], trainer.steps: [100, 200, 300]}\n");
  CHECK_THROWS_WITH(expand_study(root),
                    Catch::Contains("study.zip.trainer.steps") &&
                        Catch::Contains("has 3 values but 'trainer.lr' has 2") &&
                        Catch::Contains("same length"));
}

TEST_CASE("malformed study sections are located errors", "[study][sweep]") {
  CHECK_THROWS_WITH(expand_study(load("study: {sweep: {base.d: []}}\n")),
                    Catch::Contains("study.sweep.base.d") && Catch::Contains("empty list"));
  CHECK_THROWS_WITH(expand_study(load("study: {sweep: {base.d: 64}}\n")),
                    Catch::Contains("study.sweep.base.d") && Catch::Contains("must be a list"));
  CHECK_THROWS_WITH(expand_study(load("study: {sweep: [1, 2]}\n")),
                    Catch::Contains("study.sweep") && Catch::Contains("mapping"));
  CHECK_THROWS_WITH(expand_study(load("study: {sweep: {base.d: [1]}, zip: {base.d: [2]}}\n")),
                    Catch::Contains("study.zip.base.d") && Catch::Contains("varied twice"));
  CHECK_THROWS_WITH(expand_study(load("study: {sweep: {base: [{d: 1}], base.d: [2]}}\n")),
                    Catch::Contains("overlaps"));
  CHECK_THROWS_WITH(expand_study(load("study: {seeds: 0}\n")),
                    Catch::Contains("study.seeds") && Catch::Contains(">= 1"));
  CHECK_THROWS_WITH(
      expand_study(load("study: {seed: 3}\n")),
      Catch::Contains("unknown key 'seed'") && Catch::Contains("did you mean 'seeds'"));
  CHECK_THROWS_WITH(expand_study(load("study: {sweep: {seed: [1, 2]}}\n")),
                    Catch::Contains("study.seeds"));
  CHECK_THROWS_WITH(expand_study(load("replicas: 2\nstudy: {seeds: 3}\n")),
                    Catch::Contains("conflicts with replicas"));
}

TEST_CASE("fit specifications", "[study][sweep]") {
  StudyPlan plan = expand_study(
      load("study: {sweep: {base.d: [64, 128]}, fit: {x: base.d, y: steps_to_overlap_0.95}}\n"));
  REQUIRE(plan.fits.size() == 1);
  CHECK(plan.fits[0].x == "base.d");
  CHECK(plan.fits[0].y == "steps_to_overlap_0.95");

  plan =
      expand_study(load("study:\n  sweep: {base.d: [64, 128]}\n  fit:\n"
                        "    - {x: base.d, y: steps_to_overlap_0.5}\n"
                        "    - {x: base.d, y: steps_to_overlap_0.95}\n"));
  CHECK(plan.fits.size() == 2);

  CHECK_THROWS_WITH(
      expand_study(load("study: {sweep: {base.d: [64, 128]}, fit: {x: base.k, y: t}}\n")),
      Catch::Contains("study.fit") && Catch::Contains("not a swept key") &&
          Catch::Contains("did you mean 'base.d'"));
  CHECK_THROWS_WITH(
      expand_study(load(
          "study: {sweep: {base.activation: [relu, erf]}, fit: {x: base.activation, y: t}}\n")),
      Catch::Contains("positive numbers"));
  // One swept value with a fit is allowed: the study runs and the fit says it was skipped (summary tests).
  CHECK_NOTHROW(expand_study(load("study: {sweep: {base.d: [64]}, fit: {x: base.d, y: t}}\n")));

  // method: censored by default, least_squares when asked for, anything else an error naming both.
  CHECK(plan.fits[0].method == "censored");
  plan = expand_study(
      load("study: {sweep: {base.d: [64, 128]}, fit: {x: base.d, y: t, method: least_squares}}\n"));
  CHECK(plan.fits[0].method == "least_squares");
  CHECK_THROWS_WITH(
      expand_study(load("study: {sweep: {base.d: [64, 128]}, fit: {x: base.d, y: t, method: ols}}\n")),
      Catch::Contains("study.fit") && Catch::Contains("unknown method 'ols'") && Catch::Contains("censored") &&
          Catch::Contains("least_squares"));
}

TEST_CASE("fit by: one swept key or a list of them", "[study][sweep]") {
  const std::string sweep =
      "study:\n  sweep: {base.d: [32, 64], base.k: [1, 2], teacher.xi: [1, 2]}\n";
  StudyPlan plan = expand_study(load(sweep + "  fit: {x: base.d, y: t, by: base.k}\n"));
  REQUIRE(plan.fits.size() == 1);
  CHECK(plan.fits[0].by == std::vector<std::string>{"base.k"});

  plan = expand_study(load(sweep + "  fit: {x: base.d, y: t, by: [teacher.xi, base.k]}\n"));
  CHECK(plan.fits[0].by == std::vector<std::string>{"teacher.xi", "base.k"});

  plan = expand_study(load(sweep + "  fit:\n    - {x: base.d, y: t}\n"
                                   "    - {x: base.d, y: t, by: [base.k]}\n"));
  REQUIRE(plan.fits.size() == 2);
  CHECK(plan.fits[0].by.empty());
  CHECK(plan.fits[1].by == std::vector<std::string>{"base.k"});

  // A key that is not swept: located at study.fit.by, names the key and lists the swept keys.
  const Config bad = load(sweep + "  fit: {x: base.d, y: t, by: base.zero_base}\n");
  CHECK_THROWS_AS(expand_study(bad), ConfigError);
  CHECK_THROWS_WITH(expand_study(bad), Catch::StartsWith("study.yaml:") &&
                                           Catch::Contains("study.fit.by") &&
                                           Catch::Contains("'base.zero_base' is not a swept key") &&
                                           Catch::Contains("swept: base.d, base.k, teacher.xi"));
  // Close to a swept key: suggested.
  CHECK_THROWS_WITH(expand_study(load(sweep + "  fit: {x: base.d, y: t, by: [teacher.x]}\n")),
                    Catch::Contains("did you mean 'teacher.xi'"));
  // A key that exists in the config but is not swept.
  CHECK_THROWS_WITH(expand_study(load(sweep + "  fit: {x: base.d, y: t, by: trainer.lr}\n")),
                    Catch::Contains("'trainer.lr' is not a swept key"));
  // x itself, a repeated key, a nested list; in a list of fits the item is named.
  CHECK_THROWS_WITH(expand_study(load(sweep + "  fit: {x: base.d, y: t, by: base.d}\n")),
                    Catch::Contains("'base.d' is the fit's x") &&
                        Catch::Contains("swept: base.d, base.k, teacher.xi"));
  CHECK_THROWS_WITH(expand_study(load(sweep + "  fit: {x: base.d, y: t, by: [base.k, base.k]}\n")),
                    Catch::Contains("'base.k' is listed twice"));
  CHECK_THROWS_WITH(expand_study(load(sweep + "  fit: {x: base.d, y: t, by: {a: 1}}\n")),
                    Catch::Contains("fit.by must be a swept key or a list"));
  CHECK_THROWS_WITH(
      expand_study(
          load(sweep + "  fit:\n    - {x: base.d, y: t}\n    - {x: base.d, y: t, by: k}\n")),
      Catch::Contains("study.fit") && Catch::Contains("fit[1].by: 'k' is not a swept key"));
  CHECK_THROWS_WITH(expand_study(load(sweep + "  fit: {x: base.d, y: t, group: base.k}\n")),
                    Catch::Contains("unknown key 'group'") && Catch::Contains("x, y, by"));
}

TEST_CASE("a swept value keeps the location of its list element", "[study][sweep]") {
  // Line 8 of the document holds the sweep list; -3 is its second element (column 18).
  const Config root = load("study:\n  sweep:\n    base.d: [32, -3]\n");
  const StudyPlan plan = expand_study(root);
  REQUIRE(plan.points.size() == 2);
  REQUIRE(plan.points[1].sources.size() == 1);
  CHECK(plan.points[1].sources[0].location() == "study.yaml:8:18");
  const Config run = lrlab::study::config_for_run(root, plan, plan.runs[1]);
  CHECK(run.child("base").get<int>("d") == -3);
  // An error about the swept value points at the list element, not at `base: {d: 32}` (line 3).
  CHECK_THROWS_WITH(run.child("base").fail("d", "must be positive"),
                    Catch::StartsWith("study.yaml:8:18: base.d: must be positive"));
  // The first point's value is the first element; the untouched keys keep their own lines.
  const Config first = lrlab::study::config_for_point(root, plan.points[0]);
  CHECK_THROWS_WITH(first.child("base").fail("d", "x"), Catch::StartsWith("study.yaml:8:14: base.d: x"));
  CHECK_THROWS_WITH(first.child("base").fail("k", "x"), Catch::StartsWith("study.yaml:3:"));
}

TEST_CASE("a swept mapping value is copied as a tree, not as text", "[study][sweep]") {
  const Config root = load("study:\n  sweep:\n    base.activation: [{type: hermite, p: 3}, erf]\n");
  const StudyPlan plan = expand_study(root);
  REQUIRE(plan.points.size() == 2);
  CHECK(value_of(plan.points[0], "base.activation") == "{type: hermite, p: 3}");
  const Config run = lrlab::study::config_for_point(root, plan.points[0]);
  const Config activation = run.child("base").child("activation");
  CHECK(activation.get<std::string>("type") == "hermite");
  CHECK(activation.get<int>("p") == 3);
  CHECK_THROWS_WITH(activation.fail("p", "x"), Catch::StartsWith("study.yaml:8:"));
  // A point made by hand (no sources) still works from its text.
  lrlab::study::SweepPoint by_hand;
  by_hand.values = {{"base.d", "48"}};
  CHECK(lrlab::study::config_for_point(root, by_hand).child("base").get<int>("d") == 48);
}
