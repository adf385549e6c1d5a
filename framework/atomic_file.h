#pragma once
/// Crash-safe file writes: a reader (or a resumed study) sees either the old file or the new one,
/// never a half-written one.
///
/// How: the text goes to a temporary file in the same folder (so the rename cannot cross file
/// systems), which is flushed to disk with fsync and then renamed over the target; the folder is
/// fsynced afterwards so the rename itself survives a power cut.

#include <string>
#include <vector>

namespace lrlab {

/// Replaces (or creates) `path` with `text` atomically. Throws lrlab::Error naming the path and the
/// system's reason (no such folder, permission denied, no space left on device, ...); the temporary
/// file is removed on failure and the old file is left untouched.
void write_file_atomic(const std::string& path, const std::string& text);

/// Appends CSV `rows` to `path` atomically (rewrites the file through write_file_atomic, so a crash
/// never leaves a partial row). Creates the file with `header` when it is absent or empty. Throws
/// lrlab::Error when the existing header differs from `header` (both are quoted) or when a row's
/// length differs from the header's.
void append_csv_rows_atomic(const std::string& path, const std::vector<std::string>& header,
                            const std::vector<std::vector<std::string>>& rows);

/// Appends CSV `rows` to `path` in place with one write(2) on an O_APPEND descriptor (then fsync), so
/// readers (`tail -f`) see them at once and the cost does not grow with the file. A crash mid-write
/// can leave at most a truncated last line (repair it before appending again). Creates the file with
/// `header` when it is absent or empty (never its folder); checks the header and row lengths like
/// append_csv_rows_atomic. Callers serialise appends to one file.
void append_csv_rows(const std::string& path, const std::vector<std::string>& header,
                     const std::vector<std::vector<std::string>>& rows);
/// Reads a whole file as text; throws lrlab::Error naming the path and reason.
std::string read_file_text(const std::string& path);

}  // namespace lrlab
