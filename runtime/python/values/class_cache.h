// The per-interpreter cache behind plain-instance parcels (plain_class.h):
// the module and qualname strs of each class the decoder met, the interned
// attribute names it last saw for it, and the interned "__module__" key the
// encoder reads. It lives in a capsule in the interpreter's state dict, so
// no object in it is ever seen by another interpreter, and it goes away
// with the interpreter. Internal to boc_values.
//
// Nothing here decides anything pickle would: the decoder still resolves
// the class through sys.modules on every instance (the cache only saves
// building the strs) and a cached name is used only when it is equal,
// code point for code point, to the one in the parcel.
#pragma once

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace boc::py::detail {

/// One class as the decoder knows it. Holds strong references (released
/// under the owning interpreter's GIL when the last holder drops it).
struct ClassShape {
  ClassShape() = default;
  ClassShape(const ClassShape&) = delete;
  ClassShape& operator=(const ClassShape&) = delete;
  ~ClassShape();

  /// The interned attribute name at `index` if it equals the str of `kind`
  /// (1, 2 or 4 bytes per code point; `ascii` for the ASCII tag) with `len`
  /// code points at `data`: a new reference, or nullptr (no error).
  PyObject* name_if_equal(std::size_t index, int kind, bool ascii, const void* data, std::size_t len) const noexcept;
  /// Remembers `name` (an interned exact str) as the attribute name at index.
  void remember_name(std::size_t index, PyObject* name);

  std::string module_utf8, qualname_utf8;
  PyObject* module = nullptr;    // str
  PyObject* qualname = nullptr;  // str
  std::vector<PyObject*> names;  // interned strs, in the order last decoded
};

class ClassCache {
 public:
  /// The shape of `module`.`qualname` (UTF-8 as in the parcel), created on
  /// first use; nullptr with an error set on failure.
  std::shared_ptr<ClassShape> shape(std::string_view module, std::string_view qualname);
  /// The interned str "__module__" (borrowed).
  PyObject* module_key() const noexcept { return module_key_; }
  /// This interpreter's dict watcher for native_class.cpp, or -1 before the
  /// first use.
  int dict_watcher() const noexcept { return dict_watcher_; }
  void set_dict_watcher(int id) noexcept { dict_watcher_ = id; }

  ~ClassCache();

 private:
  friend ClassCache* class_cache();
  static constexpr std::size_t kSlots = 64;  // a power of two
  std::shared_ptr<ClassShape> slots_[kSlots];
  PyObject* module_key_ = nullptr;
  int dict_watcher_ = -1;
};

/// The current interpreter's cache (owned by its state dict); nullptr with
/// an error set on failure.
ClassCache* class_cache();

}  // namespace boc::py::detail
