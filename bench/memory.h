#pragma once
/// Resident memory of this process (Linux /proc; zeros elsewhere).

#include <cstdint>

namespace lrlab::bench {

/// Current resident set size in bytes (VmRSS).
int64_t rss_bytes();
/// Peak resident set size in bytes since start or the last reset_peak_rss (VmHWM).
int64_t peak_rss_bytes();
/// Resets the peak to the current RSS (writes 5 to /proc/self/clear_refs). False where not allowed:
/// the peak is then the process-wide peak.
bool reset_peak_rss();

}  // namespace lrlab::bench
