#pragma once
/// The symmetry-invariant delta error (`delta_error_sym`): the student f(x) = lam^T sigma(Q x) is unchanged
/// when rows of Q with equal lam_i are permuted and, for an even activation, when any row changes sign.
/// delta_error compares Q with the teacher's P = W + Delta* row by row and so can call a perfect student
/// wrong; delta_error_sym takes the best match over those symmetries.

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace lrlab::models {

class Activation;

/// True when sigma(-z) == sigma(z) to 1e-12 of max |sigma| on 241 points of [-6, 6] (He_2, He_4, hermite
/// coefficient lists with only even degrees, ...; relu, tanh, gelu are not).
bool activation_is_even(const Activation& act);

/// The assignment of minimum total cost: cost [n * n] row-major (cost[i * n + j]: row i takes column j),
/// entries finite; returns column[i] for each row i (Hungarian algorithm, O(n^3)).
std::vector<int64_t> min_cost_assignment(const std::vector<double>& cost, int64_t n);

/// min over the symmetries of ||S Pi Q - P||_F / ||Delta*||_F per replica ([R], CPU float64; ||S Pi Q - P||_F
/// when Delta* = 0): Q student rows [R, k, d], P teacher rows [R, k, d], lam [R, k], delta_star [R, k, d];
/// Pi ranges over the row permutations that keep lam (lam_pi(i) == lam_i) when `permute`, S over the
/// diagonal sign matrices when `even`. Matching is by minimum total squared row distance; the reported
/// distance is computed from the matched difference vectors (no cancellation near the teacher). With
/// neither symmetry it is ||Q - P||_F / ||Delta*||_F = delta_error.
at::Tensor symmetric_delta_error(const at::Tensor& q, const at::Tensor& p, const at::Tensor& lam,
                                 const at::Tensor& delta_star, bool even, bool permute);

}  // namespace lrlab::models
