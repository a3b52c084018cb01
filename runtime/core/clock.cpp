#include "boc/clock.h"

namespace boc {

std::int64_t SteadyClock::now_ns() const noexcept {
  // +1 ms so the clock never reads 0, which the runtime uses as "unset".
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
             .count() +
         1'000'000;
}

std::shared_ptr<Clock> SteadyClock::instance() {
  static const std::shared_ptr<Clock> clock = std::make_shared<SteadyClock>();
  return clock;
}

}  // namespace boc
