#include "trainers/data_sampler.h"

#include <ATen/Context.h>

#include <mutex>

namespace lrlab::trainers {

DataSampler::DataSampler(const Context& ctx, int64_t batch, int64_t d, Stream stream) : ctx_(ctx) {
  if (ctx.device.is_cpu()) {
    for (int64_t seed : ctx.seeds) generators_.push_back(stream_generator(seed, stream));
  } else {
    at::Generator gen = at::globalContext().defaultGenerator(ctx.device);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(static_cast<uint64_t>(ctx.seeds.at(0)) * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(stream));
    generators_.push_back(gen);
  }
  x_ = at::empty({ctx.replicas(), batch, d}, ctx.options());
  eps_ = at::empty({ctx.replicas(), batch}, ctx.options());
}

void DataSampler::fill(at::Tensor& t) {
  if (generators_.size() == 1) {
    t.normal_(0.0, 1.0, generators_[0]);
    return;
  }
  for (size_t r = 0; r < generators_.size(); ++r) t.select(0, static_cast<int64_t>(r)).normal_(0.0, 1.0, generators_[r]);
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
  at::Tensor x = at::empty({ctx_.replicas(), n, x_.size(2)}, ctx_.options());
  fill(x);
  return x;
}

}  // namespace lrlab::trainers
