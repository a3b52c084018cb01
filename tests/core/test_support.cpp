// The seed of each systematic run (BOC_SYSTEMATIC builds): BOC_SYSTEMATIC_SEED
// (default 1) plus the --gtest_repeat iteration, mixed with the test's name, so
// one test replays alone from its failure's printed seed.
#include "test_support.h"

#include <cstdlib>

namespace boc::test {
namespace {

int g_iteration = 0;

class IterationListener : public ::testing::EmptyTestEventListener {
  void OnTestIterationStart(const ::testing::UnitTest&, int iteration) override { g_iteration = iteration; }
};

[[maybe_unused]] const bool g_listening = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new IterationListener);
  return true;
}();

std::string current_test_name() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (info == nullptr) return "";
  return std::string(info->test_suite_name()) + "." + info->name();
}

std::uint64_t base_seed() {
  const char* v = std::getenv("BOC_SYSTEMATIC_SEED");
  const std::uint64_t base = (v != nullptr && *v != '\0') ? std::strtoull(v, nullptr, 10) : 1;
  return base + static_cast<std::uint64_t>(g_iteration);
}

}  // namespace

std::uint64_t systematic_seed() {
  // FNV-1a over the test's name, then the base seed: each test gets its own
  // schedule for a given BOC_SYSTEMATIC_SEED, independent of test order.
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : current_test_name()) h = (h ^ c) * 0x100000001b3ULL;
  return h ^ (base_seed() * 0x9E3779B97F4A7C15ULL);
}

std::string systematic_reproducer() {
  const std::string seed = std::to_string(base_seed());
  return "BOC_SYSTEMATIC_SEED=" + seed + " reproduces: BOC_SYSTEMATIC_SEED=" + seed +
         " build/systematic/tests/core/core_test --gtest_filter='" + current_test_name() + "'";
}

}  // namespace boc::test
