/// Changing a config's documents: the command-line override grammar (`key.path=value`,
/// `+key.path=value`) and the programmatic set / set_value / erase, plus value_text.

#include <algorithm>

#include "framework/config_tree.h"
#include "framework/error.h"
#include "framework/shown_text.h"

namespace lrlab {

namespace config_detail {

/// Walks `segs` in `doc`, returning the mapping that holds the last segment, or nullptr when an
/// intermediate key is absent or null. A non-mapping intermediate is an error at `loc`.
Node* parent_map(Document& doc, const std::vector<std::string>& segs, const Loc& loc, bool create) {
  Node* m = doc.root.get();
  for (std::size_t i = 0; i + 1 < segs.size(); ++i) {
    Entry* e = find_entry(*m, segs[i]);
    if (!e) {
      if (!create) return nullptr;
      m->entries.push_back(Entry{segs[i], loc, make_node(Kind::kMap, loc)});
      e = &m->entries.back();
    }
    if (e->value->kind == Kind::kNull) {
      if (!create) return nullptr;
      e->value = make_node(Kind::kMap, e->value->loc);
    }
    if (e->value->kind != Kind::kMap)
      raise(loc, join_path(segs, i + 1),
            "is " + describe(*e->value) + ", not a mapping, so it has no key '" + shown(segs[i + 1]) + "'");
    m = e->value.get();
  }
  return m;
}

/// Joins path segments that, together, name an existing dotted key of the document (longest first).
std::vector<std::string> merge_dotted_segments(const Document& doc, const std::vector<std::string>& segs) {
  std::vector<std::string> out;
  const Node* walk = doc.root.get();
  for (std::size_t i = 0; i < segs.size();) {
    std::size_t take = 1;
    if (walk && walk->kind == Kind::kMap && !find_entry(*walk, segs[i])) {
      for (std::size_t j = segs.size(); j > i + 1; --j) {
        if (find_entry(*walk, join_path(std::vector<std::string>(segs.begin() + i, segs.begin() + j), j - i))) {
          take = j - i;
          break;
        }
      }
    }
    const std::string key = take == 1 ? segs[i] : join_path(std::vector<std::string>(segs.begin() + i, segs.begin() + i + take), take);
    out.push_back(key);
    const Entry* e = walk && walk->kind == Kind::kMap ? find_entry(*walk, key) : nullptr;
    walk = e ? e->value.get() : nullptr;
    i += take;
  }
  return out;
}

}  // namespace config_detail

using namespace config_detail;  // NOLINT: this file implements config_detail's client, Config

namespace {

/// Puts a copy of `node` at the key path `full` of every document of `impl`, creating mappings as
/// needed. With `keep_locations` the copy keeps the locations it was written at; else it takes the
/// location of the value it replaces (or of the mapping it is added to).
void place_value(const Config::Impl& impl, const std::vector<std::string>& full, const Node& node,
                 bool keep_locations) {
  for (const DocPtr& doc : impl.unique_docs()) {
    // Check the path first so that a failure leaves this document unchanged.
    Node* m = doc->root.get();
    for (std::size_t i = 0; i + 1 < full.size() && m; ++i) {
      const Entry* e = find_entry(*m, full[i]);
      if (!e || e->value->kind == Kind::kNull) break;
      if (e->value->kind != Kind::kMap)
        raise(e->value->loc, join_path(full, i + 1),
              "is " + describe(*e->value) + ", not a mapping, so it has no key '" + shown(full[i + 1]) + "'");
      m = e->value.get();
    }
    m = parent_map(*doc, full, doc->root->loc, true);
    Entry* e = find_entry(*m, full.back());
    NodePtr copy = deep_copy(node);
    if (!keep_locations) relocate(*copy, e ? e->value->loc : m->loc);
    if (e)
      e->value = copy;
    else
      m->entries.push_back(Entry{full.back(), m->loc, copy});
  }
}

}  // namespace

void Config::apply_override(const std::string& assignment) {
  if (!assignment.empty() && assignment[0] == '~') return delete_override(*impl_, assignment);
  const bool add = !assignment.empty() && assignment[0] == '+';
  const std::string body = add ? assignment.substr(1) : assignment;
  const std::size_t eq = body.find('=');
  const Loc raw_loc{std::make_shared<const std::string>("<override " + shown_text(assignment) + ">")};
  if (eq == std::string::npos) raise(raw_loc, "", "expected key.path=value (no '=' in the override)");
  const std::string key = trim(body.substr(0, eq));
  const std::string value = body.substr(eq + 1);
  if (key.empty()) raise(raw_loc, "", "empty key before '=' in the override");
  std::vector<std::string> segs = split_key_path(key, raw_loc, "the override");
  const Loc loc{std::make_shared<const std::string>("<override " + shown_text(key + "=" + value) + ">")};
  std::vector<std::string> full = impl_->segments;
  full.insert(full.end(), segs.begin(), segs.end());
  const std::string path = join_path(full, full.size());

  YAML::Node parsed = parse_value(value, loc, path);
  NodePtr node = Converter(loc.source, &loc).run(parsed, path, static_cast<int>(full.size()));

  const std::vector<DocPtr> docs = impl_->unique_docs();
  // A mapping may hold a key that itself contains dots (a sweep axis `base.d:` under study.sweep):
  // `study.sweep.base.d=[..]` then names that key, not a nested `base: {d: ..}`.
  full = merge_dotted_segments(*docs[0], full);
  // Check every document before changing any, so a failed override leaves all of them as they were.
  for (const DocPtr& doc : docs) {
    Node* m = parent_map(*doc, full, loc, false);
    if (add) {
      if (m && find_entry(*m, full.back()))
        raise(loc, path,
              "key '" + shown(full.back()) + "' already exists; write '" + key + "=" + shown(value) +
                  "' (without '+') to replace it");
      continue;
    }
    // A replacement needs every key on the path to exist; name the first that does not.
    Node* walk = doc->root.get();
    for (std::size_t i = 0; i < full.size(); ++i) {
      const Entry* e = walk && walk->kind == Kind::kMap ? find_entry(*walk, full[i]) : nullptr;
      if (!e) {
        std::string where = join_path(full, i);
        std::vector<std::string> valid = walk && walk->kind == Kind::kMap ? keys_of(*walk) : std::vector<std::string>{};
        raise(loc, join_path(full, i + 1),
              unknown_key_message(full[i], where, valid, where.empty() ? "the configuration is empty" : where + " is empty") +
                  " (to add a new key, write '+" + key + "=" + shown(value) + "')");
      }
      // A null section (`trainer:` with nothing below) reads as an empty one.
      if (i + 1 < full.size() && e->value->kind != Kind::kMap && e->value->kind != Kind::kNull)
        raise(loc, join_path(full, i + 1),
              "is " + describe(*e->value) + ", not a mapping, so it has no key '" + shown(full[i + 1]) + "'");
      walk = e->value.get();
    }
  }
  for (const DocPtr& doc : docs) {
    Node* m = parent_map(*doc, full, loc, true);
    Entry* e = find_entry(*m, full.back());
    if (e)
      e->value = deep_copy(*node);
    else
      m->entries.push_back(Entry{full.back(), loc, deep_copy(*node)});
    doc->overrides.push_back(assignment);
  }
}

void Config::apply_overrides(const std::vector<std::string>& assignments) {
  for (const std::string& a : assignments) apply_override(a);
}

void Config::set(const std::string& dotted_key, const std::string& yaml_value) {
  const Loc set_loc{std::make_shared<const std::string>("<set " + dotted_key + "=" + yaml_value + ">")};
  std::vector<std::string> full = impl_->segments;
  for (const std::string& s : split_key_path(dotted_key, set_loc, "set()")) full.push_back(s);
  const std::string path = join_path(full, full.size());
  YAML::Node parsed = parse_value(yaml_value, set_loc, path);
  NodePtr node = Converter(set_loc.source, &set_loc).run(parsed, path, static_cast<int>(full.size()));
  place_value(*impl_, full, *node, false);
}

void Config::set_value(const std::string& dotted_key, const ConfigValue& value) {
  const Loc set_loc{std::make_shared<const std::string>("<set_value " + dotted_key + ">")};
  std::vector<std::string> full = impl_->segments;
  for (const std::string& s : split_key_path(dotted_key, set_loc, "set_value()")) full.push_back(s);
  const Node null_node;
  const Node& node = value.node_ ? *value.node_ : null_node;
  place_value(*impl_, full, node, node.loc.source != nullptr);
}

void Config::erase(const std::string& dotted_key) {
  const Loc loc{std::make_shared<const std::string>("<erase " + dotted_key + ">")};
  std::vector<std::string> full = impl_->segments;
  for (const std::string& s : split_key_path(dotted_key, loc, "erase()")) full.push_back(s);
  for (const DocPtr& doc : impl_->unique_docs()) {
    Node* m = doc->root.get();
    for (std::size_t i = 0; i + 1 < full.size() && m; ++i) {
      Entry* e = find_entry(*m, full[i]);
      m = e && e->value->kind == Kind::kMap ? e->value.get() : nullptr;
    }
    if (!m) continue;
    auto& entries = m->entries;
    entries.erase(std::remove_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.key == full.back(); }),
                  entries.end());
  }
}

std::string Config::value_text(const std::string& dotted_key) const {
  // A malformed path ("", "a..b", typed in a study's sweep) names no value: absent, so that the caller
  // reports it where the user wrote it (an error here could only point at "<value_text>").
  if (dotted_key.empty() || dotted_key.front() == '.' || dotted_key.back() == '.' ||
      dotted_key.find("..") != std::string::npos)
    return "";
  const Loc loc{std::make_shared<const std::string>("<value_text " + dotted_key + ">")};
  std::vector<std::string> full = impl_->segments;
  for (const std::string& s : split_key_path(dotted_key, loc, "value_text()")) full.push_back(s);
  const Node* n = impl_->docs[0]->root.get();
  for (const std::string& s : full) {
    const Entry* e = n->kind == Kind::kMap ? find_entry(*n, s) : nullptr;
    if (!e) return "";
    n = e->value.get();
  }
  return canonical(*n);
}

}  // namespace lrlab
