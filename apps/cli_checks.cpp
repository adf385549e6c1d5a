#include "apps/cli_checks.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "framework/config.h"
#include "framework/shown_text.h"
#include "framework/strings.h"

namespace lrlab {

namespace {

/// `text` as a double when the whole of it is a number; false otherwise.
bool parse_double(const std::string& text, double* value) {
  if (text.empty()) return false;
  char* end = nullptr;
  *value = std::strtod(text.c_str(), &end);
  return *end == '\0';
}

}  // namespace

CLI::Validator int_in_range(int64_t lo, int64_t hi) {
  const std::string range = fmt::format("{}..{}", lo, hi);
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const long long v = text.empty() ? 0 : std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0' || errno == ERANGE || v < lo || v > hi)
          return fmt::format("must be a whole number in {}, got '{}'", range, shown_text(text));
        return std::string();
      },
      "INT in " + range);
}

CLI::Validator finite_positive() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double v = 0;
        if (!parse_double(text, &v) || !std::isfinite(v) || !(v > 0))
          return fmt::format("must be a finite number > 0, got '{}'", shown_text(text));
        return std::string();
      },
      "NUMBER > 0");
}

CLI::Validator finite_non_negative() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double v = 0;
        if (!parse_double(text, &v) || !std::isfinite(v) || !(v >= 0))
          return fmt::format("must be a finite number >= 0, got '{}'", shown_text(text));
        return std::string();
      },
      "NUMBER >= 0");
}

std::string unknown_command_message(const std::string& word, const std::vector<std::string>& commands) {
  for (const auto& c : commands)
    if (c == word) return std::string();
  std::string message = fmt::format("unknown command '{}'; the commands are {}", shown_text(word), join(commands));
  const std::string near = closest_match(word, commands);
  if (!near.empty()) message += fmt::format("; did you mean '{}'?", near);
  return message;
}

}  // namespace lrlab
