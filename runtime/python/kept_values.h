// The objects an interpreter kept when it released a cown, so that its next
// acquire of the same cown takes the object back instead of decoding the
// parcel (values/reusable_value.h says when that is the same thing). A
// behavior that reschedules itself on its state cown mostly runs on the
// worker that released it (worker_pool.cpp keeps a released cown's successor
// on that worker), so its state stops crossing once it is written.
//
// One table per interpreter (InterpState::kept), touched only under that
// interpreter's GIL: no other thread ever sees a kept object. An entry names
// the cown by id (never reused) and the generation of the parcel it stood
// for; any later encode of that cown's value, anywhere, makes it stale.
#pragma once

#include <Python.h>

#include <array>
#include <cstdint>

namespace boc::py {

class KeptValues {
 public:
  KeptValues() = default;
  KeptValues(const KeptValues&) = delete;
  KeptValues& operator=(const KeptValues&) = delete;
  ~KeptValues() { clear(); }

  /// Keeps `obj` (steals the reference; prepared by prepare_reusable) for
  /// the parcel `generation` of cown `cown_id`; drops what the slot held.
  void keep(std::uint64_t cown_id, std::uint64_t generation, PyObject* obj, bool was_tracked) noexcept;
  /// The object kept for exactly that parcel (a new reference, given back to
  /// Python code), or nullptr. Drops a stale entry of the same cown.
  PyObject* take(std::uint64_t cown_id, std::uint64_t generation) noexcept;
  /// Drops every kept object (GIL held), e.g. before the interpreter ends.
  void clear() noexcept;

 private:
  struct Entry {
    std::uint64_t cown_id = 0;
    std::uint64_t generation = 0;
    PyObject* obj = nullptr;
    bool was_tracked = false;
  };
  void drop(Entry& e) noexcept;

  // Cown ids are consecutive, so the low bits spread the live ones evenly.
  // bocpy's chain-ring (examples/benchmark.py) keeps 544 cowns in rotation at
  // one worker; with 256 slots a sixth of its state acquires decoded again.
  static constexpr std::size_t kSlots = 1024;
  std::array<Entry, kSlots> slots_{};
};

}  // namespace boc::py
