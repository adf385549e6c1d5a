#pragma once
/// Timing of a repeated operation: warm-up, then blocks of calls, reporting the best and the median
/// block (per call). The best block is the figure least disturbed by other load on a shared machine.

#include <c10/core/Device.h>

#include <cstdint>
#include <functional>

namespace lrlab::bench {

/// Seconds per call.
struct Timing {
  double best = 0;     ///< fastest block, per call
  double median = 0;   ///< median block, per call
  int64_t calls = 0;   ///< timed calls in all
};

/// Times `fn` on `device` (synchronising CUDA before reading the clock): warm-up of at least 2 calls,
/// then `blocks` blocks sized to take about min_seconds / blocks each (at least 1 call).
Timing time_calls(const std::function<void()>& fn, double min_seconds, c10::Device device, int blocks = 5);

/// Waits for the device's queued work (no-op on the CPU).
void synchronize(c10::Device device);

}  // namespace lrlab::bench
