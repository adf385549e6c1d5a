#pragma once
/// Facts about the machine and libraries a run used (written to meta.yaml so results are traceable).

#include <string>

namespace lrlab {

/// The BLAS library loaded into this process (resolved path, e.g. ".../openblas-pthread/libblas.so.3"),
/// or "unknown".
std::string loaded_blas();
/// The host name.
std::string host_name();
/// The current UTC time as ISO 8601.
std::string utc_now();
/// Sets the thread count of the loaded BLAS when it is OpenBLAS (found at run time with dlsym, so no
/// link dependency): at::set_num_threads does not reach OpenBLAS's own pool, whose spinning threads
/// otherwise compete with parallel groups. Returns false when no such BLAS is loaded.
bool set_blas_threads(int threads);
/// lrlab's version string.
std::string lrlab_version();

}  // namespace lrlab
