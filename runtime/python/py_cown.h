// The cown behind every bocpy Cown / PinnedCown: a core CownBase holding a
// Python value. A regular cown keeps its value encoded (a Parcel) while nobody
// owns it and decodes a fresh object into whichever interpreter acquires it.
// A pinned cown holds a plain reference in the main interpreter for its whole
// life: never encoded, identity stable.
#pragma once

#include <Python.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "boc/cown.h"
#include "parcel.h"

namespace boc::py {

struct InterpState;

inline constexpr std::int64_t kNoOwner = -1;

/// The id of the current interpreter (GIL held).
std::int64_t current_interp_id() noexcept;

class PyCown final : public CownBase {
 public:
  /// A regular cown holding `value` (encoded now; nullptr = None). Returns an
  /// empty ref with a Python error set if the value cannot be encoded.
  static Ref<PyCown> make(PyObject* value);
  /// A pinned cown holding a reference to `value`. Main interpreter only
  /// (the caller checks); never fails.
  static Ref<PyCown> make_pinned(PyObject* value);

  ~PyCown() override;

  /// Interpreter id of the current owner, or kNoOwner.
  std::int64_t owner() const noexcept {
    // Acquire: pairs with the release stores in acquire()/release(); the new
    // owner's value fields are visible to a thread that sees it.
    return owner_.load(std::memory_order_acquire);
  }
  bool owned_here() const noexcept { return owner() == current_interp_id(); }

  /// Takes ownership for the current interpreter and decodes the value into
  /// it. No-op if already owned here. False + Python error otherwise.
  /// `st`: the current interpreter's state when the caller has it (saves a
  /// lookup per cown), else it is looked up.
  bool acquire(InterpState* st = nullptr);
  /// Encodes the value back and gives up ownership. No-op if ownerless. False
  /// + Python error if owned elsewhere or the value cannot be encoded (the
  /// cown then stays owned). `st` as for acquire(). `releasing`: the
  /// PyBehavior that held the cown; when nothing can acquire the cown after it
  /// (Behavior::sole_holder_of), a value nothing else sees is dropped, not
  /// encoded (values/reusable_value.h, droppable_last_value).
  bool release(InterpState* st = nullptr, const Behavior* releasing = nullptr);

  /// Borrowed value; the current interpreter must own the cown (checked).
  PyObject* value_borrowed();
  /// Replaces the value (clears the exception flag); must own (checked).
  bool set_value(PyObject* value);
  bool exception() const noexcept { return exception_; }
  /// Sets the exception flag; must own (checked).
  bool set_exception_flag(bool flag);

  /// Stores a behavior's outcome directly (the behavior holds the cown in
  /// protocol terms): encodes `value`, sets the flag. If the value cannot be
  /// encoded, stores a RuntimeError describing it (flag set) instead.
  void store_result(PyObject* value, bool is_exception);
  /// Stores an error from C++ (no interpreter needed): a RuntimeError with
  /// `message` decoded on the next acquire. Used for shutdown cancellation.
  /// `report_if_unread` false: no "unhandled exception" report when the cown
  /// dies unread (Ctrl-C cancellations, which the user asked for).
  void store_error_message(const std::string& message, bool report_if_unread = true);

  /// Traceback text of the stored exception when it came from a behavior body.
  const std::string& traceback_text() const noexcept { return traceback_; }
  void set_traceback_text(std::string text) { traceback_ = std::move(text); }

  /// For a pinned cown: the main-interpreter object (borrowed).
  PyObject* pinned_value() const noexcept { return live_; }

 private:
  explicit PyCown(bool pinned) : CownBase(pinned) {}
  // After the release encode: hands live_ to `st`'s (this interpreter's) kept
  // values when it may stand in for the parcel (kept_values.h), else drops it.
  void keep_or_clear_live(InterpState* st);

  std::atomic<std::int64_t> owner_{kNoOwner};
  // The live object while owned (owner's interpreter), or the pinned value.
  PyObject* live_ = nullptr;
  // The encoded value while ownerless (regular cowns only).
  Parcel parcel_;
  // Bumped whenever parcel_ is written: the interpreter that wrote it may
  // keep the object for this generation (kept_values.h).
  std::uint64_t parcel_gen_ = 0;
  // A C++-side error to materialise as RuntimeError(message) on acquire.
  std::string pending_error_;
  bool has_pending_error_ = false;
  bool exception_ = false;
  // The encoded value is a bare handle: it decodes as a CownCapsule (py_cown.cpp).
  bool bare_handle_ = false;
  // Set when a decode failed: the cown is permanently unavailable.
  bool poisoned_ = false;
  std::string traceback_;
  // "Type: message" of a stored exception, printed if the cown dies with the
  // exception flag still set (bocpy's "contains an unhandled exception").
  std::string exception_text_;
};

/// Drops `obj` (a reference owned by interpreter `interp_id`) now if this
/// thread holds that interpreter's GIL, otherwise at the next
/// drain_deferred_decrefs() in that interpreter.
void decref_in_interp(std::int64_t interp_id, PyObject* obj) noexcept;
/// Drops the references deferred for the current interpreter (GIL held).
void drain_deferred_decrefs() noexcept;

}  // namespace boc::py
