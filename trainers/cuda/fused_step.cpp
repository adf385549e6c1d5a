#include "trainers/cuda/fused_step.h"

#include <optional>

#include "framework/error.h"
#include "models/adapters/rank1.h"
#include "models/low_rank.h"
#include "trainers/cuda/fused_math.h"
#include "trainers/update_rule.h"
#ifdef LRLAB_CUDA_FUSED
#include "trainers/cuda/fused_launch.h"
#endif

namespace lrlab::trainers {

namespace {

// What the components said about themselves (models/fused_descriptor.h).
struct Descriptors {
  fused::ActivationDesc act;
  fused::TeacherDesc teacher;
  fused::AdapterDesc adapter;
};

// The descriptors of `model`'s components, or none with the first reason the fused step does not apply.
std::optional<Descriptors> gather(models::Model& model, const UpdateRule& rule, std::string* why) {
  auto no = [&](const std::string& m) {
    if (why) *why = m;
    return std::optional<Descriptors>();
  };
  const at::ScalarType dtype = model.ctx.dtype;
  if (dtype != at::kFloat && dtype != at::kDouble) return no("dtype " + std::string(c10::toString(dtype)));
  if (!rule.plain_descent()) return no("update rule '" + rule.type() + "' has no fused CUDA step");
  std::string reason;
  Descriptors d;
  auto act = model.base->activation().cuda_descriptor(&reason);
  if (!act) return no(reason);
  auto teacher = model.teacher->cuda_descriptor(&reason);
  if (!teacher) return no(reason);
  auto adapter = model.adapter->cuda_descriptor(&reason);
  if (!adapter) return no(reason);
  d.act = *act;
  d.teacher = *teacher;
  d.adapter = *adapter;
  return d;
}

// A frozen tensor as the kernel reads it: contiguous, in the model's dtype and on its device.
at::Tensor frozen(const at::Tensor& t, const models::Model& m) {
  return t.to(m.ctx.options()).contiguous();
}

template <class T>
class FusedStepImpl : public FusedStep {
 public:
  FusedStepImpl(models::Model& model, const Descriptors& desc, int64_t batch, bool spherical)
      : model_(model),
        // The descriptors' kinds name these classes (low_rank, rank1): the only ones with descriptors.
        teacher_(dynamic_cast<const models::LowRank&>(*model.teacher)),
        adapter_(dynamic_cast<models::Rank1&>(*model.adapter)) {
    const auto& base = *model.base;
    auto& p = problem_;
    p.replicas = base.replicas();
    p.d = base.d();
    p.k = base.k();
    p.batch = batch;
    p.teacher_rank = desc.teacher.rank;
    p.act = desc.act;
    p.adapter = desc.adapter;
    p.spherical = spherical;
    p.noisy = model.teacher->tau().abs().max().item<double>() > 0;
    w_ = frozen(base.weight(), model);
    lam_ = frozen(base.lam(), model);
    ustar_t_ = frozen(teacher_.subspace().transpose(1, 2), model);  // [R, r, d]
    cstar_ = frozen(teacher_.c(), model);
    xistar_ = frozen(teacher_.xi(), model);
    tau_ = frozen(teacher_.tau(), model);
    seeds_ = at::tensor(model.ctx.seeds, at::kLong).to(model.ctx.device);  // read as uint64
    x_scratch_ = at::empty({p.replicas, batch, p.d}, model.ctx.options());
    loss_ = at::zeros({p.replicas}, model.ctx.options());
    for (auto* param : adapter_.parameters()) {
      if (param == &adapter_.u()) p.lr_scale_u = param->lr_scale;
      if (param == &adapter_.c()) p.lr_scale_c = param->lr_scale;
      if (param == &adapter_.xi()) p.lr_scale_xi = param->lr_scale;
    }
  }

  at::Tensor steps(int64_t first, int64_t n, const at::Tensor& lr, const at::Tensor& decay, bool want_loss) override {
    check(n >= 1, "fused step: at least one step per launch");
    auto& p = problem_;
    check(!x_.defined() || x_.size(0) == n, "fused step: the injected inputs are not for " + std::to_string(n) + " steps");
    lr_ = lr.to(at::TensorOptions().dtype(at::kDouble).device(model_.ctx.device)).contiguous();
    decay_ = decay.defined() ? decay.to(lr_.options()).contiguous() : at::Tensor();
    check(lr_.numel() == p.replicas, "fused step: learning rates must be [R]");
    p.w = w_.data_ptr<T>();
    p.lam = lam_.data_ptr<T>();
    p.ustar_t = ustar_t_.data_ptr<T>();
    p.cstar = cstar_.data_ptr<T>();
    p.xistar = xistar_.data_ptr<T>();
    p.tau = tau_.data_ptr<T>();
    p.u = parameter(adapter_.u());
    p.c = parameter(adapter_.c());
    p.xi = parameter(adapter_.xi());
    p.seeds = reinterpret_cast<const uint64_t*>(seeds_.data_ptr<int64_t>());
    p.lr = lr_.data_ptr<double>();
    p.decay = decay_.defined() ? decay_.data_ptr<double>() : nullptr;
    p.x_injected = x_.defined() ? x_.data_ptr<T>() : nullptr;
    p.eps_injected = eps_.defined() ? eps_.data_ptr<T>() : nullptr;
    p.x_scratch = x_scratch_.data_ptr<T>();
    p.loss = want_loss ? loss_.data_ptr<T>() : nullptr;
    launch(first, n);
    x_ = at::Tensor();
    eps_ = at::Tensor();
    model_.adapter->after_update();
    return want_loss ? loss_ : at::Tensor();
  }

  void inject(const at::Tensor& x, const at::Tensor& eps) override {
    const auto& p = problem_;
    check(x.dim() == 4 && x.size(1) == p.replicas && x.size(2) == p.batch && x.size(3) == p.d,
          "fused step: injected inputs must be [n, R, B, d]");
    check(!p.noisy || (eps.defined() && eps.dim() == 3 && eps.size(0) == x.size(0)),
          "fused step: injected label noise must be [n, R, B]");
    x_ = frozen(x, model_);
    eps_ = p.noisy ? frozen(eps, model_) : at::Tensor();
  }

 private:
  // A parameter's data in place (the kernel updates it), checked for layout, dtype and device.
  T* parameter(const models::Parameter& param) {
    check(param.value.is_contiguous() && param.value.scalar_type() == model_.ctx.dtype &&
              param.value.device() == model_.ctx.device,
          "fused step: parameter '" + param.name + "' is not a contiguous tensor of the model's dtype and device");
    return param.value.data_ptr<T>();
  }

  void launch(int64_t first, int64_t n) {
    if (model_.ctx.device.is_cpu()) {
      fused::host_steps(problem_, first, n);
      return;
    }
#ifdef LRLAB_CUDA_FUSED
    const char* error = fused::launch_steps(problem_, first, n);
    check(error == nullptr, std::string("fused CUDA step: ") + (error ? error : ""));
#else
    throw Error("fused step: this build has no CUDA kernel (LRLAB_CUDA_FUSED is off)");
#endif
  }

  models::Model& model_;
  const models::LowRank& teacher_;
  models::Rank1& adapter_;
  fused::Problem<T> problem_;
  at::Tensor w_, lam_, ustar_t_, cstar_, xistar_, tau_;  // frozen, model dtype and device
  at::Tensor seeds_;                                    // [R] int64 run seeds (the Philox keys)
  at::Tensor x_scratch_, loss_;                         // [R, B, d], [R]
  at::Tensor lr_, decay_;                               // this launch's [R] doubles
  at::Tensor x_, eps_;                                  // injected samples for the next launch
};

}  // namespace

std::unique_ptr<FusedStep> FusedStep::make(models::Model& model, int64_t batch, bool spherical, UpdateRule& rule,
                                           std::string* why) {
  const auto desc = gather(model, rule, why);
  if (!desc) return nullptr;
  fused::Problem<double> shape;  // only the shape, for the limits
  shape.batch = batch;
  shape.k = model.base->k();
  shape.teacher_rank = desc->teacher.rank;
  if (const char* problem = fused::shape_problem(shape)) {
    if (why) *why = problem;
    return nullptr;
  }
  if (model.ctx.dtype == at::kFloat) return std::make_unique<FusedStepImpl<float>>(model, *desc, batch, spherical);
  return std::make_unique<FusedStepImpl<double>>(model, *desc, batch, spherical);
}

std::string fused_path_name(bool allow, bool built, bool made, const std::string& why_not) {
  if (!allow) return "batched (fused CUDA step disabled)";
  if (!built) return "batched (built without the fused CUDA step)";
  return made ? "cuda_fused" : "batched (" + why_not + ")";
}

bool FusedStep::built() {
#ifdef LRLAB_CUDA_FUSED
  return true;
#else
  return false;
#endif
}

}  // namespace lrlab::trainers
