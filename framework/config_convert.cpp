/// Typed conversion of tree values (see config_convert.h).

#include "framework/config_convert.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

namespace lrlab::config_detail {

bool is_null_word(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

namespace {

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

}  // namespace

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

namespace {

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

/// A scalar node holding `text`.
NodePtr scalar_node(std::string text, const Loc& loc, bool quoted) {
  NodePtr n = make_node(Kind::kScalar, loc);
  n->text = std::move(text);
  n->quoted = quoted;
  return n;
}

}  // namespace

template <>
const char* Conv<bool>::what() { return "true or false"; }

template <>
bool Conv<bool>::from(const Node& n, const std::string& path) {
  bool value = false;
  if (n.kind != Kind::kScalar || n.quoted || !is_bool_word(n.text, &value))
    raise(n.loc, path, std::string("expected ") + what() + ", got " + describe(n));
  return value;
}

template <>
NodePtr Conv<bool>::to(const bool& v, const Loc& loc) { return scalar_node(v ? "true" : "false", loc, false); }

template <>
const char* Conv<int>::what() { return "an integer"; }

template <>
int Conv<int>::from(const Node& n, const std::string& path) { return integer_from<int>(n, path); }

template <>
NodePtr Conv<int>::to(const int& v, const Loc& loc) { return scalar_node(std::to_string(v), loc, false); }

template <>
const char* Conv<std::int64_t>::what() { return "an integer"; }

template <>
std::int64_t Conv<std::int64_t>::from(const Node& n, const std::string& path) {
  return integer_from<std::int64_t>(n, path);
}

template <>
NodePtr Conv<std::int64_t>::to(const std::int64_t& v, const Loc& loc) {
  return scalar_node(std::to_string(v), loc, false);
}

template <>
const char* Conv<double>::what() { return "a number"; }

template <>
double Conv<double>::from(const Node& n, const std::string& path) {
  double value = 0;
  if (n.kind != Kind::kScalar || n.quoted || !parse_double(n.text, &value))
    raise(n.loc, path, std::string("expected ") + what() + ", got " + describe(n));
  return value;
}

template <>
NodePtr Conv<double>::to(const double& v, const Loc& loc) { return scalar_node(format_double(v), loc, false); }

template <>
const char* Conv<std::string>::what() { return "a string"; }

template <>
std::string Conv<std::string>::from(const Node& n, const std::string& path) {
  if (n.kind != Kind::kScalar) raise(n.loc, path, std::string("expected ") + what() + ", got " + describe(n));
  return n.text;
}

template <>
NodePtr Conv<std::string>::to(const std::string& v, const Loc& loc) {
  return scalar_node(v, loc, true);  // quoted: a string default stays a string when written ("", "1e-3", "null")
}

}  // namespace lrlab::config_detail
