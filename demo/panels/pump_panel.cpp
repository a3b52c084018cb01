#include "panels/pump_panel.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "panels/ui_probe.h"
#include "panels/panel_style.h"

namespace boc::demo {

namespace {

void budget_line(const DemoControls& c) {
  char deadline[32];
  char max_b[32];
  if (c.deadline_unbounded)
    std::snprintf(deadline, sizeof(deadline), "unbounded");
  else
    std::snprintf(deadline, sizeof(deadline), "%.1f ms", c.deadline_ms);
  if (c.max_behaviors_unbounded)
    std::snprintf(max_b, sizeof(max_b), "unbounded");
  else
    std::snprintf(max_b, sizeof(max_b), "%d", c.max_behaviors);
  ImGui::Text("budget: %s, max %s", deadline, max_b);
}

void watchdog_table(const DemoStats& stats) {
  const ImGuiTableFlags flags =
      ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingStretchProp;
  // Fill what is left of the panel (at least the header and one row), so the panel itself
  // never needs a scrollbar; the table scrolls instead.
  const float min_h = 2.0f * ImGui::GetFrameHeightWithSpacing();
  const float h = ImGui::GetContentRegionAvail().y;
  if (!ImGui::BeginTable("watchdog_log", 3, flags, ImVec2(0.0f, h > min_h ? h : min_h))) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("time s");
  ImGui::TableSetupColumn("age ms");
  ImGui::TableSetupColumn("depth");
  ImGui::TableHeadersRow();
  // Newest first.
  for (auto it = stats.watchdog_log.rbegin(); it != stats.watchdog_log.rend(); ++it) {
    ImGui::TableNextRow();
    ImGui::TableSetColumnIndex(0);
    ImGui::Text("%.2f", it->time_s);
    ImGui::TableSetColumnIndex(1);
    ImGui::Text("%.0f", it->age_ms);
    ImGui::TableSetColumnIndex(2);
    ImGui::Text("%zu", it->depth);
  }
  ImGui::EndTable();
}

}  // namespace

std::string pump_verdict(const DemoStats& stats, const DemoControls& c, bool& warn) {
  char buf[256];
  const PumpFrame& p = stats.pump;
  warn = true;
  const double effective = p.effective_deadline_ms.value_or(c.deadline_ms);
  if (p.deadline_reached) {
    std::snprintf(buf, sizeof(buf), "deadline reached: pump() stopped after its %.0f ms budget with work left%s",
                  effective,
                  c.max_behaviors_unbounded ? " (max behaviors is unbounded: the deadline is the limit)" : "");
    return buf;
  }
  if (!c.deadline_unbounded && !stats.nominal_timings && p.call_ms > c.deadline_ms) {
    if (effective > c.deadline_ms)
      std::snprintf(buf, sizeof(buf),
                    "over the %.1f ms deadline: took %.2f ms (pump() counts whole ms, so it ran with %.0f ms)",
                    c.deadline_ms, p.call_ms, effective);
    else
      std::snprintf(buf, sizeof(buf), "over the %.1f ms deadline: took %.2f ms (a running behavior finishes first)",
                    c.deadline_ms, p.call_ms);
    return buf;
  }
  if (!c.max_behaviors_unbounded && p.executed >= static_cast<std::size_t>(std::max(c.max_behaviors, 1))) {
    std::snprintf(buf, sizeof(buf), "max behaviors reached (%d): work may be left", c.max_behaviors);
    return buf;
  }
  warn = false;
  return "within budget";
}

void draw_pump_panel(const DemoStats& stats, const DemoControls& controls, const PanelPlacement& placement,
                     bool deterministic) {
  place_next_panel(placement, deterministic);
  const bool open = ImGui::Begin("Pump");
  track_panel("Pump", placement, deterministic);
  const StarvationStatus starving = starvation_status(stats.runtime, controls.watchdog_warn_ms);
  const ErrorsStatus raising = errors_status(stats);
  if (starving.starving) probe_banner("starving");
  if (raising.raising) probe_banner("errors");
  if (!open) {
    ImGui::End();
    return;
  }

  if (starving.starving) panel_style::banner("##pump_banner", starvation_banner_text(starving).c_str());
  if (raising.raising) panel_style::banner("##errors_banner", errors_banner_text(raising).c_str());

  panel_style::heading("this frame");
  if (stats.pump_skipped) {
    ImGui::TextColored(panel_style::kWarn, "pump paused (Starvation lab): not called");
    probe_text("pump_verdict", "paused");
  } else {
    if (stats.nominal_timings)
      ImGui::Text("executed %zu", stats.pump.executed);
    else
      ImGui::Text("executed %zu in %.2f ms", stats.pump.executed, stats.pump.call_ms);
    bool warn = false;
    const std::string verdict = pump_verdict(stats, controls, warn);
    ImGui::PushStyleColor(ImGuiCol_Text, warn ? panel_style::kWarn : panel_style::kDim);
    ImGui::TextWrapped("%s", verdict.c_str());
    ImGui::PopStyleColor();
    probe_text("pump_verdict", verdict);
  }
  // `raised` counts pinned behaviors that raised inside pump(); tile (worker) behaviors
  // report through drain_errors(), counted here per frame.
  char raised[48];
  std::snprintf(raised, sizeof(raised), "raised %zu in pump()", stats.pump.raised);
  if (stats.pump.raised > 0)
    ImGui::TextColored(panel_style::kBannerRed, "%s", raised);
  else
    ImGui::TextUnformatted(raised);
  char errors[96];
  std::snprintf(errors, sizeof(errors), "errors: %llu this frame, %llu total",
                static_cast<unsigned long long>(stats.errors_this_frame),
                static_cast<unsigned long long>(stats.errors_total));
  if (stats.errors_this_frame > 0)
    ImGui::TextColored(panel_style::kBannerRed, "%s", errors);
  else
    ImGui::TextUnformatted(errors);
  probe_text("pump_errors", errors);
  budget_line(controls);
  panel_style::heading("pinned queue");
  ImGui::Text("depth %zu   age %.0f ms", stats.runtime.pinned_depth, stats.runtime.pinned_age_ms);
  char overlay[64];
  std::snprintf(overlay, sizeof(overlay), "depth (max %.0f)", stats.depth_history.max());
  panel_style::plot("##depth", stats.depth_history, 4.0f, overlay, 40.0f);
  std::snprintf(overlay, sizeof(overlay), "age ms (warn %.0f)", controls.watchdog_warn_ms);
  panel_style::plot("##age", stats.age_history, controls.watchdog_warn_ms, overlay, 40.0f);

  panel_style::heading("watchdog");
  if (controls.watchdog_enabled)
    ImGui::Text("on: warn after %.0f ms; %llu report(s)", controls.watchdog_warn_ms,
                static_cast<unsigned long long>(stats.watchdog_total));
  else
    ImGui::TextColored(panel_style::kDim, "off (%llu report(s) before)",
                       static_cast<unsigned long long>(stats.watchdog_total));
  watchdog_table(stats);

  ImGui::End();
}

void draw_banner_overlay(const DemoStats& stats, const DemoControls& controls, const PanelsLayout& layout,
                         bool panels_hidden) {
  const StarvationStatus starving = starvation_status(stats.runtime, controls.watchdog_warn_ms);
  const ErrorsStatus raising = errors_status(stats);
  if ((!starving.starving && !raising.raising) || (!layout.banner_overlay && !panels_hidden)) return;
  std::string text;
  if (starving.starving) {
    text = starvation_banner_text(starving);
    probe_banner("starving");
  }
  if (raising.raising) {
    if (!text.empty()) text += '\n';
    text += errors_banner_text(raising);
    probe_banner("errors");
  }
  ImGui::SetNextWindowPos(layout.banner_pos, ImGuiCond_Always, ImVec2(0.5f, 0.0f));
  ImGui::SetNextWindowBgAlpha(1.0f);
  ImGui::PushStyleColor(ImGuiCol_WindowBg, panel_style::kBannerRed);
  ImGui::PushStyleColor(ImGuiCol_Text, panel_style::kBannerText);
  ImGui::PushStyleColor(ImGuiCol_Border, panel_style::kBannerText);
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoInputs |
                                 ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings |
                                 ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoNav;
  if (ImGui::Begin("##starvation_banner", nullptr, flags)) {
    // Wrapped: the errors text is long, and the banner must not cover the side columns.
    ImGui::PushTextWrapPos(ImGui::GetIO().DisplaySize.x * 0.4f);
    ImGui::TextUnformatted(text.c_str());
    ImGui::PopTextWrapPos();
  }
  ImGui::End();
  ImGui::PopStyleColor(3);
}

}  // namespace boc::demo
