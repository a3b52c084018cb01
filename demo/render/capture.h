// Offscreen RGBA8 framebuffer for headless frames and screenshots (README, "Visual tests /
// regenerating goldens").
//
// Screenshots always come from this FBO, never from the window's back buffer: the FBO's pixels
// do not depend on the window system (a hidden window's back buffer may not even be drawn).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/gl_includes.h"

namespace boc::demo {

class CaptureTarget {
 public:
  // Needs a current GL context. Returns nullptr and sets `error` if the FBO is incomplete.
  static std::unique_ptr<CaptureTarget> create(int width, int height, std::string& error);
  ~CaptureTarget();

  CaptureTarget(const CaptureTarget&) = delete;
  CaptureTarget& operator=(const CaptureTarget&) = delete;

  int width() const { return width_; }
  int height() const { return height_; }

  // Makes the FBO the draw and read target and sets the viewport to its size.
  void bind() const;

  // Reads the FBO back as tightly packed RGB rows, top row first (flipped from GL's
  // bottom-up order).
  std::vector<std::uint8_t> read_rgb() const;

  // read_rgb() + stbi_write_png. Returns false and sets `error` on failure.
  bool write_png(const std::string& path, std::string& error) const;

  // Copies the FBO into the window's default framebuffer (scaled to dst size) to show it.
  void blit_to_default(int dst_width, int dst_height) const;

 private:
  CaptureTarget() = default;

  GLuint fbo_ = 0;
  GLuint colour_ = 0;  // RGBA8 renderbuffer
  int width_ = 0;
  int height_ = 0;
};

// Binds the window's default framebuffer and sets the viewport.
void bind_default_framebuffer(int width, int height);

}  // namespace boc::demo
