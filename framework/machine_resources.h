#pragma once
/// What the machine can hold: memory a new allocation can get and free space on a file system.
/// Used to refuse, before anything is allocated or written, a run whose tensors or result files
/// cannot fit (a d = 1e7 test set is 80 GB; the kernel would kill lrlab mid-run).

#include <cstdint>
#include <initializer_list>
#include <string>

namespace lrlab {

class Config;

/// MemAvailable of /proc/meminfo in bytes (what can be allocated without swapping); 0 when unknown.
uint64_t available_memory_bytes();
/// MemAvailable + SwapFree in bytes: more than this cannot be allocated at all; 0 when unknown.
uint64_t allocatable_memory_bytes();
/// Free bytes (for an unprivileged user) on the file system that holds `path`, or would hold it: the
/// nearest existing ancestor is measured. 0 when unknown.
uint64_t free_disk_bytes(const std::string& path);

/// Fails at `key` of `cfg` (a located ConfigError) when a tensor of `shape` with `element_bytes` per
/// element cannot exist: its byte count overflows int64 or exceeds allocatable_memory_bytes().
/// `what` names the tensor in the message ("the base weights W [R, k, d]").
void check_tensor_fits(const Config& cfg, const std::string& key, std::initializer_list<int64_t> shape,
                       int64_t element_bytes, const std::string& what);

}  // namespace lrlab
