#pragma once
/// Every option's one-line help in one table (models/register.cpp, trainers/register.cpp and the
/// study's own sections here), and the lookup of a key path of a resolved config in it.

#include <string>
#include <vector>

#include "framework/config.h"
#include "framework/option_help.h"

namespace lrlab::study {

/// The help of every option: model and trainer components, metrics, output, study and the top level
/// (kind "config").
const OptionHelpTable& option_help();

/// A section of a config whose keys are options of one component: `path` ("" for the top level,
/// "trainer.update", ...), the table's kind and the component's type ("" where it has none).
struct OptionSection {
  std::string path;  ///< dotted path of the mapping
  std::string kind;  ///< kind in option_help()
  std::string type;  ///< the section's `type` (or "")
};

/// Every option section of a resolved root config (with defaults filled in), outer first.
std::vector<OptionSection> option_sections(const Config& resolved_root);

/// The help of `key` of `section` ("" when it has none). Keys of the trainer section that belong to
/// its data source (steps, batch, n, ...) are found in the data sources' table.
std::string section_option_help(const OptionSection& section, const std::string& key);

}  // namespace lrlab::study
