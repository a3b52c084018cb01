// Starvation lab: ways to starve the pinned pump on purpose — pause it, stall the main thread
// every frame, or switch the write-back to the per-item anti-pattern — and the scenario
// recorder: Record notes every control change with its frame number, "Save scenario" writes
// a file `--scenario` replays (recorder.h).
#pragma once

#include "app/demo_controls.h"
#include "app/demo_stats.h"
#include "panels/panel_layout.h"

namespace boc::demo {

void draw_starvation_lab_panel(DemoControls& controls, const DemoStats& stats, const PanelPlacement& placement,
                               bool deterministic);

}  // namespace boc::demo
