// Errors panel: behavior / script failures with their tracebacks, newest first, and a
// Clear button (sets DemoControls::clear_errors_requested).
#pragma once

#include "app/demo_controls.h"
#include "app/demo_stats.h"
#include "panels/panel_layout.h"

namespace boc::demo {

void draw_errors_panel(const DemoStats& stats, DemoControls& controls, const PanelPlacement& placement,
                       bool deterministic);

}  // namespace boc::demo
