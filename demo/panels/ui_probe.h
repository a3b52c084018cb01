// What the panels drew this frame, in machine-readable form: panel rectangles, a few widget
// rectangles (where a UI test clicks), readout texts and the banners shown. The panels fill
// it while drawing; `--ui-log` (ui_log.h) writes it as one JSON line per frame, and
// tests/demo/ui_test.py and panels_test.cpp read it instead of pixels.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include <imgui.h>

namespace boc::demo {

struct PanelProbe {
  std::string name;
  ImVec2 pos;
  ImVec2 size;  // as drawn (a collapsed panel is its title bar)
  bool collapsed = false;
  bool anchored = false;  // follows the window's edges (not moved or resized by hand)
};

struct UiProbe {
  std::vector<PanelProbe> panels;
  std::map<std::string, std::array<float, 4>> widgets;  // x0, y0, x1, y1 in window pixels
  std::map<std::string, std::string> texts;
  std::vector<std::string> banners;     // "starving", "errors", "panels_hidden_hint"
  std::vector<std::string> keys;        // key presses delivered this frame (key_label)
  std::vector<std::string> imgui_keys;  // keys ImGui reported as pressed this frame

  void clear() { *this = UiProbe{}; }
  const PanelProbe* panel(const std::string& name) const;
  bool has_banner(const std::string& name) const;
};

// This frame's probe (main thread only; cleared by the frame loop before the panels draw).
UiProbe& ui_probe();

// The last ImGui item's rectangle, under `name`.
void probe_widget(const char* name);
void probe_text(const char* name, std::string value);
void probe_banner(const char* name);

}  // namespace boc::demo
