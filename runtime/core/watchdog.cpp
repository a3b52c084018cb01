#include "boc/watchdog.h"

#include <cstdio>

namespace boc {

std::string format_starvation_message(std::int64_t age_ms, std::size_t depth) {
  return "pinned-cown queue non-empty for " + std::to_string(age_ms) +
         " ms with no pump() progress (depth=" + std::to_string(depth) + ")";
}

namespace {
void default_sink(const StarvationReport& report) {
  std::fprintf(stderr, "WARNING:bocpy.pump:%s\n", report.message.c_str());
}
}  // namespace

Watchdog::Watchdog(std::shared_ptr<Clock> clock, Probe probe) : clock_(std::move(clock)), probe_(std::move(probe)) {}

Watchdog::~Watchdog() { stop(); }

void Watchdog::configure(std::optional<std::chrono::milliseconds> warn, Sink sink,
                         std::chrono::milliseconds monitor_period) {
  bool start_monitor = false;
  {
    std::lock_guard lock(mu_);
    warn_ns_ = warn ? std::chrono::duration_cast<std::chrono::nanoseconds>(*warn).count() : 0;
    if (warn_ns_ < 0) warn_ns_ = 0;
    sink_ = sink ? std::make_shared<Sink>(std::move(sink)) : nullptr;
    monitor_period_ = monitor_period.count() > 0 ? monitor_period : std::chrono::hours(24 * 365);
    // Relaxed: readers re-check under mu_ before reporting (see sample()).
    enabled_.store(warn_ns_ > 0, std::memory_order_relaxed);
    start_monitor = warn_ns_ > 0 && monitor_period.count() > 0;
  }
  std::lock_guard lock(monitor_mu_);
  if (start_monitor && !monitor_.joinable() && !monitor_stop_) {
    monitor_ = detail::Thread([this] { monitor_loop(); });
  }
  monitor_cv_.notify_all();
}

std::optional<std::chrono::milliseconds> Watchdog::warn_threshold() const {
  std::lock_guard lock(mu_);
  if (warn_ns_ == 0) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(warn_ns_));
}

bool Watchdog::sample(bool from_monitor) noexcept {
  // Relaxed: the fast path when disabled; a stale true is re-checked below.
  if (!enabled_.load(std::memory_order_relaxed)) return false;
  StarvationReport report;
  std::shared_ptr<Sink> sink;
  {
    std::lock_guard lock(mu_);
    if (warn_ns_ == 0) return false;
    const PinnedQueueState state = probe_();
    if (state.depth == 0 || state.nonempty_since_ns == 0) return false;
    if (state.episode == reported_episode_) return false;  // once per episode
    const std::int64_t age_ns = clock_->now_ns() - state.nonempty_since_ns;
    if (age_ns < warn_ns_) return false;
    reported_episode_ = state.episode;
    report.age_ms = age_ns / 1'000'000;
    report.depth = state.depth;
    report.episode = state.episode;
    report.from_monitor = from_monitor;
    report.message = format_starvation_message(report.age_ms, report.depth);
    sink = sink_;
  }
  // Relaxed: statistics.
  reports_.fetch_add(1, std::memory_order_relaxed);
  // The sink runs outside the lock so it may reconfigure the watchdog.
  try {
    if (sink) {
      (*sink)(report);
    } else {
      default_sink(report);
    }
  } catch (...) {
    // The watchdog only observes: a failing sink must not disturb the pump.
    // Relaxed: statistic.
    sink_failures_.fetch_add(1, std::memory_order_relaxed);
  }
  return true;
}

void Watchdog::monitor_loop() {
  std::unique_lock lock(monitor_mu_);
  while (!monitor_stop_) {
    std::chrono::milliseconds period;
    {
      std::lock_guard cfg(mu_);
      period = monitor_period_;
    }
    monitor_cv_.wait_for(lock, period);
    if (monitor_stop_) break;
    lock.unlock();
    sample(/*from_monitor=*/true);
    // Relaxed: statistic (tests poll it; the report itself goes through mu_).
    monitor_samples_.fetch_add(1, std::memory_order_relaxed);
    lock.lock();
  }
}

void Watchdog::stop() noexcept {
  {
    std::lock_guard lock(monitor_mu_);
    monitor_stop_ = true;
  }
  monitor_cv_.notify_all();
  if (monitor_.joinable() && monitor_.get_id() != std::this_thread::get_id()) monitor_.join();
}

}  // namespace boc
