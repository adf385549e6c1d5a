#include "tests/support/paths.h"

namespace lrlab::testing {

const char* source_dir() { return LRLAB_SOURCE_DIR_PATH; }
const char* lrlab_binary() { return LRLAB_BINARY_PATH; }

}  // namespace lrlab::testing
