// The panels run against plain data with an ImGui context and no GL: every panel, both
// layouts, with and without a starving queue, and the controls they write.
#include <gtest/gtest.h>

#include <imgui.h>
#include <imgui_internal.h>  // FindWindowByName

#include <cfloat>
#include <string>
#include <utility>

#include "app/demo_controls.h"
#include "app/demo_stats.h"
#include "panels/panel_layout.h"
#include "panels/panels.h"
#include "panels/ui_probe.h"

namespace boc::demo {
namespace {

class PanelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    unsigned char* pixels = nullptr;
    int w = 0;
    int h = 0;
    io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);  // builds the atlas; no renderer needed
  }
  void TearDown() override { ImGui::DestroyContext(); }

  // Runs one ImGui frame of all panels; returns the draw data's vertex count.
  int frame(float w, float h, DemoControls& controls, const DemoStats& stats) {
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(w, h);
    io.DeltaTime = 1.0f / 60.0f;
    io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
    ImGui::NewFrame();
    draw_panels(controls, stats, compute_panels_layout(w, h, true));
    ImGui::Render();
    return ImGui::GetDrawData()->TotalVtxCount;
  }
};

TEST_F(PanelsTest, DrawAllPanelsInBothLayouts) {
  DemoControls controls;
  DemoStats stats;
  stats.driver_name = "native";
  RuntimeSnapshot r;
  r.boids = 2000;
  for (int i = 0; i < 10; ++i)
    record_frame(stats, PumpFrame{1, false, 0, {}, 0.0}, false, r, FrameTimings{0.1, 0, 1, 2, 16.7}, 1.0 / 60.0);
  append_errors(stats,
                {ErrorEntry{"ZeroDivisionError: division by zero", "Traceback (most recent call last):\n  ..."}});
  append_watchdog_events(stats, {WatchdogEvent{1.5, 260.0, 4}});
  for (int f = 0; f < 3; ++f) {
    for (const auto& [w, h] : {std::pair{1280.0f, 720.0f}, std::pair{640.0f, 360.0f}}) {
      SCOPED_TRACE(std::to_string(static_cast<int>(w)) + "x" + std::to_string(static_cast<int>(h)));
      ui_probe().clear();
      EXPECT_GT(frame(w, h, controls, stats), 0);
      const UiProbe& probe = ui_probe();
      // Every panel is drawn, inside the display (a collapsed one as its title bar).
      for (const char* name : {"Pump", "Tuning", "Runtime", "Starvation lab", "Errors"}) {
        const PanelProbe* p = probe.panel(name);
        ASSERT_NE(p, nullptr) << name;
        EXPECT_GT(p->size.x, 0.0f) << name;
        EXPECT_GT(p->size.y, 0.0f) << name;
        EXPECT_GE(p->pos.x, 0.0f) << name;
        EXPECT_GE(p->pos.y, 0.0f) << name;
        EXPECT_LE(p->pos.x + p->size.x, w) << name;
        EXPECT_LE(p->pos.y + p->size.y, h) << name;
      }
      // The Pump panel reads the stats: a verdict, the error (it arrived after the last
      // recorded frame: none this frame); neither banner (no queue, nothing raising now).
      EXPECT_EQ(probe.texts.count("pump_verdict"), 1u);
      EXPECT_EQ(probe.texts.at("pump_errors"), "errors: 0 this frame, 1 total");
      EXPECT_FALSE(probe.has_banner("errors"));
      EXPECT_FALSE(probe.has_banner("starving"));
    }
  }
  // Nothing was clicked: no one-shot request may be raised by drawing alone.
  EXPECT_FALSE(controls.clear_errors_requested);
  EXPECT_FALSE(controls.boid_count_changed);
  EXPECT_FALSE(controls.step_requested);
  EXPECT_FALSE(controls.watchdog_changed);
}

TEST_F(PanelsTest, StarvingQueueAddsTheBannerWindow) {
  DemoControls controls;
  DemoStats stats;
  RuntimeSnapshot r;
  record_frame(stats, PumpFrame{}, true, r, FrameTimings{}, 1.0 / 60.0);
  frame(1280, 720, controls, stats);
  frame(1280, 720, controls, stats);
  EXPECT_EQ(ImGui::FindWindowByName("##starvation_banner"), nullptr);

  r.pinned_depth = 7;
  r.pinned_age_ms = 1200.0;
  record_frame(stats, PumpFrame{}, true, r, FrameTimings{}, 1.0 / 60.0);
  frame(1280, 720, controls, stats);
  EXPECT_NE(ImGui::FindWindowByName("##starvation_banner"), nullptr);
}

TEST(PanelLayout, ColumnsStayOnScreenAndDoNotOverlapVertically) {
  const PanelsLayout l = compute_panels_layout(1280, 720, true);
  EXPECT_TRUE(l.deterministic);
  EXPECT_FALSE(l.pump.collapsed);
  EXPECT_LE(l.pump.pos.y + l.pump.size.y, l.runtime.pos.y);
  EXPECT_LE(l.tuning.pos.y + l.tuning.size.y, l.starvation.pos.y);
  EXPECT_LE(l.starvation.pos.y + l.starvation.size.y, l.errors.pos.y);
  // Errors starts collapsed: a title bar on the bottom edge (it grows upwards when opened).
  EXPECT_TRUE(l.errors.collapsed);
  EXPECT_EQ(l.errors.pos.y + kCollapsedH, 712.0f);
  EXPECT_TRUE(l.runtime.collapsed);
  EXPECT_LE(l.tuning.pos.x + l.tuning.size.x, 1280.0f);
  EXPECT_LT(l.pump.pos.x + l.pump.size.x, l.tuning.pos.x);

  const PanelsLayout c = compute_panels_layout(640, 360, true);
  EXPECT_FALSE(c.pump.collapsed);
  EXPECT_TRUE(c.tuning.collapsed);
  EXPECT_TRUE(c.errors.collapsed);
}

}  // namespace
}  // namespace boc::demo
