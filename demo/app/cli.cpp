#include "app/cli.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include <CLI/CLI.hpp>

namespace boc::demo {

namespace {

std::string quote(const std::string& s) {
  // Built with append, not operator+: GCC 12 -O2 raises a false -Wrestrict on "'" + std::string.
  std::string q;
  q.reserve(s.size() + 2);
  q.push_back('\'');
  q.append(s);
  q.push_back('\'');
  return q;
}

bool is_unbounded_word(const std::string& s) { return s == "unbounded" || s == "none" || s == "inf"; }

// Whole-string unsigned integer in [lo, hi] (no sign, no spaces).
std::optional<std::uint64_t> uint_in(const std::string& s, std::uint64_t lo, std::uint64_t hi) {
  std::uint64_t v = 0;
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s.front())) || !CLI::detail::lexical_cast(s, v) || v < lo ||
      v > hi)
    return std::nullopt;
  // lexical_cast saturates on overflow (strtoull): the largest value must be spelled as such.
  if (v == std::numeric_limits<std::uint64_t>::max() && s != std::to_string(v)) return std::nullopt;
  return v;
}

// Whole-string finite number in [lo, hi].
std::optional<double> number_in(const std::string& s, double lo, double hi) {
  double v = 0.0;
  if (s.empty() || s.front() == '+' || std::isspace(static_cast<unsigned char>(s.front())) ||
      !CLI::detail::lexical_cast(s, v) || !std::isfinite(v) || v < lo || v > hi)
    return std::nullopt;
  return v;
}

// A validator whose message reads "<option>: expected <what>, got '<value>'" (CLI11 prefixes the
// option's name).
CLI::Validator expect(const std::string& what, std::function<bool(const std::string&)> ok) {
  return CLI::Validator(
      [what, ok](std::string& s) { return ok(s) ? std::string() : "expected " + what + ", got " + quote(s); }, "");
}

CLI::Validator uint_range(const std::string& what, std::uint64_t lo, std::uint64_t hi) {
  return expect(what, [lo, hi](const std::string& s) { return uint_in(s, lo, hi).has_value(); });
}

CLI::Validator non_empty(const std::string& what) {
  return CLI::Validator(
      [what](std::string& s) { return s.empty() ? "expected " + what + ", got an empty string" : ""; }, "");
}

// The options of boids_demo, bound to `o`.
void define(CLI::App& app, CliOptions& o) {
  app.set_help_flag();  // ours below: --help is an option like the others (main prints cli_usage())
  app.allow_extras();   // reported as "unknown option" by parse_cli
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)->always_capture_default();

  app.add_option("--boids", o.boids, "number of boids")
      ->check(uint_range("an integer in [1, 1000000]", 1, 1'000'000))
      ->type_name("N")
      ->group("simulation");
  app.add_option("--workers", o.workers, "worker interpreters (0 = one per core; max 256)")
      ->check(uint_range("an integer in [0, 256] (0 = one per core)", 0, 256))
      ->type_name("N")
      ->group("simulation");
  app.add_option("--script", o.script, "simulation script")
      ->type_name("PATH")
      ->check(non_empty("a path"))
      ->group("simulation");
  app.add_option("--seed", o.seed, "initial-state seed")
      ->check(uint_range("an unsigned 64-bit integer", 0, std::numeric_limits<std::uint64_t>::max()))
      ->type_name("N")
      ->group("simulation");
  app.add_flag("--fixed-dt", o.fixed_dt,
               "advance 1/60 s per frame instead of wall-clock time (implied by --headless); the Python "
               "simulation then steps exactly once per frame (reproducible)")
      ->disable_flag_override()
      ->group("simulation");
  app.add_flag("--native", o.native, "the serial C++ simulation instead of the Python script on workers")
      ->disable_flag_override()
      ->group("simulation");

  app.add_option_function<std::string>(
         "--deadline-ms",
         [&o](const std::string& s) {
           o.deadline_ms = is_unbounded_word(s) ? std::nullopt : number_in(s, 0.0, 60'000.0);
         },
         "pump time budget per frame in ms (>0, or 'unbounded'; default 4)")
      ->check(expect("milliseconds in (0, 60000] or 'unbounded'",
                     [](const std::string& s) {
                       const auto v = number_in(s, 0.0, 60'000.0);
                       return is_unbounded_word(s) || (v && *v > 0.0);
                     }))
      ->type_name("MS")
      ->group("pump");
  app.add_option_function<std::string>(
         "--max-behaviors",
         [&o](const std::string& s) {
           o.max_behaviors.reset();
           if (!is_unbounded_word(s))
             o.max_behaviors = static_cast<std::size_t>(*uint_in(s, 1, std::numeric_limits<std::uint32_t>::max()));
         },
         "pinned behaviors per pump (>=1, or 'unbounded'; default unbounded)")
      ->check(expect("an integer >= 1 or 'unbounded'",
                     [](const std::string& s) {
                       return is_unbounded_word(s) || uint_in(s, 1, std::numeric_limits<std::uint32_t>::max());
                     }))
      ->type_name("N")
      ->group("pump");
  app.add_option_function<std::string>(
         "--watchdog-ms",
         [&o](const std::string& s) {
           const double v = *number_in(s, 0.0, 3'600'000.0);
           o.watchdog_ms = v == 0.0 ? std::nullopt : std::optional<double>(v);
         },
         "warn when the pinned queue stays non-empty this long (0 = off; default 250)")
      ->check(expect("milliseconds in [0, 3600000] (0 = off)",
                     [](const std::string& s) { return number_in(s, 0.0, 3'600'000.0).has_value(); }))
      ->type_name("MS")
      ->group("pump");

  app.add_option_function<std::string>(
         "--frames",
         [&o](const std::string& s) { o.frames = *uint_in(s, 1, std::numeric_limits<std::uint64_t>::max()); },
         "stop after N frames (default: until the window closes)")
      ->check(uint_range("an integer >= 1", 1, std::numeric_limits<std::uint64_t>::max()))
      ->type_name("N")
      ->group("run");
  app.add_option_function<std::string>(
         "--size",
         [&o](const std::string& s) {
           o.width = static_cast<int>(*uint_in(s.substr(0, s.find('x')), 64, 8192));
           o.height = static_cast<int>(*uint_in(s.substr(s.find('x') + 1), 64, 8192));
         },
         "window / framebuffer size, each side in 64..8192 (default 1280x720)")
      ->check(expect("WxH with each side in [64, 8192] (e.g. 1280x720)",
                     [](const std::string& s) {
                       const auto x = s.find('x');
                       return x != std::string::npos && uint_in(s.substr(0, x), 64, 8192) &&
                              uint_in(s.substr(x + 1), 64, 8192);
                     }))
      ->type_name("WxH")
      ->group("run");
  app.add_flag("--headless", o.headless,
               "hidden window, render into an offscreen framebuffer; implies --fixed-dt, runs 60 frames unless "
               "--frames is given")
      ->disable_flag_override()
      ->group("run");
  app.add_option("--screenshot", o.screenshot,
                 "write the last frame as PNG (interactive: the frame when the window closes)")
      ->type_name("PATH")
      ->check(non_empty("a PNG path"))
      ->group("run");
  app.add_option("--dump-state", o.dump_state,
                 "after the last frame, write the flock (x, y, vx, vy per boid) as raw float64 values")
      ->type_name("PATH")
      ->check(non_empty("a file path"))
      ->group("run");
  app.add_flag("--bench", o.bench,
               "headless timing table for 500, 2000, 5000, 10000 boids (no ImGui): the native baseline, then "
               "the Python simulation with 1 and 2 workers")
      ->disable_flag_override()
      ->group("run");
  app.add_option("--stall-ms", o.stall_ms, "Starvation lab: stall the main thread N ms every frame from the start")
      ->check(uint_range("an integer in [0, 200]", 0, 200))
      ->type_name("N")
      ->group("run");
  app.add_option("--ui-log", o.ui_log, "write one JSON line per frame: window size, panels, banners, keys (UI tests)")
      ->type_name("PATH")
      ->check(non_empty("a file path"))
      ->group("run");
  app.add_option("--record-scenario", o.record_scenario,
                 "record every control change from frame 0 and write a scenario script (the --scenario format) "
                 "to PATH when the run ends")
      ->type_name("PATH")
      ->check(non_empty("a file path"))
      ->group("run");

  app.add_flag("--help,-h", o.help, "this text")->disable_flag_override()->group("run");

  app.add_option("--scenario", o.scenario,
                 "run python_scripts/scenarios/<name>.py frame by frame on a manual clock; implies --headless")
      ->type_name("PATH")
      ->check(non_empty("a path"))
      ->group("scenario (scripted, deterministic runs; README \"Starvation scenarios\")");
  app.add_option("--scenario-log", o.scenario_log,
                 "the scenario's JSON Lines log (default <screenshot-dir>/<name>.log)")
      ->type_name("PATH")
      ->check(non_empty("a path"))
      ->group("scenario (scripted, deterministic runs; README \"Starvation scenarios\")");
  app.add_option("--screenshot-dir", o.screenshot_dir,
                 "where the scenario's screenshot() calls write DIR/<name>_f<frame>.png")
      ->type_name("DIR")
      ->check(non_empty("a path"))
      ->group("scenario (scripted, deterministic runs; README \"Starvation scenarios\")");

  app.description(
      "A Behavior-Oriented Concurrency showcase: a flock computed by worker behaviors, written back "
      "by one pinned behavior per frame, drained by pump() at the start of every frame.");
  app.footer(
      "keys (interactive): Esc, Ctrl+Q or q quit; Tab or F1 hide / show the panels\n"
      "exit codes: 0 ok, 1 failure, 2 bad command line, 77 no X display in headless/test mode\n"
      "(run under Xvfb: xvfb-run -a -s \"-screen 0 1280x720x24\" boids_demo ...)");
  app.get_formatter()->column_width(26);
}

// Combinations CLI11 does not check.
std::string combination_error(const CliOptions& o) {
  if (o.bench && !o.screenshot.empty()) return "--bench and --screenshot cannot be combined";
  if (o.bench && !o.dump_state.empty()) return "--bench and --dump-state cannot be combined";
  if (o.scenario.empty() && (!o.scenario_log.empty() || !o.screenshot_dir.empty()))
    return std::string(!o.scenario_log.empty() ? "--scenario-log" : "--screenshot-dir") + " needs --scenario";
  if (o.bench && !o.scenario.empty()) return "--bench and --scenario cannot be combined";
  if (o.bench && (!o.ui_log.empty() || !o.record_scenario.empty()))
    return std::string(!o.ui_log.empty() ? "--ui-log" : "--record-scenario") +
           " cannot be combined with --bench (no panels)";
  return "";
}

}  // namespace

std::string cli_usage() {
  CLI::App app("", "boids_demo");
  CliOptions o;
  define(app, o);
  return app.help();
}

CliResult parse_cli(std::span<const std::string_view> args, const CliOptions& start) {
  CliResult result{start, ""};
  CliOptions& o = result.options;
  CLI::App app("", "boids_demo");
  define(app, o);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
  try {
    app.parse(reversed);
  } catch (const CLI::ArgumentMismatch& e) {
    // "--boids: 1 required UINT missing", "headless was given a disallowed flag override"
    const std::string what = e.what();
    std::string name = what.substr(0, what.find_first_of(": "));
    if (!name.starts_with("-")) name.insert(0, "--");
    result.error = name + (what.find("flag override") != std::string::npos ? ": takes no value" : ": missing value");
    return result;
  } catch (const CLI::ParseError& e) {
    result.error = e.what();  // a validator's "--option: expected ..., got '...'"
    return result;
  }
  if (!app.remaining().empty()) {
    result.error = "unknown option " + quote(app.remaining().front());
    return result;
  }
  result.error = combination_error(o);
  // A scenario is a scripted, reproducible run: headless. Nobody watches a headless run: its
  // frames (and screenshots) should be reproducible, so a fixed dt.
  o.headless = o.headless || !o.scenario.empty();
  o.fixed_dt = o.fixed_dt || o.headless;
  return result;
}

CliResult parse_cli(int argc, const char* const* argv) {
  std::vector<std::string_view> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return parse_cli(args);
}

}  // namespace boc::demo
