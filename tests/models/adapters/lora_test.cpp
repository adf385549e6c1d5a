// The `lora` adapter: gradients for both scalings and every init, PiSSA exactness, the spectral
// (LoRA-One) init, LoRA+ learning-rate ratios in a trainer step, option errors, and end-to-end recovery.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>

#include "framework/error.h"
#include "models/adapters/full.h"
#include "models/adapters/lora.h"
#include "models/metrics.h"
#include "study/group_runner.h"
#include "tests/models/adapters/adapter_test_support.h"
#include "tests/models/adapters/e2e_support.h"
#include "trainers/gradients.h"
#include "trainers/trainer.h"

using lrlab::Config;
using lrlab::test::build_test_model;

namespace {

/// The projector onto the row space of `rows` [r, d]: Q Q^T with Q an orthonormal basis [d, r].
at::Tensor row_projector(const at::Tensor& rows) {
  at::Tensor q = std::get<0>(at::linalg_qr(rows.transpose(0, 1)));  // [d, r]
  return at::mm(q, q.transpose(0, 1));
}

double max_abs(const at::Tensor& t) { return t.abs().max().item<double>(); }

}  // namespace

TEST_CASE("lora: analytic gradient == autograd == finite differences, both scalings, every A init, rank 1 and 3",
          "[adapters][lora][gradcheck]") {
  for (int rank : {1, 3}) {
    for (const char* scaling : {"standard", "rs"}) {
      for (const char* init_a : {"gaussian", "kaiming", "orthogonal"}) {
        lrlab::test::check_adapter_gradients(
            fmt::format("{{type: lora, rank: {}, alpha: 2.0, scaling: {}, init_a: {}}}", rank, scaling, init_a));
      }
    }
  }
}

TEST_CASE("lora: gradients with the pissa and spectral inits, rank 1 and 3", "[adapters][lora][gradcheck]") {
  for (int rank : {1, 3}) {
    lrlab::test::check_adapter_gradients(fmt::format("{{type: lora, rank: {}, init: pissa}}", rank));
    lrlab::test::check_adapter_gradients(
        fmt::format("{{type: lora, rank: {}, init: pissa, scaling: rs, alpha: -1.5}}", rank));
    lrlab::test::check_adapter_gradients(
        fmt::format("{{type: lora, rank: {}, init: spectral, init_samples: 200, init_scale: 2.0}}", rank));
  }
}

TEST_CASE("lora: the scale is alpha / r (standard) or alpha / sqrt r (rs)", "[adapters][lora]") {
  auto standard = build_test_model("{type: lora, rank: 3, alpha: 6.0}", "{type: tanh}", 1);
  auto rs = build_test_model("{type: lora, rank: 3, alpha: 6.0, scaling: rs}", "{type: tanh}", 1);
  CHECK(dynamic_cast<lrlab::models::Lora&>(*standard.adapter).scale().item<double>() == Approx(2.0));
  CHECK(dynamic_cast<lrlab::models::Lora&>(*rs.adapter).scale().item<double>() == Approx(6.0 / std::sqrt(3.0)));
}

TEST_CASE("lora: pissa starts exactly at W, with s B A the top-r part of W's SVD", "[adapters][lora][pissa]") {
  for (const char* options : {"rank: 2", "rank: 3, scaling: rs, alpha: -0.7"}) {
    INFO(options);
    auto model = build_test_model(fmt::format("{{type: lora, init: pissa, {}}}", options), "{type: tanh}", 3, 9, 5);
    auto& lora = dynamic_cast<lrlab::models::Lora&>(*model.adapter);
    const at::Tensor w = model.base->weight();  // [R, k, d]
    // Base + adapter equals W at init (the frozen residual is W - s B0 A0).
    CHECK(max_abs(lora.effective_weight() - w) <= 1e-12);
    CHECK(max_abs(lora.delta()) <= 1e-12);
    const at::Tensor x = lrlab::test::test_normal({3, 6, 9}, 5);
    const at::Tensor wx = model.base->preactivations(x);
    CHECK(max_abs(lora.forward(x, wx) - model.base->output(wx)) <= 1e-12);
    // s B A = U_r S_r V_r^T, and the residual keeps the other singular values.
    const int64_t r = lora.options().rank;
    auto [u, sv, vh] = at::linalg_svd(w, false);
    const at::Tensor top = at::bmm(u.narrow(2, 0, r) * sv.narrow(1, 0, r).unsqueeze(1), vh.narrow(1, 0, r));
    auto params = lora.parameters();  // A, B
    const at::Tensor sba = lora.scale().view({-1, 1, 1}) * at::bmm(params[1]->value, params[0]->value);
    CHECK(max_abs(sba - top) <= 1e-12);
    const at::Tensor residual_sv = at::linalg_svdvals(w - sba);
    CHECK(max_abs(residual_sv.narrow(1, 0, sv.size(1) - r) - sv.narrow(1, r, sv.size(1) - r)) <= 1e-12);
    // The frozen B0, A0 are buffers (saved with the adapter), not parameters.
    REQUIRE(lora.buffers().size() == 2);
    CHECK(lora.buffers()[0]->name == "A0");
  }
}

TEST_CASE("lora: spectral init spans the top-r right singular vectors of the sampled full gradient",
          "[adapters][lora][spectral]") {
  const int64_t d = 12, k = 5, r = 2, n = 400;
  const std::string activation = "{type: tanh}";
  const std::string yaml = fmt::format(
      "dtype: float64\nbase: {{d: {}, k: {}, activation: {}}}\nteacher: {{rank: 2, xi: 0.8, tau: 0.1}}\n"
      "adapter: {{type: lora, rank: {}, alpha: 3.0, init: spectral, init_samples: {}, init_scale: 0.5}}\n",
      d, k, activation, r, n);
  const Config root = Config::stack({Config::load_string(yaml, "<spectral>"), Config::load_string(yaml, "<spectral>")});
  const lrlab::Context ctx = lrlab::make_context(root, {3, 4});
  lrlab::models::Model model = lrlab::models::build_model(root, ctx);
  auto& lora = dynamic_cast<lrlab::models::Lora&>(*model.adapter);

  // The same samples (Stream::kInitData: x [n, d], then the label noise [n]), with the gradient of the
  // full fine-tuning loss computed independently: a `full` adapter at Delta = 0 through compute_gradients.
  auto drawn = lrlab::stack_replicas_multi(ctx, lrlab::Stream::kInitData, [&](at::Generator& gen, int64_t) {
    at::Tensor x = lrlab::cpu_normal({n, d}, gen);
    at::Tensor eps = lrlab::cpu_normal({n}, gen);
    return std::vector<at::Tensor>{x, eps};
  });
  lrlab::models::Model full = model;
  full.adapter = std::make_shared<lrlab::models::Full>(lrlab::models::AdapterInputs{ctx, model.base, model.teacher});
  const at::Tensor wx = model.base->preactivations(drawn[0]);
  const at::Tensor y = model.teacher->labels(drawn[0], wx, drawn[1]);
  lrlab::trainers::compute_gradients(full, drawn[0], wx, y, lrlab::trainers::GradPath::kAnalytic, false);
  const at::Tensor grad = full.adapter->parameters()[0]->grad;  // G [R, k, d]
  CHECK(max_abs(grad - lrlab::models::sampled_full_gradient({ctx, model.base, model.teacher}, n)) <= 1e-12);

  auto [u, sv, vh] = at::linalg_svd(-grad, false);
  const at::Tensor a = lora.parameters()[0]->value;  // [R, r, d]
  const at::Tensor b = lora.parameters()[1]->value;  // [R, k, r]
  for (int64_t i = 0; i < 2; ++i) {
    INFO("replica " << i);
    // Row space of A == span of the top-r right singular vectors of -G.
    CHECK(max_abs(row_projector(a[i]) - row_projector(vh[i].narrow(0, 0, r))) <= 1e-10);
    // s B A = init_scale (-G)_r: one full-gradient step of size init_scale, projected to rank r.
    const at::Tensor top = at::mm(u[i].narrow(1, 0, r) * sv[i].narrow(0, 0, r), vh[i].narrow(0, 0, r));
    CHECK(max_abs(lora.scale()[i].item<double>() * at::mm(b[i], a[i]) - 0.5 * top) <= 1e-12);
  }
  // The overlap metric measures from there: the adapter's row space is the same subspace.
  const at::Tensor basis = lora.row_space(r);  // [R, d, r]
  CHECK(max_abs(at::bmm(basis, basis.transpose(1, 2))[0] - row_projector(vh[0].narrow(0, 0, r))) <= 1e-10);
}

TEST_CASE("lora: LoRA+ lr_ratio scales B's step in gradient_step and in an online_sgd run",
          "[adapters][lora][lr_ratio]") {
  // gradient_step: theta <- theta - lr * lr_scale * grad.
  auto model = build_test_model("{type: lora, rank: 2, lr_ratio: 4.0}", "{type: tanh}", 2);
  lrlab::perturb_parameters(*model.adapter, 0.5, 3);
  auto params = model.adapter->parameters();
  REQUIRE(params[1]->name == "B");
  CHECK(params[0]->lr_scale == 1.0);
  CHECK(params[1]->lr_scale == 4.0);
  const at::Tensor x = lrlab::test::test_normal({2, 5, 7}, 1), y = lrlab::test::test_normal({2, 5}, 2);
  lrlab::trainers::compute_gradients(model, x, model.base->preactivations(x), y, lrlab::trainers::GradPath::kAnalytic,
                                     false);
  const at::Tensor a0 = params[0]->value.clone(), b0 = params[1]->value.clone();
  const at::Tensor ga = params[0]->grad.clone(), gb = params[1]->grad.clone();
  const at::Tensor lr = at::tensor({0.1, 0.2}, at::kDouble);
  lrlab::trainers::gradient_step(*model.adapter, lr, true);
  CHECK(max_abs(params[0]->value - (a0 - lr.view({-1, 1, 1}) * ga)) <= 1e-14);
  CHECK(max_abs(params[1]->value - (b0 - 4.0 * lr.view({-1, 1, 1}) * gb)) <= 1e-14);

  // One trainer step from the init (B = 0, so A's gradient vanishes and B's does not depend on the
  // ratio): B after one step is exactly lr_ratio times B after one step with ratio 1, for every trainer
  // (online_sgd on both gradient paths, adam, offline_gd, population_gd).
  auto b_after_one_step = [](const std::string& trainer, double ratio) {
    const std::string yaml = fmt::format(
        "name: lr_ratio\nseed: 5\ndtype: float64\nbase: {{d: 16, k: 4, activation: {{type: tanh}}}}\n"
        "adapter: {{type: lora, rank: 1, lr_ratio: {}}}\ntrainer: {}\n"
        "metrics: {{names: [delta_error], every: 1}}\n",
        ratio, trainer);
    lrlab::study::GroupOutcome out = lrlab::study::run_group({Config::load_string(yaml, "<lr_ratio>")}, {lrlab::RunRecord{"r", 5}});
    auto params = out.group.model.adapter->parameters();
    return std::make_pair(params[0]->value.clone(), params[1]->value.clone());
  };
  for (const char* trainer :
       {"{type: online_sgd, steps: 1, batch: 4, lr: 0.3}", "{type: online_sgd, steps: 1, batch: 4, lr: 0.3, grad: autograd}",
        "{type: adam, steps: 1, batch: 4, lr: 0.01}", "{type: offline_gd, n_per_d: 2, batch: full, epochs: 1, lr: 0.3}",
        "{type: population_gd, steps: 1, lr: 0.3}"}) {
    INFO(trainer);
    const auto [a1, b1] = b_after_one_step(trainer, 1.0);
    const auto [a4, b4] = b_after_one_step(trainer, 4.0);
    CHECK(b1.abs().max().item<double>() > 0);
    CHECK(max_abs(b4 - 4.0 * b1) <= 1e-14);
    CHECK(at::equal(a1, a4));
  }
}

TEST_CASE("lora: option errors name the key", "[adapters][lora]") {
  CHECK_THROWS_WITH(build_test_model("{type: lora, rank: 5}", "{type: tanh}", 1),
                    Catch::Contains("adapter.rank") && Catch::Contains("1..min(k, d) = 4"));
  CHECK_THROWS_WITH(build_test_model("{type: lora, init: svd}", "{type: tanh}", 1),
                    Catch::Contains("adapter.init") && Catch::Contains("pissa"));
  CHECK_THROWS_WITH(build_test_model("{type: lora, init: spectral, init_samples: 0}", "{type: tanh}", 1),
                    Catch::Contains("adapter.init_samples"));
  CHECK_THROWS_WITH(build_test_model("{type: lora, lr_ratio: -1}", "{type: tanh}", 1),
                    Catch::Contains("adapter.lr_ratio"));
}

TEST_CASE("lora: rank-1 fine-tuning reaches delta_error < 0.1 on d = 64, k = 4, ReLU for 3 seeds",
          "[adapters][lora][e2e]") {
  // Budget (configs/examples/lora.yaml): 6000 online-SGD steps, batch 8, step size 16 / d.
  const auto start = std::chrono::steady_clock::now();
  const std::vector<double> errors = lrlab::test::example_final_delta_errors("lora", 3);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("lora e2e: 3 seeds in " << seconds << " s");
  REQUIRE(errors.size() == 3);
  for (size_t i = 0; i < errors.size(); ++i) {
    INFO("seed " << i << ": delta_error " << errors[i]);
    CHECK(errors[i] < 0.1);
  }
}
