#pragma once
/// Test helpers that run the real `lrlab` executable (LRLAB_BINARY) in a child process: exit status,
/// terminating signal, captured stdout/stderr, a timeout; and starting it in the background so a test
/// can kill it at a chosen moment.

#include "tests/support/paths.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace lrlab::test {

/// How a child process ended.
struct ProcessResult {
  int exit_code = -1;      ///< exit status when it exited normally, else -1
  int signal = 0;          ///< terminating signal, else 0
  bool timed_out = false;  ///< killed by the helper's timeout
  std::string out;         ///< captured stdout
  std::string err;         ///< captured stderr
};

/// Reads a whole file ("" when absent).
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Writes `text` to `path` (binary).
inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

/// A fresh empty folder under the system temp folder, unique to this process and `tag`.
inline std::string fresh_dir(const std::string& tag) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("lrlab_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

/// A child process running lrlab with `args`; stdout/stderr go to `<capture>.out` / `<capture>.err`.
class Child {
 public:
  /// Starts `LRLAB_BINARY args...` in `cwd` (empty: the current folder) with OMP_NUM_THREADS=1.
  Child(const std::vector<std::string>& args, const std::string& capture, const std::string& cwd = "")
      : capture_(capture) {
    pid_ = ::fork();
    if (pid_ == 0) {
      int out = ::open((capture + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = ::open((capture + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out < 0 || err < 0) ::_exit(126);
      ::dup2(out, STDOUT_FILENO);
      ::dup2(err, STDERR_FILENO);
      if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
      ::setenv("OMP_NUM_THREADS", "1", 1);
      std::vector<char*> argv;
      std::string binary = LRLAB_BINARY;
      argv.push_back(binary.data());
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
      ::_exit(127);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0 && !done_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  /// The process id.
  pid_t pid() const { return pid_; }
  /// Sends `sig`.
  void kill(int sig) const { ::kill(pid_, sig); }
  /// True once the process has ended (reaps it).
  bool poll() {
    if (done_) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) finish(status);
    return done_;
  }
  /// Waits up to `timeout_s` seconds (then SIGKILLs it and marks timed_out) and returns the result.
  ProcessResult wait(double timeout_s = 120) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (!poll()) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        finish(status);
        result_.timed_out = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    result_.out = slurp(capture_ + ".out");
    result_.err = slurp(capture_ + ".err");
    return result_;
  }

 private:
  void finish(int status) {
    done_ = true;
    if (WIFEXITED(status)) result_.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result_.signal = WTERMSIG(status);
  }
  std::string capture_;
  pid_t pid_ = -1;
  bool done_ = false;
  ProcessResult result_;
};

/// Runs lrlab with `args` to completion (SIGKILL after `timeout_s`).
inline ProcessResult run_lrlab(const std::vector<std::string>& args, const std::string& capture,
                               double timeout_s = 120, const std::string& cwd = "") {
  Child child(args, capture, cwd);
  return child.wait(timeout_s);
}

}  // namespace lrlab::test
