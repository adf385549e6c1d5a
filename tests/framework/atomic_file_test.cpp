#include "tests/support/temp_dir.h"
#include "framework/atomic_file.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "framework/csv.h"
#include "framework/error.h"

namespace {

using lrlab::testing::TempDir;

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  return out;
}

}  // namespace

TEST_CASE("write_file_atomic creates and replaces a file, leaving no temporary behind",
          "[atomic_file]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  const std::string path = dir + "/a.txt";
  lrlab::write_file_atomic(path, "first\n");
  CHECK(lrlab::read_file_text(path) == "first\n");
  lrlab::write_file_atomic(path, "second\n");
  CHECK(lrlab::read_file_text(path) == "second\n");
  CHECK(list_dir(dir) == std::vector<std::string>{"a.txt"});
}

TEST_CASE("write_file_atomic names the path and the reason when it cannot write", "[atomic_file]") {
  CHECK_THROWS_WITH(lrlab::write_file_atomic("/nonexistent_lrlab_dir/out.csv", "x"),
                    Catch::Contains("/nonexistent_lrlab_dir/out.csv") &&
                        Catch::Contains("No such file or directory") &&
                        Catch::Contains("does not exist"));
  if (::geteuid() == 0) {
    WARN("running as root: the permission-denied case is not testable");
    return;
  }
  const TempDir temp;
  const std::string& dir = temp.path;
  ::chmod(dir.c_str(), 0500);
  CHECK_THROWS_WITH(lrlab::write_file_atomic(dir + "/out.csv", "x"),
                    Catch::Contains(dir + "/out.csv") && Catch::Contains("Permission denied"));
  ::chmod(dir.c_str(), 0700);
}

TEST_CASE("append_csv_rows_atomic creates, appends and keeps the file valid", "[atomic_file]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  const std::string path = dir + "/runs.csv";
  const std::vector<std::string> header = {"run", "note", "steps_to_overlap_0.95"};
  lrlab::append_csv_rows_atomic(path, header, {{"p000_s00", "a, b", "120"}});
  lrlab::append_csv_rows_atomic(path, header,
                                {{"p000_s01", "two\nlines", ""}, {"p001_s00", "", "7"}});
  lrlab::append_csv_rows_atomic(path, header, {});
  const lrlab::Table t = lrlab::read_csv(path);
  CHECK(t.columns == header);
  REQUIRE(t.rows.size() == 3);
  CHECK(t.rows[0][1] == "a, b");
  CHECK(t.rows[1][1] == "two\nlines");
  CHECK(t.rows[1][2].empty());
  CHECK(t.rows[2][0] == "p001_s00");
  CHECK(list_dir(dir) == std::vector<std::string>{"runs.csv"});
}

TEST_CASE("append_csv_rows_atomic rejects a different header or a short row, file untouched",
          "[atomic_file]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  const std::string path = dir + "/runs.csv";
  lrlab::append_csv_rows_atomic(path, {"run", "seed"}, {{"r", "1"}});
  const std::string before = lrlab::read_file_text(path);
  CHECK_THROWS_WITH(
      lrlab::append_csv_rows_atomic(path, {"run", "point"}, {{"r", "0"}}),
      Catch::Contains(path) && Catch::Contains("[run,seed]") && Catch::Contains("[run,point]"));
  CHECK_THROWS_WITH(lrlab::append_csv_rows_atomic(path, {"run", "seed"}, {{"r"}}),
                    Catch::Contains("1 cells"));
  CHECK(lrlab::read_file_text(path) == before);
}

TEST_CASE("append_csv_rows_atomic completes a file whose last line lacks its line end",
          "[atomic_file]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  const std::string path = dir + "/curves.csv";
  lrlab::write_file_atomic(path, "run,step\nr,0");
  lrlab::append_csv_rows_atomic(path, {"run", "step"}, {{"r", "1"}});
  const lrlab::Table t = lrlab::read_csv(path);
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[1][1] == "1");
}

TEST_CASE("append_csv_rows appends whole rows in place, checks the header, never creates a folder",
          "[atomic_file]") {
  const TempDir temp;
  const std::string path = temp.path + "/c.csv";
  lrlab::append_csv_rows(path, {"run", "value"}, {{"a", "1"}});
  CHECK(lrlab::read_file_text(path) == "run,value\na,1\n");
  struct stat before {};
  REQUIRE(::stat(path.c_str(), &before) == 0);
  lrlab::append_csv_rows(path, {"run", "value"}, {{"b", "2"}, {"c, d", "3"}});
  CHECK(lrlab::read_file_text(path) == "run,value\na,1\nb,2\n\"c, d\",3\n");
  struct stat after {};
  REQUIRE(::stat(path.c_str(), &after) == 0);
  CHECK(after.st_ino == before.st_ino);  // the same file, appended to (a tail -f keeps reading it)
  lrlab::append_csv_rows(path, {"run", "value"}, {});
  CHECK(lrlab::parse_csv(lrlab::read_file_text(path)).rows.size() == 3);
  CHECK_THROWS_WITH(lrlab::append_csv_rows(path, {"run", "other"}, {{"e", "4"}}),
                    Catch::Matchers::Contains("its header is"));
  CHECK_THROWS_WITH(lrlab::append_csv_rows(path, {"run", "value"}, {{"e"}}), Catch::Matchers::Contains("row 0 has 1"));
  CHECK(lrlab::parse_csv(lrlab::read_file_text(path)).rows.size() == 3);
  CHECK_THROWS_WITH(lrlab::append_csv_rows(temp.path + "/gone/c.csv", {"run"}, {{"a"}}),
                    Catch::Matchers::Contains("does not exist"));
  CHECK_FALSE(std::filesystem::exists(temp.path + "/gone"));
  // An empty file gets its header.
  lrlab::write_file_atomic(temp.path + "/e.csv", "");
  lrlab::append_csv_rows(temp.path + "/e.csv", {"x"}, {{"1"}});
  CHECK(lrlab::read_file_text(temp.path + "/e.csv") == "x\n1\n");
}
