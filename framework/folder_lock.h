#pragma once
/// One writer per results folder (or per shard of one), enforced with an advisory lock.
///
/// The lock is `flock(2)` on a small lock file (e.g. `<dir>/.lock`, or `<dir>/shards/2-of-4/.lock`),
/// held for the lifetime of a FolderLock. The kernel drops the lock when its process dies (SIGKILL,
/// OOM, a node crash on a shared filesystem whose server supports locks), so a crash never leaves a
/// folder locked; the file's text (host, pid, start time, command) only tells a second writer who
/// holds it, and tells the next holder that the previous one did not release it cleanly.

#include <functional>
#include <string>

namespace lrlab {

/// Who holds (or last held) a lock, as written in the lock file.
struct LockHolder {
  std::string host;      ///< gethostname() of the holder
  long pid = 0;          ///< its process id
  std::string since;     ///< UTC time it took the lock, ISO 8601
  std::string command;   ///< its command line (may be empty)
  /// "pid 1234 on host node7 since 2026-11-30T04:00:00Z (lrlab run ...)".
  std::string describe() const;
};

/// An exclusive advisory lock on `path`, released (and the file's text cleared) by the destructor.
class FolderLock {
 public:
  /// Takes the lock without waiting. Creates `path` if missing (its folder must exist).
  /// Throws lrlab::Error "<what> is in use by <holder>; ..." when another process holds it (`what`
  /// names the thing locked for the message, e.g. "results folder runs/x"). When the lock is free but
  /// the file still names a holder (a process that died without releasing it), the lock is taken over
  /// and `warn` receives one line naming that stale holder.
  FolderLock(const std::string& path, const std::string& what, const std::string& command,
             const std::function<void(const std::string&)>& warn);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

  /// The lock file's path.
  const std::string& path() const { return path_; }

  /// Reads the holder named in a lock file (empty host and pid 0 when the file is absent or empty).
  static LockHolder read_holder(const std::string& path);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace lrlab
