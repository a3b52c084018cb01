#include "messaging.h"

namespace boc::py {

MessageQueues& MessageQueues::instance() {
  static MessageQueues* q = new MessageQueues();  // never destroyed: used at exit
  return *q;
}

int MessageQueues::find_locked(const std::string& tag) const {
  for (std::size_t i = 0; i < kMessageQueues; ++i) {
    if (queues_[i].bound && queues_[i].tag == tag) return static_cast<int>(i);
  }
  return -1;
}

bool MessageQueues::lock_contended(std::unique_lock<std::mutex>& lock) {
  lock = std::unique_lock(mu_, std::try_to_lock);
  if (lock.owns_lock()) return false;
  lock.lock();
  return true;
}

int MessageQueues::queue_for(const std::string& tag) {
  std::lock_guard lock(mu_);
  int i = find_locked(tag);
  if (i >= 0) return i;
  for (std::size_t k = 0; k < kMessageQueues; ++k) {
    if (!queues_[k].bound) {
      queues_[k].bound = true;
      queues_[k].tag = tag;
      return static_cast<int>(k);
    }
  }
  return -1;
}

MessageQueues::SendStatus MessageQueues::send(const std::string& tag, Parcel message) {
  const int i = queue_for(tag);
  if (i < 0) return SendStatus::kNoQueue;
  {
    std::unique_lock<std::mutex> lock;
    const bool contended = lock_contended(lock);
    Queue& q = queues_[i];
    if (contended) ++q.enqueue_contended;
    if (q.messages.size() >= kMessageQueueCapacity) return SendStatus::kFull;
    q.messages.push_back(std::move(message));
    ++q.pushed;
  }
  cv_.notify_all();
  return SendStatus::kOk;
}

std::optional<std::size_t> MessageQueues::receive(const std::vector<std::string>& tags, Parcel& out,
                                                  std::chrono::nanoseconds slice) {
  std::vector<int> ids;
  for (const std::string& t : tags) ids.push_back(queue_for(t));
  std::unique_lock<std::mutex> lock;
  bool contended = lock_contended(lock);
  auto pop = [&]() -> std::optional<std::size_t> {
    for (std::size_t k = 0; k < ids.size(); ++k) {
      if (ids[k] < 0) continue;
      Queue& q = queues_[ids[k]];
      if (!q.messages.empty() && q.tag == tags[k]) {
        out = std::move(q.messages.front());
        q.messages.pop_front();
        ++q.popped;
        if (contended) ++q.dequeue_contended;
        return k;
      }
    }
    return std::nullopt;
  };
  if (auto got = pop()) return got;
  cv_.wait_for(lock, slice);
  contended = false;  // the wake-up re-locks: not a receive meeting a held lock
  return pop();
}

void MessageQueues::drain(const std::vector<std::string>& tags) {
  std::deque<Parcel> dropped;
  {
    std::lock_guard lock(mu_);
    for (const std::string& t : tags) {
      const int i = find_locked(t);
      if (i >= 0) {
        for (auto& m : queues_[i].messages) dropped.push_back(std::move(m));
        queues_[i].messages.clear();
      }
    }
  }
  cv_.notify_all();
}

void MessageQueues::set_tags(const std::vector<std::string>& tags) {
  std::deque<Parcel> dropped;
  {
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < kMessageQueues; ++i) {
      for (auto& m : queues_[i].messages) dropped.push_back(std::move(m));
      queues_[i].messages.clear();
      queues_[i].bound = i < tags.size();
      queues_[i].tag = i < tags.size() ? tags[i] : std::string();
    }
  }
  cv_.notify_all();
}

std::vector<MessageQueueStats> MessageQueues::stats() {
  std::vector<MessageQueueStats> out;
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < kMessageQueues; ++i) {
    const Queue& q = queues_[i];
    if (!q.bound) continue;
    out.push_back({i, q.tag, q.pushed, q.popped, q.enqueue_contended, q.dequeue_contended});
  }
  return out;
}

}  // namespace boc::py
