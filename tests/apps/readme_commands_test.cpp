// The README's commands run as shown: every `lrlab ...` line of a fenced block marked
// `<!-- readme-test: every line runs -->` runs from the repository root and exits 0.

#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "tests/apps/run_binary.h"
#include "tests/support/paths.h"

namespace {

/// Splits a command line as a POSIX shell does for words and single quotes (all the README uses).
std::vector<std::string> shell_words(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool quoted = false, any = false;
  for (char c : line) {
    if (c == '\'') {
      quoted = !quoted;
      any = true;
    } else if (c == ' ' && !quoted) {
      if (any) words.push_back(word);
      word.clear();
      any = false;
    } else {
      word += c;
      any = true;
    }
  }
  if (any) words.push_back(word);
  return words;
}

/// The `lrlab` lines of the README's marked blocks.
std::vector<std::string> marked_commands(const std::string& readme) {
  std::vector<std::string> out;
  const std::string marker = "<!-- readme-test: every line runs -->";
  for (auto at = readme.find(marker); at != std::string::npos; at = readme.find(marker, at + 1)) {
    const auto open = readme.find("```", at);
    const auto body = readme.find('\n', open) + 1;
    const auto close = readme.find("```", body);
    std::istringstream block(readme.substr(body, close - body));
    for (std::string line; std::getline(block, line);)
      if (line.rfind("lrlab ", 0) == 0) out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE("every command of the README's tested blocks runs as shown", "[docs][readme]") {
  const std::string source = LRLAB_SOURCE_DIR;
  const auto commands = marked_commands(lrlab::test::slurp(source + "/README.md"));
  REQUIRE(commands.size() >= 5);
  const std::string dir = lrlab::test::fresh_dir("readme_commands");
  for (const std::string& command : commands) {
    auto words = shell_words(command);
    words.erase(words.begin());  // "lrlab"
    // A run in the repository would write runs/: the README's tested runs are dry runs.
    if (words[0] == "run") REQUIRE(std::find(words.begin(), words.end(), "--dry-run") != words.end());
    const auto r = lrlab::test::run_lrlab(words, dir + "/capture", 120, source);
    INFO(command << "\nstdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 0);
    CHECK_FALSE(r.out.empty());
  }
}
