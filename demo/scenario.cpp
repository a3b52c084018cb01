#include "scenario.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "bocpy_runtime.h"
#include "demo_stats.h"

namespace boc::demo {

namespace {

// ---- parsing ---------------------------------------------------------------------------

class ScenarioParser
{
public:
    explicit ScenarioParser(const std::string& path) : path_(path) {}

    bool failed() const { return !error_.empty(); }
    const std::string& error() const { return error_; }

    void fail(const PyLiteral& where, const std::string& message)
    {
        if (failed())
            return;
        error_ = path_ + ":" + std::to_string(where.line) + ": " + message;
    }

    std::optional<std::int64_t> integer(const PyLiteral& v, const std::string& what, std::int64_t lo, std::int64_t hi)
    {
        if (v.kind != PyLiteral::Kind::kInt || v.i < lo || v.i > hi)
        {
            fail(v, what + ": expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                        v.repr());
            return std::nullopt;
        }
        return v.i;
    }

    std::optional<double> number(const PyLiteral& v, const std::string& what, double lo, double hi)
    {
        if (!v.is_number() || v.as_double() < lo || v.as_double() > hi)
        {
            char range[96];
            std::snprintf(range, sizeof(range), "[%g, %g]", lo, hi);
            fail(v, what + ": expected a number in " + range + ", got " + v.repr());
            return std::nullopt;
        }
        return v.as_double();
    }

    std::optional<bool> boolean(const PyLiteral& v, const std::string& what)
    {
        if (v.kind != PyLiteral::Kind::kBool)
        {
            fail(v, what + ": expected True or False, got " + v.repr());
            return std::nullopt;
        }
        return v.b;
    }

    std::optional<std::string> string(const PyLiteral& v, const std::string& what)
    {
        if (v.kind != PyLiteral::Kind::kStr)
        {
            fail(v, what + ": expected a string, got " + v.repr());
            return std::nullopt;
        }
        return v.s;
    }

    std::optional<std::string> dispatch(const PyLiteral& v, const std::string& what)
    {
        const auto s = string(v, what);
        if (s && *s != "coarse" && *s != "per_item")
        {
            fail(v, what + ": expected 'coarse' or 'per_item', got " + v.repr());
            return std::nullopt;
        }
        return s;
    }

    // A number or None (unbounded / off); `positive` refuses 0.
    bool optional_number(const PyLiteral& v, const std::string& what, double hi, bool positive)
    {
        if (v.kind == PyLiteral::Kind::kNone)
            return true;
        const auto d = number(v, what, 0.0, hi);
        if (d && positive && *d <= 0.0)
        {
            fail(v, what + ": expected a positive number or None, got " + v.repr());
            return false;
        }
        return d.has_value();
    }

private:
    std::string path_;
    std::string error_;
};

const std::set<std::string>& flock_knobs()
{
    static const std::set<std::string> k = {"cohesion",        "alignment",         "separation",
                                            "neighbour_radius", "separation_radius", "min_speed",
                                            "max_speed",        "bounds_margin",     "bounds_turn"};
    return k;
}

const std::set<std::string>& pump_knobs()
{
    static const std::set<std::string> k = {"deadline_ms", "max_behaviors", "watchdog_ms", "wait_poll_ms", "boids"};
    return k;
}

bool is_knob(const std::string& name)
{
    return flock_knobs().count(name) != 0 || pump_knobs().count(name) != 0;
}

// Checks a knob's value (the same rules as the CLI and the panels).
void check_knob(ScenarioParser& p, const std::string& knob, const PyLiteral& v)
{
    const std::string what = "set " + knob;
    if (knob == "deadline_ms")
        p.optional_number(v, what, 60'000.0, true);
    else if (knob == "watchdog_ms")
        p.optional_number(v, what, 3'600'000.0, false);
    else if (knob == "max_behaviors")
    {
        if (v.kind != PyLiteral::Kind::kNone)
            p.integer(v, what, 1, std::numeric_limits<std::int32_t>::max());
    }
    else if (knob == "wait_poll_ms")
        p.number(v, what, 1.0, 10'000.0);
    else if (knob == "boids")
        p.integer(v, what, 1, 1'000'000);
    else
        p.number(v, what, 0.0, 1e6);
}

ScenarioAction parse_action(ScenarioParser& p, const PyLiteral& item, std::uint64_t frame)
{
    ScenarioAction a;
    a.line = item.line;
    const std::string where = "actions[" + std::to_string(frame) + "]";
    // A bare string is a verb without arguments: "step", "clear_errors".
    std::vector<PyLiteral> parts;
    if (item.kind == PyLiteral::Kind::kStr)
        parts.push_back(item);
    else if (item.kind == PyLiteral::Kind::kTuple || item.kind == PyLiteral::Kind::kList)
        parts = item.items;
    if (parts.empty() || parts[0].kind != PyLiteral::Kind::kStr)
    {
        p.fail(item, where + ": an action is a tuple (\"verb\", args...) or a bare verb string, got " + item.repr());
        return a;
    }
    std::string verb = parts[0].s;
    std::vector<PyLiteral> args(parts.begin() + 1, parts.end());
    // Short form of set: ("max_behaviors", 1) == ("set", "max_behaviors", 1).
    if (is_knob(verb))
    {
        PyLiteral knob;
        knob.kind = PyLiteral::Kind::kStr;
        knob.s = verb;
        knob.line = parts[0].line;
        args.insert(args.begin(), knob);
        verb = "set";
    }
    a.verb = verb;
    auto want = [&](std::size_t n) {
        if (args.size() != n)
        {
            p.fail(item, where + ": '" + verb + "' takes " + std::to_string(n) + " argument(s), got " + item.repr());
            return false;
        }
        return true;
    };
    if (verb == "pause_pump" || verb == "pause_sim")
    {
        if (want(1) && p.boolean(args[0], where + " " + verb))
            a.value = args[0];
    }
    else if (verb == "stall_ms" || verb == "stall_once")
    {
        if (want(1) && p.integer(args[0], where + " " + verb, 0, 60'000))
            a.value = args[0];
    }
    else if (verb == "dispatch")
    {
        if (want(1) && p.dispatch(args[0], where + " dispatch"))
            a.value = args[0];
    }
    else if (verb == "step" || verb == "clear_errors")
    {
        want(0);
    }
    else if (verb == "note")
    {
        if (want(1) && p.string(args[0], where + " note"))
            a.value = args[0];
    }
    else if (verb == "set")
    {
        if (!want(2))
            return a;
        const auto knob = p.string(args[0], where + " set");
        if (!knob)
            return a;
        if (!is_knob(*knob))
        {
            std::string known;
            for (const auto* set : {&pump_knobs(), &flock_knobs()})
                for (const std::string& k : *set)
                    known += (known.empty() ? "" : ", ") + k;
            p.fail(args[0], where + ": unknown knob '" + *knob + "' (known: " + known + ")");
            return a;
        }
        check_knob(p, *knob, args[1]);
        a.knob = *knob;
        a.value = args[1];
    }
    else
    {
        p.fail(parts[0], where + ": unknown action '" + verb +
                             "' (known: pause_pump, stall_ms, stall_once, dispatch, pause_sim, step, set, "
                             "clear_errors, note, or a knob name as a short form of set)");
    }
    return a;
}

std::string format_ms(double ms)
{
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.3f", ms);
    return buf;
}

std::string file_stem(const std::string& path)
{
    return std::filesystem::path(path).stem().string();
}

}  // namespace

// ---- ScenarioAction ----------------------------------------------------------------------

std::string ScenarioAction::text() const
{
    if (verb == "set")
        return "set " + knob + " " + value.repr();
    if (verb == "note")
        return "note " + value.s;
    if (value.kind == PyLiteral::Kind::kNone)
        return verb;
    return verb + " " + value.repr();
}

// ---- loading -----------------------------------------------------------------------------

ScenarioLoad parse_scenario(std::string_view source, const std::string& path)
{
    ScenarioLoad out;
    Scenario& s = out.scenario;
    s.path = path;
    s.name = file_stem(path);
    const PyModuleParse parsed = parse_py_assignment(source, "SCENARIO", path);
    if (!parsed.ok())
    {
        out.error = parsed.error;
        return out;
    }
    const PyLiteral& root = parsed.value;
    ScenarioParser p(path);
    if (root.kind != PyLiteral::Kind::kDict)
    {
        p.fail(root, "SCENARIO must be a dict, got a " + std::string(root.kind_name()));
        out.error = p.error();
        return out;
    }

    static const std::set<std::string> known = {"name",        "description",   "boids",       "seed",
                                                "size",        "frames",        "workers",     "script",
                                                "deadline_ms", "max_behaviors", "watchdog_ms", "dispatch",
                                                "actions",     "screenshots",   "golden"};
    for (const auto& [key, value] : root.entries)
    {
        if (key.kind != PyLiteral::Kind::kStr || known.count(key.s) == 0)
        {
            std::string list;
            for (const std::string& k : known)
                list += (list.empty() ? "" : ", ") + k;
            p.fail(key, "unknown SCENARIO key " + key.repr() + " (known: " + list + ")");
            out.error = p.error();
            return out;
        }
    }

    if (const PyLiteral* v = root.find("name"))
        if (const auto str = p.string(*v, "name"))
            s.name = *str;
    if (const PyLiteral* v = root.find("description"))
        if (const auto str = p.string(*v, "description"))
            s.description = *str;
    if (const PyLiteral* v = root.find("boids"))
        if (const auto n = p.integer(*v, "boids", 1, 1'000'000))
            s.boids = static_cast<std::size_t>(*n);
    if (const PyLiteral* v = root.find("seed"))
        if (const auto n = p.integer(*v, "seed", 0, std::numeric_limits<std::int64_t>::max()))
            s.seed = static_cast<std::uint64_t>(*n);
    if (const PyLiteral* v = root.find("size"))
    {
        if (!v->is_sequence() || v->items.size() != 2)
            p.fail(*v, "size: expected (width, height), got " + v->repr());
        else
        {
            const auto w = p.integer(v->items[0], "size width", 64, 8192);
            const auto h = p.integer(v->items[1], "size height", 64, 8192);
            if (w && h)
            {
                s.width = static_cast<int>(*w);
                s.height = static_cast<int>(*h);
            }
        }
    }
    if (const PyLiteral* v = root.find("frames"))
        if (const auto n = p.integer(*v, "frames", 1, 1'000'000))
            s.frames = static_cast<std::uint64_t>(*n);
    if (const PyLiteral* v = root.find("workers"))
        if (const auto n = p.integer(*v, "workers", 1, 256))
            s.workers = static_cast<std::size_t>(*n);
    if (const PyLiteral* v = root.find("script"))
        if (const auto str = p.string(*v, "script"))
            s.script = *str;
    if (const PyLiteral* v = root.find("deadline_ms"))
    {
        if (p.optional_number(*v, "deadline_ms", 60'000.0, true))
            s.deadline_ms = v->kind == PyLiteral::Kind::kNone ? std::optional<double>() : v->as_double();
    }
    if (const PyLiteral* v = root.find("max_behaviors"))
    {
        if (v->kind == PyLiteral::Kind::kNone)
            s.max_behaviors = std::optional<std::size_t>();
        else if (const auto n = p.integer(*v, "max_behaviors", 1, std::numeric_limits<std::int32_t>::max()))
            s.max_behaviors = static_cast<std::size_t>(*n);
    }
    if (const PyLiteral* v = root.find("watchdog_ms"))
    {
        if (p.optional_number(*v, "watchdog_ms", 3'600'000.0, false))
        {
            // 0 and None both mean off, as on the command line.
            if (v->kind == PyLiteral::Kind::kNone || v->as_double() == 0.0)
                s.watchdog_ms = std::optional<double>();
            else
                s.watchdog_ms = v->as_double();
        }
    }
    if (const PyLiteral* v = root.find("dispatch"))
        if (const auto d = p.dispatch(*v, "dispatch"))
            s.dispatch = *d;

    if (const PyLiteral* v = root.find("actions"))
    {
        if (v->kind != PyLiteral::Kind::kDict)
            p.fail(*v, "actions: expected a dict {frame: [action, ...]}, got " + v->repr());
        for (const auto& [key, list] : v->entries)
        {
            if (p.failed())
                break;
            const auto frame = p.integer(key, "actions key (a frame index)", 0, 1'000'000);
            if (!frame)
                break;
            if (static_cast<std::uint64_t>(*frame) >= s.frames)
            {
                p.fail(key, "actions: frame " + std::to_string(*frame) + " is past the last frame (" +
                                std::to_string(s.frames - 1) + ")");
                break;
            }
            std::vector<PyLiteral> items;
            if (list.kind == PyLiteral::Kind::kList)
                items = list.items;
            else
                items.push_back(list);  // a single action
            auto& bucket = s.actions[static_cast<std::uint64_t>(*frame)];
            bucket.clear();  // a repeated key: the last one wins, as in a Python dict
            for (const PyLiteral& item : items)
            {
                ScenarioAction a = parse_action(p, item, static_cast<std::uint64_t>(*frame));
                if (p.failed())
                    break;
                bucket.push_back(std::move(a));
            }
        }
    }

    if (const PyLiteral* v = root.find("screenshots"))
    {
        if (v->kind != PyLiteral::Kind::kList && v->kind != PyLiteral::Kind::kTuple)
            p.fail(*v, "screenshots: expected a list of frame indices, got " + v->repr());
        for (const PyLiteral& f : v->items)
        {
            const auto n = p.integer(f, "screenshots", 0, 1'000'000);
            if (!n)
                break;
            if (static_cast<std::uint64_t>(*n) >= s.frames)
            {
                p.fail(f, "screenshots: frame " + std::to_string(*n) + " is past the last frame (" +
                              std::to_string(s.frames - 1) + ")");
                break;
            }
            s.screenshots.push_back(static_cast<std::uint64_t>(*n));
        }
        std::sort(s.screenshots.begin(), s.screenshots.end());
        s.screenshots.erase(std::unique(s.screenshots.begin(), s.screenshots.end()), s.screenshots.end());
    }
    if (s.screenshots.empty())
        s.screenshots.push_back(s.frames - 1);
    s.golden_frame = s.screenshots.back();
    if (const PyLiteral* v = root.find("golden"))
    {
        if (const auto n = p.integer(*v, "golden", 0, 1'000'000))
        {
            if (std::find(s.screenshots.begin(), s.screenshots.end(), static_cast<std::uint64_t>(*n)) ==
                s.screenshots.end())
                p.fail(*v, "golden: frame " + std::to_string(*n) + " is not listed in screenshots");
            else
                s.golden_frame = static_cast<std::uint64_t>(*n);
        }
    }
    out.error = p.error();
    return out;
}

ScenarioLoad load_scenario(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
    {
        ScenarioLoad out;
        out.error = path + ": cannot read the scenario file";
        return out;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_scenario(text.str(), path);
}

void apply_scenario(const Scenario& s, CliOptions& o)
{
    o.boids = s.boids;
    o.seed = s.seed;
    o.width = s.width;
    o.height = s.height;
    o.frames = s.frames;
    if (o.workers == 0)
        o.workers = s.workers;
    if (s.script)
        o.script = *s.script;
    if (s.deadline_ms)
        o.deadline_ms = *s.deadline_ms;
    if (s.max_behaviors)
        o.max_behaviors = *s.max_behaviors;
    if (s.watchdog_ms)
        o.watchdog_ms = *s.watchdog_ms;
    o.headless = true;
    o.fixed_dt = true;
}

// ---- running -----------------------------------------------------------------------------

ScenarioRunner::ScenarioRunner(Scenario scenario, ScenarioOutputs outputs, std::FILE* echo)
    : scenario_(std::move(scenario)), outputs_(std::move(outputs)), echo_(echo), clock_(std::make_shared<ManualClock>())
{
    clock_origin_ns_ = clock_->now_ns();
    if (outputs_.log_path.empty() && !outputs_.screenshot_dir.empty())
        outputs_.log_path = (std::filesystem::path(outputs_.screenshot_dir) / (scenario_.name + ".log")).string();
}

ScenarioRunner::~ScenarioRunner()
{
    if (log_ != nullptr)
        std::fclose(log_);
}

void ScenarioRunner::install_runtime_hooks()
{
    boc::py::BocpyRuntime::set_default_clock(clock_);
    boc::py::BocpyRuntime::set_watchdog_monitor_period(std::chrono::milliseconds(0));
}

void ScenarioRunner::apply_initial_controls(DemoControls& controls) const
{
    if (scenario_.dispatch)
        controls.dispatch = *scenario_.dispatch == "per_item" ? DispatchMode::kPerItem : DispatchMode::kCoarse;
}

double ScenarioRunner::clock_ms() const
{
    return static_cast<double>(clock_->now_ns() - clock_origin_ns_) / 1e6;
}

void ScenarioRunner::line(const std::string& text)
{
    if (log_ != nullptr)
        std::fprintf(log_, "%s\n", text.c_str());
    if (echo_ != nullptr && text.rfind("frame ", 0) != 0)
        std::fprintf(echo_, "scenario %s: %s\n", scenario_.name.c_str(), text.c_str());
}

bool ScenarioRunner::start(const std::string& driver_name, std::size_t workers)
{
    std::error_code ec;
    if (!outputs_.screenshot_dir.empty())
    {
        std::filesystem::create_directories(outputs_.screenshot_dir, ec);
        if (ec)
        {
            error_ = "cannot create the screenshot directory " + outputs_.screenshot_dir + ": " + ec.message();
            return false;
        }
    }
    if (!outputs_.log_path.empty())
    {
        const std::filesystem::path parent = std::filesystem::path(outputs_.log_path).parent_path();
        if (!parent.empty())
            std::filesystem::create_directories(parent, ec);
        log_ = std::fopen(outputs_.log_path.c_str(), "w");
        if (log_ == nullptr)
        {
            error_ = "cannot write the scenario log " + outputs_.log_path;
            return false;
        }
    }
    // Header lines start with '#'; the worker count is only here, so logs of runs with
    // different worker counts can be compared line by line below the header.
    if (log_ != nullptr)
    {
        std::fprintf(log_, "# boids_demo scenario %s (%s)\n", scenario_.name.c_str(), scenario_.path.c_str());
        if (!scenario_.description.empty())
            std::fprintf(log_, "# %s\n", scenario_.description.c_str());
        std::fprintf(log_, "# driver %s, workers %zu\n", driver_name.c_str(), workers);
        std::fprintf(log_, "# boids %zu seed %llu size %dx%d frames %llu frame_ms %s\n", scenario_.boids,
                     static_cast<unsigned long long>(scenario_.seed), scenario_.width, scenario_.height,
                     static_cast<unsigned long long>(scenario_.frames), format_ms(kFrameNs / 1e6).c_str());
    }
    if (echo_ != nullptr)
    {
        std::fprintf(echo_, "scenario %s: %llu frames, %zu boids, driver %s%s%s\n", scenario_.name.c_str(),
                     static_cast<unsigned long long>(scenario_.frames), scenario_.boids, driver_name.c_str(),
                     scenario_.description.empty() ? "" : " -- ", scenario_.description.c_str());
    }
    return true;
}

void ScenarioRunner::apply(const ScenarioAction& a, DemoControls& c)
{
    if (a.verb == "pause_pump")
        c.pump_paused = a.value.b;
    else if (a.verb == "pause_sim")
        c.paused = a.value.b;
    else if (a.verb == "stall_ms")
        c.stall_ms = static_cast<int>(a.value.i);
    else if (a.verb == "stall_once")
        stall_once_ms_ += static_cast<int>(a.value.i);
    else if (a.verb == "dispatch")
        c.dispatch = a.value.s == "per_item" ? DispatchMode::kPerItem : DispatchMode::kCoarse;
    else if (a.verb == "step")
        c.step_requested = true;
    else if (a.verb == "clear_errors")
        c.clear_errors_requested = true;
    else if (a.verb == "set")
    {
        const PyLiteral& v = a.value;
        const bool none = v.kind == PyLiteral::Kind::kNone;
        if (a.knob == "deadline_ms")
        {
            c.deadline_unbounded = none;
            if (!none)
                c.deadline_ms = static_cast<float>(v.as_double());
        }
        else if (a.knob == "max_behaviors")
        {
            c.max_behaviors_unbounded = none;
            if (!none)
                c.max_behaviors = static_cast<int>(v.i);
        }
        else if (a.knob == "watchdog_ms")
        {
            c.watchdog_enabled = !none && v.as_double() > 0.0;
            if (c.watchdog_enabled)
                c.watchdog_warn_ms = static_cast<float>(v.as_double());
            c.watchdog_changed = true;
        }
        else if (a.knob == "wait_poll_ms")
            c.wait_poll_ms = static_cast<float>(v.as_double());
        else if (a.knob == "boids")
        {
            c.boid_count = static_cast<int>(v.i);
            c.boid_count_changed = true;
        }
        else
        {
            const float f = static_cast<float>(v.as_double());
            FlockParams& p = c.flock;
            if (a.knob == "cohesion")
                p.cohesion = f;
            else if (a.knob == "alignment")
                p.alignment = f;
            else if (a.knob == "separation")
                p.separation = f;
            else if (a.knob == "neighbour_radius")
                p.neighbour_radius = f;
            else if (a.knob == "separation_radius")
                p.separation_radius = f;
            else if (a.knob == "min_speed")
                p.min_speed = f;
            else if (a.knob == "max_speed")
                p.max_speed = f;
            else if (a.knob == "bounds_margin")
                p.bounds_margin = f;
            else if (a.knob == "bounds_turn")
                p.bounds_turn = f;
        }
    }
    // "note" only logs.
}

void ScenarioRunner::begin_frame(std::uint64_t frame, DemoControls& controls)
{
    clock_->advance(std::chrono::nanoseconds(kFrameNs));
    if (const auto it = scenario_.actions.find(frame); it != scenario_.actions.end())
    {
        for (const ScenarioAction& a : it->second)
        {
            apply(a, controls);
            line("action frame=" + std::to_string(frame) + " " + a.text());
        }
    }
    // The watchdog's pump-entry observation point.
    episode_at_pump_ = -1;
    age_at_pump_ms_ = 0;
    depth_at_pump_ = 0;
    reports_at_begin_ = 0;
    if (boc::py::BocpyRuntime* rt = boc::py::BocpyRuntime::get())
    {
        boc::Runtime& runtime = rt->runtime();
        const PinnedQueueState s = runtime.pinned_state();
        episode_at_pump_ = static_cast<std::int64_t>(s.episode);
        depth_at_pump_ = s.depth;
        age_at_pump_ms_ = runtime.pinned_age_ms();
        reports_at_begin_ = runtime.watchdog().reports();
    }
}

void ScenarioRunner::after_pump(std::uint64_t)
{
    depth_after_pump_ = 0;
    if (boc::py::BocpyRuntime* rt = boc::py::BocpyRuntime::get())
        depth_after_pump_ = rt->runtime().pinned_depth();
}

bool ScenarioRunner::stall(int stall_ms)
{
    const int total = std::max(0, stall_ms) + stall_once_ms_;
    stall_once_ms_ = 0;
    clock_->advance(std::chrono::milliseconds(total));
    return true;  // never sleep: virtual time only
}

void ScenarioRunner::after_step(std::uint64_t frame)
{
    episode_at_sample_ = -1;
    reports_before_sample_ = reports_after_sample_ = reports_at_begin_;
    boc::py::BocpyRuntime* rt = boc::py::BocpyRuntime::get();
    if (rt == nullptr)
        return;
    boc::Runtime& runtime = rt->runtime();
    // Every tile behavior has finished, so the frame's write-back is queued (or not) at
    // a fixed point of the virtual clock.
    if (!runtime.wait_workers_idle(std::chrono::seconds(60)))
    {
        line("error frame=" + std::to_string(frame) + " worker behaviors did not finish within 60 s");
        error_ = "frame " + std::to_string(frame) + ": worker behaviors did not finish within 60 s";
    }
    // The monitor thread's sample, at a fixed point of every frame.
    reports_before_sample_ = runtime.watchdog().reports();
    episode_at_sample_ = static_cast<std::int64_t>(runtime.pinned_state().episode);
    runtime.watchdog().sample(/*from_monitor=*/true);
    reports_after_sample_ = runtime.watchdog().reports();
}

void ScenarioRunner::frame_recorded(std::uint64_t frame, const DemoControls& controls, const DemoStats& stats)
{
    const RuntimeSnapshot& r = stats.runtime;
    const StarvationStatus starving = starvation_status(r, controls.watchdog_warn_ms);
    char buf[512];
    std::snprintf(buf, sizeof(buf),
                  "frame %llu clock_ms=%s pump=%s executed=%zu deadline=%d raised=%zu pump_episode=%lld "
                  "pump_depth=%zu pump_age_ms=%lld drained_depth=%zu depth=%zu age_ms=%.0f episode=%lld banner=%d "
                  "warn_ms=%s dispatch=%s max_behaviors=%s stall_ms=%d behaviors=%llu total=%llu pending=%d "
                  "watchdog_total=%llu errors=%llu",
                  static_cast<unsigned long long>(frame), format_ms(clock_ms()).c_str(),
                  stats.pump_skipped ? "skipped" : "ran", stats.pump.executed, stats.pump.deadline_reached ? 1 : 0,
                  stats.pump.raised, static_cast<long long>(episode_at_pump_), depth_at_pump_,
                  static_cast<long long>(age_at_pump_ms_), depth_after_pump_, r.pinned_depth, r.pinned_age_ms,
                  static_cast<long long>(episode_at_sample_), starving.starving ? 1 : 0,
                  controls.watchdog_enabled ? format_ms(controls.watchdog_warn_ms).c_str() : "off",
                  controls.dispatch == DispatchMode::kPerItem ? "per_item" : "coarse",
                  controls.max_behaviors_unbounded ? "unbounded" : std::to_string(controls.max_behaviors).c_str(),
                  controls.stall_ms, static_cast<unsigned long long>(stats.behaviors_this_frame),
                  static_cast<unsigned long long>(r.behaviors_total), r.step_pending ? 1 : 0,
                  static_cast<unsigned long long>(stats.watchdog_total),
                  static_cast<unsigned long long>(stats.errors_total));
    line(buf);

    // New watchdog reports: those of pump() entry come first, then the frame's sample.
    const std::uint64_t fresh = stats.watchdog_total - watchdog_seen_;
    watchdog_seen_ = stats.watchdog_total;
    const std::uint64_t at_pump = reports_before_sample_ - reports_at_begin_;
    const std::size_t n = stats.watchdog_log.size();
    for (std::uint64_t k = 0; k < fresh; ++k)
    {
        const bool from_pump = k < at_pump;
        // The log keeps the newest kDemoStats::kWatchdogLogMax entries; fresh ones are at its end.
        const std::size_t index = n - static_cast<std::size_t>(std::min<std::uint64_t>(fresh, n)) + k;
        if (index >= n)
            break;
        const WatchdogEvent& e = stats.watchdog_log[index];
        char w[256];
        std::snprintf(w, sizeof(w), "watchdog frame=%llu source=%s episode=%lld time_s=%.3f age_ms=%.0f depth=%zu",
                      static_cast<unsigned long long>(frame), from_pump ? "pump" : "monitor",
                      static_cast<long long>(from_pump ? episode_at_pump_ : episode_at_sample_), e.time_s, e.age_ms,
                      e.depth);
        line(w);
    }
}

std::vector<std::string> ScenarioRunner::screenshot_paths(std::uint64_t frame)
{
    std::vector<std::string> paths;
    if (!std::binary_search(scenario_.screenshots.begin(), scenario_.screenshots.end(), frame))
        return paths;
    if (!outputs_.screenshot_dir.empty())
    {
        char name[64];
        std::snprintf(name, sizeof(name), "_f%04llu.png", static_cast<unsigned long long>(frame));
        paths.push_back((std::filesystem::path(outputs_.screenshot_dir) / (scenario_.name + name)).string());
    }
    if (frame == scenario_.golden_frame && !outputs_.golden_path.empty())
        paths.push_back(outputs_.golden_path);
    return paths;
}

void ScenarioRunner::screenshot_written(std::uint64_t frame, const std::string& path)
{
    written_.push_back(frame);
    line("screenshot frame=" + std::to_string(frame) + " file=" + std::filesystem::path(path).filename().string());
}

bool ScenarioRunner::finish(std::uint64_t frames_rendered)
{
    line("end frames=" + std::to_string(frames_rendered) + " clock_ms=" + format_ms(clock_ms()));
    if (log_ != nullptr)
    {
        const bool ok = std::fclose(log_) == 0;
        log_ = nullptr;
        if (!ok && error_.empty())
            error_ = "cannot write the scenario log " + outputs_.log_path;
    }
    if (!error_.empty())
        return false;
    if (frames_rendered < scenario_.frames)
    {
        error_ = "the run stopped after " + std::to_string(frames_rendered) + " of " +
                 std::to_string(scenario_.frames) + " frames";
        return false;
    }
    const bool want_any = !outputs_.screenshot_dir.empty() || !outputs_.golden_path.empty();
    if (want_any)
    {
        for (const std::uint64_t f : scenario_.screenshots)
        {
            const bool expected = !outputs_.screenshot_dir.empty() || f == scenario_.golden_frame;
            if (expected && std::find(written_.begin(), written_.end(), f) == written_.end())
            {
                error_ = "no screenshot was written for frame " + std::to_string(f);
                return false;
            }
        }
    }
    return true;
}

}  // namespace boc::demo
