#include "scenario/recorder.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace boc::demo {

namespace {

// Shortest text that reads back as the same float (Python parses a double and the controls hold
// floats: scenario/control_module.cpp).
std::string num(float v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e7f) {
    std::snprintf(buf, sizeof(buf), "%.0f", static_cast<double>(v));  // 200, not 2e+02
    return buf;
  }
  std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(v));
  for (int digits = 1; digits <= 9; ++digits) {
    char shorter[32];
    std::snprintf(shorter, sizeof(shorter), "%.*g", digits, static_cast<double>(v));
    if (static_cast<float>(std::strtod(shorter, nullptr)) == v) return shorter;
  }
  return buf;
}

// The control module's calls (scenario/control_module.cpp).
std::string set(const char* knob, const std::string& value) {
  return std::string("set_knob(\"") + knob + "\", " + value + ")";
}

std::string flag(const char* verb, bool on) { return std::string(verb) + (on ? "(True)" : "(False)"); }

// A Python string literal.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char ch : text) {
    if (ch == '\\' || ch == '"') out += '\\';
    out += ch;
  }
  return out + "\"";
}

const char* dispatch_name(DispatchMode m) { return m == DispatchMode::kPerItem ? "per_item" : "coarse"; }

}  // namespace

ScenarioRecorder::Knobs ScenarioRecorder::knobs(const DemoControls& c) {
  Knobs k;
  k.deadline_unbounded = c.deadline_unbounded;
  k.deadline_ms = c.deadline_ms;
  k.max_behaviors_unbounded = c.max_behaviors_unbounded;
  k.max_behaviors = c.max_behaviors;
  k.watchdog_enabled = c.watchdog_enabled;
  k.watchdog_warn_ms = c.watchdog_warn_ms;
  k.wait_poll_ms = c.wait_poll_ms;
  k.pump_paused = c.pump_paused;
  k.stall_ms = c.stall_ms;
  k.dispatch = c.dispatch;
  k.paused = c.paused;
  k.flock = c.flock;
  return k;
}

std::vector<std::string> ScenarioRecorder::diff(const Knobs& a, const Knobs& b) {
  std::vector<std::string> out;
  if (a.deadline_unbounded != b.deadline_unbounded || (!b.deadline_unbounded && a.deadline_ms != b.deadline_ms))
    out.push_back(set("deadline_ms", b.deadline_unbounded ? "None" : num(b.deadline_ms)));
  if (a.max_behaviors_unbounded != b.max_behaviors_unbounded ||
      (!b.max_behaviors_unbounded && a.max_behaviors != b.max_behaviors))
    out.push_back(set("max_behaviors", b.max_behaviors_unbounded ? "None" : std::to_string(b.max_behaviors)));
  if (a.watchdog_enabled != b.watchdog_enabled || (b.watchdog_enabled && a.watchdog_warn_ms != b.watchdog_warn_ms))
    out.push_back(set("watchdog_ms", b.watchdog_enabled ? num(b.watchdog_warn_ms) : "None"));
  if (a.wait_poll_ms != b.wait_poll_ms) out.push_back(set("wait_poll_ms", num(b.wait_poll_ms)));
  if (a.pump_paused != b.pump_paused) out.push_back(flag("pause_pump", b.pump_paused));
  if (a.stall_ms != b.stall_ms) out.push_back("stall_ms(" + std::to_string(b.stall_ms) + ")");
  if (a.dispatch != b.dispatch) out.push_back(std::string("dispatch(\"") + dispatch_name(b.dispatch) + "\")");
  if (a.paused != b.paused) out.push_back(flag("pause_sim", b.paused));
  for (const auto& [knob, field] : kFlockKnobs)
    if (a.flock.*field != b.flock.*field) out.push_back(set(knob, num(b.flock.*field)));
  return out;
}

void ScenarioRecorder::start(std::uint64_t frame, const DemoControls& controls, const RecordSetup& setup) {
  recording_ = true;
  started_ = true;
  start_frame_ = frame;
  last_frame_ = frame;
  changes_ = 0;
  setup_ = setup;
  initial_boids_ = controls.boid_count;
  initial_ = knobs(controls);
  last_ = initial_;
  actions_.clear();
}

void ScenarioRecorder::observe(std::uint64_t frame, const DemoControls& controls) {
  if (!recording_) return;
  last_frame_ = frame;
  const Knobs now = knobs(controls);
  std::vector<std::string> actions = diff(last_, now);
  last_ = now;
  // One-shot requests: the frame loop clears them later in this frame.
  if (controls.boid_count_changed) actions.push_back(set("boids", std::to_string(controls.boid_count)));
  if (controls.step_requested) actions.emplace_back("step()");
  if (controls.clear_errors_requested) actions.emplace_back("clear_errors()");
  if (actions.empty()) return;
  changes_ += actions.size();
  std::vector<std::string>& bucket = actions_[frame - start_frame_];
  bucket.insert(bucket.end(), actions.begin(), actions.end());
}

std::string ScenarioRecorder::text(const std::string& name) const {
  const std::uint64_t n = frames();
  const Knobs& k = initial_;
  std::string s;
  s += "\"\"\"Scenario recorded by boids_demo (Starvation lab: Record, Save scenario).\n\n";
  s += "Replay: boids_demo --scenario " + name + ".py --screenshot-dir /tmp/shots\n";
  s += "Frame 0 is the frame recording started; every control change is an action of the frame it\n";
  s += "took effect in. README, \"Recording a session as a scenario\".\n\"\"\"\n\n";
  s += "from boids_scenario import *  # noqa: F403\n\n";
  s += "setup(\n";
  s += "    name=" + quoted(name) + ",\n";
  s += "    description=\"recorded session: " + std::to_string(n) + " frames, " + std::to_string(changes_) +
       " control change(s)\",\n";
  s += "    boids=" + std::to_string(initial_boids_) + ", seed=" + std::to_string(setup_.seed) + ", size=\"" +
       std::to_string(setup_.width) + "x" + std::to_string(setup_.height) + "\", frames=" + std::to_string(n) +
       ", workers=" + std::to_string(setup_.workers) + ",\n";
  if (!setup_.script.empty()) s += "    script=" + quoted(setup_.script) + ",\n";
  s += "    deadline_ms=" + (k.deadline_unbounded ? std::string("None") : num(k.deadline_ms)) +
       ", max_behaviors=" + (k.max_behaviors_unbounded ? std::string("None") : std::to_string(k.max_behaviors)) +
       ", watchdog_ms=" + (k.watchdog_enabled ? num(k.watchdog_warn_ms) : std::string("None")) + ",\n";
  s += std::string("    dispatch=\"") + dispatch_name(k.dispatch) + "\",\n)\n\n\n";
  // What the header cannot say: the replay starts from the defaults of controls_from_cli.
  Knobs replay_start = k;
  replay_start.wait_poll_ms = DemoControls{}.wait_poll_ms;
  replay_start.pump_paused = false;
  replay_start.stall_ms = 0;
  replay_start.paused = false;
  replay_start.flock = FlockParams{};
  replay_start.flock.world_w = k.flock.world_w;
  replay_start.flock.world_h = k.flock.world_h;
  std::map<std::uint64_t, std::vector<std::string>> all = actions_;
  const std::vector<std::string> first = diff(replay_start, k);
  all[0].insert(all[0].begin(), first.begin(), first.end());
  all[n == 0 ? 0 : n - 1].emplace_back("screenshot()");
  s += "def on_frame(frame):\n";
  for (const auto& [frame, list] : all) {
    if (list.empty()) continue;
    s += "    if frame == " + std::to_string(frame) + ":\n";
    for (const std::string& action : list) s += "        " + action + "\n";
  }
  return s;
}

bool ScenarioRecorder::save(const std::string& path, std::string& error) const {
  if (frames() == 0) {
    error = "nothing recorded";
    return false;
  }
  const std::string name = std::filesystem::path(path).stem().string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text(name);
  out.close();
  if (!out) {
    error = "cannot write " + path;
    return false;
  }
  return true;
}

std::string next_session_path() {
  for (int n = 1;; ++n) {
    const std::string p = "boids_demo_session_" + std::to_string(n) + ".py";
    std::error_code ec;
    if (!std::filesystem::exists(p, ec)) return p;
  }
}

}  // namespace boc::demo
