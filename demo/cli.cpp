#include "cli.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <vector>

namespace boc::demo {

namespace {

constexpr std::size_t kMaxBoids = 1'000'000;
constexpr std::size_t kMaxWorkers = 256;
constexpr int kMinSize = 64;
constexpr int kMaxSize = 8192;

std::string quote(std::string_view s)
{
    // Built with append, not operator+: GCC 12 -O2 raises a false -Wrestrict on "'" + std::string.
    std::string q;
    q.reserve(s.size() + 2);
    q.push_back('\'');
    q.append(s);
    q.push_back('\'');
    return q;
}

bool is_unbounded_word(std::string_view s)
{
    return s == "unbounded" || s == "none" || s == "inf";
}

// Whole-string unsigned integer in [lo, hi].
std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t lo, std::uint64_t hi)
{
    if (s.empty() || s.front() == '+' || s.front() == '-')
    {
        return std::nullopt;
    }
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi)
    {
        return std::nullopt;
    }
    return v;
}

// Whole-string finite number in [lo, hi].
std::optional<double> parse_number(std::string_view s, double lo, double hi)
{
    if (s.empty() || s.front() == '+')
    {
        return std::nullopt;
    }
    double v = 0.0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v < lo || v > hi)
    {
        return std::nullopt;
    }
    return v;
}

}  // namespace

std::string cli_usage()
{
    return "usage: boids_demo [options]\n"
           "\n"
           "A Behavior-Oriented Concurrency showcase: a flock computed by worker behaviors, written\n"
           "back by one pinned behavior per frame, drained by pump() at the start of every frame.\n"
           "\n"
           "simulation:\n"
           "  --boids N            number of boids (1..1000000, default 2000)\n"
           "  --workers N          worker interpreters (0 = one per core, default 0; max 256)\n"
           "  --script PATH        simulation script (default python_scripts/boids.py)\n"
           "  --seed N             initial-state seed (unsigned 64-bit, default 1)\n"
           "  --fixed-dt           advance 1/60 s per frame instead of wall-clock time (implied by --headless);\n"
           "                       the Python simulation then steps exactly once per frame (reproducible)\n"
           "  --native             the serial C++ simulation instead of the Python script on workers\n"
           "pump:\n"
           "  --deadline-ms N      pump time budget per frame in ms (>0, or 'unbounded'; default 4)\n"
           "  --max-behaviors N    pinned behaviors per pump (>=1, or 'unbounded'; default unbounded)\n"
           "  --watchdog-ms N      warn when the pinned queue stays non-empty this long (0 = off; default 250)\n"
           "run:\n"
           "  --frames N           stop after N frames (>=1; default: until the window closes)\n"
           "  --size WxH           window / framebuffer size (64..8192 each, default 1280x720)\n"
           "  --headless           hidden window, render into an offscreen framebuffer; implies --fixed-dt,\n"
           "                       runs 60 frames unless --frames is given\n"
           "  --screenshot PATH    write the last frame as PNG (interactive: the frame when the window closes)\n"
           "  --dump-state PATH    after the last frame, write the flock (x, y, vx, vy per boid) to PATH as raw\n"
           "                       float64 values\n"
           "  --bench              headless timing table for 500, 2000, 5000, 10000 boids (no ImGui): the\n"
           "                       native baseline, then the Python simulation with 1 and 2 workers\n"
           "  --debug-fake-starvation  feed the panels a synthetic starving pinned queue\n"
           "  --stall-ms N         Starvation lab: stall the main thread N ms every frame from the start (0..200)\n"
           "  --ui-log PATH        write one JSON line per frame: window size, panels, banners, keys (UI tests)\n"
           "  --record-scenario PATH  record every control change from frame 0 and write a scenario file\n"
           "                       (the --scenario format) to PATH when the run ends\n"
           "  --help               this text\n"
           "keys (interactive): Esc, Ctrl+Q or q quit; Tab or F1 hide / show the panels\n"
           "scenario (scripted, deterministic runs; README \"Visual tests\"):\n"
           "  --scenario PATH      run python_scripts/scenarios/<name>.py frame by frame on a manual clock;\n"
           "                       implies --headless; --screenshot PATH then writes the scenario's golden frame\n"
           "  --scenario-log PATH  the scenario's per-frame log (default <screenshot-dir>/<name>.log)\n"
           "  --screenshot-dir DIR write every screenshot the scenario lists, as DIR/<name>_f<frame>.png\n"
           "\n"
           "exit codes: 0 ok, 1 failure, 2 bad command line, 77 no X display in headless/test mode\n"
           "(run under Xvfb: xvfb-run -a -s \"-screen 0 1280x720x24\" boids_demo ...)\n";
}

CliResult parse_cli(std::span<const std::string_view> args)
{
    CliResult result;
    CliOptions& o = result.options;
    auto fail = [&result](std::string message) -> CliResult& {
        result.error = std::move(message);
        return result;
    };

    for (std::size_t i = 0; i < args.size(); ++i)
    {
        std::string_view arg = args[i];
        std::string_view value;
        bool has_inline_value = false;
        // --name=value is accepted as well as --name value.
        if (arg.starts_with("--"))
        {
            if (const auto eq = arg.find('='); eq != std::string_view::npos)
            {
                value = arg.substr(eq + 1);
                arg = arg.substr(0, eq);
                has_inline_value = true;
            }
        }
        auto flag = [&](bool& target) -> bool {
            if (has_inline_value)
            {
                fail(std::string(arg) + ": takes no value");
                return false;
            }
            target = true;
            return true;
        };
        auto take_value = [&]() -> bool {
            if (has_inline_value)
            {
                return true;
            }
            if (i + 1 >= args.size())
            {
                fail(std::string(arg) + ": missing value");
                return false;
            }
            value = args[++i];
            return true;
        };

        if (arg == "--help" || arg == "-h")
        {
            if (!flag(o.help))
                return result;
        }
        else if (arg == "--fixed-dt")
        {
            if (!flag(o.fixed_dt))
                return result;
        }
        else if (arg == "--headless")
        {
            if (!flag(o.headless))
                return result;
        }
        else if (arg == "--bench")
        {
            if (!flag(o.bench))
                return result;
        }
        else if (arg == "--native")
        {
            if (!flag(o.native))
                return result;
        }
        else if (arg == "--debug-fake-starvation")
        {
            if (!flag(o.debug_fake_starvation))
                return result;
        }
        else if (arg == "--boids")
        {
            if (!take_value())
                return result;
            const auto v = parse_uint(value, 1, kMaxBoids);
            if (!v)
                return fail("--boids: expected an integer in [1, 1000000], got " + quote(value));
            o.boids = static_cast<std::size_t>(*v);
        }
        else if (arg == "--workers")
        {
            if (!take_value())
                return result;
            const auto v = parse_uint(value, 0, kMaxWorkers);
            if (!v)
                return fail("--workers: expected an integer in [0, 256] (0 = one per core), got " + quote(value));
            o.workers = static_cast<std::size_t>(*v);
        }
        else if (arg == "--script")
        {
            if (!take_value())
                return result;
            if (value.empty())
                return fail("--script: expected a path, got an empty string");
            o.script = std::string(value);
        }
        else if (arg == "--deadline-ms")
        {
            if (!take_value())
                return result;
            if (is_unbounded_word(value))
            {
                o.deadline_ms.reset();
                continue;
            }
            const auto v = parse_number(value, 0.0, 60'000.0);
            if (!v || *v <= 0.0)
                return fail("--deadline-ms: expected milliseconds in (0, 60000] or 'unbounded', got " + quote(value));
            o.deadline_ms = *v;
        }
        else if (arg == "--max-behaviors")
        {
            if (!take_value())
                return result;
            if (is_unbounded_word(value))
            {
                o.max_behaviors.reset();
                continue;
            }
            const auto v = parse_uint(value, 1, std::numeric_limits<std::uint32_t>::max());
            if (!v)
                return fail("--max-behaviors: expected an integer >= 1 or 'unbounded', got " + quote(value));
            o.max_behaviors = static_cast<std::size_t>(*v);
        }
        else if (arg == "--watchdog-ms")
        {
            if (!take_value())
                return result;
            const auto v = parse_number(value, 0.0, 3'600'000.0);
            if (!v)
                return fail("--watchdog-ms: expected milliseconds in [0, 3600000] (0 = off), got " + quote(value));
            if (*v == 0.0)
                o.watchdog_ms.reset();
            else
                o.watchdog_ms = *v;
        }
        else if (arg == "--frames")
        {
            if (!take_value())
                return result;
            const auto v = parse_uint(value, 1, std::numeric_limits<std::uint64_t>::max());
            if (!v)
                return fail("--frames: expected an integer >= 1, got " + quote(value));
            o.frames = *v;
        }
        else if (arg == "--seed")
        {
            if (!take_value())
                return result;
            const auto v = parse_uint(value, 0, std::numeric_limits<std::uint64_t>::max());
            if (!v)
                return fail("--seed: expected an unsigned 64-bit integer, got " + quote(value));
            o.seed = *v;
        }
        else if (arg == "--size")
        {
            if (!take_value())
                return result;
            const auto x = value.find('x');
            const auto w = x == std::string_view::npos ? std::nullopt : parse_uint(value.substr(0, x), kMinSize, kMaxSize);
            const auto h = x == std::string_view::npos ? std::nullopt : parse_uint(value.substr(x + 1), kMinSize, kMaxSize);
            if (!w || !h)
                return fail("--size: expected WxH with each side in [64, 8192] (e.g. 1280x720), got " + quote(value));
            o.width = static_cast<int>(*w);
            o.height = static_cast<int>(*h);
        }
        else if (arg == "--screenshot")
        {
            if (!take_value())
                return result;
            if (value.empty())
                return fail("--screenshot: expected a PNG path, got an empty string");
            o.screenshot = std::string(value);
        }
        else if (arg == "--scenario" || arg == "--scenario-log" || arg == "--screenshot-dir")
        {
            if (!take_value())
                return result;
            if (value.empty())
                return fail(std::string(arg) + ": expected a path, got an empty string");
            (arg == "--scenario" ? o.scenario : arg == "--scenario-log" ? o.scenario_log : o.screenshot_dir) =
                std::string(value);
        }
        else if (arg == "--ui-log" || arg == "--record-scenario")
        {
            if (!take_value())
                return result;
            if (value.empty())
                return fail(std::string(arg) + ": expected a file path, got an empty string");
            (arg == "--ui-log" ? o.ui_log : o.record_scenario) = std::string(value);
        }
        else if (arg == "--stall-ms")
        {
            if (!take_value())
                return result;
            const auto v = parse_uint(value, 0, 200);
            if (!v)
                return fail("--stall-ms: expected an integer in [0, 200], got " + quote(value));
            o.stall_ms = static_cast<int>(*v);
        }
        else if (arg == "--dump-state")
        {
            if (!take_value())
                return result;
            if (value.empty())
                return fail("--dump-state: expected a file path, got an empty string");
            o.dump_state = std::string(value);
        }
        else
        {
            return fail("unknown option " + quote(arg));
        }
    }

    if (o.bench && !o.screenshot.empty())
    {
        return fail("--bench and --screenshot cannot be combined");
    }
    if (o.bench && !o.dump_state.empty())
    {
        return fail("--bench and --dump-state cannot be combined");
    }
    if (o.scenario.empty() && (!o.scenario_log.empty() || !o.screenshot_dir.empty()))
    {
        return fail(std::string(!o.scenario_log.empty() ? "--scenario-log" : "--screenshot-dir") +
                    " needs --scenario");
    }
    if (o.bench && !o.scenario.empty())
    {
        return fail("--bench and --scenario cannot be combined");
    }
    if (o.bench && (!o.ui_log.empty() || !o.record_scenario.empty()))
    {
        return fail(std::string(!o.ui_log.empty() ? "--ui-log" : "--record-scenario") +
                    " cannot be combined with --bench (no panels)");
    }
    // A scenario is a scripted, reproducible run: headless, fixed dt.
    if (!o.scenario.empty())
    {
        o.headless = true;
    }
    // Nobody watches a headless run: its frames (and screenshots) should be reproducible.
    if (o.headless)
    {
        o.fixed_dt = true;
    }
    return result;
}

CliResult parse_cli(int argc, const char* const* argv)
{
    std::vector<std::string_view> args;
    for (int i = 1; i < argc; ++i)
    {
        args.emplace_back(argv[i]);
    }
    return parse_cli(args);
}

}  // namespace boc::demo
