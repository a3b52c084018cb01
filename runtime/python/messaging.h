// Tagged message queues (bocpy's send / receive / drain / set_tags): 16
// process-wide FIFO queues of at most 16384 messages each; a tag is bound to a
// free queue the first time it is used. Messages are parcels, so they cross
// interpreters like cown values. Usable from any thread and any interpreter.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "parcel.h"

namespace boc::py {

inline constexpr std::size_t kMessageQueues = 16;
inline constexpr std::size_t kMessageQueueCapacity = 16384;

/// One bound queue's cumulative counters (bocpy's queue_stats()); never reset,
/// not even by drain() or set_tags().
struct MessageQueueStats {
  std::size_t index = 0;
  std::string tag;
  std::uint64_t pushed_total = 0;       ///< messages sent to it
  std::uint64_t popped_total = 0;       ///< messages received from it (not those drained)
  std::uint64_t enqueue_contended = 0;  ///< sends that found the queues' lock held
  std::uint64_t dequeue_contended = 0;  ///< receives from it that found the queues' lock held
};

class MessageQueues {
 public:
  enum class SendStatus { kOk, kFull, kNoQueue };

  static MessageQueues& instance();

  /// The queue bound to tag (binding a free one if needed), or -1 if all 16
  /// are taken by other tags.
  int queue_for(const std::string& tag);
  SendStatus send(const std::string& tag, Parcel message);
  /// Pops the oldest message of the first tag that has one, waiting at most
  /// `slice` (call with the GIL released). Returns the index in `tags`.
  std::optional<std::size_t> receive(const std::vector<std::string>& tags, Parcel& out, std::chrono::nanoseconds slice);
  void drain(const std::vector<std::string>& tags);
  /// Binds tags[i] to queue i, drops every queued message, frees the rest.
  void set_tags(const std::vector<std::string>& tags);
  /// The counters of the queues bound to a tag, by index.
  std::vector<MessageQueueStats> stats();

 private:
  struct Queue {
    std::string tag;
    bool bound = false;
    std::deque<Parcel> messages;
    // Guarded by mu_.
    std::uint64_t pushed = 0;
    std::uint64_t popped = 0;
    std::uint64_t enqueue_contended = 0;
    std::uint64_t dequeue_contended = 0;
  };
  MessageQueues() = default;
  int find_locked(const std::string& tag) const;
  /// Locks mu_; true if another thread held it.
  bool lock_contended(std::unique_lock<std::mutex>& lock);

  std::mutex mu_;
  std::condition_variable cv_;
  Queue queues_[kMessageQueues];
};

/// Adds send / receive / drain / set_tags / TIMEOUT to the _core module.
int add_messaging_functions(PyObject* module);

}  // namespace boc::py
