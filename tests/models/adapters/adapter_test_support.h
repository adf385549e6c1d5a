#pragma once
/// Shared helpers of the adapter tests: a small float64 model built from YAML, and the gradient-check
/// loop every adapter runs (analytic == autograd to 1e-10 relative and == central finite differences,
/// for every test activation, R in {1, 3}, B in {1, 5}; ReLU with a kink window).

#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <string>
#include <vector>

#include "apps/gradcheck_command.h"
#include "framework/config.h"
#include "framework/context.h"
#include "models/register.h"

namespace lrlab::test {

/// Relative tolerance of analytic against autograd.
inline constexpr double kAutogradTolerance = 1e-10;
/// Relative tolerance of analytic against central finite differences (step 1e-6).
inline constexpr double kFiniteDifferenceTolerance = 1e-6;
/// The kink window used with ReLU.
inline constexpr double kReluKink = 1e-4;

/// The activations every adapter is checked with: the smooth ones, Hermite He_3 and a coefficient
/// list, and ReLU (checked with a kink window).
inline const std::vector<std::string>& test_activations() {
  static const std::vector<std::string> list = {
      "{type: tanh}",     "{type: erf}",           "{type: sigmoid}",
      "{type: gelu}",     "{type: softplus}",      "{type: hermite, p: 3}",
      "{type: hermite, coefficients: [0.5, 1.0, 0.3, 0.2]}", "{type: relu}"};
  return list;
}

/// The YAML of a float64 CPU problem: base two_layer (d, k, `activation`), a rank-1 low_rank teacher
/// with xi = 0.8, and the adapter section `adapter` (a YAML flow mapping).
inline std::string test_config_yaml(const std::string& adapter, const std::string& activation, int64_t d = 7,
                                    int64_t k = 4) {
  return fmt::format(
      "dtype: float64\ndevice: cpu\nbase: {{type: two_layer, d: {}, k: {}, activation: {}}}\n"
      "teacher: {{type: low_rank, rank: 1, xi: 0.8}}\nadapter: {}\n",
      d, k, activation, adapter);
}

/// Builds the test problem for `replicas` replicas (seeds first_seed, first_seed + 1, ...).
inline models::Model build_test_model(const std::string& adapter, const std::string& activation,
                                      int64_t replicas, int64_t d = 7, int64_t k = 4, int64_t first_seed = 11) {
  // One document per replica, stacked as the group runner does (per-replica options have R values).
  std::vector<Config> documents;
  std::vector<int64_t> seeds;
  for (int64_t i = 0; i < replicas; ++i) {
    seeds.push_back(first_seed + i);
    documents.push_back(Config::load_string(test_config_yaml(adapter, activation, d, k), "<test " + adapter + ">"));
  }
  const Config root = replicas == 1 ? documents[0] : Config::stack(documents);
  return models::build_model(root, make_context(root, seeds));
}

/// A standard normal tensor of `sizes` in float64 from a generator seeded by `seed`.
inline at::Tensor test_normal(at::IntArrayRef sizes, uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::normal(0.0, 1.0, sizes, gen, at::TensorOptions().dtype(at::kDouble));
}

/// Gradient check of `adapter` (YAML flow mapping) for every test activation, R in {1, 3} and
/// B in {1, 5}, at a random point near the init (perturb_parameters with scale 0.5), with random
/// inputs and labels. Checks that every analytic gradient is non-zero (so the check means something),
/// analytic == autograd and analytic == finite differences; ReLU skips elements in its kink window.
inline void check_adapter_gradients(const std::string& adapter, int64_t d = 7, int64_t k = 4) {
  int64_t fd_compared = 0, relu_compared = 0;
  for (const auto& activation : test_activations()) {
    const bool relu = activation == "{type: relu}";
    for (int64_t replicas : {1, 3}) {
      models::Model model = build_test_model(adapter, activation, replicas, d, k);
      perturb_parameters(*model.adapter, 0.5, 1234 + replicas);
      for (int64_t batch : {1, 5}) {
        const uint64_t seed = 100 * replicas + batch;
        const at::Tensor x = test_normal({replicas, batch, d}, seed);
        const at::Tensor y = test_normal({replicas, batch}, seed + 7);
        GradcheckOptions options;
        options.kink = relu ? kReluKink : 0.0;
        const GradcheckReport report = gradcheck_model(model, x, y, options);
        INFO("adapter " << adapter << ", activation " << activation << ", R = " << replicas << ", B = " << batch
                        << "\n" << report.table(kAutogradTolerance, kFiniteDifferenceTolerance));
        CHECK(report.worst_relative_error("autograd") <= kAutogradTolerance);
        CHECK(report.worst_relative_error("finite_difference") <= kFiniteDifferenceTolerance);
        if (!(relu && batch == 1)) {  // ReLU with one sample may leave every neuron inactive
          for (auto* p : model.adapter->parameters()) {
            INFO("parameter " << p->name);
            CHECK(p->grad.norm().item<double>() > 0);
          }
        }
        for (const auto& t : report.tensors) {
          fd_compared += t.finite_difference.compared;
          if (relu) relu_compared += t.finite_difference.compared;
        }
      }
    }
  }
  CHECK(fd_compared > 0);
  CHECK(relu_compared > 0);  // the kink window left ReLU elements to compare
}

}  // namespace lrlab::test
