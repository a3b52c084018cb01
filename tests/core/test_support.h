// Helpers shared by the core tests: a behavior over an arbitrary request set
// and a fixture that checks nothing leaks.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "boc/boc.h"

namespace boc::test {

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

/// Every test ends with no behavior alive (leak check, marl-style).
class LeakCheckedTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_EQ(Behavior::live_count(), 0u) << "behaviors leaked"; }
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
