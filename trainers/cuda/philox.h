#pragma once
/// Counter-based sampling for the fused CUDA step: Philox4x32-10 (Salmon, Moraes, Dror, Shaw,
/// "Parallel random numbers: as easy as 1, 2, 3", SC 2011) and Box-Muller normals. Plain C++17 that
/// nvcc also compiles (LRLAB_HD functions); no state, so any thread can draw any number.
///
/// The sampling contract (docs/kernels.md, "Fused CUDA step"): normal j (0-based) of draw `stream` of
/// update `step` of the run seeded `seed` is
///   normal(seed, step, stream, j) = lane j % 2 of box_muller(philox({j / 2, stream, step_lo, step_hi},
///                                                                    {seed_lo, seed_hi}))
/// a pure function of those four numbers: it does not depend on the replica's position in its group,
/// on R, on how many steps one launch runs, or on the block size. These are not the numbers of the
/// CPU paths' xoshiro streams (trainers/normal_generator.h): a fused GPU run and a CPU run of one
/// config agree in distribution, not bit for bit; two fused GPU runs agree exactly.

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define LRLAB_HD __host__ __device__
#else
#define LRLAB_HD
#endif

namespace lrlab::fused {

/// Four 32-bit words (a Philox counter or output).
struct Words4 {
  uint32_t v[4];  ///< the words
};

/// The draws of one step, each its own counter range (the `stream` word of the counter).
enum DrawStream : uint32_t { kDrawInputs = 0, kDrawNoise = 1 };

/// hi and lo halves of the 64-bit product a * b.
LRLAB_HD inline void mulhilo32(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(p >> 32);
  *lo = static_cast<uint32_t>(p);
}

/// Philox4x32 with `rounds` rounds (10 is the standard, crush-resistant choice) of counter `ctr`
/// under key {k0, k1}: the S-box round with multipliers 0xD2511F53 / 0xCD9E8D57 and the Weyl key
/// bumps 0x9E3779B9 / 0xBB67AE85 between rounds.
LRLAB_HD inline Words4 philox4x32(Words4 ctr, uint32_t k0, uint32_t k1, int rounds = 10) {
  for (int i = 0; i < rounds; ++i) {
    if (i > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo32(0xD2511F53u, ctr.v[0], &hi0, &lo0);
    mulhilo32(0xCD9E8D57u, ctr.v[2], &hi1, &lo1);
    ctr = Words4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
  }
  return ctr;
}

/// A double in (0, 1] from two words (53 random bits; never 0, so its log is finite).
LRLAB_HD inline double uniform53(uint32_t hi, uint32_t lo) {
  const uint64_t bits = ((static_cast<uint64_t>(hi) << 32) | lo) >> 11;
  return (static_cast<double>(bits) + 1.0) * (1.0 / 9007199254740992.0);  // 2^-53
}

/// Two independent standard normals from one Philox output (Box-Muller on two 53-bit uniforms).
LRLAB_HD inline void box_muller(const Words4& w, double* n0, double* n1) {
  const double radius = std::sqrt(-2.0 * std::log(uniform53(w.v[0], w.v[1])));
  const double angle = 6.283185307179586476925286766559 * uniform53(w.v[2], w.v[3]);
  *n0 = radius * std::cos(angle);
  *n1 = radius * std::sin(angle);
}

/// The Philox output holding normals 2 m and 2 m + 1 of draw `stream` of update `step` (from 1) of
/// the run seeded `seed`.
LRLAB_HD inline Words4 normal_block(uint64_t seed, uint64_t step, uint32_t stream, uint32_t m) {
  const Words4 ctr{{m, stream, static_cast<uint32_t>(step), static_cast<uint32_t>(step >> 32)}};
  return philox4x32(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

/// Normal j of draw `stream` of update `step` of the run seeded `seed` (the contract above).
LRLAB_HD inline double normal(uint64_t seed, uint64_t step, uint32_t stream, uint32_t j) {
  double n0, n1;
  box_muller(normal_block(seed, step, stream, j / 2), &n0, &n1);
  return (j % 2 == 0) ? n0 : n1;
}

}  // namespace lrlab::fused
