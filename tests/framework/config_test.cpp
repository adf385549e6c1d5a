// Tests of framework/config: located errors, strict keys, defaults, overrides, stacking, robustness.

#include "framework/config.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "framework/error.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using lrlab::Config;
using lrlab::ConfigError;
using lrlab::ConfigValue;

namespace {

/// The message of the ConfigError that `f` throws; fails the test for no error or another type.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected lrlab::ConfigError, got another exception: " << e.what());
  }
  FAIL("expected lrlab::ConfigError, nothing was thrown");
  return "";
}

/// Writes `text` to a fresh file under /tmp (removed at exit) and returns its path.
std::string write_temp(const std::string& text) {
  struct TempFiles {
    std::vector<std::string> paths;
    ~TempFiles() {
      for (const std::string& p : paths) std::remove(p.c_str());
    }
  };
  static TempFiles files;
  std::string path = "/tmp/lrlab_config_test_" + std::to_string(::getpid()) + "_" +
                     std::to_string(files.paths.size()) + ".yaml";
  std::ofstream out(path, std::ios::binary);
  out << text;
  files.paths.push_back(path);
  return path;
}

const char* kTrainer =
    "trainer:\n"                // 1
    "  lr: 0.1\n"               // 2
    "  steps: 100\n"            // 3
    "seed: 3\n";                // 4

}  // namespace

TEST_CASE("load_file reports whole-file problems with the file name", "[config]") {
  SECTION("missing file") {
    std::string msg = error_of([] { Config::load_file("/nonexistent/dir/run.yaml"); });
    CHECK_THAT(msg, StartsWith("/nonexistent/dir/run.yaml: "));
    CHECK_THAT(msg, Contains("cannot read configuration file"));
  }
  SECTION("directory") {
    std::string msg = error_of([] { Config::load_file("/tmp"); });
    CHECK_THAT(msg, StartsWith("/tmp: "));
    CHECK_THAT(msg, Contains("directory"));
  }
  SECTION("empty file and comment-only file") {
    std::string empty = write_temp("");
    CHECK(error_of([&] { Config::load_file(empty); }) == empty + ": empty configuration");
    std::string comments = write_temp("# nothing here\n\n");
    CHECK(error_of([&] { Config::load_file(comments); }) == comments + ": empty configuration");
  }
  SECTION("malformed YAML is located at the line and column of the problem") {
    std::string path = write_temp("a: 1\nb: [1, 2\nc: 3\n");
    std::string msg = error_of([&] { Config::load_file(path); });
    CHECK_THAT(msg, StartsWith(path + ":"));
    CHECK_THAT(msg, Contains("malformed YAML"));
    std::string bad_indent = write_temp("a:\n  b: 1\n c: 2\n");
    CHECK_THAT(error_of([&] { Config::load_file(bad_indent); }), StartsWith(bad_indent + ":3:"));
  }
  SECTION("root must be a mapping") {
    CHECK(error_of([] { Config::load_string("- 1\n- 2\n", "list.yaml"); }) ==
          "list.yaml:1:1: the top level must be a mapping of options (key: value), got a list");
    CHECK_THAT(error_of([] { Config::load_string("just words", "w.yaml"); }),
               StartsWith("w.yaml:1:1: the top level must be a mapping"));
  }
  SECTION("a file loads and remembers its source") {
    std::string path = write_temp(kTrainer);
    Config cfg = Config::load_file(path);
    CHECK(cfg.source() == path);
    CHECK(cfg.path().empty());
    CHECK(cfg.replicas() == 1);
    CHECK(cfg.child("trainer").get<double>("lr") == Approx(0.1));
    CHECK(cfg.child("trainer").path() == "trainer");
  }
  SECTION("a trailing document marker is harmless") {
    CHECK(Config::load_string("a: 1\n---\n", "x.yaml").get<int>("a") == 1);
    CHECK(Config::load_string("---\na: 1\n...\n", "x.yaml").get<int>("a") == 1);
  }
  SECTION("more than one document") {
    CHECK_THAT(error_of([] { Config::load_string("a: 1\n---\nb: 2\n", "m.yaml"); }),
               StartsWith("m.yaml:3:1: more than one YAML document"));
  }
}

TEST_CASE("typed reads convert and report located type errors", "[config]") {
  const std::string text =
      "trainer:\n"                     // 1
      "  lr: abc\n"                    // 2  value at col 7
      "  steps: 1.5\n"                 // 3  col 10
      "  big: 3000000000\n"            // 4  col 8
      "  huge: 1e999\n"                // 5  col 9
      "  flag: yes\n"                  // 6  col 9
      "  name: \"5\"\n"                // 7  col 9
      "  list: [1, x, 3]\n"            // 8  x at col 13
      "  inf: .inf\n"                  // 9
      "  ninf: -.inf\n"                // 10
      "  nan: .nan\n"                  // 11
      "  i64: 9007199254740993\n"      // 12
      "  e6: 1e6\n"                    // 13
      "  on: true\n"                   // 14
      "  off: False\n"                 // 15
      "  words: [a, 'b', \"1\"]\n"     // 16
      "  ints: [1, 2, 0x10]\n"         // 17
      "  empty:\n"                     // 18 (an empty value is located at its key)
      "  neg: -2147483648\n"           // 19
      "  small: 1e-999\n";             // 20
  Config cfg = Config::load_string(text, "t.yaml");
  Config tr = cfg.child("trainer");

  CHECK(error_of([&] { tr.get<double>("lr", 0.1); }) == "t.yaml:2:7: trainer.lr: expected a number, got 'abc'");
  CHECK(error_of([&] { tr.get<int>("steps", 1); }) == "t.yaml:3:10: trainer.steps: expected an integer, got '1.5'");
  CHECK(error_of([&] { tr.get<int>("big"); }) ==
        "t.yaml:4:8: trainer.big: expected an integer between -2147483648 and 2147483647, got '3000000000'");
  CHECK(tr.get<std::int64_t>("big") == 3000000000LL);
  CHECK(tr.get<double>("big") == 3e9);
  CHECK_THAT(error_of([&] { tr.get<int>("huge"); }), StartsWith("t.yaml:5:9: trainer.huge: expected an integer"));
  CHECK_THAT(error_of([&] { tr.get<std::int64_t>("huge"); }), StartsWith("t.yaml:5:9: trainer.huge: "));
  CHECK(std::isinf(tr.get<double>("huge")));
  CHECK(tr.get<double>("small") == 0.0);
  CHECK(error_of([&] { tr.get<bool>("flag"); }) == "t.yaml:6:9: trainer.flag: expected true or false, got 'yes'");
  CHECK(tr.get<bool>("on") == true);
  CHECK(tr.get<bool>("off", true) == false);
  CHECK(error_of([&] { tr.get<int>("name"); }) ==
        "t.yaml:7:9: trainer.name: expected an integer, got the quoted string '5'");
  CHECK(tr.get<std::string>("name") == "5");
  CHECK(error_of([&] { tr.get<std::vector<double>>("list"); }) ==
        "t.yaml:8:13: trainer.list[1]: expected a number, got 'x'");
  CHECK(error_of([&] { tr.get<std::string>("list"); }) == "t.yaml:8:9: trainer.list: expected a string, got a list");
  CHECK(error_of([&] { tr.get<std::vector<int>>("lr"); }) ==
        "t.yaml:2:7: trainer.lr: expected a list of integers, got 'abc'");
  CHECK(tr.get<double>("inf") == std::numeric_limits<double>::infinity());
  CHECK(tr.get<double>("ninf") == -std::numeric_limits<double>::infinity());
  CHECK(std::isnan(tr.get<double>("nan")));
  CHECK(tr.get<std::int64_t>("i64") == 9007199254740993LL);
  CHECK(tr.get<int>("e6") == 1000000);
  CHECK(tr.get<std::vector<std::string>>("words") == std::vector<std::string>{"a", "b", "1"});
  CHECK(tr.get<std::vector<int>>("ints") == std::vector<int>{1, 2, 16});
  CHECK(tr.get<std::vector<double>>("ints") == std::vector<double>{1, 2, 16});
  CHECK(error_of([&] { tr.get<double>("empty", 1.0); }) == "t.yaml:18:3: trainer.empty: expected a number, got null");
  CHECK(tr.get<int>("neg") == -2147483648LL);
  CHECK(tr.get<double>("absent", 0.25) == 0.25);
  CHECK(tr.get<std::vector<int>>("absent_list", {4, 5}) == std::vector<int>{4, 5});
}

TEST_CASE("required keys and sections report the mapping they are missing from", "[config]") {
  Config cfg = Config::load_string(kTrainer, "t.yaml");
  CHECK(error_of([&] { cfg.child("trainer").get<double>("momentum"); }) ==
        "t.yaml:2:3: trainer.momentum: required key is missing");
  CHECK(error_of([&] { cfg.get<std::string>("name"); }) == "t.yaml:1:1: name: required key is missing");
  // An absent section points at the nearest mapping that exists, but names the full path.
  CHECK(error_of([&] { cfg.child("model").child("base").get<int>("d"); }) ==
        "t.yaml:1:1: model.base.d: required key is missing");
  CHECK(error_of([&] { cfg.child("seed"); }) == "t.yaml:4:7: seed: expected a mapping of options, got '3'");
  CHECK(error_of([&] { cfg.child("trainer").fail("lr", "must be positive"); }) ==
        "t.yaml:2:7: trainer.lr: must be positive");
  CHECK(error_of([&] { cfg.child("trainer").fail("warmup", "needs steps > 10"); }) ==
        "t.yaml:2:3: trainer.warmup: needs steps > 10");
  CHECK(error_of([&] { cfg.child("trainer").fail("", "is inconsistent"); }) == "t.yaml:2:3: trainer: is inconsistent");
}

TEST_CASE("views answer structural questions without counting reads", "[config]") {
  Config cfg = Config::load_string("a: 1\nb: [1, 2]\nc: {x: 1}\nd:\n", "s.yaml");
  CHECK(cfg.keys() == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(cfg.has("a"));
  CHECK_FALSE(cfg.has("z"));
  CHECK(cfg.is_sequence("b"));
  CHECK(cfg.is_map("c"));
  CHECK_FALSE(cfg.is_map("a"));
  CHECK_FALSE(cfg.is_map("z"));
  CHECK_FALSE(cfg.empty());
  CHECK(cfg.child("d").empty());      // null section
  CHECK(cfg.child("zzz").empty());    // absent section
  CHECK_FALSE(cfg.child("c").empty());
  // None of the above read a, b: strict keys still reject them.
  CHECK_THAT(error_of([&] { cfg.finish(); }), StartsWith("s.yaml:1:1: a: unknown key 'a'"));
}

TEST_CASE("strict keys reject keys nobody read, with the valid keys and a suggestion", "[config]") {
  const std::string text =
      "trainer:\n"
      "  lr: 0.1\n"
      "  lr_rate: 0.2\n"
      "  stepz: 10\n"
      "seed: 1\n";
  Config cfg = Config::load_string(text, "t.yaml");
  Config tr = cfg.child("trainer");
  tr.get<double>("lr", 0.5);
  tr.get<int>("steps", 100);
  CHECK(error_of([&] { tr.finish(); }) ==
        "t.yaml:3:3: trainer.lr_rate: unknown key 'lr_rate' (valid keys: lr, steps); did you mean 'lr'?");
  // child("trainer") counted as a read of 'trainer' at the top level; 'seed' was never read.
  CHECK(error_of([&] { cfg.finish(); }) == "t.yaml:5:1: seed: unknown key 'seed' (valid keys: trainer)");
  // finish_recursive() reports the first unknown key in document order, inside trainer.
  CHECK_THAT(error_of([&] { cfg.finish_recursive(); }), StartsWith("t.yaml:3:3: trainer.lr_rate: unknown key"));
  cfg.get<int>("seed", 0);
  CHECK_NOTHROW(cfg.finish());
  tr.get<double>("lr_rate", 0.0);
  CHECK(error_of([&] { cfg.finish_recursive(); }) ==
        "t.yaml:4:3: trainer.stepz: unknown key 'stepz' (valid keys: lr, steps, lr_rate); did you mean 'steps'?");
  tr.get<int>("stepz", 0);
  CHECK_NOTHROW(cfg.finish_recursive());

  SECTION("keys() then get() marks every key read") {
    Config sweep = Config::load_string("sweep:\n  a: 1\n  b: 2\n", "s.yaml");
    Config s = sweep.child("sweep");
    for (const std::string& k : s.keys()) s.get<std::string>(k);
    CHECK_NOTHROW(sweep.finish_recursive());
  }
  SECTION("finish_recursive checks a section reached through child() even if nothing inside was read") {
    Config c = Config::load_string("opaque:\n  anything: 1\nnested:\n  x: 1\n", "o.yaml");
    CHECK(c.value_text("opaque") == "{anything: 1}");  // not a read
    c.get<int>("nested_count", 0);
    CHECK(error_of([&] { c.finish_recursive(); }) ==
          "o.yaml:1:1: opaque: unknown key 'opaque' (valid keys: nested_count)");
    c.child("opaque").get<int>("anything");
    c.child("nested");
    CHECK(error_of([&] { c.finish_recursive(); }) == "o.yaml:4:3: nested.x: unknown key 'x' (no keys are valid here)");
    CHECK_NOTHROW(c.finish());
  }
  SECTION("a key with no read at all") {
    Config c = Config::load_string("x: 1\n", "x.yaml");
    CHECK(error_of([&] { c.finish(); }) == "x.yaml:1:1: x: unknown key 'x' (no keys are valid here)");
  }
}

TEST_CASE("get_choice accepts listed words and suggests the closest", "[config]") {
  Config cfg = Config::load_string("act: reluu\nmode: fast\n", "c.yaml");
  CHECK(error_of([&] { cfg.get_choice("act", "relu", {"relu", "erf", "linear"}); }) ==
        "c.yaml:1:6: act: 'reluu' is not one of: relu, erf, linear; did you mean 'relu'?");
  CHECK(error_of([&] { cfg.get_choice("mode", "slow", {"slow", "exact"}); }) ==
        "c.yaml:2:7: mode: 'fast' is not one of: slow, exact");
  CHECK(cfg.get_choice("init", "gaussian", {"gaussian", "zero"}) == "gaussian");
  CHECK_THAT(cfg.resolved_yaml(), Contains("init: gaussian"));
}

TEST_CASE("defaults are recorded into the resolved document", "[config]") {
  Config cfg = Config::load_string("trainer:\n  lr: 0.5\nempty_section:\n", "d.yaml");
  CHECK(cfg.get<int>("seed", 7) == 7);
  Config tr = cfg.child("trainer");
  CHECK(tr.get<double>("lr", 0.1) == 0.5);
  CHECK(tr.get<int>("steps", 100) == 100);
  Config model = cfg.child("model");
  model.get<std::string>("activation", "relu");
  model.get<std::string>("name", "");
  model.get<std::string>("tag", "1e-3");
  model.get<double>("scale", 1.0);
  model.get<bool>("bias", false);
  model.child("base").get<std::vector<int>>("sizes", {64, 128});
  cfg.child("empty_section").get<int>("k", 2);
  cfg.child("unused_section");  // no defaults below: not written

  const std::string resolved = cfg.resolved_yaml();
  CHECK_THAT(resolved, Contains("seed: 7"));
  CHECK_THAT(resolved, Contains("  lr: 0.5\n  steps: 100"));
  CHECK_THAT(resolved, Contains("model:\n  activation: relu"));
  CHECK_THAT(resolved, Contains("name: \"\""));
  CHECK_THAT(resolved, Contains("tag: \"1e-3\""));
  CHECK_THAT(resolved, Contains("scale: 1.0"));
  CHECK_THAT(resolved, Contains("bias: false"));
  CHECK_THAT(resolved, !Contains("unused_section"));
  CHECK_THAT(cfg.document_yaml(), !Contains("seed"));
  CHECK_THAT(cfg.document_yaml(), !Contains("steps"));

  // The resolved text reads back with the same values and types.
  Config back = Config::load_string(resolved, "resolved.yaml");
  CHECK(back.get<int>("seed") == 7);
  CHECK(back.child("trainer").get<int>("steps") == 100);
  CHECK(back.child("model").get<std::string>("name") == "");
  CHECK(back.child("model").get<std::string>("tag") == "1e-3");
  CHECK(back.child("model").child("base").get<std::vector<int>>("sizes") == std::vector<int>{64, 128});
  CHECK(back.child("empty_section").get<int>("k") == 2);
  CHECK(back.child("model").get<double>("scale") == 1.0);
  // Defaults never changed the document itself.
  CHECK_FALSE(cfg.has("seed"));
}

TEST_CASE("command-line overrides replace, add and report mistakes", "[config]") {
  Config cfg = Config::load_string(kTrainer, "t.yaml");

  SECTION("replace an existing key") {
    cfg.apply_override("trainer.lr=0.2");
    CHECK(cfg.child("trainer").get<double>("lr") == 0.2);
    CHECK(cfg.overrides() == std::vector<std::string>{"trainer.lr=0.2"});
    CHECK_THAT(cfg.document_yaml(), Contains("lr: 0.2"));
  }
  SECTION("a bad value is located at the override") {
    cfg.apply_override("trainer.lr=abc");
    CHECK(error_of([&] { cfg.child("trainer").get<double>("lr"); }) ==
          "<override trainer.lr=abc>: trainer.lr: expected a number, got 'abc'");
  }
  SECTION("add keys and sections with '+'; values are YAML") {
    cfg.apply_overrides({"+trainer.momentum=0.9", "+study.sweep.base.d=[64,128]", "+model={act: erf, k: 2}"});
    CHECK(cfg.child("trainer").get<double>("momentum") == 0.9);
    Config base = cfg.child("study").child("sweep").child("base");
    CHECK(base.is_sequence("d"));
    CHECK(base.get<std::vector<int>>("d") == std::vector<int>{64, 128});
    CHECK(cfg.value_text("model") == "{act: erf, k: 2}");
    CHECK(cfg.overrides().size() == 3);
    CHECK(cfg.overrides()[1] == "+study.sweep.base.d=[64,128]");
  }
  SECTION("replace needs an existing key and names the closest") {
    CHECK(error_of([&] { cfg.apply_override("trainer.lrr=0.1"); }) ==
          "<override trainer.lrr=0.1>: trainer.lrr: unknown key 'lrr' in trainer (valid keys: lr, steps); "
          "did you mean 'lr'? (to add a new key, write '+trainer.lrr=0.1')");
    CHECK_THAT(error_of([&] { cfg.apply_override("trainr.lr=1"); }),
               StartsWith("<override trainr.lr=1>: trainr: unknown key 'trainr' (valid keys: trainer, seed); "
                          "did you mean 'trainer'?"));
    CHECK_THAT(error_of([&] { cfg.apply_override("seed.x=1"); }),
               Contains("seed: is '3', not a mapping, so it has no key 'x'"));
    CHECK(cfg.overrides().empty());
  }
  SECTION("add refuses an existing key") {
    CHECK_THAT(error_of([&] { cfg.apply_override("+trainer.lr=0.3"); }),
               StartsWith("<override trainer.lr=0.3>: trainer.lr: key 'lr' already exists"));
    CHECK_THAT(error_of([&] { cfg.apply_override("+seed.x=1"); }), Contains("not a mapping"));
    CHECK(cfg.child("trainer").get<double>("lr") == 0.1);
  }
  SECTION("malformed assignments mention the assignment") {
    CHECK_THAT(error_of([&] { cfg.apply_override("trainer.lr"); }), StartsWith("<override trainer.lr>: "));
    CHECK_THAT(error_of([&] { cfg.apply_override("trainer.lr"); }), Contains("'='"));
    CHECK_THAT(error_of([&] { cfg.apply_override("=5"); }), StartsWith("<override =5>: empty key"));
    CHECK_THAT(error_of([&] { cfg.apply_override("+=5"); }), StartsWith("<override +=5>: empty key"));
    CHECK_THAT(error_of([&] { cfg.apply_override("trainer..lr=5"); }),
               StartsWith("<override trainer..lr=5>: empty segment in key path 'trainer..lr'"));
    CHECK_THAT(error_of([&] { cfg.apply_override("trainer.lr=[1,2"); }),
               StartsWith("<override trainer.lr=[1,2>: trainer.lr: malformed YAML value '[1,2'"));
    CHECK_THAT(error_of([&] { cfg.apply_override("trainer.lr={a: 1, a: 2}"); }), Contains("duplicate key 'a'"));
    CHECK(cfg.overrides().empty());
    CHECK(cfg.child("trainer").get<double>("lr") == 0.1);
  }
  SECTION("a null section is an empty one: replacing inside it needs '+'") {
    Config c = Config::load_string("trainer:\nseed: 1\n", "n.yaml");
    CHECK(error_of([&] { c.apply_override("trainer.lr=0.1"); }) ==
          "<override trainer.lr=0.1>: trainer.lr: unknown key 'lr' in trainer (trainer is empty) "
          "(to add a new key, write '+trainer.lr=0.1')");
    c.apply_override("+trainer.lr=0.1");
    CHECK(c.value_text("trainer") == "{lr: 0.1}");
  }
  SECTION("an empty value is null, '=' inside a value is kept") {
    cfg.apply_override("trainer.lr=");
    CHECK(cfg.value_text("trainer.lr") == "null");
    cfg.apply_override("+name=a=b");
    CHECK(cfg.get<std::string>("name") == "a=b");
  }
}

TEST_CASE("stacked documents must agree on get() and may differ on get_each()", "[config]") {
  Config a = Config::load_string("base:\n  d: 64\ntrainer:\n  lr: 0.1\n", "a.yaml");
  Config b = Config::load_string("base:\n  d: 64\ntrainer:\n  lr: 0.2\n  steps: 5\n", "b.yaml");
  CHECK(a.replicas() == 1);
  Config s = Config::stack({a, b});
  CHECK(s.replicas() == 2);
  CHECK(s.source() == "a.yaml");
  CHECK(s.child("base").get<int>("d") == 64);
  Config tr = s.child("trainer");
  CHECK(error_of([&] { tr.get<double>("lr"); }) ==
        "b.yaml:4:7: trainer.lr: differs across stacked runs (0.1 vs 0.2) and cannot be stacked");
  CHECK(tr.get_each<double>("lr", 1.0) == std::vector<double>{0.1, 0.2});
  CHECK(tr.get_each<int>("steps", 10) == std::vector<int>{10, 5});
  CHECK(error_of([&] { tr.get<int>("steps", 10); }) ==
        "b.yaml:5:10: trainer.steps: differs across stacked runs (10 vs 5) and cannot be stacked");
  CHECK(error_of([&] { tr.get<int>("warmup"); }) == "a.yaml:4:3: trainer.warmup: required key is missing");
  CHECK(tr.get<int>("warmup", 3) == 3);
  CHECK(s.replica(1).child("trainer").get<double>("lr") == 0.2);
  CHECK(s.replica(0).source() == "a.yaml");
  CHECK(s.replica(1).source() == "b.yaml");
  CHECK_THAT(error_of([&] { s.replica(2); }), Contains("out of range"));

  // Strict keys span all replicas and share the record with replica views.
  CHECK_NOTHROW(s.child("base").finish());
  s.get<int>("seed", 0);
  CHECK_NOTHROW(s.finish_recursive());
  CHECK_NOTHROW(s.replica(1).finish_recursive());
  CHECK_THAT(s.replica(1).resolved_yaml(), Contains("warmup: 3"));
  CHECK_THAT(s.resolved_yaml(), Contains("lr: 0.1"));

  SECTION("overrides apply to every replica") {
    s.apply_override("trainer.lr=0.3");
    CHECK(s.child("trainer").get<double>("lr") == 0.3);
    CHECK(a.child("trainer").get<double>("lr") == 0.3);  // documents are shared, not copied
    CHECK(s.overrides() == std::vector<std::string>{"trainer.lr=0.3"});
    // A failing override changes none of them.
    CHECK_THAT(error_of([&] { s.apply_override("trainer.steps=1"); }), StartsWith("<override trainer.steps=1>"));
    CHECK_FALSE(a.child("trainer").has("steps"));
  }
  SECTION("an unknown key in one replica names that replica's file") {
    Config c = Config::load_string("base:\n  d: 64\n  dd: 1\n", "c.yaml");
    Config t = Config::stack({a, c});
    t.child("base").get<int>("d");
    CHECK_THAT(error_of([&] { t.child("base").finish(); }), StartsWith("c.yaml:3:3: base.dd: unknown key 'dd'"));
  }
  SECTION("stacking views or nothing is an error") {
    CHECK_THAT(error_of([&] { Config::stack({}); }), Contains("empty"));
    CHECK_THAT(error_of([&] { Config::stack({a.child("base")}); }), Contains("only root configurations"));
  }
}

TEST_CASE("clone, set, erase and value_text", "[config]") {
  Config cfg = Config::load_string("trainer:\n  lr: 0.1\nname: \"5\"\nlist: [1, 'a', {b: 2}]\n", "t.yaml");
  cfg.apply_override("trainer.lr=0.2");
  cfg.get<int>("seed", 1);

  Config copy = cfg.clone();
  copy.set("trainer.lr", "0.3");
  copy.set("sweep.seeds", "[1, 2, 3]");
  CHECK(cfg.value_text("trainer.lr") == "0.2");
  CHECK(copy.value_text("trainer.lr") == "0.3");
  CHECK(copy.value_text("sweep.seeds") == "[1, 2, 3]");
  CHECK(cfg.value_text("sweep") == "");
  CHECK(copy.overrides() == cfg.overrides());
  // Fresh record: the clone has read nothing and recorded no defaults.
  CHECK_THAT(copy.resolved_yaml(), !Contains("seed: 1"));
  CHECK_THAT(cfg.resolved_yaml(), Contains("seed: 1"));
  CHECK_THAT(error_of([&] { copy.finish(); }), StartsWith("t.yaml:1:1: trainer: unknown key 'trainer'"));

  // set() keeps the location of the value it replaces.
  copy.set("trainer.lr", "abc");
  CHECK(error_of([&] { copy.child("trainer").get<double>("lr"); }) ==
        "<override trainer.lr=0.2>: trainer.lr: expected a number, got 'abc'");
  copy.set("name", "xyz");
  CHECK(error_of([&] { copy.get<int>("name"); }) == "t.yaml:3:7: name: expected an integer, got 'xyz'");
  CHECK_THAT(error_of([&] { copy.set("name.x", "1"); }), Contains("name: is 'xyz', not a mapping"));
  CHECK_THAT(error_of([&] { copy.set("a..b", "1"); }), Contains("empty segment"));
  CHECK_THAT(error_of([&] { copy.set("z", "[1"); }), Contains("malformed YAML value"));

  CHECK(cfg.value_text("name") == "\"5\"");
  CHECK(cfg.value_text("list") == "[1, a, {b: 2}]");
  CHECK(cfg.value_text("trainer") == "{lr: 0.2}");
  CHECK(cfg.value_text("nothing.here") == "");
  CHECK(cfg.value_text("name.deeper") == "");

  copy.erase("trainer.lr");
  copy.erase("not.there");
  CHECK_FALSE(copy.child("trainer").has("lr"));
  CHECK(copy.value_text("trainer") == "{}");
  CHECK(cfg.value_text("trainer.lr") == "0.2");

  // set() relative to a view, on null sections.
  Config c2 = Config::load_string("model:\n", "m.yaml");
  c2.child("model").set("base.d", "8");
  CHECK(c2.value_text("model") == "{base: {d: 8}}");
}

TEST_CASE("ConfigValue views a value; set_value copies it keeping its location", "[config]") {
  const Config source = Config::load_string("grid:\n  d: [8, 16]\n  act: [{type: relu}, \"1e-3\"]\n", "s.yaml");
  const ConfigValue grid = source.value("grid");
  REQUIRE(grid.is_map());
  CHECK(grid.keys() == std::vector<std::string>{"d", "act"});
  CHECK(grid.has("d"));
  CHECK_FALSE(grid.has("k"));
  CHECK(grid.at("k").is_null());
  const ConfigValue d = grid.at("d");
  REQUIRE(d.is_sequence());
  CHECK(d.size() == 2);
  CHECK(d.item(1).is_scalar());
  CHECK(d.item(1).scalar() == "16");
  CHECK(d.item(1).location() == "s.yaml:2:10");
  CHECK(d.text() == "[8, 16]");
  CHECK(grid.at("act").item(0).text() == "{type: relu}");
  CHECK(grid.at("act").item(1).text() == "\"1e-3\"");  // a quoted string stays a string
  CHECK_THROWS_AS(d.item(2), lrlab::Error);
  CHECK(source.value().is_map());  // the mapping itself
  CHECK(source.value("absent").is_null());

  Config target = Config::load_string("base:\n  d: 4\n  k: 2\n", "t.yaml");
  target.set_value("base.d", d.item(1));
  target.set_value("base.act", grid.at("act").item(1));
  target.set_value("extra.act", grid.at("act").item(0));
  CHECK(target.child("base").get<int>("d") == 16);
  CHECK(target.child("base").get<std::string>("act") == "1e-3");
  CHECK_THAT(error_of([&] { target.child("base").get<double>("act"); }),
             StartsWith("s.yaml:3:23: base.act: expected a number, got the quoted string '1e-3'"));
  CHECK_THAT(error_of([&] { target.child("base").fail("d", "bad"); }), StartsWith("s.yaml:2:10: base.d: bad"));
  CHECK(target.child("extra").child("act").get<std::string>("type") == "relu");
  CHECK_THAT(error_of([&] { target.child("base").fail("k", "bad"); }), StartsWith("t.yaml:3:"));
  // The copy is independent of the source, and the source is unchanged.
  target.set_value("base.d", ConfigValue());
  CHECK(target.value_text("base.d") == "null");
  CHECK(source.value_text("grid.d") == "[8, 16]");
  CHECK_THAT(error_of([&] { target.set_value("base.k.x", d); }), Contains("base.k: is '2', not a mapping"));
}

TEST_CASE("resolved() is the document with defaults filled in, as a config", "[config]") {
  Config cfg = Config::load_string("trainer:\n  lr: 0.1\n", "r.yaml");
  cfg.child("trainer").get<int>("steps", 100);
  cfg.child("trainer").get<double>("lr", 1.0);
  const Config resolved = cfg.resolved();
  CHECK(resolved.value_text("trainer.steps") == "100");
  CHECK(resolved.value_text("trainer.lr") == "0.1");
  CHECK(resolved.document_yaml() == cfg.resolved_yaml());
  CHECK(cfg.value_text("trainer.steps") == "");  // the original is unchanged
  // A default copied with set_value takes the location of the key it replaces (it has none).
  Config other = Config::load_string("trainer:\n  steps: 5\n", "o.yaml");
  other.set_value("trainer.steps", resolved.child("trainer").value("steps"));
  CHECK(other.child("trainer").get<int>("steps") == 100);
  CHECK_THAT(error_of([&] { other.child("trainer").fail("steps", "x"); }), StartsWith("o.yaml:2:10: trainer.steps: x"));
}

TEST_CASE("anchors, aliases and merge keys", "[config]") {
  const std::string text =
      "base: &b {d: 64, k: 2}\n"
      "other: *b\n"
      "defaults: &t\n"
      "  lr: 0.1\n"
      "  steps: 10\n"
      "trainer:\n"
      "  <<: *t\n"
      "  lr: 0.5\n";
  Config cfg = Config::load_string(text, "a.yaml");
  CHECK(cfg.child("other").get<int>("d") == 64);
  Config tr = cfg.child("trainer");
  CHECK(tr.get<double>("lr") == 0.5);
  CHECK(tr.get<int>("steps") == 10);
  CHECK(tr.keys() == std::vector<std::string>{"steps", "lr"});
  // An alias is a copy: changing it leaves its anchor alone.
  cfg.apply_override("other.d=32");
  CHECK(cfg.child("other").get<int>("d") == 32);
  CHECK(cfg.child("base").get<int>("d") == 64);
  // Errors in aliased values point at the anchor.
  Config bad = Config::load_string("x: &v abc\ny: *v\n", "v.yaml");
  CHECK(error_of([&] { bad.get<double>("y"); }) == "v.yaml:1:4: y: expected a number, got 'abc'");

  CHECK_THAT(error_of([] { Config::load_string("a: &a [*a]\n", "r.yaml"); }), Contains("nested deeper than 64"));
  CHECK_THAT(error_of([] { Config::load_string("a: &a {x: *a}\n", "r.yaml"); }), Contains("nested deeper than 64"));
  CHECK_THAT(error_of([] { Config::load_string("a: &m {<<: *m}\n", "r.yaml"); }), Contains("nested deeper than 64"));
  CHECK_THAT(error_of([] { Config::load_string("a: *nowhere\n", "u.yaml"); }), StartsWith("u.yaml:1:"));
  // A quoted '<<' is an ordinary key, and stays one when written out.
  Config quoted = Config::load_string("a:\n  \"<<\": {x: 1}\n  '~': 2\n", "q.yaml");
  CHECK(quoted.child("a").keys() == std::vector<std::string>{"<<", "~"});
  CHECK(Config::load_string(quoted.document_yaml(), "q2.yaml").child("a").keys() == std::vector<std::string>{"<<", "~"});
  CHECK_THAT(error_of([] { Config::load_string("a:\n  <<: 5\n", "m.yaml"); }),
             StartsWith("m.yaml:2:7: a.<<: a merge key '<<' needs a mapping"));

  // "Billion laughs": a few lines that expand to 10^9 values.
  std::string laughs = "l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n";
  for (int i = 1; i <= 9; ++i) {
    laughs += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) laughs += std::string(j ? ", " : "") + "*l" + std::to_string(i - 1);
    laughs += "]\n";
  }
  CHECK_THAT(error_of([&] { Config::load_string(laughs, "laughs.yaml"); }), Contains("more than 200000 values"));
}

TEST_CASE("duplicate and non-scalar keys are errors", "[config]") {
  CHECK(error_of([] { Config::load_string("a: 1\nb: 2\na: 3\n", "d.yaml"); }) ==
        "d.yaml:3:1: a: duplicate key 'a' (first defined at d.yaml:1:1)");
  CHECK_THAT(error_of([] { Config::load_string("x:\n  ? [1, 2]\n  : 3\n", "k.yaml"); }),
             StartsWith("k.yaml:2:5: x: mapping keys must be plain words, got a list"));
}

TEST_CASE("deep nesting is bounded", "[config]") {
  auto nested_block = [](int depth) {
    std::string text;
    for (int i = 0; i < depth; ++i) text += std::string(2 * i, ' ') + "k" + std::to_string(i) + ":\n";
    text += std::string(2 * depth, ' ') + "leaf: 1\n";
    return text;
  };
  Config ok = Config::load_string(nested_block(40), "ok.yaml");
  Config view = ok;
  for (int i = 0; i < 40; ++i) view = view.child("k" + std::to_string(i));
  CHECK(view.get<int>("leaf") == 1);
  CHECK_THAT(ok.resolved_yaml(), Contains("leaf: 1"));
  CHECK_THAT(error_of([&] { Config::load_string(nested_block(100), "deep.yaml"); }),
             StartsWith("deep.yaml:66:"));
  CHECK_THAT(error_of([&] { Config::load_string(nested_block(100), "deep.yaml"); }), Contains("nested deeper than 64"));
  for (int depth : {100, 5000, 200000}) {
    std::string flow = "a: " + std::string(static_cast<std::size_t>(depth), '[') + std::string(static_cast<std::size_t>(depth), ']');
    std::string msg = error_of([&] { Config::load_string(flow, "flow.yaml"); });
    CHECK_THAT(msg, StartsWith("flow.yaml:"));
    CHECK_THAT(msg, Contains("nested"));
  }
  // Overrides and set() count the depth of the key path too.
  Config cfg = Config::load_string("a: 1\n", "o.yaml");
  std::string deep_value = std::string(70, '[') + std::string(70, ']');
  CHECK_THAT(error_of([&] { cfg.apply_override("a=" + deep_value); }), Contains("nested deeper than 64"));
}

TEST_CASE("garbage and binary input give ConfigError, never a crash", "[config]") {
  std::vector<std::string> inputs = {
      std::string("\x00\x01\x02\xff\xfe", 5),
      "{[}]:::",
      "a: [}\n",
      "a: 'unterminated\n",
      "\t\tkey: value\n",
      "%YAML 9.9\n---\na: 1\n",
      "!!binary aGVsbG8=\n",
      "a: !!int abc\n",
      "? \n: 1\n",
      ": 1\n",
      "a: b: c\n",
      "- a\nb: 1\n",
      "\xef\xbb\xbf" "a: 1\n",
      std::string(10000, '{'),
      std::string(10000, '-'),
      "a: " + std::string(100000, 'x') + "\n",
  };
  std::mt19937 rng(1234);
  for (int i = 0; i < 200; ++i) {
    std::string s(static_cast<std::size_t>(rng() % 200), '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xFF);
    inputs.push_back(s);
    // Structured noise hits more parser states than uniform bytes.
    const char* pieces[] = {"a", ":", " ", "\n", "[", "]", "{", "}", ",", "&x", "*x", "- ", "'", "\"", "? ", "#", "|", ">", "!!str ", "\t"};
    std::string t;
    for (int j = 0; j < 40; ++j) t += pieces[rng() % 20];
    inputs.push_back(t);
  }
  int loaded = 0, rejected = 0;
  for (const std::string& text : inputs) {
    try {
      Config cfg = Config::load_string(text, "garbage.yaml");
      ++loaded;
      // Whatever loaded must support the rest of the interface.
      for (const std::string& k : cfg.keys()) {
        (void)cfg.value_text(k);
        try {
          cfg.get<std::string>(k);
        } catch (const ConfigError&) {
        }
      }
      (void)cfg.resolved_yaml();
      (void)cfg.document_yaml();
    } catch (const ConfigError& e) {
      ++rejected;
      CHECK_THAT(std::string(e.what()), StartsWith("garbage.yaml"));
    } catch (const std::exception& e) {
      FAIL("non-ConfigError for garbage input: " << e.what());
    }
  }
  CHECK(rejected > 0);
  // Found by fuzzing: yaml-cpp 0.7's LoadAll loops (allocating without bound) on this text.
  CHECK(error_of([] { Config::load_string(",a&xa\t*x- &x\t>':\"]!!str  \t,>{\n\"[\t&x? {? '}}\n:a&x!!str - [|]", "g.yaml"); }) ==
        "g.yaml:1:1: malformed YAML: cannot parse the text here");
  CHECK(loaded + rejected == static_cast<int>(inputs.size()));
  // Control bytes in keys are escaped in messages.
  Config cfg = Config::load_string("\"a\\x01b\": 1\n", "ctl.yaml");
  CHECK_THAT(error_of([&] { cfg.finish(); }), Contains("unknown key 'a\\x01b'"));
}

TEST_CASE("edit distance and closest match", "[config]") {
  CHECK(lrlab::edit_distance("kitten", "sitting") == 3);
  CHECK(lrlab::edit_distance("", "abc") == 3);
  CHECK(lrlab::edit_distance("abc", "abc") == 0);
  CHECK(lrlab::closest_match("stpes", {"lr", "steps"}) == "steps");
  CHECK(lrlab::closest_match("lrr", {"lr", "steps"}) == "lr");
  CHECK(lrlab::closest_match("xyz", {"lr", "steps"}) == "");
  CHECK(lrlab::closest_match("abc", {}) == "");
  // Threshold max(2, len/3): 4 edits allowed for a 12-letter word, 2 for a short one.
  CHECK(lrlab::closest_match("learningrate", {"learning_rte"}) == "learning_rte");
  CHECK(lrlab::closest_match("ab", {"xyz"}) == "");
}
