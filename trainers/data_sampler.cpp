#include "trainers/data_sampler.h"

#include <ATen/Context.h>

#include <mutex>

#include "framework/error.h"

namespace lrlab::trainers {

DataSampler::DataSampler(const Context& ctx, int64_t batch, int64_t d, Stream stream)
    : ctx_(ctx), batch_(batch), d_(d) {
  check(ctx.replicas() > 0 && batch > 0 && d > 0, "DataSampler needs R, B, d > 0");
  if (ctx.device.is_cpu()) {
    check(ctx.dtype == at::kFloat || ctx.dtype == at::kDouble, "DataSampler: CPU samples are float32 or float64");
    generators_.reserve(ctx.seeds.size());
    for (int64_t seed : ctx.seeds) generators_.emplace_back(seed, stream);
  } else {
    // A private copy of the device's generator (the global one stays untouched, so groups that
    // share a device do not reseed each other).
    device_generator_ = at::globalContext().defaultGenerator(ctx.device).clone();
    std::lock_guard<std::mutex> lock(device_generator_.mutex());
    device_generator_.set_current_seed(static_cast<uint64_t>(ctx.seeds.at(0)) * 0x9E3779B97F4A7C15ULL +
                                       static_cast<uint64_t>(stream));
  }
  x_ = at::empty({ctx.replicas(), batch, d}, ctx.options());
  eps_ = at::empty({ctx.replicas(), batch}, ctx.options());
}

void DataSampler::fill(at::Tensor& t) {
  if (generators_.empty()) {
    t.normal_(0.0, 1.0, device_generator_);
    return;
  }
  // Replica by replica on its contiguous slice: replica r's stream advances by exactly the slice's
  // size, whatever the other replicas do.
  const int64_t per = t.numel() / t.size(0);
  for (size_t r = 0; r < generators_.size(); ++r) {
    if (t.scalar_type() == at::kDouble) {
      generators_[r].fill(t.data_ptr<double>() + static_cast<int64_t>(r) * per, per);
    } else {
      generators_[r].fill(t.data_ptr<float>() + static_cast<int64_t>(r) * per, per);
    }
  }
}

const at::Tensor& DataSampler::next_inputs() {
  fill(x_);
  return x_;
}

const at::Tensor& DataSampler::next_noise() {
  fill(eps_);
  return eps_;
}

at::Tensor DataSampler::inputs(int64_t n) {
  at::Tensor x = at::empty({ctx_.replicas(), n, d_}, ctx_.options());
  fill(x);
  return x;
}

}  // namespace lrlab::trainers
