// The per-interpreter class cache of plain-instance parcels (class_cache.h).
#include "class_cache.h"

#include <cstdint>
#include <cstring>
#include <new>

namespace boc::py::detail {
namespace {

// The cache's key in the interpreter's state dict: a one-character Latin-1
// str, an immortal singleton, so the lookup allocates nothing (as
// pickle_fallback.cpp's helpers, U+00B6, and matrix_transport.cpp, U+00B5).
constexpr Py_UCS4 kStateKey = 0xB7;  // U+00B7
constexpr const char* kCapsuleName = "bocpy.values.class_cache";
// Attribute names remembered per class; a wider instance decodes the rest
// the plain way.
constexpr std::size_t kMaxNames = 64;

void destroy_capsule(PyObject* capsule) {
  delete static_cast<ClassCache*>(PyCapsule_GetPointer(capsule, kCapsuleName));
}

std::uint64_t hash_bytes(std::uint64_t h, std::string_view s) noexcept {
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ull;  // FNV-1a
  return h;
}

PyObject* decode_utf8(std::string_view s) {
  return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), nullptr);
}

}  // namespace

ClassShape::~ClassShape() {
  Py_XDECREF(module);
  Py_XDECREF(qualname);
  for (PyObject* n : names) Py_XDECREF(n);
}

PyObject* ClassShape::name_if_equal(std::size_t index, int kind, bool ascii, const void* data,
                                    std::size_t len) const noexcept {
  if (index >= names.size()) return nullptr;
  PyObject* n = names[index];
  if (n == nullptr || PyUnicode_KIND(n) != kind || static_cast<std::size_t>(PyUnicode_GET_LENGTH(n)) != len) {
    return nullptr;
  }
  if (kind == PyUnicode_1BYTE_KIND && (PyUnicode_IS_ASCII(n) != 0) != ascii) return nullptr;
  if (len != 0 && std::memcmp(PyUnicode_DATA(n), data, len * static_cast<std::size_t>(kind)) != 0) return nullptr;
  return Py_NewRef(n);
}

void ClassShape::remember_name(std::size_t index, PyObject* name) {
  if (index >= kMaxNames) return;
  if (index >= names.size()) names.resize(index + 1, nullptr);
  PyObject* old = names[index];
  names[index] = Py_NewRef(name);
  Py_XDECREF(old);
}

ClassCache::~ClassCache() { Py_XDECREF(module_key_); }

std::shared_ptr<ClassShape> ClassCache::shape(std::string_view module, std::string_view qualname) {
  const std::uint64_t h = hash_bytes(hash_bytes(0xCBF29CE484222325ull, module) ^ 0xFF, qualname);
  std::shared_ptr<ClassShape>& slot = slots_[(h ^ (h >> 32)) & (kSlots - 1)];
  if (slot && slot->module_utf8 == module && slot->qualname_utf8 == qualname) return slot;
  auto fresh = std::make_shared<ClassShape>();
  fresh->module_utf8.assign(module);
  fresh->qualname_utf8.assign(qualname);
  fresh->module = decode_utf8(module);
  if (fresh->module == nullptr) return nullptr;
  fresh->qualname = decode_utf8(qualname);
  if (fresh->qualname == nullptr) return nullptr;
  PyUnicode_InternInPlace(&fresh->module);
  PyUnicode_InternInPlace(&fresh->qualname);
  slot = fresh;  // an evicted shape lives on while a decoder still holds it
  return fresh;
}

ClassCache* class_cache() {
  PyObject* state = PyInterpreterState_GetDict(PyInterpreterState_Get());
  if (state == nullptr) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "parcel: interpreter has no state dict");
    return nullptr;
  }
  PyObject* key = PyUnicode_FromOrdinal(kStateKey);
  if (key == nullptr) return nullptr;
  PyObject* found = PyDict_GetItemWithError(state, key);  // borrowed
  if (found != nullptr) {
    Py_DECREF(key);
    return static_cast<ClassCache*>(PyCapsule_GetPointer(found, kCapsuleName));
  }
  if (PyErr_Occurred()) {
    Py_DECREF(key);
    return nullptr;
  }
  auto* cache = new (std::nothrow) ClassCache();
  if (cache == nullptr) {
    Py_DECREF(key);
    PyErr_NoMemory();
    return nullptr;
  }
  cache->module_key_ = PyUnicode_InternFromString("__module__");
  PyObject* capsule = cache->module_key_ != nullptr ? PyCapsule_New(cache, kCapsuleName, destroy_capsule) : nullptr;
  if (capsule == nullptr) {
    delete cache;
    Py_DECREF(key);
    return nullptr;
  }
  const int rc = PyDict_SetItem(state, key, capsule);
  Py_DECREF(key);
  Py_DECREF(capsule);  // the state dict holds it now (or it was just freed)
  return rc == 0 ? cache : nullptr;
}

}  // namespace boc::py::detail
