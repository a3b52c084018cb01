#include "render/boids_renderer.h"

#include <cstdio>
#include <vector>

#include "shaders_embedded.h"

namespace boc::demo {

namespace {

constexpr GLsizeiptr kInstanceBytes = 4 * sizeof(float);

// Shape of one boid, pointing along +x (scaled by u_boid_scale in the vertex shader).
constexpr float kTriangle[] = {
    1.0f,  0.0f,    // nose
    -0.6f, 0.45f,   // left tail
    -0.6f, -0.45f,  // right tail
};

std::string info_log(GLuint object, bool is_program) {
  GLint length = 0;
  if (is_program)
    glGetProgramiv(object, GL_INFO_LOG_LENGTH, &length);
  else
    glGetShaderiv(object, GL_INFO_LOG_LENGTH, &length);
  std::string log(static_cast<std::size_t>(length > 1 ? length : 1), '\0');
  if (is_program)
    glGetProgramInfoLog(object, length, nullptr, log.data());
  else
    glGetShaderInfoLog(object, length, nullptr, log.data());
  log.resize(log.find('\0') == std::string::npos ? log.size() : log.find('\0'));
  return log;
}

// Compiles one stage; on failure returns 0 and puts the info log into `error`.
GLuint compile_shader(GLenum stage, const char* source, const char* name, std::string& error) {
  const GLuint shader = glCreateShader(stage);
  glShaderSource(shader, 1, &source, nullptr);
  glCompileShader(shader);
  GLint ok = GL_FALSE;
  glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
  if (ok != GL_TRUE) {
    error = std::string("failed to compile ") + name + ":\n" + info_log(shader, false);
    glDeleteShader(shader);
    return 0;
  }
  return shader;
}

}  // namespace

std::unique_ptr<BoidsRenderer> BoidsRenderer::create(std::string& error) {
  std::unique_ptr<BoidsRenderer> r(new BoidsRenderer());

  const GLuint vs = compile_shader(GL_VERTEX_SHADER, shaders::kBoidVert, "boid.vert", error);
  if (vs == 0) return nullptr;
  const GLuint fs = compile_shader(GL_FRAGMENT_SHADER, shaders::kBoidFrag, "boid.frag", error);
  if (fs == 0) {
    glDeleteShader(vs);
    return nullptr;
  }
  r->program_ = glCreateProgram();
  glAttachShader(r->program_, vs);
  glAttachShader(r->program_, fs);
  glLinkProgram(r->program_);
  glDetachShader(r->program_, vs);
  glDetachShader(r->program_, fs);
  glDeleteShader(vs);
  glDeleteShader(fs);
  GLint linked = GL_FALSE;
  glGetProgramiv(r->program_, GL_LINK_STATUS, &linked);
  if (linked != GL_TRUE) {
    error = "failed to link the boid program (boid.vert + boid.frag):\n" + info_log(r->program_, true);
    return nullptr;  // the destructor deletes the program
  }
  r->u_world_to_ndc_ = glGetUniformLocation(r->program_, "u_world_to_ndc");
  r->u_boid_scale_ = glGetUniformLocation(r->program_, "u_boid_scale");
  if (r->u_world_to_ndc_ < 0 || r->u_boid_scale_ < 0) {
    error = "boid program lacks the uniforms u_world_to_ndc / u_boid_scale";
    return nullptr;
  }

  // A VAO is mandatory in a core profile: with VAO 0 draws silently do nothing (B.4).
  glGenVertexArrays(1, &r->vao_);
  glGenBuffers(1, &r->triangle_vbo_);
  glGenBuffers(1, &r->instance_vbo_);
  glBindVertexArray(r->vao_);

  glBindBuffer(GL_ARRAY_BUFFER, r->triangle_vbo_);
  glBufferData(GL_ARRAY_BUFFER, sizeof(kTriangle), kTriangle, GL_STATIC_DRAW);
  glEnableVertexAttribArray(0);
  glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 2 * sizeof(float), nullptr);

  glBindBuffer(GL_ARRAY_BUFFER, r->instance_vbo_);
  glBufferData(GL_ARRAY_BUFFER, kInstanceBytes, nullptr, GL_STREAM_DRAW);
  r->capacity_ = 1;
  glEnableVertexAttribArray(1);
  glVertexAttribPointer(1, 4, GL_FLOAT, GL_FALSE, static_cast<GLsizei>(kInstanceBytes), nullptr);
  glVertexAttribDivisor(1, 1);

  glBindVertexArray(0);
  glBindBuffer(GL_ARRAY_BUFFER, 0);

  if (const GLenum e = glGetError(); e != GL_NO_ERROR) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "GL error 0x%04x while creating the boid renderer", e);
    error = buf;
    return nullptr;
  }
  return r;
}

BoidsRenderer::~BoidsRenderer() {
  // Requires the GL context to be alive: destroy before glfwDestroyWindow / glfwTerminate.
  if (instance_vbo_ != 0) glDeleteBuffers(1, &instance_vbo_);
  if (triangle_vbo_ != 0) glDeleteBuffers(1, &triangle_vbo_);
  if (vao_ != 0) glDeleteVertexArrays(1, &vao_);
  if (program_ != 0) glDeleteProgram(program_);
}

void BoidsRenderer::upload(const float* xyvv, std::size_t count) {
  glBindBuffer(GL_ARRAY_BUFFER, instance_vbo_);
  // Orphan: new storage for this frame; the old one lives until the GPU is done with it.
  const std::size_t storage = count > 0 ? count : 1;
  glBufferData(GL_ARRAY_BUFFER, static_cast<GLsizeiptr>(storage) * kInstanceBytes, nullptr, GL_STREAM_DRAW);
  if (count > 0) {
    glBufferSubData(GL_ARRAY_BUFFER, 0, static_cast<GLsizeiptr>(count) * kInstanceBytes, xyvv);
  }
  glBindBuffer(GL_ARRAY_BUFFER, 0);
  capacity_ = storage;
  count_ = count;
}

void BoidsRenderer::write_instance_range(std::size_t first, const float* xyvv, std::size_t count) {
  const std::size_t end = first + count;
  if (end > capacity_) {
    // Grow, keeping the instances already written this batch.
    std::size_t grown = capacity_ * 2;
    if (grown < end) grown = end;
    GLuint bigger = 0;
    glGenBuffers(1, &bigger);
    glBindBuffer(GL_COPY_WRITE_BUFFER, bigger);
    glBufferData(GL_COPY_WRITE_BUFFER, static_cast<GLsizeiptr>(grown) * kInstanceBytes, nullptr, GL_STREAM_DRAW);
    if (count_ > 0) {
      glBindBuffer(GL_COPY_READ_BUFFER, instance_vbo_);
      glCopyBufferSubData(GL_COPY_READ_BUFFER, GL_COPY_WRITE_BUFFER, 0, 0,
                          static_cast<GLsizeiptr>(count_) * kInstanceBytes);
      glBindBuffer(GL_COPY_READ_BUFFER, 0);
    }
    glBindBuffer(GL_COPY_WRITE_BUFFER, 0);
    glDeleteBuffers(1, &instance_vbo_);
    instance_vbo_ = bigger;
    capacity_ = grown;
    // Re-point attribute 1 of the VAO at the new buffer.
    glBindVertexArray(vao_);
    glBindBuffer(GL_ARRAY_BUFFER, instance_vbo_);
    glVertexAttribPointer(1, 4, GL_FLOAT, GL_FALSE, static_cast<GLsizei>(kInstanceBytes), nullptr);
    glBindVertexArray(0);
  }
  if (count > 0) {
    glBindBuffer(GL_ARRAY_BUFFER, instance_vbo_);
    glBufferSubData(GL_ARRAY_BUFFER, static_cast<GLintptr>(first) * kInstanceBytes,
                    static_cast<GLsizeiptr>(count) * kInstanceBytes, xyvv);
  }
  glBindBuffer(GL_ARRAY_BUFFER, 0);
  if (end > count_) count_ = end;
}

void BoidsRenderer::draw(float world_w, float world_h) const {
  if (count_ == 0 || world_w <= 0.0f || world_h <= 0.0f) return;
  glUseProgram(program_);
  // ndc = world * (2/w, 2/h) + (-1, -1)
  glUniform4f(u_world_to_ndc_, 2.0f / world_w, 2.0f / world_h, -1.0f, -1.0f);
  glUniform1f(u_boid_scale_, boid_scale_);
  glBindVertexArray(vao_);
  glDrawArraysInstanced(GL_TRIANGLES, 0, 3, static_cast<GLsizei>(count_));
  glBindVertexArray(0);
  glUseProgram(0);
}

}  // namespace boc::demo
