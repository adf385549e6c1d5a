/// The `lrlab` command line: run, validate, list, plot (and gradcheck, bench).

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <iostream>

#include "apps/commands.h"
#include "framework/error.h"
#include "framework/interrupt.h"

int main(int argc, char** argv) {
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  try {
    return lrlab::run_cli(argc, argv, command_line);
  } catch (const lrlab::Interrupted&) {
    std::fprintf(stderr, "lrlab: interrupted; every finished group is saved. Resume with:\n  %s\n", command_line.c_str());
    return 130;
  } catch (const lrlab::Error& e) {
    std::fprintf(stderr, "lrlab: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    // LibTorch (c10::Error) and the standard library: report without the C++ backtrace noise.
    std::string what = e.what();
    const auto cut = what.find("\nException raised from");
    std::fprintf(stderr, "lrlab: error: %s\n", what.substr(0, cut).c_str());
    return 1;
  }
}
