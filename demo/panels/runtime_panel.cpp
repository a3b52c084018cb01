#include "panels/runtime_panel.h"

#include <cstdio>

#include "panels/ui_probe.h"
#include "panels/panel_style.h"

namespace boc::demo {

void draw_runtime_panel(const DemoStats& stats, const PanelPlacement& placement, bool deterministic) {
  place_next_panel(placement, deterministic);
  const bool open = ImGui::Begin("Runtime");
  track_panel("Runtime", placement, deterministic);
  if (!open) {
    ImGui::End();
    return;
  }
  const RuntimeSnapshot& r = stats.runtime;
  ImGui::Text("driver %s", stats.driver_name.c_str());
  ImGui::SameLine();
  if (r.workers == 0)
    ImGui::TextColored(panel_style::kDim, "  workers: none (main thread)");
  else
    ImGui::Text("  workers %zu", r.workers);
  ImGui::Text("boids %zu   behaviors/frame %llu   /s %.0f", r.boids,
              static_cast<unsigned long long>(stats.behaviors_this_frame), stats.behaviors_per_second);
  ImGui::Text("sim step %.2f ms%s", r.step_ms, r.step_pending ? "  (step in flight)" : "");
  // The fps text and the fps plot show the same (smoothed) series: demo_stats.cpp.
  ImGui::Text("frame %.2f ms   %.1f fps (smoothed)", stats.timings.frame_ms, stats.fps);
  // render: the previous frame's boids + panels only (frame_loop.cpp starts its clock after
  // the stall), so the Starvation-lab stall shows under "stall", not twice.
  ImGui::TextColored(panel_style::kDim, "pump %.2f  stall %.1f  step %.2f  render %.2f ms", stats.timings.pump_ms,
                     stats.timings.stall_ms, stats.timings.step_ms, stats.timings.render_ms);
  char fps_text[32];
  std::snprintf(fps_text, sizeof(fps_text), "%.1f", stats.fps);
  probe_text("fps", fps_text);
  char render_text[32];
  std::snprintf(render_text, sizeof(render_text), "%.2f", stats.timings.render_ms);
  probe_text("render_ms", render_text);
  if (stats.nominal_timings) ImGui::TextColored(panel_style::kWarn, "deterministic mode: nominal timings");

  char overlay[64];
  std::snprintf(overlay, sizeof(overlay), "frame ms (%.2f)", stats.frame_ms_history.latest());
  panel_style::plot("##frame_ms", stats.frame_ms_history, 20.0f, overlay, 40.0f);
  std::snprintf(overlay, sizeof(overlay), "fps, smoothed (%.0f)", stats.fps_history.latest());
  panel_style::plot("##fps", stats.fps_history, 60.0f, overlay, 40.0f);
  std::snprintf(overlay, sizeof(overlay), "sim step ms (%.2f)", stats.step_ms_history.latest());
  panel_style::plot("##step_ms", stats.step_ms_history, 1.0f, overlay, 40.0f);
  ImGui::End();
}

}  // namespace boc::demo
