// GLFW start-up: error callback, init, a GL 3.3 core forward-compatible window, glad.
//
// GLFW 3.3 (Debian's X11 build) cannot initialise without an X server, not even for a
// hidden window. open_window() reports that case as kNoDisplay so main
// can print the Xvfb hint and exit 77 (test mode: ctest "skipped") or 1 (interactive).
#pragma once

#include <cstdio>
#include <string>

#include "app/gl_includes.h"

namespace boc::demo {

struct WindowOptions {
  int width = 1280;
  int height = 720;
  bool visible = true;  // false: hidden window (headless / bench); rendering goes to an FBO
  bool vsync = true;
  const char* title = "boids_demo";
};

enum class WindowStatus {
  kOk,
  kNoDisplay,  // glfwInit failed: no usable X display
  kNoContext,  // the window or its GL 3.3 core context could not be created, or glad failed
};

struct WindowResult {
  GLFWwindow* window = nullptr;  // current on this thread when status == kOk
  WindowStatus status = WindowStatus::kOk;
  std::string error;  // for kNoContext: what failed, with GLFW's last message
};

// Installs the GLFW error callback (prints "GLFW error 0x%x: <message>" to stderr).
// Call before anything else GLFW.
void install_glfw_error_callback();

// glfwInit + window hints + window + make current + gladLoadGL + swap interval. On failure
// nothing stays initialised (glfwTerminate has been called).
WindowResult open_window(const WindowOptions& options);

// glfwDestroyWindow + glfwTerminate. Destroy every GL-owning object before calling this.
void close_window(GLFWwindow* window);

// The two-line hint for a missing X display:
//   error: cannot open an X display (DISPLAY=<unset>); GLFW 3.3 needs an X server even for hidden windows.
//          Run under Xvfb, e.g.: xvfb-run -a -s "-screen 0 1280x720x24" boids_demo ...
std::string no_display_hint();

// Prints GL_VERSION / GL_RENDERER / GLSL version of the current context.
void print_gl_info(std::FILE* out);

}  // namespace boc::demo
