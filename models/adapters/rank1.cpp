#include "models/adapters/rank1.h"

#include "framework/config.h"
#include "framework/context.h"
#include "framework/error.h"
#include "models/low_rank.h"

namespace lrlab::models {

Rank1Options Rank1Options::from_config(const Config& cfg) {
  Rank1Options o;
  o.c = cfg.get_choice("c", o.c, {"train", "fixed_random", "teacher"});
  o.c_init = cfg.get_choice("c_init", o.c_init, {"random", "zero"});
  o.xi = PerReplica<double>(cfg.get_each<double>("xi", o.xi[0]));
  o.xi_from_teacher = cfg.get<bool>("xi_from_teacher", o.xi_from_teacher);
  o.train_xi = cfg.get<bool>("train_xi", o.train_xi);
  for (double xi : o.xi.values())
    if (!std::isfinite(xi)) cfg.fail("xi", "must be finite");
  return o;
}

Rank1::Rank1(const Rank1Options& options, const AdapterInputs& in)
    : Adapter(in.base), options_(options) {
  const int64_t d = base_->d(), k = base_->k();
  auto low_rank = std::dynamic_pointer_cast<const LowRank>(in.teacher);
  if ((options.c == "teacher" || options.xi_from_teacher) && !low_rank)
    throw Error("rank1: c: teacher and xi_from_teacher need a low_rank teacher");
  auto drawn = stack_replicas_multi(in.ctx, Stream::kAdapter, [&](at::Generator& gen, int64_t) {
    at::Tensor u = cpu_normal({d}, gen);
    at::Tensor c = cpu_normal({k}, gen);
    return std::vector<at::Tensor>{u / u.norm(), c / c.norm()};
  });
  u_.value = drawn[0];
  u_.on_sphere = true;
  if (options.c == "teacher") {
    c_.value = low_rank->c().select(2, 0).clone();  // c* (first column for rank-r teachers)
  } else if (options.c == "train" && options.c_init == "zero") {
    c_.value = at::zeros_like(drawn[1]);
  } else {
    c_.value = drawn[1];
  }
  xi_.value = options.xi_from_teacher ? low_rank->xi().clone() : per_replica(in.ctx, options.xi.expand(in.ctx.replicas()));
}

std::vector<Parameter*> Rank1::parameters() {
  std::vector<Parameter*> out{&u_};
  if (options_.c == "train") out.push_back(&c_);
  if (options_.train_xi) out.push_back(&xi_);
  return out;
}

at::Tensor Rank1::preactivations(const at::Tensor& x, const at::Tensor& wx) {
  ux_ = at::bmm(x, u_.value.unsqueeze(2));  // <u, x>: [R,B,d] x [R,d,1] -> [R,B,1]
  return wx + (xi_.value.view({-1, 1, 1}) * ux_) * c_.value.unsqueeze(1);
}

void Rank1::backward_preactivations(const at::Tensor& x, const at::Tensor&, const at::Tensor& g) {
  at::Tensor cg = at::bmm(g, c_.value.unsqueeze(2));  // (c . g): [R,B,k] x [R,k,1] -> [R,B,1]
  at::Tensor xi = xi_.value.view({-1, 1});
  u_.grad = xi * at::bmm(cg.transpose(1, 2), x).squeeze(1);    // [R,1,B] x [R,B,d] -> [R,d]
  if (options_.c == "train") c_.grad = xi * at::bmm(ux_.transpose(1, 2), g).squeeze(1);  // [R,k]
  if (options_.train_xi) xi_.grad = (cg * ux_).sum({1, 2});                          // [R]
}

at::Tensor Rank1::delta() const {
  // xi c u^T: [R,k,1] x [R,1,d] -> [R,k,d]
  return xi_.value.view({-1, 1, 1}) * at::bmm(c_.value.unsqueeze(2), u_.value.unsqueeze(1));
}

at::Tensor Rank1::row_space(int64_t) const { return (u_.value / u_.value.norm(2, {1}, true)).unsqueeze(2); }

}  // namespace lrlab::models
