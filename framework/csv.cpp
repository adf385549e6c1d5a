#include "framework/csv.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "framework/config.h"
#include "framework/error.h"

namespace lrlab {

namespace {

// Incremental RFC 4180 reader. Kept as one small state machine so that the header-only read
// (used by the atomic appender on large files) and the full read share their quoting rules.
class CsvReader {
 public:
  CsvReader(const std::string& text, const std::string& source) : text_(text), source_(source) {}

  // Reads the next record into `fields`; false at the end of the text.
  bool next(std::vector<std::string>& fields) {
    fields.clear();
    if (pos_ >= text_.size()) return false;
    record_line_ = line_;
    std::size_t record_start = pos_;
    std::string field;
    bool quoted = false;      // inside a quoted field
    bool was_quoted = false;  // current field was quoted (only separators/line ends may follow)
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (quoted) {
        if (c == '"') {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
            field += '"';
            pos_ += 2;
            continue;
          }
          quoted = false;
          ++pos_;
          continue;
        }
        if (c == '\n') ++line_;
        field += c;
        ++pos_;
        continue;
      }
      if (c == ',') {
        fields.push_back(std::move(field));
        field.clear();
        was_quoted = false;
        ++pos_;
        continue;
      }
      if (c == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
        ++pos_;
        continue;
      }
      if (c == '\n') {
        blank_ =
            fields.empty() && field.empty() && !was_quoted &&
            (pos_ == record_start || (pos_ == record_start + 1 && text_[record_start] == '\r'));
        ++pos_;
        ++line_;
        fields.push_back(std::move(field));
        return true;
      }
      if (c == '"') {
        if (!field.empty() || was_quoted)
          fail("a quote inside an unquoted field (quote the field)");
        quoted = true;
        was_quoted = true;
        ++pos_;
        continue;
      }
      if (was_quoted) fail("text after a closing quote");
      field += c;
      ++pos_;
    }
    if (quoted) {
      line_ = record_line_;
      fail("unterminated quoted field");
    }
    blank_ = fields.empty() && field.empty() && !was_quoted;
    fields.push_back(std::move(field));
    return true;
  }

  // True when the last record was an empty line (skipped: we always quote a lone empty field).
  bool blank() const { return blank_; }

  int record_line() const { return record_line_; }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw Error(fmt::format("{}:{}: malformed CSV: {}", source_, line_, message));
  }

  const std::string& text_;
  const std::string& source_;
  std::size_t pos_ = 0;
  int line_ = 1;
  int record_line_ = 1;
  bool blank_ = false;
};

}  // namespace

int Table::find_column(const std::string& name) const {
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return static_cast<int>(i);
  return -1;
}

bool Table::has_column(const std::string& name) const { return find_column(name) >= 0; }

int Table::column_index(const std::string& name) const {
  int i = find_column(name);
  if (i >= 0) return i;
  std::string known;
  for (const auto& c : columns) known += (known.empty() ? "" : ", ") + c;
  std::string message = fmt::format("no column '{}' in table (columns: {})", name, known);
  std::string near = closest_match(name, columns);
  if (!near.empty()) message += fmt::format("; did you mean '{}'?", near);
  throw Error(message);
}

const std::string& Table::cell(std::size_t row, const std::string& name) const {
  int c = column_index(name);
  if (row >= rows.size())
    throw Error(fmt::format("row {} out of range (table has {} rows)", row, rows.size()));
  return rows[row][static_cast<std::size_t>(c)];
}

Table parse_csv(const std::string& text, const std::string& source_name) {
  CsvReader reader(text, source_name);
  Table table;
  std::vector<std::string> fields;
  if (!reader.next(fields)) throw Error(source_name + ": empty CSV file (no header)");
  std::set<std::string> seen;
  for (const auto& f : fields) {
    if (f.empty()) throw Error(fmt::format("{}:1: empty column name in CSV header", source_name));
    if (!seen.insert(f).second)
      throw Error(fmt::format("{}:1: duplicate column '{}' in CSV header", source_name, f));
  }
  table.columns = fields;
  while (reader.next(fields)) {
    // Blank lines (e.g. a trailing one added by an editor) are not rows; csv_line quotes a lone
    // empty field so a real one-empty-cell row is never blank.
    if (reader.blank()) continue;
    if (fields.size() != table.columns.size())
      throw Error(fmt::format("{}:{}: row has {} cells, header has {} columns", source_name,
                              reader.record_line(), fields.size(), table.columns.size()));
    table.rows.push_back(fields);
  }
  return table;
}

std::vector<std::string> parse_csv_header(const std::string& text, const std::string& source_name) {
  CsvReader reader(text, source_name);
  std::vector<std::string> fields;
  reader.next(fields);
  return fields;
}

Table read_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw Error(fmt::format("cannot read '{}': read error", path));
  return parse_csv(buffer.str(), path);
}

std::string csv_field(const std::string& text) {
  bool needs_quotes = text.find_first_of(",\"\r\n") != std::string::npos ||
                      (!text.empty() && (text.front() == ' ' || text.back() == ' '));
  if (!needs_quotes) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string csv_line(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    out += csv_field(fields[i]);
  }
  // A single empty field would read back as a blank line; quote it so the row survives.
  if (fields.size() == 1 && fields[0].empty()) out = "\"\"";
  out += '\n';
  return out;
}

std::string to_csv_text(const Table& table) {
  std::string out = csv_line(table.columns);
  for (const auto& row : table.rows) out += csv_line(row);
  return out;
}

std::optional<double> parse_number(const std::string& text, const std::string& where) {
  std::size_t b = text.find_first_not_of(" \t");
  if (b == std::string::npos) return std::nullopt;
  std::size_t e = text.find_last_not_of(" \t");
  std::string t = text.substr(b, e - b + 1);
  const char* start = t.c_str();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(start, &end);
  // Overflow to +-inf is kept (errno ERANGE); underflow to a denormal or zero is fine too.
  if (end == start || *end != '\0')
    throw Error(fmt::format("{}{}not a number: '{}'", where, where.empty() ? "" : ": ", text));
  return v;
}

}  // namespace lrlab
