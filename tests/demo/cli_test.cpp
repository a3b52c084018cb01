// Command-line parsing: valid forms, each bad value's message, and the exit-code contract.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "app/cli.h"

namespace boc::demo {
namespace {

CliResult parse(std::initializer_list<std::string_view> args) {
  const std::vector<std::string_view> v(args);
  return parse_cli(v);
}

TEST(Cli, DefaultsWithNoArguments) {
  const CliResult r = parse({});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.options.boids, 2000u);
  EXPECT_EQ(r.options.width, 1280);
  EXPECT_EQ(r.options.height, 720);
  EXPECT_FALSE(r.options.frames.has_value());
  EXPECT_FALSE(r.options.headless);
  EXPECT_FALSE(r.options.max_behaviors.has_value());
  ASSERT_TRUE(r.options.deadline_ms.has_value());
  EXPECT_DOUBLE_EQ(*r.options.deadline_ms, 4.0);
  EXPECT_FALSE(r.options.deterministic());
  EXPECT_FALSE(r.options.test_mode());
}

TEST(Cli, ParsesEveryOption) {
  const CliResult r =
      parse({"--boids",       "5000",       "--workers",       "2",       "--script",      "sim.py",
             "--deadline-ms", "2.5",        "--max-behaviors", "16",      "--watchdog-ms", "100",
             "--frames",      "30",         "--seed",          "42",      "--fixed-dt",    "--size",
             "640x360",       "--headless", "--screenshot",    "out.png", "--native",      "--dump-state",
             "state.bin"});
  ASSERT_TRUE(r.ok()) << r.error;
  const CliOptions& o = r.options;
  EXPECT_EQ(o.boids, 5000u);
  EXPECT_EQ(o.workers, 2u);
  EXPECT_EQ(o.script, "sim.py");
  EXPECT_DOUBLE_EQ(*o.deadline_ms, 2.5);
  EXPECT_EQ(*o.max_behaviors, 16u);
  EXPECT_DOUBLE_EQ(*o.watchdog_ms, 100.0);
  EXPECT_EQ(*o.frames, 30u);
  EXPECT_EQ(o.seed, 42u);
  EXPECT_TRUE(o.fixed_dt);
  EXPECT_EQ(o.width, 640);
  EXPECT_EQ(o.height, 360);
  EXPECT_TRUE(o.headless);
  EXPECT_EQ(o.screenshot, "out.png");
  EXPECT_TRUE(o.native);
  EXPECT_EQ(o.dump_state, "state.bin");
  EXPECT_TRUE(o.deterministic());
  EXPECT_TRUE(o.test_mode());
}

TEST(Cli, AcceptsEqualsFormAndUnboundedWords) {
  const CliResult r = parse(
      {"--boids=10", "--deadline-ms=unbounded", "--max-behaviors", "none", "--watchdog-ms", "0", "--bench", "--help"});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.options.boids, 10u);
  EXPECT_FALSE(r.options.deadline_ms.has_value());
  EXPECT_FALSE(r.options.max_behaviors.has_value());
  EXPECT_FALSE(r.options.watchdog_ms.has_value());  // 0 = off
  EXPECT_TRUE(r.options.bench);
  EXPECT_TRUE(r.options.help);
  EXPECT_TRUE(r.options.test_mode());
}

TEST(Cli, HeadlessImpliesFixedDtAndDeterminism) {
  const CliResult r = parse({"--headless"});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.options.fixed_dt);
  EXPECT_TRUE(r.options.deterministic());
  EXPECT_TRUE(r.options.test_mode());

  const CliResult interactive = parse({"--screenshot", "a.png"});
  ASSERT_TRUE(interactive.ok());
  EXPECT_FALSE(interactive.options.fixed_dt);
  EXPECT_FALSE(interactive.options.deterministic());  // wall-clock dt: not reproducible
  EXPECT_TRUE(interactive.options.test_mode());
}

struct BadCase {
  std::vector<std::string_view> args;
  std::string expected;  // substring of the error
};

// One table instead of a parameterised suite: ctest names stay readable, and each failure
// names its arguments through SCOPED_TRACE.
TEST(Cli, RejectsEachBadValueWithAClearMessage) {
  const std::vector<BadCase> cases = {
      {{"--boids", "0"}, "--boids: expected an integer in [1, 1000000], got '0'"},
      {{"--boids", "abc"}, "--boids: expected an integer in [1, 1000000], got 'abc'"},
      {{"--boids", "-5"}, "--boids: expected an integer"},
      {{"--boids", "12x"}, "got '12x'"},
      {{"--boids", "2000000"}, "got '2000000'"},
      {{"--boids"}, "--boids: missing value"},
      {{"--workers", "257"}, "--workers: expected an integer in [0, 256]"},
      {{"--workers", "two"}, "--workers: expected an integer"},
      {{"--script", ""}, "--script: expected a path"},
      {{"--deadline-ms", "0"}, "--deadline-ms: expected milliseconds in (0, 60000] or 'unbounded'"},
      {{"--deadline-ms", "-1"}, "--deadline-ms: expected milliseconds"},
      {{"--deadline-ms", "nan"}, "--deadline-ms: expected milliseconds"},
      {{"--deadline-ms", "fast"}, "got 'fast'"},
      {{"--max-behaviors", "0"}, "--max-behaviors: expected an integer >= 1 or 'unbounded'"},
      {{"--max-behaviors", "1.5"}, "--max-behaviors: expected an integer"},
      {{"--watchdog-ms", "-3"}, "--watchdog-ms: expected milliseconds in [0, 3600000]"},
      {{"--watchdog-ms", "soon"}, "--watchdog-ms: expected milliseconds"},
      {{"--frames", "0"}, "--frames: expected an integer >= 1, got '0'"},
      {{"--frames", "ten"}, "--frames: expected an integer >= 1"},
      {{"--seed", "-1"}, "--seed: expected an unsigned 64-bit integer"},
      {{"--seed", "18446744073709551616"}, "--seed: expected an unsigned 64-bit integer"},
      {{"--size", "640"}, "--size: expected WxH with each side in [64, 8192]"},
      {{"--size", "640x"}, "--size: expected WxH"},
      {{"--size", "32x32"}, "got '32x32'"},
      {{"--size", "640x360x2"}, "--size: expected WxH"},
      {{"--screenshot", ""}, "--screenshot: expected a PNG path"},
      {{"--screenshot"}, "--screenshot: missing value"},
      {{"--headless=yes"}, "--headless: takes no value"},
      {{"--bogus"}, "unknown option '--bogus'"},
      {{"positional"}, "unknown option 'positional'"},
      {{"--bench", "--screenshot", "x.png"}, "--bench and --screenshot cannot be combined"},
      {{"--dump-state", ""}, "--dump-state: expected a file path"},
      {{"--dump-state"}, "--dump-state: missing value"},
      {{"--native=1"}, "--native: takes no value"},
      {{"--bench", "--dump-state", "s.bin"}, "--bench and --dump-state cannot be combined"}};
  for (const BadCase& c : cases) {
    std::string joined;
    for (std::string_view a : c.args) joined += std::string(a) + " ";
    SCOPED_TRACE("args: " + joined);
    const CliResult r = parse_cli(c.args);
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.error.find(c.expected), std::string::npos) << "error was: " << r.error;
  }
}

TEST(Cli, ScenarioOptions) {
  const CliResult r = parse({"--scenario", "s.py", "--scenario-log", "s.log", "--screenshot-dir", "shots"});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.options.scenario, "s.py");
  EXPECT_EQ(r.options.scenario_log, "s.log");
  EXPECT_EQ(r.options.screenshot_dir, "shots");
  EXPECT_TRUE(r.options.headless);
  EXPECT_TRUE(r.options.fixed_dt);
  EXPECT_TRUE(r.options.test_mode());  // no display: exit 77 (skip)
  EXPECT_EQ(parse({"--scenario-log", "s.log"}).error, "--scenario-log needs --scenario");
  EXPECT_EQ(parse({"--screenshot-dir", "d"}).error, "--screenshot-dir needs --scenario");
  EXPECT_EQ(parse({"--scenario", "s.py", "--bench"}).error, "--bench and --scenario cannot be combined");
  EXPECT_EQ(parse({"--scenario", ""}).error, "--scenario: expected a path, got an empty string");
  EXPECT_EQ(parse({"--boids", "10", "--boids", "20"}).options.boids, 20u);  // the last one wins
}

TEST(Cli, ExitCodesAreTheDocumentedOnes) {
  // main() returns kExitUsage for any parse error (checked end to end by the ctest
  // demo_cli_bad_value_exits_2), kExitSkip without a display in test mode.
  EXPECT_EQ(kExitOk, 0);
  EXPECT_EQ(kExitFailure, 1);
  EXPECT_EQ(kExitUsage, 2);
  EXPECT_EQ(kExitSkip, 77);
}

TEST(Cli, UsageMentionsEveryOption) {
  const std::string usage = cli_usage();
  for (const char* option :
       {"--boids",    "--workers",      "--script",         "--deadline-ms", "--max-behaviors", "--watchdog-ms",
        "--frames",   "--seed",         "--fixed-dt",       "--size",        "--headless",      "--screenshot",
        "--bench",    "--native",       "--dump-state",     "--stall-ms",    "--ui-log",        "--record-scenario",
        "--scenario", "--scenario-log", "--screenshot-dir", "--help"}) {
    EXPECT_NE(usage.find(option), std::string::npos) << option;
  }
}

}  // namespace
}  // namespace boc::demo
