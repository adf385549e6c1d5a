#include "framework/option_help.h"

#include "framework/error.h"

namespace lrlab {

void OptionHelpTable::add(const std::string& kind, const std::string& type, const Options& options) {
  Options& table = tables_[{kind, type}];
  for (const auto& option : options) {
    for (const auto& known : table)
      if (known.first == option.first)
        throw Error("option help declared twice: " + kind + (type.empty() ? "" : " " + type) + " " + option.first);
    table.push_back(option);
  }
}

std::string OptionHelpTable::find(const std::string& kind, const std::string& type, const std::string& key) const {
  for (const std::string& t : {type, std::string()}) {
    const auto it = tables_.find({kind, t});
    if (it == tables_.end()) continue;
    for (const auto& option : it->second)
      if (option.first == key) return option.second;
  }
  return "";
}

std::string OptionHelpTable::find_any(const std::string& kind, const std::string& key) const {
  for (const auto& [id, table] : tables_)
    if (id.first == kind && !id.second.empty())
      for (const auto& option : table)
        if (option.first == key) return option.second;
  return find(kind, "", key);
}

const OptionHelpTable::Options& OptionHelpTable::options(const std::string& kind, const std::string& type) const {
  static const Options kNone;
  const auto it = tables_.find({kind, type});
  return it == tables_.end() ? kNone : it->second;
}

}  // namespace lrlab
