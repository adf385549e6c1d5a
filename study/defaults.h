#pragma once
/// Defaults of options a config omits, as the study needs them: a command-line override may name a
/// key that only has a default, and a study may sweep any option, not only those the file spells out.

#include <string>
#include <vector>

#include "framework/config.h"

namespace lrlab::study {

/// The default of `dotted_key` (canonical YAML text) when the file omits it but the component it
/// belongs to has one (e.g. trainer.batch), else "". Built from the config without its study.
std::string default_value(const Config& root, const std::string& dotted_key);

/// True when adding `key.path=value` (an option the file omits and that has no default, e.g. a key a
/// component reads only when present) gives a config that builds. When the added key clashes with
/// another key (both set the step budget), that ConfigError is thrown: it says more than "unknown key".
bool accepts_added_key(const Config& root, const std::string& assignment);

/// The dotted keys that study.sweep and study.zip vary (nested maps flattened), in document order.
std::vector<std::string> swept_keys(const Config& root);

/// Writes the defaults of swept keys (study.sweep / study.zip) that the file omits into the document,
/// so a study may sweep any option (e.g. base.zero_base).
void fill_swept_defaults(Config& root);

}  // namespace lrlab::study
