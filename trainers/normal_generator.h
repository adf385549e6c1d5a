#pragma once
/// A fast CPU generator of standard normal numbers for the training samples.
///
/// Bits: xoshiro256++ (Blackman & Vigna 2019; 256-bit state, period 2^256 - 1), seeded from
/// (run seed, stream) through splitmix64, so every replica's stream depends on its own seed alone.
/// Normals: a 1024-layer ziggurat (Marsaglia & Tsang 2000) on one 64-bit draw per number
/// (10 bits of layer index, a signed 53-bit magnitude), with the exact tail (Marsaglia 1964) and wedge
/// tests, so the output is N(0, 1) up to the 2^-52 resolution of the magnitude.
///
/// Why not LibTorch's at::normal_: on this machine it costs ~3 ns per float and ~17-22 ns per double
/// (Box-Muller on mt19937 bits); this generator costs ~1.8 ns for either (bench/README.md). Float outputs
/// are the double draws rounded, so a float32 run sees the same samples as the float64 run, rounded.

#include <ATen/ATen.h>

#include <cstdint>

#include "framework/context.h"

namespace lrlab::trainers {

/// xoshiro256++ bits and ziggurat normals; one object per replica and stream.
class NormalGenerator {
 public:
  /// State from a raw 64-bit seed (expanded by splitmix64).
  explicit NormalGenerator(uint64_t seed);
  /// State for stream `stream` of the run seeded `seed` (independent of LibTorch's generators).
  NormalGenerator(int64_t seed, Stream stream);

  /// The next 64 random bits.
  uint64_t next_bits() {
    const uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// A uniform number in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_bits() >> 11) * 0x1.0p-53; }
  /// The next standard normal number.
  double normal();

  /// Fills out[0, n) with standard normals.
  void fill(double* out, int64_t n);
  /// Fills out[0, n) with standard normals (the double draws, rounded).
  void fill(float* out, int64_t n);
  /// Fills a contiguous CPU float32/float64 tensor of any shape (throws lrlab::Error otherwise).
  void fill(at::Tensor& t);

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace lrlab::trainers
