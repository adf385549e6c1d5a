#include "bench/python_reference.h"

#include <array>
#include <cstdio>
#include <sstream>

namespace lrlab::bench {

PythonResult run_python_reference(const std::string& python, const std::string& script, int64_t d, int64_t k,
                                  int64_t batch, const std::string& dtype, int threads, int64_t steps) {
  PythonResult out;
  std::ostringstream cmd;
  cmd << "'" << python << "' '" << script << "' --d " << d << " --k " << k << " --batch " << batch << " --dtype "
      << dtype << " --threads " << threads << " --steps " << steps << " --warmup " << std::max<int64_t>(20, steps / 10)
      << " 2>&1";
  FILE* pipe = popen(cmd.str().c_str(), "r");
  if (!pipe) {
    out.error = "cannot start: " + cmd.str();
    return out;
  }
  std::string text;
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), static_cast<int>(buf.size()), pipe)) text += buf.data();
  const int status = pclose(pipe);
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    try {
      out.line = nlohmann::json::parse(line);
      out.us_per_step = out.line.at("us_per_step").get<double>();
      out.ok = status == 0;
    } catch (const std::exception& e) {
      out.error = std::string("bad JSON line: ") + e.what();
    }
  }
  if (!out.ok && out.error.empty())
    out.error = "exit status " + std::to_string(status) + ": " + text.substr(text.size() > 400 ? text.size() - 400 : 0);
  return out;
}

}  // namespace lrlab::bench
