#include "panels/panel_style.h"

namespace boc::demo::panel_style {

void banner(const char* id, const char* text) {
  ImGui::PushStyleColor(ImGuiCol_ChildBg, kBannerRed);
  ImGui::PushStyleColor(ImGuiCol_Text, kBannerText);
  const float wrap_w = ImGui::GetContentRegionAvail().x - 2.0f * ImGui::GetStyle().WindowPadding.x;
  const ImVec2 text_size = ImGui::CalcTextSize(text, nullptr, false, wrap_w);
  const float h = text_size.y + 2.0f * ImGui::GetStyle().WindowPadding.y;
  ImGui::BeginChild(id, ImVec2(0.0f, h), false, ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_AlwaysUseWindowPadding);
  ImGui::TextWrapped("%s", text);
  ImGui::EndChild();
  ImGui::PopStyleColor(2);
}

}  // namespace boc::demo::panel_style
