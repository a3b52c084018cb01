#include "pump_panel.h"

#include <cstdio>
#include <string>

#include "panel_style.h"

namespace boc::demo {

namespace {

void budget_line(const DemoControls& c)
{
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

void watchdog_table(const DemoStats& stats)
{
    const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_SizingStretchProp;
    // Fill what is left of the panel (at least the header and one row), so the panel itself
    // never needs a scrollbar; the table scrolls instead.
    const float min_h = 2.0f * ImGui::GetFrameHeightWithSpacing();
    const float h = ImGui::GetContentRegionAvail().y;
    if (!ImGui::BeginTable("watchdog_log", 3, flags, ImVec2(0.0f, h > min_h ? h : min_h)))
        return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("time s");
    ImGui::TableSetupColumn("age ms");
    ImGui::TableSetupColumn("depth");
    ImGui::TableHeadersRow();
    // Newest first.
    for (auto it = stats.watchdog_log.rbegin(); it != stats.watchdog_log.rend(); ++it)
    {
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

void draw_pump_panel(const DemoStats& stats, const DemoControls& controls, const PanelPlacement& placement,
                     bool deterministic)
{
    place_next_panel(placement, deterministic);
    if (!ImGui::Begin("Pump"))
    {
        ImGui::End();
        return;
    }

    const StarvationStatus starving = starvation_status(stats.runtime, controls.watchdog_warn_ms);
    if (starving.starving)
    {
        panel_style::banner("##pump_banner", starvation_banner_text(starving).c_str());
    }

    panel_style::heading("this frame");
    if (stats.pump_skipped)
    {
        ImGui::TextColored(panel_style::kWarn, "pump paused (Starvation lab): not called");
    }
    else
    {
        ImGui::Text("executed %zu", stats.pump.executed);
        ImGui::SameLine();
        if (stats.pump.deadline_reached)
            ImGui::TextColored(panel_style::kWarn, "  deadline reached");
        else
            ImGui::TextColored(panel_style::kDim, "  within deadline");
        ImGui::SameLine();
        if (stats.pump.raised > 0)
            ImGui::TextColored(panel_style::kBannerRed, "  raised %zu", stats.pump.raised);
        else
            ImGui::Text("  raised 0");
    }
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

void draw_starvation_banner_overlay(const DemoStats& stats, const DemoControls& controls, const PanelsLayout& layout)
{
    const StarvationStatus starving = starvation_status(stats.runtime, controls.watchdog_warn_ms);
    if (!starving.starving || !layout.banner_overlay)
        return;
    const std::string text = starvation_banner_text(starving);
    ImGui::SetNextWindowPos(layout.banner_pos, ImGuiCond_Always, ImVec2(0.5f, 0.0f));
    ImGui::SetNextWindowBgAlpha(1.0f);
    ImGui::PushStyleColor(ImGuiCol_WindowBg, panel_style::kBannerRed);
    ImGui::PushStyleColor(ImGuiCol_Text, panel_style::kBannerText);
    ImGui::PushStyleColor(ImGuiCol_Border, panel_style::kBannerText);
    const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoInputs |
                                   ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings |
                                   ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoNav;
    if (ImGui::Begin("##starvation_banner", nullptr, flags))
    {
        ImGui::TextUnformatted(text.c_str());
    }
    ImGui::End();
    ImGui::PopStyleColor(3);
}

}  // namespace boc::demo
