#pragma once
/// `lrlab status DIR`: the progress of a study running elsewhere (or finished, stopped, crashed),
/// read from the progress.json its writer keeps (study/live_status.h); for a sharded study one line
/// per shard and the total. Exits 0, or non-zero when DIR is not a results folder.

#include <functional>

namespace CLI {
class App;
}

namespace lrlab {

/// Adds the `status` subcommand to `app`; returns the function to call when it was parsed (it prints
/// the report on stdout and returns the exit status).
std::function<int()> add_status_command(CLI::App& app);

}  // namespace lrlab
