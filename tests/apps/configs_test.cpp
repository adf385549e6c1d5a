// Every config shipped in configs/ validates, and every registered component builds from defaults.

#include "tests/support/paths.h"
#include <catch2/catch.hpp>

#include <filesystem>

#include "apps/commands.h"
#include "study/runner.h"

TEST_CASE("every file in configs/ validates", "[configs]") {
  int count = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(std::string(LRLAB_SOURCE_DIR) + "/configs")) {
    if (entry.path().extension() != ".yaml") continue;
    INFO(entry.path().string());
    lrlab::Config root = lrlab::load_with_overrides(entry.path().string(), {});
    CHECK_NOTHROW(lrlab::study::validate_study(root));
    ++count;
  }
  CHECK(count >= 5);  // quickstart, the paper studies, the examples
}

TEST_CASE("every registered component builds from its defaults", "[configs]") {
  const std::string listing = lrlab::list_components(/*with_options=*/true);
  INFO(listing);
  CHECK(listing.find("needs options") == std::string::npos);
  for (const char* key : {"relu", "hermite", "two_layer", "low_rank", "rank1", "lora", "full", "scratch", "online_sgd",
                          "overlap", "test_loss"})
    CHECK(listing.find(key) != std::string::npos);
}
