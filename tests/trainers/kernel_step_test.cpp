// The kernel path of online training (trainers/kernel_step.h with the components' CPU kernels) equals
// the batched path and the autograd path: float64 to 1e-12 (relative), float32 to 1e-5; same losses
// and parameters after several steps, for every registered adapter (with its defaults and with every
// adapter section of configs/examples/), every activation, every registered update rule, R in {1, 3},
// B in {1, 5}, label noise, weight decay, LoRA+ ratios, with and without the spherical step. Every
// comparison is made non-vacuous: the loss is non-zero and the parameters moved. A new adapter is
// covered with no edit here, and losing a built-in kernel fails.

#include "tests/support/paths.h"
#include <catch2/catch.hpp>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "apps/commands.h"
#include "apps/gradcheck_command.h"
#include "framework/config.h"
#include "framework/context.h"
#include "models/adapters/full.h"
#include "models/register.h"
#include "tests/models/adapters/adapter_test_support.h"
#include "trainers/kernel_step.h"
#include "trainers/online_step.h"
#include "trainers/update_rule.h"

namespace {

using lrlab::Config;
using lrlab::trainers::GradPath;
using lrlab::trainers::OnlineStep;
using lrlab::trainers::UpdateRule;

struct Case {
  std::string adapter;     // YAML flow mapping or block text of the adapter section
  std::string activation;  // YAML flow mapping
  int64_t replicas = 3;
  int64_t batch = 5;
  std::string rule = "sgd";
  double weight_decay = 0.0;
  bool spherical = true;
  std::string dtype = "float64";
};

// The registered adapters, less the test-only "planted_error" that tests/apps/gradcheck_command_test.cpp
// registers (present when every test runs in one process).
std::vector<std::string> registered_adapters() {
  std::vector<std::string> out;
  for (const auto& key : lrlab::models::adapter_registry().keys())
    if (key != "planted_error") out.push_back(key);
  return out;
}

// A float64 (or float32) CPU problem, d = 40, k = 5, a rank-2 teacher with label noise on every replica
// but the second; parameters moved off the init (B = 0 would hide A's gradient) identically each time.
lrlab::models::Model build(const Case& c) {
  std::vector<Config> documents;
  std::vector<int64_t> seeds;
  for (int64_t r = 0; r < c.replicas; ++r) {
    seeds.push_back(40 + r);
    documents.push_back(Config::load_string(
        fmt::format("dtype: {}\ndevice: cpu\nbase: {{type: two_layer, d: 40, k: 5, activation: {}}}\n"
                    "teacher: {{type: low_rank, rank: 2, xi: 1.5, tau: {}}}\nadapter: {}\n",
                    c.dtype, c.activation, r == 1 ? "0.0" : "0.2", c.adapter),
        "<kernel_step_test>"));
  }
  const Config root = c.replicas == 1 ? documents[0] : Config::stack(documents);
  lrlab::models::Model model = lrlab::models::build_model(root, lrlab::make_context(root, seeds));
  lrlab::perturb_parameters(*model.adapter, 0.3, 77);
  return model;
}

std::shared_ptr<UpdateRule> make_rule(const std::string& type, lrlab::models::Model& model) {
  auto rule = lrlab::trainers::update_rule_registry().make(Config::load_string("type: " + type), type,
                                                          model.ctx.replicas());
  rule->init(model.adapter->parameters());
  return rule;
}

// max |a - b| / max(1, max |b|) over one tensor.
double rel_err(const at::Tensor& a, const at::Tensor& b) {
  const double scale = std::max(1.0, b.abs().max().item<double>());
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>() / scale;
}

// Runs `steps` steps of the kernel, batched and autograd paths from the same start and compares them.
void compare(const Case& c, int steps = 4) {
  INFO("adapter " << c.adapter << "\nactivation " << c.activation << ", R " << c.replicas << ", B " << c.batch
                  << ", rule " << c.rule << ", weight_decay " << c.weight_decay << ", spherical " << c.spherical
                  << ", " << c.dtype);
  auto km = build(c), bm = build(c), am = build(c), start = build(c);
  auto kr = make_rule(c.rule, km), br = make_rule(c.rule, bm), ar = make_rule(c.rule, am);
  OnlineStep kernel(km, c.batch, GradPath::kAnalytic, c.spherical, *kr, /*allow_kernel=*/true);
  OnlineStep batched(bm, c.batch, GradPath::kAnalytic, c.spherical, *br, /*allow_kernel=*/false);
  OnlineStep autograd(am, c.batch, GradPath::kAutograd, c.spherical, *ar, /*allow_kernel=*/true);
  INFO("kernel path: " << kernel.path());
  REQUIRE(kernel.path() == "kernel");  // every built-in adapter, activation and teacher has a kernel
  REQUIRE(batched.path() == "batched (kernel path disabled)");
  REQUIRE(autograd.path() == "autograd");
  const bool float64 = c.dtype == "float64";
  const double tol = float64 ? 1e-12 : 1e-5;
  // Per-replica learning rates (different, so a mix-up of replicas shows); polynomial activations
  // (hermite) blow up at rates the bounded ones take.
  const double base_lr = c.activation.find("hermite") != std::string::npos ? 0.002 : 0.015;
  std::vector<double> lr_values;
  for (int64_t r = 0; r < c.replicas; ++r) lr_values.push_back(base_lr * (1.0 + 0.5 * static_cast<double>(r)));
  const at::Tensor lr = lrlab::per_replica(km.ctx, lr_values);
  const at::Tensor decay = c.weight_decay > 0 ? lr * c.weight_decay : at::Tensor();
  // Whether each parameter changed in some step (a rule such as sign_sgd can step back to the exact
  // start, so comparing only the end with the start would miss a parameter that was updated).
  std::vector<double> changed(km.adapter->parameters().size(), 0.0);
  for (int s = 1; s <= steps; ++s) {
    INFO("step " << s);
    std::vector<at::Tensor> before;
    for (auto* p : km.adapter->parameters()) before.push_back(p->value.clone());
    const at::Tensor lk = kernel.step(s, lr, decay, /*want_loss=*/true).clone();
    for (size_t j = 0; j < before.size(); ++j)
      changed[j] = std::max(changed[j], rel_err(km.adapter->parameters()[j]->value, before[j]));
    const at::Tensor lb = batched.step(s, lr, decay, /*want_loss=*/true).clone();
    const at::Tensor la = autograd.step(s, lr, decay, /*want_loss=*/true).clone();
    REQUIRE(at::isfinite(lb).all().item<bool>());  // a diverging run would compare NaN with NaN
    CHECK(rel_err(lk, lb) < tol);
    if (float64) CHECK(rel_err(lk, la) < tol);
    CHECK(lb.abs().min().item<double>() > 0);  // the comparison is not of zero losses
  }
  auto kp = km.adapter->parameters(), bp = bm.adapter->parameters(), ap = am.adapter->parameters();
  auto sp = start.adapter->parameters();
  REQUIRE(kp.size() == bp.size());
  double moved = 0.0;
  for (size_t j = 0; j < kp.size(); ++j) {
    INFO("parameter " << kp[j]->name);
    CHECK(rel_err(kp[j]->value, bp[j]->value) < tol);
    if (float64) CHECK(rel_err(kp[j]->value, ap[j]->value) < tol);
    const double moved_j = rel_err(kp[j]->value, sp[j]->value);
    if (c.activation != "{type: relu}") CHECK(changed[j] > 0);  // every parameter was updated
    moved = std::max(moved, moved_j);
  }
  // The parameters moved, by far more than the comparison's tolerance (10^6 x in float64): the
  // comparison is not of two untouched starts.
  CHECK(moved > (float64 ? 1e-6 : 1e-4));
}

// The adapter section (as YAML text) of every file in configs/examples/ that has one.
std::vector<std::string> example_adapter_sections() {
  std::set<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(LRLAB_SOURCE_DIR) + "/configs/examples")) {
    if (entry.path().extension() != ".yaml") continue;
    const Config root = Config::load_file(entry.path().string());
    if (root.has("adapter")) out.insert(root.value_text("adapter"));
  }
  return {out.begin(), out.end()};
}

// Every registered adapter with its defaults, every example section, and the option variants the
// defaults do not reach (frozen c and trained xi, rsLoRA with an orthogonal A, LoRA+ ratios,
// linearized over a kernel other than the default inner one).
std::vector<std::string> adapter_sections() {
  std::vector<std::string> out;
  for (const auto& key : registered_adapters()) out.push_back("{type: " + key + "}");
  for (const auto& section : example_adapter_sections()) out.push_back(section);
  for (const char* variant :
       {"{type: rank1, c: teacher, train_xi: true}",
        "{type: rank1, c: fixed_random, xi_from_teacher: false, xi: 0.7, train_xi: true}",
        "{type: lora, rank: 3, alpha: 2.0, scaling: rs, init_a: orthogonal, lr_ratio: 3.0}",
        "{type: lora, rank: 2, init: pissa, lr_ratio: 2.0}", "{type: dora, rank: 2, lr_ratio: 2.0}",
        "{type: vera, rank: 6, lr_ratio: 2.0}", "{type: linearized, inner: {type: dora, rank: 2}}",
        "{type: linearized, inner: {type: vera, rank: 3}}"})
    out.push_back(variant);
  return out;
}

}  // namespace

TEST_CASE("kernel path equals the batched and autograd paths for every adapter and activation", "[kernel]") {
  for (const auto& adapter : registered_adapters()) {
    for (const auto& activation : lrlab::test::test_activations()) {
      compare({"{type: " + adapter + "}", activation, 1, 1});
      compare({"{type: " + adapter + "}", activation, 3, 5, "sgd", /*weight_decay=*/0.2});
    }
  }
}

TEST_CASE("kernel path equals the batched path for every adapter section, option variant and update rule",
          "[kernel]") {
  const auto rules = lrlab::trainers::update_rule_registry().keys();
  for (const auto& adapter : adapter_sections()) {
    for (const auto& rule : rules) {
      compare({adapter, "{type: tanh}", 3, 5, rule, /*weight_decay=*/0.1});
      compare({adapter, "{type: erf}", 1, 5, rule, /*weight_decay=*/0.0, /*spherical=*/false});
    }
  }
}

TEST_CASE("kernel path equals the batched path in float32", "[kernel]") {
  for (const auto& adapter : registered_adapters())
    for (int64_t batch : {1, 5})
      compare({"{type: " + adapter + "}", "{type: tanh}", 3, batch, "sgd", /*weight_decay=*/0.1, true, "float32"});
}

TEST_CASE("kernel path splits replicas across threads with the same result", "[kernel]") {
  // Enough work (R B d >= 131072, kernel_step.cpp) for the parallel branch; compared with the batched path.
  const int before = at::get_num_threads();
  at::set_num_threads(2);
  const Case c{"{type: lora, rank: 2}", "{type: tanh}", 8, 410};
  auto km = build(c), bm = build(c);
  auto kr = make_rule("sgd", km), br = make_rule("sgd", bm);
  OnlineStep kernel(km, c.batch, GradPath::kAnalytic, true, *kr);
  OnlineStep batched(bm, c.batch, GradPath::kAnalytic, true, *br, false);
  REQUIRE(kernel.kernel());
  const at::Tensor lr = at::full({c.replicas}, 0.05, at::kDouble);
  for (int s = 1; s <= 3; ++s) {
    const at::Tensor lk = kernel.step(s, lr, at::Tensor(), true).clone();
    CHECK(rel_err(lk, batched.step(s, lr, at::Tensor(), true)) < 1e-12);
  }
  if (lrlab::trainers::KernelStep::parallel_available()) {
    CHECK(kernel.kernel_step()->threads_used() == 2);  // the parallel branch really ran
  } else {
    WARN("kernel_step.cpp was built without OpenMP: replicas run on one thread");
  }
  for (size_t j = 0; j < 2; ++j)
    CHECK(rel_err(km.adapter->parameters()[j]->value, bm.adapter->parameters()[j]->value) < 1e-12);
  at::set_num_threads(before);
}

namespace {

// An adapter that provides no CPU kernel (a user's new one, before it gets one).
class NoKernel : public lrlab::models::Full {
 public:
  using Full::Full;
  std::string type() const override { return "no_kernel"; }
  std::unique_ptr<lrlab::models::AdapterKernelBase> cpu_kernel(at::ScalarType dtype, std::string* why) override {
    return Adapter::cpu_kernel(dtype, why);
  }
};

}  // namespace

TEST_CASE("kernel path declines what has no kernel and says why", "[kernel]") {
  Case c{"{type: full}", "{type: tanh}", 1, 2};
  auto model = build(c);
  model.adapter = std::make_shared<NoKernel>(lrlab::models::AdapterInputs{model.ctx, model.base, model.teacher});
  auto rule = make_rule("sgd", model);
  OnlineStep step(model, 2, GradPath::kAnalytic, true, *rule);
  CHECK_FALSE(step.kernel());
  CHECK(step.path() == "batched (adapter 'no_kernel' provides no CPU kernel)");
  const at::Tensor loss = step.step(1, at::full({1}, 0.1, at::kDouble), at::Tensor(), true);
  CHECK(loss.item<double>() > 0);  // the batched path still runs it
  auto model2 = build(c);
  OnlineStep autograd(model2, 2, GradPath::kAutograd, true, *rule);
  CHECK(autograd.path() == "autograd");
}

TEST_CASE("lrlab list shows every adapter's fast path: kernel", "[kernel][list]") {
  const std::string listing = lrlab::list_components(/*with_options=*/true);
  INFO(listing);
  const std::string line = "fast path (CPU online SGD): kernel\n";
  size_t count = 0;
  for (size_t at = listing.find(line); at != std::string::npos; at = listing.find(line, at + 1)) ++count;
  CHECK(count == registered_adapters().size());
}
