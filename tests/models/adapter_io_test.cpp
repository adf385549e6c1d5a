// Saving and loading adapters: every adapter type reproduces its predictions bit for bit after a save
// and a load (`adapter.load: PATH`), frozen buffers included; mismatched or corrupted files give a
// clear error naming the file and the key.
#include "models/adapter_io.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "framework/error.h"
#include "tests/models/adapters/adapter_test_support.h"

namespace fs = std::filesystem;
using lrlab::test::build_test_model;

namespace {

std::string temp_dir() {
  const fs::path dir = fs::temp_directory_path() / ("lrlab_adapter_io_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir.string();
}

/// Saves replica `replica` of `model` (built from `adapter`) to `path`.
void save(lrlab::models::Model& model, const std::string& adapter, int64_t replica, const std::string& path) {
  const lrlab::Config cfg = lrlab::Config::load_string(lrlab::test::test_config_yaml(adapter, "{type: gelu}"));
  lrlab::write_safetensors(path, lrlab::models::adapter_tensor_file(*model.adapter, replica, cfg));
}

/// `adapter` (a flow mapping "{type: ...}") with `load: path` added.
std::string with_load(const std::string& adapter, const std::string& path) {
  return adapter.substr(0, adapter.size() - 1) + ", load: " + path + "}";
}

}  // namespace

TEST_CASE("adapter save then load reproduces the predictions bit for bit for every adapter type",
          "[adapter_io]") {
  const std::string dir = temp_dir();
  int i = 0;
  for (const char* adapter :
       {"{type: rank1, c: train, train_xi: true}", "{type: rank1, c: fixed_random}", "{type: lora, rank: 2}",
        "{type: lora, rank: 2, init: pissa}", "{type: lora, rank: 1, init: spectral, init_samples: 50}",
        "{type: full}", "{type: scratch}", "{type: dora, rank: 2}", "{type: vera, rank: 3}",
        "{type: linearized, inner: {type: lora, rank: 2}}", "{type: linearized, inner: {type: rank1}}"}) {
    INFO(adapter);
    const std::string path = dir + "/adapter" + std::to_string(i++) + ".safetensors";
    // Train-like state: perturbed away from the init; replica 0 of an R = 2 group is saved.
    auto model = build_test_model(adapter, "{type: gelu}", 2);
    lrlab::perturb_parameters(*model.adapter, 0.5, 21);
    save(model, adapter, 0, path);
    // The same seed alone (same base network), loading the file.
    auto loaded = build_test_model(with_load(adapter, path), "{type: gelu}", 1);
    const at::Tensor x = lrlab::test::test_normal({1, 8, 7}, 4);
    const at::Tensor before = model.adapter->forward(x.expand({2, 8, 7}).contiguous(),
                                                     model.base->preactivations(x.expand({2, 8, 7}).contiguous()))[0];
    const at::Tensor after = loaded.adapter->forward(x, loaded.base->preactivations(x))[0];
    CHECK(at::equal(before, after));
    CHECK(at::equal(model.adapter->delta()[0], loaded.adapter->delta()[0]));
    // Frozen buffers travel with the file: a model of another seed gets the saved ones.
    auto other = build_test_model(with_load(adapter, path), "{type: gelu}", 1, 7, 4, 99);
    auto saved_buffers = model.adapter->buffers();
    auto other_buffers = other.adapter->buffers();
    REQUIRE(saved_buffers.size() == other_buffers.size());
    for (size_t b = 0; b < saved_buffers.size(); ++b)
      CHECK(at::equal(saved_buffers[b]->value[0], other_buffers[b]->value[0]));
  }
  fs::remove_all(dir);
}

TEST_CASE("loading a mismatched or corrupted adapter file is a clear error", "[adapter_io]") {
  const std::string dir = temp_dir();
  const std::string lora_path = dir + "/lora.safetensors";
  auto lora = build_test_model("{type: lora, rank: 1}", "{type: gelu}", 1);
  save(lora, "{type: lora, rank: 1}", 0, lora_path);

  // Another adapter type.
  CHECK_THROWS_WITH(build_test_model(with_load("{type: dora, rank: 1}", lora_path), "{type: gelu}", 1),
                    Catch::Contains("adapter.load") && Catch::Contains(lora_path) &&
                        Catch::Contains("holds a 'lora' adapter, but the config builds 'dora'"));
  // Another rank: shapes differ.
  CHECK_THROWS_WITH(build_test_model(with_load("{type: lora, rank: 2}", lora_path), "{type: gelu}", 1),
                    Catch::Contains(lora_path) && Catch::Contains("adapter.A has shape [1, 7]") &&
                        Catch::Contains("[2, 7]"));
  // Another d.
  CHECK_THROWS_WITH(build_test_model(with_load("{type: lora, rank: 1}", lora_path), "{type: gelu}", 1, 9),
                    Catch::Contains("has shape"));
  // Other options: the file lacks a tensor the config needs (PiSSA's frozen A0, B0).
  CHECK_THROWS_WITH(build_test_model(with_load("{type: lora, rank: 1, init: pissa}", lora_path), "{type: gelu}", 1),
                    Catch::Contains(lora_path) && Catch::Contains("no tensor 'adapter.A0'"));
  const std::string rank1_path = dir + "/rank1.safetensors";
  auto rank1 = build_test_model("{type: rank1, c: teacher}", "{type: gelu}", 1);
  save(rank1, "{type: rank1, c: teacher}", 0, rank1_path);
  CHECK_THROWS_WITH(build_test_model(with_load("{type: rank1, c: train}", rank1_path), "{type: gelu}", 1),
                    Catch::Contains("no tensor 'adapter.c'"));
  // A corrupted (truncated) file and a missing one.
  const std::string truncated = dir + "/truncated.safetensors";
  fs::copy_file(lora_path, truncated, fs::copy_options::overwrite_existing);
  fs::resize_file(truncated, fs::file_size(truncated) - 3);
  CHECK_THROWS_WITH(build_test_model(with_load("{type: lora, rank: 1}", truncated), "{type: gelu}", 1),
                    Catch::Contains("adapter.load") && Catch::Contains(truncated) && Catch::Contains("truncated"));
  CHECK_THROWS_WITH(build_test_model(with_load("{type: lora}", dir + "/missing.safetensors"), "{type: gelu}", 1),
                    Catch::Contains("missing.safetensors") && Catch::Contains("cannot open"));
  // A file that is not an adapter file.
  const std::string plain = dir + "/plain.safetensors";
  lrlab::TensorFile file;
  file.tensors = {{"adapter.A", at::zeros({1, 7}, at::kDouble)}};
  lrlab::write_safetensors(plain, file);
  CHECK_THROWS_WITH(build_test_model(with_load("{type: lora}", plain), "{type: gelu}", 1),
                    Catch::Contains("not an lrlab adapter file"));
  fs::remove_all(dir);
}
