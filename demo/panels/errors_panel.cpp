#include "errors_panel.h"

#include <cstdio>

#include "panel_style.h"

namespace boc::demo {

void draw_errors_panel(const DemoStats& stats, DemoControls& controls, const PanelPlacement& placement,
                       bool deterministic)
{
    place_next_panel(placement, deterministic);
    char title[64];
    // The "###errors" suffix keeps the window identity stable while the count in the title changes.
    std::snprintf(title, sizeof(title), "Errors (%zu)###errors", stats.errors.size());
    if (!ImGui::Begin(title))
    {
        ImGui::End();
        return;
    }
    ImGui::BeginDisabled(stats.errors.empty());
    if (ImGui::Button("Clear"))
        controls.clear_errors_requested = true;
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::TextColored(panel_style::kDim, "%llu since start", static_cast<unsigned long long>(stats.errors_total));

    if (stats.errors.empty())
    {
        ImGui::TextColored(panel_style::kOk, "no errors");
    }
    ImGui::BeginChild("##error_list", ImVec2(0.0f, 0.0f), false, ImGuiWindowFlags_HorizontalScrollbar);
    int index = 0;
    for (auto it = stats.errors.rbegin(); it != stats.errors.rend(); ++it, ++index)
    {
        ImGui::PushID(index);
        ImGui::PushStyleColor(ImGuiCol_Text, panel_style::kWarn);
        // The newest entry starts expanded, so its traceback is visible at once.
        const ImGuiTreeNodeFlags flags =
            ImGuiTreeNodeFlags_SpanAvailWidth | (index == 0 ? ImGuiTreeNodeFlags_DefaultOpen : ImGuiTreeNodeFlags_None);
        const bool open = ImGui::TreeNodeEx("##entry", flags, "%s", it->message.c_str());
        ImGui::PopStyleColor();
        if (open)
        {
            if (it->traceback.empty())
                ImGui::TextColored(panel_style::kDim, "(no traceback)");
            else
                ImGui::TextUnformatted(it->traceback.c_str());
            ImGui::TreePop();
        }
        ImGui::PopID();
    }
    ImGui::EndChild();
    ImGui::End();
}

}  // namespace boc::demo
