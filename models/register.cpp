#include "models/register.h"

#include <fmt/format.h>

#include <algorithm>

#include "framework/bounded_read.h"
#include "framework/config.h"
#include "framework/machine_resources.h"
#include "framework/safetensors.h"
#include "models/activation.h"
#include "models/adapter_io.h"
#include "models/adapters/dora.h"
#include "models/adapters/full.h"
#include "models/adapters/linearized.h"
#include "models/adapters/lora.h"
#include "models/adapters/lora_fa.h"
#include "models/adapters/rank1.h"
#include "models/adapters/scratch.h"
#include "models/adapters/vera.h"
#include "models/low_rank.h"
#include "models/two_layer.h"

namespace lrlab::models {

namespace {

void register_bases(BaseRegistry& r) {
  r.add("two_layer",
        [](const Config& cfg, const Context& ctx) {
          auto options = TwoLayerOptions::from_config(cfg);
          // Before anything is drawn: W [R, k, d] (drawn in float64) must fit, or d is refused here.
          check_tensor_fits(cfg, "d", {ctx.replicas(), options.k, options.d}, 8,
                            fmt::format("the base weights W [R, k, d] = [{}, {}, {}]", ctx.replicas(), options.k, options.d));
          auto activation = make_activation(cfg.child("activation"));
          return std::make_shared<TwoLayer>(options, activation, ctx);
        },
        "f(x) = lam^T sigma(W x): rows on the sphere / Gaussian / orthonormal; zero_base for the GLM case");
}

void register_teachers(TeacherRegistry& r) {
  r.add("low_rank",
        [](const Config& cfg, std::shared_ptr<const BaseNetwork> base, const Context& ctx) {
          auto o = LowRankOptions::from_config(cfg, base->d(), base->k());
          return std::make_shared<LowRank>(o, base, ctx);
        },
        "W* = W + xi C* U*^T (rank r), labels f_{W*}(x) + tau eps", {"xi", "tau"});
}

void register_adapters(AdapterRegistry& r) {
  r.add("rank1",
        [](const Config& cfg, const AdapterInputs& in) {
          auto o = Rank1Options::from_config(cfg);
          return std::make_shared<Rank1>(o, in);
        },
        "Delta = xi c u^T, u on the sphere (spherical SGD); c trained, fixed random or the teacher's", {"xi"});
  r.add("lora",
        [](const Config& cfg, const AdapterInputs& in) {
          auto o = LoraOptions::from_config(cfg, in.base->d(), in.base->k());
          return std::make_shared<Lora>(o, in);
        },
        "Delta = s B A, s = alpha/r (or alpha/sqrt r); init B = 0, pissa or spectral (LoRA-One)", {"alpha"});
  r.add("lora_fa",
        [](const Config& cfg, const AdapterInputs& in) {
          return std::make_shared<LoraFa>(LoraFaOptions::from_config(cfg, in.base->d(), in.base->k()), in);
        },
        "Delta = s B A with A frozen at its random init, only B trained (LoRA-FA)", {"alpha"});
  r.add("full", [](const Config&, const AdapterInputs& in) { return std::make_shared<Full>(in); },
        "dense Delta [k, d], zero at init (full fine-tuning)");
  r.add("scratch",
        [](const Config& cfg, const AdapterInputs& in) {
          auto o = ScratchOptions::from_config(cfg, in.base->d(), in.base->k());
          return std::make_shared<Scratch>(o, in);
        },
        "the student ignores W and learns its own first layer from a random start");
  r.add("dora",
        [](const Config& cfg, const AdapterInputs& in) {
          auto o = DoraOptions::from_config(cfg, in.base->d(), in.base->k());
          return std::make_shared<Dora>(o, in);
        },
        "W' = diag(m) rownormalise(W + s B A): trained magnitudes m and LoRA direction", {"alpha"});
  r.add("vera",
        [](const Config& cfg, const AdapterInputs& in) {
          return std::make_shared<Vera>(VeraOptions::from_config(cfg, in.base->d()), in);
        },
        "Delta = diag(b_vec) B diag(d_vec) A: frozen random A, B, trained scaling vectors");
  r.add("linearized",
        [](const Config& cfg, const AdapterInputs& in) {
          auto inner = adapter_registry().make(cfg.child("inner"), kDefaultAdapterType, in);
          return std::make_shared<Linearized>(inner, in);
        },
        "first-order Taylor model around W of the adapter in `inner` (lazy / kernel baseline)",
        {"inner.alpha", "inner.xi"});
}

}  // namespace

BaseRegistry& base_registry() {
  static BaseRegistry registry = [] {
    BaseRegistry r("base network");
    register_bases(r);
    return r;
  }();
  return registry;
}

TeacherRegistry& teacher_registry() {
  static TeacherRegistry registry = [] {
    TeacherRegistry r("teacher");
    register_teachers(r);
    return r;
  }();
  return registry;
}

AdapterRegistry& adapter_registry() {
  static AdapterRegistry registry = [] {
    AdapterRegistry r("adapter");
    register_adapters(r);
    return r;
  }();
  return registry;
}

namespace {

/// The tensor bytes a saved copy of `adapter` holds at most (one replica, float64): the bound of the
/// file `adapter.load` may read.
uint64_t saved_adapter_bytes(Adapter& adapter) {
  uint64_t bytes = 0;
  std::vector<Parameter*> all = adapter.parameters();
  for (auto* p : adapter.buffers()) all.push_back(p);
  for (auto* p : all) bytes += static_cast<uint64_t>(p->value.numel() / std::max<int64_t>(1, p->value.size(0))) * 8;
  return bytes;
}

}  // namespace

Model build_model(const Config& root, const Context& ctx) {
  Model m;
  m.ctx = ctx;
  const Config base_cfg = root.child("base");
  m.base = base_registry().make(base_cfg, kDefaultBaseType, ctx);
  base_cfg.finish_recursive();
  const Config teacher_cfg = root.child("teacher");
  m.teacher = teacher_registry().make(teacher_cfg, kDefaultTeacherType, m.base, ctx);
  teacher_cfg.finish_recursive();
  const Config adapter_cfg = root.child("adapter");
  m.adapter = adapter_registry().make(adapter_cfg, kDefaultAdapterType, AdapterInputs{ctx, m.base, m.teacher});
  if (adapter_cfg.has("load")) {
    const std::string path = adapter_cfg.get<std::string>("load");
    try {
      load_adapter(*m.adapter, read_safetensors(path, tensor_file_limit(saved_adapter_bytes(*m.adapter))));
    } catch (const ConfigError&) {
      throw;
    } catch (const Error& e) {
      adapter_cfg.fail("load", e.what());
    }
  }
  adapter_cfg.finish_recursive();
  return m;
}

}  // namespace lrlab::models
