#include "app/window.h"

#include <cstdlib>

namespace boc::demo {

namespace {

void glfw_error_callback(int error, const char* description) {
  std::fprintf(stderr, "GLFW error 0x%x: %s\n", error, description != nullptr ? description : "(no description)");
}

std::string last_glfw_error() {
  const char* description = nullptr;
  if (glfwGetError(&description) != GLFW_NO_ERROR && description != nullptr) {
    return description;
  }
  return "no GLFW error reported";
}

}  // namespace

void install_glfw_error_callback() { glfwSetErrorCallback(glfw_error_callback); }

WindowResult open_window(const WindowOptions& options) {
  WindowResult result;
  if (!glfwInit()) {
    result.status = WindowStatus::kNoDisplay;
    result.error = last_glfw_error();
    return result;
  }

  // GL 3.3 core, forward-compatible (required on macOS, harmless elsewhere). Mesa's llvmpipe
  // hands back a 4.5 core context; glad only loads what was generated (3.3).
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
  glfwWindowHint(GLFW_VISIBLE, options.visible ? GLFW_TRUE : GLFW_FALSE);

  GLFWwindow* window = glfwCreateWindow(options.width, options.height, options.title, nullptr, nullptr);
  if (window == nullptr) {
    result.status = WindowStatus::kNoContext;
    result.error = "could not create a window with an OpenGL 3.3 core context: " + last_glfw_error() +
                   " (a Xvfb depth other than 24, or libgl1-mesa-dri missing?)";
    glfwTerminate();
    return result;
  }
  glfwMakeContextCurrent(window);
  const int version = gladLoadGL(glfwGetProcAddress);
  if (version == 0) {
    result.status = WindowStatus::kNoContext;
    result.error = "gladLoadGL failed: no usable OpenGL 3.3 entry points";
    glfwDestroyWindow(window);
    glfwTerminate();
    return result;
  }
  glfwSwapInterval(options.vsync ? 1 : 0);
  result.window = window;
  return result;
}

void close_window(GLFWwindow* window) {
  if (window != nullptr) {
    glfwDestroyWindow(window);
  }
  glfwTerminate();
}

std::string no_display_hint() {
  const char* display = std::getenv("DISPLAY");
  const std::string shown = display != nullptr ? display : "<unset>";
  return "error: cannot open an X display (DISPLAY=" + shown +
         "); GLFW 3.3 needs an X server even for hidden windows.\n"
         "       Run under Xvfb, e.g.: xvfb-run -a -s \"-screen 0 1280x720x24\" boids_demo ...\n";
}

void print_gl_info(std::FILE* out) {
  auto str = [](GLenum name) {
    const auto* s = reinterpret_cast<const char*>(glGetString(name));
    return s != nullptr ? s : "?";
  };
  std::fprintf(out, "GL_VERSION : %s\nGL_RENDERER: %s\nGLSL       : %s\n", str(GL_VERSION), str(GL_RENDERER),
               str(GL_SHADING_LANGUAGE_VERSION));
}

}  // namespace boc::demo
