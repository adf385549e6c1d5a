#pragma once
/// The subcommands of the `lrlab` executable.

#include <string>
#include <vector>

#include "framework/config.h"

namespace lrlab {

/// Parses the command line and runs the chosen subcommand; returns the exit status. Errors are thrown
/// as lrlab::Error (main prints them).
int run_cli(int argc, char** argv, const std::string& command_line);

/// Loads `path` and applies command-line overrides in order. `key=value` must name a key of the file
/// or an option that has a default (e.g. trainer.batch); `+key=value` adds a key.
Config load_with_overrides(const std::string& path, const std::vector<std::string>& overrides);

/// `lrlab list`: every registered component with its help and its options with defaults.
std::string list_components(bool with_options);

}  // namespace lrlab
