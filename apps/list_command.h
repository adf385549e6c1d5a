#pragma once
/// `lrlab list [NAME] [--brief] [--markdown]`: every registered component (activations, bases,
/// teachers, adapters, trainers, data sources, update rules, schedules, metrics) and the config's own
/// sections (top level, metrics, output, study), each option with its default and one-line help from
/// study::option_help(). NAME filters by kind (`adapter`, `update_rule`) or by type (`lora`); text is
/// wrapped to the terminal. `--markdown` prints the README's option reference (a test keeps the two equal).

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace lrlab {

/// One option of a listed component: its key, its default (one-line YAML, "" where it has none) and help.
struct ListedOption {
  std::string key;      ///< key inside the component's section
  std::string value;    ///< default as one-line YAML
  std::string help;     ///< one-line help ("" when the table lacks it: a test forbids that)
};

/// One listed component (or section) with its options.
struct ListedEntry {
  std::string kind;                    ///< "adapter", "update rule", "section", ...
  std::string section;                 ///< where it goes in a config ("adapter.type", "trainer.update.type", ...)
  std::string key;                     ///< registry key ("lora") or section name ("output")
  std::string help;                    ///< the registry's one-line help
  std::vector<std::string> stackable;  ///< options that may differ within a group
  std::string extra;                   ///< one more line (an adapter's fast path), may be empty
  std::vector<ListedOption> options;   ///< resolved options (empty with `with_options` false)
  std::string problem;                 ///< why the defaults did not build ("" when they did)
};

/// Every component and section matching `filter` ("" for all): a kind (`adapter`, `update_rule`,
/// `section`) or a key (`lora`, `output`). An unknown filter throws lrlab::Error listing the names.
std::vector<ListedEntry> listed_entries(const std::string& filter, bool with_options);

/// The text of `lrlab list`, wrapped to `width` columns.
std::string list_text(const std::vector<ListedEntry>& entries, bool with_options, int width);

/// The README's option reference (Markdown tables, one per kind).
std::string list_markdown(const std::vector<ListedEntry>& entries);

/// The terminal width: $COLUMNS, else the terminal's (ioctl on stdout), else 100 (not a terminal).
int terminal_width();

/// Adds the `list` subcommand to `app`; returns the function to call when it was parsed.
std::function<int()> add_list_command(CLI::App& app);

}  // namespace lrlab
