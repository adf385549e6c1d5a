#pragma once
/// A small CSV table (RFC 4180), as the result files use it (the study layer gives the columns
/// their meaning).
///
/// Why our own: the files are small, all cells are kept as text (a hitting time that was not
/// reached is an empty cell, never a made-up number), and errors must name the file and
/// line.

#include <optional>
#include <string>
#include <vector>

namespace lrlab {

/// A CSV table held as text cells; `rows[i].size() == columns.size()` for every row.
struct Table {
  std::vector<std::string> columns;            ///< header, in file order
  std::vector<std::vector<std::string>> rows;  ///< data rows, in file order

  /// Index of `name` in `columns`, or -1 when absent.
  int find_column(const std::string& name) const;
  /// True when `name` is a column.
  bool has_column(const std::string& name) const;
  /// Index of `name`; throws lrlab::Error listing the columns (and the closest match) when absent.
  int column_index(const std::string& name) const;
  /// The cell of row `row` in column `name` (throws like column_index, or for a bad row index).
  const std::string& cell(std::size_t row, const std::string& name) const;
};

/// Parses CSV text: RFC 4180 quoting ("" inside quotes, separators and newlines inside quotes),
/// LF or CRLF line ends, an optional final line end. The first record is the header. Throws
/// lrlab::Error naming `source_name` and the line for an unterminated quote, text after a closing
/// quote, a row with the wrong number of cells, an empty or duplicate column name, or no header.
Table parse_csv(const std::string& text, const std::string& source_name = "<string>");
/// Reads and parses a CSV file (errors name the path; a missing file is an lrlab::Error).
Table read_csv(const std::string& path);
/// Parses only the first record of CSV text (the header); empty when the text is empty.
std::vector<std::string> parse_csv_header(const std::string& text,
                                          const std::string& source_name = "<string>");

/// One field, quoted when it holds a comma, a quote, a line end or leading/trailing spaces.
std::string csv_field(const std::string& text);
/// One record: fields joined by commas, terminated by "\n".
std::string csv_line(const std::vector<std::string>& fields);
/// The whole table as CSV text (header first, "\n" line ends).
std::string to_csv_text(const Table& table);

/// Parses a numeric cell. Empty (or only spaces) is "missing" and gives std::nullopt; `nan`, `inf`
/// and `-inf` are accepted; anything else is an lrlab::Error quoting the text and `where` (e.g.
/// "runs.csv:12: column steps").
std::optional<double> parse_number(const std::string& text, const std::string& where = "");

}  // namespace lrlab
