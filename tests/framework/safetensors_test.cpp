// The safetensors reader and writer: bit-for-bit round trips of every supported dtype and shape, and
// a clear lrlab::Error naming the path for every kind of corrupted file.
#include "framework/safetensors.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "framework/error.h"

namespace fs = std::filesystem;

namespace {

/// A fresh folder for this test process.
std::string temp_dir() {
  const fs::path dir = fs::temp_directory_path() / ("lrlab_safetensors_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir.string();
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

/// A file from a JSON header and raw data (header length prefixed as the format says).
std::string raw_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

bool same_bytes(const at::Tensor& a, const at::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  const at::Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.numel() * ca.element_size()) == 0;
}

}  // namespace

TEST_CASE("safetensors round-trips every dtype and shape bit for bit, in order, with metadata",
          "[safetensors]") {
  const std::string path = temp_dir() + "/round_trip.safetensors";
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  lrlab::TensorFile file;
  file.tensors = {
      {"z.f64", at::tensor({1.0 / 3.0, -0.0, nan, inf, -inf, 5e-324}, at::kDouble)},
      {"a.f32", at::randn({2, 3, 4}, at::kFloat)},
      {"m.i64", at::arange(-6, 6, at::kLong).view({3, 2, 2})},
      {"b.i32", at::tensor({-2147483647 - 1, 0, 2147483647}, at::kInt)},
      {"flags", at::tensor({1, 0, 1}, at::kInt).to(at::kBool).view({3, 1})},
      {"half", at::tensor({0.5, -2.0, 65504.0}, at::kDouble).to(at::kHalf)},
      {"scalar", at::scalar_tensor(2.5, at::kDouble)},
      {"empty", at::zeros({0, 3}, at::kFloat)},
      {"strided", at::arange(12, at::kDouble).view({3, 4}).transpose(0, 1)},  // non-contiguous input
  };
  file.metadata = {{"adapter.type", "lora"}, {"note", "quotes \" and\nnewlines"}};
  lrlab::write_safetensors(path, file);
  const lrlab::TensorFile back = lrlab::read_safetensors(path);
  CHECK(back.source == path);
  CHECK(back.metadata == file.metadata);
  REQUIRE(back.tensors.size() == file.tensors.size());
  for (size_t i = 0; i < file.tensors.size(); ++i) {
    INFO(file.tensors[i].first);
    CHECK(back.tensors[i].first == file.tensors[i].first);
    CHECK(same_bytes(back.tensors[i].second, file.tensors[i].second));
  }
  CHECK(back.has("m.i64"));
  CHECK_FALSE(back.has("nope"));
  CHECK_THROWS_WITH(back.get("nope"), Catch::Contains(path) && Catch::Contains("a.f32"));
  // The data starts 8-byte aligned after the header, as the reference implementation writes it.
  const std::string bytes = read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);
  fs::remove_all(fs::path(path).parent_path());
}

TEST_CASE("safetensors: corrupted files give an lrlab::Error naming the path", "[safetensors]") {
  const std::string dir = temp_dir();
  const std::string good = dir + "/good.safetensors";
  lrlab::TensorFile file;
  file.tensors = {{"w", at::arange(6, at::kDouble).view({2, 3})}};
  lrlab::write_safetensors(good, file);
  const std::string bytes = read_bytes(good);
  const std::string bad = dir + "/bad.safetensors";
  auto expect_error = [&](const std::string& content, const std::string& what) {
    write_bytes(bad, content);
    INFO(what);
    CHECK_THROWS_AS(lrlab::read_safetensors(bad), lrlab::Error);
    CHECK_THROWS_WITH(lrlab::read_safetensors(bad), Catch::Contains(bad) && Catch::Contains(what));
  };
  // Truncated: the data is cut short.
  expect_error(bytes.substr(0, bytes.size() - 5), "out of range");
  // Shorter than the 8-byte header length.
  expect_error(bytes.substr(0, 5), "shorter than");
  // Header length beyond the file.
  std::string long_header = bytes;
  const uint64_t huge = 1ULL << 40;
  std::memcpy(long_header.data(), &huge, 8);
  expect_error(long_header, "exceeds the file size");
  // Bad JSON.
  expect_error(raw_file("{\"w\": {\"dtype\": \"F64\", ", std::string(48, '\0')), "corrupted safetensors header");
  expect_error(raw_file("[1, 2]", ""), "not a JSON object");
  expect_error(raw_file(R"({"w": {"dtype": "F64", "shape": [2, 3]}})", std::string(48, '\0')),
               "corrupted safetensors header");
  // Wrong byte count for the shape.
  expect_error(raw_file(R"({"w": {"dtype": "F64", "shape": [2, 3], "data_offsets": [0, 40]}})", std::string(48, '\0')),
               "40 bytes for a shape that needs 48");
  // A shape far larger than the file (must not try to allocate it).
  expect_error(raw_file(R"({"w": {"dtype": "F64", "shape": [4294967296, 4294967296], "data_offsets": [0, 48]}})",
                        std::string(48, '\0')),
               "more bytes than the file holds");
  expect_error(raw_file(R"({"w": {"dtype": "F64", "shape": [-2, 3], "data_offsets": [0, 48]}})", std::string(48, '\0')),
               "negative dimension");
  expect_error(raw_file(R"({"w": {"dtype": "Q8", "shape": [2], "data_offsets": [0, 2]}})", std::string(2, '\0')),
               "unsupported dtype");
  expect_error(raw_file(R"({"__metadata__": {"a": 1}})", ""), "corrupted safetensors header");
  // A missing file.
  CHECK_THROWS_WITH(lrlab::read_safetensors(dir + "/missing.safetensors"),
                    Catch::Contains(dir + "/missing.safetensors") && Catch::Contains("cannot open"));
  fs::remove_all(dir);
}

TEST_CASE("safetensors: directories, FIFOs, devices and oversized files are refused before reading",
          "[safetensors][bounded_read]") {
  const std::string dir = temp_dir();
  CHECK_THROWS_WITH(lrlab::read_safetensors(dir),
                    Catch::Contains(dir) && Catch::Contains("is a directory, not a .safetensors file"));
  const std::string fifo = dir + "/pipe.safetensors";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(lrlab::read_safetensors(fifo), Catch::Contains("is a FIFO (named pipe)"));
  CHECK_THROWS_WITH(lrlab::read_safetensors("/dev/zero"), Catch::Contains("is a character device"));
  const std::string good = dir + "/good.safetensors";
  lrlab::TensorFile file;
  file.tensors = {{"w", at::arange(6, at::kDouble).view({2, 3})}};
  lrlab::write_safetensors(good, file);
  const auto size = fs::file_size(good);
  CHECK(lrlab::read_safetensors(good, size).tensors.size() == 1);
  CHECK_THROWS_WITH(lrlab::read_safetensors(good, size - 1),
                    Catch::Contains("more than the limit of " + std::to_string(size - 1) + " bytes") &&
                        Catch::Contains("LRLAB_MAX_TENSOR_MB"));
  fs::remove_all(dir);
}

TEST_CASE("safetensors: a header length is printed as a number and binary headers are escaped",
          "[safetensors]") {
  const std::string dir = temp_dir();
  const std::string bad = dir + "/bad.safetensors";
  const auto no_control_bytes = [](const std::string& s) {
    for (char c : s)
      if (static_cast<unsigned char>(c) < 0x20 && c != '\n') return false;
    return true;
  };
  // A header length above the format's 100 MB limit, in a (sparse) file large enough to hold it.
  {
    std::string head(8, '\0');
    const uint64_t n = 100'000'001;
    std::memcpy(head.data(), &n, 8);
    write_bytes(bad, head);
    fs::resize_file(bad, 100'000'100);
    CHECK_THROWS_WITH(lrlab::read_safetensors(bad, 200'000'000),
                      Catch::Contains("header length 100000001 bytes, more than the format's limit of 100 MB"));
  }
  // Binary where the JSON header should be: the parser's quote of it is escaped.
  std::string binary;
  for (int i = 1; i < 40; ++i) binary += static_cast<char>(i * 37 % 256);
  const auto message_of = [&](const std::string& content) {
    write_bytes(bad, content);
    try {
      lrlab::read_safetensors(bad);
    } catch (const lrlab::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string message = message_of(raw_file(binary, ""));
  CHECK_THAT(message, Catch::Contains("corrupted safetensors header"));
  CHECK(no_control_bytes(message));
  // Eight bytes of text read as a length are a number in the message, not the bytes themselves.
  message = message_of("\x01\x02\x03\x04\x05\x06\x07\x08rest");
  CHECK_THAT(message, Catch::Contains("header length 578437695752307201 exceeds the file size 12"));
  CHECK(no_control_bytes(message));
  fs::remove_all(dir);
}
