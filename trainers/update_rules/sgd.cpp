#include "trainers/update_rules/sgd.h"

#include "framework/config.h"

namespace lrlab::trainers {

std::shared_ptr<Sgd> Sgd::from_config(const Config& cfg, int64_t) {
  cfg.get<std::string>("type", "sgd");
  cfg.finish();
  return std::make_shared<Sgd>();
}

}  // namespace lrlab::trainers
