#include "trainers/kernel_step.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>

#include "framework/error.h"
#include "models/cpu_ops.h"
#include "trainers/parameter_ops.h"
#include "trainers/update_rule.h"

namespace lrlab::trainers {

namespace {

// Below this much work per step (R B d numbers drawn) one thread does it all: a parallel region
// costs more than it saves (and ATen's barriers are slow on a loaded machine).
constexpr int64_t kParallelMinWork = 131072;

// Per-thread work space (sized once; no allocation per step).
template <class T>
struct Scratch {
  std::vector<T> x;                     // [B, d] this replica's inputs
  std::vector<T> eps;                   // [B] label noise
  std::vector<T> p;                     // [B, k + n_t + n_a] dot products with W, teacher and adapter rows
  std::vector<T> zt, za;                // [B, n_t], [B, n_a] the teacher's and the adapter's products
  std::vector<double> wx, hs, h;        // [B, k] W x_b, teacher and student pre-activations
  std::vector<double> f, y;             // [B] student outputs, labels
  std::vector<double> dfdh, tmp;        // [B, k] df/dh, then g = dL/dh; activation scratch
  std::vector<double> kernel;           // the adapter kernel's scratch
  std::vector<std::vector<double>> grads;  // one gradient buffer per parameter (numel per replica)
  std::vector<double*> grad_ptrs;       // their data
  std::vector<const T*> rows;           // [k + n_t + n_a] row pointers for cpu::dots
};

// A trained parameter as the driver sees it.
struct Trained {
  models::Parameter* p;
  int64_t numel;  // numbers per replica
};

template <class T>
class KernelStepImpl : public KernelStep {
 public:
  KernelStepImpl(models::Model& model, int64_t batch, bool spherical, UpdateRule& rule,
                 std::unique_ptr<models::AdapterKernelBase> adapter, std::unique_ptr<models::TeacherKernelBase> teacher)
      : model_(model),
        rule_(rule),
        act_(model.base->activation()),
        adapter_(static_cast<models::AdapterKernel<T>*>(adapter.release())),
        teacher_(static_cast<models::TeacherKernel<T>*>(teacher.release())),
        batch_(batch),
        spherical_(spherical) {
    const auto& base = *model.base;
    replicas_ = base.replicas();
    d_ = base.d();
    k_ = base.k();
    nt_ = teacher_->rows();
    na_ = adapter_->rows();
    w_ = models::kernel::frozen<T>(base.weight());
    lam_ = models::kernel::doubles(base.lam());
    tau_ = models::kernel::doubles(model.teacher->tau());
    for (auto* p : model.adapter->parameters()) trained_.push_back({p, p->value.numel() / replicas_});
    loss_ = at::zeros({replicas_}, at::TensorOptions().dtype(c10::CppTypeToScalarType<T>::value));
  }

  at::Tensor step(DataSampler& sampler, int64_t step, const at::Tensor& lr, const at::Tensor& decay, bool noisy,
                  bool want_loss) override {
    check(sampler.per_replica() && sampler.batch() == batch_ && sampler.d() == d_,
          "kernel step: the sampler does not match the model (CPU streams, B, d)");
    read(lr, lr_);
    const bool decays = decay.defined() && rule_.decoupled_decay();
    if (decays) read(decay, decay_);
    T* loss = want_loss ? loss_.data_ptr<T>() : nullptr;
    adapter_->begin_step();
    values_.resize(trained_.size());
    for (size_t j = 0; j < trained_.size(); ++j)
      values_[j] = models::kernel::data<T>(trained_[j].p->value, replicas_ * trained_[j].numel, trained_[j].p->name);

    const int threads = at::get_num_threads();
    if (static_cast<int>(scratch_.size()) < std::max(1, threads)) scratch_.resize(std::max(1, threads));
    const bool parallel = threads > 1 && replicas_ > 1 && !at::in_parallel_region() &&
                          replicas_ * batch_ * d_ >= kParallelMinWork;
    threads_used_ = 0;
    auto body = [&](int64_t begin, int64_t end) {
      const int thread = parallel ? at::get_thread_num() : 0;
      int seen = threads_used_.load();  // threads_used = max(thread index) + 1
      while (seen < thread + 1 && !threads_used_.compare_exchange_weak(seen, thread + 1)) {
      }
      Scratch<T>& s = scratch(thread);
      for (int64_t r = begin; r < end; ++r) {
        const double l = replica(r, s, sampler, noisy);
        if (loss) loss[r] = static_cast<T>(l);
        update(r, s, step, decays ? decay_[r] : 0.0, decays);
      }
    };
    if (parallel) {
      at::parallel_for(0, replicas_, 1, body);
    } else {
      body(0, replicas_);
    }
    adapter_->after_update();
    model_.adapter->after_update();
    return want_loss ? loss_ : at::Tensor();
  }

  int threads_used() const override { return threads_used_.load(); }

 private:
  // The R values of a [R] CPU tensor as doubles. Float and double tensors are read in place: a dtype
  // conversion is a LibTorch op with an allocation (1-2 us), as much as a whole R = 1 step.
  void read(const at::Tensor& t, std::vector<double>& out) const {
    check(t.numel() == replicas_ && t.device().is_cpu(), "kernel step: learning rates must be [R] on the CPU");
    out.resize(replicas_);
    if (t.is_contiguous() && t.scalar_type() == at::kDouble) {
      std::copy(t.data_ptr<double>(), t.data_ptr<double>() + replicas_, out.begin());
    } else if (t.is_contiguous() && t.scalar_type() == at::kFloat) {
      std::copy(t.data_ptr<float>(), t.data_ptr<float>() + replicas_, out.begin());
    } else {
      const at::Tensor c = t.to(at::kDouble).contiguous();
      std::copy(c.data_ptr<double>(), c.data_ptr<double>() + replicas_, out.begin());
    }
  }

  Scratch<T>& scratch(int thread) {
    Scratch<T>& s = scratch_[thread];
    if (s.x.empty()) {
      const int64_t n = k_ + nt_ + na_, bk = batch_ * k_;
      s.x.resize(batch_ * d_);
      s.eps.resize(batch_);
      s.p.resize(batch_ * n);
      s.zt.resize(std::max<int64_t>(1, batch_ * nt_));
      s.za.resize(std::max<int64_t>(1, batch_ * na_));
      for (auto* v : {&s.wx, &s.hs, &s.h, &s.dfdh, &s.tmp}) v->resize(bk);
      s.f.resize(batch_);
      s.y.resize(batch_);
      s.kernel.resize(std::max<int64_t>(1, adapter_->scratch_size(batch_)));
      for (const Trained& t : trained_) s.grads.emplace_back(t.numel);
      for (auto& g : s.grads) s.grad_ptrs.push_back(g.data());
      s.rows.resize(n);
    }
    return s;
  }

  // Replica r's forward and backward: draws, one pass over x, labels, output, loss (returned),
  // g = dL/dh into s.dfdh and every parameter's gradient into s.grads.
  double replica(int64_t r, Scratch<T>& s, DataSampler& sampler, bool noisy) {
    const int64_t B = batch_, d = d_, k = k_, nt = nt_, na = na_, n = k + nt + na;
    const T* w = w_.template data_ptr<T>() + r * k * d;
    for (int64_t i = 0; i < k; ++i) s.rows[i] = w + i * d;
    teacher_->row_pointers(r, s.rows.data() + k);
    adapter_->row_pointers(r, s.rows.data() + k + nt);
    sampler.draw_inputs(r, s.x.data());
    if (noisy) sampler.draw_noise(r, s.eps.data());
    models::cpu::dots(s.x.data(), B, d, s.rows.data(), n, s.p.data());  // [B, n]
    for (int64_t b = 0; b < B; ++b) {
      const T* p = s.p.data() + b * n;
      for (int64_t i = 0; i < k; ++i) s.wx[b * k + i] = static_cast<double>(p[i]);
      std::copy(p + k, p + k + nt, s.zt.data() + b * nt);
      std::copy(p + k + nt, p + n, s.za.data() + b * na);
    }
    // Labels y_b = lam . sigma(h*_b) + tau eps_b.
    const double* lam = lam_.data() + r * k;
    teacher_->preactivations(r, B, s.wx.data(), s.zt.data(), s.hs.data());
    act_.cpu_values(s.hs.data(), s.hs.data(), nullptr, B * k);
    for (int64_t b = 0; b < B; ++b) {
      double y = noisy ? tau_[r] * static_cast<double>(s.eps[b]) : 0.0;
      for (int64_t i = 0; i < k; ++i) y += lam[i] * s.hs[b * k + i];
      s.y[b] = y;
    }
    // Student: h, f, df/dh; loss sum_b e_b^2 / (2 B) and g_b = (e_b / B) df_b/dh_b.
    adapter_->forward(r, B, s.x.data(), s.wx.data(), s.za.data(), s.h.data(), s.kernel.data());
    adapter_->output(act_, lam, B, k, s.wx.data(), s.h.data(), s.f.data(), s.dfdh.data(), s.tmp.data());
    const double inv_b = 1.0 / static_cast<double>(B);
    double loss = 0.0;
    for (int64_t b = 0; b < B; ++b) {
      const double e = s.f[b] - s.y[b];
      loss += e * e;
      for (int64_t i = 0; i < k; ++i) s.dfdh[b * k + i] *= e * inv_b;
    }
    adapter_->backward(r, B, s.x.data(), s.wx.data(), s.za.data(), s.h.data(), s.dfdh.data(), s.grad_ptrs.data(),
                       s.kernel.data());
    return 0.5 * loss * inv_b;
  }

  // The update of replica r's parameters from the gradients in s.grads (all computed before any
  // update), in the order of trainers/update_rule.h: decoupled decay, tangent projection, rule, retraction.
  void update(int64_t r, Scratch<T>& s, int64_t step, double decay, bool decays) {
    for (size_t j = 0; j < trained_.size(); ++j) {
      const models::Parameter& p = *trained_[j].p;
      const int64_t n = trained_[j].numel;
      T* v = values_[j] + r * n;
      double* g = s.grad_ptrs[j];
      if (decays && !p.on_sphere) scale_values(v, n, 1.0 - decay * p.lr_scale);
      if (p.on_sphere && spherical_) project_tangent(v, g, n);
      rule_.apply_replica(j, r, v, g, n, lr_[r] * p.lr_scale, step);
      if (p.on_sphere) retract(v, n);
    }
  }

  models::Model& model_;
  UpdateRule& rule_;
  const models::Activation& act_;
  std::unique_ptr<models::AdapterKernel<T>> adapter_;
  std::unique_ptr<models::TeacherKernel<T>> teacher_;
  int64_t batch_, replicas_ = 0, d_ = 0, k_ = 0, nt_ = 0, na_ = 0;
  bool spherical_;
  at::Tensor w_;                          // W [R, k, d] in dtype T (frozen)
  std::vector<double> lam_, tau_;         // lam [R, k], tau [R] (frozen)
  std::vector<Trained> trained_;          // Adapter::parameters(), in order
  std::vector<T*> values_;                // their data this step
  std::vector<Scratch<T>> scratch_;       // one per thread
  std::vector<double> lr_, decay_;        // this step's [R] values
  std::atomic<int> threads_used_{0};
  at::Tensor loss_;                       // [R], reused
};

}  // namespace

std::unique_ptr<KernelStep> KernelStep::make(models::Model& model, int64_t batch, bool spherical, UpdateRule& rule,
                                             std::string* why) {
  auto no = [&](const std::string& m) {
    if (why) *why = m;
    return std::unique_ptr<KernelStep>();
  };
  if (!model.ctx.device.is_cpu()) return no("not on the CPU");
  const at::ScalarType dtype = model.ctx.dtype;
  if (dtype != at::kFloat && dtype != at::kDouble) return no("dtype " + std::string(c10::toString(dtype)));
  const models::Activation& act = model.base->activation();
  if (!act.has_cpu_values()) return no("activation '" + act.type() + "' provides no CPU kernel");
  std::string reason;
  auto teacher = model.teacher->cpu_kernel(dtype, &reason);
  if (!teacher) return no(reason.empty() ? "teacher '" + model.teacher->type() + "' provides no CPU kernel" : reason);
  auto adapter = model.adapter->cpu_kernel(dtype, &reason);
  if (!adapter) return no(reason.empty() ? "adapter '" + model.adapter->type() + "' provides no CPU kernel" : reason);
  check(adapter->dtype() == dtype && teacher->dtype() == dtype,
        "kernel step: a component returned a kernel of another dtype");
  if (dtype == at::kFloat)
    return std::make_unique<KernelStepImpl<float>>(model, batch, spherical, rule, std::move(adapter),
                                                   std::move(teacher));
  return std::make_unique<KernelStepImpl<double>>(model, batch, spherical, rule, std::move(adapter),
                                                  std::move(teacher));
}

bool KernelStep::parallel_available() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

}  // namespace lrlab::trainers
