// framework/bounded_read.h: only regular files under a limit are read; a FIFO never blocks, /dev/zero
// and directories are refused before any byte is read, a file is never read past its limit, and the
// interruption flag stops a read.

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <string>

#include "framework/bounded_read.h"
#include "framework/interrupt.h"
#include "tests/support/temp_dir.h"

using Catch::Matchers::Contains;
using lrlab::read_bounded_file;

namespace {

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

/// The message of the FileReadError `read` throws ("" when it throws none).
template <class F>
std::string failure(F read) {
  try {
    read();
  } catch (const lrlab::FileReadError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("read_bounded_file reads a regular file under its limit, exactly", "[bounded_read]") {
  lrlab::testing::TempDir dir;
  const std::string path = dir.path + "/a.yaml";
  std::string text(3'000'000, 'x');  // spans several read chunks
  text[1'234'567] = '\0';
  write_file(path, text);
  CHECK(read_bounded_file(path, 3'000'000, "configuration file", "") == text);
  write_file(path, "");
  CHECK(read_bounded_file(path, 10, "configuration file", "").empty());
}

TEST_CASE("read_bounded_file refuses directories, FIFOs, devices and missing files by name", "[bounded_read]") {
  lrlab::testing::TempDir dir;
  CHECK_THAT(failure([&] { read_bounded_file(dir.path, 1000, ".safetensors file", ""); }),
             Contains("is a directory, not a .safetensors file"));
  const std::string fifo = dir.path + "/pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // No writer ever opens the FIFO: a blocking open or read would hang here.
  const auto start = std::chrono::steady_clock::now();
  CHECK_THAT(failure([&] { read_bounded_file(fifo, 1000, "configuration file", ""); }),
             Contains("is a FIFO (named pipe), not a configuration file"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK_THAT(failure([&] { read_bounded_file("/dev/zero", 1000, "configuration file", ""); }),
             Contains("is a character device, not a configuration file"));
  CHECK_THAT(failure([&] { read_bounded_file(dir.path + "/missing", 1000, "configuration file", ""); }),
             Contains("cannot read configuration file: cannot open it (No such file"));
}

TEST_CASE("read_bounded_file refuses a file over its limit before reading it", "[bounded_read]") {
  lrlab::testing::TempDir dir;
  const std::string path = dir.path + "/big.yaml";
  write_file(path, std::string(20'001, 'x'));
  const std::string message =
      failure([&] { read_bounded_file(path, 20'000, "configuration file", "set LRLAB_MAX_CONFIG_MB to raise it"); });
  CHECK_THAT(message, Contains("is 20001 bytes, more than the limit of 20000 bytes for a configuration file"));
  CHECK_THAT(message, Contains("LRLAB_MAX_CONFIG_MB"));
  CHECK(read_bounded_file(path, 20'001, "configuration file", "").size() == 20'001);
}

TEST_CASE("the limits come from the documented defaults or the environment", "[bounded_read]") {
  ::unsetenv("LRLAB_MAX_CONFIG_MB");
  ::unsetenv("LRLAB_MAX_TENSOR_MB");
  CHECK(lrlab::config_file_limit() == 64'000'000);
  CHECK(lrlab::tensor_file_limit() == 1'000'000'000);
  CHECK(lrlab::tensor_file_limit(4'000) == 16'004'000);  // the expected tensors plus 16 MB of header
  ::setenv("LRLAB_MAX_CONFIG_MB", "2", 1);
  ::setenv("LRLAB_MAX_TENSOR_MB", "3", 1);
  CHECK(lrlab::config_file_limit() == 2'000'000);
  CHECK(lrlab::tensor_file_limit(4'000) == 3'000'000);
  ::setenv("LRLAB_MAX_CONFIG_MB", "lots", 1);
  CHECK_THROWS_WITH(lrlab::config_file_limit(), Contains("LRLAB_MAX_CONFIG_MB") && Contains("1..1000000"));
  ::setenv("LRLAB_MAX_CONFIG_MB", "0", 1);
  CHECK_THROWS_WITH(lrlab::config_file_limit(), Contains("LRLAB_MAX_CONFIG_MB"));
  ::unsetenv("LRLAB_MAX_CONFIG_MB");
  ::unsetenv("LRLAB_MAX_TENSOR_MB");
}

TEST_CASE("an interruption stops read_bounded_file between chunks", "[bounded_read]") {
  lrlab::testing::TempDir dir;
  const std::string path = dir.path + "/a.yaml";
  write_file(path, std::string(3'000'000, 'x'));
  lrlab::install_interrupt_handlers();
  ::raise(SIGINT);  // the handler only sets the flag (and prints one line)
  CHECK(lrlab::interrupted());
  CHECK_THROWS_AS(read_bounded_file(path, 4'000'000, "configuration file", ""), lrlab::Interrupted);
  lrlab::reset_interrupted();
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  CHECK(read_bounded_file(path, 4'000'000, "configuration file", "").size() == 3'000'000);
}
