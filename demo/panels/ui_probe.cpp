#include "panels/ui_probe.h"

#include <algorithm>

namespace boc::demo {

const PanelProbe* UiProbe::panel(const std::string& name) const {
  for (const PanelProbe& p : panels)
    if (p.name == name) return &p;
  return nullptr;
}

bool UiProbe::has_banner(const std::string& name) const {
  return std::find(banners.begin(), banners.end(), name) != banners.end();
}

UiProbe& ui_probe() {
  static UiProbe probe;
  return probe;
}

void probe_widget(const char* name) {
  const ImVec2 a = ImGui::GetItemRectMin();
  const ImVec2 b = ImGui::GetItemRectMax();
  ui_probe().widgets[name] = {a.x, a.y, b.x, b.y};
}

void probe_text(const char* name, std::string value) { ui_probe().texts[name] = std::move(value); }

void probe_banner(const char* name) {
  if (!ui_probe().has_banner(name)) ui_probe().banners.emplace_back(name);
}

}  // namespace boc::demo
