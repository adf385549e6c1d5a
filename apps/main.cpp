/// The `lrlab` command line: run, validate, list, plot, merge, slurm (and gradcheck, bench).

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <cstdio>
#include <new>
#include <iostream>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/shell.h"
#include "framework/error.h"
#include "framework/interrupt.h"

namespace {

/// The command line that resumes this run: the same arguments without --restart (which would
/// discard what was saved).
std::string resume_command(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--restart") continue;
    out += (out.empty() ? "" : " ") + lrlab::shell_quote(arg);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + lrlab::shell_quote(argv[i]);
  try {
    return lrlab::run_cli(argc, argv, command_line);
  } catch (const lrlab::Interrupted& e) {
    std::fprintf(stderr, "lrlab: %s. Resume with:\n  %s\n", e.what(), resume_command(argc, argv).c_str());
    const int sig = lrlab::interrupt_signal();
    return 128 + (sig > 0 ? sig : 2);
  } catch (const lrlab::Error& e) {
    std::fprintf(stderr, "lrlab: error: %s\n", e.what());
    return 1;
  } catch (const c10::Error& e) {
    // LibTorch, e.g. an allocation a size check did not foresee: its message without the backtrace.
    const std::string what = e.what_without_backtrace();
    std::fprintf(stderr, "lrlab: error: %s\n", what.substr(0, what.find('\n')).c_str());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "lrlab: error: out of memory (a tensor did not fit; lower d, the batch or the replicas)\n");
    return 1;
  } catch (const std::exception& e) {
    // The standard library: report without any C++ backtrace noise.
    std::string what = e.what();
    const auto cut = what.find("\nException raised from");
    std::fprintf(stderr, "lrlab: error: %s\n", what.substr(0, cut).c_str());
    return 1;
  } catch (...) {
    std::fprintf(stderr, "lrlab: error: unknown exception\n");
    return 1;
  }
}
