// Small helpers shared by all the code that talks to CPython (the one owning
// reference type of the Python layer, so every early return drops what it
// holds) and str -> UTF-8.
#pragma once

#include <Python.h>

#include <string>
#include <utility>

namespace boc::py {

/// Owns one strong reference (or nothing).
class PyRef {
 public:
  PyRef() = default;
  /// Steals `o` (which may be nullptr).
  explicit PyRef(PyObject* o) : o_(o) {}
  /// Takes a new reference to a borrowed `o`.
  static PyRef borrow(PyObject* o) {
    Py_XINCREF(o);
    return PyRef(o);
  }
  ~PyRef() { Py_XDECREF(o_); }
  PyRef(const PyRef&) = delete;
  PyRef& operator=(const PyRef&) = delete;
  PyRef(PyRef&& other) noexcept : o_(std::exchange(other.o_, nullptr)) {}
  PyRef& operator=(PyRef&& other) noexcept {
    reset(std::exchange(other.o_, nullptr));
    return *this;
  }

  PyObject* get() const { return o_; }
  /// Drops the held reference and steals `o`.
  void reset(PyObject* o = nullptr) {
    PyObject* old = std::exchange(o_, o);
    Py_XDECREF(old);
  }
  /// Gives the reference to the caller.
  PyObject* release() { return std::exchange(o_, nullptr); }
  explicit operator bool() const { return o_ != nullptr; }

 private:
  PyObject* o_ = nullptr;
};

/// A new list of `make(item)` (each a new reference) over `items`; nullptr
/// with the error set if the list or one item cannot be made.
template <class Items, class Make>
PyObject* list_of(const Items& items, Make make) {
  PyRef out(PyList_New(0));
  if (!out) return nullptr;
  for (const auto& item : items) {
    PyRef d(make(item));
    if (!d || PyList_Append(out.get(), d.get()) < 0) return nullptr;
  }
  return out.release();
}

/// The UTF-8 text of a str, or "" for anything else (never leaves an error set).
inline std::string utf8_of(PyObject* s) {
  if (s == nullptr || !PyUnicode_Check(s)) return {};
  Py_ssize_t n = 0;
  const char* p = PyUnicode_AsUTF8AndSize(s, &n);
  if (p == nullptr) {
    PyErr_Clear();
    return {};
  }
  return std::string(p, static_cast<std::size_t>(n));
}

}  // namespace boc::py
