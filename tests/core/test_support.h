// Helpers shared by the core tests: a behavior over an arbitrary request set,
// a fixture that checks nothing leaks, and the waits and threads that keep the
// tests runnable under the systematic scheduler (BOC_SYSTEMATIC builds, see
// boc/systematic.h): there, every test that uses the fixture is one seeded run.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "boc/boc.h"
#include "boc/systematic.h"

namespace boc::test {

/// True in the systematic build: workloads shrink (every hook point costs a
/// scheduler decision) while every interleaving-sensitive shape stays.
inline constexpr bool kSystematic = systematic::kEnabled;
/// `full` normally, `systematic` under the systematic scheduler (BOC_SYSTEMATIC).
constexpr int sized(int full, int systematic) { return kSystematic ? systematic : full; }

/// A thread that takes part in the systematic run (std::thread otherwise).
using Thread = detail::Thread;

/// Waits until pred() holds or the timeout passes (virtual time under the
/// systematic scheduler, where a wait that can never end is reported as a
/// deadlock instead). pred() must only read. Returns pred().
inline bool wait_until(const std::function<bool()>& pred,
                       std::optional<std::chrono::nanoseconds> timeout = std::chrono::seconds(30)) {
#ifdef BOC_SYSTEMATIC
  return systematic::wait_until(pred, timeout, "test.wait_until");
#else
  const auto give_up =
      timeout ? std::chrono::steady_clock::now() + *timeout : std::chrono::steady_clock::time_point::max();
  for (unsigned n = 0; !pred(); ++n) {
    if (std::chrono::steady_clock::now() >= give_up) return pred();
    if (n < 64) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  return true;
#endif
}

/// The seed of the current systematic run, and the line that replays it.
std::uint64_t systematic_seed();
std::string systematic_reproducer();

struct Slot {
  std::atomic<int> holders{0};  // > 1 would mean two behaviors hold it at once
  long value = 0;
  std::vector<int> log;
};

using SlotCown = Cown<Slot>;

/// A behavior over any set of cowns whose body is a std::function.
class FnBehavior final : public Behavior {
 public:
  FnBehavior(const std::vector<CownBase*>& cowns, std::function<void()> body)
      : Behavior(std::span<CownBase* const>(cowns)), body_(std::move(body)) {}

  BodyResult run() override {
    body_();
    return {};
  }
  void cancel(std::string_view reason) override { cancelled_reason = std::string(reason); }

  std::string cancelled_reason;

 private:
  std::function<void()> body_;
};

inline void schedule_fn(Runtime& rt, const std::vector<CownBase*>& cowns, std::function<void()> body) {
  rt.schedule(std::make_unique<FnBehavior>(cowns, std::move(body)));
}

/// Every test ends with no behavior alive (leak check, marl-style). In the
/// systematic build each test is one run of the systematic scheduler; a failure
/// prints the environment that replays it.
class LeakCheckedTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef BOC_SYSTEMATIC
    systematic::set_reproducer(systematic_reproducer());
    systematic::begin(systematic_seed());
#endif
  }
  void TearDown() override {
#ifdef BOC_SYSTEMATIC
    const std::uint64_t steps = systematic::steps();
    const std::uint64_t switches = systematic::switches();
    systematic::end();
    if (HasFailure()) {
      std::fprintf(stderr, "systematic: %s (%llu hook points, %llu switches)\n", systematic_reproducer().c_str(),
                   static_cast<unsigned long long>(steps), static_cast<unsigned long long>(switches));
    }
#endif
    EXPECT_EQ(Behavior::live_count(), 0u) << "behaviors leaked";
  }
};

class WorkersTest : public LeakCheckedTest, public ::testing::WithParamInterface<std::size_t> {
 protected:
  RuntimeOptions options() const {
    RuntimeOptions o;
    o.worker_count = GetParam();
    return o;
  }
};

inline std::string workers_name(const ::testing::TestParamInfo<std::size_t>& info) {
  return "workers" + std::to_string(info.param);
}

}  // namespace boc::test
