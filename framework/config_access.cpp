/// Strict, recorded access to a config: typed reads with defaults, stacked replicas that must agree,
/// strict keys (finish), the resolved document with every default filled in, and ConfigValue.

#include <algorithm>

#include "framework/config_convert.h"
#include "framework/config_tree.h"
#include "framework/error.h"

namespace lrlab {

using namespace config_detail;  // NOLINT: this file implements config_detail's client, Config

namespace {

/// One replica's value for a key: the value (nullptr when absent) and where to point at.
struct Slot {
  const Node* value = nullptr;
  Loc loc;
};

std::vector<Slot> read_slots(const Config::Impl& impl, const std::string& key) {
  impl.mark_read(key);
  std::vector<Slot> slots(impl.docs.size());
  for (std::size_t r = 0; r < impl.docs.size(); ++r) {
    Node* m = impl.find_map(r, &slots[r].loc);
    const Entry* e = m ? find_entry(*m, key) : nullptr;
    if (e) {
      slots[r].value = e->value.get();
      slots[r].loc = e->value->loc;
    }
  }
  return slots;
}

/// Stacked replicas must agree on values read with get(); compared as canonical text.
template <class T>
T agree(const std::vector<T>& values, const std::vector<Slot>& slots, const std::string& path) {
  if (values.size() > 1) {
    const std::string first = canonical(*Conv<T>::to(values[0], Loc{}));
    for (std::size_t r = 1; r < values.size(); ++r) {
      const std::string other = canonical(*Conv<T>::to(values[r], Loc{}));
      if (other != first)
        raise(slots[r].loc, path,
              "differs across stacked runs (" + shown(first) + " vs " + shown(other) + ") and cannot be stacked");
    }
  }
  return values[0];
}

/// One value per replica of `key` at `path` (`slots` from read_slots): `fallback` where absent, which
/// is then recorded as the key's default.
template <class T>
std::vector<T> each_value(const Config::Impl& impl, const std::vector<Slot>& slots, const std::string& key,
                          const std::string& path, const T& fallback) {
  std::vector<T> values;
  bool defaulted = false;
  for (const Slot& s : slots) {
    if (s.value) {
      values.push_back(Conv<T>::from(*s.value, path));
    } else {
      values.push_back(fallback);
      defaulted = true;
    }
  }
  if (defaulted) impl.record_default(key, Conv<T>::to(fallback, Loc{}));
  return values;
}

/// Fills recorded defaults into `map` (a copy of the document at `segs`), in read order.
bool has_defaults(const Record& record, const std::vector<std::string>& segs) {
  auto it = record.maps.find(segs);
  if (it == record.maps.end()) return false;
  if (!it->second.defaults.empty()) return true;
  for (const std::string& key : it->second.read) {
    std::vector<std::string> child = segs;
    child.push_back(key);
    if (has_defaults(record, child)) return true;
  }
  return false;
}

void merge_defaults(const Record& record, Node& map, const std::vector<std::string>& segs) {
  auto it = record.maps.find(segs);
  if (it == record.maps.end()) return;
  const MapRecord& rec = it->second;
  for (const std::string& key : rec.read) {
    Entry* e = find_entry(map, key);
    auto d = rec.defaults.find(key);
    if (d != rec.defaults.end() && !e) {
      map.entries.push_back(Entry{key, map.loc, deep_copy(*d->second)});
      continue;
    }
    std::vector<std::string> child = segs;
    child.push_back(key);
    if (!has_defaults(record, child)) continue;
    if (!e) {
      map.entries.push_back(Entry{key, map.loc, make_node(Kind::kMap, map.loc)});
      e = &map.entries.back();
    }
    if (e->value->kind == Kind::kNull) e->value = make_node(Kind::kMap, e->value->loc);
    if (e->value->kind == Kind::kMap) merge_defaults(record, *e->value, child);
  }
}

/// Strict keys for `map` at `segs` (and, when `recursive`, the sub-mappings reached via child()).
void check_keys(const Record& record, const Node& map, const std::vector<std::string>& segs, bool recursive) {
  static const MapRecord kNothingRead;
  auto it = record.maps.find(segs);
  const MapRecord& rec = it == record.maps.end() ? kNothingRead : it->second;
  const std::string path = join_path(segs, segs.size());
  for (const Entry& e : map.entries) {
    if (std::find(rec.read.begin(), rec.read.end(), e.key) == rec.read.end())
      raise(e.key_loc, join_path(path, e.key), unknown_key_message(e.key, "", rec.read, "no keys are valid here"));
    if (!recursive || e.value->kind != Kind::kMap) continue;
    std::vector<std::string> child = segs;
    child.push_back(e.key);
    auto c = record.maps.find(child);
    if (c != record.maps.end() && c->second.visited) check_keys(record, *e.value, child, true);
  }
}

}  // namespace

Node* Config::Impl::find_map(std::size_t r, Loc* nearest) const {
  Node* m = docs[r]->root.get();
  if (nearest) *nearest = m->loc;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    Entry* e = find_entry(*m, segments[i]);
    if (!e) return nullptr;
    Node* v = e->value.get();
    if (v->kind == Kind::kNull) {
      if (nearest) *nearest = e->key_loc;
      return nullptr;
    }
    if (v->kind != Kind::kMap)
      raise(v->loc, join_path(segments, i + 1), "expected a mapping of options, got " + describe(*v));
    m = v;
    if (nearest) *nearest = m->loc;
  }
  return m;
}

void Config::Impl::mark_read(const std::string& key) const {
  MapRecord& r = rec(segments);
  if (std::find(r.read.begin(), r.read.end(), key) == r.read.end()) r.read.push_back(key);
}

std::vector<DocPtr> Config::Impl::unique_docs() const {
  std::vector<DocPtr> out;
  for (const DocPtr& d : docs)
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
  return out;
}

bool Config::has(const std::string& key) const {
  Node* m = impl_->find_map(0, nullptr);
  return m && find_entry(*m, key);
}

std::vector<std::string> Config::keys() const {
  Node* m = impl_->find_map(0, nullptr);
  return m ? keys_of(*m) : std::vector<std::string>{};
}

bool Config::empty() const {
  Node* m = impl_->find_map(0, nullptr);
  return !m || m->entries.empty();
}

template <class T>
T Config::get(const std::string& key, const T& fallback) const {
  std::vector<Slot> slots = read_slots(*impl_, key);
  const std::string path = join_path(path_, key);
  return agree(each_value(*impl_, slots, key, path, fallback), slots, path);
}

template <class T>
T Config::get(const std::string& key) const {
  std::vector<Slot> slots = read_slots(*impl_, key);
  const std::string path = join_path(path_, key);
  std::vector<T> values;
  for (const Slot& s : slots) {
    if (!s.value) raise(s.loc, path, "required key is missing");
    values.push_back(Conv<T>::from(*s.value, path));
  }
  return agree(values, slots, path);
}

template <class T>
std::vector<T> Config::get_each(const std::string& key, const T& fallback) const {
  std::vector<Slot> slots = read_slots(*impl_, key);
  return each_value(*impl_, slots, key, join_path(path_, key), fallback);
}

std::string Config::get_choice(const std::string& key, const std::string& fallback,
                               const std::vector<std::string>& choices) const {
  std::string value = get<std::string>(key, fallback);
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return value;
  std::string message = "'" + shown(value) + "' is not one of: " + join(choices, ", ");
  std::string near = closest_match(value, choices);
  if (!near.empty()) message += "; did you mean '" + near + "'?";
  fail(key, message);
}

Config Config::child(const std::string& key) const {
  impl_->mark_read(key);
  std::vector<std::string> segs = impl_->segments;
  segs.push_back(key);
  impl_->rec(segs).visited = true;
  const std::string path = join_path(path_, key);
  for (std::size_t r = 0; r < impl_->docs.size(); ++r) {
    Node* m = impl_->find_map(r, nullptr);
    const Entry* e = m ? find_entry(*m, key) : nullptr;
    if (e && e->value->kind != Kind::kMap && e->value->kind != Kind::kNull)
      raise(e->value->loc, path, "expected a mapping of options, got " + describe(*e->value));
  }
  auto impl = std::make_shared<Impl>(*impl_);
  impl->segments = std::move(segs);
  return Config(impl, path);
}

bool Config::is_map(const std::string& key) const {
  Node* m = impl_->find_map(0, nullptr);
  const Entry* e = m ? find_entry(*m, key) : nullptr;
  return e && e->value->kind == Kind::kMap;
}

bool Config::is_sequence(const std::string& key) const {
  Node* m = impl_->find_map(0, nullptr);
  const Entry* e = m ? find_entry(*m, key) : nullptr;
  return e && e->value->kind == Kind::kSequence;
}

void Config::fail(const std::string& key, const std::string& message) const {
  Loc loc;
  Node* m = impl_->find_map(0, &loc);
  const Entry* e = m && !key.empty() ? find_entry(*m, key) : nullptr;
  if (e) loc = e->value->loc;
  raise(loc, key.empty() ? path_ : join_path(path_, key), message);
}

void Config::finish() const {
  for (std::size_t r = 0; r < impl_->docs.size(); ++r) {
    Node* m = impl_->find_map(r, nullptr);
    if (m) check_keys(*impl_->record, *m, impl_->segments, false);
  }
}

void Config::finish_recursive() const {
  for (std::size_t r = 0; r < impl_->docs.size(); ++r) {
    Node* m = impl_->find_map(r, nullptr);
    if (m) check_keys(*impl_->record, *m, impl_->segments, true);
  }
}

Config Config::resolved() const {
  NodePtr copy = deep_copy(*impl_->docs[0]->root);
  merge_defaults(*impl_->record, *copy, {});
  auto impl = std::make_shared<Impl>();
  impl->docs.push_back(std::make_shared<Document>(Document{copy, impl_->docs[0]->source, impl_->docs[0]->overrides}));
  impl->record = std::make_shared<Record>();
  return Config(impl, "");
}

std::string Config::resolved_yaml() const { return resolved().document_yaml(); }

const std::vector<std::string>& Config::overrides() const { return impl_->docs[0]->overrides; }

// Explicit instantiations: the supported value types (see config.h).
template bool Config::get<bool>(const std::string&, const bool&) const;
template int Config::get<int>(const std::string&, const int&) const;
template std::int64_t Config::get<std::int64_t>(const std::string&, const std::int64_t&) const;
template double Config::get<double>(const std::string&, const double&) const;
template std::string Config::get<std::string>(const std::string&, const std::string&) const;
template std::vector<double> Config::get<std::vector<double>>(const std::string&, const std::vector<double>&) const;
template std::vector<int> Config::get<std::vector<int>>(const std::string&, const std::vector<int>&) const;
template std::vector<std::string> Config::get<std::vector<std::string>>(const std::string&,
                                                                       const std::vector<std::string>&) const;

template bool Config::get<bool>(const std::string&) const;
template int Config::get<int>(const std::string&) const;
template std::int64_t Config::get<std::int64_t>(const std::string&) const;
template double Config::get<double>(const std::string&) const;
template std::string Config::get<std::string>(const std::string&) const;
template std::vector<double> Config::get<std::vector<double>>(const std::string&) const;
template std::vector<int> Config::get<std::vector<int>>(const std::string&) const;
template std::vector<std::string> Config::get<std::vector<std::string>>(const std::string&) const;

template std::vector<bool> Config::get_each<bool>(const std::string&, const bool&) const;
template std::vector<int> Config::get_each<int>(const std::string&, const int&) const;
template std::vector<std::int64_t> Config::get_each<std::int64_t>(const std::string&, const std::int64_t&) const;
template std::vector<double> Config::get_each<double>(const std::string&, const double&) const;
template std::vector<std::string> Config::get_each<std::string>(const std::string&, const std::string&) const;
template std::vector<std::vector<double>> Config::get_each<std::vector<double>>(const std::string&,
                                                                               const std::vector<double>&) const;
template std::vector<std::vector<int>> Config::get_each<std::vector<int>>(const std::string&,
                                                                         const std::vector<int>&) const;
template std::vector<std::vector<std::string>> Config::get_each<std::vector<std::string>>(
    const std::string&, const std::vector<std::string>&) const;

}  // namespace lrlab
