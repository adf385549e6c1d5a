#include "framework/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "framework/csv.h"
#include "framework/error.h"

namespace lrlab {

namespace {

std::string folder_of(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The message names the file the user asked for, not the temporary one, and adds the hint that
// matters most for each common failure.
[[noreturn]] void fail_write(const std::string& path, int err) {
  std::string message = fmt::format("cannot write '{}': {}", path, std::strerror(err));
  if (err == ENOENT) message += fmt::format(" (folder '{}' does not exist)", folder_of(path));
  if (err == ENOSPC || err == EDQUOT) message += " (free some space or write elsewhere)";
  throw Error(message);
}

std::string join_quoted(const std::vector<std::string>& fields) {
  std::string out;
  for (const auto& f : fields) out += (out.empty() ? "" : ",") + csv_field(f);
  return out;
}

/// Rows must match the header's length.
void check_rows(const std::string& path, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  if (header.empty()) throw Error(fmt::format("cannot append to '{}': empty CSV header", path));
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (rows[i].size() != header.size())
      throw Error(fmt::format("cannot append to '{}': row {} has {} cells, header has {} columns",
                              path, i, rows[i].size(), header.size()));
}

/// An existing CSV text's header must be `header`.
void check_header(const std::string& path, const std::string& text, const std::vector<std::string>& header) {
  std::vector<std::string> existing = parse_csv_header(text, path);
  if (existing != header)
    throw Error(fmt::format("cannot append to '{}': its header is [{}] but the rows are for [{}]",
                            path, join_quoted(existing), join_quoted(header)));
}

/// Writes all of `text` to `fd` (retrying short writes); returns errno or 0.
int write_all(int fd, const std::string& text) {
  const char* data = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& text) {
  // pid + counter keeps concurrent writers (threads or processes) off each other's temp files.
  static std::atomic<unsigned long> counter{0};
  const std::string temp =
      fmt::format("{}.tmp.{}.{}", path, static_cast<long>(::getpid()), counter.fetch_add(1));

  // Keep the permissions of an existing file (a user may have made results read-only for others).
  mode_t mode = 0644;
  struct stat existing {};
  if (::stat(path.c_str(), &existing) == 0) mode = existing.st_mode & 07777;

  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) fail_write(path, errno);

  auto abandon = [&](int err) {
    ::close(fd);
    ::unlink(temp.c_str());
    fail_write(path, err);
  };

  if (const int err = write_all(fd, text)) abandon(err);
  // fsync before rename: otherwise a crash can leave the new name pointing at empty blocks.
  if (::fsync(fd) != 0) abandon(errno);
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    fail_write(path, err);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    fail_write(path, err);
  }
  // Persist the rename itself; best effort (some file systems refuse fsync on folders).
  int dir = ::open(folder_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

std::string read_file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw Error(fmt::format("cannot read '{}': read error", path));
  return buffer.str();
}

void append_csv_rows_atomic(const std::string& path, const std::vector<std::string>& header,
                            const std::vector<std::vector<std::string>>& rows) {
  check_rows(path, header, rows);
  std::string text;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) text = read_file_text(path);

  if (text.empty()) {
    text = csv_line(header);
  } else {
    // Only the header is parsed: the rest was written by us, atomically, and re-parsing a large
    // curves file on every append would make appending quadratic in the file size.
    check_header(path, text, header);
    if (text.back() != '\n') text += '\n';
  }
  for (const auto& row : rows) text += csv_line(row);
  write_file_atomic(path, text);
}

void append_csv_rows(const std::string& path, const std::vector<std::string>& header,
                     const std::vector<std::vector<std::string>>& rows) {
  check_rows(path, header, rows);
  std::string text;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || st.st_size == 0) {
    text = csv_line(header);
  } else {
    // Only the first line is read: re-reading a large curves file on every append would be quadratic.
    std::ifstream in(path, std::ios::binary);
    std::string first;
    std::getline(in, first);
    check_header(path, first, header);
  }
  for (const auto& row : rows) text += csv_line(row);
  // O_CREAT makes the file, never its folder: a vanished folder fails with ENOENT.
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) fail_write(path, errno);
  // One write: a reader or a crash sees whole rows, except at most a truncated last line after a crash.
  int err = write_all(fd, text);
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  if (err != 0) fail_write(path, err);
}

}  // namespace lrlab
