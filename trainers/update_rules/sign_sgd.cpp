#include "trainers/update_rules/sign_sgd.h"

#include "framework/config.h"

namespace lrlab::trainers {

std::shared_ptr<SignSgd> SignSgd::from_config(const Config& cfg, int64_t) {
  cfg.get<std::string>("type", "sign_sgd");
  cfg.finish();
  return std::make_shared<SignSgd>();
}

}  // namespace lrlab::trainers
