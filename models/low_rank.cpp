#include "models/low_rank.h"

#include <cmath>

#include "framework/config.h"
#include "framework/context.h"

namespace lrlab::models {

LowRankOptions LowRankOptions::from_config(const Config& cfg, int64_t d, int64_t k) {
  LowRankOptions o;
  o.rank = cfg.get<int64_t>("rank", o.rank);
  o.xi = PerReplica<double>(cfg.get_each<double>("xi", o.xi[0]));
  o.c = cfg.get_choice("c", o.c, {"random", "uniform", "basis"});
  o.tau = PerReplica<double>(cfg.get_each<double>("tau", o.tau[0]));
  if (o.rank < 1 || o.rank > std::min(d, k))
    cfg.fail("rank", "must be in 1..min(k, d) = " + std::to_string(std::min(d, k)) + ", got " +
                         std::to_string(o.rank));
  for (double xi : o.xi.values())
    if (!std::isfinite(xi) || xi < 0) cfg.fail("xi", "must be finite and >= 0");
  for (double tau : o.tau.values())
    if (!std::isfinite(tau) || tau < 0) cfg.fail("tau", "must be finite and >= 0");
  return o;
}

LowRank::LowRank(const LowRankOptions& options, std::shared_ptr<const BaseNetwork> base, const Context& ctx)
    : options_(options), base_(std::move(base)) {
  const int64_t d = base_->d(), k = base_->k(), r = options.rank;
  auto tensors = stack_replicas_multi(ctx, Stream::kTeacher, [&](at::Generator& gen, int64_t) {
    auto [u, unused] = at::linalg_qr(cpu_normal({d, r}, gen));  // orthonormal columns
    at::Tensor c;
    if (options.c == "random") {
      c = cpu_normal({k, r}, gen);
      c = c / c.norm(2, {0}, true);
    } else if (options.c == "uniform") {
      c = at::full({k, r}, 1.0 / std::sqrt(static_cast<double>(k)), at::kDouble);
    } else {
      c = at::eye(k, r, at::kDouble);
    }
    return std::vector<at::Tensor>{u, c};
  });
  u_ = tensors[0];
  c_ = tensors[1];
  xi_ = per_replica(ctx, options.xi.expand(ctx.replicas()));
  tau_ = per_replica(ctx, options.tau.expand(ctx.replicas()));
}

at::Tensor LowRank::preactivations(const at::Tensor& x, const at::Tensor& wx) const {
  // W* x = W x + xi* C* (U*^T x): [R,B,d] x [R,d,r] -> [R,B,r], then x [R,r,k] -> [R,B,k].
  at::Tensor ux = at::bmm(x, u_);
  return wx + xi_.view({-1, 1, 1}) * at::bmm(ux, c_.transpose(1, 2));
}

at::Tensor LowRank::delta() const {
  // Delta* = xi* C* U*^T: [R,k,r] x [R,r,d] -> [R,k,d].
  return xi_.view({-1, 1, 1}) * at::bmm(c_, u_.transpose(1, 2));
}

}  // namespace lrlab::models
