// `--ui-log PATH`: one JSON object per frame (JSON Lines), written after the panels are drawn
// and flushed at once, so a UI test can follow a live window without reading pixels
// (tests/demo/ui_test.py). Fields:
//
//   frame, window [w, h] (glfwGetWindowSize), display [w, h] (ImGui's), panels_hidden,
//   panels {name: {pos, size, collapsed, anchored}} (only the panels drawn), widgets
//   {name: [x0, y0, x1, y1]}, texts {name: string}, banners [...], keys [...] (presses the
//   frame delivered), imgui_keys [...] (presses ImGui saw), controls {...}, stats {...}
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "app/demo_controls.h"
#include "app/demo_stats.h"
#include "panels/ui_probe.h"

namespace boc::demo {

struct UiFrameInfo {
  std::uint64_t frame = 0;
  int window_w = 0;
  int window_h = 0;
  float display_w = 0.0f;
  float display_h = 0.0f;
};

// The frame's JSON line (no trailing newline).
std::string ui_log_line(const UiFrameInfo& info, const DemoControls& controls, const DemoStats& stats,
                        const UiProbe& probe);

class UiLog {
 public:
  UiLog() = default;
  UiLog(const UiLog&) = delete;
  UiLog& operator=(const UiLog&) = delete;
  ~UiLog();
  bool open(const std::string& path, std::string& error);
  void write(const std::string& line);

 private:
  std::FILE* file_ = nullptr;
};

}  // namespace boc::demo
