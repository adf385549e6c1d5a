#pragma once
/// Graceful interruption: SIGINT/SIGTERM set a flag that long loops poll, so a study stops between
/// writes (finished groups stay on disk) instead of dying mid-write.

#include "framework/error.h"

namespace lrlab {

/// Installs the SIGINT/SIGTERM handlers (a second signal exits immediately).
void install_interrupt_handlers();
/// True once SIGINT or SIGTERM was received.
bool interrupted();
/// Clears the flag (tests).
void reset_interrupted();

/// Thrown by loops that notice the interruption flag.
class Interrupted : public Error {
 public:
  Interrupted() : Error("interrupted") {}
};

/// Throws Interrupted when the flag is set.
inline void throw_if_interrupted() {
  if (interrupted()) throw Interrupted();
}

}  // namespace lrlab
