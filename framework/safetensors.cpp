#include "framework/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

#include "framework/atomic_file.h"
#include "framework/bounded_read.h"
#include "framework/error.h"
#include "framework/shown_text.h"
#include "framework/strings.h"

namespace lrlab {

namespace {

struct DtypeInfo {
  at::ScalarType type;
  const char* name;
};
const DtypeInfo kDtypes[] = {{at::kFloat, "F32"}, {at::kDouble, "F64"}, {at::kLong, "I64"},
                             {at::kInt, "I32"},   {at::kBool, "BOOL"},  {at::kHalf, "F16"}};

const char* dtype_name(at::ScalarType t) {
  for (const auto& d : kDtypes)
    if (d.type == t) return d.name;
  throw Error(std::string("safetensors: unsupported dtype ") + c10::toString(t));
}

at::ScalarType dtype_from(const std::string& name, const std::string& where) {
  for (const auto& d : kDtypes)
    if (name == d.name) return d.type;
  throw Error(where + ": unsupported dtype '" + shown_text(name) + "'");
}

}  // namespace

const at::Tensor& TensorFile::get(const std::string& name) const {
  std::vector<std::string> names;
  for (const auto& [n, t] : tensors) {
    if (n == name) return t;
    names.push_back(n);
  }
  throw Error(source + ": no tensor '" + name + "' (it holds: " + join(names) + ")");
}

bool TensorFile::has(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return true;
  return false;
}

void write_safetensors(const std::string& path, const TensorFile& file) {
  nlohmann::ordered_json header;
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  std::string data;
  for (const auto& [name, tensor] : file.tensors) {
    if (name == "__metadata__" || header.contains(name))
      throw Error(path + ": tensor name '" + name + "' is reserved or repeated");
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    const size_t bytes = t.numel() * t.element_size();
    header[name] = {{"dtype", dtype_name(t.scalar_type())},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {data.size(), data.size() + bytes}}};
    if (bytes > 0) data.append(static_cast<const char*>(t.data_ptr()), bytes);  // x86-64 is little-endian
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned, as the reference does
  std::string out(8, '\0');
  const uint64_t n = json.size();
  std::memcpy(out.data(), &n, 8);
  write_file_atomic(path, out + json + data);
}

TensorFile read_safetensors(const std::string& path, uint64_t max_bytes) {
  std::string bytes;
  try {
    bytes = read_bounded_file(path, max_bytes, ".safetensors file", "set LRLAB_MAX_TENSOR_MB to raise it");
  } catch (const FileReadError& e) {
    throw Error(path + ": " + e.what());
  }
  if (bytes.size() < 8)
    throw Error(path + ": not a safetensors file (" + std::to_string(bytes.size()) +
                " bytes, shorter than its 8-byte header length)");
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  // Printed as a number: the 8 bytes of a file that is not safetensors are anything.
  if (n > bytes.size() - 8) throw Error(path + ": corrupted safetensors file (header length " + std::to_string(n) +
                                        " exceeds the file size " + std::to_string(bytes.size()) + ")");
  // The reference implementation's bound: a header is JSON text, never near 100 MB.
  constexpr uint64_t kMaxHeaderBytes = 100'000'000;
  if (n > kMaxHeaderBytes)
    throw Error(path + ": not a safetensors file (header length " + std::to_string(n) +
                " bytes, more than the format's limit of 100 MB)");
  nlohmann::ordered_json header;  // ordered: tensors come back in the order they were written
  try {
    header = nlohmann::ordered_json::parse(bytes.substr(8, n));
  } catch (const std::exception& e) {
    // The parser quotes the bytes it stopped at, which may be binary.
    throw Error(path + ": corrupted safetensors header (" + shown_text(e.what()) + ")");
  }
  if (!header.is_object()) throw Error(path + ": corrupted safetensors header (not a JSON object)");
  TensorFile file;
  file.source = path;
  const uint64_t data_size = bytes.size() - 8 - n;
  const char* data = bytes.data() + 8 + n;
  try {
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") {
        if (!it->is_object()) throw Error(path + ": corrupted safetensors header (__metadata__ is not a map)");
        for (auto m = it->begin(); m != it->end(); ++m) file.metadata[m.key()] = m->get<std::string>();
        continue;
      }
      const std::string where = path + ": tensor '" + shown_text(it.key()) + "'";
      if (!it->is_object()) throw Error(where + ": corrupted header entry (not a JSON object)");
      const at::ScalarType type = dtype_from(it->at("dtype").get<std::string>(), where);
      const auto shape = it->at("shape").get<std::vector<int64_t>>();
      const auto offsets = it->at("data_offsets").get<std::vector<uint64_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size)
        throw Error(where + ": data offsets out of range (file truncated or corrupted)");
      // The byte count the shape needs, checked before allocating (a corrupted shape may be huge).
      uint64_t expected = c10::elementSize(type);
      for (int64_t dim : shape)
        if (dim < 0) throw Error(where + ": negative dimension in shape");
      if (std::find(shape.begin(), shape.end(), 0) != shape.end()) expected = 0;
      for (int64_t dim : shape) {
        if (expected > data_size / static_cast<uint64_t>(std::max<int64_t>(dim, 1)))
          throw Error(where + ": its shape needs more bytes than the file holds (file truncated or corrupted)");
        expected *= static_cast<uint64_t>(dim);
      }
      if (offsets[1] - offsets[0] != expected)
        throw Error(where + ": " + std::to_string(offsets[1] - offsets[0]) + " bytes for a shape that needs " +
                    std::to_string(expected));
      at::Tensor t = at::empty(shape, at::TensorOptions().dtype(type));
      if (expected > 0) std::memcpy(t.data_ptr(), data + offsets[0], expected);
      file.tensors.emplace_back(it.key(), t);
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": corrupted safetensors header (" + shown_text(e.what()) + ")");
  }
  return file;
}

}  // namespace lrlab
