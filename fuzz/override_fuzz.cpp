/// libFuzzer target: command-line overrides (one per line) applied to a small valid study, then
/// expansion, grouping and group building (see fuzz_entries.h). Built with -DLRLAB_FUZZ=ON (clang).
///   build-fuzz/fuzz/override_fuzz -max_total_time=300 fuzz/corpus/override

#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lrlab::fuzz::override_one(data, size);
  return 0;
}
