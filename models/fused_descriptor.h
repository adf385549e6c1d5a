#pragma once
/// What a component tells the fused CUDA step (trainers/cuda/fused_math.h) about itself: small POD
/// descriptors, no LibTorch, so that nvcc compiles the same header. A component that can run inside
/// the fused step returns its descriptor from `cuda_descriptor(&why)` (Activation, Teacher, Adapter),
/// as it returns its CPU kernel from `cpu_kernel(dtype, &why)`; the others keep the default "none"
/// with a reason, and the trainer falls back to the batched path (docs/kernels.md, "Fused CUDA step").

#include <cstdint>

namespace lrlab::fused {

/// The activations the fused step evaluates (value and derivative in double precision, the same
/// expressions as each activation's `cpu_values`).
enum class ActivationKind : int32_t { kRelu, kTanh, kSigmoid, kGelu, kSoftplus, kErf, kHermite };

/// Most Hermite coefficients a descriptor holds (degree 30, the `hermite` activation's own limit).
inline constexpr int kMaxHermiteTerms = 31;

/// sigma by kind; `beta` for softplus; for hermite sigma = sum_p value_coef[p] He_p and
/// sigma' = sum_p slope_coef[p] He_p (the activation's normalised lists, a_p / p! and a_{p+1} / p!).
struct ActivationDesc {
  ActivationKind kind = ActivationKind::kRelu;  ///< which sigma
  double beta = 1.0;                            ///< softplus sharpness
  int32_t value_terms = 0;                      ///< hermite: entries of value_coef in use
  int32_t slope_terms = 0;                      ///< hermite: entries of slope_coef in use
  double value_coef[kMaxHermiteTerms] = {};     ///< hermite: coefficients of sigma in He_p
  double slope_coef[kMaxHermiteTerms] = {};     ///< hermite: coefficients of sigma' in He_p
};

/// The teacher: `low_rank`, h* = W x + xi* C* (U*^T x) with U* [d, r], C* [k, r].
struct TeacherDesc {
  int32_t rank = 1;  ///< r
};

/// The adapters the fused step trains.
enum class AdapterKind : int32_t { kRank1 };

/// The adapter: `rank1`, h = W x + xi <u, x> c with u on the sphere; c and xi trained or frozen.
struct AdapterDesc {
  AdapterKind kind = AdapterKind::kRank1;  ///< which adapter
  bool train_c = true;                     ///< c is in parameters() (else frozen)
  bool train_xi = false;                   ///< xi is in parameters() (else frozen)
};

}  // namespace lrlab::fused
