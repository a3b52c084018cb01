// Keyboard input that survives low frame rates, and the demo's own shortcuts.
//
// ImGui 1.86's GLFW backend (imgui_impl_glfw.cpp, ImGui_ImplGlfw_KeyCallback) writes
// io.KeysDown[] straight from the callback, so a key pressed and released between two
// frames (a quick tap at 10 fps) is down for no frame at all and never registers. The demo
// installs its own key callback instead (after ImGui_ImplGlfw_InitForOpenGL), queues every
// event, and each frame forwards the queue to ImGui_ImplGlfw_KeyCallback up to, not
// including, the release of a key pressed in that same frame: every press is seen by at
// least one frame, in order, and nothing is dropped.
#pragma once

#include <cstddef>
#include <deque>
#include <vector>

#include "app/gl_includes.h"

namespace boc::demo {

struct KeyEvent {
  int key = 0;
  int scancode = 0;
  int action = 0;  // GLFW_PRESS / GLFW_RELEASE / GLFW_REPEAT
  int mods = 0;
};

// The queue and the one-press-per-frame rule; no GLFW calls, so it is unit-tested.
class KeyQueue {
 public:
  void push(const KeyEvent& e) { pending_.push_back(e); }
  // The events for this frame: in order, stopping before a release of a key whose press
  // is in the same batch (that release waits for the next frame).
  std::vector<KeyEvent> take_frame();
  std::size_t pending() const { return pending_.size(); }
  void clear() { pending_.clear(); }

 private:
  std::deque<KeyEvent> pending_;
};

// What a frame's key presses ask the demo to do.
struct KeyActions {
  bool quit = false;           // Esc, Ctrl+Q, q
  bool toggle_panels = false;  // Tab, F1
};

// The demo's shortcuts among this frame's events. `typing`: ImGui has a text field active
// (io.WantTextInput), so Esc, q and Tab belong to it; Ctrl+Q and F1 still apply.
KeyActions shortcut_actions(const std::vector<KeyEvent>& events, bool typing);

// Replaces the window's key callback with one that queues into key_queue(). Call after
// ImGui_ImplGlfw_InitForOpenGL(window, true) (whose Shutdown restores the callback it saved).
void install_key_queue(GLFWwindow* window);
KeyQueue& key_queue();

// GLFW key name for logs ("Escape", "Tab", "Enter", "F1", "Q", ...).
const char* key_label(int key);

}  // namespace boc::demo
