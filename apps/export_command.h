#pragma once
/// `lrlab export RUN_OR_DIR --peft OUT [--target-module NAME] [--run ID]`: writes a trained adapter in
/// PEFT's LoRA layout, so the Hugging Face tooling can load it: OUT/adapter_model.safetensors holds
/// base_model.model.<module>.lora_A.weight [r, d] and ...lora_B.weight [k, r], and
/// OUT/adapter_config.json holds peft_type LORA, r, lora_alpha, use_rslora and target_modules.
///
/// Exact for `lora` and `lora_fa` (PEFT's scaling lora_alpha / r, or / sqrt r with use_rslora, is
/// lrlab's alpha / r or alpha / sqrt r) and for `rank1` (Delta = xi c u^T is the r = 1 LoRA with
/// lora_A = u^T, lora_B = xi c, lora_alpha = 1). Every other adapter is refused with the reason, and
/// every export is checked against the run's saved student.W - base.W.

#include <functional>
#include <string>

#include "framework/safetensors.h"

namespace CLI {
class App;
}

namespace lrlab {

/// The PEFT files of one exported adapter.
struct PeftAdapter {
  TensorFile weights;       ///< adapter_model.safetensors
  std::string config_json;  ///< adapter_config.json
};

/// Converts one run's tensor file (tensors/<run>.safetensors) to PEFT's LoRA layout with target
/// module `module`. Throws lrlab::Error for an adapter type that has no exact LoRA form (naming why)
/// or when the factors do not reproduce the run's saved Delta.
PeftAdapter peft_adapter(const TensorFile& run, const std::string& module);

/// The tensor file of RUN_OR_DIR: a .safetensors file, or a results folder's run `run` (default: the
/// first run in tensors/). Throws lrlab::Error naming what is missing.
std::string run_tensor_path(const std::string& run_or_dir, const std::string& run);

/// Adds the `export` subcommand to `app`; returns the function to call when it was parsed.
std::function<int()> add_export_command(CLI::App& app);

}  // namespace lrlab
