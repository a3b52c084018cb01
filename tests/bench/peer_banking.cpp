// Our port of verona-rt's test/perf/banking workload onto boc::when, written
// from its description (not its code), with the same arguments:
//   --cores N       workers, and also the number of Worker cowns (as the peer)
//   --num_trans N   transfers in total, split over the Worker cowns
//   --work_usec N   busy-wait inside each transfer
//   --accounts N    account cowns
// Each Worker cown runs a self-rescheduling job: pick two distinct random
// accounts, schedule a transfer over both (which then schedules a log entry
// on the one shared log cown), and schedule its own next step. Prints the
// wall time and behaviors per second; tests/bench/compare_peers.sh times the
// whole process the same way as the peer's.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string_view>
#include <vector>

#include "boc/boc.h"
#include "peer_args.h"

namespace {

struct Account {
  std::int64_t balance;
  std::int64_t overdraft;
  std::size_t id;
};

struct Log {};

using Accounts = std::vector<boc::CownPtr<Account>>;

struct Worker {
  std::shared_ptr<Accounts> accounts;
  bench::Rng rng;
};

std::size_t g_accounts = 36;
std::size_t g_work_usec = 0;

void log(const boc::CownPtr<Log>& l, std::string_view) {
  boc::when_detached(l, [](Log&) {});
}

void bank_job(Worker& w, const boc::CownPtr<Worker>& self, const boc::CownPtr<Log>& l, std::size_t repeats) {
  const std::size_t from = w.rng.next() % g_accounts;
  std::size_t to = from;
  while (to == from) to = w.rng.next() % g_accounts;
  const std::int64_t amount = 100;
  Accounts& accounts = *w.accounts;
  boc::when_detached(accounts[from], accounts[to], [l, amount](Account& a, Account& b) {
    bench::busy_loop(g_work_usec);
    if (a.balance + a.overdraft < amount) {
      log(l, "Insufficient funds");
      return;
    }
    a.balance -= amount;
    b.balance += amount;
    log(l, "Success");
  });
  if (repeats > 0) {
    boc::when_detached(self, [self, l, repeats](Worker& next) { bank_job(next, self, l, repeats - 1); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args args(argc, argv);
  const std::size_t cores = args.get("--cores", 4);
  const std::size_t trans = args.get("--num_trans", 50);
  g_work_usec = args.get("--work_usec", 1000);
  g_accounts = args.get("--accounts", 36);
  const std::size_t workers = cores;  // the peer reuses --cores as the Worker cown count

  const auto t0 = std::chrono::steady_clock::now();
  {
    boc::RuntimeOptions o;
    o.worker_count = cores;
    boc::Runtime rt(o);
    auto l = boc::make_cown<Log>();
    auto accounts = std::make_shared<Accounts>();
    for (std::size_t i = 0; i < g_accounts; ++i) accounts->push_back(boc::make_cown<Account>(Account{100, 100, i}));
    for (std::size_t j = 0; j < workers; ++j) {
      auto w = boc::make_cown<Worker>(Worker{accounts, bench::Rng(j + 1)});
      boc::when_detached(w, [w, l, trans, workers](Worker& self) { bank_job(self, w, l, trans / workers); });
    }
    rt.quiesce();
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Three behaviors per transfer: the transfer, its log entry, the next job step.
  std::printf("banking cores=%zu trans=%zu work_usec=%zu time=%.3fs behaviors_per_s=%.0f\n", cores, trans, g_work_usec,
              s, 3.0 * static_cast<double>(trans) / s);
  return 0;
}
