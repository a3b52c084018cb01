#include "boc/clock.h"

#include "boc/systematic.h"

namespace boc {

std::int64_t SteadyClock::now_ns() const noexcept {
#ifdef BOC_SYSTEMATIC
  // Virtual time on a scheduled thread: replays do not depend on real time.
  if (systematic::on_scheduled_thread()) return systematic::now_ns();
#endif
  // +1 ms so the clock never reads 0, which the runtime uses as "unset".
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
             .count() +
         1'000'000;
}

std::shared_ptr<Clock> SteadyClock::instance() {
  static const std::shared_ptr<Clock> clock = std::make_shared<SteadyClock>();
  return clock;
}

}  // namespace boc
