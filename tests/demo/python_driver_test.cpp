// PythonDriver and the boids_gl module against a CPU-side InstanceSink (no GL, no display).
//
// The embedded interpreter is one per process and outlives the drivers (python_host.h); the
// bocpy runtime is started by each driver and torn down by its shutdown().
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bocpy_runtime.h"
#include "sim/gl_handle_module.h"
#include "sim/python_driver.h"
#include "sim/python_host.h"

#ifndef BOC_DEMO_TEST_SCRIPTS
#error "BOC_DEMO_TEST_SCRIPTS must name tests/demo/scripts"
#endif

namespace boc::demo {
namespace {

std::string test_script(const char* name) { return std::string(BOC_DEMO_TEST_SCRIPTS) + "/" + name; }

class CpuSink final : public InstanceSink {
 public:
  void write_instances(const float* xyvv, std::size_t count) override {
    data.assign(xyvv, xyvv + count * 4);
    ++batches;
  }
  void write_instance_range(std::size_t first, const float* xyvv, std::size_t count) override {
    if (data.size() < (first + count) * 4) data.resize((first + count) * 4, 0.0f);
    std::copy(xyvv, xyvv + count * 4, data.begin() + static_cast<std::ptrdiff_t>(first * 4));
    ++ranges;
  }
  std::size_t instance_count() const override { return data.size() / 4; }

  std::vector<float> data;
  std::size_t batches = 0;
  std::size_t ranges = 0;
};

PumpSettings unbounded_pump() {
  PumpSettings s;
  s.deadline_ms.reset();
  return s;
}

// Runs `frames` frames the way FrameLoop does: pump, step.
void run_frames(PythonDriver& driver, int frames, DispatchMode mode = DispatchMode::kCoarse) {
  for (int f = 0; f < frames; ++f) {
    driver.pump(unbounded_pump());
    driver.step(StepRequest{FlockParams{}, 1.0 / 60.0, mode});
  }
}

PythonDriverOptions options(const std::string& script, std::size_t workers) {
  PythonDriverOptions o;
  o.script = script;
  o.workers = workers;
  o.lockstep = true;
  return o;
}

std::vector<double> final_state_after(std::size_t workers, int frames) {
  CpuSink sink;
  PythonDriver driver(options("python_scripts/boids.py", workers));
  driver.attach_sink(&sink);
  driver.configure_watchdog(WatchdogSettings{false, 0.0});
  driver.reset(FlockSetup{700, 7, FlockParams{}});
  run_frames(driver, frames);
  std::vector<double> state;
  EXPECT_TRUE(driver.final_state(state));
  EXPECT_TRUE(driver.drain_errors().empty());
  driver.shutdown();
  driver.attach_sink(nullptr);
  return state;
}

TEST(PythonDriver, RunsTheDefaultScriptAndWritesEveryFrame) {
  CpuSink sink;
  PythonDriver driver(options("python_scripts/boids.py", 2));
  EXPECT_EQ(driver.name(), "python x2");
  driver.attach_sink(&sink);
  driver.configure_watchdog(WatchdogSettings{true, 250.0});
  driver.reset(FlockSetup{300, 1, FlockParams{}});
  run_frames(driver, 10);
  // The initial batch plus one batch per written-back step (lockstep: one per frame).
  EXPECT_EQ(sink.batches, 10u);
  EXPECT_EQ(sink.instance_count(), 300u);
  const RuntimeSnapshot s = driver.snapshot();
  EXPECT_EQ(s.workers, 2u);
  EXPECT_EQ(s.boids, 300u);
  EXPECT_GT(s.behaviors_total, 10u);
  EXPECT_TRUE(driver.drain_errors().empty());
  std::vector<double> state;
  ASSERT_TRUE(driver.final_state(state));
  ASSERT_EQ(state.size(), 300u * 4);
  // The sink shows the same flock (as floats).
  EXPECT_EQ(sink.batches, 11u);
  for (std::size_t i = 0; i < state.size(); ++i) ASSERT_EQ(sink.data[i], static_cast<float>(state[i])) << i;
  driver.shutdown();
  EXPECT_TRUE(driver.drain_errors().empty());  // wait() ran cleanly
  EXPECT_EQ(boc::py::BocpyRuntime::get(), nullptr);
  driver.attach_sink(nullptr);
}

TEST(PythonDriver, StateIsBitIdenticalForOneTwoAndThreeWorkers) {
  const std::vector<double> one = final_state_after(1, 30);
  const std::vector<double> two = final_state_after(2, 30);
  const std::vector<double> three = final_state_after(3, 30);
  ASSERT_EQ(one.size(), 700u * 4);
  EXPECT_TRUE(one == two);
  EXPECT_TRUE(one == three);
}

TEST(PythonDriver, TileExceptionIsReportedAndFramesContinue) {
  CpuSink sink;
  PythonDriver driver(options(test_script("boids_tile_error.py"), 2));
  driver.attach_sink(&sink);
  driver.configure_watchdog(WatchdogSettings{false, 0.0});
  driver.reset(FlockSetup{800, 3, FlockParams{}});
  std::vector<double> before;
  ASSERT_TRUE(driver.final_state(before));
  run_frames(driver, 8);
  std::vector<double> after;
  ASSERT_TRUE(driver.final_state(after));

  const std::vector<ErrorEntry> errors = driver.drain_errors();
  ASSERT_EQ(errors.size(), 8u);  // one per step: the first tile fails every time
  for (const ErrorEntry& e : errors) {
    EXPECT_NE(e.message.find("ZeroDivisionError: injected failure in the first tile"), std::string::npos) << e.message;
    EXPECT_NE(e.traceback.find("Traceback (most recent call last)"), std::string::npos) << e.traceback;
    EXPECT_NE(e.traceback.find("failing_step"), std::string::npos) << e.traceback;
  }
  EXPECT_TRUE(driver.drain_errors().empty());
  // Every step was still written back (after the initial batch), and the boids of the
  // other tiles moved.
  EXPECT_EQ(sink.batches, 1u + 8u);
  const RuntimeSnapshot s = driver.snapshot();
  EXPECT_FALSE(s.step_pending);
  std::size_t moved = 0;
  for (std::size_t i = 0; i < before.size(); i += 4) moved += before[i] != after[i] ? 1 : 0;
  EXPECT_GT(moved, 800u / 2);
  EXPECT_LT(moved, 800u);  // the first tile's boids kept their state
  driver.shutdown();
  driver.attach_sink(nullptr);
}

TEST(PythonDriver, PerItemModeWritesOneRowPerPinnedBehavior) {
  CpuSink sink;
  PythonDriver driver(options("python_scripts/boids.py", 2));
  driver.attach_sink(&sink);
  driver.configure_watchdog(WatchdogSettings{false, 0.0});
  driver.reset(FlockSetup{250, 5, FlockParams{}});
  driver.pump(unbounded_pump());
  driver.step(StepRequest{FlockParams{}, 1.0 / 60.0, DispatchMode::kPerItem});
  // One upload per boid (queued at once, ahead of the tiles), then the frame's
  // write-back (state only), which becomes runnable when the tiles are done.
  std::size_t executed = driver.pump(unbounded_pump()).executed;
  for (int i = 0; i < 200 && driver.snapshot().step_pending; ++i) executed += driver.pump(unbounded_pump()).executed;
  EXPECT_EQ(executed, 250u + 1u);
  EXPECT_EQ(sink.ranges, 250u);
  EXPECT_EQ(sink.batches, 1u);  // only the initial batch
  EXPECT_FALSE(driver.snapshot().step_pending);
  EXPECT_TRUE(driver.drain_errors().empty());
  driver.shutdown();
  driver.attach_sink(nullptr);
}

TEST(PythonDriver, ResetDrainsTheStepInFlightAndKeepsTheRuntime) {
  CpuSink sink;
  PythonDriverOptions o = options("python_scripts/boids.py", 2);
  o.lockstep = false;  // interactive: a step may still be in flight at reset()
  PythonDriver driver(o);
  driver.attach_sink(&sink);
  driver.configure_watchdog(WatchdogSettings{true, 250.0});
  driver.reset(FlockSetup{400, 2, FlockParams{}});
  const boc::py::BocpyRuntime* runtime = boc::py::BocpyRuntime::get();
  ASSERT_NE(runtime, nullptr);
  for (int f = 0; f < 5; ++f) {
    driver.pump(PumpSettings{});
    driver.step(StepRequest{FlockParams{}, 1.0 / 60.0, DispatchMode::kCoarse});
  }
  driver.reset(FlockSetup{900, 2, FlockParams{}});  // the boid-count slider
  EXPECT_EQ(boc::py::BocpyRuntime::get(), runtime);
  EXPECT_EQ(driver.snapshot().boids, 900u);
  for (int f = 0; f < 5; ++f) {
    driver.pump(PumpSettings{});
    driver.step(StepRequest{FlockParams{}, 1.0 / 60.0, DispatchMode::kCoarse});
  }
  std::vector<double> state;
  ASSERT_TRUE(driver.final_state(state));
  EXPECT_EQ(state.size(), 900u * 4);
  EXPECT_EQ(sink.instance_count(), 900u);
  EXPECT_TRUE(driver.drain_errors().empty());
  driver.shutdown();
  driver.attach_sink(nullptr);
}

TEST(PythonDriver, PerItemBacklogTripsTheWatchdog) {
  CpuSink sink;
  PythonDriverOptions o = options("python_scripts/boids.py", 2);
  o.lockstep = false;
  PythonDriver driver(o);
  driver.attach_sink(&sink);
  driver.configure_watchdog(WatchdogSettings{true, 20.0});
  driver.reset(FlockSetup{300, 4, FlockParams{}});
  PumpSettings starved;  // one pinned behavior per frame: the per-boid writes pile up
  starved.deadline_ms = 1.0;
  starved.max_behaviors = 1;
  std::size_t max_depth = 0;
  std::vector<WatchdogEvent> events;
  for (int f = 0; f < 60 && events.empty(); ++f) {
    driver.pump(starved);
    driver.step(StepRequest{FlockParams{}, 1.0 / 60.0, DispatchMode::kPerItem});
    max_depth = std::max(max_depth, driver.snapshot().pinned_depth);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const std::vector<WatchdogEvent> now = driver.drain_watchdog_events();
    events.insert(events.end(), now.begin(), now.end());
  }
  ASSERT_FALSE(events.empty());
  EXPECT_GE(events.front().age_ms, 20.0);
  EXPECT_GT(events.front().depth, 0u);
  EXPECT_GT(max_depth, 100u);  // one queued behavior per boid
  EXPECT_TRUE(driver.snapshot().step_pending);
  EXPECT_TRUE(driver.drain_errors().empty());
  driver.shutdown();  // drains the backlog first
  EXPECT_EQ(sink.instance_count(), 300u);
  driver.attach_sink(nullptr);
}

TEST(PythonDriver, MissingScriptIsAScriptError) {
  try {
    PythonDriver driver(options("no/such/script.py", 1));
    FAIL() << "expected ScriptError";
  } catch (const ScriptError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot find the simulation script 'no/such/script.py'"), std::string::npos);
  }
}

TEST(PythonDriver, SyntaxErrorIsAScriptErrorWithTraceback) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "boids_demo_test_scripts";
  std::filesystem::create_directories(dir);
  const std::filesystem::path bad = dir / "boids_broken_syntax.py";
  {
    std::ofstream out(bad);
    out << "class Simulation:\n    def step(self\n";
  }
  try {
    PythonDriver driver(options(bad.string(), 1));
    FAIL() << "expected ScriptError";
  } catch (const ScriptError& e) {
    EXPECT_NE(std::string(e.what()).find("SyntaxError"), std::string::npos) << e.what();
    EXPECT_NE(e.traceback().find("boids_broken_syntax.py"), std::string::npos) << e.traceback();
    EXPECT_NE(e.traceback().find("SyntaxError"), std::string::npos) << e.traceback();
  }
  std::filesystem::remove_all(dir);
}

// ---- boids_gl ----

class GlProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    PythonHost::instance();
    PythonHost::Gil gil;
    module_ = import_script_module(test_script("gl_probe.py"));
    ASSERT_NE(module_, nullptr) << fetch_python_error().traceback;
  }
  void TearDown() override {
    PythonHost::Gil gil;
    PyObject* r = bocpy_wait();
    if (r == nullptr) ADD_FAILURE() << fetch_python_error().traceback;
    Py_XDECREF(r);
    Py_CLEAR(module_);
  }

  // (raised, value repr, traceback) of fn(gl) run on a worker.
  std::tuple<bool, std::string, std::string> on_worker(const char* fn, PyObject* gl) {
    PyObject* f = PyObject_GetAttrString(module_, fn);
    PyObject* r = f ? PyObject_CallMethod(module_, "run_on_worker", "OO", f, gl) : nullptr;
    Py_XDECREF(f);
    if (r == nullptr) {
      ADD_FAILURE() << fetch_python_error().traceback;
      return {false, "", ""};
    }
    bool raised = PyObject_IsTrue(PyTuple_GET_ITEM(r, 0)) == 1;
    std::string value = PyUnicode_AsUTF8(PyTuple_GET_ITEM(r, 1));
    std::string tb = PyUnicode_AsUTF8(PyTuple_GET_ITEM(r, 2));
    Py_DECREF(r);
    return {raised, value, tb};
  }

  PyObject* module_ = nullptr;
};

TEST_F(GlProbe, WritesOnTheMainThread) {
  CpuSink sink;
  GlHandle handle(&sink);
  PythonHost::Gil gil;
  PyObject* gl = handle.object();
  ASSERT_NE(gl, nullptr);
  PyObject* count = PyObject_CallMethod(module_, "write_on_main", "On", gl, Py_ssize_t{3});
  ASSERT_NE(count, nullptr) << fetch_python_error().traceback;
  EXPECT_EQ(PyLong_AsLong(count), 4);
  Py_DECREF(count);
  ASSERT_EQ(sink.data.size(), 16u);
  EXPECT_EQ(sink.data[0], 1.5f);
  EXPECT_EQ(sink.data[2], -2.0f);
  EXPECT_EQ(sink.data[12], 7.0f);
  EXPECT_EQ(sink.data[15], 10.0f);
  Py_DECREF(gl);
}

TEST_F(GlProbe, RefusesUseFromAWorkerBehavior) {
  CpuSink sink;
  GlHandle handle(&sink);
  PythonHost::Gil gil;
  PyObject* gl = handle.object();
  ASSERT_NE(gl, nullptr);
  for (const char* fn : {"write_from_worker", "write_range_from_worker", "count_from_worker"}) {
    SCOPED_TRACE(fn);
    const auto [raised, value, tb] = on_worker(fn, gl);
    EXPECT_TRUE(raised) << value;
    EXPECT_NE(value.find("GL handle can only be used on the main thread / main interpreter"), std::string::npos)
        << value;
    EXPECT_NE(tb.find("RuntimeError"), std::string::npos) << tb;
  }
  EXPECT_EQ(sink.batches, 0u);
  EXPECT_EQ(sink.ranges, 0u);
  // The module imported in the worker (the handle was rebuilt there) and reports the slot.
  const auto [raised, value, tb] = on_worker("attached_from_worker", gl);
  EXPECT_FALSE(raised) << tb;
  EXPECT_EQ(value, "True");
  Py_DECREF(gl);
}

TEST_F(GlProbe, RefusesUseAfterTheSinkIsDetached) {
  CpuSink sink;
  GlHandle handle(&sink);
  PythonHost::Gil gil;
  PyObject* gl = handle.object();
  ASSERT_NE(gl, nullptr);
  handle.retarget(nullptr);
  PyObject* r = PyObject_CallMethod(module_, "write_on_main", "On", gl, Py_ssize_t{2});
  EXPECT_EQ(r, nullptr);
  const ExceptionText err = fetch_python_error();
  EXPECT_NE(err.message.find("RuntimeError: GL handle is detached"), std::string::npos) << err.message;
  EXPECT_EQ(sink.batches, 0u);
  PyObject* attached = PyObject_GetAttrString(gl, "attached");
  EXPECT_EQ(attached, Py_False);
  Py_XDECREF(attached);
  Py_DECREF(gl);
}

}  // namespace
}  // namespace boc::demo
