#pragma once
/// Strict, located access to YAML configuration (a wrapper over yaml-cpp).
///
/// Why a wrapper: yaml-cpp's non-const operator[] inserts the key it looks up, its conversion errors
/// name no key, and its marks count lines from 0. Every error raised here reads
/// `file:line:col: key.path: message` (1-based line and column; values that came from a command-line
/// override read `<override key.path=value>: key.path: message`).
///
/// A Config is a view on one mapping of a loaded document. Components read their options through it
/// with defaults; every read is recorded, so that
///  - `finish()` can reject keys that nobody read (strict keys: "unknown key 'lr_rate'; valid keys:
///    lr, steps, ...; did you mean 'lr'?"), and
///  - `resolved_yaml()` returns the document with every default filled in (written with the results).
///
/// Stacking: a Config may view the same path in R documents at once (one per replica of a group, see
/// `Config::stack`). `get` then requires the R values to agree (a shape such as `base.d` must), while
/// `get_each` returns one value per replica (a hyperparameter such as `trainer.lr` may differ).
/// A Config made from one document behaves as R = 1.
///
/// Copies of a Config share the underlying documents and the access record.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lrlab {

namespace config_detail {
struct Node;
}  // namespace config_detail

/// One value of a loaded document, read-only: a scalar, a list, a mapping or null, with the place it
/// was written. Copies share the value. Config::set_value copies it into another config keeping that
/// place, so an error about the copy points where the value was written (e.g. at the element of a
/// study's sweep list), and no YAML text is written and parsed back on the way.
class ConfigValue {
 public:
  /// A null value with no location.
  ConfigValue();
  /// True for null (also an absent key).
  bool is_null() const;
  /// True for a scalar (number, word, string).
  bool is_scalar() const;
  /// True for a list.
  bool is_sequence() const;
  /// True for a mapping.
  bool is_map() const;
  /// The text of a scalar as written ("" for other values).
  const std::string& scalar() const;
  /// The number of items of a list or entries of a mapping (0 otherwise).
  std::size_t size() const;
  /// Item `i` of a list (throws lrlab::Error when out of range).
  ConfigValue item(std::size_t i) const;
  /// The keys of a mapping, in document order (empty otherwise).
  std::vector<std::string> keys() const;
  /// True when this is a mapping with `key`.
  bool has(const std::string& key) const;
  /// The value of `key` in a mapping (null when absent or when this is not a mapping).
  ConfigValue at(const std::string& key) const;
  /// Canonical one-line YAML text, as Config::value_text gives it.
  std::string text() const;
  /// Where it was written: `file:line:col` (or the source alone).
  std::string location() const;

 private:
  friend class Config;
  explicit ConfigValue(std::shared_ptr<const config_detail::Node> node);
  std::shared_ptr<const config_detail::Node> node_;
};

class Config {
 public:
  /// Loads a YAML file whose top level must be a mapping. Throws ConfigError for a missing or
  /// unreadable file, malformed YAML (with its line and column), an empty file or a non-mapping root.
  static Config load_file(const std::string& path);
  /// Loads YAML text; `source_name` plays the role of the file name in messages.
  static Config load_string(const std::string& text, const std::string& source_name = "<string>");
  /// Stacks equal-shaped documents (one per replica) into one view; all must be roots.
  static Config stack(const std::vector<Config>& replicas);

  /// Applies one command-line override to the document(s) this root views:
  /// `key.path=value` replaces an existing key (error naming the closest existing key if absent);
  /// `+key.path=value` adds a key (error if it already exists). `value` is parsed as YAML
  /// (`[1,2]`, `{a: 1}`, `true`, `0.5`, `relu`). Malformed assignments raise ConfigError.
  void apply_override(const std::string& assignment);
  /// Applies overrides in order.
  void apply_overrides(const std::vector<std::string>& assignments);

  /// Name of the source (file path) of replica 0's document.
  const std::string& source() const;
  /// Dotted path of this view from the root ("" for the root, "base.activation", ...).
  const std::string& path() const;
  /// Number of stacked documents (replicas) this view spans; 1 for a plain document.
  int replicas() const;
  /// The view on replica `i` alone (same access record).
  Config replica(int i) const;

  /// True when `key` is present (in replica 0); does not count as a read.
  bool has(const std::string& key) const;
  /// Keys present in this mapping (replica 0), in document order; does not count as reads.
  std::vector<std::string> keys() const;
  /// True when this view is an empty mapping or absent.
  bool empty() const;

  /// Reads `key`, or records and returns `fallback` when absent. Throws ConfigError naming the key
  /// if the value has the wrong type, or if stacked replicas disagree.
  /// T in {bool, int, int64_t, double, std::string, std::vector<double>, std::vector<int>,
  ///       std::vector<std::string>}.
  template <class T>
  T get(const std::string& key, const T& fallback) const;
  /// Reads a required `key`; a missing key is a ConfigError naming it.
  template <class T>
  T get(const std::string& key) const;
  /// Reads `key` once per stacked replica (defaults to `fallback` where absent).
  template <class T>
  std::vector<T> get_each(const std::string& key, const T& fallback) const;
  /// Reads a string `key` that must be one of `choices` (error lists them and the closest match).
  std::string get_choice(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& choices) const;

  /// The sub-mapping at `key` (a view; an absent key gives an empty view whose reads record defaults
  /// under `path.key`). A present non-mapping value is a ConfigError.
  Config child(const std::string& key) const;
  /// True when the value at `key` is a mapping.
  bool is_map(const std::string& key) const;
  /// True when the value at `key` is a sequence.
  bool is_sequence(const std::string& key) const;

  /// Throws ConfigError located at `key` (or at this mapping when `key` is empty or absent).
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  /// Strict keys: throws ConfigError for the first key of this mapping that was never read, listing
  /// the valid (read) keys and the closest match. Call after a component has read its options.
  void finish() const;
  /// Like finish(), for this mapping and every sub-mapping below it that was read.
  void finish_recursive() const;

  /// The root document (replica 0) with every recorded default filled in, as YAML text.
  std::string resolved_yaml() const;
  /// The root document (replica 0) with every recorded default filled in, as a new root config
  /// (a copy, with a fresh access record); defaults carry no location of their own.
  Config resolved() const;
  /// The root document (replica 0) as YAML text exactly as loaded plus overrides (no defaults).
  std::string document_yaml() const;
  /// The overrides applied so far, in order.
  const std::vector<std::string>& overrides() const;

  /// Returns a deep copy of this root with a fresh access record (used to derive per-run configs).
  Config clone() const;
  /// Sets `key.path` (dotted, relative to this root) to a YAML-parsed value, creating maps as needed.
  /// For programmatic use (sweeps, seeds); values keep the location of the key they replace.
  void set(const std::string& dotted_key, const std::string& yaml_value);
  /// Sets `key.path` (dotted, relative to this root) to a copy of `value`, creating maps as needed.
  /// The copy keeps the locations `value` was written at (a value without one, e.g. a recorded
  /// default, takes the location of the key it replaces, as with set()). For programmatic use
  /// (sweeps, seeds): nothing is written as YAML text and parsed back.
  void set_value(const std::string& dotted_key, const ConfigValue& value);
  /// The value of `key` in this mapping (replica 0), or this mapping itself when `key` is empty;
  /// null when absent. Not a read.
  ConfigValue value(const std::string& key = "") const;
  /// Removes `key.path` if present.
  void erase(const std::string& dotted_key);
  /// The value at `dotted_key` as canonical one-line YAML text ("" when absent or when `dotted_key` is
  /// not a key path, e.g. "a..b"); not a read.
  std::string value_text(const std::string& dotted_key) const;

  struct Impl;

 private:
  Config(std::shared_ptr<Impl> impl, std::string path);
  std::shared_ptr<Impl> impl_;
  std::string path_;
};

/// Levenshtein distance, used for "did you mean" suggestions.
int edit_distance(const std::string& a, const std::string& b);
/// The candidate closest to `word` (empty when none is reasonably close).
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace lrlab
