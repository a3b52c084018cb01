#include "kept_values.h"

#include "reusable_value.h"

namespace boc::py {

void KeptValues::drop(Entry& e) noexcept {
  if (e.obj == nullptr) return;
  PyObject* obj = e.obj;
  const bool tracked = e.was_tracked;
  e = Entry{};
  // Back to an ordinary object first: its dealloc expects the tracking it had.
  restore_reusable(obj, tracked);
  Py_DECREF(obj);
}

void KeptValues::keep(std::uint64_t cown_id, std::uint64_t generation, PyObject* obj, bool was_tracked) noexcept {
  Entry& e = slots_[cown_id & (kSlots - 1)];
  drop(e);
  e = Entry{cown_id, generation, obj, was_tracked};
}

PyObject* KeptValues::take(std::uint64_t cown_id, std::uint64_t generation) noexcept {
  Entry& e = slots_[cown_id & (kSlots - 1)];
  if (e.obj == nullptr || e.cown_id != cown_id) return nullptr;
  if (e.generation != generation) {
    drop(e);
    return nullptr;
  }
  PyObject* obj = e.obj;
  restore_reusable(obj, e.was_tracked);
  e = Entry{};
  return obj;
}

void KeptValues::clear() noexcept {
  for (Entry& e : slots_) drop(e);
}

}  // namespace boc::py
