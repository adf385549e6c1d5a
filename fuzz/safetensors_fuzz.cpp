/// libFuzzer target: the bytes of a .safetensors file through read_safetensors (see fuzz_entries.h).
/// Built with -DLRLAB_FUZZ=ON (clang).
///   build-fuzz/fuzz/safetensors_fuzz -max_total_time=600 fuzz/corpus/safetensors

#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lrlab::fuzz::safetensors_one(data, size);
  return 0;
}
