// `lrlab export --peft`: a trained lora (and rank1) run in PEFT's LoRA layout, read back from the
// files; other adapter types are refused with the reason.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <string>

#include "framework/safetensors.h"
#include "tests/apps/run_binary.h"
#include "tests/support/temp_dir.h"

namespace {

using lrlab::test::run_lrlab;

/// Trains a one-run study with `adapter` and saved tensors into `dir`/out; returns the run's file.
std::string trained_run(const std::string& dir, const std::string& adapter) {
  lrlab::test::write_text(dir + "/c.yaml",
                          "name: export\ndtype: float64\nbase: {d: 12, k: 3}\nteacher: {rank: 2, xi: 1.0}\n"
                          "adapter: " + adapter + "\ntrainer: {steps: 200, lr: 0.2}\nmetrics: {names: [delta_error]}\n");
  const auto r = run_lrlab({"run", dir + "/c.yaml", "--out", dir + "/out", "-q"}, dir + "/capture", 120);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return dir + "/out/tensors/p000_s00.safetensors";
}

}  // namespace

TEST_CASE("lrlab export --peft writes lora_A [r, d], lora_B [k, r] and a config that reproduce Delta", "[export]") {
  lrlab::testing::TempDir dir;
  const std::string run = trained_run(dir.path, "{type: lora, rank: 2, alpha: 3.0, scaling: rs}");
  const auto r = run_lrlab({"export", dir.path + "/out", "--peft", dir.path + "/peft", "--target-module", "layer1"},
                           dir.path + "/capture", 60);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const lrlab::TensorFile peft = lrlab::read_safetensors(dir.path + "/peft/adapter_model.safetensors");
  REQUIRE(peft.tensors.size() == 2);
  const at::Tensor a = peft.get("base_model.model.layer1.lora_A.weight");
  const at::Tensor b = peft.get("base_model.model.layer1.lora_B.weight");
  CHECK(a.sizes() == at::IntArrayRef({2, 12}));
  CHECK(b.sizes() == at::IntArrayRef({3, 2}));
  const auto config = nlohmann::json::parse(lrlab::test::slurp(dir.path + "/peft/adapter_config.json"));
  CHECK(config["peft_type"] == "LORA");
  CHECK(config["r"] == 2);
  CHECK(config["lora_alpha"] == 3.0);
  CHECK(config["use_rslora"] == true);
  CHECK(config["target_modules"] == nlohmann::json::array({"layer1"}));
  // PEFT's Delta = lora_alpha / sqrt(r) B A (use_rslora) is the run's trained Delta, which moved.
  const lrlab::TensorFile saved = lrlab::read_safetensors(run);
  const at::Tensor delta = saved.get("student.W") - saved.get("base.W");
  CHECK(delta.norm().item<double>() > 1e-3);
  CHECK((3.0 / std::sqrt(2.0) * b.matmul(a) - delta).abs().max().item<double>() < 1e-10);
}

TEST_CASE("lrlab export --peft maps rank1 exactly and refuses adapters with no LoRA form", "[export]") {
  lrlab::testing::TempDir dir;
  trained_run(dir.path, "{type: rank1, train_xi: true}");
  const auto r = run_lrlab({"export", dir.path + "/out/tensors/p000_s00.safetensors", "--peft", dir.path + "/peft"},
                           dir.path + "/capture", 60);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto config = nlohmann::json::parse(lrlab::test::slurp(dir.path + "/peft/adapter_config.json"));
  CHECK(config["r"] == 1);
  CHECK(config["lora_alpha"] == 1.0);
  CHECK(config["target_modules"] == nlohmann::json::array({"fc1"}));
  CHECK(lrlab::read_safetensors(dir.path + "/peft/adapter_model.safetensors").get("base_model.model.fc1.lora_B.weight").size(1) == 1);

  lrlab::testing::TempDir full;
  trained_run(full.path, "{type: full}");
  const auto refused = run_lrlab({"export", full.path + "/out", "--peft", full.path + "/peft"}, full.path + "/capture", 60);
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Matchers::Contains("a 'full' adapter cannot be exported to PEFT's LoRA layout: full "
                                                    "fine-tuning trains a dense Delta [k, d] with no low-rank factors"));
  CHECK_FALSE(std::filesystem::exists(full.path + "/peft"));
}
