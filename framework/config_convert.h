#pragma once
/// Internal to the config implementation (framework/config_*.cpp); not for use elsewhere.
///
/// Typed conversion of tree values: YAML 1.2 core-schema reading of scalars (integers, floats,
/// booleans, null), quoting for output, and Conv<T> for every value type Config::get supports.

#include <cstdint>
#include <string>
#include <vector>

#include "framework/config_tree.h"

namespace lrlab::config_detail {

/// True for the null words of YAML ("", "~", "null", "Null", "NULL").
bool is_null_word(const std::string& s);
/// Integer literal: `[-+]?[0-9]+`, `0x[0-9a-fA-F]+`, `0o[0-7]+`. Sets `overflow` when the literal
/// is an integer that does not fit in int64.
bool parse_int64(const std::string& s, std::int64_t* out, bool* overflow);
/// Float literal: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `[-+]?.inf`, `.nan`
/// (and integer literals). Overflow gives +-inf (`1e999`), underflow 0, as in C.
bool parse_double(const std::string& s, double* out);
/// true/True/TRUE and false/False/FALSE.
bool is_bool_word(const std::string& s, bool* value);
/// True when `text`, written plain, would be read back as something other than this string (by
/// us or by a YAML 1.1 reader such as PyYAML, which also takes yes/no/on/off as booleans).
bool needs_quotes(const std::string& text);
/// Shortest text that reads back as the same double, always with a '.' or an exponent so that a
/// YAML 1.1 reader sees a float (`1.0`, `1.0e-05`, `.inf`).
std::string format_double(double v);

/// Conversion between tree values and C++ values: `what()` names the expected type in messages,
/// `from` reads a node (a ConfigError at its location naming `path` when it has the wrong type),
/// `to` makes a node (for recorded defaults and comparisons). Defined (config_convert.cpp) for bool,
/// int and int64 (range-checked; float notation for exact integers below 2^53 accepted), double and
/// std::string (any scalar); lists below.
template <class T>
struct Conv {
  static const char* what();
  static T from(const Node& n, const std::string& path);
  static NodePtr to(const T& v, const Loc& loc);
};

// The scalar conversions are explicit specializations of those members, declared here so that every
// user sees them (the definitions are in config_convert.cpp).
#define LRLAB_CONFIG_SCALAR_CONV(T)                                  \
  template <>                                                        \
  const char* Conv<T>::what();                                       \
  template <>                                                        \
  T Conv<T>::from(const Node& n, const std::string& path);           \
  template <>                                                        \
  NodePtr Conv<T>::to(const T& v, const Loc& loc);
LRLAB_CONFIG_SCALAR_CONV(bool)
LRLAB_CONFIG_SCALAR_CONV(int)
LRLAB_CONFIG_SCALAR_CONV(std::int64_t)
LRLAB_CONFIG_SCALAR_CONV(double)
LRLAB_CONFIG_SCALAR_CONV(std::string)
#undef LRLAB_CONFIG_SCALAR_CONV

/// Lists of any of the above.
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

}  // namespace lrlab::config_detail
