#include "bench/timer.h"

#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace lrlab::bench {

void synchronize(c10::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index() < 0 ? -1 : device.index());
}

Timing time_calls(const std::function<void()>& fn, double min_seconds, c10::Device device, int blocks) {
  using clock = std::chrono::steady_clock;
  auto seconds_since = [](clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); };
  // Warm-up: at least 2 calls and min_seconds / 10, which also estimates the cost of one call.
  int64_t warm = 0;
  auto t0 = clock::now();
  do {
    fn();
    ++warm;
    synchronize(device);
  } while (warm < 2 || seconds_since(t0) < min_seconds / 10);
  const double per_call = seconds_since(t0) / static_cast<double>(warm);
  const int64_t per_block = std::max<int64_t>(1, static_cast<int64_t>(min_seconds / blocks / std::max(per_call, 1e-9)));
  std::vector<double> block_times;
  Timing out;
  for (int b = 0; b < blocks; ++b) {
    auto start = clock::now();
    for (int64_t i = 0; i < per_block; ++i) fn();
    synchronize(device);
    block_times.push_back(seconds_since(start) / static_cast<double>(per_block));
    out.calls += per_block;
  }
  std::sort(block_times.begin(), block_times.end());
  out.best = block_times.front();
  out.median = block_times[block_times.size() / 2];
  return out;
}

}  // namespace lrlab::bench
