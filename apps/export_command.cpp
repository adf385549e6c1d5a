#include "apps/export_command.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>

#include "framework/atomic_file.h"
#include "framework/error.h"

namespace lrlab {

namespace {

namespace fs = std::filesystem;

/// Why an adapter type has no exact PEFT LoRA form.
std::string why_not_lora(const std::string& type) {
  if (type == "full") return "full fine-tuning trains a dense Delta [k, d] with no low-rank factors";
  if (type == "dora") return "DoRA renormalises the rows of W + s B A and rescales them by m, which is not W + s B A";
  if (type == "vera") return "VeRA's Delta = diag(b) B diag(d) A uses frozen shared projections (PEFT's VERA type, not LORA)";
  if (type == "scratch") return "the scratch student replaces W instead of adding a low-rank Delta to it";
  if (type == "linearized") return "the linearized student is a first-order Taylor model, not a weight update";
  return "it has no exact low-rank factorisation Delta = s B A";
}

/// A scalar option of the run's adapter section (saved as YAML in the file's metadata).
YAML::Node adapter_option(const TensorFile& run, const std::string& key) {
  const auto it = run.metadata.find("adapter.options");
  if (it == run.metadata.end()) return YAML::Node();
  return YAML::Load(it->second)[key];
}

}  // namespace

PeftAdapter peft_adapter(const TensorFile& run, const std::string& module) {
  const auto type_it = run.metadata.find("adapter.type");
  if (type_it == run.metadata.end()) throw Error(run.source + ": not an lrlab run tensor file (no adapter.type)");
  const std::string type = type_it->second;
  const at::Tensor delta = (run.get("student.W") - run.get("base.W")).to(at::kDouble);  // [k, d]
  at::Tensor a, b;  // [r, d], [k, r]
  double alpha = 1.0;
  bool rs = false;
  if (type == "lora" || type == "lora_fa") {
    if (adapter_option(run, "init").as<std::string>("") == "pissa")
      throw Error(run.source + ": a lora adapter with init: pissa cannot be exported to PEFT's LoRA layout: its Delta is "
                  "s (B A - B0 A0) (the frozen top-r part is subtracted), while PEFT's LoRA adds s B A to an unchanged W");
    a = run.get("adapter.A");
    b = run.get("adapter.B");
    alpha = adapter_option(run, "alpha").as<double>(1.0);
    rs = adapter_option(run, "scaling").as<std::string>("standard") == "rs";
  } else if (type == "rank1") {
    // Delta = xi c u^T with |u| = 1, so xi c = Delta u: the r = 1 LoRA with s = 1.
    const at::Tensor u = run.get("adapter.u").to(at::kDouble);
    a = u.unsqueeze(0);
    b = at::matmul(delta, u).unsqueeze(1);
  } else {
    throw Error(run.source + ": a '" + type + "' adapter cannot be exported to PEFT's LoRA layout: " + why_not_lora(type) +
                " (exportable: lora, lora_fa, rank1)");
  }
  const int64_t r = a.size(0);
  const double scale = rs ? alpha / std::sqrt(static_cast<double>(r)) : alpha / static_cast<double>(r);
  // The factors must give back the run's Delta (within the saved precision), else the export is wrong.
  const at::Tensor rebuilt = scale * at::matmul(b.to(at::kDouble), a.to(at::kDouble));
  const double error = (rebuilt - delta).norm().item<double>();
  const double size = run.get("student.W").to(at::kDouble).norm().item<double>();
  if (!(error <= 1e-4 * std::max(size, 1.0)))
    throw Error(run.source + ": s B A differs from the run's saved Delta (student.W - base.W) by " + std::to_string(error) +
                "; refusing to write an export that does not reproduce the run");

  PeftAdapter out;
  const std::string prefix = "base_model.model." + module + ".";
  const auto dtype = run.get("student.W").scalar_type();
  out.weights.tensors.emplace_back(prefix + "lora_A.weight", a.to(dtype).contiguous());
  out.weights.tensors.emplace_back(prefix + "lora_B.weight", b.to(dtype).contiguous());
  out.weights.metadata["format"] = "pt";
  nlohmann::json config = {{"peft_type", "LORA"},
                           {"task_type", nullptr},
                           {"base_model_name_or_path", nullptr},
                           {"r", r},
                           {"lora_alpha", alpha},
                           {"use_rslora", rs},
                           {"target_modules", {module}},
                           {"lora_dropout", 0.0},
                           {"bias", "none"},
                           {"fan_in_fan_out", false},
                           {"use_dora", false},
                           {"inference_mode", true},
                           {"init_lora_weights", true},
                           {"modules_to_save", nullptr}};
  const auto run_it = run.metadata.find("run");
  config["revision"] = nullptr;
  if (run_it != run.metadata.end()) config["lrlab_run"] = run_it->second;
  config["lrlab_adapter_type"] = type;
  out.config_json = config.dump(2) + "\n";
  return out;
}

std::string run_tensor_path(const std::string& run_or_dir, const std::string& run) {
  if (fs::is_regular_file(run_or_dir)) return run_or_dir;
  const fs::path tensors = fs::path(run_or_dir) / "tensors";
  if (!fs::is_directory(tensors))
    throw Error(run_or_dir + ": neither a .safetensors file nor a results folder with tensors/ (output.save_tensors)");
  if (!run.empty()) {
    const fs::path file = tensors / (run + ".safetensors");
    if (!fs::is_regular_file(file)) throw Error(file.string() + ": no such run file");
    return file.string();
  }
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(tensors))
    if (entry.path().extension() == ".safetensors") files.push_back(entry.path().string());
  if (files.empty()) throw Error(tensors.string() + ": no run files");
  return *std::min_element(files.begin(), files.end());
}

std::function<int()> add_export_command(CLI::App& app) {
  struct State {
    std::string source, out, module = "fc1", run;
  };
  auto state = std::make_shared<State>();
  auto* sub = app.add_subcommand("export", "write a run's adapter in PEFT's LoRA layout (lora, lora_fa, rank1)");
  sub->add_option("run_or_dir", state->source, "a run's .safetensors file or a results folder")->required();
  sub->add_option("--peft", state->out, "output folder: adapter_model.safetensors, adapter_config.json")->required();
  sub->add_option("--target-module", state->module, "the module name PEFT targets")->capture_default_str();
  sub->add_option("--run", state->run, "run id within a results folder (default: the first)");
  return [sub, state]() {
    if (!sub->parsed()) return 0;
    const std::string path = run_tensor_path(state->source, state->run);
    const PeftAdapter adapter = peft_adapter(read_safetensors(path), state->module);
    std::error_code ec;
    fs::create_directories(state->out, ec);
    if (ec) throw Error("cannot create " + state->out + ": " + ec.message());
    write_safetensors(state->out + "/adapter_model.safetensors", adapter.weights);
    write_file_atomic(state->out + "/adapter_config.json", adapter.config_json);
    std::cout << path << " -> " << state->out << "/adapter_model.safetensors, adapter_config.json\n";
    return 0;
  };
}

}  // namespace lrlab
