#include "models/adapter_io.h"

#include <yaml-cpp/yaml.h>

#include "framework/config.h"
#include "framework/error.h"

namespace lrlab::models {

TensorFile adapter_tensor_file(Adapter& adapter, int64_t replica, const Config& run_config) {
  TensorFile file;
  std::string shapes, buffers;
  for (auto* p : adapter.parameters()) {
    at::Tensor v = p->value.detach()[replica].cpu();
    file.tensors.emplace_back("adapter." + p->name, v);
    shapes += (shapes.empty() ? "" : ", ") + p->name + " " + c10::str(v.sizes());
  }
  for (auto* p : adapter.buffers()) {  // frozen state (VeRA's random A, B, PiSSA's B0, A0)
    at::Tensor v = p->value.detach()[replica].cpu();
    file.tensors.emplace_back("adapter." + p->name, v);
    buffers += (buffers.empty() ? "" : ", ") + p->name + " " + c10::str(v.sizes());
  }
  file.metadata["adapter.type"] = adapter.type();
  file.metadata["adapter.shapes"] = shapes;
  if (!buffers.empty()) file.metadata["adapter.buffers"] = buffers;
  YAML::Node root = YAML::Load(run_config.resolved_yaml());
  if (root["adapter"]) {
    YAML::Emitter e;
    e << root["adapter"];
    file.metadata["adapter.options"] = e.c_str();
  }
  return file;
}

void load_adapter(Adapter& adapter, const TensorFile& file) {
  auto it = file.metadata.find("adapter.type");
  if (it == file.metadata.end()) throw Error(file.source + ": not an lrlab adapter file (no adapter.type metadata)");
  if (it->second != adapter.type())
    throw Error(file.source + ": holds a '" + it->second + "' adapter, but the config builds '" + adapter.type() + "'");
  at::NoGradGuard no_grad;
  std::vector<Parameter*> targets = adapter.parameters();
  for (auto* p : adapter.buffers()) targets.push_back(p);
  // Check every tensor before writing any, so that a mismatched file leaves the adapter untouched.
  std::vector<at::Tensor> values;
  for (auto* p : targets) {
    const std::string name = "adapter." + p->name;
    if (!file.has(name))
      throw Error(file.source + ": no tensor '" + name + "' for this '" + adapter.type() +
                  "' adapter (the file was saved with other adapter options)");
    const at::Tensor& saved = file.get(name);
    const auto want = p->value.sizes().slice(1);
    if (saved.sizes() != want)
      throw Error(file.source + ": " + name + " has shape " + c10::str(saved.sizes()) +
                  " but this config needs " + c10::str(want) + " (d, k or rank differ)");
    if (!at::isFloatingType(saved.scalar_type()))
      throw Error(file.source + ": " + name + " has dtype " + c10::toString(saved.scalar_type()) +
                  ", expected a floating-point tensor");
    values.push_back(saved.to(p->value.options()));
  }
  for (size_t i = 0; i < targets.size(); ++i)
    targets[i]->value.copy_(values[i].unsqueeze(0).expand_as(targets[i]->value));
  adapter.after_update();
}

}  // namespace lrlab::models
