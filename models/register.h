#pragma once
/// The models' registries, filled explicitly in register.cpp (one line per component).

#include <memory>

#include "framework/context.h"
#include "framework/registry.h"
#include "models/adapters/adapter.h"
#include "models/base_network.h"
#include "models/teacher.h"

namespace lrlab::models {

/// Default `type:` of each section when the key is absent.
inline constexpr const char* kDefaultBaseType = "two_layer";
inline constexpr const char* kDefaultTeacherType = "low_rank";
inline constexpr const char* kDefaultAdapterType = "rank1";

/// Base networks: built from the `base` section.
using BaseRegistry = Registry<BaseNetwork, const Context&>;
/// Teachers: built from the `teacher` section on a base network.
using TeacherRegistry = Registry<Teacher, std::shared_ptr<const BaseNetwork>, const Context&>;
/// Adapters: built from the `adapter` section.
using AdapterRegistry = Registry<Adapter, const AdapterInputs&>;

/// The base-network registry (filled on first use).
BaseRegistry& base_registry();
/// The teacher registry (filled on first use).
TeacherRegistry& teacher_registry();
/// The adapter registry (filled on first use).
AdapterRegistry& adapter_registry();

/// A student-teacher problem for one group of stacked runs.
struct Model {
  Context ctx;                               ///< device, dtype, replica seeds
  std::shared_ptr<BaseNetwork> base;         ///< frozen base network
  std::shared_ptr<Teacher> teacher;          ///< teacher
  std::shared_ptr<Adapter> adapter;          ///< trainable adapter
};

/// Builds base, teacher and adapter from the root config's `base`, `teacher` and `adapter` sections
/// (strict keys checked for each section).
Model build_model(const Config& root, const Context& ctx);

}  // namespace lrlab::models
