#include "panels/tuning_panel.h"

#include "panels/ui_probe.h"
#include "panels/panel_style.h"

namespace boc::demo {

namespace {

constexpr int kMinBoids = 10;             // the maximum is DemoControls::boids_slider_max (>= --boids)
constexpr float kUnboundedWidth = 96.0f;  // room for the trailing "unbounded" checkbox

}  // namespace

void draw_tuning_panel(DemoControls& controls, const DemoStats& stats, const PanelPlacement& placement,
                       bool deterministic) {
  using panel_style::form_row;
  place_next_panel(placement, deterministic);
  const bool open = ImGui::Begin("Tuning");
  track_panel("Tuning", placement, deterministic);
  if (!open) {
    ImGui::End();
    return;
  }

  if (ImGui::Button("reset layout")) controls.reset_layout_requested = true;
  probe_widget("reset_layout");
  ImGui::SameLine();
  ImGui::TextColored(panel_style::kDim, "Tab/F1: hide, Esc: quit");

  panel_style::heading("pump budget");
  form_row("deadline ms", kUnboundedWidth);
  ImGui::BeginDisabled(controls.deadline_unbounded);
  ImGui::SliderFloat("##deadline", &controls.deadline_ms, 0.1f, 33.0f, "%.1f", ImGuiSliderFlags_Logarithmic);
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::Checkbox("unbounded##deadline", &controls.deadline_unbounded);

  form_row("max behaviors", kUnboundedWidth);
  ImGui::BeginDisabled(controls.max_behaviors_unbounded);
  ImGui::SliderInt("##max_behaviors", &controls.max_behaviors, 1, 4096, "%d", ImGuiSliderFlags_Logarithmic);
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::Checkbox("unbounded##max", &controls.max_behaviors_unbounded);

  panel_style::heading("watchdog");
  form_row("warn ms", kUnboundedWidth);
  ImGui::BeginDisabled(!controls.watchdog_enabled);
  if (ImGui::SliderFloat("##warn_ms", &controls.watchdog_warn_ms, 10.0f, 2000.0f, "%.0f", ImGuiSliderFlags_Logarithmic))
    controls.watchdog_changed = true;
  ImGui::EndDisabled();
  ImGui::SameLine();
  if (ImGui::Checkbox("on##watchdog", &controls.watchdog_enabled)) controls.watchdog_changed = true;
  form_row("wait poll ms", kUnboundedWidth);
  ImGui::SliderFloat("##wait_poll", &controls.wait_poll_ms, 1.0f, 100.0f, "%.0f");

  panel_style::heading("flock");
  if (ImGui::Button(controls.paused ? "Resume" : "Pause", ImVec2(80.0f, 0.0f))) controls.paused = !controls.paused;
  ImGui::SameLine();
  ImGui::BeginDisabled(!controls.paused);
  if (ImGui::Button("Step", ImVec2(80.0f, 0.0f))) controls.step_requested = true;
  ImGui::EndDisabled();
  if (controls.paused) {
    ImGui::SameLine();
    ImGui::TextColored(panel_style::kWarn, "paused");
  }

  form_row("boids", kUnboundedWidth);
  ImGui::SliderInt("##boids", &controls.boid_count, kMinBoids, controls.boids_slider_max, "%d",
                   ImGuiSliderFlags_Logarithmic);
  // Re-creating the flock is expensive: apply when the slider is released.
  if (ImGui::IsItemDeactivatedAfterEdit()) controls.boid_count_changed = true;
  ImGui::SameLine();
  ImGui::TextColored(panel_style::kDim, "now %zu", stats.runtime.boids);

  FlockParams& f = controls.flock;
  if (ImGui::Button("defaults")) restore_flock_defaults(controls);
  probe_widget("flock_defaults");
  ImGui::SameLine();
  ImGui::TextColored(panel_style::kDim, "weights, radii, speeds");
  form_row("cohesion");
  ImGui::SliderFloat("##cohesion", &f.cohesion, 0.0f, 5.0f, "%.2f");
  form_row("alignment");
  ImGui::SliderFloat("##alignment", &f.alignment, 0.0f, 5.0f, "%.2f");
  form_row("separation");
  ImGui::SliderFloat("##separation", &f.separation, 0.0f, 5.0f, "%.2f");
  form_row("neighbour r");
  ImGui::SliderFloat("##neighbour_r", &f.neighbour_radius, 10.0f, 120.0f, "%.0f");
  form_row("separation r");
  ImGui::SliderFloat("##separation_r", &f.separation_radius, 2.0f, 60.0f, "%.0f");
  form_row("speed min/max");
  ImGui::DragFloatRange2("##speed", &f.min_speed, &f.max_speed, 1.0f, 0.0f, 600.0f, "%.0f", "%.0f",
                         ImGuiSliderFlags_AlwaysClamp);
  form_row("edge turn");
  ImGui::SliderFloat("##edge_turn", &f.bounds_turn, 0.0f, 2000.0f, "%.0f");

  ImGui::End();
}

}  // namespace boc::demo
