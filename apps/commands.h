#pragma once
/// The subcommands of the `lrlab` executable.

#include <string>

namespace lrlab {

/// Parses the command line and runs the chosen subcommand; returns the exit status. Errors are thrown
/// as lrlab::Error (main prints them).
int run_cli(int argc, char** argv, const std::string& command_line);

/// `lrlab list`: every registered component with its help and its options with defaults.
std::string list_components(bool with_options);

}  // namespace lrlab
