#include "models/adapter_io.h"

#include <yaml-cpp/yaml.h>

#include "framework/config.h"
#include "framework/error.h"

namespace lrlab::models {

TensorFile adapter_tensor_file(Adapter& adapter, int64_t replica, const Config& run_config) {
  TensorFile file;
  std::string shapes;
  for (auto* p : adapter.parameters()) {
    at::Tensor v = p->value.detach()[replica].cpu();
    file.tensors.emplace_back("adapter." + p->name, v);
    shapes += (shapes.empty() ? "" : ", ") + p->name + " " + c10::str(v.sizes());
  }
  file.metadata["adapter.type"] = adapter.type();
  file.metadata["adapter.shapes"] = shapes;
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
  for (auto* p : adapter.parameters()) {
    const at::Tensor& saved = file.get("adapter." + p->name);
    const auto want = p->value.sizes().slice(1);
    if (saved.sizes() != want)
      throw Error(file.source + ": adapter." + p->name + " has shape " + c10::str(saved.sizes()) +
                  " but this config needs " + c10::str(want) + " (d, k or rank differ)");
    p->value.copy_(saved.to(p->value.options()).unsqueeze(0).expand_as(p->value));
  }
  adapter.after_update();
}

}  // namespace lrlab::models
