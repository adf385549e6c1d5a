// `lrlab gradcheck`: fails naming the parameter on a deliberately wrong gradient (a test-only adapter
// with a planted error, registered under the test-only key "planted_error"), passes on the example
// configs, and the real binary prints the table and exits 0.
#include "tests/support/paths.h"
#include "apps/gradcheck_command.h"

#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>

#include "apps/commands.h"
#include "framework/config.h"
#include "models/register.h"

namespace {

using lrlab::models::Adapter;
using lrlab::models::AdapterInputs;
using lrlab::models::Parameter;

/// h = W x + Delta x + bias with a correct gradient for Delta and a 1% error planted in bias's.
class PlantedError : public Adapter {
 public:
  explicit PlantedError(const AdapterInputs& in) : Adapter(in.base) {
    delta_.value = at::zeros_like(base_->weight());
    bias_.value = at::zeros({base_->replicas(), base_->k()}, base_->weight().options());
  }
  std::string type() const override { return "planted_error"; }
  std::vector<Parameter*> parameters() override { return {&delta_, &bias_}; }
  at::Tensor preactivations(const at::Tensor& x, const at::Tensor& wx) override {
    return wx + at::bmm(x, delta_.value.transpose(1, 2)) + bias_.value.unsqueeze(1);
  }
  void backward_preactivations(const at::Tensor& x, const at::Tensor&, const at::Tensor& g) override {
    delta_.grad = at::bmm(g.transpose(1, 2), x);  // right
    bias_.grad = 1.01 * g.sum(1);                  // planted: 1% too large
  }
  at::Tensor delta() const override { return delta_.value; }

 private:
  Parameter delta_{"Delta"};
  Parameter bias_{"bias"};
};

void register_planted_error() {
  auto& registry = lrlab::models::adapter_registry();
  if (!registry.contains("planted_error"))
    registry.add("planted_error",
                 [](const lrlab::Config&, const AdapterInputs& in) { return std::make_shared<PlantedError>(in); },
                 "test only: a planted 1% error in the gradient of `bias`");
}

/// Runs `command` and returns its exit status and standard output.
std::pair<int, std::string> run_command(const std::string& command) {
  std::array<char, 4096> buffer{};
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

const std::string kSource = LRLAB_SOURCE_DIR;

}  // namespace

TEST_CASE("gradcheck fails with a non-zero status naming the parameter with a planted gradient error",
          "[gradcheck][gradcheck_command]") {
  register_planted_error();
  const lrlab::Config root = lrlab::Config::load_string(
      "name: planted\nseed: 3\nbase: {d: 9, k: 3, activation: {type: tanh}}\nadapter: {type: planted_error}\n",
      "<planted>");
  std::ostringstream out, err;
  const int status = lrlab::run_gradcheck(root, lrlab::GradcheckCommandOptions{}, out, err);
  INFO(out.str() << err.str());
  CHECK(status != 0);
  CHECK_THAT(err.str(), Catch::Contains("parameter 'bias'") && Catch::Contains("autograd") &&
                            Catch::Contains("finite differences"));
  CHECK_THAT(err.str(), !Catch::Contains("parameter 'Delta'"));
  CHECK_THAT(out.str(), Catch::Contains("bias") && Catch::Contains("FAIL") && Catch::Contains("Delta"));
}

TEST_CASE("gradcheck passes on every example config, and every adapter has one", "[gradcheck][gradcheck_command]") {
  std::set<std::string> adapters;
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kSource + "/configs/examples")) {
    if (entry.path().extension() != ".yaml") continue;
    INFO(entry.path().filename().string());
    const lrlab::Config root = lrlab::load_with_overrides(entry.path().string(), {});
    const std::string adapter = root.value_text("adapter.type");
    adapters.insert(adapter.empty() ? lrlab::models::kDefaultAdapterType : adapter);
    ++checked;
    std::ostringstream out, err;
    lrlab::GradcheckCommandOptions options;
    options.max_elements = 64;  // keep the test quick (the command checks every element by default)
    const int status = lrlab::run_gradcheck(root, options, out, err);
    INFO(out.str() << err.str());
    CHECK(status == 0);
    CHECK_THAT(out.str(), Catch::Contains("finite difference") && Catch::Contains("ok: every parameter"));
  }
  CHECK(checked >= 9);
  for (const auto& key : lrlab::models::adapter_registry().keys()) {
    if (key == "planted_error") continue;  // registered by this file's test above, not a real adapter
    INFO("adapter '" << key << "' has no example in configs/examples/ (add configs/examples/" << key << ".yaml)");
    CHECK(adapters.count(key) == 1);
  }
}

TEST_CASE("the lrlab binary runs gradcheck: table and exit 0; a bad override exits non-zero",
          "[gradcheck][gradcheck_command]") {
  const std::string binary = LRLAB_BINARY;
  auto [status, output] = run_command(binary + " gradcheck " + kSource + "/configs/examples/dora.yaml --batch 3 2>&1");
  INFO(output);
  CHECK(status == 0);
  CHECK_THAT(output, Catch::Contains("parameter") && Catch::Contains("rel err") && Catch::Contains("autograd") &&
                         Catch::Contains("finite difference") && Catch::Contains("ok: every parameter"));
  for (const char* p : {"\nm ", "\nA ", "\nB "}) CHECK_THAT(output, Catch::Contains(p));
  auto [bad_status, bad_output] =
      run_command(binary + " gradcheck " + kSource + "/configs/examples/dora.yaml adapter.rnak=2 2>&1");
  INFO(bad_output);
  CHECK(bad_status != 0);
  CHECK_THAT(bad_output, Catch::Contains("rnak"));
}
