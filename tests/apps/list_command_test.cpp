// `lrlab list`: every option of every registered component has one-line help, the listing filters by
// kind or type and fits the width, and the README's option reference is the generated text.

#include <catch2/catch.hpp>

#include <set>
#include <sstream>
#include <string>

#include "apps/list_command.h"
#include "framework/config.h"
#include "study/group_runner.h"
#include "study/option_help.h"
#include "tests/apps/run_binary.h"
#include "tests/support/paths.h"

namespace {

/// The lines of `text`.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("every option of every registered component, built with its defaults, has help", "[list]") {
  const auto entries = lrlab::listed_entries("", true);
  std::set<std::string> kinds;
  int options = 0;
  for (const auto& e : entries) {
    INFO(e.kind << " " << e.key);
    kinds.insert(e.kind);
    CHECK(e.problem.empty());
    CHECK_FALSE(e.help.empty());
    for (const auto& o : e.options) {
      INFO("option " << o.key);
      CHECK_FALSE(o.help.empty());
      ++options;
    }
  }
  CHECK(kinds == std::set<std::string>{"activation", "base network", "teacher", "adapter", "trainer", "data source",
                                       "update rule", "schedule", "metric", "section"});
  CHECK(options > 100);
}

TEST_CASE("every key of a resolved config has help, whatever section it is in", "[list]") {
  // The sections reached only through nesting (adapter.inner, trainer.update, trainer.schedule, offline
  // data) and the top level, metrics and output, from the configs a user writes.
  for (const char* yaml :
       {"adapter: {type: linearized, inner: {type: lora, rank: 2}}\ntrainer: {type: offline_gd, update: {type: adam}, "
        "schedule: {type: cosine}}\nmetrics: {thresholds: {overlap: [0.5]}}",
        "base: {activation: {type: hermite, p: 2}}\ntrainer: {type: adamw, data: offline, schedule: {type: step}}",
        "trainer: {type: population_gd, schedule: {type: inverse_time}}\nadapter: {type: vera}"}) {
    lrlab::Config cfg = lrlab::Config::load_string(yaml, "t.yaml");
    lrlab::study::build_group({cfg});
    lrlab::study::read_output_options(cfg);
    const lrlab::Config resolved = cfg.resolved();
    int keys = 0;
    for (const auto& section : lrlab::study::option_sections(resolved)) {
      lrlab::ConfigValue map = resolved.value();
      std::istringstream parts(section.path);
      for (std::string part; std::getline(parts, part, '.');) map = map.at(part);
      for (const std::string& key : map.keys()) {
        INFO(yaml << "\n" << section.path << "." << key << " (" << section.kind << " " << section.type << ")");
        CHECK_FALSE(lrlab::study::section_option_help(section, key).empty());
        ++keys;
      }
    }
    CHECK(keys > 25);
  }
}

TEST_CASE("lrlab list filters by kind or type, and fits the width", "[list]") {
  const auto lora = lrlab::listed_entries("lora", true);
  REQUIRE(lora.size() == 1);
  CHECK(lora[0].kind == "adapter");
  std::set<std::string> option_keys;
  for (const auto& o : lora[0].options) option_keys.insert(o.key);
  CHECK(option_keys.count("rank"));
  CHECK(option_keys.count("alpha"));
  CHECK_FALSE(option_keys.count("type"));
  const auto adapters = lrlab::listed_entries("adapter", false);
  CHECK(adapters.size() >= 8);
  for (const auto& e : adapters) CHECK(e.kind == "adapter");
  CHECK(lrlab::listed_entries("update_rule", false).size() == 4);
  CHECK(lrlab::listed_entries("adam", false).size() == 2);  // the trainer preset and the update rule
  try {
    lrlab::listed_entries("lorra", false);
    FAIL("an unknown name must be an error");
  } catch (const lrlab::Error& e) {
    CHECK_THAT(e.what(), Catch::Matchers::Contains("did you mean 'lora'?"));
  }
  for (int width : {60, 100}) {
    const std::string text = lrlab::list_text(lrlab::listed_entries("", true), true, width);
    for (const auto& line : lines_of(text)) {
      INFO(width << ": " << line);
      // Only a single unbreakable word (a long default such as a list of metric names) may overflow.
      if (line.size() > static_cast<std::size_t>(width)) CHECK(line.find(' ', line.find_first_not_of(' ') + 30) == std::string::npos);
    }
  }
  // The binary: not a terminal, so 100 columns unless COLUMNS says otherwise.
  const auto r = lrlab::test::run_lrlab({"list", "schedule"}, lrlab::test::fresh_dir("list") + "/capture", 60);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Matchers::Contains("warmup: 0"));
  CHECK_THAT(r.out, Catch::Matchers::Contains("updates of linear warm-up"));
  CHECK(r.out.find("adapter") == std::string::npos);
}

TEST_CASE("the README's option reference is `lrlab list --markdown`", "[list][docs]") {
  const std::string readme = lrlab::test::slurp(std::string(LRLAB_SOURCE_DIR) + "/README.md");
  const std::string begin = "<!-- BEGIN lrlab list --markdown -->\n", end = "<!-- END lrlab list --markdown -->";
  const auto from = readme.find(begin), to = readme.find(end);
  REQUIRE(from != std::string::npos);
  REQUIRE(to != std::string::npos);
  const std::string section = readme.substr(from + begin.size(), to - from - begin.size());
  // On a mismatch: regenerate with scripts/update_readme_options.sh.
  CHECK(section == "\n" + lrlab::list_markdown(lrlab::listed_entries("", true)) + "\n");
}
