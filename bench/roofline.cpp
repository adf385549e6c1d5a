#include "bench/roofline.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "bench/timer.h"
#include "models/cpu_ops.h"
#include "trainers/normal_generator.h"

namespace lrlab::bench {

Roofline measure_roofline(c10::Device device, at::ScalarType dtype, double min_seconds) {
  Roofline r;
  const auto options = at::TensorOptions().dtype(dtype).device(device);
  // Arithmetic: large enough to reach the BLAS's peak, small enough to time quickly.
  r.matmul_n = device.is_cuda() ? 8192 : 1024;
  {
    at::Tensor a = at::randn({r.matmul_n, r.matmul_n}, options), b = at::randn({r.matmul_n, r.matmul_n}, options);
    at::Tensor c = at::empty({r.matmul_n, r.matmul_n}, options);
    const Timing t = time_calls([&] { at::mm_out(c, a, b); }, min_seconds, device);
    r.matmul_gflops = 2.0 * std::pow(static_cast<double>(r.matmul_n), 3) / t.best / 1e9;
  }
  // Sampling: LibTorch's generator on a large tensor (its fastest case: vectorised Box-Muller).
  {
    const int64_t n = device.is_cuda() ? (int64_t{1} << 26) : (int64_t{1} << 20);
    at::Tensor x = at::empty({n}, options);
    const Timing t = time_calls([&] { x.normal_(0.0, 1.0); }, min_seconds, device);
    r.aten_normal_ns = t.best / static_cast<double>(n) * 1e9;
    r.best_normal_ns = r.aten_normal_ns;
    r.best_normal = "aten";
  }
  if (device.is_cpu()) {
    const int64_t n = int64_t{1} << 20;
    at::Tensor x = at::empty({n}, options);
    trainers::NormalGenerator gen(uint64_t{1});
    const Timing t = time_calls([&] { gen.fill(x); }, min_seconds, device);
    r.lrlab_normal_ns = t.best / static_cast<double>(n) * 1e9;
    if (r.lrlab_normal_ns < r.best_normal_ns) {
      r.best_normal_ns = r.lrlab_normal_ns;
      r.best_normal = "lrlab";
    }
  }
  return r;
}

double read_bandwidth(c10::Device device, at::ScalarType dtype, int64_t bytes, double min_seconds) {
  const int64_t elem = static_cast<int64_t>(c10::elementSize(dtype));
  const int64_t n = std::max<int64_t>(1024, bytes / elem);
  at::Tensor buf = at::randn({n}, at::TensorOptions().dtype(dtype).device(device));
  // Repeat small buffers so one call lasts ~10 us or more (a timer read costs ~20 ns).
  const int64_t reps = std::max<int64_t>(1, (int64_t{1} << 20) / (n * elem));
  double sink = 0;
  at::Tensor out = at::empty({}, buf.options());  // outlives `fn`, which captures it
  std::function<void()> fn;
  if (device.is_cuda()) {
    fn = [&] { at::sum_out(out, buf); };
  } else if (dtype == at::kDouble) {
    fn = [&] {
      for (int64_t i = 0; i < reps; ++i) sink += models::cpu::sum_squares(buf.data_ptr<double>(), n);
    };
  } else {
    fn = [&] {
      for (int64_t i = 0; i < reps; ++i) sink += models::cpu::sum_squares(buf.data_ptr<float>(), n);
    };
  }
  const Timing t = time_calls(fn, min_seconds, device, 3);
  const double per_pass = device.is_cuda() ? t.best : t.best / static_cast<double>(reps);
  if (sink == 12345.678) buf.zero_();  // keeps `sink` alive
  return static_cast<double>(n * elem) / per_pass;
}

}  // namespace lrlab::bench
