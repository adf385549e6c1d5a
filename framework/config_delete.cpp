/// The command-line deletion `~key.path` (Hydra's habit): removes a key of the file, so that its
/// default applies again or another key that sets the same thing can be given instead
/// (`~trainer.steps_per_d trainer.steps=2000`). Kept apart from the `key=value` grammar of
/// config_override.cpp.

#include <algorithm>

#include "framework/config_tree.h"
#include "framework/error.h"

namespace lrlab::config_detail {

void delete_override(const Config::Impl& impl, const std::string& assignment) {
  const Loc loc{std::make_shared<const std::string>("<override " + assignment + ">")};
  const std::string key = trim(assignment.substr(1));
  if (key.find('=') != std::string::npos)
    raise(loc, "", "a deletion takes no value: write '~" + shown(key.substr(0, key.find('='))) + "'");
  if (key.empty()) raise(loc, "", "empty key after '~'");
  std::vector<std::string> full = impl.segments;
  for (const std::string& s : split_key_path(key, loc, "the deletion")) full.push_back(s);
  const std::vector<DocPtr> docs = impl.unique_docs();
  full = merge_dotted_segments(*docs[0], full);
  // Check every document before changing any: a failed deletion leaves all of them as they were.
  for (const DocPtr& doc : docs) {
    const Node* walk = doc->root.get();
    for (std::size_t i = 0; i < full.size(); ++i) {
      const Entry* e = walk && walk->kind == Kind::kMap ? find_entry(*walk, full[i]) : nullptr;
      if (!e) {
        const std::string where = join_path(full, i);
        const std::vector<std::string> valid =
            walk && walk->kind == Kind::kMap ? keys_of(*walk) : std::vector<std::string>{};
        raise(loc, join_path(full, i + 1),
              unknown_key_message(full[i], where, valid, where.empty() ? "the configuration is empty" : where + " is empty") +
                  ": nothing to delete");
      }
      walk = e->value.get();
    }
  }
  for (const DocPtr& doc : docs) {
    Node* m = parent_map(*doc, full, loc, false);
    auto& entries = m->entries;
    entries.erase(std::remove_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.key == full.back(); }),
                  entries.end());
    doc->overrides.push_back(assignment);
  }
}

}  // namespace lrlab::config_detail
