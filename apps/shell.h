#pragma once
/// Shell quoting for the command lines lrlab prints (resume commands) and writes (sbatch scripts).

#include <string>

namespace lrlab {

/// One argument as a POSIX shell reads it back: bare when it holds only safe characters, else in
/// single quotes (a quote inside becomes '\'').
std::string shell_quote(const std::string& arg);

}  // namespace lrlab
