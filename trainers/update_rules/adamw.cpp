#include "trainers/update_rules/adamw.h"

#include "framework/config.h"

namespace lrlab::trainers {

std::shared_ptr<AdamW> AdamW::from_config(const Config& cfg, int64_t replicas) {
  cfg.get<std::string>("type", "adamw");
  auto rule = std::make_shared<AdamW>(AdamOptions::read(cfg, /*coupled_decay=*/false), replicas);
  cfg.finish();
  return rule;
}

}  // namespace lrlab::trainers
