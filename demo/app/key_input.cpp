#include "app/key_input.h"

#include <algorithm>

namespace boc::demo {

std::vector<KeyEvent> KeyQueue::take_frame() {
  std::vector<KeyEvent> out;
  std::vector<int> pressed;
  while (!pending_.empty()) {
    const KeyEvent& e = pending_.front();
    if (e.action == GLFW_RELEASE && std::find(pressed.begin(), pressed.end(), e.key) != pressed.end())
      break;  // let this frame see the key down
    if (e.action == GLFW_PRESS) pressed.push_back(e.key);
    out.push_back(e);
    pending_.pop_front();
  }
  return out;
}

KeyActions shortcut_actions(const std::vector<KeyEvent>& events, bool typing) {
  KeyActions a;
  for (const KeyEvent& e : events) {
    if (e.action != GLFW_PRESS) continue;
    const bool ctrl = (e.mods & GLFW_MOD_CONTROL) != 0;
    if (e.key == GLFW_KEY_Q && ctrl)
      a.quit = true;
    else if (e.key == GLFW_KEY_F1)
      a.toggle_panels = !a.toggle_panels;
    else if (typing)
      continue;
    else if (e.key == GLFW_KEY_ESCAPE || (e.key == GLFW_KEY_Q && e.mods == 0))
      a.quit = true;
    else if (e.key == GLFW_KEY_TAB && e.mods == 0)
      a.toggle_panels = !a.toggle_panels;
  }
  return a;
}

KeyQueue& key_queue() {
  static KeyQueue queue;  // GLFW delivers key events on the main thread only
  return queue;
}

namespace {

void queue_key(GLFWwindow*, int key, int scancode, int action, int mods) {
  key_queue().push(KeyEvent{key, scancode, action, mods});
}

}  // namespace

void install_key_queue(GLFWwindow* window) {
  key_queue().clear();
  glfwSetKeyCallback(window, queue_key);
}

const char* key_label(int key) {
  switch (key) {
    case GLFW_KEY_ESCAPE: return "Escape";
    case GLFW_KEY_TAB: return "Tab";
    case GLFW_KEY_ENTER: return "Enter";
    case GLFW_KEY_SPACE: return "Space";
    case GLFW_KEY_F1: return "F1";
    case GLFW_KEY_Q: return "Q";
    case GLFW_KEY_LEFT_CONTROL: return "LeftCtrl";
    case GLFW_KEY_RIGHT_CONTROL: return "RightCtrl";
    default: return "other";
  }
}

}  // namespace boc::demo
