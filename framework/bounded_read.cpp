#include "framework/bounded_read.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "framework/interrupt.h"

namespace lrlab {

namespace {

constexpr uint64_t kMB = 1000 * 1000;
constexpr uint64_t kConfigDefault = 64 * kMB;
constexpr uint64_t kTensorDefault = 1000 * kMB;
constexpr uint64_t kTensorHeaderAllowance = 16 * kMB;
/// Bytes read between two checks of the interruption flag.
constexpr std::size_t kChunk = 1 << 20;

/// The limit set by environment variable `name` (in MB), or `fallback` when it is unset.
uint64_t limit_from_env(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  errno = 0;
  const unsigned long long mb = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0' || text[0] == '-' || mb < 1 || mb > 1000 * 1000)
    throw Error(fmt::format("environment variable {}: must be a whole number of MB in 1..1000000", name));
  return mb * kMB;
}

/// What a stat mode is, for "is a directory, not a ..." messages.
const char* file_type_name(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

/// Closes a descriptor on every path out.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

uint64_t config_file_limit() { return limit_from_env("LRLAB_MAX_CONFIG_MB", kConfigDefault); }

uint64_t tensor_file_limit() { return limit_from_env("LRLAB_MAX_TENSOR_MB", kTensorDefault); }

uint64_t tensor_file_limit(uint64_t data_bytes) {
  const uint64_t derived = data_bytes > UINT64_MAX - kTensorHeaderAllowance ? UINT64_MAX : data_bytes + kTensorHeaderAllowance;
  return limit_from_env("LRLAB_MAX_TENSOR_MB", derived);
}

std::string format_bytes(uint64_t bytes) {
  if (bytes < kMB) return fmt::format("{} bytes", bytes);
  const double b = static_cast<double>(bytes);
  if (bytes < 1000 * kMB) return fmt::format("{:.3g} MB", b / 1e6);
  if (bytes < 1000 * 1000 * kMB) return fmt::format("{:.3g} GB", b / 1e9);
  return fmt::format("{:.3g} TB", b / 1e12);
}

std::string read_bounded_file(const std::string& path, uint64_t max_bytes, const std::string& kind,
                              const std::string& limit_hint) {
  // stat first: opening a FIFO for reading would wait for a writer.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw FileReadError(fmt::format("cannot read {}: cannot open it ({})", kind, std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) throw FileReadError(fmt::format("is {}, not a {}", file_type_name(st.st_mode), kind));
  const auto too_large = [&](const std::string& size) {
    return FileReadError(fmt::format("{}, more than the limit of {} for a {}{}", size, format_bytes(max_bytes), kind,
                                     limit_hint.empty() ? "" : " (" + limit_hint + ")"));
  };
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    throw too_large("is " + format_bytes(static_cast<uint64_t>(st.st_size)));
  // O_NONBLOCK: should the path have been swapped for a FIFO since the stat, open still returns.
  FdCloser fd{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  if (fd.fd < 0) throw FileReadError(fmt::format("cannot read {}: cannot open it ({})", kind, std::strerror(errno)));
  if (::fstat(fd.fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw FileReadError(fmt::format("is {}, not a {}", file_type_name(st.st_mode), kind));
  std::string text;
  text.reserve(static_cast<std::size_t>(st.st_size));
  std::string chunk(kChunk, '\0');
  for (;;) {
    throw_if_interrupted();
    // One byte past the limit is enough to know the file is too large (it grew since the stat).
    const uint64_t room = max_bytes + 1 - text.size();
    const std::size_t want = static_cast<std::size_t>(std::min<uint64_t>(kChunk, room));
    const ssize_t n = ::read(fd.fd, chunk.data(), want);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw FileReadError(fmt::format("read error ({})", std::strerror(errno)));
    }
    if (n == 0) break;
    text.append(chunk.data(), static_cast<std::size_t>(n));
    if (text.size() > max_bytes) throw too_large("grew while being read");
  }
  return text;
}

}  // namespace lrlab
