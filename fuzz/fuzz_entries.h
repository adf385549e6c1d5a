#pragma once
/// The entry functions of lrlab's fuzz targets, shared by the libFuzzer targets (config_fuzz,
/// override_fuzz; built with -DLRLAB_FUZZ=ON and clang) and by the corpus replay that CTest runs on
/// every build (lrlab_fuzz_replay, any compiler).
///
/// Contract checked on every input: untrusted text may only ever produce lrlab::Error (a located
/// ConfigError, mostly). Any other exception (yaml-cpp's, the standard library's, LibTorch's) is a
/// bug and aborts, as do crashes, hangs and sanitizer reports.

#include <cstddef>
#include <cstdint>

namespace lrlab::fuzz {

/// Input: YAML text, optionally followed by a line `#%overrides` and one override per line.
/// Loads it, applies the overrides, emits the resolved and plain documents, expands the study, forms
/// the groups and, where every group is tiny (d * k * runs small), builds each group's model and
/// trainer as `lrlab run` would before training; then again through the command line's loader
/// (load_with_overrides: from a file, overrides naming keys with defaults, swept defaults filled in)
/// when the base shapes are tiny.
void config_one(const uint8_t* data, size_t size);

/// Input: one override per line, applied to a small valid study config through the command line's
/// loader (load_with_overrides) and, one by one, through Config::apply_override (reading each key
/// back with value_text); each result is expanded, grouped and built as in config_one.
void override_one(const uint8_t* data, size_t size);

/// Input: the bytes of a .safetensors file, read with read_safetensors (bounded read, header and
/// shape checks). Only an lrlab::Error naming the file, with no control byte in it, may come out.
void safetensors_one(const uint8_t* data, size_t size);

}  // namespace lrlab::fuzz
