// Resume after a crash in the middle of a live append of curve rows: the truncated last line of
// curves.csv is cut (check_finished_runs then drops the rows of unfinished runs, tested with it).

#include "study/results_folder.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "framework/atomic_file.h"
#include "tests/support/temp_dir.h"

using lrlab::testing::TempDir;

TEST_CASE("repair_truncated_last_line cuts a truncated last curves.csv line and keeps whole rows",
          "[results_folder][resume]") {
  const TempDir temp;
  const std::string& dir = temp.path;
  lrlab::write_file_atomic(dir + "/runs.csv", "run,seed\nr0,1\n");
  // r0 finished; r1's live rows were being appended when the process died mid-write.
  lrlab::write_file_atomic(dir + "/curves.csv", "run,step,metric,value\nr0,0,overlap,0.1\nr1,0,overlap,0.2\nr1,5,ov");
  lrlab::study::repair_truncated_last_line(dir + "/curves.csv");
  CHECK(lrlab::read_file_text(dir + "/curves.csv") == "run,step,metric,value\nr0,0,overlap,0.1\nr1,0,overlap,0.2\n");

  // A truncated line whose cells happen to parse is cut too (it lacks its line end).
  lrlab::write_file_atomic(dir + "/curves.csv", "run,step,metric,value\nr0,0,overlap,0.1\nr0,5,overlap,0.");
  lrlab::study::repair_truncated_last_line(dir + "/curves.csv");
  CHECK(lrlab::read_file_text(dir + "/curves.csv") == "run,step,metric,value\nr0,0,overlap,0.1\n");

  // Not even the header is whole: the file goes, and the next append writes the header again.
  lrlab::write_file_atomic(dir + "/curves.csv", "run,st");
  lrlab::study::repair_truncated_last_line(dir + "/curves.csv");
  CHECK_FALSE(std::filesystem::exists(dir + "/curves.csv"));

  // Whole files are left alone.
  lrlab::write_file_atomic(dir + "/curves.csv", "run,step,metric,value\nr0,0,overlap,0.1\n");
  lrlab::study::repair_truncated_last_line(dir + "/curves.csv");
  CHECK(lrlab::read_file_text(dir + "/curves.csv") == "run,step,metric,value\nr0,0,overlap,0.1\n");
}
