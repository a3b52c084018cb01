// Pump panel: this frame's pump() result and what limited it, the errors behaviors raised, the
// pinned queue now and over time, the watchdog log, and the red starvation / errors banners.
// Also the top-centre banner overlay (full layout, or when the panels are hidden; it stays
// visible when the Pump panel is collapsed or scrolled).
#pragma once

#include <string>

#include "app/demo_controls.h"
#include "app/demo_stats.h"
#include "panels/panel_layout.h"

namespace boc::demo {

void draw_pump_panel(const DemoStats& stats, const DemoControls& controls, const PanelPlacement& placement,
                     bool deterministic);

// Draws nothing unless the queue is starving (see starvation_status()) or behaviors raise
// (errors_status()).
void draw_banner_overlay(const DemoStats& stats, const DemoControls& controls, const PanelsLayout& layout,
                         bool panels_hidden);

// What limited this frame's pump(), in words ("within budget", "deadline reached: ...", "over
// the 0.1 ms deadline: ..."); `warn` is set when it is not "within budget".
std::string pump_verdict(const DemoStats& stats, const DemoControls& controls, bool& warn);

}  // namespace boc::demo
