// All panels of one frame, in a fixed order (the order decides which window is on top when
// they overlap, so it must be stable for screenshots). With controls.panels_hidden (Tab / F1)
// only the banners and a one-line hint are drawn.
#pragma once

#include "app/demo_controls.h"
#include "app/demo_stats.h"
#include "panels/panel_layout.h"

namespace boc::demo {

void draw_panels(DemoControls& controls, const DemoStats& stats, const PanelsLayout& layout);

}  // namespace boc::demo
