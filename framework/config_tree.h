#pragma once
/// Internal to the config implementation (framework/config_*.cpp); not for use elsewhere.
///
/// The document tree a Config views, its locations and messages, and the access record. yaml-cpp is
/// used only to parse text and to emit it: a parsed document is converted at once into this small
/// tree, because yaml-cpp nodes cannot carry what the config needs: a location for values that came
/// from an override, a way to look keys up without inserting them, and a copy that does not share
/// aliased nodes (an override of one alias must not change its anchor). The conversion is also where
/// untrusted input is bounded: nesting depth (recursive aliases included) and total size (alias
/// expansion) are limited, so no later recursion can run away.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "framework/config.h"

namespace lrlab::config_detail {

/// Deepest nesting accepted; real configs use a handful of levels, a recursive alias is infinite.
constexpr int kMaxDepth = 64;
/// Most values one document or override may expand to (guards against alias "billion laughs").
constexpr long kMaxNodes = 200000;
/// Longest key or value quoted verbatim in a message.
constexpr std::size_t kShownChars = 60;

// ---------------------------------------------------------------------------------------------
// Locations and messages (config_tree.cpp)

/// Where a key or value came from: `file:line:col` (1-based) or, with line 0, just the source
/// (the `<override key=value>` text or a file name).
struct Loc {
  std::shared_ptr<const std::string> source;  ///< file name or override text
  int line = 0;                               ///< 1-based line (0: none)
  int col = 0;                                ///< 1-based column

  /// "file:line:col" (or the source alone without a line).
  std::string str() const;
};

/// The location of a yaml-cpp mark (which counts from 0, and uses -1 for "none").
Loc mark_loc(const std::shared_ptr<const std::string>& source, const YAML::Mark& mark);
/// Throws ConfigError "loc: path: message".
[[noreturn]] void raise(const Loc& loc, const std::string& path, const std::string& message);
/// A key or value as it may appear in a message: control bytes escaped and long text cut.
std::string shown(const std::string& text);
/// Joins words with `sep`.
std::string join(const std::vector<std::string>& words, const std::string& sep);
/// "path.key" (or "key" at the root).
std::string join_path(const std::string& path, const std::string& key);
/// The dotted path of the first `count` segments.
std::string join_path(const std::vector<std::string>& segments, std::size_t count);
/// "did you mean" for key names (closest match, or a key that `word` extends by `_suffix`).
std::string suggest(const std::string& word, const std::vector<std::string>& candidates);
/// "unknown key 'k'[ in where] (valid keys: a, b); did you mean 'a'?"
std::string unknown_key_message(const std::string& key, const std::string& where,
                                const std::vector<std::string>& valid, const std::string& none_text);
/// Splits "a.b.c" into segments; an empty path or segment is an error at `loc` naming `what`.
std::vector<std::string> split_key_path(const std::string& dotted, const Loc& loc, const std::string& what);
/// `s` without leading and trailing spaces and tabs.
std::string trim(const std::string& s);

// ---------------------------------------------------------------------------------------------
// The document tree (config_tree.cpp)

/// What a node holds.
enum class Kind { kNull, kScalar, kSequence, kMap };

struct Node;
using NodePtr = std::shared_ptr<Node>;

/// One key of a mapping, with the location of the key itself (unknown-key errors point there).
struct Entry {
  std::string key;  ///< the key
  Loc key_loc;      ///< where the key is written
  NodePtr value;    ///< its value (never null)
};

/// One value of a document.
struct Node {
  Kind kind = Kind::kNull;     ///< what it holds
  std::string text;            ///< scalar text as written
  bool quoted = false;         ///< quoted (or !!str) scalar: a string even if it reads as a number
  std::vector<NodePtr> items;  ///< sequence
  std::vector<Entry> entries;  ///< mapping, in document order (keys are unique)
  Loc loc;                     ///< where it is written
};

/// A fresh node of `kind` at `loc`.
NodePtr make_node(Kind kind, const Loc& loc);
/// A deep copy (no node shared with `n`).
NodePtr deep_copy(const Node& n);
/// Replaces every location in `n` (values set programmatically keep the location they replace).
void relocate(Node& n, const Loc& loc);
/// The entry of `key` in a mapping, or nullptr.
Entry* find_entry(Node& map, const std::string& key);
/// The entry of `key` in a mapping, or nullptr.
const Entry* find_entry(const Node& map, const std::string& key);
/// The keys of a mapping, in document order.
std::vector<std::string> keys_of(const Node& map);
/// "null", "'text'", "the quoted string 'text'", "a list", "a mapping" (for messages).
std::string describe(const Node& n);

/// Converts a yaml-cpp node into a Node tree, bounding depth and size. With `fixed` set, every
/// node gets that location (override values), else the yaml-cpp mark.
class Converter {
 public:
  /// `source` names the text in locations; `fixed` (may be null) overrides every location.
  Converter(std::shared_ptr<const std::string> source, const Loc* fixed);
  /// Converts `y` found at `path`, `depth` levels below the root.
  NodePtr run(const YAML::Node& y, const std::string& path, int depth);

 private:
  Loc loc_of(const YAML::Node& y) const;
  NodePtr convert(const YAML::Node& y, const std::string& path, int depth);
  NodePtr convert_map(const YAML::Node& y, const std::string& path, int depth, const Loc& loc);

  std::shared_ptr<const std::string> source_;
  const Loc* fixed_;
  long count_ = 0;
};

/// Parses an override or set() value; malformed YAML is a ConfigError at `loc`.
YAML::Node parse_value(const std::string& text, const Loc& loc, const std::string& path);
/// The tree as YAML text (block style, or one line with `flow`).
std::string emit_text(const Node& n, bool flow);
/// Canonical one-line text of a value (used to compare stacked values and by value_text()).
std::string canonical(const Node& n);

// ---------------------------------------------------------------------------------------------
// Documents and the access record (config_access.cpp)

/// One loaded document.
struct Document {
  NodePtr root;                        ///< a mapping
  std::string source;                  ///< file name
  std::vector<std::string> overrides;  ///< overrides applied, in order
};
using DocPtr = std::shared_ptr<Document>;

/// What was read on one mapping (by path from the root).
struct MapRecord {
  std::vector<std::string> read;            ///< keys read, in first-read order (the valid keys)
  std::map<std::string, NodePtr> defaults;  ///< fallbacks used for keys (filled in where absent)
  bool visited = false;                     ///< reached through child()
};

/// The access record of a set of documents.
struct Record {
  std::map<std::vector<std::string>, MapRecord> maps;  ///< by path segments
};

/// Walks `segs` in `doc`, returning the mapping that holds the last segment, or nullptr when an
/// intermediate key is absent or null (with `create`, absent or null ones become mappings). A
/// non-mapping intermediate is an error at `loc`.
Node* parent_map(Document& doc, const std::vector<std::string>& segs, const Loc& loc, bool create);

/// Joins path segments that, together, name an existing dotted key of the document (longest first):
/// a sweep axis `base.d:` under study.sweep is one key, so `study.sweep.base.d` names it.
std::vector<std::string> merge_dotted_segments(const Document& doc, const std::vector<std::string>& segs);

}  // namespace lrlab::config_detail

namespace lrlab {

/// The state a Config view shares with its copies: documents (one per replica), the access record and
/// the path of the viewed mapping.
struct Config::Impl {
  std::vector<config_detail::DocPtr> docs;        ///< one per replica (never empty)
  std::shared_ptr<config_detail::Record> record;  ///< shared by every view of these documents
  std::vector<std::string> segments;              ///< path of the viewed mapping

  /// The mapping this view names in document `r`; nullptr when it (or a parent) is absent or null.
  /// `nearest` receives the location of the deepest thing that exists (for "missing" errors).
  config_detail::Node* find_map(std::size_t r, config_detail::Loc* nearest) const;
  /// The record of the mapping at `segs`.
  config_detail::MapRecord& rec(const std::vector<std::string>& segs) const { return record->maps[segs]; }
  /// Records a read of `key` in this mapping.
  void mark_read(const std::string& key) const;
  /// Records the fallback used for an absent `key` (the first fallback read wins).
  void record_default(const std::string& key, config_detail::NodePtr value) const {
    rec(segments).defaults.emplace(key, std::move(value));
  }
  /// The distinct documents (a stacked view may hold one twice).
  std::vector<config_detail::DocPtr> unique_docs() const;
};

namespace config_detail {
/// The command-line deletion `~key.path` (config_delete.cpp): removes a key that exists in every
/// document of `impl` (else a ConfigError naming the closest key) and records the assignment with the
/// overrides. `~key=value` is an error (a deletion takes no value).
void delete_override(const Config::Impl& impl, const std::string& assignment);
}  // namespace config_detail

}  // namespace lrlab
