#include "framework/shown_text.h"

#include <algorithm>

namespace lrlab {

std::string shown_text(const std::string& text, std::size_t max_chars) {
  std::string out;
  std::size_t n = std::min(text.size(), max_chars);
  // Do not cut a UTF-8 sequence in half.
  while (n < text.size() && n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (n < text.size()) out += "... (" + std::to_string(text.size()) + " characters)";
  return out;
}

}  // namespace lrlab
