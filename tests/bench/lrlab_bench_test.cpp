// Smoke test of the benchmark executable (not the benchmark itself): one tiny configuration, the JSON
// report has the fields bench/README.md documents and sane values.

#include "tests/support/paths.h"
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#ifndef LRLAB_BINARY
#define LRLAB_BINARY ""
#endif

TEST_CASE("lrlab_bench runs one configuration and writes its JSON report", "[bench]") {
  namespace fs = std::filesystem;
  // The benchmark is built next to the app: build/apps/lrlab -> build/bench/lrlab_bench.
  const fs::path bench = fs::path(LRLAB_BINARY).parent_path().parent_path() / "bench" / "lrlab_bench";
  if (!fs::exists(bench)) {
    WARN("lrlab_bench not built (LRLAB_BUILD_BENCH=OFF?): " << bench);
    return;
  }
  const fs::path out = fs::temp_directory_path() / "lrlab_bench_test.json";
  fs::remove(out);
  const std::string cmd = "'" + bench.string() + "' --quick --no-python --min-time 0.01 --filter 'rank1/d100/k4/B1/R1$' --json '" +
                          out.string() + "' > /dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream in(out);
  REQUIRE(in);
  const nlohmann::json r = nlohmann::json::parse(in);
  CHECK(r["roofline"]["matmul_gflops"].get<double>() > 0.1);
  CHECK(r["roofline"]["lrlab_normal_ns"].get<double>() > 0);
  CHECK(r["roofline"]["best_normal_ns"].get<double>() <= r["roofline"]["aten_normal_ns"].get<double>());
  REQUIRE(r["configs"].size() == 1);
  const auto& c = r["configs"][0];
  CHECK(c["label"] == "rank1/d100/k4/B1/R1");
  CHECK(c["kernel"]["implementation"] == "kernel");
  CHECK(c["batched"]["implementation"].get<std::string>().rfind("batched", 0) == 0);
  for (const char* path : {"kernel", "batched", "autograd"}) {
    INFO(path);
    CHECK(c[path]["us_per_replica_step"].get<double>() > 0);
    CHECK(c[path]["finite"].get<bool>());
  }
  CHECK(c["flops"].get<double>() > 2 * 100 * 4);
  CHECK(c["samples"] == 100);
  CHECK(c["roofline"]["us"].get<double>() > 0);
  CHECK(c["peak_rss_mb"].get<double>() > 1);
  CHECK(r["targets"].size() >= 1);
  fs::remove(out);
}
