// Moving matrices between interpreters, as bocpy does (its _math.c xidata
// hooks). A Matrix object never leaves its interpreter, but its buffer does,
// without a copy: the value transport takes the sender's buffer
// (matrix_share), gives up the sender's ownership once the parcel is
// complete (matrix_release), and the receiving interpreter claims it and
// wraps it in a new object (matrix_adopt). From the release on, the sender's
// object raises "The current interpreter does not own this matrix" on use
// and reports acquired == False, until the buffer comes back.
//
// matrix_export / matrix_import are the copying pair (kept for tests and
// callers that want an independent copy).
//
// All functions except matrix_release need the calling thread to hold the
// GIL of the interpreter that owns (or will own) the object.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <cstddef>
#include <memory>
#include <vector>

namespace boc::py {

/// Forgets the Matrix type every thread remembers per interpreter; the math
/// module calls it when it is freed (its interpreter is ending).
void matrix_types_forget() noexcept;

/// True if obj is an instance of this interpreter's bocpy Matrix type
/// (imports bocpy._math if needed; never sets an error, and keeps any error
/// that was already set).
bool matrix_check(PyObject* obj);

/// True if obj is a Matrix of this interpreter that nothing but its holder
/// references and that owns its buffer outright (never shared, no
/// memoryview): dropping the object is then all that sending it would
/// change. Never sets an error.
bool matrix_private(PyObject* obj);

/// Copies shape and data out. Returns false with a Python error set (TypeError)
/// if obj is not a Matrix.
bool matrix_export(PyObject* obj, std::size_t& rows, std::size_t& cols, std::vector<double>& data);

/// Creates a new Matrix in the current interpreter from the buffer (adopting
/// it, no copy). New reference, or nullptr with an error set: ValueError if
/// rows or cols is 0 or data.size() != rows * cols, ImportError if
/// bocpy._math cannot be imported.
PyObject* matrix_import(std::size_t rows, std::size_t cols, std::vector<double>&& data);

/// The buffer of obj (a Matrix owned by this interpreter), shared from now
/// on by obj and whoever holds the result. O(1): the first call moves the
/// object's buffer into a heap store, later calls return the same store.
/// Ownership does not change yet (see matrix_release). nullptr with an error
/// set: TypeError (not a Matrix), RuntimeError (not owned here, e.g. already
/// sent), ValueError (uninitialised), BufferError (a memoryview of it
/// exists: the buffer could change under the view).
std::shared_ptr<void> matrix_share(PyObject* obj);

/// Gives up the current interpreter's ownership of a store returned by
/// matrix_share (a no-op if it does not own it). Needs no GIL.
void matrix_release(const std::shared_ptr<void>& store) noexcept;

/// Claims a released store for the current interpreter and wraps it in a
/// new Matrix (no copy). nullptr with RuntimeError set if another
/// interpreter holds it (bocpy's "cannot acquire" error), ImportError if
/// bocpy._math cannot be imported.
PyObject* matrix_adopt(const std::shared_ptr<void>& store);

/// Claims back, for the current interpreter, the store that `obj` (a Matrix
/// of this interpreter) gave up when it was sent, so that obj owns it again
/// exactly as matrix_adopt's new object would. False (no error) if obj has
/// no store or another interpreter claimed it meanwhile.
bool matrix_reclaim(PyObject* obj) noexcept;

/// Undoes a matrix_adopt whose object is being discarded (a decode that
/// failed later on): the store is in flight again.
void matrix_unadopt(const std::shared_ptr<void>& store) noexcept;

}  // namespace boc::py
