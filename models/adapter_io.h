#pragma once
/// Saving an adapter's parameters to a safetensors file and loading them back (`adapter.load: PATH`).

#include <string>

#include "framework/safetensors.h"
#include "models/adapters/adapter.h"

namespace lrlab {
class Config;
}

namespace lrlab::models {

/// The adapter tensors of replica `replica` (adapter.<param> for every parameter and every frozen
/// buffer, without the replica axis) with metadata: adapter type, parameter and buffer shapes, and the
/// adapter section of `run_config` as YAML.
TensorFile adapter_tensor_file(Adapter& adapter, int64_t replica, const Config& run_config);

/// Loads every parameter and buffer of `adapter` from `file` into every replica. The file's adapter
/// type and each tensor's presence and shape must match; otherwise an lrlab::Error names the file and
/// the mismatch, and the adapter is left unchanged.
void load_adapter(Adapter& adapter, const TensorFile& file);

}  // namespace lrlab::models
