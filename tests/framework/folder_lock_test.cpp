#include "framework/folder_lock.h"

#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "framework/error.h"
#include "tests/support/temp_dir.h"

using lrlab::FolderLock;

TEST_CASE("FolderLock: a second holder is refused with the first one's host and pid", "[framework][lock]") {
  lrlab::testing::TempDir tmp;
  const std::string path = tmp.path + "/.lock";
  std::vector<std::string> warnings;
  auto warn = [&](const std::string& w) { warnings.push_back(w); };
  {
    FolderLock first(path, "results folder x", "lrlab run a.yaml", warn);
    const auto holder = FolderLock::read_holder(path);
    CHECK(holder.pid == static_cast<long>(::getpid()));
    CHECK(holder.command == "lrlab run a.yaml");
    // flock locks belong to the open file description: a second open in this process conflicts too.
    try {
      FolderLock second(path, "results folder x", "lrlab run b.yaml", warn);
      FAIL("the second lock was granted");
    } catch (const lrlab::Error& e) {
      const std::string what = e.what();
      CHECK(what.find("results folder x is in use by pid " + std::to_string(::getpid())) != std::string::npos);
      CHECK(what.find("lrlab run a.yaml") != std::string::npos);
    }
  }
  // Released: taken again without a stale-holder warning.
  FolderLock again(path, "results folder x", "", warn);
  CHECK(warnings.empty());
}

TEST_CASE("FolderLock: a holder that died is taken over with a warning", "[framework][lock]") {
  lrlab::testing::TempDir tmp;
  const std::string path = tmp.path + "/.lock";
  const pid_t child = ::fork();
  if (child == 0) {
    // The child takes the lock and dies without running destructors (like SIGKILL).
    try {
      new FolderLock(path, "results folder x", "child", nullptr);
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK(FolderLock::read_holder(path).pid == static_cast<long>(child));
  std::vector<std::string> warnings;
  FolderLock lock(path, "results folder x", "parent", [&](const std::string& w) { warnings.push_back(w); });
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("pid " + std::to_string(child)) != std::string::npos);
  CHECK(FolderLock::read_holder(path).pid == static_cast<long>(::getpid()));
}
