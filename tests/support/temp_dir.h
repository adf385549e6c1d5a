#pragma once
/// A fresh folder under /tmp for one test, removed with everything in it when the test ends.

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace lrlab::testing {

/// A fresh folder /tmp/lrlab_test_XXXXXX, removed (recursively) by the destructor.
struct TempDir {
  std::string path;  ///< the folder's path
  TempDir() {
    char name[] = "/tmp/lrlab_test_XXXXXX";
    if (!::mkdtemp(name)) throw std::runtime_error("mkdtemp failed");
    path = name;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace lrlab::testing
