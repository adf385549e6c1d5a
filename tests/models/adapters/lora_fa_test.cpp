// The `lora_fa` adapter: gradients three ways, the init (the student starts at the base model), the
// frozen A that is a buffer and never trained, the dense Delta, option errors. Its CPU kernel is
// covered by tests/trainers/kernel_step_test.cpp with no edit (it iterates the registry). The guide
// docs/adding-an-adapter.md shows these files in full; the last test keeps it true.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "models/adapters/lora_fa.h"
#include "tests/models/adapters/adapter_test_support.h"
#include "tests/support/paths.h"
#include "trainers/gradients.h"
#include "trainers/trainer.h"

using lrlab::test::build_test_model;

TEST_CASE("lora_fa: analytic gradient == autograd == finite differences", "[adapters][lora_fa][gradcheck]") {
  lrlab::test::check_adapter_gradients("{type: lora_fa, rank: 1}");
  lrlab::test::check_adapter_gradients("{type: lora_fa, rank: 3, alpha: 2.0, scaling: rs, init_a: orthogonal}");
}

TEST_CASE("lora_fa: B = 0 at init, A frozen, Delta = s B A", "[adapters][lora_fa]") {
  auto model = build_test_model("{type: lora_fa, rank: 2, alpha: 3.0}", "{type: tanh}", 2);
  auto& adapter = *model.adapter;
  auto params = adapter.parameters();
  auto buffers = adapter.buffers();
  REQUIRE(params.size() == 1);
  REQUIRE(buffers.size() == 1);
  CHECK(params[0]->name == "B");
  CHECK(buffers[0]->name == "A");
  CHECK(params[0]->value.sizes() == at::IntArrayRef({2, 4, 2}));   // B [R, k, r]
  CHECK(buffers[0]->value.sizes() == at::IntArrayRef({2, 2, 7}));  // A [R, r, d]
  CHECK(adapter.delta().abs().max().item<double>() == 0);          // the student starts at the base

  const at::Tensor a = buffers[0]->value.clone();
  for (int step = 0; step < 3; ++step) {
    const at::Tensor x = lrlab::test::test_normal({2, 5, 7}, step), y = lrlab::test::test_normal({2, 5}, 50 + step);
    lrlab::trainers::compute_gradients(model, x, model.base->preactivations(x), y,
                                       lrlab::trainers::GradPath::kAnalytic, false);
    lrlab::trainers::gradient_step(adapter, at::full({2}, 0.5, at::kDouble), true);
  }
  CHECK((buffers[0]->value - a).abs().max().item<double>() == 0);  // A never moves
  CHECK(params[0]->value.abs().max().item<double>() > 0);          // B does
  const at::Tensor dense = 1.5 * at::bmm(params[0]->value, a);     // s = alpha / r = 3 / 2
  CHECK((adapter.delta() - dense).abs().max().item<double>() <= 1e-15);
}

TEST_CASE("lora_fa: option errors name the key; lr_ratio is not an option", "[adapters][lora_fa]") {
  CHECK_THROWS_WITH(build_test_model("{type: lora_fa, rank: 9}", "{type: tanh}", 1), Catch::Contains("adapter.rank"));
  CHECK_THROWS_WITH(build_test_model("{type: lora_fa, alpha: 0}", "{type: tanh}", 1), Catch::Contains("adapter.alpha"));
  CHECK_THROWS_WITH(build_test_model("{type: lora_fa, lr_ratio: 2}", "{type: tanh}", 1), Catch::Contains("lr_ratio"));
}

TEST_CASE("docs/adding-an-adapter.md shows the real lora_fa files in full", "[adapters][lora_fa][docs]") {
  auto read = [](const std::string& path) {
    std::ifstream in(std::string(LRLAB_SOURCE_DIR) + "/" + path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  const std::string guide = read("docs/adding-an-adapter.md");
  REQUIRE_FALSE(guide.empty());
  for (const char* path : {"models/adapters/lora_fa.h", "models/adapters/lora_fa.cpp",
                           "models/adapters/lora_fa_kernel.cpp", "tests/models/adapters/lora_fa_test.cpp",
                           "configs/examples/lora_fa.yaml"}) {
    INFO(path << " differs from its copy in docs/adding-an-adapter.md");
    std::string text = read(path);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    REQUIRE_FALSE(text.empty());
    CHECK(guide.find(text) != std::string::npos);
  }
}
