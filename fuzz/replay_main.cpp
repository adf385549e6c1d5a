/// Replays a fuzz corpus through the fuzz targets' entry functions without libFuzzer, so CTest checks
/// every saved input (regressions included) on every build, with any compiler:
///   lrlab_fuzz_replay config|override|safetensors PATH...   (PATH: a file or a folder of inputs)
/// Exits 0 when every input was handled; a bug aborts (see fuzz_entries.h).

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/fuzz_entries.h"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s config|override|safetensors PATH...\n", argv[0]);
    return 2;
  }
  const std::string target = argv[1];
  if (target != "config" && target != "override" && target != "safetensors") {
    std::fprintf(stderr, "unknown target '%s' (config | override | safetensors)\n", target.c_str());
    return 2;
  }
  std::vector<fs::path> files;
  for (int i = 2; i < argc; ++i) {
    const fs::path p = argv[i];
    if (fs::is_directory(p)) {
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (fs::is_regular_file(p)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "no such file or folder: %s\n", p.c_str());
      return 2;
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const std::string input = text.str();
    std::fprintf(stderr, "%s\n", f.c_str());  // the last name printed is the culprit of a crash
    const auto* data = reinterpret_cast<const uint8_t*>(input.data());
    if (target == "config")
      lrlab::fuzz::config_one(data, input.size());
    else if (target == "override")
      lrlab::fuzz::override_one(data, input.size());
    else
      lrlab::fuzz::safetensors_one(data, input.size());
  }
  std::printf("replayed %zu %s inputs: ok\n", files.size(), target.c_str());
  return 0;
}
