// boids_demo: a Behavior-Oriented Concurrency showcase.
//
// A GLFW window (GL 3.3 core via glad) renders a flock with instanced triangles, with Dear
// ImGui panels around it. Each frame the main thread calls pump() first; the simulation
// driver then computes or schedules the next step (see simulation_driver.h, frame_loop.h).
//
// Staged like ImGui's examples/example_glfw_opengl3/main.cpp: command line -> scenario ->
// GLFW error callback + init + window -> GL objects -> driver -> ImGui -> state -> main loop.
// Each stage's cleanup is an owner declared right after it, so every early return and the
// normal end take the one cleanup path, in reverse order: ImGui, the driver, the GL objects,
// the window, then the embedded Python. demo/README.md has the whole picture.

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>  // never imgui_impl_opengl3_loader.h (it would rebind our gl* calls)

#include "app/bench.h"
#include "render/boids_renderer.h"
#include "render/capture.h"
#include "app/cli.h"
#include "app/demo_controls.h"
#include "app/demo_stats.h"
#include "sim/driver_factory.h"
#include "app/frame_loop.h"
#include "app/gl_includes.h"
#include "app/key_input.h"
#include "sim/python_driver.h"
#include "sim/python_host.h"
#include "scenario/scenario.h"
#include "app/window.h"

using namespace boc::demo;

namespace {

// Runs `f` when the scope ends: the cleanup of one start-up stage.
template <class F>
class Cleanup {
 public:
  explicit Cleanup(F f) : f_(std::move(f)) {}
  ~Cleanup() { f_(); }
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;

 private:
  F f_;
};

// --dump-state: x, y, vx, vy per boid as raw float64 values (native byte order).
bool write_state(const std::string& path, const std::vector<double>& xyvv) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(xyvv.data(), sizeof(double), xyvv.size(), f) == xyvv.size();
  return std::fclose(f) == 0 && ok;
}

void print_script_error(const ScriptError& e) {
  std::fflush(stdout);
  if (!e.traceback().empty()) std::fputs(e.traceback().c_str(), stderr);
  std::fprintf(stderr, "error: %s\n", e.what());
}

int scenario_failed(const ScenarioRunner& scenario) {
  std::fflush(stdout);
  std::fputs(scenario.traceback().c_str(), stderr);
  std::fprintf(stderr, "boids_demo: --scenario: %s\n", scenario.error().c_str());
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // ---- Command line ----
  const CliResult cli = parse_cli(argc, argv);
  if (!cli.ok()) {
    std::fprintf(stderr, "boids_demo: %s\n(try boids_demo --help)\n", cli.error.c_str());
    return kExitUsage;
  }
  CliOptions options = cli.options;  // a --scenario script fills in the rest
  if (options.help) {
    std::fputs(cli_usage().c_str(), stdout);
    return kExitOk;
  }
  // The embedded Python (started by a scenario or the Python driver) ends after everything else.
  const Cleanup python([] { shutdown_drivers(); });

  // ---- Scenario (--scenario): its setup() sets size, boids, workers; runs before the runtime starts ----
  std::unique_ptr<ScenarioRunner> scenario;
  if (!options.scenario.empty()) {
    scenario = std::make_unique<ScenarioRunner>();
    const std::string found = resolve_script_path(options.scenario);
    if (!scenario->load(found.empty() ? options.scenario : found, options)) return scenario_failed(*scenario);
  }
  const bool offscreen = options.headless || options.bench;

  // ---- GLFW: error callback, init, window with a GL 3.3 core context, glad ----
  install_glfw_error_callback();
  WindowOptions window_options;
  window_options.width = options.width;
  window_options.height = options.height;
  window_options.visible = !offscreen;  // hidden window: frames go to the FBO
  window_options.vsync = !offscreen;    // no vsync when measuring or rendering headless
  const WindowResult opened = open_window(window_options);
  if (opened.status == WindowStatus::kNoDisplay) {
    std::fputs(no_display_hint().c_str(), stderr);
    return options.test_mode() ? kExitSkip : kExitFailure;
  }
  if (opened.status != WindowStatus::kOk) {
    std::fprintf(stderr, "error: %s\n", opened.error.c_str());
    return kExitFailure;
  }
  GLFWwindow* window = opened.window;
  const Cleanup window_owner([window] { close_window(window); });
  print_gl_info(stdout);

  // ---- GL objects (declared after the window: destroyed before it) ----
  std::string error;
  const std::unique_ptr<BoidsRenderer> renderer = BoidsRenderer::create(error);
  const std::unique_ptr<CaptureTarget> capture =
      renderer ? CaptureTarget::create(options.width, options.height, error) : nullptr;
  if (!renderer || !capture) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return kExitFailure;
  }

  // ---- Bench mode: no ImGui, a table per driver and boid count ----
  if (options.bench) {
    const DemoControls defaults = controls_from_cli(options);
    BenchConfig bench;
    bench.seed = options.seed;
    bench.params = defaults.flock;
    bench.pump = pump_settings(defaults);
    if (options.frames) bench.frames = *options.frames;
    try {
      print_bench_table(stdout, run_bench(bench, bench_drivers(options), *renderer, *capture, stderr));
    } catch (const ScriptError& e) {
      print_script_error(e);
      return kExitFailure;
    }
    return kExitOk;
  }

  // ---- The simulation driver (the Python one imports --script now: fail before ImGui) ----
  std::unique_ptr<SimulationDriver> driver;
  try {
    driver = make_driver(options);
  } catch (const ScriptError& e) {
    print_script_error(e);
    return kExitFailure;
  }
  if (scenario) driver = scenario->wrap_driver(std::move(driver));
  // Shut down (drains the step in flight) while the sink is still attached.
  const Cleanup driver_owner([&driver] {
    driver->shutdown();
    driver->attach_sink(nullptr);
    driver.reset();
  });

  // ---- Dear ImGui context, style, backends ----
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  const Cleanup imgui_context([] { ImGui::DestroyContext(); });
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // no imgui.ini: layouts must not leak between runs
  if (options.headless) io.ConfigFlags |= ImGuiConfigFlags_NoMouseCursorChange;
  ImGui::StyleColorsDark();
  ImGui::GetStyle().WindowRounding = 4.0f;
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  const Cleanup imgui_glfw([] { ImGui_ImplGlfw_Shutdown(); });
  install_key_queue(window);                         // after the backend: it owns the key callback (key_input.h)
  if (!ImGui_ImplOpenGL3_Init("#version 330 core"))  // Mesa accepts 130 in core; other drivers don't
  {
    std::fprintf(stderr, "error: ImGui_ImplOpenGL3_Init failed (could not load OpenGL through imgl3w)\n");
    return kExitFailure;
  }
  const Cleanup imgui_opengl3([] { ImGui_ImplOpenGL3_Shutdown(); });

  // ---- Our state ----
  DemoControls controls = controls_from_cli(options);
  DemoStats stats;
  driver->attach_sink(renderer.get());
  driver->configure_watchdog(watchdog_settings(controls));
  driver->reset(FlockSetup{options.boids, options.seed, controls.flock});
  const std::size_t workers = driver->snapshot().workers;
  if (scenario && !scenario->start(std::string(driver->name()), workers, controls)) return scenario_failed(*scenario);

  FrameLoopConfig loop_config;
  loop_config.headless = options.headless;
  loop_config.deterministic = options.deterministic();
  loop_config.fixed_dt = options.fixed_dt;
  loop_config.frames = options.frames;
  loop_config.screenshot = options.screenshot;
  loop_config.script = scenario.get();
  loop_config.virtual_clock = scenario ? scenario->clock() : nullptr;
  loop_config.seed = options.seed;
  loop_config.ui_log = options.ui_log;
  loop_config.record_path = options.record_scenario;
  loop_config.record_setup.seed = options.seed;
  loop_config.record_setup.width = options.width;
  loop_config.record_setup.height = options.height;
  loop_config.record_setup.workers = options.workers > 0 ? options.workers : (workers > 0 ? workers : 2);
  if (options.script != CliOptions{}.script) loop_config.record_setup.script = options.script;
  if (options.headless && !options.frames) loop_config.frames = 60;  // a hidden window cannot be closed: stop by itself

  // ---- Main loop ----
  FrameLoop loop(loop_config, window, *driver, *renderer, *capture, controls, stats);
  const auto run_start = std::chrono::steady_clock::now();
  while (loop.run_frame()) {
  }
  const double run_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
  loop.finish();  // saves --record-scenario; a failure shows in loop.error()
  if (scenario && !scenario->finish(loop.frames_rendered(), controls, stats)) return scenario_failed(*scenario);
  if (!loop.error().empty()) {
    std::fprintf(stderr, "error: %s\n", loop.error().c_str());
    return kExitFailure;
  }
  if (loop.screenshot_written())
    std::printf("boids_demo: %llu frames, wrote %s\n", static_cast<unsigned long long>(loop.frames_rendered()),
                options.screenshot.c_str());
  if (!scenario && options.headless) std::fputs(run_summary(stats, run_seconds).c_str(), stdout);
  if (!options.dump_state.empty()) {
    std::vector<double> state;
    if (!driver->final_state(state) || !write_state(options.dump_state, state)) {
      std::fprintf(stderr, "error: cannot write the flock state to %s\n", options.dump_state.c_str());
      return kExitFailure;
    }
  }
  return kExitOk;
}
