// Runtime panel: workers, behaviors per frame and per second, simulation step cost, frame
// time and fps plots, and the frame's phase split.
#pragma once

#include "app/demo_stats.h"
#include "panels/panel_layout.h"

namespace boc::demo {

void draw_runtime_panel(const DemoStats& stats, const PanelPlacement& placement, bool deterministic);

}  // namespace boc::demo
