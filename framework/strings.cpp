#include "framework/strings.h"

#include <fmt/format.h>

namespace lrlab {

std::string format_number(double value) { return fmt::format("{}", value); }

}  // namespace lrlab
