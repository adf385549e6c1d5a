#pragma once
/// One-line help for every configuration option, declared next to the registration of the component
/// that reads it (models/register.cpp, trainers/register.cpp, ...) and printed by `lrlab list`, which
/// also generates the README's option reference from it. A test builds every registered component
/// with its defaults and requires help for each key of the resolved config.

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace lrlab {

/// Help texts keyed by (kind, type, key): kind names a registry or a section ("adapter", "schedule",
/// "output"), type a registered component ("" for keys that every component of the kind reads).
class OptionHelpTable {
 public:
  /// (key, one-line help) pairs, in the order `lrlab list` shows them.
  using Options = std::vector<std::pair<std::string, std::string>>;

  /// Declares the options of `type` of `kind` ("" type: shared by every type of the kind). Declaring
  /// a key twice for the same (kind, type) is a programming error (throws lrlab::Error).
  void add(const std::string& kind, const std::string& type, const Options& options);
  /// The help of `key` for `type` of `kind`, falling back to the kind's shared keys; "" when none.
  std::string find(const std::string& kind, const std::string& type, const std::string& key) const;
  /// The help of `key` in any type of `kind` (type-specific first, in type order); "" when none.
  std::string find_any(const std::string& kind, const std::string& key) const;
  /// The options declared for exactly (kind, type), in declaration order.
  const Options& options(const std::string& kind, const std::string& type) const;

 private:
  std::map<std::pair<std::string, std::string>, Options> tables_;
};

}  // namespace lrlab
