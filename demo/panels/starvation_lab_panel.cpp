#include "starvation_lab_panel.h"

#include "panel_style.h"

namespace boc::demo {

void draw_starvation_lab_panel(DemoControls& controls, const PanelPlacement& placement, bool deterministic)
{
    place_next_panel(placement, deterministic);
    if (!ImGui::Begin("Starvation lab"))
    {
        ImGui::End();
        return;
    }
    ImGui::Checkbox("pause the pump", &controls.pump_paused);
    if (controls.pump_paused)
    {
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
    controls.dispatch = mode == 0 ? DispatchMode::kCoarse : DispatchMode::kPerItem;
    if (controls.dispatch == DispatchMode::kPerItem)
        ImGui::TextColored(panel_style::kWarn, "anti-pattern: one pinned behavior per boid");
    ImGui::End();
}

}  // namespace boc::demo
