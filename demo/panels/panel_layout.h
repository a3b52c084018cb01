// Where the panels go. Two columns at the left and right edges, leaving the middle for the
// flock; in the full layout (1280x720) the columns are about 21 % and 25 % of the width and
// Runtime / Errors start collapsed, so most of the flock stays visible.
//
// Deterministic (screenshot / scenario) mode forces positions, sizes and collapse state
// every frame (ImGuiCond_Always) so screenshots do not depend on history. Interactive mode
// anchors every panel to the window's edges: when the window is resized or maximised the
// panels move with it (LayoutMemory re-applies the new target), until the user moves or
// resizes a panel by hand; from then on that panel stays where it was put (kept inside the
// window) until "reset layout". Collapse state is only a first-use default interactively.
// On small framebuffers (narrower than kCompactWidth) every panel but Pump starts collapsed.
#pragma once

#include <imgui.h>

namespace boc::demo {

// One panel's interactive placement memory (kept across frames by the frame loop).
struct PanelAnchor {
  bool placed = false;             // the target below was applied at least once
  bool user_placed = false;        // moved or resized by hand: no longer follows the window
  bool open_once = false;          // uncollapse on the next frame
  bool opened_for_errors = false;  // Errors: opened once when the first error arrived
  ImVec2 pos;                      // the target last applied
  ImVec2 size;
  ImVec2 actual_pos;   // as drawn last frame
  ImVec2 actual_size;  // last expanded size
  bool actual_collapsed = false;
};

struct LayoutMemory {
  PanelAnchor pump;
  PanelAnchor runtime;
  PanelAnchor tuning;
  PanelAnchor starvation;
  PanelAnchor errors;

  // "reset layout": every panel back to its anchored default (collapse state included).
  void reset() { *this = LayoutMemory{}; }
};

struct PanelPlacement {
  ImVec2 pos;
  ImVec2 size;
  bool collapsed = false;
  PanelAnchor* anchor = nullptr;  // interactive mode; null: deterministic / first-use default
};

struct PanelsLayout {
  bool deterministic = false;
  bool compact = false;
  PanelPlacement pump;
  PanelPlacement runtime;
  PanelPlacement tuning;
  PanelPlacement starvation;
  PanelPlacement errors;
  ImVec2 banner_pos;           // top centre of the display (the overlay banner's anchor)
  bool banner_overlay = true;  // false in the compact layout: the Pump panel's banner suffices
};

inline constexpr float kCompactWidth = 960.0f;
inline constexpr float kPanelBgAlpha = 0.85f;
inline constexpr float kCollapsedH = 19.0f;  // a collapsed panel: its title bar (default font)

// `memory` (interactive mode) is bound to the placements; the Errors panel's target also
// depends on whether it is collapsed (a title bar at the bottom edge, growing upwards).
PanelsLayout compute_panels_layout(float display_w, float display_h, bool deterministic,
                                   LayoutMemory* memory = nullptr);

// Before ImGui::Begin: deterministic: SetNextWindowPos/Size/Collapsed with ImGuiCond_Always;
// anchored: the target when it changed (or first use); hand-placed: kept inside the display.
void place_next_panel(const PanelPlacement& placement, bool deterministic);
// Right after ImGui::Begin (whatever it returned): notices a hand move / resize and records
// the panel in ui_probe().
void track_panel(const char* name, const PanelPlacement& placement, bool deterministic);

}  // namespace boc::demo
