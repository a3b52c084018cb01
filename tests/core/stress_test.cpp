// Stress invariants over many random request sets and worker counts: no lost
// update (bank transfers keep the total) and no deadlock (random sets with
// duplicates and groups always finish).
#include <numeric>
#include <random>

#include "test_support.h"

namespace boc::test {
namespace {

using namespace std::chrono_literals;

struct StressParam {
  std::size_t workers;
  unsigned seed;
};

class StressTest : public LeakCheckedTest, public ::testing::WithParamInterface<StressParam> {};

TEST_P(StressTest, BankTransfersKeepTheTotal) {
  RuntimeOptions o;
  o.worker_count = GetParam().workers;
  Runtime rt(o);
  constexpr int kAccounts = 64;
  constexpr int kTransfers = sized(100'000, 300);
  constexpr long kInitial = 1000;
  std::vector<CownPtr<long>> accounts;
  for (int i = 0; i < kAccounts; ++i) accounts.push_back(make_cown<long>(kInitial));
  auto ops = make_cown<long>(0);
  std::mt19937 rng(GetParam().seed);
  std::vector<long> expected(kAccounts, kInitial);
  for (int t = 0; t < kTransfers; ++t) {
    const int from = static_cast<int>(rng() % kAccounts);
    const int to = static_cast<int>(rng() % kAccounts);
    const long amount = static_cast<long>(rng() % 50);
    // Sequential oracle: per-account FIFO from one scheduling thread makes the
    // final balances deterministic, not just the total.
    if (from != to) {
      expected[from] -= amount;
      expected[to] += amount;
    }
    when(accounts[from], accounts[to], [amount, same = from == to](long& a, long& b) {
      if (same) return;
      a -= amount;
      b += amount;
    });
  }
  ASSERT_TRUE(rt.quiesce(300s)) << "deadlock or lost wake-up";
  long total = 0;
  for (int i = 0; i < kAccounts; ++i) {
    total += accounts[i]->value();
    EXPECT_EQ(accounts[i]->value(), expected[i]) << "account " << i;
  }
  EXPECT_EQ(total, kInitial * kAccounts);
}

TEST_P(StressTest, RandomRequestSetsNeverDeadlock) {
  RuntimeOptions o;
  o.worker_count = GetParam().workers;
  Runtime rt(o);
  constexpr int kCowns = 16;
  constexpr int kBehaviors = sized(5000, 200);
  std::vector<CownPtr<Slot>> cowns;
  for (int i = 0; i < kCowns; ++i) cowns.push_back(make_cown<Slot>());
  std::mt19937 rng(GetParam().seed);
  std::vector<long> expected(kCowns, 0);
  std::atomic<int> violations{0};
  for (int n = 0; n < kBehaviors; ++n) {
    // Up to 6 entries, duplicates allowed, listed in random order (a "group"
    // is just more cowns in the set at this level).
    const int k = 1 + static_cast<int>(rng() % 6);
    std::vector<CownBase*> set;
    std::vector<int> idx;
    for (int j = 0; j < k; ++j) {
      const int i = static_cast<int>(rng() % kCowns);
      set.push_back(cowns[i].get());
      idx.push_back(i);
    }
    std::sort(idx.begin(), idx.end());
    idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
    for (int i : idx) ++expected[i];
    std::vector<Slot*> slots;
    for (int i : idx) slots.push_back(&cowns[i]->value());
    // Some behaviors schedule a follow-up from inside the body.
    const bool nested = rng() % 8 == 0;
    const int extra = static_cast<int>(rng() % kCowns);
    if (nested) ++expected[extra];
    schedule_fn(rt, set, [slots, &violations, nested, extra, &rt, &cowns] {
      for (Slot* s : slots)
        if (s->holders.fetch_add(1) != 0) ++violations;
      for (Slot* s : slots) ++s->value;
      for (Slot* s : slots) s->holders.fetch_sub(1);
      if (nested) {
        Slot* e = &cowns[extra]->value();
        schedule_fn(rt, {cowns[extra].get()}, [e] { ++e->value; });
      }
    });
  }
  ASSERT_TRUE(rt.quiesce(300s)) << "deadlock";
  EXPECT_EQ(violations.load(), 0);
  for (int i = 0; i < kCowns; ++i) EXPECT_EQ(cowns[i]->value().value, expected[i]) << "cown " << i;
}

TEST_P(StressTest, MixedPinnedAndWorkerSetsUnderQuiesce) {
  RuntimeOptions o;
  o.worker_count = GetParam().workers;
  o.wait_pump_poll = 2ms;
  Runtime rt(o);
  std::vector<CownPtr<long>> cowns;
  for (int i = 0; i < 8; ++i) cowns.push_back(i < 2 ? make_pinned_cown<long>(0) : make_cown<long>(0));
  std::mt19937 rng(GetParam().seed);
  std::vector<long> expected(cowns.size(), 0);
  const std::uint64_t main_key = this_thread_key();
  std::atomic<int> wrong_thread{0};
  for (int n = 0; n < sized(3000, 150); ++n) {
    const std::size_t a = rng() % cowns.size();
    const std::size_t b = rng() % cowns.size();
    ++expected[a];
    if (b != a) ++expected[b];
    const bool pinned = a < 2 || b < 2;
    when(cowns[a], cowns[b], [pinned, main_key, &wrong_thread, same = a == b](long& x, long& y) {
      if (pinned != (this_thread_key() == main_key)) ++wrong_thread;
      ++x;
      if (!same) ++y;
    });
  }
  ASSERT_TRUE(rt.quiesce(300s));
  EXPECT_EQ(wrong_thread.load(), 0);
  for (std::size_t i = 0; i < cowns.size(); ++i) EXPECT_EQ(cowns[i]->value(), expected[i]);
}

std::vector<StressParam> stress_params() {
  std::vector<StressParam> out;
  for (std::size_t w : {1, 2, 4, 8})
    for (unsigned seed : {1u, 7u, 1234u}) out.push_back({w, seed});
  return out;
}

INSTANTIATE_TEST_SUITE_P(WorkersAndSeeds, StressTest, ::testing::ValuesIn(stress_params()),
                         [](const ::testing::TestParamInfo<StressParam>& p) {
                           return "workers" + std::to_string(p.param.workers) + "_seed" + std::to_string(p.param.seed);
                         });

}  // namespace
}  // namespace boc::test
