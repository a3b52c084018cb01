// Tuning panel: pump budget, watchdog, wait poll, boid count, flock rule weights, pause/step.
// Writes the user's changes into DemoControls.
#pragma once

#include "app/demo_controls.h"
#include "app/demo_stats.h"
#include "panels/panel_layout.h"

namespace boc::demo {

void draw_tuning_panel(DemoControls& controls, const DemoStats& stats, const PanelPlacement& placement,
                       bool deterministic);

}  // namespace boc::demo
