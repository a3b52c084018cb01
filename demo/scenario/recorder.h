// Records a live session as a scenario file (`--scenario` reads it back: scenario.h).
//
// From the frame Record is switched on, the recorder compares the controls at the start of
// every frame (where a scenario applies its actions, before pump(); a panel change made while
// drawing frame f - 1 takes effect in frame f) with the previous frame's and writes each change
// as an action of that frame, numbered from 0 = the frame recording started. The settings in
// force at that point become the file's header (boids, pump budget, watchdog, dispatch) and
// frame-0 actions (pause, stall, flock weights). The replay starts a fresh flock from the --seed
// with a fixed dt and virtual time, so it is deterministic: the same actions at the same frame
// numbers, the same pump / queue / watchdog story; the boids' positions follow the fixed dt,
// not the session's wall-clock frame times. README, "Recording a session as a scenario".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "app/demo_controls.h"

namespace boc::demo {

struct RecordSetup {
  std::uint64_t seed = 1;
  int width = 1280;  // the --size the world box was made for
  int height = 720;
  std::size_t workers = 2;
  std::string script;  // empty: the default python_scripts/boids.py
};

class ScenarioRecorder {
 public:
  // Starts (or restarts) recording at loop frame `frame`, with the controls in force now.
  void start(std::uint64_t frame, const DemoControls& controls, const RecordSetup& setup);
  void stop() { recording_ = false; }
  // Start of every frame, after scripted changes and before pump(): records what changed.
  void observe(std::uint64_t frame, const DemoControls& controls);

  bool recording() const { return recording_; }
  std::uint64_t frames() const { return started_ ? last_frame_ - start_frame_ + 1 : 0; }
  std::size_t changes() const { return changes_; }

  // The scenario file's text (`name`: the SCENARIO's "name" and the log's prefix).
  std::string text(const std::string& name) const;
  // Writes text(stem of path) to `path`; false with `error` set when it cannot.
  bool save(const std::string& path, std::string& error) const;

 private:
  struct Knobs {
    bool deadline_unbounded = false;
    float deadline_ms = 0.0f;
    bool max_behaviors_unbounded = false;
    int max_behaviors = 0;
    bool watchdog_enabled = false;
    float watchdog_warn_ms = 0.0f;
    float wait_poll_ms = 0.0f;
    bool pump_paused = false;
    int stall_ms = 0;
    DispatchMode dispatch = DispatchMode::kCoarse;
    bool paused = false;
    FlockParams flock;
  };
  static Knobs knobs(const DemoControls& c);
  // Actions turning `from` into `to` (one-shots excluded).
  static std::vector<std::string> diff(const Knobs& from, const Knobs& to);

  bool recording_ = false;
  bool started_ = false;
  std::uint64_t start_frame_ = 0;
  std::uint64_t last_frame_ = 0;
  std::size_t changes_ = 0;
  int initial_boids_ = 0;
  RecordSetup setup_;
  Knobs initial_;
  Knobs last_;
  std::map<std::uint64_t, std::vector<std::string>> actions_;  // Python literal text per frame
};

// "boids_demo_session_<n>.py" in the current directory, the first n not taken.
std::string next_session_path();

}  // namespace boc::demo
