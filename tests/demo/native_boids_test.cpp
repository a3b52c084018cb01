// NativeBoids: determinism, speed limits, soft bounds, and the NativeDriver contract.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "sim/native_boids.h"
#include "sim/native_driver.h"

namespace boc::demo {
namespace {

constexpr float kDt = 1.0f / 60.0f;

std::vector<float> run(std::size_t count, std::uint64_t seed, int steps, const FlockParams& params = {}) {
  NativeBoids boids;
  boids.reset(count, seed, params);
  for (int i = 0; i < steps; ++i) boids.step(params, kDt);
  return {boids.state().begin(), boids.state().end()};
}

TEST(NativeBoids, SameSeedIsBitIdenticalAfter200Steps) {
  const std::vector<float> a = run(1500, 7, 200);
  const std::vector<float> b = run(1500, 7, 200);
  ASSERT_EQ(a.size(), 1500u * NativeBoids::kStride);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

TEST(NativeBoids, DifferentSeedsDiffer) {
  const std::vector<float> a = run(200, 1, 0);
  const std::vector<float> b = run(200, 2, 0);
  EXPECT_NE(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

TEST(NativeBoids, StateIsFiniteAndMoves) {
  const std::vector<float> start = run(500, 3, 0);
  const std::vector<float> later = run(500, 3, 60);
  for (float v : later) ASSERT_TRUE(std::isfinite(v));
  EXPECT_NE(std::memcmp(start.data(), later.data(), start.size() * sizeof(float)), 0);
}

TEST(NativeBoids, SpeedLimitsHoldEveryStep) {
  FlockParams params;
  params.min_speed = 50.0f;
  params.max_speed = 150.0f;
  params.separation = 4.0f;  // strong forces to push against the limits
  params.cohesion = 4.0f;
  NativeBoids boids;
  boids.reset(2000, 11, params);
  for (int step = 0; step < 200; ++step) {
    boids.step(params, kDt);
    const auto s = boids.state();
    for (std::size_t i = 0; i < boids.size(); ++i) {
      const float vx = s[i * NativeBoids::kStride + 2];
      const float vy = s[i * NativeBoids::kStride + 3];
      const float speed = std::sqrt(vx * vx + vy * vy);
      ASSERT_GE(speed, params.min_speed * 0.999f) << "boid " << i << " step " << step;
      ASSERT_LE(speed, params.max_speed * 1.001f) << "boid " << i << " step " << step;
    }
  }
}

TEST(NativeBoids, SoftBoundsKeepBoidsInsideAnExpandedBox) {
  FlockParams params;  // defaults: margin 80, turn 600, max speed 200
  NativeBoids boids;
  boids.reset(3000, 5, params);
  // Worst case overshoot past an edge: entering the margin at max speed, the turn needs
  // v^2 / (2 * turn) to cancel the outward speed, and it only starts at full strength at the edge.
  const float slack = params.max_speed * params.max_speed / (2.0f * params.bounds_turn) + params.bounds_margin;
  for (int step = 0; step < 600; ++step) {
    boids.step(params, kDt);
    const auto s = boids.state();
    for (std::size_t i = 0; i < boids.size(); ++i) {
      const float x = s[i * NativeBoids::kStride + 0];
      const float y = s[i * NativeBoids::kStride + 1];
      ASSERT_GE(x, -slack) << "boid " << i << " step " << step;
      ASSERT_LE(x, params.world_w + slack) << "boid " << i << " step " << step;
      ASSERT_GE(y, -slack) << "boid " << i << " step " << step;
      ASSERT_LE(y, params.world_h + slack) << "boid " << i << " step " << step;
    }
  }
}

TEST(NativeBoids, InitialStateIsInsideTheBoxAtLegalSpeeds) {
  FlockParams params;
  NativeBoids boids;
  boids.reset(1000, 9, params);
  const auto s = boids.state();
  for (std::size_t i = 0; i < boids.size(); ++i) {
    const float* b = &s[i * NativeBoids::kStride];
    EXPECT_GE(b[0], 0.0f);
    EXPECT_LE(b[0], params.world_w);
    EXPECT_GE(b[1], 0.0f);
    EXPECT_LE(b[1], params.world_h);
    const float speed = std::sqrt(b[2] * b[2] + b[3] * b[3]);
    EXPECT_GE(speed, params.min_speed * 0.999f);
    EXPECT_LE(speed, params.max_speed * 1.001f);
  }
}

TEST(NativeBoids, HandlesZeroAndOneBoid) {
  FlockParams params;
  NativeBoids boids;
  boids.reset(0, 1, params);
  boids.step(params, kDt);
  EXPECT_EQ(boids.size(), 0u);
  boids.reset(1, 1, params);
  for (int i = 0; i < 10; ++i) boids.step(params, kDt);
  EXPECT_EQ(boids.size(), 1u);
}

TEST(XorShift64, UnitIsInRangeAndSeeded) {
  XorShift64 a(0);
  XorShift64 b(0);
  XorShift64 c(1);
  bool any_diff = false;
  for (int i = 0; i < 1000; ++i) {
    const float va = a.next_unit();
    EXPECT_GE(va, 0.0f);
    EXPECT_LT(va, 1.0f);
    EXPECT_EQ(va, b.next_unit());
    any_diff |= va != c.next_unit();
  }
  EXPECT_TRUE(any_diff);
}

// A CPU-side sink that records what the driver wrote.
class RecordingSink final : public InstanceSink {
 public:
  void write_instances(const float* xyvv, std::size_t count) override {
    data.assign(xyvv, xyvv + count * 4);
    ++writes;
  }
  void write_instance_range(std::size_t first, const float* xyvv, std::size_t count) override {
    if (data.size() < (first + count) * 4) data.resize((first + count) * 4);
    std::memcpy(data.data() + first * 4, xyvv, count * 4 * sizeof(float));
  }
  std::size_t instance_count() const override { return data.size() / 4; }

  std::vector<float> data;
  int writes = 0;
};

TEST(NativeDriver, PumpIsEmptyAndStepWritesTheSink) {
  NativeDriver driver;
  RecordingSink sink;
  FlockSetup setup;
  setup.boids = 300;
  setup.seed = 4;
  driver.attach_sink(&sink);
  driver.reset(setup);
  EXPECT_EQ(sink.instance_count(), 300u);

  const PumpFrame pump = driver.pump(PumpSettings{});
  EXPECT_EQ(pump.executed, 0u);
  EXPECT_FALSE(pump.deadline_reached);
  EXPECT_EQ(pump.raised, 0u);

  const int writes_before = sink.writes;
  driver.step(StepRequest{setup.params, 1.0 / 60.0, DispatchMode::kCoarse});
  EXPECT_EQ(sink.writes, writes_before + 1);
  ASSERT_EQ(sink.data.size(), 300u * 4);
  EXPECT_EQ(std::memcmp(sink.data.data(), driver.boids().state().data(), sink.data.size() * sizeof(float)), 0);

  const RuntimeSnapshot snap = driver.snapshot();
  EXPECT_EQ(snap.boids, 300u);
  EXPECT_EQ(snap.workers, 0u);
  EXPECT_EQ(snap.pinned_depth, 0u);
  EXPECT_EQ(snap.pinned_age_ms, 0.0);
  EXPECT_TRUE(driver.drain_watchdog_events().empty());
  EXPECT_TRUE(driver.drain_errors().empty());

  driver.attach_sink(nullptr);
  driver.step(StepRequest{});  // must not touch the detached sink
  EXPECT_EQ(sink.writes, writes_before + 1);
}

}  // namespace
}  // namespace boc::demo
