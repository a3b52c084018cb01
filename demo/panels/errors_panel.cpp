#include "panels/errors_panel.h"

#include <cstdio>

#include "panels/ui_probe.h"
#include "panels/panel_style.h"

namespace boc::demo {

void draw_errors_panel(const DemoStats& stats, DemoControls& controls, const PanelPlacement& placement,
                       bool deterministic) {
  // The panel starts collapsed; the first error opens it once (the user may close it again).
  if (placement.anchor != nullptr && stats.errors_total > 0 && !placement.anchor->opened_for_errors) {
    placement.anchor->opened_for_errors = true;
    placement.anchor->open_once = true;
  }
  place_next_panel(placement, deterministic);
  char title[64];
  // The "###errors" suffix keeps the window identity stable while the count in the title changes.
  std::snprintf(title, sizeof(title), "Errors (%zu)###errors", stats.errors.size());
  const bool open = ImGui::Begin(title);
  track_panel("Errors", placement, deterministic);
  if (!open) {
    ImGui::End();
    return;
  }
  ImGui::BeginDisabled(stats.errors.empty());
  if (ImGui::Button("Clear")) controls.clear_errors_requested = true;
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::TextColored(panel_style::kDim, "%llu since start; drag an edge to resize",
                     static_cast<unsigned long long>(stats.errors_total));

  if (stats.errors.empty()) {
    ImGui::TextColored(panel_style::kOk, "no errors");
  }
  // Wrapped, not scrolled sideways: a traceback must be readable at the panel's width.
  ImGui::BeginChild("##error_list", ImVec2(0.0f, 0.0f), false);
  ImGui::PushTextWrapPos(0.0f);
  int index = 0;
  for (auto it = stats.errors.rbegin(); it != stats.errors.rend(); ++it, ++index) {
    ImGui::PushID(index);
    // The newest entry starts expanded, so its traceback is visible at once.
    const ImGuiTreeNodeFlags flags =
        ImGuiTreeNodeFlags_SpanAvailWidth | (index == 0 ? ImGuiTreeNodeFlags_DefaultOpen : ImGuiTreeNodeFlags_None);
    const bool entry_open = ImGui::TreeNodeEx("##entry", flags, "#%d", index + 1);
    ImGui::SameLine();
    ImGui::TextColored(panel_style::kWarn, "%s", it->message.c_str());
    if (entry_open) {
      if (it->traceback.empty())
        ImGui::TextColored(panel_style::kDim, "(no traceback)");
      else
        ImGui::TextUnformatted(it->traceback.c_str());
      ImGui::TreePop();
    }
    ImGui::PopID();
  }
  ImGui::PopTextWrapPos();
  ImGui::EndChild();
  ImGui::End();
}

}  // namespace boc::demo
