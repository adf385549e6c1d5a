#include "models/success.h"

#include <cmath>
#include <cstdlib>

#include "framework/strings.h"

namespace lrlab::models {

std::string SuccessCondition::text() const { return metric + (at_least ? " >= " : " <= ") + format_number(bound); }

bool parse_success_condition(const std::string& metric, const std::string& text, SuccessCondition* out,
                             std::string* why) {
  size_t i = text.find_first_not_of(' ');
  const std::string op = i == std::string::npos ? "" : text.substr(i, 2);
  if (op != ">=" && op != "<=") {
    *why = "expected '>= NUMBER' or '<= NUMBER', got '" + text + "'";
    return false;
  }
  const std::string number = text.substr(i + 2);
  const char* begin = number.c_str();
  char* end = nullptr;
  const double bound = std::strtod(begin, &end);
  const bool rest_blank = end != begin && std::string(end).find_first_not_of(' ') == std::string::npos;
  if (!rest_blank || !std::isfinite(bound)) {
    *why = "expected a finite number after '" + op + "', got '" + number + "'";
    return false;
  }
  *out = SuccessCondition{metric, op == ">=", bound};
  return true;
}

}  // namespace lrlab::models
