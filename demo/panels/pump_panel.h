// Pump panel: this frame's pump() result, the pinned queue now and over time, the watchdog
// log, and the red starvation banner. Also the top-centre banner overlay (full layout only;
// it stays visible when the Pump panel is collapsed or scrolled).
#pragma once

#include "../demo_controls.h"
#include "../demo_stats.h"
#include "panel_layout.h"

namespace boc::demo {

void draw_pump_panel(const DemoStats& stats, const DemoControls& controls, const PanelPlacement& placement,
                     bool deterministic);

// Draws nothing unless the queue is starving (see starvation_status()).
void draw_starvation_banner_overlay(const DemoStats& stats, const DemoControls& controls, const PanelsLayout& layout);

}  // namespace boc::demo
