// Instanced boid renderer (GL 3.3 core, glad).
//
// One VAO: attribute 0 is a static triangle pointing along +x, attribute 1 the per-instance
// vec4(x, y, vx, vy) with divisor 1. Each upload orphans the instance buffer (glBufferData
// with NULL) before writing, so the driver never waits for the previous frame's draw.
// Shaders come from shaders/ (embedded at build time); compile and link errors are printed
// with the GL info log.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "app/gl_includes.h"
#include "sim/instance_sink.h"

namespace boc::demo {

class BoidsRenderer final : public InstanceSink {
 public:
  // Triangle length in world units (the default world is 720 units tall).
  static constexpr float kDefaultBoidScale = 6.0f;

  // Needs a current GL 3.3 context with glad loaded. Returns nullptr and sets `error`
  // (including the shader info log) on failure.
  static std::unique_ptr<BoidsRenderer> create(std::string& error);
  ~BoidsRenderer() override;

  BoidsRenderer(const BoidsRenderer&) = delete;
  BoidsRenderer& operator=(const BoidsRenderer&) = delete;

  // Replaces the instance data: `count` boids of 4 floats (x, y, vx, vy).
  void upload(const float* xyvv, std::size_t count);

  // Draws all instances, mapping the world box [0, world_w] x [0, world_h] (y up) onto the
  // current viewport. Leaves the program and VAO unbound.
  void draw(float world_w, float world_h) const;

  void set_boid_scale(float scale) { boid_scale_ = scale; }

  // InstanceSink
  void write_instances(const float* xyvv, std::size_t count) override { upload(xyvv, count); }
  void write_instance_range(std::size_t first, const float* xyvv, std::size_t count) override;
  std::size_t instance_count() const override { return count_; }

 private:
  BoidsRenderer() = default;

  GLuint program_ = 0;
  GLuint vao_ = 0;
  GLuint triangle_vbo_ = 0;
  GLuint instance_vbo_ = 0;
  GLint u_world_to_ndc_ = -1;
  GLint u_boid_scale_ = -1;
  std::size_t count_ = 0;     // instances drawn
  std::size_t capacity_ = 0;  // instances the buffer storage holds
  float boid_scale_ = kDefaultBoidScale;
};

}  // namespace boc::demo
