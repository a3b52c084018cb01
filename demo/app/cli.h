// Command-line options of boids_demo.
//
// parse_cli() never prints or exits: it returns the options or an error string, so tests
// can check every rejection. main() prints the error plus "try --help" and exits with
// kExitUsage (2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace boc::demo {

// Process exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // runtime failure (interactive run without a display, GL error, ...)
inline constexpr int kExitUsage = 2;    // bad command line
inline constexpr int kExitSkip = 77;    // no display in headless / test mode: ctest reports "skipped"

struct CliOptions {
  std::size_t boids = 2000;
  std::size_t workers = 0;  // 0: one per core (the Python driver's worker interpreters)
  std::string script = "python_scripts/boids.py";
  std::optional<double> deadline_ms = 4.0;    // nullopt: unbounded
  std::optional<std::size_t> max_behaviors;   // nullopt: unbounded
  std::optional<double> watchdog_ms = 250.0;  // nullopt: watchdog off (--watchdog-ms 0)
  std::optional<std::uint64_t> frames;        // nullopt: run until the window closes
  std::uint64_t seed = 1;
  bool fixed_dt = false;  // dt = 1/60 s every frame instead of wall-clock time; --headless implies it
  int width = 1280;
  int height = 720;
  bool headless = false;
  std::string screenshot;  // empty: none; else the last frame is written here as PNG
  std::string dump_state;  // empty: none; else the final flock as raw little-endian doubles
  bool native = false;     // the serial C++ simulation instead of the Python-backed one
  // Scripted deterministic run (scenario/scenario.h): implies --headless; its setup() sets boids,
  // seed, size, frames, workers (unless --workers N > 0) and the pump/watchdog settings.
  std::string scenario;         // python_scripts/scenarios/<name>.py
  std::string scenario_log;     // the per-frame log (default <screenshot_dir>/<name>.log)
  std::string screenshot_dir;   // the scenario's listed screenshots, <dir>/<name>_f<frame>.png
  std::string ui_log;           // --ui-log: one JSON line per frame (demo/ui_log.h)
  std::string record_scenario;  // --record-scenario: record from frame 0, save here at exit (recorder.h)
  int stall_ms = 0;             // --stall-ms: the Starvation lab's stall from the first frame
  bool bench = false;
  bool help = false;

  // Deterministic screenshot mode: fixed layout (ImGuiCond_Always), parked mouse,
  // nominal (not measured) timings in the plots.
  bool deterministic() const { return fixed_dt && (headless || !screenshot.empty()); }
  // Test-style run: a missing display is a skip (77), not a failure (1).
  bool test_mode() const { return headless || bench || !screenshot.empty(); }
};

struct CliResult {
  CliOptions options;
  std::string error;  // empty on success
  bool ok() const { return error.empty(); }
};

// Parses argv[1..]. `args` excludes the program name. Options not given keep their value in
// `start` (a scenario's setup() parses its settings over the command line's options).
CliResult parse_cli(std::span<const std::string_view> args, const CliOptions& start = {});
CliResult parse_cli(int argc, const char* const* argv);

// The --help text.
std::string cli_usage();

}  // namespace boc::demo
