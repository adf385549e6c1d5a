#include "framework/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

namespace lrlab {

namespace {
std::atomic<int> g_signals{0};
std::atomic<int> g_first_signal{0};

// Async-signal-safe: atomics and write(2) only.
void on_signal(int sig) {
  if (g_signals.fetch_add(1) > 0) _exit(128 + sig);  // second signal: the user insists
  g_first_signal.store(sig);
  const char msg[] = "\nlrlab: interrupted; finishing the current write (send again to exit at once)\n";
  [[maybe_unused]] ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
}
}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // interrupted reads and writes carry on; the loops poll the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted() { return g_signals.load() > 0; }

int interrupt_signal() { return g_first_signal.load(); }

void reset_interrupted() {
  g_signals.store(0);
  g_first_signal.store(0);
}

}  // namespace lrlab
