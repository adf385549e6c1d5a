#include "trainers/fused_step.h"

#include <ATen/Parallel.h>

#include <atomic>
#include <cmath>
#include <typeinfo>

#include "framework/error.h"
#include "models/adapters/lora.h"
#include "models/adapters/rank1.h"
#include "models/low_rank.h"
#include "trainers/cpu_kernels.h"
#include "trainers/scalar_activation.h"

namespace lrlab::trainers {

namespace {

// Below this much work per step (R B d numbers drawn) one thread does it all: a parallel region
// costs more than it saves (and ATen's barriers are slow on a loaded machine).
constexpr int64_t kParallelMinWork = 131072;

// Which adapter the fused step runs.
enum class AdapterKind { kRank1, kLora };

// A parameter the fused step updates, with its group multiplier and sphere flag.
struct Trained {
  models::Parameter* p = nullptr;  // null: not trained
  double lr_scale = 1.0;
  bool on_sphere = false;
};

}  // namespace

struct FusedStep::Impl {
  virtual ~Impl() = default;
  virtual at::Tensor step(DataSampler& sampler, const at::Tensor& lr, const at::Tensor& decay, bool noisy,
                          bool want_loss) = 0;
  std::atomic<int> threads_used{0};  // threads that ran replicas in the last step
};

namespace {

// Per-thread work space (sized once; no allocation per step).
template <class T>
struct Scratch {
  std::vector<T> x;              // [B, d] this replica's inputs
  std::vector<T> eps;            // [B] label noise
  std::vector<T> p;              // [B, n] dot products with W rows, U*^T rows, adapter rows
  std::vector<double> hs, h, v;  // [B, k] teacher pre-activations, student pre-activations, sigma(h)
  std::vector<double> g;         // [B, k] dL/dh
  std::vector<double> sv;        // [B] rank1: <u, x_b>
  std::vector<double> cg;        // [B] rank1: c . g_b
  std::vector<double> coef;      // [B, max(1, ra)] coefficients of the rank-B updates
  std::vector<double> grad;      // rank1: dL/dc [k]; lora: dL/dB [k, ra]
  std::vector<const T*> rows;    // [n] row pointers for kernels::dots
};

template <class T>
class FusedImpl : public FusedStep::Impl {
 public:
  using Kind = AdapterKind;

  FusedImpl(models::Model& model, int64_t batch, bool spherical, Kind kind, ScalarActivation act)
      : model_(model), kind_(kind), act_(std::move(act)), batch_(batch), spherical_(spherical) {
    const auto& base = *model.base;
    const auto& teacher = static_cast<const models::LowRank&>(*model.teacher);
    replicas_ = base.replicas();
    d_ = base.d();
    k_ = base.k();
    rt_ = teacher.rank();
    w_ = base.weight().contiguous();
    lam_ = base.lam().contiguous();
    ustar_t_ = teacher.subspace().transpose(1, 2).contiguous();  // U*^T [R, rt, d]
    cstar_ = teacher.c().contiguous();                           // C* [R, k, rt]
    xi_star_ = to_doubles(teacher.xi());
    tau_ = to_doubles(teacher.tau());
    if (kind == Kind::kRank1) {
      auto& a = static_cast<models::Rank1&>(*model.adapter);
      u_value_ = a.u().value;
      c_value_ = a.c().value;
      xi_value_ = a.xi().value;
      ra_ = 1;
    } else {
      auto& a = static_cast<models::Lora&>(*model.adapter);
      lora_scale_ = to_doubles(a.scale());
      ra_ = a.options().rank;
    }
    for (auto* p : model.adapter->parameters()) {
      Trained t{p, p->lr_scale, p->on_sphere};
      if (p->name == "u") u_ = t;
      if (p->name == "c") c_ = t;
      if (p->name == "xi") xi_ = t;
      if (p->name == "A") a_ = t;
      if (p->name == "B") b_ = t;
    }
    loss_ = at::zeros({replicas_}, at::TensorOptions().dtype(c10::CppTypeToScalarType<T>::value));
  }

  at::Tensor step(DataSampler& sampler, const at::Tensor& lr, const at::Tensor& decay, bool noisy,
                  bool want_loss) override {
    check(sampler.per_replica() && sampler.batch() == batch_ && sampler.d() == d_,
          "fused step: the sampler does not match the model (CPU streams, B, d)");
    const std::vector<double>& lr_values = read(lr, lr_buffer_);
    const bool decays = decay.defined();
    const std::vector<double>& decay_values = decays ? read(decay, decay_buffer_) : no_decay();
    T* loss = want_loss ? loss_.data_ptr<T>() : nullptr;
    resolve_pointers();

    const int threads = at::get_num_threads();
    if (static_cast<int>(scratch_.size()) < std::max(1, threads)) scratch_.resize(std::max(1, threads));
    const bool parallel = threads > 1 && replicas_ > 1 && !at::in_parallel_region() &&
                          replicas_ * batch_ * d_ >= kParallelMinWork;
    threads_used = 0;
    auto body = [&](int64_t begin, int64_t end) {
      const int thread = parallel ? at::get_thread_num() : 0;
      int seen = threads_used.load();  // threads_used = max(thread index) + 1
      while (seen < thread + 1 && !threads_used.compare_exchange_weak(seen, thread + 1)) {
      }
      Scratch<T>& s = scratch(thread);
      for (int64_t r = begin; r < end; ++r) replica(r, s, sampler, lr_values[r], decay_values[r], noisy, loss);
    };
    if (parallel) {
      at::parallel_for(0, replicas_, 1, body);
    } else {
      body(0, replicas_);
    }
    model_.adapter->after_update();
    return want_loss ? loss_ : at::Tensor();
  }

 private:
  static std::vector<double> to_doubles(const at::Tensor& t) {
    at::Tensor c = t.to(at::kDouble).contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  }
  const std::vector<double>& no_decay() {
    if (static_cast<int64_t>(zeros_.size()) != replicas_) zeros_.assign(replicas_, 0.0);
    return zeros_;
  }
  // The R values of a [R] CPU tensor (no allocation when its dtype is T).
  const std::vector<double>& read(const at::Tensor& t, std::vector<double>& out) {
    check(t.numel() == replicas_ && t.device().is_cpu(), "fused step: learning rates must be [R] on the CPU");
    out.resize(replicas_);
    if (t.scalar_type() == c10::CppTypeToScalarType<T>::value && t.is_contiguous()) {
      const T* v = t.data_ptr<T>();
      for (int64_t r = 0; r < replicas_; ++r) out[r] = static_cast<double>(v[r]);
    } else {
      out = to_doubles(t);
    }
    return out;
  }
  // Parameters are updated in place, but re-read every step in case a caller replaced a tensor.
  T* data(const at::Tensor& t, int64_t numel) {
    check(t.is_contiguous() && t.scalar_type() == c10::CppTypeToScalarType<T>::value && t.numel() == numel,
          "fused step: a parameter changed layout or dtype");
    return t.data_ptr<T>();
  }
  void resolve_pointers() {
    const int64_t R = replicas_;
    if (kind_ == Kind::kRank1) {
      u_ptr_ = data(u_value_, R * d_);
      c_ptr_ = data(c_value_, R * k_);
      xi_ptr_ = data(xi_value_, R);
    } else {
      a_ptr_ = data(a_.p->value, R * ra_ * d_);
      b_ptr_ = data(b_.p->value, R * k_ * ra_);
    }
  }
  Scratch<T>& scratch(int thread) {
    Scratch<T>& s = scratch_[thread];
    if (s.x.empty()) {
      const int64_t n = k_ + rt_ + ra_;
      s.x.resize(batch_ * d_);
      s.eps.resize(batch_);
      s.p.resize(batch_ * n);
      s.hs.resize(batch_ * k_);
      s.h.resize(batch_ * k_);
      s.v.resize(batch_ * k_);
      s.g.resize(batch_ * k_);
      s.sv.resize(batch_);
      s.cg.resize(batch_);
      s.coef.resize(batch_ * std::max<int64_t>(1, ra_));
      s.grad.resize(k_ * ra_);
      s.rows.resize(n);
    }
    return s;
  }

  // One replica's whole step (formulas in fused_step.h).
  void replica(int64_t r, Scratch<T>& s, DataSampler& sampler, double lr, double dec, bool noisy, T* loss_out) {
    const int64_t B = batch_, d = d_, k = k_, rt = rt_, ra = ra_, n = k + rt + ra;
    T* x = s.x.data();
    // The rows every sample is dotted with: W's k rows, U*^T's rt rows, the adapter's (u, or A's rows).
    const T* w = w_.template data_ptr<T>() + r * k * d;
    const T* ust = ustar_t_.template data_ptr<T>() + r * rt * d;
    for (int64_t i = 0; i < k; ++i) s.rows[i] = w + i * d;
    for (int64_t t = 0; t < rt; ++t) s.rows[k + t] = ust + t * d;
    if (kind_ == Kind::kRank1) {
      s.rows[k + rt] = u_ptr_ + r * d;
    } else {
      for (int64_t t = 0; t < ra; ++t) s.rows[k + rt + t] = a_ptr_ + (r * ra + t) * d;
    }
    sampler.draw_inputs(r, x);
    if (noisy) sampler.draw_noise(r, s.eps.data());

    // One pass over x for W x_b, U*^T x_b and the adapter's rows.
    kernels::dots(x, B, d, s.rows.data(), n, s.p.data());

    const T* lam = lam_.template data_ptr<T>() + r * k;
    const T* cs = cstar_.template data_ptr<T>() + r * k * rt;
    const double xs = xi_star_[r], tau = tau_[r];
    const T* c = kind_ == Kind::kRank1 ? c_ptr_ + r * k : nullptr;
    const double xi = kind_ == Kind::kRank1 ? static_cast<double>(xi_ptr_[r]) : 0.0;
    const T* bm = kind_ == Kind::kLora ? b_ptr_ + r * k * ra : nullptr;
    const double sc = kind_ == Kind::kLora ? lora_scale_[r] : 0.0;
    const double inv_b = 1.0 / static_cast<double>(B);
    // Pre-activations of teacher h*_b = W x_b + xi* C* (U*^T x_b) and student h_b = W x_b + Delta x_b,
    // both [B, k], then the activation on whole arrays (one dispatch, branch-free ReLU).
    double* hs = s.hs.data();
    double* h = s.h.data();
    for (int64_t b = 0; b < B; ++b) {
      const T* p = s.p.data() + b * n;
      for (int64_t i = 0; i < k; ++i) {
        double pert = 0.0;
        for (int64_t t = 0; t < rt; ++t) pert += static_cast<double>(cs[i * rt + t]) * p[k + t];
        hs[b * k + i] = p[i] + xs * pert;
      }
      if (kind_ == Kind::kRank1) {
        const double sb = p[k + rt];  // <u, x_b>
        s.sv[b] = sb;
        for (int64_t i = 0; i < k; ++i) h[b * k + i] = p[i] + xi * sb * c[i];
      } else {
        const T* z = p + k + rt;  // A x_b [ra]
        for (int64_t i = 0; i < k; ++i) {
          double bz = 0.0;
          for (int64_t t = 0; t < ra; ++t) bz += static_cast<double>(bm[i * ra + t]) * z[t];
          h[b * k + i] = p[i] + sc * bz;
        }
      }
    }
    act_.values(hs, B * k);                                        // sigma(h*)
    act_.values_and_derivatives(h, s.v.data(), s.g.data(), B * k);  // sigma(h), sigma'(h) -> g
    double loss = 0.0;
    for (int64_t b = 0; b < B; ++b) {
      // y = lam . sigma(h*) + tau eps; e = lam . sigma(h) - y; g_i = (e / B) lam_i sigma'(h_i).
      double y = noisy ? tau * s.eps[b] : 0.0, f = 0.0;
      for (int64_t i = 0; i < k; ++i) {
        y += lam[i] * hs[b * k + i];
        f += lam[i] * s.v[b * k + i];
      }
      const double e = f - y;
      loss += e * e;
      double* g = s.g.data() + b * k;
      for (int64_t i = 0; i < k; ++i) g[i] *= e * inv_b * lam[i];
    }
    if (loss_out) loss_out[r] = static_cast<T>(0.5 * loss * inv_b);

    if (kind_ == Kind::kRank1) {
      update_rank1(r, s, lr, dec, xi);
    } else {
      update_lora(r, s, lr, dec, sc);
    }
  }

  // rank1: all gradients from the old values, then the updates (weight decay on non-sphere ones).
  void update_rank1(int64_t r, Scratch<T>& s, double lr, double dec, double xi) {
    const int64_t B = batch_, d = d_, k = k_;
    T* c = c_ptr_ + r * k;
    double gxi = 0.0;  // dL/dxi = sum_b (c . g_b) <u, x_b>
    for (int64_t b = 0; b < B; ++b) {
      const double* g = s.g.data() + b * k;
      double cg = 0.0;
      for (int64_t i = 0; i < k; ++i) cg += static_cast<double>(c[i]) * g[i];
      s.cg[b] = cg;
      gxi += cg * s.sv[b];
    }
    if (c_.p) {  // dL/dc = xi sum_b <u, x_b> g_b
      for (int64_t i = 0; i < k; ++i) {
        double acc = 0.0;
        for (int64_t b = 0; b < B; ++b) acc += s.sv[b] * s.g[b * k + i];
        s.grad[i] = xi * acc;
      }
    }
    if (u_.p) {  // dL/du = xi sum_b (c . g_b) x_b, never formed: applied as a rank-B update
      T* u = u_ptr_ + r * d;
      const double a = lr * u_.lr_scale;
      for (int64_t b = 0; b < B; ++b) s.coef[b] = -a * xi * s.cg[b];
      if (u_.on_sphere) {
        const double radial = spherical_ ? xi * gxi : 0.0;  // <dL/du, u> (u has unit norm)
        kernels::scale(u, d, 1.0 + a * radial);
        kernels::add_outer(u, 1, d, s.coef.data(), s.x.data(), B);
        kernels::scale(u, d, 1.0 / std::sqrt(kernels::sum_squares(u, d)));
      } else {
        if (dec != 0.0) kernels::scale(u, d, 1.0 - dec * u_.lr_scale);
        kernels::add_outer(u, 1, d, s.coef.data(), s.x.data(), B);
      }
    }
    if (c_.p) {
      const double keep = 1.0 - dec * c_.lr_scale, a = lr * c_.lr_scale;
      for (int64_t i = 0; i < k; ++i) c[i] = static_cast<T>(c[i] * keep - a * s.grad[i]);
    }
    if (xi_.p) xi_ptr_[r] = static_cast<T>(xi * (1.0 - dec * xi_.lr_scale) - lr * xi_.lr_scale * gxi);
  }

  // lora: dL/dB = s sum_b g_b z_b^T, B^T g_b from the old B, then A in place, then B.
  void update_lora(int64_t r, Scratch<T>& s, double lr, double dec, double sc) {
    const int64_t B = batch_, d = d_, k = k_, rt = rt_, ra = ra_, n = k + rt + ra;
    T* bm = b_ptr_ + r * k * ra;
    T* a = a_ptr_ + r * ra * d;
    for (int64_t i = 0; i < k; ++i) {
      for (int64_t t = 0; t < ra; ++t) {
        double acc = 0.0;
        for (int64_t b = 0; b < B; ++b) acc += s.g[b * k + i] * static_cast<double>(s.p[b * n + k + rt + t]);
        s.grad[i * ra + t] = sc * acc;
      }
    }
    const double step_a = lr * a_.lr_scale;
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t = 0; t < ra; ++t) {
        double gb = 0.0;  // (B^T g_b)_t
        for (int64_t i = 0; i < k; ++i) gb += s.g[b * k + i] * static_cast<double>(bm[i * ra + t]);
        s.coef[b * ra + t] = -step_a * sc * gb;
      }
    }
    if (dec != 0.0) kernels::scale(a, ra * d, 1.0 - dec * a_.lr_scale);
    kernels::add_outer(a, ra, d, s.coef.data(), s.x.data(), B);
    const double keep = 1.0 - dec * b_.lr_scale, step_b = lr * b_.lr_scale;
    for (int64_t j = 0; j < k * ra; ++j) bm[j] = static_cast<T>(bm[j] * keep - step_b * s.grad[j]);
  }

  models::Model& model_;
  Kind kind_;
  ScalarActivation act_;
  int64_t batch_, replicas_ = 0, d_ = 0, k_ = 0, rt_ = 0, ra_ = 0;
  bool spherical_;
  at::Tensor w_, lam_, ustar_t_, cstar_;          // frozen: W [R,k,d], lam [R,k], U*^T [R,rt,d], C* [R,k,rt]
  std::vector<double> xi_star_, tau_, lora_scale_;  // frozen [R]
  at::Tensor u_value_, c_value_, xi_value_;        // rank1 tensors (trained or not)
  Trained u_, c_, xi_, a_, b_;                     // what is trained, with lr_scale and sphere flag
  T *u_ptr_ = nullptr, *c_ptr_ = nullptr, *xi_ptr_ = nullptr, *a_ptr_ = nullptr, *b_ptr_ = nullptr;
  std::vector<Scratch<T>> scratch_;
  std::vector<double> lr_buffer_, decay_buffer_, zeros_;
  at::Tensor loss_;  // [R], reused
};

}  // namespace

FusedStep::~FusedStep() = default;

std::unique_ptr<FusedStep> FusedStep::make(models::Model& model, int64_t batch, bool spherical, std::string* why) {
  auto no = [&](const std::string& m) {
    if (why) *why = m;
    return std::unique_ptr<FusedStep>();
  };
  if (!model.ctx.device.is_cpu()) return no("not on the CPU");
  if (model.ctx.dtype != at::kFloat && model.ctx.dtype != at::kDouble) return no("dtype is not float32/float64");
  if (!model.teacher || typeid(*model.teacher) != typeid(models::LowRank)) return no("teacher is not low_rank");
  const std::type_info& at_type = typeid(*model.adapter);
  using Kind = AdapterKind;
  Kind kind;
  if (at_type == typeid(models::Rank1)) {
    kind = Kind::kRank1;
  } else if (at_type == typeid(models::Lora)) {
    kind = Kind::kLora;
  } else {
    return no("adapter '" + model.adapter->type() + "' has no fused step (rank1 and lora do)");
  }
  if (!model.adapter->buffers().empty()) return no("adapter has frozen buffers (e.g. lora init: pissa)");
  for (auto* p : model.adapter->parameters()) {
    const bool known = kind == Kind::kRank1 ? (p->name == "u" || p->name == "c" || p->name == "xi")
                                            : (p->name == "A" || p->name == "B");
    if (!known) return no("unknown parameter '" + p->name + "'");
    if (p->on_sphere && p->name != "u") return no("parameter '" + p->name + "' on the sphere");
  }
  if (kind == Kind::kLora && model.adapter->parameters().size() != 2) return no("lora without A and B");
  auto act = ScalarActivation::from(model.base->activation());
  if (!act) return no("activation '" + model.base->activation().type() + "' has no scalar version");
  std::unique_ptr<FusedStep> out(new FusedStep());
  if (model.ctx.dtype == at::kFloat) {
    out->impl_ = std::make_unique<FusedImpl<float>>(model, batch, spherical, kind, *act);
  } else {
    out->impl_ = std::make_unique<FusedImpl<double>>(model, batch, spherical, kind, *act);
  }
  return out;
}

int FusedStep::threads_used() const { return impl_->threads_used.load(); }

bool FusedStep::parallel_available() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

at::Tensor FusedStep::step(DataSampler& sampler, const at::Tensor& lr, const at::Tensor& decay, bool noisy,
                           bool want_loss) {
  return impl_->step(sampler, lr, decay, noisy, want_loss);
}

}  // namespace lrlab::trainers
