#include "apps/list_command.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "apps/commands.h"
#include "framework/config.h"
#include "framework/error.h"
#include "framework/strings.h"
#include "models/activation_registry.h"
#include "models/metrics.h"
#include "models/register.h"
#include "study/group_runner.h"
#include "study/option_help.h"
#include "trainers/data_source.h"
#include "trainers/schedule.h"
#include "trainers/trainer.h"
#include "trainers/update_rule.h"

namespace lrlab {

namespace {

/// `text` cut at every `sep` (empty parts kept).
std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts(1);
  for (char c : text) {
    if (c == sep)
      parts.emplace_back();
    else
      parts.back().push_back(c);
  }
  return parts;
}

/// How one kind is listed: where its type goes, which section holds its options, the config that
/// builds a type with its defaults, and the registry's entries.
struct KindSpec {
  std::string kind;        ///< "adapter", "data source", ...
  std::string type_key;    ///< where the type is written ("adapter.type")
  std::string path;        ///< the section holding the options ("adapter")
  std::function<std::string(const std::string&)> yaml_for;  ///< a config building type `key`
  std::vector<ListedEntry> entries;                         ///< key, help, stackable filled
};

template <class RegistryT>
KindSpec kind_spec(const RegistryT& registry, std::string type_key, std::string path,
                   std::function<std::string(const std::string&)> yaml_for) {
  KindSpec spec{registry.kind(), std::move(type_key), std::move(path), std::move(yaml_for), {}};
  for (const auto* e : registry.entries()) spec.entries.push_back({spec.kind, spec.type_key, e->key, e->help, e->stackable, "", {}, ""});
  return spec;
}

/// The fast online-SGD path of an adapter built with its defaults: "kernel" when it provides a CPU
/// kernel (models/adapters/adapter_kernel.h), else "batched (<why>)".
std::string adapter_fast_path(const std::string& key) {
  study::BuiltGroup group = study::build_group({Config::load_string("adapter: {type: " + key + "}", "<defaults>")});
  std::string why;
  return group.model.adapter->cpu_kernel(at::kFloat, &why) ? "kernel" : "batched (" + why + ")";
}

/// The config's own sections (no registry): the top level, metrics, output, study.
KindSpec section_spec() {
  KindSpec spec{"section", "", "", [](const std::string&) { return std::string("{}"); }, {}};
  const std::vector<std::pair<std::string, std::string>> sections = {
      {"config", "the top level of a config file"},
      {"metrics", "what is recorded and when"},
      {"output", "where and what is written"},
      {"study", "the runs of a study: sweep, zip, seeds, fit (see Studies)"}};
  for (const auto& [key, help] : sections)
    spec.entries.push_back({"section", key == "config" ? "(top level)" : key, key, help, {}, "", {}, ""});
  return spec;
}

std::vector<KindSpec> kind_specs() {
  std::vector<KindSpec> specs;
  // hermite has no default order: it is listed with p: 3.
  specs.push_back(kind_spec(models::activation_registry(), "base.activation.type", "base.activation", [](const std::string& k) {
    return "base: {activation: {type: " + k + (k == "hermite" ? ", p: 3" : "") + "}}";
  }));
  specs.push_back(kind_spec(models::base_registry(), "base.type", "base",
                            [](const std::string& k) { return "base: {type: " + k + "}"; }));
  specs.push_back(kind_spec(models::teacher_registry(), "teacher.type", "teacher",
                            [](const std::string& k) { return "teacher: {type: " + k + "}"; }));
  specs.push_back(kind_spec(models::adapter_registry(), "adapter.type", "adapter",
                            [](const std::string& k) { return "adapter: {type: " + k + "}"; }));
  specs.push_back(kind_spec(trainers::trainer_registry(), "trainer.type", "trainer",
                            [](const std::string& k) { return "trainer: {type: " + k + "}"; }));
  specs.push_back(kind_spec(trainers::data_source_registry(), "trainer.data", "trainer",
                            [](const std::string& k) { return "trainer: {type: descent, data: " + k + "}"; }));
  specs.push_back(kind_spec(trainers::update_rule_registry(), "trainer.update.type", "trainer.update",
                            [](const std::string& k) { return "trainer: {update: {type: " + k + "}}"; }));
  specs.push_back(kind_spec(trainers::schedule_registry(), "trainer.schedule.type", "trainer.schedule",
                            [](const std::string& k) { return "trainer: {schedule: {type: " + k + "}}"; }));
  KindSpec metrics{"metric", "metrics.names", "", {}, {}};
  for (const auto* e : models::metric_registry().entries()) metrics.entries.push_back({"metric", "metrics.names", e->key, e->help, {}, "", {}, ""});
  metrics.entries.push_back({"metric", "metrics.names", "train_loss",
                             "running mean of the training loss since the previous record", {}, "", {}, ""});
  specs.push_back(std::move(metrics));
  specs.push_back(section_spec());
  return specs;
}

/// The value at a dotted path of a root config ("" for the root itself; null when absent).
ConfigValue value_at(const Config& root, const std::string& path) {
  ConfigValue v = root.value();
  for (const std::string& part : split(path, '.'))
    if (!part.empty()) v = v.at(part);
  return v;
}

/// The options of `entry` built with its defaults: the resolved keys of its section (for a data
/// source only its own keys), and for the top level and `study` every declared key.
void fill_options(const KindSpec& spec, ListedEntry& entry) {
  if (!spec.yaml_for) return;
  try {
    Config cfg = Config::load_string(spec.yaml_for(entry.key), "<defaults>");
    study::build_group({cfg});
    study::read_output_options(cfg);  // the output section is read by the runner, not by build_group
    const Config resolved = cfg.resolved();
    const bool is_section = spec.kind == "section";
    const std::string path = is_section ? (entry.key == "config" ? "" : entry.key) : spec.path;
    const study::OptionSection section{path, is_section ? entry.key : spec.kind, is_section ? "" : entry.key};
    const ConfigValue map = value_at(resolved, path);
    std::vector<std::string> keys;
    if (is_section && (entry.key == "config" || entry.key == "study")) {
      for (const auto& option : study::option_help().options(entry.key, "")) keys.push_back(option.first);
    } else {
      keys = map.keys();
    }
    for (const std::string& key : keys) {
      if (key == "type" && !is_section) continue;  // the entry itself
      const bool data_source = spec.kind == "data source";
      const std::string help = data_source ? study::option_help().find("data source", entry.key, key)
                                           : study::section_option_help(section, key);
      if (data_source && help.empty()) continue;  // a trainer key, listed with the trainers
      const ConfigValue value = map.at(key);
      entry.options.push_back({key, value.is_null() || (is_section && value.is_map()) ? "" : value.text(), help});
    }
    if (spec.kind == "adapter") entry.extra = "fast path (CPU online SGD): " + adapter_fast_path(entry.key);
  } catch (const std::exception& e) {
    entry.problem = e.what();
  }
}

/// `name` as typed on the command line matches `kind` ("update rule" is also update_rule or update).
bool matches_kind(const std::string& name, const std::string& kind) {
  std::string underscored = kind;
  for (char& c : underscored)
    if (c == ' ') c = '_';
  return name == kind || name == underscored || name == kind.substr(0, kind.find(' ')) || kind + "s" == name ||
         (kind == "section" && name == "sections");
}

/// Lines of `text` wrapped at `width`, the first starting at column `first`, the others at `rest`
/// (a word longer than a line is not cut).
std::string wrap(const std::string& text, std::size_t first, std::size_t rest, std::size_t width) {
  std::string out, line;
  std::size_t column = first;
  for (const std::string& word : split(text, ' ')) {
    if (word.empty()) continue;
    if (!line.empty() && column + line.size() + 1 + word.size() > width) {
      out += line + "\n" + std::string(rest, ' ');
      line.clear();
      column = rest;
    }
    line += (line.empty() ? "" : " ") + word;
  }
  return out + line + "\n";
}

/// A Markdown table cell: pipes escaped, and `<` so that `runs/<name>` is not read as an HTML tag.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : c == '<' ? std::string("&lt;") : std::string(1, c);
  return out;
}

}  // namespace

std::vector<ListedEntry> listed_entries(const std::string& filter, bool with_options) {
  std::vector<KindSpec> specs = kind_specs();
  std::vector<ListedEntry> out;
  std::vector<std::string> names;
  for (KindSpec& spec : specs) {
    const bool whole_kind = !filter.empty() && matches_kind(filter, spec.kind);
    names.push_back(spec.kind);
    for (ListedEntry& entry : spec.entries) {
      names.push_back(entry.key);
      if (!filter.empty() && !whole_kind && entry.key != filter) continue;
      if (with_options) fill_options(spec, entry);
      out.push_back(std::move(entry));
    }
  }
  if (out.empty()) {
    std::string message = "lrlab list: no kind or type named '" + filter + "' (kinds: activation, base, teacher, " +
                          "adapter, trainer, data_source, update_rule, schedule, metric, section; or a type such as lora)";
    const std::string near = closest_match(filter, names);
    if (!near.empty()) message += "; did you mean '" + near + "'?";
    throw Error(message);
  }
  return out;
}

std::string list_text(const std::vector<ListedEntry>& entries, bool with_options, int width) {
  const std::size_t w = static_cast<std::size_t>(std::max(width, 40));
  constexpr std::size_t kKey = 2, kHelp = 18, kOption = 6, kOptionHelp = 30;
  std::string out, kind;
  for (const ListedEntry& e : entries) {
    if (e.kind != kind) {
      kind = e.kind;
      out += e.section.empty() || e.kind == "section" ? kind + "s:\n" : fmt::format("{} ({}):\n", kind, e.section);
    }
    const std::string head = fmt::format("{:<{}}", std::string(kKey, ' ') + e.key, kHelp - 1) + " ";
    out += head + (head.size() > kHelp ? "\n" + std::string(kHelp, ' ') : "") + wrap(e.help, kHelp, kHelp, w);
    if (!with_options) continue;
    const std::string pad(kOption, ' ');
    if (!e.problem.empty()) out += wrap("(needs options: " + e.problem + ")", kOption, kOption, w).insert(0, pad);
    for (const ListedOption& o : e.options) {
      const std::string left = o.key + ": " + (o.value.empty() ? "-" : o.value);
      if (kOption + left.size() + 1 < kOptionHelp) {
        out += pad + fmt::format("{:<{}}", left, kOptionHelp - kOption) + wrap(o.help, kOptionHelp, kOptionHelp, w);
      } else {
        out += pad + wrap(left, kOption, kOption + 2, w) + std::string(kOptionHelp, ' ') +
               wrap(o.help, kOptionHelp, kOptionHelp, w);
      }
    }
    if (!e.extra.empty()) out += pad + wrap(e.extra, kOption, kOption + 2, w);
    if (!e.stackable.empty()) out += pad + wrap("may differ within a group: " + join(e.stackable), kOption, kOption + 2, w);
  }
  return out;
}

std::string list_markdown(const std::vector<ListedEntry>& entries) {
  std::string out, kind;
  for (const ListedEntry& e : entries) {
    if (e.kind == "metric") continue;  // names, not options: see Metrics
    if (e.kind != kind) {
      kind = e.kind;
      out += fmt::format("{}#### {}{}\n\n| {} | option | default | meaning |\n|---|---|---|---|\n",
                         out.empty() ? "" : "\n", e.kind == "section" ? "sections" : e.kind,
                         e.kind == "section" ? "" : " (`" + e.section + "`)", e.kind == "section" ? "section" : "type");
    }
    out += fmt::format("| `{}` | | | {} |\n", e.key, cell(e.help));
    for (const ListedOption& o : e.options)
      out += fmt::format("| | `{}` | {} | {} |\n", o.key, o.value.empty() ? "" : "`" + cell(o.value) + "`", cell(o.help));
  }
  return out;
}

int terminal_width() {
  if (const char* columns = std::getenv("COLUMNS")) {
    const int n = std::atoi(columns);
    if (n > 0) return n;
  }
  winsize size{};
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 100;
}

std::string list_components(bool with_options) {
  return list_text(listed_entries("", with_options), with_options, 100);
}

std::function<int()> add_list_command(CLI::App& app) {
  struct State {
    std::string filter;
    bool brief = false;
    bool markdown = false;
  };
  auto state = std::make_shared<State>();
  auto* sub = app.add_subcommand("list", "list the registered components and config sections: options, defaults, help");
  sub->add_option("name", state->filter, "a kind (adapter, trainer, update_rule, schedule, section, ...) or a type (lora)");
  sub->add_flag("--brief", state->brief, "keys and help only");
  sub->add_flag("--markdown", state->markdown, "the README's option reference (Markdown tables)");
  return [sub, state]() {
    if (!sub->parsed()) return 0;
    const auto entries = listed_entries(state->filter, !state->brief);
    std::cout << (state->markdown ? list_markdown(entries) : list_text(entries, !state->brief, terminal_width()));
    return 0;
  };
}

}  // namespace lrlab
