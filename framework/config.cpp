/// Strict, located YAML configuration (see config.h).
///
/// yaml-cpp is used only to parse text and to emit it. A parsed document is converted at once into
/// the small tree below, because yaml-cpp nodes cannot carry what this module needs: a location for
/// values that came from an override, a way to look keys up without inserting them, and a copy that
/// does not share aliased nodes (an override of one alias must not change its anchor). The
/// conversion is also where untrusted input is bounded: nesting depth (recursive aliases included)
/// and total size (alias expansion) are limited, so no later recursion can run away.

#include "framework/config.h"

#include <sys/stat.h>
#include <yaml-cpp/depthguard.h>    // YAML::DeepRecursion (not in yaml.h)
#include <yaml-cpp/eventhandler.h>  // YAML::EventHandler (not in yaml.h)
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "framework/error.h"

namespace lrlab {
namespace {

/// Deepest nesting accepted; real configs use a handful of levels, a recursive alias is infinite.
constexpr int kMaxDepth = 64;
/// Most values one document or override may expand to (guards against alias "billion laughs").
constexpr long kMaxNodes = 200000;
/// Longest key or value quoted verbatim in a message.
constexpr std::size_t kShownChars = 60;

// ---------------------------------------------------------------------------------------------
// Locations and messages

/// Where a key or value came from: `file:line:col` (1-based) or, with line 0, just the source
/// (the `<override key=value>` text or a file name).
struct Loc {
  std::shared_ptr<const std::string> source;
  int line = 0;
  int col = 0;

  std::string str() const {
    std::string s = source ? *source : std::string("<unknown>");
    if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(col);
    return s;
  }
};

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
std::string shown(const std::string& text) {
  std::string out;
  std::size_t n = std::min(text.size(), kShownChars);
  // Do not cut a UTF-8 sequence in half.
  while (n < text.size() && n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (n < text.size()) out += "...";
  return out;
}

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

// ---------------------------------------------------------------------------------------------
// The document tree

enum class Kind { kNull, kScalar, kSequence, kMap };

struct Node;
using NodePtr = std::shared_ptr<Node>;

/// One key of a mapping, with the location of the key itself (unknown-key errors point there).
struct Entry {
  std::string key;
  Loc key_loc;
  NodePtr value;
};

struct Node {
  Kind kind = Kind::kNull;
  std::string text;            ///< scalar text as written
  bool quoted = false;         ///< quoted (or !!str) scalar: a string even if it reads as a number
  std::vector<NodePtr> items;  ///< sequence
  std::vector<Entry> entries;  ///< mapping, in document order (keys are unique)
  Loc loc;
};

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

// ---------------------------------------------------------------------------------------------
// Scalars: YAML 1.2 core-schema reading, plus quoting for output

bool is_null_word(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

bool all_digits(const std::string& s, std::size_t from, std::size_t to, int base) {
  if (from >= to) return false;
  for (std::size_t i = from; i < to; ++i) {
    char c = s[i];
    bool ok = base == 16 ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                         : (c >= '0' && c < static_cast<char>('0' + base));
    if (!ok) return false;
  }
  return true;
}

/// Integer literal: `[-+]?[0-9]+`, `0x[0-9a-fA-F]+`, `0o[0-7]+`. Sets `overflow` when the literal
/// is an integer that does not fit in int64.
bool parse_int64(const std::string& s, std::int64_t* out, bool* overflow) {
  *overflow = false;
  std::size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  int base = 10;
  if (s.size() - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'o')) {
    if (negative || i > 0) return false;  // YAML has no signed hex/octal
    base = s[i + 1] == 'x' ? 16 : 8;
    i += 2;
  }
  if (!all_digits(s, i, s.size(), base)) return false;
  // Parse the magnitude as unsigned so that INT64_MIN is accepted.
  std::uint64_t magnitude = 0;
  auto result = std::from_chars(s.data() + i, s.data() + s.size(), magnitude, base);
  if (result.ec == std::errc::result_out_of_range) {
    *overflow = true;
    return false;
  }
  if (result.ec != std::errc() || result.ptr != s.data() + s.size()) return false;
  const std::uint64_t limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (magnitude > limit + 1) {
      *overflow = true;
      return false;
    }
    *out = magnitude == limit + 1 ? std::numeric_limits<std::int64_t>::min()
                                  : -static_cast<std::int64_t>(magnitude);
  } else {
    if (magnitude > limit) {
      *overflow = true;
      return false;
    }
    *out = static_cast<std::int64_t>(magnitude);
  }
  return true;
}

/// Float literal: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `[-+]?.inf`, `.nan`
/// (and integer literals). Overflow gives +-inf (`1e999`), underflow 0, as in C.
bool parse_double(const std::string& s, double* out) {
  std::size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  const std::string body = s.substr(i);
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    *out = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  if (i == 0 && (body == ".nan" || body == ".NaN" || body == ".NAN")) {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  std::int64_t as_int = 0;
  bool overflow = false;
  if ((body.size() > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'o')) &&
      parse_int64(s, &as_int, &overflow)) {
    *out = static_cast<double>(as_int);
    return true;
  }
  // Check the grammar by hand: from_chars also accepts "inf", "nan" and other spellings.
  std::size_t j = 0;
  std::size_t int_digits = 0, frac_digits = 0;
  while (j < body.size() && std::isdigit(static_cast<unsigned char>(body[j]))) ++j, ++int_digits;
  if (j < body.size() && body[j] == '.') {
    ++j;
    while (j < body.size() && std::isdigit(static_cast<unsigned char>(body[j]))) ++j, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  std::size_t mantissa_end = j;
  long exponent = 0;
  if (j < body.size() && (body[j] == 'e' || body[j] == 'E')) {
    ++j;
    bool exp_negative = false;
    if (j < body.size() && (body[j] == '+' || body[j] == '-')) exp_negative = body[j++] == '-';
    std::size_t exp_start = j;
    while (j < body.size() && std::isdigit(static_cast<unsigned char>(body[j]))) {
      if (exponent < 100000) exponent = exponent * 10 + (body[j] - '0');
      ++j;
    }
    if (j == exp_start) return false;
    if (exp_negative) exponent = -exponent;
  }
  if (j != body.size()) return false;
  double value = 0;
  auto result = std::from_chars(body.data(), body.data() + body.size(), value);
  if (result.ec == std::errc::result_out_of_range) {
    // Decide overflow from the decimal magnitude of the first significant digit.
    long magnitude = 0;
    std::size_t first = body.find_first_of("123456789");
    if (first == std::string::npos || first >= mantissa_end) {
      value = 0;
    } else {
      std::size_t point = body.find('.');
      if (point == std::string::npos || point > mantissa_end) point = mantissa_end;
      magnitude = first < point ? static_cast<long>(point - first) - 1 : -static_cast<long>(first - point);
      value = magnitude + exponent > 0 ? std::numeric_limits<double>::infinity() : 0.0;
    }
  } else if (result.ec != std::errc() || result.ptr != body.data() + body.size()) {
    return false;
  }
  *out = negative ? -value : value;
  return true;
}

bool is_bool_word(const std::string& s, bool* value) {
  if (s == "true" || s == "True" || s == "TRUE") return *value = true, true;
  if (s == "false" || s == "False" || s == "FALSE") return *value = false, true;
  return false;
}

/// True when `text`, written plain, would be read back as something other than this string (by
/// us or by a YAML 1.1 reader such as PyYAML, which also takes yes/no/on/off as booleans).
bool needs_quotes(const std::string& text) {
  if (is_null_word(text)) return true;
  static const std::set<std::string> kBoolish = {
      "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
      "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF"};
  if (kBoolish.count(text)) return true;
  double d = 0;
  if (parse_double(text, &d)) return true;
  // Anything number-like in some schema (1_000, 0b1, 1:30, 012) is quoted too: harmless.
  unsigned char c0 = static_cast<unsigned char>(text[0]);
  if (std::isdigit(c0)) return true;
  if ((c0 == '+' || c0 == '-' || c0 == '.') && text.size() > 1 &&
      (std::isdigit(static_cast<unsigned char>(text[1])) || text[1] == '.'))
    return true;
  return false;
}

/// Shortest text that reads back as the same double, always with a '.' or an exponent so that a
/// YAML 1.1 reader sees a float (`1.0`, `1.0e-05`, `.inf`).
std::string format_double(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, result.ptr);
  std::size_t e = s.find('e');
  if (s.find('.') == std::string::npos) {
    if (e == std::string::npos)
      s += ".0";
    else
      s.insert(e, ".0");
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Conversion from yaml-cpp

/// Converts a yaml-cpp node into a Node tree, bounding depth and size. With `fixed` set, every
/// node gets that location (override values), else the yaml-cpp mark.
class Converter {
 public:
  Converter(std::shared_ptr<const std::string> source, const Loc* fixed)
      : source_(std::move(source)), fixed_(fixed) {}

  NodePtr run(const YAML::Node& y, const std::string& path, int depth) {
    try {
      return convert(y, path, depth);
    } catch (const YAML::Exception& e) {
      raise(fixed_ ? *fixed_ : mark_loc(source_, e.mark), path, "invalid YAML: " + e.msg);
    }
  }

 private:
  Loc loc_of(const YAML::Node& y) const { return fixed_ ? *fixed_ : mark_loc(source_, y.Mark()); }

  NodePtr convert(const YAML::Node& y, const std::string& path, int depth) {
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

  static bool is_merge_key(const YAML::Node& key) {
    return key.IsScalar() && key.Scalar() == "<<" && key.Tag() == "?";
  }

  /// Mapping: keys must be unique non-empty scalars; `<<: *anchor` merges (yaml-cpp 0.7 does not)
  /// the anchor's keys that the mapping does not set itself, at the place of the `<<`.
  NodePtr convert_map(const YAML::Node& y, const std::string& path, int depth, const Loc& loc) {
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

  std::shared_ptr<const std::string> source_;
  const Loc* fixed_;
  long count_ = 0;
};

/// Parses an override or set() value; malformed YAML is a ConfigError at `loc`.
YAML::Node parse_value(const std::string& text, const Loc& loc, const std::string& path) {
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
// Typed conversion

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

template <class T>
struct Conv;

template <>
struct Conv<bool> {
  static const char* what() { return "true or false"; }
  static bool from(const Node& n, const std::string& path) {
    bool value = false;
    if (n.kind != Kind::kScalar || n.quoted || !is_bool_word(n.text, &value))
      raise(n.loc, path, std::string("expected ") + what() + ", got " + describe(n));
    return value;
  }
  static NodePtr to(bool v, const Loc& loc) {
    NodePtr n = make_node(Kind::kScalar, loc);
    n->text = v ? "true" : "false";
    return n;
  }
};

template <class I>
I integer_from(const Node& n, const std::string& path) {
  constexpr I lo = std::numeric_limits<I>::min();
  constexpr I hi = std::numeric_limits<I>::max();
  const std::string range = "expected an integer between " + std::to_string(lo) + " and " + std::to_string(hi);
  if (n.kind != Kind::kScalar || n.quoted) raise(n.loc, path, "expected an integer, got " + describe(n));
  std::int64_t value = 0;
  bool overflow = false;
  if (parse_int64(n.text, &value, &overflow)) {
    if (value < lo || value > hi) raise(n.loc, path, range + ", got " + describe(n));
    return static_cast<I>(value);
  }
  if (overflow) raise(n.loc, path, range + ", got " + describe(n));
  // Float notation for an exact integer (`steps: 1e6`) is accepted: it is common and unambiguous
  // while below 2^53, where every integer is a double.
  double d = 0;
  if (parse_double(n.text, &d) && !std::isnan(d) && std::floor(d) == d) {
    if (std::fabs(d) > 9007199254740992.0 || d < static_cast<double>(lo) || d > static_cast<double>(hi))
      raise(n.loc, path, range + ", got " + describe(n));
    return static_cast<I>(d);
  }
  raise(n.loc, path, "expected an integer, got " + describe(n));
}

template <>
struct Conv<int> {
  static const char* what() { return "an integer"; }
  static int from(const Node& n, const std::string& path) { return integer_from<int>(n, path); }
  static NodePtr to(int v, const Loc& loc) {
    NodePtr n = make_node(Kind::kScalar, loc);
    n->text = std::to_string(v);
    return n;
  }
};

template <>
struct Conv<std::int64_t> {
  static const char* what() { return "an integer"; }
  static std::int64_t from(const Node& n, const std::string& path) {
    return integer_from<std::int64_t>(n, path);
  }
  static NodePtr to(std::int64_t v, const Loc& loc) {
    NodePtr n = make_node(Kind::kScalar, loc);
    n->text = std::to_string(v);
    return n;
  }
};

template <>
struct Conv<double> {
  static const char* what() { return "a number"; }
  static double from(const Node& n, const std::string& path) {
    double value = 0;
    if (n.kind != Kind::kScalar || n.quoted || !parse_double(n.text, &value))
      raise(n.loc, path, std::string("expected ") + what() + ", got " + describe(n));
    return value;
  }
  static NodePtr to(double v, const Loc& loc) {
    NodePtr n = make_node(Kind::kScalar, loc);
    n->text = format_double(v);
    return n;
  }
};

template <>
struct Conv<std::string> {
  static const char* what() { return "a string"; }
  static std::string from(const Node& n, const std::string& path) {
    if (n.kind != Kind::kScalar) raise(n.loc, path, std::string("expected ") + what() + ", got " + describe(n));
    return n.text;
  }
  static NodePtr to(const std::string& v, const Loc& loc) {
    NodePtr n = make_node(Kind::kScalar, loc);
    n->text = v;
    n->quoted = true;  // a string default stays a string when written ("", "1e-3", "null")
    return n;
  }
};

template <class E>
struct Conv<std::vector<E>> {
  static std::string what() {
    std::string element = Conv<E>::what();
    if (element == "a number") return "a list of numbers";
    if (element == "an integer") return "a list of integers";
    if (element == "a string") return "a list of strings";
    return "a list";
  }
  static std::vector<E> from(const Node& n, const std::string& path) {
    if (n.kind != Kind::kSequence) raise(n.loc, path, "expected " + what() + ", got " + describe(n));
    std::vector<E> out;
    for (std::size_t i = 0; i < n.items.size(); ++i)
      out.push_back(Conv<E>::from(*n.items[i], path + "[" + std::to_string(i) + "]"));
    return out;
  }
  static NodePtr to(const std::vector<E>& v, const Loc& loc) {
    NodePtr n = make_node(Kind::kSequence, loc);
    for (const E& e : v) n->items.push_back(Conv<E>::to(e, loc));
    return n;
  }
};

// ---------------------------------------------------------------------------------------------
// Documents and the access record

struct Document {
  NodePtr root;
  std::string source;
  std::vector<std::string> overrides;
};
using DocPtr = std::shared_ptr<Document>;

/// What was read on one mapping (by path from the root).
struct MapRecord {
  std::vector<std::string> read;            ///< keys read, in first-read order (the valid keys)
  std::map<std::string, NodePtr> defaults;  ///< fallbacks used for keys (filled in where absent)
  bool visited = false;                     ///< reached through child()
};

struct Record {
  std::map<std::vector<std::string>, MapRecord> maps;
};

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

}  // namespace

struct Config::Impl {
  std::vector<DocPtr> docs;        ///< one per replica (never empty)
  std::shared_ptr<Record> record;  ///< shared by every view of these documents
  std::vector<std::string> segments;

  /// The mapping this view names in document `r`; nullptr when it (or a parent) is absent or null.
  /// `nearest` receives the location of the deepest thing that exists (for "missing" errors).
  Node* find_map(std::size_t r, Loc* nearest) const {
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

  MapRecord& rec(const std::vector<std::string>& segs) const { return record->maps[segs]; }

  void mark_read(const std::string& key) const {
    MapRecord& r = rec(segments);
    if (std::find(r.read.begin(), r.read.end(), key) == r.read.end()) r.read.push_back(key);
  }

  void record_default(const std::string& key, NodePtr value) const {
    rec(segments).defaults.emplace(key, std::move(value));  // the first fallback read wins
  }

  std::vector<DocPtr> unique_docs() const {
    std::vector<DocPtr> out;
    for (const DocPtr& d : docs)
      if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
    return out;
  }
};

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

}  // namespace

// ---------------------------------------------------------------------------------------------
// Config

Config::Config(std::shared_ptr<Impl> impl, std::string path) : impl_(std::move(impl)), path_(std::move(path)) {}

Config Config::load_file(const std::string& path) {
  Loc loc{std::make_shared<const std::string>(path)};
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    raise(loc, "", std::string("cannot read configuration file (") + std::strerror(errno) + ")");
  if (S_ISDIR(st.st_mode)) raise(loc, "", "is a directory, not a configuration file");
  std::ifstream in(path, std::ios::binary);
  if (!in) raise(loc, "", std::string("cannot open configuration file (") + std::strerror(errno) + ")");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) raise(loc, "", "cannot read configuration file");
  return load_string(text.str(), path);
}

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

namespace {
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
}  // namespace

void Config::apply_override(const std::string& assignment) {
  const bool add = !assignment.empty() && assignment[0] == '+';
  const std::string body = add ? assignment.substr(1) : assignment;
  const std::size_t eq = body.find('=');
  const Loc raw_loc{std::make_shared<const std::string>("<override " + assignment + ">")};
  if (eq == std::string::npos) raise(raw_loc, "", "expected key.path=value (no '=' in the override)");
  const std::string key = trim(body.substr(0, eq));
  const std::string value = body.substr(eq + 1);
  if (key.empty()) raise(raw_loc, "", "empty key before '=' in the override");
  std::vector<std::string> segs = split_key_path(key, raw_loc, "the override");
  const Loc loc{std::make_shared<const std::string>("<override " + key + "=" + value + ">")};
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
  if (defaulted) impl_->record_default(key, Conv<T>::to(fallback, Loc{}));
  return agree(values, slots, path);
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
  const std::string path = join_path(path_, key);
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
  if (defaulted) impl_->record_default(key, Conv<T>::to(fallback, Loc{}));
  return values;
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

std::string Config::resolved_yaml() const {
  NodePtr copy = deep_copy(*impl_->docs[0]->root);
  merge_defaults(*impl_->record, *copy, {});
  return emit_text(*copy, false) + "\n";
}

std::string Config::document_yaml() const { return emit_text(*impl_->docs[0]->root, false) + "\n"; }

const std::vector<std::string>& Config::overrides() const { return impl_->docs[0]->overrides; }

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

void Config::set(const std::string& dotted_key, const std::string& yaml_value) {
  const Loc set_loc{std::make_shared<const std::string>("<set " + dotted_key + "=" + yaml_value + ">")};
  std::vector<std::string> full = impl_->segments;
  for (const std::string& s : split_key_path(dotted_key, set_loc, "set()")) full.push_back(s);
  const std::string path = join_path(full, full.size());
  YAML::Node parsed = parse_value(yaml_value, set_loc, path);
  NodePtr node = Converter(set_loc.source, &set_loc).run(parsed, path, static_cast<int>(full.size()));
  for (const DocPtr& doc : impl_->unique_docs()) {
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
    NodePtr copy = deep_copy(*node);
    relocate(*copy, e ? e->value->loc : m->loc);
    if (e)
      e->value = copy;
    else
      m->entries.push_back(Entry{full.back(), m->loc, copy});
  }
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
