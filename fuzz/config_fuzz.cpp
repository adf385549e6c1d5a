/// libFuzzer target: YAML text (+ optional overrides) through load, overrides, study expansion,
/// grouping and group building (see fuzz_entries.h). Built with -DLRLAB_FUZZ=ON (clang).
///   build-fuzz/fuzz/config_fuzz -max_total_time=600 fuzz/corpus/config

#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lrlab::fuzz::config_one(data, size);
  return 0;
}
