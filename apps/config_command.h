#pragma once
/// `lrlab config CONFIG [key=value ...] [-m key=a,b ...]`: prints the resolved config, every default
/// filled in, as the results folder's config.yaml will hold it: the first run's config (the first
/// point of the sweep, seed `seed`) plus the study section. Nothing is trained or written.

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace lrlab {

class Config;

/// The resolved config text of `root` (loaded with its overrides): the first run of its study with
/// defaults filled in, the study section and the base seed. Throws ConfigError for an invalid config.
std::string resolved_config(const Config& root);

/// Adds the `config` subcommand to `app`; returns the function to call when it was parsed.
std::function<int()> add_config_command(CLI::App& app);

}  // namespace lrlab
