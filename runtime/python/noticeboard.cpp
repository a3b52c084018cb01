#include "noticeboard.h"

#include "py_compat.h"

namespace boc::py {
namespace {

// Logs a warning on logger "behaviors" (the mutator's failures never reach
// the writer, as in bocpy). Takes the main GIL if needed.
void log_warning(const std::string& text) {
  if (!Py_IsInitialized()) return;
  const bool have_gil = holds_main_gil();
  PyGILState_STATE g{};
  if (!have_gil) g = PyGILState_Ensure();
  PyObject* saved = PyErr_GetRaisedException();
  PyObject* logging = PyImport_ImportModule("logging");
  PyObject* logger = logging != nullptr ? PyObject_CallMethod(logging, "getLogger", "s", "behaviors") : nullptr;
  PyObject* r = logger != nullptr ? PyObject_CallMethod(logger, "warning", "s", text.c_str()) : nullptr;
  if (r == nullptr) PyErr_Clear();
  Py_XDECREF(r);
  Py_XDECREF(logger);
  Py_XDECREF(logging);
  PyErr_SetRaisedException(saved);
  if (!have_gil) PyGILState_Release(g);
}

std::string describe_error() {
  PyObject* exc = PyErr_GetRaisedException();
  if (exc == nullptr) return "unknown error";
  PyObject* s = PyObject_Str(exc);
  std::string out = Py_TYPE(exc)->tp_name;
  if (s != nullptr) {
    const char* c = PyUnicode_AsUTF8(s);
    if (c != nullptr && *c != '\0') out += std::string(": ") + c;
  }
  PyErr_Clear();
  Py_XDECREF(s);
  Py_DECREF(exc);
  return out;
}

}  // namespace

Noticeboard& Noticeboard::instance() {
  static Noticeboard* nb = new Noticeboard();  // never destroyed: used at exit
  return *nb;
}

void Noticeboard::post(Op op) {
  std::lock_guard lock(queue_mu_);
  if (!mutator_.joinable()) {
    stopping_ = false;
    mutator_ = std::thread([this] { mutator_main(); });
  }
  queue_.push_back(std::move(op));
  queue_cv_.notify_one();
}

void Noticeboard::post_write(std::string key, Parcel value) {
  post(Op{Op::Kind::kWrite, std::move(key), std::move(value), Parcel()});
}

void Noticeboard::post_delete(std::string key) { post(Op{Op::Kind::kDelete, std::move(key), Parcel(), Parcel()}); }

void Noticeboard::post_update(std::string key, Parcel fn, Parcel default_value) {
  post(Op{Op::Kind::kUpdate, std::move(key), std::move(fn), std::move(default_value)});
}

bool Noticeboard::store_locked(const std::string& key, Parcel value) {
  for (auto& [k, v] : entries_) {
    if (k == key) {
      v = std::move(value);
      ++version_;
      return true;
    }
  }
  if (entries_.size() >= kNoticeboardCapacity) return false;
  entries_.emplace_back(key, std::move(value));
  ++version_;
  return true;
}

bool Noticeboard::seed(const std::string& key, Parcel value) {
  std::lock_guard lock(table_mu_);
  if (!store_locked(key, std::move(value))) {
    PyErr_Format(PyExc_RuntimeError, "Noticeboard is full (max %zu)", kNoticeboardCapacity);
    return false;
  }
  return true;
}

std::vector<std::pair<std::string, Parcel>> Noticeboard::snapshot(std::uint64_t* version) const {
  std::lock_guard lock(table_mu_);
  std::vector<std::pair<std::string, Parcel>> out;
  out.reserve(entries_.size());
  for (const auto& [k, v] : entries_) out.emplace_back(k, v.clone());
  if (version != nullptr) *version = version_;
  return out;
}

std::uint64_t Noticeboard::version() const noexcept {
  std::lock_guard lock(table_mu_);
  return version_;
}

void Noticeboard::apply(Op& op) {
  switch (op.kind) {
    case Op::Kind::kWrite: {
      bool ok;
      {
        std::lock_guard lock(table_mu_);
        ok = store_locked(op.key, std::move(op.value));
      }
      if (!ok) {
        log_warning("noticeboard_write('" + op.key + "') failed: Noticeboard is full (max " +
                    std::to_string(kNoticeboardCapacity) + ")");
      }
      break;
    }
    case Op::Kind::kDelete: {
      std::lock_guard lock(table_mu_);
      for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->first == op.key) {
          entries_.erase(it);  // compacts, keeping insertion order
          ++version_;
          break;
        }
      }
      break;
    }
    case Op::Kind::kUpdate: {
      // fn runs on this single mutator thread, in the main interpreter.
      if (!Py_IsInitialized()) return;
      PyGILState_STATE g = PyGILState_Ensure();
      Parcel current;
      bool found = false;
      {
        std::lock_guard lock(table_mu_);
        for (const auto& [k, v] : entries_) {
          if (k == op.key) {
            current = v.clone();
            found = true;
            break;
          }
        }
      }
      std::string failure;
      PyObject* fn = parcel_decode(op.value);
      PyObject* arg = fn != nullptr ? parcel_decode(found ? current : op.extra) : nullptr;
      PyObject* result = arg != nullptr ? PyObject_CallOneArg(fn, arg) : nullptr;
      if (result == nullptr) {
        failure = describe_error();
      } else {
        PyObject* sentinels = PyImport_ImportModule("bocpy._sentinels");
        PyObject* removed = sentinels != nullptr ? PyObject_GetAttrString(sentinels, "REMOVED") : nullptr;
        PyErr_Clear();
        if (removed != nullptr && result == removed) {
          std::lock_guard lock(table_mu_);
          for (auto it = entries_.begin(); it != entries_.end(); ++it) {
            if (it->first == op.key) {
              entries_.erase(it);
              ++version_;
              break;
            }
          }
        } else {
          Parcel encoded;
          if (!parcel_encode(result, encoded)) {
            failure = describe_error();
          } else {
            bool ok;
            {
              std::lock_guard lock(table_mu_);
              ok = store_locked(op.key, std::move(encoded));
            }
            if (!ok) failure = "Noticeboard is full (max " + std::to_string(kNoticeboardCapacity) + ")";
          }
        }
        Py_XDECREF(removed);
        Py_XDECREF(sentinels);
      }
      Py_XDECREF(result);
      Py_XDECREF(arg);
      Py_XDECREF(fn);
      // Parcels holding cowns are dropped while the GIL is held.
      current.clear();
      op.value.clear();
      op.extra.clear();
      PyGILState_Release(g);
      if (!failure.empty()) log_warning("notice_update('" + op.key + "') failed: " + failure);
      break;
    }
  }
}

void Noticeboard::mutator_main() {
  std::unique_lock lock(queue_mu_);
  for (;;) {
    queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping with nothing left
    Op op = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    apply(op);
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
  idle_cv_.notify_all();
}

void Noticeboard::flush() {
  std::unique_lock lock(queue_mu_);
  idle_cv_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

bool Noticeboard::flush_for(std::chrono::nanoseconds timeout) {
  std::unique_lock lock(queue_mu_);
  return idle_cv_.wait_for(lock, timeout, [this] { return queue_.empty() && !busy_; });
}

void Noticeboard::clear() {
  std::vector<std::pair<std::string, Parcel>> old;
  {
    std::lock_guard lock(table_mu_);
    old.swap(entries_);
    ++version_;
  }
}

bool Noticeboard::on_mutator_thread() const noexcept { return std::this_thread::get_id() == mutator_.get_id(); }

bool Noticeboard::write_direct(const std::string& key, Parcel value) {
  std::lock_guard lock(table_mu_);
  return store_locked(key, std::move(value));
}

void Noticeboard::delete_direct(const std::string& key) {
  Op op{Op::Kind::kDelete, key, {}, {}};
  apply(op);
}

void Noticeboard::stop() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
    queue_cv_.notify_all();
  }
  if (mutator_.joinable()) mutator_.join();
  std::lock_guard lock(queue_mu_);
  mutator_ = std::thread();
}

}  // namespace boc::py
