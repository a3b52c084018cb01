#include "panels/ui_log.h"

#include <nlohmann/json.hpp>

namespace boc::demo {

std::string ui_log_line(const UiFrameInfo& info, const DemoControls& c, const DemoStats& stats, const UiProbe& probe) {
  using nlohmann::json;
  json j;
  j["frame"] = info.frame;
  j["window"] = {info.window_w, info.window_h};
  j["display"] = {info.display_w, info.display_h};
  j["panels_hidden"] = c.panels_hidden;
  json panels = json::object();
  for (const PanelProbe& p : probe.panels)
    panels[p.name] = {{"pos", {p.pos.x, p.pos.y}},
                      {"size", {p.size.x, p.size.y}},
                      {"collapsed", p.collapsed},
                      {"anchored", p.anchored}};
  j["panels"] = panels;
  json widgets = json::object();
  for (const auto& [name, r] : probe.widgets) widgets[name] = {r[0], r[1], r[2], r[3]};
  j["widgets"] = widgets;
  j["texts"] = probe.texts;
  j["banners"] = probe.banners;
  j["keys"] = probe.keys;
  j["imgui_keys"] = probe.imgui_keys;
  j["controls"] = {{"pump_paused", c.pump_paused},
                   {"stall_ms", c.stall_ms},
                   {"per_item", c.dispatch == DispatchMode::kPerItem},
                   {"deadline_ms", c.deadline_unbounded ? json(nullptr) : json(c.deadline_ms)},
                   {"max_behaviors", c.max_behaviors_unbounded ? json(nullptr) : json(c.max_behaviors)},
                   {"boid_count", c.boid_count},
                   {"boids_slider_max", c.boids_slider_max},
                   {"cohesion", c.flock.cohesion},
                   {"alignment", c.flock.alignment},
                   {"separation", c.flock.separation}};
  j["stats"] = {{"pinned_depth", stats.runtime.pinned_depth},
                {"pinned_age_ms", stats.runtime.pinned_age_ms},
                {"errors_total", stats.errors_total},
                {"errors_this_frame", stats.errors_this_frame},
                {"raised", stats.pump.raised},
                {"recording", stats.recording},
                {"recorded_frames", stats.recorded_frames},
                {"last_saved", stats.last_saved}};
  return j.dump();
}

UiLog::~UiLog() {
  if (file_ != nullptr) std::fclose(file_);
}

bool UiLog::open(const std::string& path, std::string& error) {
  file_ = std::fopen(path.c_str(), "w");
  if (file_ == nullptr) {
    error = "cannot write the UI log " + path;
    return false;
  }
  return true;
}

void UiLog::write(const std::string& line) {
  if (file_ == nullptr) return;
  std::fputs(line.c_str(), file_);
  std::fputc('\n', file_);
  std::fflush(file_);  // a UI test reads the file while the window runs
}

}  // namespace boc::demo
