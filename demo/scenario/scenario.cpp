#include "scenario/scenario.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bocpy_runtime.h"
#include "demo_stats.h"
#include "py_ref.h"
#include "python_host.h"

namespace boc::demo {

namespace {

using Ref = boc::py::PyRef;
namespace fs = std::filesystem;

// The driver with the scenario's fixed observation points: step() returns when every worker
// behavior has run (what the pinned queue holds no longer depends on thread timing), and the
// frame's snapshot() is preceded by the watchdog's monitor sample.
class SettledDriver final : public SimulationDriver
{
public:
    SettledDriver(std::unique_ptr<SimulationDriver> inner, std::shared_ptr<ScenarioRunner::State> state)
        : inner_(std::move(inner)), s_(std::move(state))
    {
    }
    std::string_view name() const override { return inner_->name(); }
    void attach_sink(InstanceSink* sink) override { inner_->attach_sink(sink); }
    void reset(const FlockSetup& setup) override { inner_->reset(setup); }
    void configure_watchdog(const WatchdogSettings& w) override { inner_->configure_watchdog(w); }
    PumpFrame pump(const PumpSettings& settings) override
    {
        const PumpFrame f = inner_->pump(settings);
        if (boc::py::BocpyRuntime* rt = boc::py::BocpyRuntime::get())
            s_->depth_after_pump = rt->runtime().pinned_depth();
        return f;
    }
    void step(const StepRequest& request) override
    {
        inner_->step(request);
        settle();
    }
    RuntimeSnapshot snapshot() const override
    {
        boc::py::BocpyRuntime* rt = boc::py::BocpyRuntime::get();
        if (s_->sample_due && rt != nullptr)
        {
            s_->sample_due = false;
            settle();
            boc::Runtime& r = rt->runtime();
            s_->reports_before_sample = r.watchdog().reports();
            s_->episode_at_sample = static_cast<std::int64_t>(r.pinned_state().episode);
            r.watchdog().sample(/*from_monitor=*/true);
        }
        return inner_->snapshot();
    }
    std::vector<WatchdogEvent> drain_watchdog_events() override { return inner_->drain_watchdog_events(); }
    std::vector<ErrorEntry> drain_errors() override { return inner_->drain_errors(); }
    bool final_state(std::vector<double>& xyvv) override { return inner_->final_state(xyvv); }
    void shutdown() override { inner_->shutdown(); }

private:
    void settle() const
    {
        boc::py::BocpyRuntime* rt = boc::py::BocpyRuntime::get();
        if (rt != nullptr && !rt->runtime().wait_workers_idle(std::chrono::seconds(60)) && s_->error.empty())
            s_->error = "frame " + std::to_string(s_->frame) + ": worker behaviors did not finish within 60 s";
    }

    std::unique_ptr<SimulationDriver> inner_;
    std::shared_ptr<ScenarioRunner::State> s_;
};

}  // namespace

void ScenarioRunner::State::write(const nlohmann::ordered_json& line)
{
    const std::string text = line.dump();
    if (log != nullptr)
        std::fprintf(log, "%s\n", text.c_str());
    if (echo != nullptr && line["kind"] != "frame")
        std::fprintf(echo, "scenario %s: %s\n", name.c_str(), text.c_str());
}

void ScenarioRunner::fail_from_python()
{
    // "path:line: message" at the deepest frame of the script, then the whole traceback.
    int line = 0;
    if (PyObject* exc = PyErr_GetRaisedException())
    {
        for (PyObject* tb = PyException_GetTraceback(exc); tb != nullptr && tb != Py_None;)
        {
            auto* t = reinterpret_cast<PyTracebackObject*>(tb);
            Ref code(reinterpret_cast<PyObject*>(PyFrame_GetCode(t->tb_frame)));
            Ref lineno(PyObject_GetAttrString(tb, "tb_lineno"));  // computed on access since 3.11
            if (boc::py::utf8_of(reinterpret_cast<PyCodeObject*>(code.get())->co_filename) == state_->path && lineno)
                line = static_cast<int>(PyLong_AsLong(lineno.get()));
            PyObject* next = Py_XNewRef(reinterpret_cast<PyObject*>(t->tb_next));
            Py_DECREF(tb);
            tb = next;
        }
        PyErr_SetRaisedException(exc);
    }
    const PythonError e = fetch_python_error();
    traceback_ = e.traceback;
    error_ = state_->path;  // appended, not operator+: GCC 12 -O2 raises a false -Wrestrict on ":" + string
    if (line > 0)
        error_.append(":").append(std::to_string(line));
    error_.append(": ").append(e.message);
}

bool ScenarioRunner::load(const std::string& path, CliOptions& o, ScenarioOutputs outputs)
{
    state_ = std::make_shared<State>();
    state_->path = fs::absolute(path).lexically_normal().string();
    state_->name = fs::path(path).stem().string();
    state_->screenshot_dir = outputs.screenshot_dir;
    log_path_ = outputs.log_path;
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in)
    {
        error_ = path + ": cannot read the scenario file";
        return false;
    }
    // What a scenario implies unless its setup() says otherwise.
    o.boids = 400;
    o.seed = 1;
    o.width = 640;
    o.height = 360;
    o.frames = 150;
    state_->workers_from_cli = o.workers;
    if (o.workers == 0)
        o.workers = 2;
    o.headless = o.fixed_dt = true;

    PythonHost::instance();
    PythonHost::Gil gil;
    state_->options = &o;
    Ref code(install_control_module(state_.get())
                 ? Py_CompileString(text.str().c_str(), state_->path.c_str(), Py_file_input)
                 : nullptr);
    module_ = code ? PyModule_New(state_->name.c_str()) : nullptr;
    PyObject* globals = module_ != nullptr ? PyModule_GetDict(module_) : nullptr;  // borrowed
    Ref file(PyUnicode_FromString(state_->path.c_str()));
    const bool ok = globals != nullptr && file && PyDict_SetItemString(globals, "__file__", file.get()) == 0 &&
                    PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) == 0 &&
                    Ref(PyEval_EvalCode(code.get(), globals, globals));
    state_->options = nullptr;
    if (!ok)
    {
        fail_from_python();
        return false;
    }
    if (!state_->setup_done)
    {
        error_ = state_->path + ": the scenario never calls boids_scenario.setup(...)";
        return false;
    }
    on_frame_ = Py_XNewRef(PyDict_GetItemString(globals, "on_frame"));
    options_ = o;
    if (log_path_.empty() && !state_->screenshot_dir.empty())
        log_path_ = (fs::path(state_->screenshot_dir) / (state_->name + ".log")).string();
    boc::py::BocpyRuntime::set_default_clock(clock_);
    boc::py::BocpyRuntime::set_watchdog_monitor_period(std::chrono::milliseconds(0));
    return true;
}

ScenarioRunner::~ScenarioRunner()
{
    if (state_ && state_->log != nullptr)
        std::fclose(state_->log);
    if (module_ != nullptr && PythonHost::alive())
    {
        PythonHost::Gil gil;
        Py_CLEAR(on_frame_);
        Py_CLEAR(module_);
    }
}

std::unique_ptr<SimulationDriver> ScenarioRunner::wrap_driver(std::unique_ptr<SimulationDriver> driver)
{
    return std::make_unique<SettledDriver>(std::move(driver), state_);
}

void ScenarioRunner::apply_initial_controls(DemoControls& controls) const
{
    if (state_->dispatch)
        controls.dispatch = *state_->dispatch;
}

bool ScenarioRunner::start(const std::string& driver_name, std::size_t workers)
{
    std::error_code ec;
    if (!state_->screenshot_dir.empty() && (fs::create_directories(state_->screenshot_dir, ec), ec))
    {
        error_ = "cannot create the screenshot directory " + state_->screenshot_dir + ": " + ec.message();
        return false;
    }
    if (!log_path_.empty())
    {
        if (const fs::path parent = fs::path(log_path_).parent_path(); !parent.empty())
            fs::create_directories(parent, ec);
        if ((state_->log = std::fopen(log_path_.c_str(), "w")) == nullptr)
        {
            error_ = "cannot write the scenario log " + log_path_;
            return false;
        }
    }
    // The worker count is only in the header, so logs of runs with different worker counts
    // compare line by line below it.
    const CliOptions& o = options_;
    state_->write({{"kind", "header"}, {"scenario", state_->name}, {"path", state_->path},
                   {"description", state_->description}, {"driver", driver_name}, {"workers", workers},
                   {"boids", o.boids}, {"seed", o.seed}, {"size", {o.width, o.height}}, {"frames", *o.frames},
                   {"frame_ms", kFrameNs / 1e6}});
    return true;
}

double ScenarioRunner::clock_ms() const
{
    return static_cast<double>(clock_->now_ns() - clock_origin_ns_) / 1e6;
}

void ScenarioRunner::log_frame(std::uint64_t frame, const DemoControls& c, const DemoStats& stats)
{
    State& s = *state_;
    const RuntimeSnapshot& r = stats.runtime;
    using J = nlohmann::ordered_json;
    s.write({{"kind", "frame"},
             {"frame", frame},
             {"clock_ms", clock_ms()},
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
    // New reports: those of pump() entry first, then the frame's monitor sample. The panel's log
    // keeps the newest entries, so the fresh ones are at its end.
    const std::uint64_t fresh = stats.watchdog_total - s.watchdog_seen;
    s.watchdog_seen = stats.watchdog_total;
    const std::uint64_t at_pump = s.reports_before_sample - s.reports_at_begin;
    const std::size_t n = stats.watchdog_log.size();
    const std::size_t first = n - static_cast<std::size_t>(std::min<std::uint64_t>(fresh, n));
    for (std::size_t k = 0; first + k < n; ++k)
    {
        const WatchdogEvent& e = stats.watchdog_log[first + k];
        const bool from_pump = k < at_pump;
        s.write({{"kind", "watchdog"}, {"frame", frame}, {"source", from_pump ? "pump" : "monitor"},
                 {"episode", from_pump ? s.episode_at_pump : s.episode_at_sample}, {"time_s", e.time_s},
                 {"age_ms", e.age_ms}, {"depth", e.depth}});
    }
}

FramePlan ScenarioRunner::frame(std::uint64_t frame, DemoControls& controls, const DemoStats& stats)
{
    State& s = *state_;
    FramePlan plan;
    if (frame > 0)
        log_frame(frame - 1, controls, stats);
    clock_->advance(std::chrono::nanoseconds(kFrameNs));
    s.frame = frame;
    s.sample_due = true;
    // The pump() entry observation point (nothing touches the queue before pump() runs).
    s.episode_at_pump = -1;
    s.age_at_pump_ms = 0;
    s.depth_at_pump = s.depth_after_pump = 0;
    s.reports_at_begin = s.reports_before_sample = 0;
    if (boc::py::BocpyRuntime* rt = boc::py::BocpyRuntime::get())
    {
        boc::Runtime& runtime = rt->runtime();
        const PinnedQueueState q = runtime.pinned_state();
        s.episode_at_pump = static_cast<std::int64_t>(q.episode);
        s.depth_at_pump = s.depth_after_pump = q.depth;  // depth_after_pump: pump() may overwrite
        s.age_at_pump_ms = runtime.pinned_age_ms();
        s.reports_at_begin = s.reports_before_sample = runtime.watchdog().reports();
    }
    if (on_frame_ != nullptr)
    {
        PythonHost::Gil gil;
        s.controls = &controls;
        Ref r(PyObject_CallFunction(on_frame_, "K", static_cast<unsigned long long>(frame)));
        s.controls = nullptr;
        if (!r)
            fail_from_python();
    }
    plan.screenshots.swap(s.shots);
    plan.stop = !error_.empty() || !s.error.empty();
    return plan;
}

bool ScenarioRunner::finish(std::uint64_t frames_rendered, const DemoControls& controls, const DemoStats& stats)
{
    if (error_.empty() && frames_rendered > 0)
        log_frame(frames_rendered - 1, controls, stats);
    state_->write({{"kind", "end"}, {"frames", frames_rendered}, {"clock_ms", clock_ms()}});
    if (state_->log != nullptr && std::fclose(state_->log) != 0 && error_.empty())
        error_ = "cannot write the scenario log " + log_path_;
    state_->log = nullptr;
    if (error_.empty())
        error_ = state_->error;
    if (error_.empty() && frames_rendered < options_.frames.value_or(0))
        error_ = "the run stopped after " + std::to_string(frames_rendered) + " of " +
                 std::to_string(*options_.frames) + " frames";
    return error_.empty();
}

}  // namespace boc::demo
