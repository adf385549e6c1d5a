#include "framework/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

namespace lrlab {

namespace {
std::atomic<int> g_signals{0};

void on_signal(int sig) {
  if (g_signals.fetch_add(1) > 0) _exit(128 + sig);  // second signal: the user insists
  const char msg[] = "\nlrlab: interrupted; finishing the current write (send again to exit at once)\n";
  [[maybe_unused]] ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
}
}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted() { return g_signals.load() > 0; }

void reset_interrupted() { g_signals.store(0); }

}  // namespace lrlab
