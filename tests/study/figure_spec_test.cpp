#include "study/figure_spec.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "framework/config.h"
#include "framework/error.h"
#include "study/plan.h"

using lrlab::Config;
using lrlab::ConfigError;
using lrlab::study::expand_study;

namespace {

const char* kBase = R"(
base: {d: 32, k: 2, activation: relu, zero_base: false}
teacher: {xi: 1.0}
adapter: {type: rank1}
trainer: {lr: 0.1, steps: 10}
study:
  sweep: {base.d: [32, 64], base.zero_base: [false, true], adapter: [{type: rank1}, {type: lora}]}
)";

Config load(const std::string& figure) {
  return Config::load_string(std::string(kBase) + "  figure: " + figure + "\n", "study.yaml");
}

}  // namespace

TEST_CASE("study.figure: x, y, by, series and labels", "[study][plot][sweep]") {
  auto plan = expand_study(load("{x: base.d, y: steps_to_overlap_0.95, by: [base.zero_base, adapter], "
                                "series: {base.zero_base: [fine-tuning, GLM]}, title: Claim}"));
  REQUIRE(plan.figure);
  CHECK(plan.figure->x == "base.d");
  CHECK(plan.figure->y == std::vector<std::string>{"steps_to_overlap_0.95"});
  CHECK(plan.figure->by == std::vector<std::string>{"base.zero_base", "adapter"});
  // Names of values: false -> fine-tuning, true -> GLM (in sweep order).
  REQUIRE(plan.figure->names.count("base.zero_base") == 1);
  CHECK(plan.figure->names.at("base.zero_base") ==
        std::map<std::string, std::string>{{"false", "fine-tuning"}, {"true", "GLM"}});
  CHECK(plan.figure->n_series == 4);
  CHECK(plan.figure->title == "Claim");
  CHECK(plan.figure->xlabel.empty());

  // Two y columns by two keys: 2 x 4 series.
  plan = expand_study(load("{x: base.d, y: [steps_to_overlap_0.5, steps_to_overlap_0.95], "
                           "by: [base.zero_base, adapter], ylabel: steps, series: {y: [weak, strong]}}"));
  CHECK(plan.figure->n_series == 8);
  CHECK(plan.figure->names.at("y").at("steps_to_overlap_0.5") == "weak");
  CHECK(plan.figure->ylabel == "steps");

  // Curves: x = step, by defaults to every swept key.
  plan = expand_study(load("{x: step, y: population_loss}"));
  CHECK(plan.figure->by == std::vector<std::string>{"base.d", "base.zero_base", "adapter"});
  CHECK(plan.figure->n_series == 8);

  // No figure declared.
  CHECK_FALSE(expand_study(Config::load_string(kBase, "study.yaml")).figure);
}

TEST_CASE("study.figure errors are located and name the problem", "[study][plot][sweep]") {
  // Each figure with the parts its error message must contain.
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      // Unknown key: located at study.figure.<key>, lists the valid keys and the closest.
      {"{x: base.d, y: t, serie: [a]}",
       {"study.yaml:", "study.figure.serie", "valid keys: x, y, by, series", "did you mean 'series'"}},
      {"{x: base.dd, y: t}", {"study.figure.x", "neither step nor a swept key", "did you mean 'base.d'"}},
      {"{x: base.zero_base, y: t}", {"study.figure.x", "needs numbers"}},
      {"{x: base.d, y: t, by: teacher.xi}", {"study.figure.by", "'teacher.xi' is not a swept key"}},
      {"{x: base.d, y: t, by: base.d}", {"study.figure.by", "is the figure's x"}},
      // series: names per value of y or a by key; the wrong count lists the values.
      {"{x: base.d, y: t, by: base.zero_base, series: {base.zero_base: [a, b, c]}}",
       {"study.figure.series", "lists 3 name(s) but base.zero_base takes 2 value(s): false, true"}},
      {"{x: base.d, y: t, by: base.zero_base, series: {adapter: [a, b]}}",
       {"study.figure.series", "'adapter' is neither y nor a by key"}},
      {"{x: base.d, y: t, series: [a, b]}", {"study.figure.series must be a mapping"}},
      {"{x: base.d}", {"needs x", "and y"}},
      {"{x: base.d, y: [t, t]}", {"study.figure.y", "'t' is listed twice"}},
      {"{x: base.d, y: {a: 1}}", {"study.figure.y must be"}},
      {"[x]", {"study.figure", "must be a mapping"}},
  };
  for (const auto& [figure, parts] : cases) {
    INFO(figure);
    std::string message;
    try {
      expand_study(load(figure));
    } catch (const ConfigError& e) {
      message = e.what();
    }
    REQUIRE_FALSE(message.empty());
    for (const auto& part : parts) CHECK_THAT(message, Catch::Contains(part));
  }
}
