#include "framework/system_info.h"

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <ctime>
#include <string>

namespace lrlab {

namespace {
int find_blas(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::string*>(data);
  const std::string name = info->dlpi_name ? info->dlpi_name : "";
  if (name.find("blas") == std::string::npos) return 0;
  char resolved[PATH_MAX];
  *out = realpath(name.c_str(), resolved) ? std::string(resolved) : name;
  return out->find("openblas") != std::string::npos ? 1 : 0;  // prefer an OpenBLAS entry
}
}  // namespace

std::string loaded_blas() {
  std::string found;
  dl_iterate_phdr(find_blas, &found);
  return found.empty() ? "unknown" : found;
}

std::string host_name() {
  char buf[256] = {0};
  gethostname(buf, sizeof(buf) - 1);
  return buf;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

bool set_blas_threads(int threads) {
  using SetThreads = void (*)(int);
  auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (!set) return false;
  set(threads);
  return true;
}

std::string lrlab_version() { return "0.1.0"; }

}  // namespace lrlab
