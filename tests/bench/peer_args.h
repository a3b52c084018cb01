// Shared bits of the peer-workload ports (peer_banking.cpp, peer_schedule.cpp):
// "--name value" arguments, a small PRNG and a busy-wait.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace bench {

class Args {
 public:
  Args(int argc, char** argv) : argc_(argc), argv_(argv) {}
  std::size_t get(std::string_view name, std::size_t fallback) const {
    for (int i = 1; i + 1 < argc_; ++i) {
      if (name == argv_[i]) return std::strtoull(argv_[i + 1], nullptr, 10);
    }
    return fallback;
  }

 private:
  int argc_;
  char** argv_;
};

// xorshift64*: cheap and good enough to pick accounts and cells.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ULL + 1) {}
  std::uint64_t next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1DULL;
  }

 private:
  std::uint64_t s_;
};

// Spins for `usec` microseconds in 10 us steps (keeps the core busy, as work would).
inline void busy_loop(std::size_t usec) {
  auto wait = [](std::size_t step) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(step);
    while (std::chrono::steady_clock::now() <= end) {
    }
  };
  for (std::size_t j = 0; j < usec / 10; ++j) wait(10);
  wait(usec % 10);
}

}  // namespace bench
