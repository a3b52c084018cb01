#include "render/capture.h"

#include <cstdio>
#include <cstring>

#include <stb_image_write.h>  // implementation lives in libstb.so: never define STB_IMAGE_WRITE_IMPLEMENTATION

namespace boc::demo {

std::unique_ptr<CaptureTarget> CaptureTarget::create(int width, int height, std::string& error) {
  std::unique_ptr<CaptureTarget> t(new CaptureTarget());
  t->width_ = width;
  t->height_ = height;
  glGenRenderbuffers(1, &t->colour_);
  glBindRenderbuffer(GL_RENDERBUFFER, t->colour_);
  glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, width, height);
  glBindRenderbuffer(GL_RENDERBUFFER, 0);

  glGenFramebuffers(1, &t->fbo_);
  glBindFramebuffer(GL_FRAMEBUFFER, t->fbo_);
  glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, t->colour_);
  const GLenum status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  if (status != GL_FRAMEBUFFER_COMPLETE) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "offscreen framebuffer %dx%d is incomplete (status 0x%04x)", width, height, status);
    error = buf;
    return nullptr;
  }
  return t;
}

CaptureTarget::~CaptureTarget() {
  // Requires the GL context to be alive: destroy before glfwDestroyWindow / glfwTerminate.
  if (fbo_ != 0) glDeleteFramebuffers(1, &fbo_);
  if (colour_ != 0) glDeleteRenderbuffers(1, &colour_);
}

void CaptureTarget::bind() const {
  glBindFramebuffer(GL_FRAMEBUFFER, fbo_);
  glViewport(0, 0, width_, height_);
}

std::vector<std::uint8_t> CaptureTarget::read_rgb() const {
  const std::size_t row = static_cast<std::size_t>(width_) * 3;
  std::vector<std::uint8_t> pixels(row * static_cast<std::size_t>(height_));
  glBindFramebuffer(GL_READ_FRAMEBUFFER, fbo_);
  glReadBuffer(GL_COLOR_ATTACHMENT0);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);  // RGB rows are not 4-byte aligned
  glReadPixels(0, 0, width_, height_, GL_RGB, GL_UNSIGNED_BYTE, pixels.data());
  glPixelStorei(GL_PACK_ALIGNMENT, 4);
  glBindFramebuffer(GL_READ_FRAMEBUFFER, 0);

  // GL rows run bottom-up; PNG rows top-down.
  std::vector<std::uint8_t> tmp(row);
  for (int y = 0; y < height_ / 2; ++y) {
    std::uint8_t* a = pixels.data() + static_cast<std::size_t>(y) * row;
    std::uint8_t* b = pixels.data() + static_cast<std::size_t>(height_ - 1 - y) * row;
    std::memcpy(tmp.data(), a, row);
    std::memcpy(a, b, row);
    std::memcpy(b, tmp.data(), row);
  }
  return pixels;
}

bool CaptureTarget::write_png(const std::string& path, std::string& error) const {
  const std::vector<std::uint8_t> pixels = read_rgb();
  if (stbi_write_png(path.c_str(), width_, height_, 3, pixels.data(), width_ * 3) == 0) {
    error = "could not write PNG '" + path + "'";
    return false;
  }
  return true;
}

void CaptureTarget::blit_to_default(int dst_width, int dst_height) const {
  glBindFramebuffer(GL_READ_FRAMEBUFFER, fbo_);
  glBindFramebuffer(GL_DRAW_FRAMEBUFFER, 0);
  glBlitFramebuffer(0, 0, width_, height_, 0, 0, dst_width, dst_height, GL_COLOR_BUFFER_BIT, GL_LINEAR);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

void bind_default_framebuffer(int width, int height) {
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  glViewport(0, 0, width, height);
}

}  // namespace boc::demo
