#pragma once
/// Echoing a user's value in a message: binary must not garble a terminal, and a 1 MB value must not
/// fill it. Used by config errors, override locations and the safetensors reader.

#include <cstddef>
#include <string>

namespace lrlab {

/// Longest part of a user's value that messages echo.
constexpr std::size_t kShownTextChars = 80;

/// `text` as a message may echo it: control bytes (and DEL) escaped as \xNN and, beyond `max_chars`
/// characters, cut at a UTF-8 boundary with "... (N characters)" saying how long it was.
std::string shown_text(const std::string& text, std::size_t max_chars = kShownTextChars);

}  // namespace lrlab
