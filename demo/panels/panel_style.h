// Small helpers shared by the panels.
#pragma once

#include <imgui.h>

namespace boc::demo::panel_style {

inline const ImVec4 kBannerRed(0.78f, 0.08f, 0.08f, 1.0f);
inline const ImVec4 kBannerText(1.0f, 1.0f, 1.0f, 1.0f);
inline const ImVec4 kDim(0.62f, 0.62f, 0.66f, 1.0f);
inline const ImVec4 kWarn(1.0f, 0.72f, 0.25f, 1.0f);
inline const ImVec4 kOk(0.45f, 0.85f, 0.45f, 1.0f);

// Section heading: a separator and dimmed text.
inline void heading(const char* text) {
  ImGui::Spacing();
  ImGui::TextColored(kDim, "%s", text);
  ImGui::Separator();
}

// Width of the label column in the Tuning / Starvation lab forms.
inline constexpr float kLabelWidth = 112.0f;

// A form row: `label` in the left column, the next widget starting at kLabelWidth and
// `width` wide (0: the rest of the row minus `reserve` pixels for a trailing widget).
inline void form_row(const char* label, float reserve = 0.0f) {
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted(label);
  ImGui::SameLine(kLabelWidth);
  ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - reserve);
}

// Red filled block with white wrapped text, full width.
void banner(const char* id, const char* text);

// PlotLines filling the available width, scale [0, max(hint, data max) * 1.1].
template <typename H>
void plot(const char* label, const H& history, float min_scale_max, const char* overlay, float height = 48.0f) {
  float top = history.max();
  if (top < min_scale_max) top = min_scale_max;
  // PlotLines takes no negative "fill" width in 1.86: pass the available width explicitly.
  ImGui::PlotLines(label, history.data(), history.capacity(), history.plot_offset(), overlay, 0.0f, top * 1.1f,
                   ImVec2(ImGui::GetContentRegionAvail().x, height));
}

}  // namespace boc::demo::panel_style
