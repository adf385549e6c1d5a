#pragma once
/// Saving an adapter's parameters to a safetensors file and loading them back (`adapter.load: PATH`).

#include <string>

#include "framework/safetensors.h"
#include "models/adapters/adapter.h"

namespace lrlab {
class Config;
}

namespace lrlab::models {

/// The adapter tensors of replica `replica` (adapter.<param>, without the replica axis) with
/// metadata: adapter type, parameter shapes, and the adapter section of `run_config` as YAML.
TensorFile adapter_tensor_file(Adapter& adapter, int64_t replica, const Config& run_config);

/// Loads every parameter of `adapter` from `file` into every replica. The file's adapter type and
/// each parameter's shape must match; otherwise an lrlab::Error names the file and the mismatch.
void load_adapter(Adapter& adapter, const TensorFile& file);

}  // namespace lrlab::models
