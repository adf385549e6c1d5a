#pragma once
/// Validators for command-line numbers whose messages a user can act on. CLI11's own checks print
/// their bounds as doubles ("Value 0 not in range 0.000000 to 1797693134862315708145...", 309
/// digits); these print "must be a whole number in 1..1024, got '0'".

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace lrlab {

/// Accepts whole numbers in lo..hi (written without a fraction or exponent).
CLI::Validator int_in_range(int64_t lo, int64_t hi);

/// Accepts finite numbers > 0 (tolerances, steps: 0, negatives, nan and inf are refused).
CLI::Validator finite_positive();

/// Accepts finite numbers >= 0.
CLI::Validator finite_non_negative();

/// "unknown command 'rn'; the commands are run, validate, ...; did you mean 'run'?" for a first
/// argument that is not one of `commands` (and not an option); empty when it is one.
std::string unknown_command_message(const std::string& word, const std::vector<std::string>& commands);

}  // namespace lrlab
