#include "study/plot_scales.h"

#include <catch2/catch.hpp>
#include <vector>

using lrlab::study::AxisScale;
using lrlab::study::data_axis;
using lrlab::study::linear_ticks;
using lrlab::study::log_ticks;
using lrlab::study::number_text;
using lrlab::study::step_axis;
using lrlab::study::swept_axis;
using lrlab::study::tick_texts;
using lrlab::study::use_log_scale;

TEST_CASE("log scales are chosen by the data's span", "[study][plot]") {
  CHECK(use_log_scale({0.01, 0.4}));       // a loss over 40x: log
  CHECK_FALSE(use_log_scale({1.0, 15.0}));  // less than 20x: linear
  CHECK_FALSE(use_log_scale({0.0, 1000.0}));  // a zero: linear
  CHECK_FALSE(use_log_scale({-1.0, 100.0}));
  CHECK_FALSE(use_log_scale({}));
  CHECK(data_axis({0.01, 0.05, 0.4}).log);
  CHECK_FALSE(data_axis({0.5, 0.9, 0.99}).log);
  // A power-law fit's axes are log-log whenever the values allow it: d = 32 .. 256 spans only 8x.
  CHECK_FALSE(swept_axis({32, 64, 128, 256}).log);
  CHECK(swept_axis({32, 64, 128, 256}, true).log);
  CHECK(use_log_scale({500, 3000}, true));
  CHECK_FALSE(use_log_scale({0, 3000}, true));
}

TEST_CASE("swept axes have a labelled tick at every swept value", "[study][plot]") {
  // d = 32, 64 (a 2x span: linear) and d = 32 .. 256 (8x: linear), d = 64 .. 1024 (16x), 32 .. 2048.
  const AxisScale two = swept_axis({64, 32, 64, 32});
  CHECK(two.ticks == std::vector<double>{32, 64});
  CHECK(tick_texts(two.ticks) == std::vector<std::string>{"32", "64"});
  const AxisScale wide = swept_axis({32, 64, 128, 256, 512, 1024, 2048});
  CHECK(wide.log);
  CHECK(wide.ticks == std::vector<double>{32, 64, 128, 256, 512, 1024, 2048});
  CHECK(wide.lo < 32);
  CHECK(wide.hi > 2048);
  // Too many values: thinned, keeping both ends.
  std::vector<double> many;
  for (int i = 1; i <= 40; ++i) many.push_back(i);
  const AxisScale thin = swept_axis(many, false, 12);
  CHECK(thin.ticks.size() == 12);
  CHECK(thin.ticks.front() == 1);
  CHECK(thin.ticks.back() == 40);
}

TEST_CASE("log and linear ticks", "[study][plot]") {
  CHECK(log_ticks(0.5, 2e4) == std::vector<double>{1, 10, 100, 1000, 10000});
  CHECK(log_ticks(30, 400) == std::vector<double>{50, 100, 200});
  // Many decades: every second power.
  const auto sparse = log_ticks(1e-16, 1);
  CHECK(sparse.size() <= 9);
  CHECK(sparse.size() >= 5);
  const auto unit = linear_ticks(0, 1);
  REQUIRE(unit.size() == 6);
  for (std::size_t i = 0; i < unit.size(); ++i) CHECK(unit[i] == Approx(0.2 * static_cast<double>(i)).margin(1e-12));
  const auto lin = linear_ticks(-0.05, 1.05);
  CHECK(lin.front() == 0);
  CHECK(lin.size() >= 4);
  CHECK(lin.size() <= 8);
}

TEST_CASE("one number format per axis", "[study][plot]") {
  CHECK(tick_texts({1000, 10000}) == std::vector<std::string>{"1000", "10000"});
  // One tick needs an exponent: every tick of the axis gets one (no "100000" beside "1e+06").
  CHECK(tick_texts({0, 1e4, 1e5, 1e6}) == std::vector<std::string>{"0", "1e4", "1e5", "1e6"});
  CHECK(tick_texts({1e-6, 1e-4, 0.01}) == std::vector<std::string>{"1e-6", "1e-4", "1e-2"});
  CHECK(tick_texts({0.2, 0.4}) == std::vector<std::string>{"0.2", "0.4"});
  CHECK(number_text(2.5e-3, true) == "2.5e-3");
  CHECK(number_text(1e-5) == "1e-5");
  CHECK(number_text(0.015625) == "0.0156");
  CHECK(number_text(1024) == "1024");
  CHECK(number_text(9.999e5) == "1e6");
}

TEST_CASE("step axes keep step 0", "[study][plot]") {
  const AxisScale log = step_axis({0, 1, 10, 100, 1000, 10000});
  CHECK(log.log1p);
  CHECK(log.lo == 0);
  CHECK(log.ticks.front() == 0);
  CHECK(log.ticks == std::vector<double>{0, 10, 100, 1000, 10000});
  const AxisScale lin = step_axis({0, 5, 10});
  CHECK_FALSE(lin.log1p);
  CHECK(lin.ticks.front() == 0);
}
