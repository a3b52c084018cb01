// A polite busy-wait step for the short spins of the protocol.
#pragma once

#include <thread>

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
class SpinWait {
 public:
  void once() noexcept {
    if (++n_ % 64 == 0) {
      std::this_thread::yield();
    } else {
      cpu_relax();
    }
  }

 private:
  unsigned n_ = 0;
};

}  // namespace boc::detail
