#include "framework/folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "framework/error.h"

namespace lrlab {

namespace {

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "unknown-host";
  return name;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

/// The lock file's text: one `key: value` line each (read back by read_holder). Newlines in the
/// command are flattened so that the file stays one line per field.
std::string holder_text(const std::string& command) {
  std::string flat = command.substr(0, 1000);
  for (char& c : flat)
    if (c == '\n' || c == '\r') c = ' ';
  return fmt::format("host: {}\npid: {}\nsince: {}\ncommand: {}\n", host_name(), static_cast<long>(::getpid()),
                     utc_now(), flat);
}

LockHolder parse_holder(const std::string& text) {
  LockHolder h;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(": ");
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, colon), value = line.substr(colon + 2);
    if (key == "host") h.host = value;
    if (key == "pid") h.pid = std::strtol(value.c_str(), nullptr, 10);
    if (key == "since") h.since = value;
    if (key == "command") h.command = value;
  }
  return h;
}

std::string read_fd_text(int fd) {
  std::string text;
  char buffer[4096];
  if (::lseek(fd, 0, SEEK_SET) < 0) return text;
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof(buffer))) > 0 && text.size() < 64 * 1024) text.append(buffer, n);
  return text;
}

}  // namespace

std::string LockHolder::describe() const {
  if (pid == 0 && host.empty()) return "an unknown process";
  std::string out = fmt::format("pid {} on host {}", pid, host.empty() ? "?" : host);
  if (!since.empty()) out += " since " + since;
  if (!command.empty()) out += " (" + command + ")";
  return out;
}

LockHolder FolderLock::read_holder(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  if (in) text << in.rdbuf();
  return parse_holder(text.str());
}

FolderLock::FolderLock(const std::string& path, const std::string& what, const std::string& command,
                       const std::function<void(const std::string&)>& warn)
    : path_(path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(fmt::format("cannot create the lock file {}: {}", path, std::strerror(errno)));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const LockHolder holder = parse_holder(read_fd_text(fd_));
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw Error(fmt::format("{} is in use by {}; wait for it to finish or stop it (one writer per folder)", what,
                              holder.describe()));
    throw Error(fmt::format("cannot lock {}: {}", path, std::strerror(err)));
  }
  const LockHolder stale = parse_holder(read_fd_text(fd_));
  if (stale.pid != 0 && warn)
    warn(fmt::format("{}: the previous writer ({}) stopped without releasing its lock; taking it over", what,
                     stale.describe()));
  const std::string text = holder_text(command);
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw Error(fmt::format("cannot write the lock file {}: {}", path, std::strerror(err)));
  }
  ::fsync(fd_);
}

FolderLock::~FolderLock() {
  if (fd_ < 0) return;
  // Clear the holder before unlocking: a next writer that finds text knows its holder died.
  if (::ftruncate(fd_, 0) != 0) { /* the text then reads as stale: harmless */ }
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

}  // namespace lrlab
