#include "matrix_transport.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "boc/pooled.h"
#include "matrix_convert.h"
#include "matrix_module.h"
#include "matrix_type.h"

namespace boc::py {
namespace {

// The current interpreter's Matrix type (borrowed), or nullptr with an error.
// Every crossing needs it, and current_math_module() costs an import-system
// lookup (sys.modules plus the module's __spec__._initializing), so after the
// first call the type is kept in the interpreter's own state dict, which
// holds it exactly as long as the interpreter lives. The key is a one-character
// Latin-1 str: CPython keeps those as immortal singletons shared by every
// interpreter, so the lookup allocates nothing and needs no per-interpreter
// key object (a private character nobody else uses as a key).
// The thread also remembers the last interpreter it asked for and its type
// (a worker thread stays in one interpreter; a parcel's encode asks once per
// value it looks at). Interpreter ids come back after a finalize and a new
// initialize, so the entry also carries the epoch that every freed math
// module (an ending interpreter) bumps.
std::atomic<std::uint64_t> g_type_epoch{1};
thread_local constinit std::int64_t t_type_interp = -1;
thread_local constinit std::uint64_t t_type_epoch = 0;
thread_local constinit PyTypeObject* t_type = nullptr;

PyTypeObject* current_matrix_type() {
  static constexpr Py_UCS4 kTypeKey = 0xB5;  // U+00B5
  PyInterpreterState* interp = PyInterpreterState_Get();
  const std::int64_t interp_id = PyInterpreterState_GetID(interp);
  // Acquire: pairs with the release bump in matrix_types_forget().
  const std::uint64_t epoch = g_type_epoch.load(std::memory_order_acquire);
  if (interp_id == t_type_interp && epoch == t_type_epoch && t_type != nullptr) return t_type;
  PyObject* idict = PyInterpreterState_GetDict(interp);  // borrowed
  PyObject* key = PyUnicode_FromOrdinal(kTypeKey);       // the immortal singleton
  if (idict != nullptr && key != nullptr) {
    PyObject* t = PyDict_GetItemWithError(idict, key);  // borrowed
    if (t != nullptr && PyType_Check(t)) {
      Py_DECREF(key);
      t_type_interp = interp_id;
      t_type_epoch = epoch;
      t_type = reinterpret_cast<PyTypeObject*>(t);
      return t_type;
    }
  }
  PyErr_Clear();
  PyRef module(current_math_module());
  if (!module) {
    Py_XDECREF(key);
    return nullptr;
  }
  PyTypeObject* type = math_state(module.get())->matrix_type;
  if (idict != nullptr && key != nullptr && PyDict_SetItem(idict, key, reinterpret_cast<PyObject*>(type)) < 0) {
    PyErr_Clear();  // only a cache
  }
  Py_XDECREF(key);
  return type;
}

}  // namespace

void matrix_types_forget() noexcept {
  // Release: an interpreter's end happens-before any later reader of a
  // reused id sees the new epoch.
  g_type_epoch.fetch_add(1, std::memory_order_release);
}

bool matrix_check(PyObject* obj) {
  // Fast rejection without touching the import system: most values the
  // transport sees are not matrices.
  if (!is_matrix(obj)) {
    return false;
  }
  // The type this thread resolved last, its interpreter still alive (epoch):
  // a worker thread stays in one interpreter, so this is the usual answer,
  // without the interpreter lookup and error save/restore below (each a
  // thread-local lookup in libpython, several per value crossing).
  // Acquire: as in current_matrix_type().
  if (Py_TYPE(obj) == t_type && t_type_epoch == g_type_epoch.load(std::memory_order_acquire)) {
    return true;
  }
  PyObject* saved = PyErr_GetRaisedException();
  PyTypeObject* type = current_matrix_type();
  const bool result = type != nullptr && Py_TYPE(obj) == type;
  PyErr_Clear();
  PyErr_SetRaisedException(saved);
  return result;
}

bool matrix_export(PyObject* obj, std::size_t& rows, std::size_t& cols, std::vector<double>& data) {
  if (!matrix_check(obj)) {
    PyErr_Format(PyExc_TypeError, "expected a bocpy.Matrix, not %.200s",
                 obj == nullptr ? "NULL" : Py_TYPE(obj)->tp_name);
    return false;
  }
  const matrix::Dense* owned = owned_value(obj);
  if (owned == nullptr) {
    return false;
  }
  const matrix::Dense& value = *owned;
  try {
    data.assign(value.data.begin(), value.data.end());
  } catch (...) {
    set_error_from_exception();
    return false;
  }
  rows = value.rows;
  cols = value.cols;
  return true;
}

PyObject* matrix_import(std::size_t rows, std::size_t cols, std::vector<double>&& data) {
  return guarded([&]() -> PyObject* {
    if (rows == 0 || cols == 0 || data.size() / cols != rows || data.size() % cols != 0) {
      const std::string message = "matrix_import: " + std::to_string(data.size()) + " values do not make a " +
                                  matrix::shape_string({rows, cols}) + " matrix";
      PyErr_SetString(PyExc_ValueError, message.c_str());
      return nullptr;
    }
    PyTypeObject* type = current_matrix_type();
    if (type == nullptr) {
      return nullptr;
    }
    matrix::Dense value(rows, cols, std::move(data));
    return matrix_wrap(type, std::move(value));
  });
}

bool matrix_private(PyObject* obj) {
  if (Py_REFCNT(obj) != 1 || !matrix_check(obj)) return false;
  const MatrixObject* m = as_matrix(obj);
  return !m->shared && m->value.rows != 0 && m->exports == 0;
}

std::shared_ptr<void> matrix_share(PyObject* obj) {
  if (!matrix_check(obj)) {
    PyErr_Format(PyExc_TypeError, "expected a bocpy.Matrix, not %.200s",
                 obj == nullptr ? "NULL" : Py_TYPE(obj)->tp_name);
    return nullptr;
  }
  if (owned_value(obj) == nullptr) {
    return nullptr;
  }
  MatrixObject* m = as_matrix(obj);
  if (m->exports > 0) {
    PyErr_SetString(PyExc_BufferError, "cannot send a Matrix while a memoryview of it exists");
    return nullptr;
  }
  if (!m->shared) {
    try {
      // Pooled: the store is usually freed by another worker (boc/pooled.h).
      auto store = std::allocate_shared<MatrixStore>(boc::detail::PoolAllocator<MatrixStore>());
      store->value = std::move(m->value);  // O(1): the vector's block moves
      // Relaxed: the store is not shared with any other thread yet.
      store->owner.store(current_interpreter_id(), std::memory_order_relaxed);
      m->value = matrix::Dense();
      m->shared = std::move(store);
    } catch (...) {
      set_error_from_exception();
      return nullptr;
    }
  }
  return m->shared;
}

void matrix_release(const std::shared_ptr<void>& store) noexcept {
  auto* s = static_cast<MatrixStore*>(store.get());
  std::int64_t expected = current_interpreter_id();
  // Release: the next owner's acquire CAS (matrix_adopt) sees our writes.
  s->owner.compare_exchange_strong(expected, MatrixStore::kNoOwner, std::memory_order_release,
                                   std::memory_order_relaxed);
}

PyObject* matrix_adopt(const std::shared_ptr<void>& store) {
  return guarded([&]() -> PyObject* {
    PyTypeObject* type = current_matrix_type();
    if (type == nullptr) {
      return nullptr;
    }
    auto typed = std::static_pointer_cast<MatrixStore>(store);
    const std::int64_t me = current_interpreter_id();
    std::int64_t expected = MatrixStore::kNoOwner;
    // Acquire: pairs with matrix_release, so we see the sender's writes.
    if (!typed->owner.compare_exchange_strong(expected, me, std::memory_order_acquire, std::memory_order_acquire) &&
        expected != me) {
      PyErr_Format(PyExc_RuntimeError, "%lld cannot acquire matrix (already acquired by %lld)",
                   static_cast<long long>(me), static_cast<long long>(expected));
      return nullptr;
    }
    PyObject* obj = matrix_wrap_shared(type, typed);
    if (obj == nullptr) {
      matrix_unadopt(store);
    }
    return obj;
  });
}

bool matrix_reclaim(PyObject* obj) noexcept {
  MatrixObject* m = as_matrix(obj);
  if (!m->shared) return false;
  std::int64_t expected = MatrixStore::kNoOwner;
  // Acquire: pairs with matrix_release, as in matrix_adopt.
  return m->shared->owner.compare_exchange_strong(expected, current_interpreter_id(), std::memory_order_acquire,
                                                  std::memory_order_relaxed);
}

void matrix_unadopt(const std::shared_ptr<void>& store) noexcept { matrix_release(store); }

}  // namespace boc::py
