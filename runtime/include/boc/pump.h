// The main-thread pump: options, result and the errors its gates raise.
// Semantics are the pinned-cown contract of README "The core in one paragraph" (bocpy 0.13.0's pump()).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

namespace boc {

struct PumpOptions {
  /// Wall-clock budget on the runtime's clock; checked after each behavior,
  /// never preempting one. Unset = unbounded. Must be > 0 when set.
  std::optional<std::chrono::milliseconds> deadline;
  /// Checked before each dequeue. Unset = unbounded. Must be > 0 when set.
  std::optional<std::size_t> max_behaviors;
  /// Stop at (and report) the first body error, leaving the rest queued.
  bool raise_on_error = false;
};

struct PumpResult {
  std::size_t executed = 0;       ///< lifecycles completed (acquire, body, release)
  bool deadline_reached = false;  ///< the loop ended by the deadline test
  std::size_t raised = 0;         ///< bodies that raised an ordinary error
  friend bool operator==(const PumpResult&, const PumpResult&) = default;
};

/// Why a pump() call returned.
enum class PumpStop {
  kDrained,   ///< the queue was empty
  kMaxCount,  ///< max_behaviors reached
  kDeadline,  ///< deadline test tripped (deadline_reached == true)
  kError,     ///< raise_on_error and a body raised; `error` holds it
  kFatal,     ///< a body raised a fatal error; `error` holds it
};

struct PumpReport {
  PumpResult result;
  PumpStop stop = PumpStop::kDrained;
  std::exception_ptr error;
};

/// pump()'s message when called from inside a pinned-behavior body (bocpy's words).
inline constexpr char kPumpNotReentrant[] =
    "pump() is not reentrant; cannot be called from inside a pinned-behavior body (v1 limitation)";

/// Raised by pump()'s gates. `kind` lets a binding map it to its own message.
class PumpError : public std::runtime_error {
 public:
  enum class Kind { kWrongThread, kConcurrentPumper, kReentrant, kInvalidArgument, kStopped };
  PumpError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

/// Thrown by C++ behavior bodies for errors that must not be swallowed by the
/// pump (the analogue of Python's BaseException): pump() propagates it after
/// the behavior's cleanup, with the rest of the queue intact.
class FatalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace boc
