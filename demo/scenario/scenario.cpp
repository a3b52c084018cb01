#include "scenario/scenario.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "bocpy_runtime.h"
#include "app/demo_stats.h"
#include "py_ref.h"
#include "sim/python_host.h"

namespace boc::demo {

struct ScenarioRunner::State {
  std::string path, name, description, screenshot_dir;
  CliOptions* options = nullptr;  // while the module level runs: setup() writes here
  bool setup_done = false;
  std::size_t workers_from_cli = 0;  // --workers N > 0 wins over setup(workers=)
  std::optional<DispatchMode> dispatch;
  DemoControls* controls = nullptr;  // while on_frame runs: the actions write here
  std::uint64_t frame = 0;
  std::vector<std::string> shots;
  std::FILE* log = nullptr;
  // The frame's observation points: pump() entry, right after it, the monitor sample.
  std::int64_t episode_at_pump = -1, age_at_pump_ms = 0, episode_at_sample = -1;
  std::size_t depth_at_pump = 0, depth_after_pump = 0;
  std::uint64_t reports_at_begin = 0, reports_before_sample = 0, watchdog_seen = 0;
  bool sample_due = false;
  std::string error;

  void write(const nlohmann::ordered_json& line)  // the log; everything but frame records is echoed
  {
    const std::string text = line.dump();
    if (log != nullptr) std::fprintf(log, "%s\n", text.c_str());
    if (line["kind"] != "frame") std::printf("scenario %s: %s\n", name.c_str(), text.c_str());
  }
};

namespace {

using Ref = boc::py::PyRef;
namespace fs = std::filesystem;
constexpr std::int64_t kFrameNs = 16'666'667;  // 1/60 s, rounded to the nanosecond

// ---- The control module `boids_scenario`: Python checks the arguments, _boids_scenario.act()
// applies them to the frame's controls and logs them.
constexpr const char* kControlModule = R"PY(
"""What a scenario can do: README, "Starvation scenarios"."""
import traceback
from _boids_scenario import act as _act, setup as _setup

FLOCK = ("cohesion", "alignment", "separation", "neighbour_radius", "separation_radius", "min_speed",
         "max_speed", "bounds_margin", "bounds_turn")
KNOBS = {"deadline_ms": (0, 60000, float, "positive"), "max_behaviors": (1, 2**31 - 1, int, "none"),
         "watchdog_ms": (0, 3600000, float, "none"), "wait_poll_ms": (1, 10000, float, ""),
         "boids": (1, 1000000, int, ""), **{k: (0, 1e6, float, "") for k in FLOCK}}


def _check(what, v, lo, hi, kind=float, extra=""):  # extra: "none" (None allowed), "positive" (and > 0)
    if (v is not None or not extra) and (isinstance(v, bool) or not isinstance(v, (int, float) if kind is float else int)
                                         or not lo <= v <= hi or (extra == "positive" and v <= 0)):
        what += f": expected {'an integer' if kind is int else 'a positive number' if extra == 'positive' else 'a number'}"
        raise ValueError(f"{what} in [{lo}, {hi}]{' or None' if extra else ''}, got {v!r}")
    return v


def _choice(what, v, choices):
    if v not in choices or not isinstance(v, type(choices[0])):
        raise ValueError(f"{what}: expected {' or '.join(map(repr, choices))}, got {v!r}")
    return v


def setup(*, description="", name=None, dispatch=None, **options):
    args = [a for k, v in options.items() for a in ("--" + k.replace("_", "-"), str(v) if v is not None
                                                      else "0" if k == "watchdog_ms" else "unbounded")]
    _setup(description, name, dispatch and _choice("dispatch", dispatch, ("coarse", "per_item")), args)
def pause_pump(on): _act("pause_pump", _choice("pause_pump", on, (True, False)))
def pause_sim(on): _act("pause_sim", _choice("pause_sim", on, (True, False)))
def stall_ms(n): _act("stall_ms", _check("stall_ms", n, 0, 60000, int))
def stall_once(n): _act("stall_once", _check("stall_once", n, 0, 60000, int))
def dispatch(mode): _act("dispatch", _choice("dispatch", mode, ("coarse", "per_item")))
def step(): _act("step")
def clear_errors(): _act("clear_errors")
def note(text): _act("note", str(text))
def screenshot(): _act("screenshot")


def set_knob(name, value):
    if name not in KNOBS:
        raise ValueError(f"unknown knob {name!r} (known: {', '.join(KNOBS)})")
    _act("set_knob", _check(name, value, *KNOBS[name]), name)


def _run(path):  # the scenario's module level; returns its on_frame
    scenario = {"__file__": path, "__name__": "__scenario__"}
    with open(path, encoding="utf-8") as f:
        exec(compile(f.read(), path, "exec"), scenario)
    return scenario.get("on_frame")


def _error(exc, path):  # ("path:line: Type: message" at the script's deepest frame, the traceback)
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
    return (f"{path}{':' + str(lines[-1]) if lines else ''}: {type(exc).__name__}: {exc}",
            "".join(traceback.format_exception(exc)))
)PY";

using State = ScenarioRunner::State;
State* g_state = nullptr;  // the one scenario of the process

using C = DemoControls;
using Set = void (*)(C& c, double v, bool none);
const std::pair<const char*, Set> kSetters[] = {
    {"pause_pump", [](C& c, double v, bool) { c.pump_paused = v != 0; }},
    {"pause_sim", [](C& c, double v, bool) { c.paused = v != 0; }},
    {"stall_ms", [](C& c, double v, bool) { c.stall_ms = static_cast<int>(v); }},
    {"stall_once", [](C& c, double v, bool) { c.stall_once_ms = static_cast<int>(v); }},
    {"step", [](C& c, double, bool) { c.step_requested = true; }},
    {"clear_errors", [](C& c, double, bool) { c.clear_errors_requested = true; }},
    {"deadline_ms",
     [](C& c, double v, bool none) {
       c.deadline_ms = (c.deadline_unbounded = none) ? c.deadline_ms : static_cast<float>(v);
     }},
    {"max_behaviors",
     [](C& c, double v, bool none) {
       c.max_behaviors = (c.max_behaviors_unbounded = none) ? c.max_behaviors : static_cast<int>(v);
     }},
    {"watchdog_ms",
     [](C& c, double v, bool) {
       c.watchdog_warn_ms = (c.watchdog_enabled = v > 0) ? static_cast<float>(v) : c.watchdog_warn_ms,
       c.watchdog_changed = true;
     }},
    {"wait_poll_ms", [](C& c, double v, bool) { c.wait_poll_ms = static_cast<float>(v); }},
    {"boids", [](C& c, double v, bool) { c.boid_count = static_cast<int>(v), c.boid_count_changed = true; }},
};

std::nullptr_t fail(PyObject* type, const std::string& message) {
  PyErr_SetString(type, message.c_str());
  return nullptr;
}

// act(action, value=None, knob=None): checked already by the Python side.
PyObject* act(PyObject*, PyObject* args) {
  const char* action = nullptr;
  const char* knob = nullptr;
  PyObject* v = nullptr;
  State& s = *g_state;
  if (!PyArg_ParseTuple(args, "s|Oz", &action, &v, &knob)) return nullptr;
  if (s.controls == nullptr)
    return fail(PyExc_RuntimeError, std::string(action) + "() can only be called inside on_frame(frame)");
  nlohmann::ordered_json line{{"kind", "action"}, {"frame", s.frame}, {"action", action}};
  const std::string name = knob != nullptr ? knob : action;
  const double d = v == nullptr || v == Py_None || PyUnicode_Check(v) ? 0.0 : PyFloat_AsDouble(v);
  for (const auto& [setter, set] : kSetters)
    if (name == setter) set(*s.controls, d, v == Py_None);
  for (const auto& [flock_knob, field] : kFlockKnobs)
    if (name == flock_knob) s.controls->flock.*field = static_cast<float>(d);
  if (name == "dispatch")
    s.controls->dispatch = boc::py::utf8_of(v) == "per_item" ? DispatchMode::kPerItem : DispatchMode::kCoarse;
  if (knob != nullptr) line["knob"] = knob;
  if (v != nullptr)
    line["value"] = v == Py_None       ? nlohmann::ordered_json()
                    : PyBool_Check(v)  ? nlohmann::ordered_json(v == Py_True)
                    : PyLong_Check(v)  ? nlohmann::ordered_json(PyLong_AsLongLong(v))
                    : PyFloat_Check(v) ? nlohmann::ordered_json(PyFloat_AsDouble(v))
                                       : nlohmann::ordered_json(boc::py::utf8_of(v));
  if (name == "screenshot" && !s.screenshot_dir.empty()) {
    char file[32];
    std::snprintf(file, sizeof(file), "_f%04llu.png", static_cast<unsigned long long>(s.frame));
    s.shots.push_back((fs::path(s.screenshot_dir) / (s.name + file)).string());
    line = {{"kind", "screenshot"}, {"frame", s.frame}, {"file", s.name + file}};
  }
  s.write(line);
  Py_RETURN_NONE;
}

// setup(description, name, dispatch, args): `args` (the command-line options among the settings)
// are parsed over the command line's options, so they are checked and worded as the options are.
PyObject* setup(PyObject*, PyObject* args) {
  State& s = *g_state;
  const char *description = nullptr, *name = nullptr, *dispatch = nullptr;
  PyObject* list = nullptr;
  if (!PyArg_ParseTuple(args, "szzO!", &description, &name, &dispatch, &PyList_Type, &list)) return nullptr;
  if (s.options == nullptr || s.setup_done)
    return fail(PyExc_RuntimeError, "setup() is called once, at the scenario's module level");
  std::vector<std::string> cli;
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); ++i) cli.push_back(boc::py::utf8_of(PyList_GET_ITEM(list, i)));
  const std::vector<std::string_view> views(cli.begin(), cli.end());
  CliResult parsed = parse_cli(views, *s.options);
  if (!parsed.ok()) return fail(PyExc_ValueError, "setup: " + parsed.error);
  *s.options = parsed.options;
  s.options->workers = s.workers_from_cli != 0 ? s.workers_from_cli : s.options->workers;
  s.description = description;
  s.name = name != nullptr ? name : s.name;
  s.dispatch = dispatch == nullptr                   ? s.dispatch
               : std::string(dispatch) == "per_item" ? DispatchMode::kPerItem
                                                     : DispatchMode::kCoarse;
  s.setup_done = true;
  Py_RETURN_NONE;
}

PyMethodDef g_methods[] = {{"act", act, METH_VARARGS, nullptr}, {"setup", setup, METH_VARARGS, nullptr}, {}};
PyModuleDef g_native = {
    PyModuleDef_HEAD_INIT, "_boids_scenario", nullptr, -1, g_methods, nullptr, nullptr, nullptr, nullptr};

// `_boids_scenario` and `boids_scenario` (kControlModule) in sys.modules: the latter, a new
// reference, or nullptr with an error set. GIL held.
PyObject* install_control_module(State* state) {
  g_state = state;
  const Ref native(PyModule_Create(&g_native));
  const Ref code(Py_CompileString(kControlModule, "<boids_scenario>", Py_file_input));
  const bool ok =
      native && code && PyDict_SetItemString(PyImport_GetModuleDict(), "_boids_scenario", native.get()) == 0;
  return ok ? PyImport_ExecCodeModule("boids_scenario", code.get()) : nullptr;
}

// ---- The wrapped driver ----

// step() returns when every worker behavior has run (what the pinned queue holds no longer
// depends on thread timing); the frame's snapshot() is preceded by the monitor sample.
class SettledDriver final : public ForwardingDriver {
 public:
  SettledDriver(std::unique_ptr<SimulationDriver> inner, std::shared_ptr<ScenarioRunner::State> state)
      : ForwardingDriver(std::move(inner)), s_(std::move(state)) {}
  PumpFrame pump(const PumpSettings& settings) override {
    const PumpFrame f = ForwardingDriver::pump(settings);
    if (boc::py::BocpyRuntime* rt = boc::py::BocpyRuntime::get()) s_->depth_after_pump = rt->runtime().pinned_depth();
    return f;
  }
  void step(const StepRequest& request) override {
    ForwardingDriver::step(request);
    settle();
  }
  RuntimeSnapshot snapshot() const override {
    if (boc::py::BocpyRuntime* rt = boc::py::BocpyRuntime::get(); rt != nullptr && s_->sample_due) {
      s_->sample_due = false;
      settle();
      s_->reports_before_sample = rt->runtime().watchdog().reports();
      s_->episode_at_sample = static_cast<std::int64_t>(rt->runtime().pinned_state().episode);
      rt->runtime().watchdog().sample(/*from_monitor=*/true);
    }
    return ForwardingDriver::snapshot();
  }

 private:
  void settle() const {
    boc::py::BocpyRuntime* rt = boc::py::BocpyRuntime::get();
    if (rt != nullptr && !rt->runtime().wait_workers_idle(std::chrono::seconds(60)) && s_->error.empty())
      s_->error = "frame " + std::to_string(s_->frame) + ": worker behaviors did not finish within 60 s";
  }

  std::shared_ptr<ScenarioRunner::State> s_;
};

}  // namespace

// ---- The runner ----

void ScenarioRunner::fail_from_python() {
  const Ref exc(PyErr_GetRaisedException());
  const Ref error(module_ != nullptr ? PyObject_CallMethod(module_, "_error", "Os", exc.get(), state_->path.c_str())
                                     : nullptr);
  const char *message = nullptr, *traceback = nullptr;
  if (!error || !PyArg_ParseTuple(error.get(), "ss", &message, &traceback))
    return PyErr_Clear(), void(error_ = state_->path + ": the scenario failed");
  error_ = message;
  traceback_ = traceback;
}

bool ScenarioRunner::load(const std::string& path, CliOptions& o) {
  State& s = *(state_ = std::make_shared<State>());
  s.path = fs::absolute(path).lexically_normal().string();
  s.name = fs::path(path).stem().string();
  // What a scenario implies unless its setup() says otherwise.
  s.workers_from_cli = o.workers;
  o.boids = 400;
  o.seed = 1;
  o.width = 640;
  o.height = 360;
  o.frames = 150;
  o.workers = o.workers == 0 ? 2 : o.workers;
  PythonHost::instance();
  PythonHost::Gil gil;
  s.options = &o;
  module_ = install_control_module(&s);
  on_frame_ = module_ != nullptr ? PyObject_CallMethod(module_, "_run", "s", s.path.c_str()) : nullptr;
  s.options = nullptr;
  if (on_frame_ == nullptr) return fail_from_python(), false;
  if (!s.setup_done) return error_ = s.path + ": the scenario never calls boids_scenario.setup(...)", false;
  if (on_frame_ == Py_None) Py_CLEAR(on_frame_);
  options_ = o;
  s.screenshot_dir = o.screenshot_dir;
  boc::py::BocpyRuntime::set_default_clock(clock_);
  boc::py::BocpyRuntime::set_watchdog_monitor_period(std::chrono::milliseconds(0));
  return true;
}

ScenarioRunner::~ScenarioRunner() {
  if (state_ && state_->log != nullptr) std::fclose(state_->log);
  if (PythonHost::alive()) {
    PythonHost::Gil gil;
    Py_CLEAR(on_frame_);
    Py_CLEAR(module_);
  }
}

std::unique_ptr<SimulationDriver> ScenarioRunner::wrap_driver(std::unique_ptr<SimulationDriver> driver) {
  return std::make_unique<SettledDriver>(std::move(driver), state_);
}

bool ScenarioRunner::start(const std::string& driver_name, std::size_t workers, DemoControls& controls) {
  State& s = *state_;
  controls.dispatch = s.dispatch.value_or(controls.dispatch);
  const CliOptions& o = options_;
  std::string log = o.scenario_log;
  if (log.empty() && !o.screenshot_dir.empty()) log = (fs::path(o.screenshot_dir) / (s.name + ".log")).string();
  std::error_code ec;
  for (const fs::path& dir : {fs::path(o.screenshot_dir), fs::path(log).parent_path()})
    if (!dir.empty()) fs::create_directories(dir, ec);
  if (!log.empty() && (s.log = std::fopen(log.c_str(), "w")) == nullptr)
    return error_ = "cannot write the scenario log " + log, false;
  // The worker count is only in the header: logs of runs with different worker counts compare
  // line by line below it.
  s.write({{"kind", "header"},
           {"scenario", s.name},
           {"path", s.path},
           {"description", s.description},
           {"driver", driver_name},
           {"workers", workers},
           {"boids", o.boids},
           {"seed", o.seed},
           {"size", {o.width, o.height}},
           {"frames", *o.frames},
           {"frame_ms", kFrameNs / 1e6}});
  return true;
}

void ScenarioRunner::log_frame(std::uint64_t frame, const DemoControls& c, const DemoStats& stats) {
  State& s = *state_;
  const RuntimeSnapshot& r = stats.runtime;
  using J = nlohmann::ordered_json;
  s.write({{"kind", "frame"},
           {"frame", frame},
           {"clock_ms", (clock_->now_ns() - clock_origin_ns_) / 1e6},
           {"pump", stats.pump_skipped ? "skipped" : "ran"},
           {"executed", stats.pump.executed},
           {"deadline_reached", stats.pump.deadline_reached},
           {"raised", stats.pump.raised},
           {"pump_episode", s.episode_at_pump},
           {"pump_depth", s.depth_at_pump},
           {"pump_age_ms", s.age_at_pump_ms},
           {"drained_depth", s.depth_after_pump},
           {"depth", r.pinned_depth},
           {"age_ms", r.pinned_age_ms},
           {"episode", s.episode_at_sample},
           {"banner", starvation_status(r, c.watchdog_warn_ms).starving},
           {"warn_ms", c.watchdog_enabled ? J(c.watchdog_warn_ms) : J()},
           {"dispatch", c.dispatch == DispatchMode::kPerItem ? "per_item" : "coarse"},
           {"max_behaviors", c.max_behaviors_unbounded ? J() : J(c.max_behaviors)},
           {"stall_ms", c.stall_ms},
           {"behaviors", stats.behaviors_this_frame},
           {"total", r.behaviors_total},
           {"pending", r.step_pending},
           {"watchdog_total", stats.watchdog_total},
           {"errors", stats.errors_total}});
  // New reports: those of pump() entry first, then the monitor sample's; the panel's log keeps
  // the newest entries, so the fresh ones are at its end.
  const std::uint64_t fresh = stats.watchdog_total - std::exchange(s.watchdog_seen, stats.watchdog_total);
  const std::size_t n = stats.watchdog_log.size();
  for (std::size_t k = 0, first = n - std::min<std::size_t>(fresh, n); first + k < n; ++k) {
    const WatchdogEvent& e = stats.watchdog_log[first + k];
    const bool at_pump = k < s.reports_before_sample - s.reports_at_begin;
    s.write({{"kind", "watchdog"},
             {"frame", frame},
             {"source", at_pump ? "pump" : "monitor"},
             {"episode", at_pump ? s.episode_at_pump : s.episode_at_sample},
             {"time_s", e.time_s},
             {"age_ms", e.age_ms},
             {"depth", e.depth}});
  }
}

FramePlan ScenarioRunner::frame(std::uint64_t frame, DemoControls& controls, const DemoStats& stats) {
  State& s = *state_;
  if (frame > 0) log_frame(frame - 1, controls, stats);
  clock_->advance(std::chrono::nanoseconds(kFrameNs));
  s.frame = frame;
  s.sample_due = true;
  // The pump() entry observation point: nothing touches the queue before pump() runs.
  if (boc::py::BocpyRuntime* rt = boc::py::BocpyRuntime::get()) {
    const PinnedQueueState q = rt->runtime().pinned_state();
    s.episode_at_pump = static_cast<std::int64_t>(q.episode);
    s.depth_at_pump = s.depth_after_pump = q.depth;  // pump() overwrites depth_after_pump
    s.age_at_pump_ms = rt->runtime().pinned_age_ms();
    s.reports_at_begin = s.reports_before_sample = rt->runtime().watchdog().reports();
  }
  if (on_frame_ != nullptr) {
    PythonHost::Gil gil;
    s.controls = &controls;
    const Ref r(PyObject_CallFunction(on_frame_, "K", static_cast<unsigned long long>(frame)));
    s.controls = nullptr;
    if (!r) fail_from_python();
  }
  FramePlan plan;
  plan.screenshots.swap(s.shots);
  plan.stop = !error_.empty() || !s.error.empty();
  return plan;
}

bool ScenarioRunner::finish(std::uint64_t frames_rendered, const DemoControls& controls, const DemoStats& stats) {
  State& s = *state_;
  if (error_.empty() && frames_rendered > 0) log_frame(frames_rendered - 1, controls, stats);
  s.write({{"kind", "end"}, {"frames", frames_rendered}, {"clock_ms", (clock_->now_ns() - clock_origin_ns_) / 1e6}});
  if (s.log != nullptr && std::fclose(std::exchange(s.log, nullptr)) != 0 && error_.empty())
    error_ = "cannot write the scenario log";
  if (error_.empty() && (error_ = s.error).empty() && frames_rendered < *options_.frames)
    error_ = "the run stopped after " + std::to_string(frames_rendered) + " of " + std::to_string(*options_.frames) +
             " frames";
  return error_.empty();
}

}  // namespace boc::demo
