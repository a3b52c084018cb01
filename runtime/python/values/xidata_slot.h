// Values of a type registered as cross-interpreter shareable (CPython's
// XIData, see runtime/python/include/bocpy/xidata.h) in parcels: the XIData
// the sender's getdata callback filled, held by the parcel until its last
// copy is gone, then freed in the sender's interpreter. Internal to
// boc_values.
#pragma once

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

namespace boc::py::detail {

/// True if obj's exact type is registered in the current interpreter's XIData
/// registry (GIL held). Never sets an error.
bool xidata_registered(PyObject* obj) noexcept;

/// Collects the registered-type objects of one value being encoded (GIL
/// held), one table index per distinct object. Their getdata callbacks run
/// only in take_noted(), once the rest of the value encoded, so a value that
/// falls back to pickle or fails never hands anything over.
class XIDataTaker {
 public:
  /// `table` is made on the first take (most values have nothing to take).
  explicit XIDataTaker(std::unique_ptr<std::vector<std::shared_ptr<void>>>& table) noexcept : table_(table) {}
  // Inline, as is take_noted()'s empty case: every encode makes a taker, and
  // most values note nothing.
  ~XIDataTaker() {
    for (PyObject* o : noted_) Py_DECREF(o);
  }
  XIDataTaker(const XIDataTaker&) = delete;
  XIDataTaker& operator=(const XIDataTaker&) = delete;

  /// obj's future table index (holds obj until the taker ends). Throws
  /// std::bad_alloc.
  std::size_t note(PyObject* obj);
  /// Takes every noted object's XIData into the table, in index order. Should
  /// one getdata fail, those taken are handed back (their new_object runs in
  /// this interpreter, so an owner field comes back here) and dropped: false
  /// with that exception. Throws std::bad_alloc (after handing back).
  bool take_noted() { return noted_.empty() || take_noted_slow(); }

 private:
  bool take_noted_slow();

  std::unique_ptr<std::vector<std::shared_ptr<void>>>& table_;
  std::vector<PyObject*> noted_;  // strong references, in index order
  std::unordered_map<const PyObject*, std::size_t> index_;
};

/// The objects one decode built from a parcel's XIData table (GIL held): each
/// slot's new_object runs at most once per decode, so every occurrence of an
/// object in the value decodes to the same new object.
class XIDataMemo {
 public:
  explicit XIDataMemo(const std::vector<std::shared_ptr<void>>& table) noexcept : table_(table) {}
  ~XIDataMemo();
  XIDataMemo(const XIDataMemo&) = delete;
  XIDataMemo& operator=(const XIDataMemo&) = delete;

  bool empty_table() const noexcept { return table_.empty(); }
  /// The object of slot `index` (new reference), or nullptr with an error
  /// (also for an index out of range).
  PyObject* get(std::uint64_t index);
  /// The decode failed: every object built is put in flight again (a fresh
  /// getdata whose XIData is dropped at once, so an owner field is no
  /// interpreter's again and the parcel decodes later). Keeps the error set.
  void unclaim() noexcept;

 private:
  const std::vector<std::shared_ptr<void>>& table_;
  std::vector<PyObject*> built_;  // by index, nullptr where not built yet
};

}  // namespace boc::py::detail
