// Values a cown may keep alive across a release in the interpreter that
// released them, to hand back on that interpreter's next acquire instead of
// decoding the parcel again (runtime/python/kept_values.h). Internal to the
// bocpy module; the parcel is still written, so every other reader sees
// exactly what it saw before.
//
// Handing back the object is the same as decoding its parcel only when
// nobody could have seen or changed it in between: the cown holds the only
// reference and nothing refers to it weakly, and it is a bocpy Matrix (its
// buffer went into the parcel and comes back) or its class is plain
// (plain_class.h) with no finaliser, its
// attributes are immutable scalars, nothing refers to it weakly, and the
// garbage collector does not list it while it is kept (gc.get_objects()).
#pragma once

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>

namespace boc::py {

/// Called with the GIL held right after `obj` was encoded into the parcel a
/// cown keeps. True if obj may stand in for that parcel's decode in this
/// interpreter; it is then untracked by the garbage collector and
/// `*was_tracked` says whether restore_reusable() must track it again.
/// False (nothing changed, no error) otherwise.
bool prepare_reusable(PyObject* obj, bool* was_tracked) noexcept;

/// The last value of a cown nothing can acquire again (Behavior::
/// sole_holder_of): true if dropping obj instead of encoding it changes
/// nothing anyone could see, i.e. it is an immutable scalar or None, or a
/// Matrix only the cown refers to that owns its buffer outright (encoding
/// would move that buffer). Never sets an error.
bool droppable_last_value(PyObject* obj) noexcept;

/// Gives a prepared object back to Python code (GIL held).
void restore_reusable(PyObject* obj, bool was_tracked) noexcept;

/// On reuse, after restore_reusable(): takes back what the object gave the
/// parcel (a Matrix's buffer). False if that is no longer possible; the
/// caller then drops obj and decodes the parcel.
bool reclaim_reusable(PyObject* obj) noexcept;

}  // namespace boc::py
