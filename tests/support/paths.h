#pragma once
/// Where the tests find the source tree and the `lrlab` executable.
///
/// The paths are compiled into one file only (tests/support/paths.cpp): a compile definition on every
/// test file would put the clone's absolute path into every compile command, and ccache could then
/// never share a test object between two clones or worktrees.

namespace lrlab::testing {

/// The repository root (PROJECT_SOURCE_DIR), e.g. for configs/.
const char* source_dir();
/// The built `lrlab` executable.
const char* lrlab_binary();

}  // namespace lrlab::testing

#define LRLAB_SOURCE_DIR (::lrlab::testing::source_dir())
#define LRLAB_BINARY (::lrlab::testing::lrlab_binary())
