// XIData slots (xidata_slot.h). Freeing an XIData runs its free callback and
// drops the sender's object, so it must happen in the sender's interpreter:
// a slot owns a capsule created there whose destructor frees the XIData, and
// the slot's last reference drops that capsule the way the runtime drops any
// object of another interpreter (the drop hook: decref_in_interp,
// runtime/python/py_cown.h).
#include "xidata_slot.h"

#include <atomic>
#include <new>

#include "parcel.h"
#include "xidata_bridge.h"

namespace boc::py {
namespace {

std::atomic<DropHook> g_drop{nullptr};

constexpr const char* kCapsuleName = "bocpy.xidata";

void free_capsule(PyObject* capsule) {
  PyObject* saved = PyErr_GetRaisedException();
  void* x = PyCapsule_GetPointer(capsule, kCapsuleName);
  if (x != nullptr) boc_xidata_free(x);
  // A failing free callback has nobody to report to.
  if (PyErr_Occurred()) PyErr_WriteUnraisable(nullptr);
  PyErr_SetRaisedException(saved);
}

// What a parcel's XIData table entry points to.
struct Slot {
  void* x = nullptr;
  PyObject* capsule = nullptr;  // owns x

  Slot() = default;
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  ~Slot() {
    if (capsule == nullptr) return;
    if (boc_xidata_interp_is_current(x)) {
      Py_DECREF(capsule);
      return;
    }
    // Acquire: pairs with the release store in set_drop_hook.
    DropHook drop = g_drop.load(std::memory_order_acquire);
    // Without a hook (boc_values on its own) a slot dropped elsewhere leaks,
    // as CPython leaks an XIData whose interpreter is gone.
    if (drop != nullptr) drop(boc_xidata_interp(x), capsule);
  }
};

void* xidata_of(const std::shared_ptr<void>& slot) noexcept { return static_cast<Slot*>(slot.get())->x; }

// Fills a fresh slot from obj: false with getdata's exception.
bool fill(Slot& slot, PyObject* obj) {
  void* x = boc_xidata_take(obj);
  if (x == nullptr) return false;
  PyObject* capsule = PyCapsule_New(x, kCapsuleName, &free_capsule);
  if (capsule == nullptr) {
    boc_xidata_free(x);
    return false;
  }
  slot.x = x;
  slot.capsule = capsule;
  return true;
}

// new_object in the sender and drop the result (see take_noted).
void give_back(const std::shared_ptr<void>& slot) noexcept {
  PyObject* saved = PyErr_GetRaisedException();
  Py_XDECREF(boc_xidata_new_object(xidata_of(slot)));
  PyErr_Clear();
  PyErr_SetRaisedException(saved);
}

}  // namespace

void set_drop_hook(DropHook hook) {
  // Release: pairs with the acquire load in ~Slot.
  g_drop.store(hook, std::memory_order_release);
}

namespace detail {

bool xidata_registered(PyObject* obj) noexcept { return boc_xidata_registered(obj) != 0; }

std::size_t XIDataTaker::note(PyObject* obj) {
  auto [it, fresh] = index_.try_emplace(obj, noted_.size());
  if (fresh) {
    try {
      noted_.push_back(Py_NewRef(obj));
    } catch (...) {
      Py_DECREF(obj);
      index_.erase(it);
      throw;
    }
  }
  return it->second;
}

bool XIDataTaker::take_noted_slow() {
  if (!table_) table_ = std::make_unique<std::vector<std::shared_ptr<void>>>();
  std::vector<std::shared_ptr<void>>& table = *table_;
  const std::size_t first = table.size();
  table.reserve(first + noted_.size());
  auto undo = [&] {
    for (std::size_t i = first; i < table.size(); ++i) give_back(table[i]);
    table.resize(first);  // frees them here, in the sender
  };
  for (PyObject* o : noted_) {
    std::shared_ptr<Slot> slot;
    try {
      slot = std::make_shared<Slot>();  // before getdata: nothing to undo if it throws
    } catch (...) {
      undo();
      throw;
    }
    if (!fill(*slot, o)) {
      undo();
      return false;
    }
    table.push_back(std::move(slot));  // reserved: cannot throw
  }
  return true;
}

XIDataMemo::~XIDataMemo() {
  for (PyObject* o : built_) Py_XDECREF(o);
}

PyObject* XIDataMemo::get(std::uint64_t index) {
  if (index >= table_.size()) {
    PyErr_SetString(PyExc_ValueError, "parcel: corrupt or truncated encoding");
    return nullptr;
  }
  const auto i = static_cast<std::size_t>(index);
  if (built_.size() < table_.size()) built_.resize(table_.size(), nullptr);
  if (built_[i] == nullptr) {
    PyObject* o = boc_xidata_new_object(xidata_of(table_[i]));
    if (o == nullptr) return nullptr;
    built_[i] = o;
  }
  return Py_NewRef(built_[i]);
}

void XIDataMemo::unclaim() noexcept {
  PyObject* saved = PyErr_GetRaisedException();
  for (PyObject*& o : built_) {
    if (o == nullptr) continue;
    void* x = boc_xidata_take(o);
    if (x != nullptr) boc_xidata_free(x);
    PyErr_Clear();
    Py_CLEAR(o);
  }
  PyErr_SetRaisedException(saved);
}

}  // namespace detail
}  // namespace boc::py
