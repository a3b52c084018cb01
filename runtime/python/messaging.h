// Tagged message queues (bocpy's send / receive / drain / set_tags): 16
// process-wide FIFO queues of at most 16384 messages each; a tag is bound to a
// free queue the first time it is used. Messages are parcels, so they cross
// interpreters like cown values. Usable from any thread and any interpreter.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "parcel.h"

namespace boc::py {

inline constexpr std::size_t kMessageQueues = 16;
inline constexpr std::size_t kMessageQueueCapacity = 16384;

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
  std::optional<std::size_t> receive(const std::vector<std::string>& tags, Parcel& out,
                                     std::chrono::nanoseconds slice);
  void drain(const std::vector<std::string>& tags);
  /// Binds tags[i] to queue i, drops every queued message, frees the rest.
  void set_tags(const std::vector<std::string>& tags);

 private:
  struct Queue {
    std::string tag;
    bool bound = false;
    std::deque<Parcel> messages;
  };
  MessageQueues() = default;
  int find_locked(const std::string& tag) const;

  std::mutex mu_;
  std::condition_variable cv_;
  Queue queues_[kMessageQueues];
};

/// Adds send / receive / drain / set_tags / TIMEOUT to the _core module.
int add_messaging_functions(PyObject* module);

}  // namespace boc::py
