#pragma once
/// `lrlab run CONFIG -m key=a,b other.key=x,y` (Hydra's multirun habit): each `key=v1,v2,...` given
/// with -m becomes an axis of study.sweep (a grid with the file's own axes); `+key=`, `~key`, and
/// `study.*` assignments stay plain overrides.

#include <string>
#include <vector>

#include "framework/config.h"

namespace lrlab {

/// Loads `path` with the plain overrides, then adds each sweep assignment as `study.sweep.<key>:
/// [v1, v2, ...]` (one value is a one-point sweep). A key that study.sweep or study.zip already varies
/// is a ConfigError that says how to replace or delete that axis instead.
Config load_multirun(const std::string& path, const std::vector<std::string>& assignments);

}  // namespace lrlab
