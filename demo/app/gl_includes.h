// The one way demo code includes OpenGL and GLFW: glad first, then GLFW without its own GL
// header. Never include imgui_impl_opengl3_loader.h anywhere in the demo (its imgl3w loader would rebind the gl* calls
// glad loaded).
#pragma once

#include <glad/gl.h>
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
