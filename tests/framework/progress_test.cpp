// StatusDisplay: a terminal block redrawn in place, one log line at most every 30 s, nothing when
// quiet. Time comes from an injected clock.

#include "framework/progress.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

/// A display writing into `out`, with its clock at `*now`.
lrlab::StatusDisplay display(lrlab::StatusDisplay::Mode mode, std::vector<std::string>& out, const double* now) {
  return lrlab::StatusDisplay(mode, [&out](const std::string& text) { out.push_back(text); },
                              [now] { return *now; });
}

}  // namespace

TEST_CASE("StatusDisplay in a log writes one line at most every 30 s, none in the first 30 s", "[progress]") {
  double now = 100;
  std::vector<std::string> out;
  auto d = display(lrlab::StatusDisplay::Mode::kLog, out, &now);
  // Called often (every 0.25 s, as the scheduler's ticker does) for 100 s.
  std::vector<double> times;
  for (int i = 0; i <= 400; ++i) {
    now = 100 + 0.25 * i;
    const size_t before = out.size();
    d.show({"runs 1/4", "  group 2/4: step 10/20"}, i % 7 == 0);  // force is for terminals only
    if (out.size() > before) times.push_back(now - 100);
  }
  REQUIRE(times == std::vector<double>{30, 60, 90});
  CHECK(out[0] == "runs 1/4 |   group 2/4: step 10/20\n");
  d.clear();  // nothing to erase in a log
  CHECK(out.size() == 3);
}

TEST_CASE("StatusDisplay on a terminal redraws its block in place, at most every 0.2 s unless forced",
          "[progress]") {
  double now = 0;
  std::vector<std::string> out;
  auto d = display(lrlab::StatusDisplay::Mode::kTerminal, out, &now);
  d.show({"a", "b"});
  REQUIRE(out.size() == 1);
  CHECK(out[0] == "\r\033[Ja\nb\n");
  now = 0.1;
  d.show({"a2", "b2"});
  CHECK(out.size() == 1);  // too soon
  d.show({"a2", "b2", "c2"}, true);
  REQUIRE(out.size() == 2);
  CHECK(out[1] == "\033[2A\r\033[Ja2\nb2\nc2\n");  // up over the two lines drawn, erase, draw three
  d.clear();
  REQUIRE(out.size() == 3);
  CHECK(out[2] == "\033[3A\r\033[J");
  d.clear();  // nothing drawn: nothing to erase
  CHECK(out.size() == 3);
  now = 0.5;
  d.show({"x"});
  CHECK(out.back() == "\r\033[Jx\n");
}

TEST_CASE("StatusDisplay writes nothing when off (--quiet)", "[progress]") {
  double now = 0;
  std::vector<std::string> out;
  auto d = display(lrlab::StatusDisplay::Mode::kOff, out, &now);
  for (int i = 0; i < 100; ++i) {
    now = i * 10.0;
    d.show({"a"}, true);
  }
  d.clear();
  CHECK(out.empty());
  CHECK(lrlab::StatusDisplay::for_stderr(true) == lrlab::StatusDisplay::Mode::kOff);
}
