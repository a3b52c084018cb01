// The pieces behind the first-time-user fixes, without a window: the key queue's
// one-press-per-frame rule and the shortcuts, the anchored layout under resize / hand moves /
// reset, the truthful readouts (pump verdict, per-item gate, errors banner, fps), the flock
// "defaults", the boids slider range, and the scenario script the recorder writes. Real X input is in ui_test.py (ctest
// demo_ui.*).
#include <gtest/gtest.h>

#include <imgui.h>

#include <cfloat>

#include "app/cli.h"
#include "app/demo_controls.h"
#include "app/demo_stats.h"
#include "app/key_input.h"
#include "panels/panel_layout.h"
#include "panels/panels.h"
#include "panels/pump_panel.h"
#include "scenario/recorder.h"
#include "panels/ui_probe.h"

namespace boc::demo {
namespace {

KeyEvent press(int key, int mods = 0) { return KeyEvent{key, 0, GLFW_PRESS, mods}; }
KeyEvent release(int key) { return KeyEvent{key, 0, GLFW_RELEASE, 0}; }

TEST(KeyQueue, ATapWithinOneFrameIsDownForOneFrame) {
  KeyQueue q;
  q.push(press(GLFW_KEY_ENTER));
  q.push(release(GLFW_KEY_ENTER));
  const std::vector<KeyEvent> first = q.take_frame();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].action, GLFW_PRESS);
  const std::vector<KeyEvent> second = q.take_frame();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].action, GLFW_RELEASE);
  EXPECT_TRUE(q.take_frame().empty());
}

TEST(KeyQueue, TwoTapsInOneFrameTakeTwoFramesInOrder) {
  KeyQueue q;
  for (int key : {GLFW_KEY_A, GLFW_KEY_B}) {
    q.push(press(key));
    q.push(release(key));
  }
  // Frame 1: A down. Frame 2: A up, B down. Frame 3: B up.
  EXPECT_EQ(q.take_frame().size(), 1u);
  const std::vector<KeyEvent> f2 = q.take_frame();
  ASSERT_EQ(f2.size(), 2u);
  EXPECT_EQ(f2[0].key, GLFW_KEY_A);
  EXPECT_EQ(f2[1].key, GLFW_KEY_B);
  EXPECT_EQ(q.take_frame().size(), 1u);
  EXPECT_EQ(q.pending(), 0u);
}

TEST(KeyQueue, ShortcutsQuitAndToggle) {
  EXPECT_TRUE(shortcut_actions({press(GLFW_KEY_ESCAPE)}, false).quit);
  EXPECT_TRUE(shortcut_actions({press(GLFW_KEY_Q, GLFW_MOD_CONTROL)}, false).quit);
  EXPECT_TRUE(shortcut_actions({press(GLFW_KEY_Q)}, false).quit);
  EXPECT_TRUE(shortcut_actions({press(GLFW_KEY_TAB)}, false).toggle_panels);
  EXPECT_TRUE(shortcut_actions({press(GLFW_KEY_F1)}, false).toggle_panels);
  EXPECT_FALSE(shortcut_actions({release(GLFW_KEY_ESCAPE)}, false).quit);
  // Typing into a slider's text field: Esc, q and Tab are the field's; Ctrl+Q and F1 still work.
  EXPECT_FALSE(shortcut_actions({press(GLFW_KEY_ESCAPE)}, true).quit);
  EXPECT_FALSE(shortcut_actions({press(GLFW_KEY_Q)}, true).quit);
  EXPECT_FALSE(shortcut_actions({press(GLFW_KEY_TAB)}, true).toggle_panels);
  EXPECT_TRUE(shortcut_actions({press(GLFW_KEY_Q, GLFW_MOD_CONTROL)}, true).quit);
  EXPECT_TRUE(shortcut_actions({press(GLFW_KEY_F1)}, true).toggle_panels);
}

class ImGuiFrames : public ::testing::Test {
 protected:
  void SetUp() override {
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    unsigned char* pixels = nullptr;
    int w = 0;
    int h = 0;
    io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);
  }
  void TearDown() override { ImGui::DestroyContext(); }

  // One interactive frame (anchored layout); the mouse at `mouse`, button `down`.
  const UiProbe& frame(float w, float h, ImVec2 mouse = ImVec2(-FLT_MAX, -FLT_MAX), bool down = false) {
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(w, h);
    io.DeltaTime = 1.0f / 60.0f;
    io.MousePos = mouse;
    io.MouseDown[0] = down;
    ImGui::NewFrame();
    ui_probe().clear();
    draw_panels(controls, stats, compute_panels_layout(w, h, false, &memory));
    ImGui::Render();
    return ui_probe();
  }

  static bool inside(const UiProbe& p, float w, float h) {
    for (const PanelProbe& panel : p.panels)
      if (panel.pos.x < 0 || panel.pos.y < 0 || panel.pos.x + panel.size.x > w + 0.5f ||
          panel.pos.y + panel.size.y > h + 0.5f)
        return false;
    return p.panels.size() == 5;
  }

  DemoControls controls;
  DemoStats stats;
  LayoutMemory memory;
};

TEST_F(ImGuiFrames, PanelsFollowTheWindow) {
  for (int i = 0; i < 2; ++i) frame(1280, 720);
  EXPECT_TRUE(inside(ui_probe(), 1280, 720));
  for (int i = 0; i < 2; ++i) frame(900, 560);
  EXPECT_TRUE(inside(ui_probe(), 900, 560));
  for (int i = 0; i < 2; ++i) frame(1280, 720);
  const PanelProbe* tuning = ui_probe().panel("Tuning");
  ASSERT_NE(tuning, nullptr);
  EXPECT_EQ(tuning->pos.x + tuning->size.x, 1272.0f) << "a gap on the right after growing back";
  EXPECT_TRUE(tuning->anchored);
}

TEST_F(ImGuiFrames, DefaultLayoutLeavesMostOfTheFlockVisible) {
  for (int i = 0; i < 2; ++i) frame(1280, 720);
  float covered = 0.0f;
  for (const PanelProbe& p : ui_probe().panels)
    covered += p.size.x * p.size.y;  // the columns do not overlap (PanelLayout tests)
  EXPECT_LT(covered / (1280.0f * 720.0f), 0.35f);
}

TEST_F(ImGuiFrames, AHandMovedPanelStaysUntilResetLayout) {
  for (int i = 0; i < 2; ++i) frame(1280, 720);
  const PanelProbe before = *ui_probe().panel("Tuning");
  // Drag the title bar 200 px left, 100 px down, over a few frames.
  const ImVec2 grab(before.pos.x + 150.0f, before.pos.y + 8.0f);
  frame(1280, 720, grab, false);
  for (int s = 0; s <= 4; ++s) frame(1280, 720, ImVec2(grab.x - 50.0f * s, grab.y + 25.0f * s), true);
  frame(1280, 720, ImVec2(grab.x - 200.0f, grab.y + 100.0f), false);
  const PanelProbe moved = *ui_probe().panel("Tuning");
  EXPECT_FALSE(moved.anchored);
  EXPECT_NE(moved.pos.x, before.pos.x);
  // Shrinking the window keeps it inside; the anchored panels follow the edge.
  for (int i = 0; i < 2; ++i) frame(1000, 600);
  EXPECT_TRUE(inside(ui_probe(), 1000, 600));
  EXPECT_FALSE(ui_probe().panel("Tuning")->anchored);
  memory.reset();  // what "reset layout" does (frame_loop.cpp)
  for (int i = 0; i < 2; ++i) frame(1000, 600);
  EXPECT_TRUE(ui_probe().panel("Tuning")->anchored);
  EXPECT_EQ(ui_probe().panel("Tuning")->pos.x + ui_probe().panel("Tuning")->size.x, 992.0f);
}

TEST_F(ImGuiFrames, HiddenPanelsDrawOnlyTheHint) {
  controls.panels_hidden = true;
  frame(1280, 720);
  EXPECT_TRUE(ui_probe().panels.empty());
  EXPECT_TRUE(ui_probe().has_banner("panels_hidden_hint"));
}

TEST_F(ImGuiFrames, RaisingBehaviorsShowTheErrorsBannerAndCount) {
  RuntimeSnapshot r;
  append_errors(stats, {ErrorEntry{"ZeroDivisionError: injected", "Traceback ..."}});
  record_frame(stats, PumpFrame{1, false, 0, {}, 0.0}, false, r, FrameTimings{}, 1.0 / 60.0);
  frame(1280, 720);
  frame(1280, 720);
  EXPECT_TRUE(ui_probe().has_banner("errors"));
  EXPECT_EQ(ui_probe().texts.at("pump_errors"), "errors: 1 this frame, 1 total");
  EXPECT_FALSE(ui_probe().panel("Errors")->collapsed) << "the first error opens the Errors panel";
  // No new errors for a while: the banner goes, the list stays.
  for (std::size_t i = 0; i < kErrorWindowFrames; ++i)
    record_frame(stats, PumpFrame{1, false, 0, {}, 0.0}, false, r, FrameTimings{}, 1.0 / 60.0);
  frame(1280, 720);
  EXPECT_FALSE(ui_probe().has_banner("errors"));
  EXPECT_EQ(stats.errors.size(), 1u);
}

TEST_F(ImGuiFrames, PerItemWithUnboundedMaxSaysTheDeadlineGates) {
  controls.dispatch = DispatchMode::kPerItem;
  controls.max_behaviors_unbounded = true;
  frame(1280, 720);
  frame(1280, 720);
  ASSERT_TRUE(ui_probe().texts.count("per_item_gate"));
  EXPECT_NE(ui_probe().texts.at("per_item_gate").find("4.0 ms deadline"), std::string::npos);
}

TEST(Readouts, PumpVerdictTellsWholeMillisecondDeadlines) {
  DemoControls c;
  c.deadline_ms = 0.1f;
  DemoStats s;
  s.pump.executed = 3;
  s.pump.call_ms = 0.43;
  s.pump.effective_deadline_ms = 1.0;
  bool warn = false;
  const std::string v = pump_verdict(s, c, warn);
  EXPECT_TRUE(warn);
  EXPECT_NE(v.find("over the 0.1 ms deadline"), std::string::npos) << v;
  EXPECT_NE(v.find("1 ms"), std::string::npos) << v;

  s.pump.call_ms = 0.05;
  EXPECT_EQ(pump_verdict(s, c, warn), "within budget");
  EXPECT_FALSE(warn);

  s.pump.deadline_reached = true;
  c.max_behaviors_unbounded = true;
  EXPECT_NE(pump_verdict(s, c, warn).find("the deadline is the limit"), std::string::npos);
}

TEST(Readouts, FpsTextAndPlotAreTheSameSeries) {
  DemoStats s;
  RuntimeSnapshot r;
  for (double ms : {10.0, 40.0, 12.0, 100.0}) {
    record_frame(s, PumpFrame{}, false, r, FrameTimings{0, 0, 0, 0, ms}, ms / 1000.0);
    EXPECT_FLOAT_EQ(s.fps_history.latest(), static_cast<float>(s.fps));
  }
}

TEST(Controls, DefaultsRestoreTheFlockButKeepTheWorld) {
  CliOptions o;
  o.width = 640;
  o.height = 360;
  DemoControls c = controls_from_cli(o);
  const FlockParams start = c.flock;
  c.flock.cohesion = 4.0f;
  c.flock.max_speed = 500.0f;
  c.flock.world_w = 999.0f;
  restore_flock_defaults(c);
  EXPECT_EQ(c.flock.cohesion, start.cohesion);
  EXPECT_EQ(c.flock.max_speed, start.max_speed);
  EXPECT_EQ(c.flock.world_w, 999.0f);
}

TEST(Controls, BoidsSliderCoversTheCommandLine) {
  CliOptions o;
  o.boids = 30000;
  EXPECT_GE(controls_from_cli(o).boids_slider_max, 30000);
  o.boids = 500;
  EXPECT_EQ(controls_from_cli(o).boids_slider_max, 20000);
}

TEST(Recorder, RecordedChangesReadBackAsTheSameActions) {
  DemoControls c;
  ScenarioRecorder rec;
  RecordSetup setup;
  setup.seed = 7;
  setup.width = 640;
  setup.height = 360;
  c.stall_ms = 20;  // in force when recording starts: a frame-0 action
  rec.start(100, c, setup);
  rec.observe(100, c);
  c.pump_paused = true;
  rec.observe(105, c);
  c.flock.cohesion = 2.5f;
  c.max_behaviors_unbounded = false;
  c.max_behaviors = 1;
  rec.observe(110, c);
  c.boid_count = 900;
  c.boid_count_changed = true;
  rec.observe(111, c);
  c.boid_count_changed = false;
  c.step_requested = true;
  rec.observe(112, c);
  c.step_requested = false;
  rec.observe(119, c);
  EXPECT_EQ(rec.frames(), 20u);

  // A scenario script (scenario/control_module.cpp); the replay is ctest visual.record_roundtrip.*.
  const std::string text = rec.text("session");
  for (const char* line :
       {"    name=\"session\",\n", "    boids=2000, seed=7, size=\"640x360\", frames=20, workers=2,\n",
        "def on_frame(frame):\n"
        "    if frame == 0:\n        stall_ms(20)\n"
        "    if frame == 5:\n        pause_pump(True)\n"
        "    if frame == 10:\n        set_knob(\"max_behaviors\", 1)\n"
        "        set_knob(\"cohesion\", 2.5)\n"
        "    if frame == 11:\n        set_knob(\"boids\", 900)\n"
        "    if frame == 12:\n        step()\n"
        "    if frame == 19:\n        screenshot()\n"})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nnot in:\n" << text;
}

}  // namespace
}  // namespace boc::demo
