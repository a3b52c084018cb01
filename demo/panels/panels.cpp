#include "panels.h"

#include "errors_panel.h"
#include "pump_panel.h"
#include "runtime_panel.h"
#include "starvation_lab_panel.h"
#include "tuning_panel.h"

namespace boc::demo {

void draw_panels(DemoControls& controls, const DemoStats& stats, const PanelsLayout& layout)
{
    const bool d = layout.deterministic;
    draw_pump_panel(stats, controls, layout.pump, d);
    draw_runtime_panel(stats, layout.runtime, d);
    draw_tuning_panel(controls, stats, layout.tuning, d);
    draw_starvation_lab_panel(controls, layout.starvation, d);
    draw_errors_panel(stats, controls, layout.errors, d);
    draw_starvation_banner_overlay(stats, controls, layout);
}

}  // namespace boc::demo
