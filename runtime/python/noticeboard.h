// The noticeboard: a small process-wide key/value table (at most 64 entries,
// keys of at most 63 UTF-8 bytes) that behaviors read as a frozen snapshot
// and write through one mutator thread, so writes apply in order and
// notice_update never loses an update. Values are parcels, so cown handles
// stored in an entry stay alive with the entry.
#pragma once

#include <Python.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "parcel.h"

namespace boc::py {

inline constexpr std::size_t kNoticeboardCapacity = 64;
inline constexpr std::size_t kNoticeKeyMaxBytes = 63;

class Noticeboard {
 public:
  static Noticeboard& instance();

  /// Queues a write / delete / update for the mutator thread (starting it on
  /// first use). Never blocks on the mutator.
  void post_write(std::string key, Parcel value);
  void post_delete(std::string key);
  /// fn and default are encoded in the caller; the mutator decodes them in
  /// the main interpreter, computes fn(current or default) and stores it.
  void post_update(std::string key, Parcel fn, Parcel default_value);

  /// Synchronous write from the calling thread (notice_seed). False with a
  /// Python error if the table is full.
  bool seed(const std::string& key, Parcel value);

  /// Copies of every entry in insertion order, with the version they belong to.
  std::vector<std::pair<std::string, Parcel>> snapshot(std::uint64_t* version) const;
  std::uint64_t version() const noexcept;

  /// Blocks (call with the GIL released) until every posted mutation applied.
  void flush();
  /// The same, giving up after `timeout`; false if mutations are still pending.
  bool flush_for(std::chrono::nanoseconds timeout);
  /// Drops every entry (runtime teardown, `_core.noticeboard_clear`).
  void clear();

  /// True on the mutator thread (where an update's fn runs).
  bool on_mutator_thread() const noexcept;
  /// Mutator thread only (`_core.noticeboard_write_direct` / `noticeboard_delete`
  /// from inside an update's fn): applies at once. False if the table is full.
  bool write_direct(const std::string& key, Parcel value);
  void delete_direct(const std::string& key);
  /// Flushes and joins the mutator thread (call with the GIL released).
  void stop();

 private:
  struct Op {
    enum class Kind { kWrite, kDelete, kUpdate } kind;
    std::string key;
    Parcel value;  // write: the value; update: the function
    Parcel extra;  // update: the default
  };

  Noticeboard() = default;
  void post(Op op);
  void mutator_main();
  void apply(Op& op);
  /// Stores value under key (table mutex held by the caller). False if full.
  bool store_locked(const std::string& key, Parcel value);

  mutable std::mutex table_mu_;
  std::vector<std::pair<std::string, Parcel>> entries_;
  std::uint64_t version_ = 0;  // guarded by table_mu_

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::condition_variable idle_cv_;
  std::deque<Op> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread mutator_;
};

/// Validates a key (str, no NUL, <= 63 UTF-8 bytes) and returns it; sets
/// TypeError/ValueError and returns false otherwise.
bool notice_key(PyObject* obj, std::string& out);

/// Re-arms the calling thread's snapshot cache (each behavior start).
void rearm_noticeboard_cache() noexcept;
/// Drops the calling thread's cached snapshot (GIL of its interpreter held).
void clear_noticeboard_cache() noexcept;

/// Runtime teardown (main, GIL held): stops the mutator, empties the board
/// and drops this thread's cached view.
void teardown_noticeboard();

/// Adds notice_* functions and REMOVED handling to the _core module.
int add_noticeboard_functions(PyObject* module);

}  // namespace boc::py
