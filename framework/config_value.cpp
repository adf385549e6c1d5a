/// ConfigValue: a read-only view of one node of a config document (see config.h).

#include "framework/config_tree.h"
#include "framework/error.h"

namespace lrlab {

using namespace config_detail;  // NOLINT: this file implements config_detail's client, ConfigValue

namespace {

/// The node every null ConfigValue views.
const std::shared_ptr<const Node>& null_node() {
  static const std::shared_ptr<const Node> kNull = std::make_shared<const Node>();
  return kNull;
}

}  // namespace

ConfigValue::ConfigValue() : node_(null_node()) {}

ConfigValue::ConfigValue(std::shared_ptr<const Node> node) : node_(node ? std::move(node) : null_node()) {}

bool ConfigValue::is_null() const { return node_->kind == Kind::kNull; }

bool ConfigValue::is_scalar() const { return node_->kind == Kind::kScalar; }

bool ConfigValue::is_sequence() const { return node_->kind == Kind::kSequence; }

bool ConfigValue::is_map() const { return node_->kind == Kind::kMap; }

const std::string& ConfigValue::scalar() const {
  static const std::string kEmpty;
  return is_scalar() ? node_->text : kEmpty;
}

std::size_t ConfigValue::size() const {
  if (is_sequence()) return node_->items.size();
  return is_map() ? node_->entries.size() : 0;
}

ConfigValue ConfigValue::item(std::size_t i) const {
  check(is_sequence() && i < node_->items.size(),
        location() + ": item " + std::to_string(i) + " of a value with " + std::to_string(size()) + " items");
  return ConfigValue(node_->items[i]);
}

std::vector<std::string> ConfigValue::keys() const { return is_map() ? keys_of(*node_) : std::vector<std::string>{}; }

bool ConfigValue::has(const std::string& key) const { return is_map() && find_entry(*node_, key) != nullptr; }

ConfigValue ConfigValue::at(const std::string& key) const {
  const Entry* e = is_map() ? find_entry(*node_, key) : nullptr;
  return e ? ConfigValue(e->value) : ConfigValue();
}

std::string ConfigValue::text() const { return canonical(*node_); }

std::string ConfigValue::location() const { return node_->loc.str(); }

ConfigValue Config::value(const std::string& key) const {
  Node* m = impl_->find_map(0, nullptr);
  if (!m) return ConfigValue();
  if (key.empty()) return ConfigValue(std::shared_ptr<const Node>(impl_->docs[0], m));  // aliasing: keeps the document
  const Entry* e = find_entry(*m, key);
  return e ? ConfigValue(e->value) : ConfigValue();
}

}  // namespace lrlab
