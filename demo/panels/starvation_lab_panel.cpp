#include "panels/starvation_lab_panel.h"

#include <cstdio>

#include "panels/ui_probe.h"
#include "panels/panel_style.h"

namespace boc::demo {

void draw_starvation_lab_panel(DemoControls& controls, const DemoStats& stats, const PanelPlacement& placement,
                               bool deterministic) {
  place_next_panel(placement, deterministic);
  const bool open = ImGui::Begin("Starvation lab");
  track_panel("Starvation lab", placement, deterministic);
  if (!open) {
    ImGui::End();
    return;
  }
  ImGui::Checkbox("pause the pump", &controls.pump_paused);
  probe_widget("pause_pump");
  if (controls.pump_paused) {
    ImGui::SameLine();
    ImGui::TextColored(panel_style::kWarn, "pinned work piles up");
  }
  panel_style::form_row("stall ms/frame");
  ImGui::SliderInt("##stall", &controls.stall_ms, 0, 200, "%d");

  ImGui::TextUnformatted("write-back dispatch:");
  int mode = controls.dispatch == DispatchMode::kCoarse ? 0 : 1;
  ImGui::RadioButton("coarse (1 pinned/frame)", &mode, 0);
  ImGui::SameLine();
  ImGui::RadioButton("per item", &mode, 1);
  probe_widget("per_item");
  controls.dispatch = mode == 0 ? DispatchMode::kCoarse : DispatchMode::kPerItem;
  if (controls.dispatch == DispatchMode::kPerItem) {
    // Wrapped: the panel is narrow, and this is the line that explains the freeze.
    ImGui::PushStyleColor(ImGuiCol_Text, panel_style::kWarn);
    ImGui::TextWrapped("anti-pattern: one pinned behavior per boid per frame");
    if (controls.max_behaviors_unbounded && !controls.deadline_unbounded) {
      char gate[160];
      std::snprintf(gate, sizeof(gate),
                    "max behaviors is unbounded, but each pump() still stops after its %.1f ms deadline: the "
                    "queue grows anyway",
                    controls.deadline_ms);
      ImGui::TextWrapped("%s", gate);
      probe_text("per_item_gate", gate);
    }
    ImGui::PopStyleColor();
  }

  panel_style::heading("record a scenario");
  bool recording = stats.recording;
  if (ImGui::Checkbox("Record", &recording)) controls.record_toggle_requested = true;
  probe_widget("record");
  ImGui::SameLine();
  ImGui::BeginDisabled(stats.recorded_frames == 0);
  if (ImGui::Button("Save scenario")) controls.save_scenario_requested = true;
  probe_widget("save_scenario");
  ImGui::EndDisabled();
  if (stats.recording || stats.recorded_frames > 0)
    ImGui::TextColored(stats.recording ? panel_style::kWarn : panel_style::kDim, "%s frame %llu, %zu change(s)",
                       stats.recording ? "recording:" : "recorded:",
                       static_cast<unsigned long long>(stats.recorded_frames), stats.recorded_changes);
  if (!stats.last_saved.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, panel_style::kDim);
    ImGui::TextWrapped("%s", stats.last_saved.c_str());
    ImGui::PopStyleColor();
  }
  ImGui::End();
}

}  // namespace boc::demo
