// A polite busy-wait step for the short spins of the protocol.
#pragma once

#include <thread>

#include "boc/systematic.h"

namespace boc::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

/// Spins with pause, yielding the core now and then: the waited-for thread may
/// be descheduled on an oversubscribed machine (2 cores, 3+ threads).
/// In systematic builds each step is a scheduler spin (the token moves on to a
/// thread that can make progress), and the end of the wait is reported.
class SpinWait {
 public:
  explicit SpinWait(const char* point = "spin") noexcept {
#ifdef BOC_SYSTEMATIC
    point_ = point;
#else
    (void)point;
#endif
  }
#ifdef BOC_SYSTEMATIC
  ~SpinWait() {
    if (n_ != 0) systematic::spin_done();
  }
  SpinWait(const SpinWait&) = delete;
  SpinWait& operator=(const SpinWait&) = delete;
#endif

  void once() noexcept {
#ifdef BOC_SYSTEMATIC
    ++n_;
    systematic::spin(point_);
#else
    if (++n_ % 64 == 0) {
      std::this_thread::yield();
    } else {
      cpu_relax();
    }
#endif
  }

 private:
  unsigned n_ = 0;
#ifdef BOC_SYSTEMATIC
  const char* point_;
#endif
};

}  // namespace boc::detail
