#pragma once
/// `lrlab summarize DIR [--config FILE] [overrides]`: recomputes the summary, the fits and the plots
/// of a results folder from its runs.csv, without training. Use it after a failure at the end of a
/// study (a fit naming a missing column, a full disk while plotting) or to add a fit afterwards: the
/// finished runs stay as they are.

#include <CLI/CLI.hpp>

#include <functional>

namespace lrlab {

/// Adds the `summarize` subcommand to `app`; returns the function to call after parsing (0 when the
/// subcommand was not chosen; else it loads DIR/study.yaml, or --config, with the overrides and runs
/// study::summarize_study, printing to stdout).
std::function<int()> add_summarize_command(CLI::App& app);

}  // namespace lrlab
