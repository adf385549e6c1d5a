#pragma once
/// Reading a user-named file without trusting it: a FIFO would block forever, /dev/zero never ends,
/// a directory "reads" as an empty or failing stream. read_bounded_file accepts regular files only
/// (checked with stat before opening, and again with fstat on what was opened), opens them with
/// O_NONBLOCK so no open can hang, refuses a file above a byte limit before reading it, reads in
/// chunks that never go past the limit (a file that grows while read is refused too), and checks
/// the interruption flag (framework/interrupt.h) between chunks, so SIGINT/SIGTERM stop a long read
/// within a fraction of a second.
///
/// Limits (documented in the README, "Size limits"): configuration files 64 MB, tensor files the
/// size their expected shapes need plus 16 MB of header, else 1 GB; the environment variables
/// LRLAB_MAX_CONFIG_MB and LRLAB_MAX_TENSOR_MB raise (or lower) them.

#include <cstdint>
#include <string>

#include "framework/error.h"

namespace lrlab {

/// A file that read_bounded_file refused or could not read. `what()` is a message without the path
/// ("is a directory, not a configuration file"), so callers can place it after a key or a location.
class FileReadError : public Error {
 public:
  /// `reason`: what is wrong, without the path.
  explicit FileReadError(const std::string& reason) : Error(reason) {}
};

/// Default limit of configuration (YAML) files: 64 MB, or LRLAB_MAX_CONFIG_MB.
uint64_t config_file_limit();
/// Default limit of tensor files whose expected shapes are unknown: 1 GB, or LRLAB_MAX_TENSOR_MB.
uint64_t tensor_file_limit();
/// The limit of a tensor file expected to hold `data_bytes` of tensor data: those bytes plus 16 MB
/// for the header, or LRLAB_MAX_TENSOR_MB when that is set.
uint64_t tensor_file_limit(uint64_t data_bytes);

/// The whole of `path`, which must be a regular file of at most `max_bytes`. `kind` names what the
/// file should be in messages ("configuration file", ".safetensors file") and `limit_hint` says how to
/// raise the limit. Throws FileReadError (missing, a directory, a FIFO or device, too large, read
/// error) or Interrupted.
std::string read_bounded_file(const std::string& path, uint64_t max_bytes, const std::string& kind,
                              const std::string& limit_hint);

/// "64 MB", "1.5 GB", "20001 bytes" (exact below 1 MB): a byte count for messages.
std::string format_bytes(uint64_t bytes);

}  // namespace lrlab
