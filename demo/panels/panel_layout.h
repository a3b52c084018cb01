// Where the panels go. Two columns at the left and right edges, leaving the middle for the
// flock. In deterministic (screenshot / scenario) mode positions, sizes and collapse state
// are forced every frame (ImGuiCond_Always) so screenshots do not depend on history; in
// interactive mode they are only a first-use default and the user can move things around.
// On small framebuffers (narrower than kCompactWidth) every panel but Pump starts collapsed.
#pragma once

#include <imgui.h>

namespace boc::demo {

struct PanelPlacement
{
    ImVec2 pos;
    ImVec2 size;
    bool collapsed = false;
};

struct PanelsLayout
{
    bool deterministic = false;
    PanelPlacement pump;
    PanelPlacement runtime;
    PanelPlacement tuning;
    PanelPlacement starvation;
    PanelPlacement errors;
    ImVec2 banner_pos;          // top centre of the display (the overlay banner's anchor)
    bool banner_overlay = true;  // false in the compact layout: the Pump panel's banner suffices
};

inline constexpr float kCompactWidth = 960.0f;
inline constexpr float kPanelBgAlpha = 0.85f;

PanelsLayout compute_panels_layout(float display_w, float display_h, bool deterministic);

// SetNextWindowPos/Size/Collapsed + background alpha, with ImGuiCond_Always when
// deterministic and ImGuiCond_FirstUseEver otherwise. Call right before ImGui::Begin.
void place_next_panel(const PanelPlacement& placement, bool deterministic);

}  // namespace boc::demo
