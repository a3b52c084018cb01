// `boids_gl`: the small built-in Python module through which the simulation script writes
// into the demo's GL instance buffer.
//
// The module exposes one type, `GlBuffer`, which Python code cannot construct: the C++
// driver creates the object around the demo's InstanceSink (GlHandle below) and the script
// keeps it in a PinnedCown, so the pinned write-back is its only user and runs on the main
// thread inside pump().
//
//   gl.write(positions, velocities)            n x 2 Matrix each -> n instances (x, y, vx, vy)
//   gl.write_range(first, positions, velocities)  overwrite instances [first, first + n)
//   gl.count                                   instances the next draw shows
//   gl.attached                                False once the sink is gone
//
// Every method (and `count`) refuses with RuntimeError("GL handle can only be used on the
// main thread / main interpreter") when called from a worker interpreter or another thread,
// and with RuntimeError("GL handle is detached ...") after the sink was detached.
//
// Multi-phase init, the type lives in the module state, Py_mod_multiple_interpreters =
// Py_MOD_PER_INTERPRETER_GIL_SUPPORTED: the module imports in worker interpreters too (a
// worker that receives a pickled GlBuffer imports it to rebuild the object, which then
// refuses to be used there). A GlBuffer pickles to a process-wide token of its sink slot.
//
// Register it with EmbedOptions::extra_builtin_modules = {{"boids_gl", &PyInit_boids_gl}}.
#pragma once

#include <Python.h>

#include <memory>

#include "sim/instance_sink.h"

extern "C" PyObject* PyInit_boids_gl();

namespace boc::demo {

struct GlSlot;

// The C++ side of one GlBuffer: a slot pointing at the sink (or at nothing), owned by the
// driver. Create, retarget and destroy it on the main thread (the thread that will run the
// pinned write-back); object() needs the main interpreter's GIL.
class GlHandle {
 public:
  explicit GlHandle(InstanceSink* sink);
  ~GlHandle();  // detaches: GlBuffer objects still alive then refuse to write
  GlHandle(const GlHandle&) = delete;
  GlHandle& operator=(const GlHandle&) = delete;

  // Points the handle at another sink; nullptr detaches it.
  void retarget(InstanceSink* sink);
  InstanceSink* sink() const;

  // A new reference to the main interpreter's GlBuffer for this slot (created on first
  // use), or nullptr with a Python error set. GIL of the main interpreter held.
  PyObject* object();

 private:
  std::shared_ptr<GlSlot> slot_;
  PyObject* object_ = nullptr;
};

}  // namespace boc::demo
