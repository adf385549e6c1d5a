/// The config document tree: loading (bounded parsing, the yaml-cpp workarounds), node copying,
/// emission, locations and messages (see config_tree.h), and the Config members that create views.

#include "framework/config_tree.h"

#include <sys/stat.h>
#include <yaml-cpp/depthguard.h>    // YAML::DeepRecursion (not in yaml.h)
#include <yaml-cpp/eventhandler.h>  // YAML::EventHandler (not in yaml.h)

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "framework/bounded_read.h"
#include "framework/config_convert.h"
#include "framework/error.h"
#include "framework/shown_text.h"

namespace lrlab {
namespace config_detail {

// ---------------------------------------------------------------------------------------------
// Locations and messages


std::string Loc::str() const {
  std::string s = source ? *source : std::string("<unknown>");
  if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(col);
  return s;
}

Loc mark_loc(const std::shared_ptr<const std::string>& source, const YAML::Mark& mark) {
  Loc loc;
  loc.source = source;
  if (mark.line >= 0 && mark.column >= 0) {  // yaml-cpp counts from 0 (and uses -1 for "none")
    loc.line = mark.line + 1;
    loc.col = mark.column + 1;
  }
  return loc;
}

[[noreturn]] void raise(const Loc& loc, const std::string& path, const std::string& message) {
  throw ConfigError(loc.str() + ": " + (path.empty() ? "" : path + ": ") + message);
}

/// A key or value as it may appear in a message: control bytes escaped (binary input must not
/// garble a terminal) and long text cut.
std::string shown(const std::string& text) { return shown_text(text, kShownChars); }

std::string join(const std::vector<std::string>& words, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) out += (i ? sep : "") + words[i];
  return out;
}

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string join_path(const std::vector<std::string>& segments, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count && i < segments.size(); ++i) out = join_path(out, segments[i]);
  return out;
}

/// "did you mean" for key names: the closest match, or else a key that `word` extends by an
/// `_suffix` (or that extends `word`), since `lr_rate` for `lr` is too far for edit distance alone.
std::string suggest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string near = closest_match(word, candidates);
  if (!near.empty()) return near;
  for (const std::string& c : candidates) {
    if (c.empty()) continue;
    bool extends = word.size() > c.size() && word.compare(0, c.size(), c) == 0 &&
                   (word[c.size()] == '_' || word[c.size()] == '-');
    bool extended = c.size() > word.size() && !word.empty() && c.compare(0, word.size(), word) == 0 &&
                    (c[word.size()] == '_' || c[word.size()] == '-');
    if ((extends || extended) && c.size() > near.size()) near = c;
  }
  return near;
}

/// "unknown key 'k'[ in where] (valid keys: a, b); did you mean 'a'?"
std::string unknown_key_message(const std::string& key, const std::string& where,
                                const std::vector<std::string>& valid, const std::string& none_text) {
  std::vector<std::string> listed;
  for (const std::string& v : valid) listed.push_back(shown(v));
  std::string message = "unknown key '" + shown(key) + "'" + (where.empty() ? "" : " in " + where) +
                        " (" + (valid.empty() ? none_text : "valid keys: " + join(listed, ", ")) + ")";
  std::string near = suggest(key, valid);
  if (!near.empty()) message += "; did you mean '" + shown(near) + "'?";
  return message;
}

std::vector<std::string> split_key_path(const std::string& dotted, const Loc& loc, const std::string& what) {
  std::vector<std::string> segments;
  if (dotted.empty()) raise(loc, "", "empty key path in " + what);
  std::size_t start = 0;
  while (true) {
    std::size_t dot = dotted.find('.', start);
    std::string segment = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (segment.empty()) raise(loc, "", "empty segment in key path '" + shown(dotted) + "' in " + what);
    segments.push_back(segment);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return segments;
}

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  std::size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// ---------------------------------------------------------------------------------------------
// The document tree

NodePtr make_node(Kind kind, const Loc& loc) {
  auto n = std::make_shared<Node>();
  n->kind = kind;
  n->loc = loc;
  return n;
}

NodePtr deep_copy(const Node& n) {
  auto c = std::make_shared<Node>();
  c->kind = n.kind;
  c->text = n.text;
  c->quoted = n.quoted;
  c->loc = n.loc;
  for (const NodePtr& item : n.items) c->items.push_back(deep_copy(*item));
  for (const Entry& e : n.entries) c->entries.push_back(Entry{e.key, e.key_loc, deep_copy(*e.value)});
  return c;
}

/// Replaces every location in `n` (values set programmatically keep the location they replace).
void relocate(Node& n, const Loc& loc) {
  n.loc = loc;
  for (NodePtr& item : n.items) relocate(*item, loc);
  for (Entry& e : n.entries) {
    e.key_loc = loc;
    relocate(*e.value, loc);
  }
}

Entry* find_entry(Node& map, const std::string& key) {
  for (Entry& e : map.entries)
    if (e.key == key) return &e;
  return nullptr;
}

const Entry* find_entry(const Node& map, const std::string& key) {
  for (const Entry& e : map.entries)
    if (e.key == key) return &e;
  return nullptr;
}

std::vector<std::string> keys_of(const Node& map) {
  std::vector<std::string> keys;
  for (const Entry& e : map.entries) keys.push_back(e.key);
  return keys;
}

std::string describe(const Node& n) {
  switch (n.kind) {
    case Kind::kNull:
      return "null";
    case Kind::kScalar:
      return (n.quoted ? "the quoted string '" : "'") + shown(n.text) + "'";
    case Kind::kSequence:
      return "a list";
    case Kind::kMap:
      return "a mapping";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Conversion from yaml-cpp

namespace {

bool is_merge_key(const YAML::Node& key) { return key.IsScalar() && key.Scalar() == "<<" && key.Tag() == "?"; }

}  // namespace

Converter::Converter(std::shared_ptr<const std::string> source, const Loc* fixed)
    : source_(std::move(source)), fixed_(fixed) {}

NodePtr Converter::run(const YAML::Node& y, const std::string& path, int depth) {
  try {
    return convert(y, path, depth);
  } catch (const YAML::Exception& e) {
    raise(fixed_ ? *fixed_ : mark_loc(source_, e.mark), path, "invalid YAML: " + e.msg);
  }
}

Loc Converter::loc_of(const YAML::Node& y) const { return fixed_ ? *fixed_ : mark_loc(source_, y.Mark()); }

NodePtr Converter::convert(const YAML::Node& y, const std::string& path, int depth) {
  Loc loc = loc_of(y);
  if (depth > kMaxDepth)
    raise(loc, path, "nested deeper than " + std::to_string(kMaxDepth) + " levels (a recursive alias?)");
  if (++count_ > kMaxNodes)
    raise(loc, path, "more than " + std::to_string(kMaxNodes) + " values (alias expansion?)");
  switch (y.Type()) {
    case YAML::NodeType::Scalar: {
      NodePtr n = make_node(Kind::kScalar, loc);
      n->text = y.Scalar();
      n->quoted = y.Tag() == "!" || y.Tag() == "tag:yaml.org,2002:str";
      return n;
    }
    case YAML::NodeType::Sequence: {
      NodePtr n = make_node(Kind::kSequence, loc);
      std::size_t i = 0;
      for (auto it = y.begin(); it != y.end(); ++it, ++i)
        n->items.push_back(convert(*it, path + "[" + std::to_string(i) + "]", depth + 1));
      return n;
    }
    case YAML::NodeType::Map:
      return convert_map(y, path, depth, loc);
    default:
      return make_node(Kind::kNull, loc);
  }
}

/// Mapping: keys must be unique non-empty scalars; `<<: *anchor` merges (yaml-cpp 0.7 does not)
/// the anchor's keys that the mapping does not set itself, at the place of the `<<`.
NodePtr Converter::convert_map(const YAML::Node& y, const std::string& path, int depth, const Loc& loc) {
  NodePtr n = make_node(Kind::kMap, loc);
  std::map<std::string, Loc> explicit_keys;
  for (auto it = y.begin(); it != y.end(); ++it) {
    // Copies: `it->first` lives in a proxy that dies with the expression.
    const YAML::Node key = it->first;
    Loc key_loc = loc_of(key);
    if (!key.IsScalar()) {
      raise(key_loc, path,
            key.IsNull() ? std::string("empty (null) mapping key")
                         : std::string("mapping keys must be plain words, got a ") +
                               (key.IsSequence() ? "list" : "mapping"));
    }
    if (is_merge_key(key)) continue;
    auto found = explicit_keys.find(key.Scalar());
    if (found != explicit_keys.end()) {
      raise(key_loc, join_path(path, key.Scalar()),
            "duplicate key '" + shown(key.Scalar()) + "' (first defined at " + found->second.str() + ")");
    }
    explicit_keys.emplace(key.Scalar(), key_loc);
  }
  std::set<std::string> added;
  for (auto it = y.begin(); it != y.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    if (!is_merge_key(key)) {
      Loc key_loc = loc_of(key);
      NodePtr converted = convert(value, join_path(path, key.Scalar()), depth + 1);
      // yaml-cpp marks an empty value (`key:` then a newline) at the next token; the key's line
      // is where the user should look.
      if (converted->kind == Kind::kNull && converted->loc.line != key_loc.line) converted->loc = key_loc;
      n->entries.push_back(Entry{key.Scalar(), key_loc, converted});
      added.insert(key.Scalar());
      continue;
    }
    std::vector<YAML::Node> sources;
    if (value.IsMap()) {
      sources.push_back(value);
    } else if (value.IsSequence()) {
      for (auto s = value.begin(); s != value.end(); ++s) sources.push_back(*s);
    }
    if (sources.empty() && !value.IsSequence())
      raise(loc_of(value), join_path(path, "<<"), "a merge key '<<' needs a mapping (or a list of mappings)");
    for (const YAML::Node& source : sources) {
      if (!source.IsMap())
        raise(loc_of(source), join_path(path, "<<"), "a merge key '<<' needs a mapping (or a list of mappings)");
      // depth + 1: a mapping may merge itself (`&a {<<: *a}`), which must hit the depth bound.
      NodePtr merged = convert(source, path, depth + 1);
      for (Entry& e : merged->entries) {
        if (explicit_keys.count(e.key) || added.count(e.key)) continue;
        added.insert(e.key);
        n->entries.push_back(std::move(e));
      }
    }
  }
  return n;
}

/// Parses an override or set() value; malformed YAML is a ConfigError at `loc`.
namespace {

/// A value that starts with a quote must be exactly one quoted string: yaml-cpp accepts `'abc` plus
/// a newline as "abc " and drops what follows a closing quote (`'a' b` reads as "a").
void check_quoted_value(const std::string& text, const Loc& loc, const std::string& path) {
  const std::size_t first = text.find_first_not_of(" \t\r\n"), last = text.find_last_not_of(" \t\r\n");
  if (first == std::string::npos || (text[first] != '\'' && text[first] != '"')) return;
  const std::string t = text.substr(first, last - first + 1);
  const char q = t[0];
  std::size_t close = std::string::npos;
  for (std::size_t i = 1; i < t.size(); ++i) {
    if (q == '"' && t[i] == '\\') {
      ++i;  // an escaped character, possibly a quote
    } else if (t[i] == q) {
      if (q == '\'' && i + 1 < t.size() && t[i + 1] == '\'') {
        ++i;  // '' is a quote inside a single-quoted string
        continue;
      }
      close = i;
      break;
    }
  }
  if (close == std::string::npos)
    raise(loc, path, "unterminated quoted string " + shown(t) + " (no closing " + std::string(1, q) + ")");
  if (close + 1 != t.size())
    raise(loc, path, "unexpected text after the closing quote in " + shown(t) +
                         " (quote the whole value, e.g. \"a b\")");
}

}  // namespace

YAML::Node parse_value(const std::string& text, const Loc& loc, const std::string& path) {
  check_quoted_value(text, loc, path);
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    raise(loc, path, "malformed YAML value '" + shown(text) + "': " + e.msg);
  } catch (const std::exception& e) {
    raise(loc, path, "malformed YAML value '" + shown(text) + "': " + e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// Emission

namespace {

void emit(YAML::Emitter& out, const Node& n) {
  switch (n.kind) {
    case Kind::kNull:
      out << YAML::Null;
      break;
    case Kind::kScalar:
      if (n.quoted && needs_quotes(n.text))
        out << YAML::DoubleQuoted << n.text;
      else
        out << n.text;
      break;
    case Kind::kSequence:
      // Lists of plain values read best on one line (`widths: [64, 128]`).
      if (std::all_of(n.items.begin(), n.items.end(),
                      [](const NodePtr& item) { return item->kind == Kind::kScalar || item->kind == Kind::kNull; }))
        out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const NodePtr& item : n.items) emit(out, *item);
      out << YAML::EndSeq;
      break;
    case Kind::kMap:
      out << YAML::BeginMap;
      for (const Entry& e : n.entries) {
        out << YAML::Key;
        // Keys are strings; a plain `<<` would read back as a merge and a plain `~` as null.
        if (e.key == "<<" || is_null_word(e.key)) out << YAML::DoubleQuoted;
        out << e.key << YAML::Value;
        emit(out, *e.value);
      }
      out << YAML::EndMap;
      break;
  }
}

}  // namespace

std::string emit_text(const Node& n, bool flow) {
  YAML::Emitter out;
  out.SetNullFormat(YAML::LowerNull);
  out.SetIndent(2);
  if (flow) {
    out.SetSeqFormat(YAML::Flow);
    out.SetMapFormat(YAML::Flow);
  }
  emit(out, n);
  if (!out.good()) throw ConfigError(n.loc.str() + ": cannot write YAML: " + out.GetLastError());
  return out.c_str();
}

/// Canonical one-line text of a value (used to compare stacked values and by value_text()).
std::string canonical(const Node& n) { return emit_text(n, true); }

// ---------------------------------------------------------------------------------------------
// Loading

namespace {

/// Watches the parser's events to learn, per document, whether its root is null and where it
/// starts. Used instead of YAML::LoadAll, which loops forever (until memory runs out) on some
/// malformed input: yaml-cpp 0.7's parser can return empty documents without consuming anything.
class DocumentProbe : public YAML::EventHandler {
 public:
  struct Doc {
    bool null = true;
    YAML::Mark mark;
  };
  std::vector<Doc> docs;

  void OnDocumentStart(const YAML::Mark& mark) override {
    docs.push_back(Doc{true, mark});
    depth_ = 0;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { root(mark, true); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { root(mark, false); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
    root(mark, false);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    root(mark, false);
    ++depth_;
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    root(mark, false);
    ++depth_;
  }
  void OnMapEnd() override { --depth_; }

 private:
  void root(const YAML::Mark& mark, bool null) {
    if (depth_ != 0 || docs.empty()) return;
    docs.back().null = null;
    docs.back().mark = mark;
  }
  int depth_ = 0;
};

}  // namespace

}  // namespace config_detail

using namespace config_detail;  // NOLINT: this file implements config_detail's client, Config

Config::Config(std::shared_ptr<Impl> impl, std::string path) : impl_(std::move(impl)), path_(std::move(path)) {}

Config Config::load_file(const std::string& path) {
  Loc loc{std::make_shared<const std::string>(path)};
  std::string text;
  try {
    text = read_bounded_file(path, config_file_limit(), "configuration file",
                             "set LRLAB_MAX_CONFIG_MB to raise it");
  } catch (const FileReadError& e) {
    raise(loc, "", e.what());
  }
  return load_string(text, path);
}

Config Config::load_string(const std::string& text, const std::string& source_name) {
  auto source = std::make_shared<const std::string>(source_name);
  const Loc file_loc{source};
  // A configuration is one document; a few more are enough to see a second one (an error) or a
  // parser that no longer advances (malformed input).
  constexpr std::size_t kProbedDocuments = 4;
  YAML::Node document;
  try {
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    DocumentProbe probe;
    while (probe.docs.size() < kProbedDocuments && parser.HandleNextDocument(probe)) {
    }
    const auto& docs = probe.docs;
    for (std::size_t i = 1; i < docs.size(); ++i) {
      if (!docs[i].null)
        raise(mark_loc(source, docs[i].mark), "", "more than one YAML document ('---') in one configuration");
      if (docs[i].mark.pos == docs[i - 1].mark.pos && docs.size() == kProbedDocuments)
        raise(mark_loc(source, docs[i].mark), "", "malformed YAML: cannot parse the text here");
    }
    if (docs.empty() || docs[0].null) raise(file_loc, "", "empty configuration");
    document = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own nesting guard; its message ("bad file") says nothing useful.
    raise(mark_loc(source, e.mark), "", "malformed YAML: nested too deeply");
  } catch (const YAML::Exception& e) {
    raise(mark_loc(source, e.mark), "", "malformed YAML: " + e.msg);
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    raise(file_loc, "", std::string("malformed YAML: ") + e.what());
  }
  NodePtr root = Converter(source, nullptr).run(document, "", 0);
  if (root->kind != Kind::kMap)
    raise(root->loc, "", "the top level must be a mapping of options (key: value), got " + describe(*root));
  auto impl = std::make_shared<Impl>();
  impl->docs.push_back(std::make_shared<Document>(Document{root, source_name, {}}));
  impl->record = std::make_shared<Record>();
  return Config(impl, "");
}

Config Config::stack(const std::vector<Config>& replicas) {
  if (replicas.empty()) throw ConfigError("<stack>: cannot stack an empty list of configurations");
  auto impl = std::make_shared<Impl>();
  impl->record = std::make_shared<Record>();
  for (const Config& c : replicas) {
    if (!c.impl_->segments.empty())
      throw ConfigError(c.source() + ": " + c.path() + ": only root configurations can be stacked");
    impl->docs.insert(impl->docs.end(), c.impl_->docs.begin(), c.impl_->docs.end());
  }
  return Config(impl, "");
}

const std::string& Config::source() const { return impl_->docs[0]->source; }

const std::string& Config::path() const { return path_; }

int Config::replicas() const { return static_cast<int>(impl_->docs.size()); }

Config Config::replica(int i) const {
  if (i < 0 || i >= replicas())
    throw ConfigError(source() + ": replica " + std::to_string(i) + " is out of range (" +
                      std::to_string(replicas()) + " stacked)");
  auto impl = std::make_shared<Impl>(*impl_);
  impl->docs = {impl_->docs[static_cast<std::size_t>(i)]};
  return Config(impl, path_);
}

Config Config::clone() const {
  auto impl = std::make_shared<Impl>();
  impl->record = std::make_shared<Record>();
  impl->segments = impl_->segments;
  std::map<const Document*, DocPtr> copies;  // stacked views may hold one document twice
  for (const DocPtr& d : impl_->docs) {
    DocPtr& copy = copies[d.get()];
    if (!copy) copy = std::make_shared<Document>(Document{deep_copy(*d->root), d->source, d->overrides});
    impl->docs.push_back(copy);
  }
  return Config(impl, path_);
}

std::string Config::document_yaml() const { return emit_text(*impl_->docs[0]->root, false) + "\n"; }

// ---------------------------------------------------------------------------------------------
// Suggestions

int edit_distance(const std::string& a, const std::string& b) {
  std::vector<int> previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = static_cast<int>(i);
    for (std::size_t j = 1; j <= b.size(); ++j) {
      int substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitute});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  // Suggestions are for typos in short names; long (binary, garbage) words get none, which also
  // keeps the quadratic distance cheap.
  constexpr std::size_t kLongest = 256;
  if (word.size() > kLongest) return "";
  const int threshold = std::max<int>(2, static_cast<int>(word.size()) / 3);
  std::string best;
  int best_distance = threshold + 1;
  for (const std::string& c : candidates) {
    if (c.size() > kLongest) continue;
    int length_gap = std::abs(static_cast<int>(c.size()) - static_cast<int>(word.size()));
    if (length_gap >= best_distance) continue;
    int d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

}  // namespace lrlab
