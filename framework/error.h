#pragma once
/// Errors thrown by lrlab library code. Nothing in lrlab aborts on bad input: library code throws
/// lrlab::Error (or a subclass) and the `lrlab` app prints `what()` and exits non-zero.

#include <stdexcept>
#include <string>

namespace lrlab {

/// Base of every error lrlab reports to a user. `what()` is the complete, user-facing message.
class Error : public std::runtime_error {
 public:
  /// Builds an error with the full user-facing message.
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// A problem with a configuration value; the message reads `file:line:col: key.path: message`.
class ConfigError : public Error {
 public:
  /// Builds a configuration error whose message already carries its location.
  explicit ConfigError(const std::string& message) : Error(message) {}
};

/// Throws lrlab::Error with `message` when `condition` is false (for internal preconditions that a
/// user can reach, e.g. shape mismatches between components).
inline void check(bool condition, const std::string& message) {
  if (!condition) throw Error(message);
}

}  // namespace lrlab
