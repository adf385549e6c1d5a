#pragma once
/// A string-keyed registry of component factories, filled explicitly (no static self-registration:
/// it is silently lost when linking static libraries). The YAML `type:` word, the registry key and
/// the file name are the same snake_case word.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "framework/config.h"
#include "framework/error.h"
#include "framework/strings.h"

namespace lrlab {

/// Registry of factories producing `std::unique_ptr<Product>` (or shared_ptr) from a Config and
/// extra arguments.
template <class Product, class... Args>
class Registry {
 public:
  using Factory = std::function<std::shared_ptr<Product>(const Config&, Args...)>;

  /// One registered component.
  struct Entry {
    std::string key;                     ///< the YAML `type:` word
    Factory make;                        ///< builds the component from its config section
    std::string help;                    ///< one-line description shown by `lrlab list`
    std::vector<std::string> stackable;  ///< options that may differ across replicas of one group
  };

  /// `kind` names the registry in messages ("adapter", "trainer", ...).
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  /// Registers `key`; registering a key twice is a programming error (throws lrlab::Error).
  void add(const std::string& key, Factory make, const std::string& help,
           std::vector<std::string> stackable = {}) {
    if (entries_.count(key)) throw Error("duplicate " + kind_ + " registration: " + key);
    entries_.emplace(key, Entry{key, std::move(make), help, std::move(stackable)});
  }

  /// True when `key` is registered.
  bool contains(const std::string& key) const { return entries_.count(key) != 0; }

  /// The entry for `key`; an unknown key is a ConfigError located at `cfg`'s `type` key that lists
  /// the known keys and the closest one.
  const Entry& find(const std::string& key, const Config& cfg, const std::string& type_key = "type") const {
    auto it = entries_.find(key);
    if (it != entries_.end()) return it->second;
    std::vector<std::string> known = keys();
    std::string message = "unknown " + kind_ + " type '" + key + "' (known types: " + join(known) + ")";
    std::string near = closest_match(key, known);
    if (!near.empty()) message += "; did you mean '" + near + "'?";
    cfg.fail(type_key, message);
  }

  /// Builds the component named by `cfg`'s `type:` key (or `default_type` when absent).
  std::shared_ptr<Product> make(const Config& cfg, const std::string& default_type, Args... args) const {
    const std::string type = cfg.get<std::string>("type", default_type);
    return find(type, cfg).make(cfg, std::forward<Args>(args)...);
  }

  /// Every registered key, sorted.
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const auto& [key, entry] : entries_) out.push_back(key);
    return out;
  }

  /// Every entry, sorted by key.
  std::vector<const Entry*> entries() const {
    std::vector<const Entry*> out;
    for (const auto& [key, entry] : entries_) out.push_back(&entry);
    return out;
  }

  /// The registry's kind ("adapter", ...).
  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
  std::map<std::string, Entry> entries_;
};

}  // namespace lrlab
