#include "models/population.h"

#include <ATen/core/grad_mode.h>
#include <fmt/format.h>
#include <torch/csrc/autograd/autograd.h>

#include <cstdio>

#include "framework/error.h"

namespace lrlab::models {

namespace {

/// Squared row norms and Gram matrix of one set of rows against itself: a [R, k, d] ->
/// {saa [R, k, 1], sbb [R, 1, k], sab [R, k, k]}. The norms are read off the Gram diagonal so that
/// sab_ii == saa_i == sbb_i exactly (no rounding gap at the coincident pairs i = j).
struct SelfGram {
  at::Tensor saa, sbb, sab;
};

SelfGram self_gram(const at::Tensor& a) {
  at::Tensor sab = at::bmm(a, a.transpose(1, 2));  // [R,k,d] x [R,d,k] -> [R,k,k]
  at::Tensor norms = at::diagonal(sab, 0, 1, 2);   // [R,k]
  return {norms.unsqueeze(2), norms.unsqueeze(1), sab};
}

/// lam_i lam_j [R, k, k].
at::Tensor outer(const at::Tensor& lam) { return lam.unsqueeze(2) * lam.unsqueeze(1); }

/// sum_ij w_ij m_ij per replica: w, m [R, k, k] -> [R].
at::Tensor weighted_sum(const at::Tensor& w, const at::Tensor& m) { return (w * m).sum({1, 2}); }

at::Tensor to_f64(const at::Tensor& t) { return t.to(at::kDouble); }

/// L = excess + tau^2 / 2 with the excess clamped at 0. The excess is E[(f_student - f*)^2] / 2 >= 0, but
/// it is computed as a sum of O(1) kernel terms that cancel near the teacher, where rounding leaves it a
/// few 1e-18 below 0 (-4.3e-18 reported in issue 12); a negative squared error would mislead a log plot
/// or a threshold, so it reads 0. The clamp's gradient is 0 there (the true gradient is ~1e-18 too).
at::Tensor loss_from_excess(const at::Tensor& excess, const at::Tensor& tau) {
  return at::clamp_min(excess, 0.0) + 0.5 * tau * tau;
}

}  // namespace

at::Tensor kernel_matrix(const Activation& act, const at::Tensor& a, const at::Tensor& b) {
  at::Tensor saa = (a * a).sum(-1).unsqueeze(2);   // [R,k,1]
  at::Tensor sbb = (b * b).sum(-1).unsqueeze(1);   // [R,1,m]
  at::Tensor sab = at::bmm(a, b.transpose(1, 2));  // [R,k,m]
  return act.kernel(saa, sbb, sab);
}

at::Tensor population_loss(const Activation& act, const at::Tensor& lam, const at::Tensor& q, const at::Tensor& p,
                           const at::Tensor& tau) {
  const SelfGram sq = self_gram(q), sp = self_gram(p);
  const at::Tensor kqq = act.kernel(sq.saa, sq.sbb, sq.sab);  // K(q_i, q_j) [R,k,k]
  const at::Tensor kpp = act.kernel(sp.saa, sp.sbb, sp.sab);  // K(p_i, p_j) [R,k,k]
  const at::Tensor kqp = kernel_matrix(act, q, p);            // K(q_i, p_j) [R,k,k]
  // Combined entrywise before summing: the four terms cancel entry by entry near the teacher.
  const at::Tensor diff = kqq + kpp - kqp - kqp.transpose(1, 2);
  return loss_from_excess(0.5 * weighted_sum(outer(lam), diff), tau);
}

// Hand-derived chain rule from the Gram entries to the rows (shapes per replica; R is a batch axis).
// Write the kernel slots as independent variables: for the student-student term
//   saa_i = |q_i|^2 [k,1], sbb_j = |q_j|^2 [1,k], sab_ij = <q_i, q_j> [k,k],
// and for the student-teacher term caa_i = |q_i|^2 [k,1], m_ij = <q_i, p_j> [k,k] (|p_j|^2 is constant).
// With the q-dependent part of L,
//   L_q = 1/2 sum_ij lam_i lam_j K(saa_i, sbb_j, sab_ij) - sum_ij lam_i lam_j K(caa_i, |p_j|^2, m_ij),
// autograd on this scalar gives the partials g_saa [k,1], g_sbb [1,k], g_sab [k,k], g_caa [k,1], g_m [k,k]
// (already weighted by lam_i lam_j and summed where a slot is shared). Then, because
//   d|q_i|^2/dq_i = 2 q_i,  d<q_i, q_j>/dq_i = q_j (and d<q_i, q_i>/dq_i = 2 q_i),  d<q_i, p_j>/dq_i = p_j,
//   dL/dq_i = 2 (g_saa_i + g_sbb_i + g_caa_i) q_i + sum_j (g_sab_ij + g_sab_ji) q_j + sum_j g_m_ij p_j,
// i.e. dL/dQ = 2 diag(g_saa + g_sbb^T + g_caa) Q + (g_sab + g_sab^T) Q + g_m P                [k, d].
// Cost: the kernel and its backward on [R,k,k] entries plus two bmm's of O(k^2 d).
RowGradient population_loss_row_gradient(const Activation& act, const at::Tensor& lam, const at::Tensor& q,
                                         const at::Tensor& p, const at::Tensor& tau) {
  const at::Tensor q64 = to_f64(q).detach(), p64 = to_f64(p).detach(), lam64 = to_f64(lam).detach();
  const at::Tensor ll = outer(lam64);  // [R,k,k]
  const SelfGram sq = self_gram(q64);
  const at::Tensor pn = (p64 * p64).sum(-1).unsqueeze(1);  // |p_j|^2 [R,1,k]
  const at::Tensor mqp = at::bmm(q64, p64.transpose(1, 2));  // <q_i, p_j> [R,k,k]
  at::Tensor loss, kqq, kqp;
  std::vector<at::Tensor> g;
  at::Tensor saa = sq.saa.clone(), sbb = sq.sbb.clone(), sab = sq.sab.clone();
  at::Tensor caa = sq.saa.clone(), m = mqp.clone();
  {
    at::AutoGradMode enable(true);
    for (at::Tensor* t : {&saa, &sbb, &sab, &caa, &m}) t->requires_grad_(true);
    kqq = act.kernel(saa, sbb, sab);  // [R,k,k]
    kqp = act.kernel(caa, pn, m);     // [R,k,k]
    const at::Tensor lq = 0.5 * weighted_sum(ll, kqq) - weighted_sum(ll, kqp);  // [R]
    g = torch::autograd::grad({lq.sum()}, {saa, sbb, sab, caa, m}, /*grad_outputs=*/{}, /*retain_graph=*/false,
                              /*create_graph=*/false, /*allow_unused=*/true);
  }
  std::vector<at::Tensor> partial(5);
  const at::Tensor* slots[5] = {&saa, &sbb, &sab, &caa, &m};
  for (int i = 0; i < 5; ++i) partial[i] = g[i].defined() ? g[i] : at::zeros_like(*slots[i]);
  const at::Tensor diag = partial[0] + partial[1].transpose(1, 2) + partial[3];  // [R,k,1]
  at::Tensor grad = 2.0 * diag * q64                                              // [R,k,d]
                    + at::bmm(partial[2] + partial[2].transpose(1, 2), q64)       // [R,k,k] x [R,k,d]
                    + at::bmm(partial[4], p64);                                   // [R,k,k] x [R,k,d]
  {
    at::NoGradGuard no_grad;
    const SelfGram spp = self_gram(p64);
    const at::Tensor kpp = act.kernel(spp.saa, spp.sbb, spp.sab);
    const at::Tensor diff = kqq.detach() + kpp - kqp.detach() - kqp.detach().transpose(1, 2);
    const at::Tensor tau64 = to_f64(tau);
    loss = loss_from_excess(0.5 * weighted_sum(ll, diff), tau64);
  }
  return {loss, grad};
}

namespace {

/// Kernel values and partial derivatives at broadcastable (saa, sbb, sab), elementwise on the broadcast
/// shape S: the leaves are expanded to S so that each partial is that of its own entry.
struct KernelPartials {
  at::Tensor k, a, b, c;      // K, dK/dsaa, dK/dsbb, dK/dsab [S]
  at::Tensor ab, ac, bc, cc;  // second partials (when asked) [S]
};

at::Tensor defined_or_zeros(const at::Tensor& t, const at::Tensor& like) {
  return t.defined() ? t.detach() : at::zeros_like(like).detach();
}

KernelPartials kernel_partials(const Activation& act, const at::Tensor& saa, const at::Tensor& sbb,
                               const at::Tensor& sab, bool second) {
  const auto shape = at::infer_size(at::infer_size(saa.sizes(), sbb.sizes()), sab.sizes());
  at::Tensor a = saa.detach().expand(shape).clone(), b = sbb.detach().expand(shape).clone();
  at::Tensor c = sab.detach().expand(shape).clone();
  at::AutoGradMode enable(true);
  for (at::Tensor* t : {&a, &b, &c}) t->requires_grad_(true);
  const at::Tensor k = act.kernel(a, b, c);
  auto g = torch::autograd::grad({k.sum()}, {a, b, c}, {}, /*retain_graph=*/second, /*create_graph=*/second,
                                 /*allow_unused=*/true);
  KernelPartials out;
  out.k = k.detach();
  if (second) {
    // d(dK/dx)/dy of each entry: the first partials are elementwise functions of (a, b, c).
    auto second_of = [&](const at::Tensor& gx, const at::Tensor& y) {
      if (!gx.defined() || !gx.requires_grad()) return at::zeros_like(y).detach();
      auto h = torch::autograd::grad({gx.sum()}, {y}, {}, /*retain_graph=*/true, /*create_graph=*/false,
                                     /*allow_unused=*/true);
      return defined_or_zeros(h[0], y);
    };
    out.ab = second_of(g[0], b);
    out.ac = second_of(g[0], c);
    out.bc = second_of(g[1], c);
    out.cc = second_of(g[2], c);
  }
  out.a = defined_or_zeros(g[0], a);
  out.b = defined_or_zeros(g[1], b);
  out.c = defined_or_zeros(g[2], c);
  return out;
}

/// sigma'(z), or sigma'(z) z, as an activation: its (default, quadrature) kernel at coincident arguments
/// (saa = sbb = sab = s) is the 1-D expectation E[sigma'(z)^2] or E[sigma'(z)^2 z^2], z ~ N(0, s).
class DerivativeAsActivation : public Activation {
 public:
  DerivativeAsActivation(const Activation& act, bool times_z) : act_(act), times_z_(times_z) {}
  std::string type() const override { return "derivative of " + act_.type(); }
  at::Tensor value(const at::Tensor& z) const override {
    const at::Tensor d = act_.derivative(z);
    return times_z_ ? d * z : d;
  }
  at::Tensor derivative(const at::Tensor&) const override {
    throw Error("DerivativeAsActivation: derivative is not available");
  }

 private:
  const Activation& act_;
  bool times_z_;
};

/// "" when the base rows W [R, k, d] are non-zero and pairwise non-parallel, else the problem.
std::string linearized_degeneracy(const at::Tensor& w) {
  at::NoGradGuard no_grad;
  const at::Tensor w64 = to_f64(w);
  const SelfGram g = self_gram(w64);
  const at::Tensor norms = at::diagonal(g.sab, 0, 1, 2);  // [R,k]
  if ((norms <= 1e-300).any().item<bool>())
    return "the linearized student's population loss needs non-zero base rows (zero_base gives W = 0)";
  const int64_t k = w.size(1);
  const at::Tensor cosine = g.sab / (g.saa * g.sbb).sqrt();
  const at::Tensor off = at::ones({k, k}, cosine.options()) - at::eye(k, cosine.options());
  if (((cosine.abs() * off) > 1 - 1e-9).any().item<bool>())
    return "the linearized student's population loss needs pairwise non-parallel base rows";
  return "";
}

}  // namespace

// The linearized student f_lin(x) = sum_i lam_i [sigma(a_i) + sigma'(a_i) b_i], a_i = <w_i, x>,
// b_i = <D_i, x>, is the first-order Taylor expansion of f_{W + eps D} in eps. Its population loss
//   L = 1/2 (E[f_lin^2] - 2 E[f_lin f*] + E[f*^2]) + tau^2 / 2
// expands into Gaussian expectations that Gaussian integration by parts (Stein / Price) turns into
// derivatives of K along D. With K_ij = K(saa, sbb, sab) at (w_i, w_j) and its partials K_a, K_b, K_c,
// K_ab, K_ac, K_bc, K_cc (autograd, once), and
//   va_i = 2 <w_i, D_i>,  c1_ij = <D_i, w_j>,  c2_ij = <w_i, D_j>,  dd_ij = <D_i, D_j>,  dp_ij = <D_i, p_j>:
//   E[sigma'(a_i) b_i sigma(a_j)] + E[sigma(a_i) sigma'(a_j) b_j]
//       = d/deps K(w_i + eps D_i, w_j) + d/deta K(w_i, w_j + eta D_j)
//       = K_a va_i + K_b va_j + K_c (c1_ij + c2_ij)                                   (all i, j)
//   E[sigma'(a_i) b_i sigma'(a_j) b_j] = d2/deps deta K(w_i + eps D_i, w_j + eta D_j)
//       = K_ab va_i va_j + K_ac va_i c2_ij + K_bc c1_ij va_j + K_cc c1_ij c2_ij + K_c dd_ij     (i != j)
//   E[sigma'(a_i)^2 b_i^2] = |D_i|^2 Q0_i + (<D_i, w_i>^2 / s_i) (Q2_i - Q0_i)                   (i = j)
//       (b_i = alpha a_i + e with e independent of a_i; s_i = |w_i|^2, Q0_i = E[sigma'(z)^2],
//        Q2_i = E[sigma'(z)^2 z^2] / s_i, z ~ N(0, s_i), by the kernel's graded quadrature at
//        coincident arguments, exact for ReLU; the i = j second derivatives of K are singular for ReLU, so the
//        diagonal is not taken from them)
//   E[sigma'(a_i) b_i sigma(<p_j, x>)] = d/deps K(w_i + eps D_i, p_j) = KP_a va_i + KP_c dp_ij.
// So L(D) = L(0) + 1/2 sum_ij lam_i lam_j (first + mixed)_ij + 1/2 sum_i lam_i^2 diag_i
//           - sum_ij lam_i lam_j (KP_a va_i + KP_c dp_ij): a quadratic form in D, O(k^2 d) per evaluation.
LinearizedPopulation::LinearizedPopulation(const Activation& act, const at::Tensor& lam, const at::Tensor& w,
                                           const at::Tensor& p, const at::Tensor& tau) {
  const std::string problem = linearized_degeneracy(w);
  if (!problem.empty()) throw Error("population loss: " + problem);
  at::NoGradGuard no_grad;
  w_ = to_f64(w).detach();
  p_ = to_f64(p).detach();
  const at::Tensor lam64 = to_f64(lam).detach();
  ll_ = outer(lam64);
  lam2_ = lam64 * lam64;
  const int64_t k = w.size(1);
  const at::Tensor off = (at::ones({k, k}, w_.options()) - at::eye(k, w_.options())).to(at::kBool);  // i != j
  const at::Tensor zero = at::zeros({}, w_.options());

  const SelfGram gw = self_gram(w_);
  const KernelPartials ww = kernel_partials(act, gw.saa, gw.sbb, gw.sab, /*second=*/true);
  ka_ = ww.a;
  kb_ = ww.b;
  kc_ = ww.c;
  kab_ = at::where(off, ww.ab, zero);
  kac_ = at::where(off, ww.ac, zero);
  kbc_ = at::where(off, ww.bc, zero);
  kcc_ = at::where(off, ww.cc, zero);
  kco_ = at::where(off, ww.c, zero);
  const at::Tensor pn = (p_ * p_).sum(-1).unsqueeze(1);  // |p_j|^2 [R,1,k]
  const KernelPartials wp = kernel_partials(act, gw.saa, pn, at::bmm(w_, p_.transpose(1, 2)), /*second=*/false);
  pa_ = wp.a;
  pc_ = wp.c;
  const SelfGram gp = self_gram(p_);
  const at::Tensor kpp = act.kernel(gp.saa, gp.sbb, gp.sab);
  const at::Tensor tau64 = to_f64(tau);
  const_ = 0.5 * weighted_sum(ll_, ww.k + kpp - wp.k - wp.k.transpose(1, 2));  // the excess at D = 0
  tau_ = tau64;

  s_ = at::diagonal(gw.sab, 0, 1, 2).clone();  // [R,k]
  // The accurate kernel at coincident arguments (its graded rule has no node at 0: exact for ReLU's step).
  q0_ = DerivativeAsActivation(act, false).kernel(s_, s_, s_);
  q2_ = DerivativeAsActivation(act, true).kernel(s_, s_, s_) / s_;
  for (const at::Tensor* t : {&ka_, &kb_, &kc_, &kab_, &kac_, &kbc_, &kcc_, &kco_, &pa_, &pc_, &q0_, &q2_, &const_})
    if (!at::isfinite(*t).all().item<bool>())
      throw Error("population loss: non-finite kernel derivatives at the base rows (linearized student)");
}

at::Tensor LinearizedPopulation::loss(const at::Tensor& delta) const {
  const at::Tensor dm = to_f64(delta);                          // D [R,k,d]
  const at::Tensor wd = (w_ * dm).sum(-1);                      // <w_i, D_i> [R,k]
  const at::Tensor vi = (2.0 * wd).unsqueeze(2), vj = (2.0 * wd).unsqueeze(1);  // va_i [R,k,1], va_j [R,1,k]
  const at::Tensor c1 = at::bmm(dm, w_.transpose(1, 2));       // <D_i, w_j> [R,k,k]
  const at::Tensor c2 = c1.transpose(1, 2);                     // <w_i, D_j>
  const at::Tensor dd = at::bmm(dm, dm.transpose(1, 2));       // <D_i, D_j>
  const at::Tensor dp = at::bmm(dm, p_.transpose(1, 2));       // <D_i, p_j>
  const at::Tensor first = ka_ * vi + kb_ * vj + kc_ * (c1 + c2);
  const at::Tensor mixed = kab_ * vi * vj + kac_ * vi * c2 + kbc_ * c1 * vj + kcc_ * c1 * c2 + kco_ * dd;  // i != j
  const at::Tensor diag = (dm * dm).sum(-1) * q0_ + wd.pow(2) / s_ * (q2_ - q0_);  // [R,k]
  const at::Tensor student = weighted_sum(ll_, first + mixed) + (lam2_ * diag).sum(-1);
  const at::Tensor cross = weighted_sum(ll_, pa_ * vi + pc_ * dp);
  return loss_from_excess(const_ + 0.5 * student - cross, tau_);
}

std::string population_loss_unavailable_reason(const Model& model) {
  if (model.adapter->type() == "linearized") return linearized_degeneracy(model.base->weight());
  return "";
}

bool has_population_loss(const Model& model) { return population_loss_unavailable_reason(model).empty(); }

namespace {

/// Makes every parameter value require grad for the duration of a scope, restoring the previous state.
class RequireGrad {
 public:
  explicit RequireGrad(const std::vector<Parameter*>& params) : params_(params) {
    for (auto* p : params_) {
      was_.push_back(p->value.requires_grad());
      if (!was_.back()) p->value.requires_grad_(true);
    }
  }
  ~RequireGrad() {
    for (size_t i = 0; i < params_.size(); ++i)
      if (!was_[i]) params_[i]->value.requires_grad_(false);
  }
  RequireGrad(const RequireGrad&) = delete;
  RequireGrad& operator=(const RequireGrad&) = delete;

 private:
  std::vector<Parameter*> params_;
  std::vector<bool> was_;
};

/// Sets Parameter::grad from autograd results (zero where a parameter was unused).
void assign_grads(const std::vector<Parameter*>& params, const std::vector<at::Tensor>& grads) {
  for (size_t i = 0; i < params.size(); ++i)
    params[i]->grad = grads[i].defined() ? grads[i].detach() : at::zeros_like(params[i]->value).detach();
}

}  // namespace

PopulationObjective::PopulationObjective(const Model& model) {
  const std::string why = population_loss_unavailable_reason(model);
  if (!why.empty()) throw Error("population loss: " + why);
  linearized_ = model.adapter->type() == "linearized";
  at::NoGradGuard no_grad;
  if (linearized_) {
    linear_ = std::make_shared<LinearizedPopulation>(model.base->activation(), model.base->lam(),
                                                     model.base->weight(), model.teacher->weight(),
                                                     model.teacher->tau());
    return;
  }
  p_ = to_f64(model.teacher->weight());  // [R,k,d]
  lam_ = to_f64(model.base->lam());      // [R,k]
  tau_ = to_f64(model.teacher->tau());   // [R]
  const SelfGram gp = self_gram(p_);
  kpp_ = model.base->activation().kernel(gp.saa, gp.sbb, gp.sab);  // [R,k,k]
}

at::Tensor PopulationObjective::loss(const Model& model) const {
  const at::Tensor q = model.adapter->effective_weight();  // [R,k,d]
  if (linearized_) return linear_->loss(q - model.base->weight());
  // As population_loss(act, lam, q, p, tau), with the cached K(p_i, p_j).
  const Activation& act = model.base->activation();
  const at::Tensor q64 = to_f64(q);
  const SelfGram sq = self_gram(q64);
  const at::Tensor kqq = act.kernel(sq.saa, sq.sbb, sq.sab);  // [R,k,k]
  const at::Tensor kqp = kernel_matrix(act, q64, p_);         // [R,k,k]
  return loss_from_excess(0.5 * weighted_sum(outer(lam_), kqq + kpp_ - kqp - kqp.transpose(1, 2)), tau_);
}

at::Tensor PopulationObjective::gradients(Model& model, PopulationGradPath path) const {
  Adapter& adapter = *model.adapter;
  auto params = adapter.parameters();
  std::vector<at::Tensor> values;
  for (auto* p : params) values.push_back(p->value);

  if (path == PopulationGradPath::kAutograd || linearized_) {
    RequireGrad scope(params);
    at::AutoGradMode enable(true);
    const at::Tensor l = loss(model);  // [R]
    assign_grads(params, torch::autograd::grad({l.sum()}, values, {}, false, false, /*allow_unused=*/true));
    return l.detach();
  }

  at::Tensor q, p, lam, tau;
  {
    at::NoGradGuard no_grad;
    q = adapter.effective_weight();
    p = model.teacher->weight();
    lam = model.base->lam();
    tau = model.teacher->tau();
  }
  RowGradient rg = population_loss_row_gradient(model.base->activation(), lam, q, p, tau);
  const at::Tensor grad_q = rg.grad.to(q.scalar_type());  // dL/dQ [R,k,d] in the model dtype
  const std::string type = adapter.type();
  if ((type == "full" || type == "scratch") && params.size() == 1 && params[0]->value.sizes() == grad_q.sizes()) {
    // full: Q = W + Delta, dL/dDelta = dL/dQ;  scratch: Q = Theta, dL/dTheta = dL/dQ.
    params[0]->grad = grad_q;
    return rg.loss;
  }
  // Any other adapter: (dQ/dtheta)^T dL/dQ, one vector-Jacobian product through effective_weight().
  RequireGrad scope(params);
  at::AutoGradMode enable(true);
  const at::Tensor q_graph = adapter.effective_weight();
  assign_grads(params, torch::autograd::grad({q_graph}, values, {grad_q}, false, false, /*allow_unused=*/true));
  return rg.loss;
}

at::Tensor population_loss(const Model& model) { return PopulationObjective(model).loss(model); }

at::Tensor population_gradients(Model& model, PopulationGradPath path) {
  return PopulationObjective(model).gradients(model, path);
}

namespace {

class PopulationLossMetric : public Metric {
 public:
  explicit PopulationLossMetric(const Model& model) : objective_(model) {}
  std::string name() const override { return "population_loss"; }
  bool higher_is_better() const override { return false; }
  at::Tensor compute(Model& model) override {
    at::NoGradGuard no_grad;
    return objective_.loss(model).to(at::kCPU, at::kDouble);
  }

 private:
  PopulationObjective objective_;
};

}  // namespace

std::shared_ptr<Metric> make_population_loss_metric(const Model& model, const MetricsOptions&) {
  try {
    return std::make_shared<PopulationLossMetric>(model);
  } catch (const Error& e) {
    fmt::print(stderr, "lrlab: metric population_loss is not recorded: {}\n", e.what());
    return nullptr;
  }
}

}  // namespace lrlab::models
