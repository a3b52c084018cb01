#include "panels/panels.h"

#include "panels/ui_probe.h"
#include "panels/errors_panel.h"
#include "panels/panel_style.h"
#include "panels/pump_panel.h"
#include "panels/runtime_panel.h"
#include "panels/starvation_lab_panel.h"
#include "panels/tuning_panel.h"

namespace boc::demo {

namespace {

// Bottom-left hint while the panels are hidden, so the way back is on screen.
void draw_hidden_hint() {
  probe_banner("panels_hidden_hint");
  const ImVec2 display = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowPos(ImVec2(8.0f, display.y - 8.0f), ImGuiCond_Always, ImVec2(0.0f, 1.0f));
  ImGui::SetNextWindowBgAlpha(0.6f);
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoInputs |
                                 ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings |
                                 ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoNav;
  if (ImGui::Begin("##hidden_hint", nullptr, flags))
    ImGui::TextColored(panel_style::kDim, "panels hidden: Tab or F1 shows them, Esc quits");
  ImGui::End();
}

}  // namespace

void draw_panels(DemoControls& controls, const DemoStats& stats, const PanelsLayout& layout) {
  const bool d = layout.deterministic;
  if (controls.panels_hidden) {
    draw_hidden_hint();
    draw_banner_overlay(stats, controls, layout, true);
    return;
  }
  draw_pump_panel(stats, controls, layout.pump, d);
  draw_runtime_panel(stats, layout.runtime, d);
  draw_tuning_panel(controls, stats, layout.tuning, d);
  draw_starvation_lab_panel(controls, stats, layout.starvation, d);
  draw_errors_panel(stats, controls, layout.errors, d);
  draw_banner_overlay(stats, controls, layout, false);
}

}  // namespace boc::demo
