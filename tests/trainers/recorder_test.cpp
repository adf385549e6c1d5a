// Hitting times in both directions and the joint success criterion, on values fed by hand.

#include <catch2/catch.hpp>

#include <string>

#include "models/metrics.h"
#include "models/success.h"
#include "trainers/recorder.h"

namespace {

lrlab::models::SuccessCondition condition(const std::string& metric, const std::string& text) {
  lrlab::models::SuccessCondition c;
  std::string why;
  REQUIRE(lrlab::models::parse_success_condition(metric, text, &c, &why));
  return c;
}

}  // namespace

TEST_CASE("thresholds: overlap is reached from below, errors and losses from above", "[recorder]") {
  lrlab::Recorder rec({{"a", 1}}, {{"overlap", {0.9}}, {"delta_error", {0.5}}, {"delta_error_sym", {0.5}},
                                   {"population_loss", {1e-3}}, {"test_loss", {1e-3}}},
                      lrlab::models::metric_higher_is_better);
  auto at = [&](int64_t step, double overlap, double error, double loss) {
    rec.record_all(step, {{"overlap", {overlap}}, {"delta_error", {error}}, {"delta_error_sym", {error}},
                          {"population_loss", {loss}}, {"test_loss", {loss}}});
  };
  at(0, 0.1, 2.0, 1.0);
  at(10, 0.95, 0.6, 1e-2);
  at(20, 0.5, 0.4, 1e-4);
  at(30, 0.99, 0.1, 1e-5);
  const auto& hits = rec.runs()[0].hits;
  CHECK(hits.at("overlap").at(0.9) == 10);
  CHECK(hits.at("delta_error").at(0.5) == 20);
  CHECK(hits.at("delta_error_sym").at(0.5) == 20);
  CHECK(hits.at("population_loss").at(1e-3) == 20);
  CHECK(hits.at("test_loss").at(1e-3) == 20);
  CHECK(rec.runs()[0].success_step == -1);  // no criterion set
  CHECK(rec.runs()[0].recorded_step == 30);
}

TEST_CASE("success needs every condition at one record, and early stopping waits for it", "[recorder]") {
  lrlab::Recorder rec({{"a", 1}, {"b", 2}}, {{"overlap", {0.9}}}, lrlab::models::metric_higher_is_better);
  rec.set_success({condition("overlap", ">= 0.9"), condition("population_loss", "<=1e-3")});
  rec.set_early_stop(true);
  // Run a crosses overlap 0.9 at 10 with its loss stalled; its loss reaches 1e-3 at 20 with the overlap
  // back below 0.9; both hold only at 30. Run b stalls: overlap 0.95, loss 1e-2 (the failure a
  // single threshold counts as success).
  rec.record_all(10, {{"overlap", {0.95, 0.95}}, {"population_loss", {1e-2, 1e-2}}});
  rec.record_all(20, {{"overlap", {0.85, 0.95}}, {"population_loss", {1e-4, 1e-2}}});
  CHECK(rec.active(0));  // reached its threshold, not the success criterion: keeps going
  rec.record_all(30, {{"overlap", {0.95, 0.95}}, {"population_loss", {1e-4, 1e-2}}});
  rec.finish(40);
  CHECK(rec.runs()[0].hits.at("overlap").at(0.9) == 10);
  CHECK(rec.runs()[0].success_step == 30);
  CHECK(rec.runs()[0].steps == 30);  // stopped there
  CHECK_FALSE(rec.active(0));
  CHECK(rec.runs()[1].hits.at("overlap").at(0.9) == 10);
  CHECK(rec.runs()[1].success_step == -1);
  CHECK(rec.runs()[1].steps == 40);
}

TEST_CASE("success conditions parse '>= x' and '<= x' and reject anything else", "[recorder]") {
  const auto c = condition("population_loss", " <= 1e-3 ");
  CHECK_FALSE(c.at_least);
  CHECK(c.bound == 1e-3);
  CHECK(c.holds(1e-3));
  CHECK_FALSE(c.holds(2e-3));
  CHECK(c.text() == "population_loss <= 0.001");
  lrlab::models::SuccessCondition out;
  std::string why;
  for (const char* bad : {"0.95", "> 0.95", ">= ", ">= 0.9x", ">= nan", "=> 1", ">= inf"}) {
    INFO(bad);
    CHECK_FALSE(lrlab::models::parse_success_condition("overlap", bad, &out, &why));
    CHECK_FALSE(why.empty());
  }
}
