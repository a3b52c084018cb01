#include "panel_layout.h"

#include <algorithm>
#include <cmath>

namespace boc::demo {

PanelsLayout compute_panels_layout(float display_w, float display_h, bool deterministic)
{
    constexpr float kMargin = 8.0f;
    constexpr float kGap = 6.0f;
    constexpr float kCollapsedH = 19.0f;  // title bar only (default font)

    PanelsLayout l;
    l.deterministic = deterministic;
    const bool compact = display_w < kCompactWidth;
    const float column_w = std::clamp(display_w * 0.27f, 240.0f, 360.0f);
    const float left_x = kMargin;
    const float right_x = display_w - kMargin - column_w;
    const float usable_h = display_h - 2.0f * kMargin;

    if (compact)
    {
        // Pump open on the left, everything else a column of title bars on the right.
        l.pump = {ImVec2(left_x, kMargin), ImVec2(column_w, usable_h), false};
        float y = kMargin;
        for (PanelPlacement* p : {&l.tuning, &l.runtime, &l.starvation, &l.errors})
        {
            *p = {ImVec2(right_x, y), ImVec2(column_w, std::min(usable_h, 360.0f)), true};
            y += kCollapsedH + kGap;
        }
    }
    else
    {
        // Left: Pump (55 %), Runtime. Right: Tuning (59 %), Starvation lab (17 %), Errors.
        const float pump_h = std::floor(usable_h * 0.55f);
        l.pump = {ImVec2(left_x, kMargin), ImVec2(column_w, pump_h), false};
        l.runtime = {ImVec2(left_x, kMargin + pump_h + kGap), ImVec2(column_w, usable_h - pump_h - kGap), false};

        const float tuning_h = std::floor(usable_h * 0.59f);
        const float lab_h = std::floor(usable_h * 0.17f);
        l.tuning = {ImVec2(right_x, kMargin), ImVec2(column_w, tuning_h), false};
        l.starvation = {ImVec2(right_x, kMargin + tuning_h + kGap), ImVec2(column_w, lab_h), false};
        const float errors_y = kMargin + tuning_h + kGap + lab_h + kGap;
        l.errors = {ImVec2(right_x, errors_y), ImVec2(column_w, display_h - kMargin - errors_y), false};
    }
    l.banner_pos = ImVec2(display_w * 0.5f, kMargin);
    l.banner_overlay = !compact;
    return l;
}

void place_next_panel(const PanelPlacement& placement, bool deterministic)
{
    const ImGuiCond cond = deterministic ? ImGuiCond_Always : ImGuiCond_FirstUseEver;
    ImGui::SetNextWindowPos(placement.pos, cond);
    ImGui::SetNextWindowSize(placement.size, cond);
    ImGui::SetNextWindowCollapsed(placement.collapsed, cond);
    ImGui::SetNextWindowBgAlpha(kPanelBgAlpha);
}

}  // namespace boc::demo
