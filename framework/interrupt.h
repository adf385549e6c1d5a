#pragma once
/// Graceful interruption: SIGINT/SIGTERM set a flag that long loops poll, so a study stops between
/// writes (finished groups stay on disk) instead of dying mid-write. A second signal exits at once
/// (the result files are still consistent: every write is a temp file renamed into place).

#include <string>

#include "framework/error.h"

namespace lrlab {

/// Installs the SIGINT/SIGTERM handlers (a second signal exits immediately with 128 + signal).
void install_interrupt_handlers();
/// True once SIGINT or SIGTERM was received.
bool interrupted();
/// The first signal received (SIGINT, SIGTERM), or 0 when none.
int interrupt_signal();
/// Clears the flag (tests).
void reset_interrupted();

/// Thrown by loops that notice the interruption flag; `what()` says what was kept.
class Interrupted : public Error {
 public:
  /// `message`: what was saved (the study runner adds the results folder and the finished runs).
  explicit Interrupted(const std::string& message = "interrupted") : Error(message) {}
};

/// Thrown inside a group whose study was stopped by another group's failure (not shown to users).
class Cancelled : public Error {
 public:
  Cancelled() : Error("cancelled") {}
};

/// Throws Interrupted when the flag is set.
inline void throw_if_interrupted() {
  if (interrupted()) throw Interrupted();
}

}  // namespace lrlab
