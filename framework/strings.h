#pragma once
/// Small string helpers shared by messages and outputs.

#include <string>
#include <vector>

namespace lrlab {

/// Joins `items` with `separator` ("a, b, c").
inline std::string join(const std::vector<std::string>& items, const std::string& separator = ", ") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
  return out;
}

/// The shortest text that reads back as `value` ("0.95", "1e-06", "300").
std::string format_number(double value);

}  // namespace lrlab
