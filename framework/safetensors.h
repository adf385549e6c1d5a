#pragma once
/// Reading and writing the safetensors layout (the format PEFT uses for adapters): an 8-byte
/// little-endian header length N, a JSON header of N bytes mapping each tensor name to its dtype,
/// shape and byte range, an optional "__metadata__" map of strings, then the raw little-endian data.
/// No Debian package provides it for C++, so it is implemented here (about 150 lines) and tested for
/// round trips and corrupted files.

#include <ATen/ATen.h>

#include <cstdint>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "framework/bounded_read.h"

namespace lrlab {

/// Tensors by name (in the order they were written) and the string metadata of a file.
struct TensorFile {
  std::vector<std::pair<std::string, at::Tensor>> tensors;  ///< CPU tensors
  std::map<std::string, std::string> metadata;              ///< the "__metadata__" map

  /// The tensor named `name`; a missing name is an lrlab::Error naming the file and the known names.
  const at::Tensor& get(const std::string& name) const;
  /// True when `name` is present.
  bool has(const std::string& name) const;
  std::string source;  ///< the path it was read from (for messages)
};

/// Writes `file` to `path` atomically (temp file + rename). Supports float32/float64/int64/int32/bool.
void write_safetensors(const std::string& path, const TensorFile& file);
/// Reads `path`, a regular file of at most `max_bytes` (framework/bounded_read.h: a directory, FIFO,
/// device or larger file is refused before reading); a truncated, corrupted or inconsistent file is
/// an lrlab::Error naming the path and what is wrong (binary content is never echoed).
TensorFile read_safetensors(const std::string& path, uint64_t max_bytes = tensor_file_limit());

}  // namespace lrlab
