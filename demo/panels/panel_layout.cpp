#include "panels/panel_layout.h"

#include <algorithm>
#include <cmath>

#include "panels/ui_probe.h"

namespace boc::demo {

namespace {

bool differs(ImVec2 a, ImVec2 b) {
  // ImGui floors window positions and sizes (imgui.cpp SetWindowPos / SetWindowSize).
  return std::fabs(a.x - b.x) > 0.5f || std::fabs(a.y - b.y) > 0.5f;
}

}  // namespace

PanelsLayout compute_panels_layout(float display_w, float display_h, bool deterministic, LayoutMemory* memory) {
  constexpr float kMargin = 8.0f;
  constexpr float kGap = 6.0f;

  PanelsLayout l;
  l.deterministic = deterministic;
  const bool compact = display_w < kCompactWidth;
  l.compact = compact;
  const float usable_h = display_h - 2.0f * kMargin;

  if (compact) {
    // Pump open on the left, everything else a column of title bars on the right.
    const float column_w = std::clamp(display_w * 0.27f, 240.0f, 360.0f);
    const float left_x = kMargin;
    const float right_x = display_w - kMargin - column_w;
    l.pump = {ImVec2(left_x, kMargin), ImVec2(column_w, usable_h), false};
    float y = kMargin;
    for (PanelPlacement* p : {&l.tuning, &l.runtime, &l.starvation, &l.errors}) {
      *p = {ImVec2(right_x, y), ImVec2(column_w, std::min(usable_h, 360.0f)), true};
      y += kCollapsedH + kGap;
    }
  } else {
    // Left: Pump (55 %), Runtime collapsed below it. Right: Tuning (50 %), Starvation lab.
    // Errors: collapsed title bar at the bottom edge between the columns, growing upwards
    // when opened (wide enough for a traceback).
    const float left_w = std::floor(std::clamp(display_w * 0.21f, 240.0f, 300.0f));
    const float right_w = std::floor(std::clamp(display_w * 0.25f, 260.0f, 340.0f));
    const float left_x = kMargin;
    const float right_x = std::floor(display_w - kMargin - right_w);
    const float pump_h = std::floor(usable_h * 0.55f);
    l.pump = {ImVec2(left_x, kMargin), ImVec2(left_w, pump_h), false};
    l.runtime = {ImVec2(left_x, kMargin + pump_h + kGap), ImVec2(left_w, std::floor(usable_h - pump_h - kGap)), true};

    const float tuning_h = std::floor(usable_h * 0.5f);
    const float lab_y = kMargin + tuning_h + kGap;
    const float lab_h = std::floor(std::min(230.0f, display_h - kMargin - lab_y));
    l.tuning = {ImVec2(right_x, kMargin), ImVec2(right_w, tuning_h), false};
    l.starvation = {ImVec2(right_x, lab_y), ImVec2(right_w, lab_h), false};

    const float errors_x = left_x + left_w + kGap;
    const float errors_w = std::floor(right_x - kGap - errors_x);
    const float errors_h = std::floor(usable_h * 0.42f);
    const bool errors_collapsed = memory != nullptr && memory->errors.placed ? memory->errors.actual_collapsed : true;
    const float errors_y = std::floor(display_h - kMargin - (errors_collapsed ? kCollapsedH : errors_h));
    l.errors = {ImVec2(errors_x, errors_y), ImVec2(errors_w, errors_h), true};
  }
  l.banner_pos = ImVec2(display_w * 0.5f, kMargin);
  l.banner_overlay = !compact;
  if (memory != nullptr && !deterministic) {
    l.pump.anchor = &memory->pump;
    l.runtime.anchor = &memory->runtime;
    l.tuning.anchor = &memory->tuning;
    l.starvation.anchor = &memory->starvation;
    l.errors.anchor = &memory->errors;
  }
  return l;
}

void place_next_panel(const PanelPlacement& placement, bool deterministic) {
  ImGui::SetNextWindowBgAlpha(kPanelBgAlpha);
  if (deterministic || placement.anchor == nullptr) {
    const ImGuiCond cond = deterministic ? ImGuiCond_Always : ImGuiCond_FirstUseEver;
    ImGui::SetNextWindowPos(placement.pos, cond);
    ImGui::SetNextWindowSize(placement.size, cond);
    ImGui::SetNextWindowCollapsed(placement.collapsed, cond);
    return;
  }
  PanelAnchor& a = *placement.anchor;
  // Only when the target changes (resize, maximise, first frame): in between, ImGui's own
  // drag / resize handling must see the window untouched, so track_panel can notice it.
  if (!a.user_placed && (!a.placed || differs(a.pos, placement.pos) || differs(a.size, placement.size))) {
    ImGui::SetNextWindowPos(placement.pos, ImGuiCond_Always);
    ImGui::SetNextWindowSize(placement.size, ImGuiCond_Always);
    a.pos = placement.pos;
    a.size = placement.size;
  } else if (a.user_placed) {
    // A hand-placed panel stays inside the window when the window shrinks.
    const ImVec2 display = ImGui::GetIO().DisplaySize;
    const ImVec2 size = a.actual_collapsed ? ImVec2(a.actual_size.x, kCollapsedH) : a.actual_size;
    const ImVec2 pos(std::floor(std::clamp(a.actual_pos.x, 0.0f, std::max(0.0f, display.x - size.x))),
                     std::floor(std::clamp(a.actual_pos.y, 0.0f, std::max(0.0f, display.y - size.y))));
    if (differs(pos, a.actual_pos)) ImGui::SetNextWindowPos(pos, ImGuiCond_Always);
  }
  if (!a.placed) ImGui::SetNextWindowCollapsed(placement.collapsed, ImGuiCond_Always);
  if (a.open_once) {
    ImGui::SetNextWindowCollapsed(false, ImGuiCond_Always);
    a.open_once = false;
  }
  a.placed = true;
}

void track_panel(const char* name, const PanelPlacement& placement, bool deterministic) {
  const ImVec2 pos = ImGui::GetWindowPos();
  const ImVec2 size = ImGui::GetWindowSize();
  const bool collapsed = ImGui::IsWindowCollapsed();
  bool anchored = deterministic;
  if (!deterministic && placement.anchor != nullptr) {
    PanelAnchor& a = *placement.anchor;
    // A collapse toggle changes the drawn size but not SizeFull: compare sizes only while
    // expanded both last frame and now.
    const bool resized = !collapsed && !a.actual_collapsed && differs(size, a.size);
    if (!a.user_placed && (differs(pos, a.pos) || resized)) a.user_placed = true;
    a.actual_pos = pos;
    if (!collapsed)
      a.actual_size = size;
    else if (a.actual_size.x == 0.0f)
      a.actual_size = a.size;
    a.actual_collapsed = collapsed;
    anchored = !a.user_placed;
  }
  ui_probe().panels.push_back(PanelProbe{name, pos, size, collapsed, anchored});
}

}  // namespace boc::demo
