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
#include "models/option_help.h"
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

namespace lrlab::models {

void add_model_option_help(OptionHelpTable& t) {
  t.add("base network", "", {{"type", "the base network f(x) = lam^T sigma(W x) (registered type)"}});
  t.add("base network", "two_layer",
        {{"d", "input dimension d"},
         {"k", "width k (rows of W)"},
         {"activation", "the activation sigma (a section with its own type, see `lrlab list activation`)"},
         {"init", "rows of W: sphere (unit norm) | gaussian (N(0, I/d)) | orthonormal (k <= d)"},
         {"row_scale", "multiplies every row of W after init"},
         {"second_layer", "lam: constant (1/k) | signs (+-1/sqrt k) | gaussian (N(0, 1/k)) | given (from lam)"},
         {"lam", "the second layer when second_layer = given (k numbers)"},
         {"zero_base", "W = 0: the GLM / single-index case"}});
  t.add("activation", "", {{"type", "the activation sigma (registered type)"},
                           {"quadrature_nodes", "ignored (kept so old configs load): the kernel is accurate to 1e-8, docs/math.md"}});
  t.add("activation", "softplus", {{"beta", "sharpness: log(1 + exp(beta z)) / beta"}});
  t.add("activation", "hermite",
        {{"p", "sigma = He_p (1..6); give p or coefficients"},
         {"coefficients", "[a_0, a_1, ...]: sigma = sum_p a_p He_p / p!"},
         {"normalize", "scale sigma to unit norm under N(0, 1)"}});
  t.add("teacher", "", {{"type", "the teacher (registered type)"}});
  t.add("teacher", "low_rank",
        {{"rank", "rank r of the teacher's perturbation W* - W"},
         {"xi", "perturbation scale xi* (may differ across replicas)"},
         {"c", "columns of C*: random (uniform on the sphere) | uniform (1/sqrt k) | basis (e_1..e_r)"},
         {"tau", "label noise standard deviation (may differ across replicas)"}});
  t.add("adapter", "", {{"type", "the adapter Delta trained on top of W (registered type)"},
                        {"load", "start from the adapter saved in this .safetensors file"},
                        {"rank", "rank r of the factors B [k, r] and A [r, d]"},
                        {"alpha", "scale numerator of s = alpha / r (may differ across replicas)"},
                        {"scaling", "standard (s = alpha / r) | rs (s = alpha / sqrt r)"},
                        {"init_a", "A at init: gaussian N(0, 1/d) | kaiming (PEFT's U(-1/sqrt d, 1/sqrt d)) | orthogonal"},
                        {"lr_ratio", "learning-rate multiplier of B relative to A (LoRA+)"},
                        {"init", "initialisation of the adapter's parameters (see the type)"},
                        {"row_scale", "multiplies every row after init"}});
  t.add("adapter", "rank1",
        {{"c", "train | fixed_random | teacher (the known-c case: c = c*)"},
         {"c_init", "c at init when c = train: random (unit norm) | zero"},
         {"xi", "initial xi (may differ across replicas); ignored when xi_from_teacher"},
         {"xi_from_teacher", "start xi at the teacher's xi* (needs a low_rank teacher)"},
         {"train_xi", "train xi too"}});
  t.add("adapter", "lora",
        {{"init", "default (A by init_a, B = 0) | pissa | spectral (LoRA-One: one full-gradient step)"},
         {"init_samples", "spectral init: samples that estimate the full gradient"},
         {"init_scale", "spectral init: step size eta of s B A = eta (-G)_r"}});
  t.add("adapter", "vera",
        {{"rank", "rows of the frozen A (may exceed k; at most d)"},
         {"d_init", "initial value of every entry of d_vec"},
         {"init", "frozen A, B: kaiming (U(-1/sqrt fan_in, 1/sqrt fan_in), as PEFT) | gaussian (N(0, 1/fan_in))"},
         {"lr_ratio", "learning-rate multiplier of b_vec relative to d_vec (LoRA+)"}});
  t.add("adapter", "scratch", {{"init", "rows of Theta: sphere | gaussian | orthonormal (as the base network)"}});
  t.add("adapter", "linearized", {{"inner", "the adapter that is linearized (a section with its own type)"}});
  t.add("metrics", "",
        {{"names", "metrics recorded (see `lrlab list metric`)"},
         {"every", "record every this many steps (0: about 100 records per run); the resolution of hitting times"},
         {"test_samples", "size of the held-out Monte-Carlo test set (test_loss)"},
         {"test_seed", "seed of the test inputs (shared by every run, so runs compare on one set)"},
         {"thresholds", "metric -> thresholds, e.g. {overlap: [0.5, 0.95]}: columns steps_to_overlap_0.5, ..."},
         {"success", "metric -> \">= x\" or \"<= x\", all at one record: column steps_to_success"}});
}

}  // namespace lrlab::models
