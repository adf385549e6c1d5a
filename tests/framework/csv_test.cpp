#include "framework/csv.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "framework/error.h"

using lrlab::Table;

TEST_CASE("csv round-trips quoting, commas, quotes and newlines", "[csv]") {
  Table t;
  t.columns = {"run", "note", "value"};
  t.rows = {{"p000_s00", "plain", "1.5"},
            {"p000_s01", "with, comma", ""},
            {"p001_s00", "say \"hi\"", "-2"},
            {"p001_s01", "two\nlines", " padded "}};
  const std::string text = lrlab::to_csv_text(t);
  CHECK(text.find("\"with, comma\"") != std::string::npos);
  CHECK(text.find("\"say \"\"hi\"\"\"") != std::string::npos);
  const Table back = lrlab::parse_csv(text);
  CHECK(back.columns == t.columns);
  CHECK(back.rows == t.rows);
}

TEST_CASE("csv reads CRLF line ends, a missing final line end and blank lines", "[csv]") {
  const Table t = lrlab::parse_csv("a,b\r\n1,2\r\n\r\n3,\"4\"");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0] == std::vector<std::string>{"1", "2"});
  CHECK(t.rows[1] == std::vector<std::string>{"3", "4"});
}

TEST_CASE("csv keeps a one-column row whose only cell is empty", "[csv]") {
  Table t;
  t.columns = {"only"};
  t.rows = {{""}, {"x"}};
  const Table back = lrlab::parse_csv(lrlab::to_csv_text(t));
  CHECK(back.rows == t.rows);
}

TEST_CASE("csv errors name the source and line", "[csv]") {
  CHECK_THROWS_WITH(lrlab::parse_csv("a,b\n1,2\n3\n", "runs.csv"),
                    Catch::Contains("runs.csv:3") && Catch::Contains("1 cells"));
  CHECK_THROWS_WITH(lrlab::parse_csv("a,b\n1,\"open\n", "runs.csv"),
                    Catch::Contains("runs.csv:2") && Catch::Contains("unterminated"));
  CHECK_THROWS_WITH(lrlab::parse_csv("a,b\n\"x\"y,2\n", "f.csv"),
                    Catch::Contains("after a closing quote"));
  CHECK_THROWS_WITH(lrlab::parse_csv("a,a\n", "f.csv"), Catch::Contains("duplicate column 'a'"));
  CHECK_THROWS_WITH(lrlab::parse_csv("", "f.csv"), Catch::Contains("empty CSV"));
  CHECK_THROWS_WITH(lrlab::read_csv("/nonexistent/runs.csv"),
                    Catch::Contains("/nonexistent/runs.csv"));
}

TEST_CASE("csv column lookup explains a missing column", "[csv]") {
  const Table t = lrlab::parse_csv("run,seed,final_overlap\nr,1,0.5\n");
  CHECK(t.column_index("seed") == 1);
  CHECK(t.find_column("nope") == -1);
  CHECK(t.cell(0, "final_overlap") == "0.5");
  CHECK_THROWS_WITH(t.column_index("final_overlop"),
                    Catch::Contains("final_overlop") &&
                        Catch::Contains("run, seed, final_overlap") &&
                        Catch::Contains("did you mean 'final_overlap'"));
}

TEST_CASE("csv numbers: empty is missing, text is an error", "[csv]") {
  CHECK_FALSE(lrlab::parse_number("").has_value());
  CHECK_FALSE(lrlab::parse_number("  ").has_value());
  CHECK(*lrlab::parse_number("1e3") == 1000.0);
  CHECK(*lrlab::parse_number(" -0.25 ") == -0.25);
  CHECK(std::isinf(*lrlab::parse_number("inf")));
  CHECK_THROWS_WITH(lrlab::parse_number("12abc", "runs.csv:4: column steps"),
                    Catch::Contains("runs.csv:4: column steps") && Catch::Contains("'12abc'"));
}
