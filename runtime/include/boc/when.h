// C++ sugar over the runtime: `boc::when(a, b, [](A& a, B& b) { ... })`
// schedules a behavior over cowns a and b on Runtime::current() and returns
// its result cown (holding the lambda's return value, or std::monostate for
// void, and the exception if the body threw). `boc::when_detached` is the
// same without a result cown.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "boc/behavior.h"
#include "boc/cown.h"
#include "boc/runtime.h"

namespace boc {
namespace detail {

template <class R>
using StoredResult = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

// Holds the body. A base class listed before Behavior, so the body is built
// (and may throw) before the Behavior base is. Built straight from the
// caller's lambda: one move (or copy) of it, not one per call layer. A lambda
// that captures a `const CownPtr<T>&` by copy has a const member, so each of
// its "moves" is a copy, an atomic retain and release on that cown: the job
// step of verona-rt's banking port (tests/bench/peer_banking.cpp) had 33
// locked instructions with a body passed by value through each layer, 17 now,
// most on the one log cown that both workers share (+21% at 2 workers).
template <class F>
struct BodyHolder {
  template <class G>
  explicit BodyHolder(G&& g) : f_(std::forward<G>(g)) {}
  F f_;
};

// The cowns a body receives, in argument order. The general case keeps
// them; a single cown is the behavior's only request, so it is read from
// there and the behavior is 8 bytes smaller (a one-cown when_detached
// behavior with a one-pointer body is one 64-byte pool class, behavior.h).
template <class... Ts>
struct ArgCowns {
  explicit ArgCowns(Cown<Ts>*... c) : cowns(c...) {}
  std::tuple<Cown<Ts>*...> get(const Behavior& /*b*/) const noexcept { return cowns; }
  std::tuple<Cown<Ts>*...> cowns;
};
template <class T>
struct ArgCowns<T> {
  explicit ArgCowns(Cown<T>* /*c*/) {}
  static std::tuple<Cown<T>*> get(const Behavior& b) noexcept { return {static_cast<Cown<T>*>(b.request_cown(0))}; }
};

template <class F, class... Ts>
class WhenBehavior final : private BodyHolder<F>, private InlineRequests<sizeof...(Ts) + 1>, public Behavior {
 public:
  using R = std::invoke_result_t<F&, Ts&...>;
  using Result = StoredResult<R>;

  // Borrows `all` (the cowns, then the result): when_on's caller holds them
  // until the behavior is scheduled, and the cowns' queues from then on.
  template <class G>
  WhenBehavior(std::span<CownBase* const> all, Cown<Result>* result, G&& f, Cown<Ts>*... args)
      : BodyHolder<F>(std::forward<G>(f)), Behavior(all, BorrowRefs{}, this->room()), result_(result), args_(args...) {}

  BodyResult run() override {
    try {
      std::apply(
          [this](auto*... c) {
            if constexpr (std::is_void_v<R>) {
              this->f_(c->value()...);
            } else {
              result_->value() = this->f_(c->value()...);
            }
          },
          args_);
      return {};
    } catch (const FatalError&) {
      result_->set_error(std::current_exception());
      return {BodyOutcome::kFatal, std::current_exception()};
    } catch (...) {
      result_->set_error(std::current_exception());
      return {BodyOutcome::kError, std::current_exception()};
    }
  }

  void cancel(std::string_view reason) override {
    result_->set_error(std::make_exception_ptr(std::runtime_error(std::string(reason))));
  }

 private:
  // Kept alive by the cowns' queues while the behavior is queued or running.
  Cown<Result>* result_;
  std::tuple<Cown<Ts>*...> args_;
};

// when_detached's behavior: no result cown. A body error still reaches
// pump() for pinned behaviors; on a worker it is dropped.
template <class F, class... Ts>
class DetachedBehavior final : private BodyHolder<F>, private InlineRequests<sizeof...(Ts)>, public Behavior {
 public:
  template <class G>
  DetachedBehavior(std::span<CownBase* const> all, G&& f, Cown<Ts>*... args)
      : BodyHolder<F>(std::forward<G>(f)), Behavior(all, BorrowRefs{}, this->room()), args_(args...) {}

  BodyResult run() override {
    try {
      std::apply([this](auto*... c) { (void)this->f_(c->value()...); }, args_.get(*this));
      return {};
    } catch (const FatalError&) {
      return {BodyOutcome::kFatal, std::current_exception()};
    } catch (...) {
      return {BodyOutcome::kError, std::current_exception()};
    }
  }

  void cancel(std::string_view) override {}

 private:
  [[no_unique_address]] ArgCowns<Ts...> args_;
};

// A cown argument: a CownPtr<T>, or a borrowed Cown<T>* (the caller keeps the
// cown alive during the call, e.g. a behavior scheduling on a cown it holds,
// as verona-rt's schedule_lambda(this, ...)). Either way the behavior takes no
// reference: the arguments outlive the call, the queues hold the cowns after.
template <class C>
struct CownArg;
template <class T>
struct CownArg<CownPtr<T>> {
  using Value = T;
  static Cown<T>* get(const CownPtr<T>& c) noexcept { return c.get(); }
};
template <class T>
struct CownArg<Cown<T>*> {
  using Value = T;
  static Cown<T>* get(Cown<T>* c) noexcept { return c; }
};
template <class C>
using CownArgOf = CownArg<std::remove_cvref_t<C>>;

// A null cown (an empty CownPtr) has no queue to wait on and no value to give
// the body: refused before anything is allocated.
template <class... Cs>
void check_cowns(const Cs&... cowns) {
  if (((CownArgOf<Cs>::get(cowns) == nullptr) || ...)) throw std::invalid_argument("boc::when: a cown is null");
}

template <class F, class... Cs>
auto when_on(Runtime& rt, F&& f, const Cs&... cowns) {
  check_cowns(cowns...);
  using B = WhenBehavior<std::decay_t<F>, typename CownArgOf<Cs>::Value...>;
  auto result = make_cown<typename B::Result>();
  // The result cown is part of the request set, so a behavior scheduled on it
  // runs strictly after this one (the "happens-after" idiom).
  std::array<CownBase*, sizeof...(Cs) + 1> all{static_cast<CownBase*>(CownArgOf<Cs>::get(cowns))..., result.get()};
  rt.schedule(std::unique_ptr<B>(
      new B(std::span<CownBase* const>(all), result.get(), std::forward<F>(f), CownArgOf<Cs>::get(cowns)...)));
  return result;
}

template <class F, class... Cs>
void when_detached_on(Runtime& rt, F&& f, const Cs&... cowns) {
  check_cowns(cowns...);
  using B = DetachedBehavior<std::decay_t<F>, typename CownArgOf<Cs>::Value...>;
  std::array<CownBase*, sizeof...(Cs)> all{static_cast<CownBase*>(CownArgOf<Cs>::get(cowns))...};
  rt.schedule(
      std::unique_ptr<B>(new B(std::span<CownBase* const>(all), std::forward<F>(f), CownArgOf<Cs>::get(cowns)...)));
}

template <class Tuple, std::size_t... I>
auto when_split(Runtime& rt, Tuple&& t, std::index_sequence<I...>) {
  constexpr std::size_t kLast = std::tuple_size_v<std::decay_t<Tuple>> - 1;
  return when_on(rt, std::get<kLast>(std::forward<Tuple>(t)), std::get<I>(std::forward<Tuple>(t))...);
}

template <class Tuple, std::size_t... I>
void when_detached_split(Runtime& rt, Tuple&& t, std::index_sequence<I...>) {
  constexpr std::size_t kLast = std::tuple_size_v<std::decay_t<Tuple>> - 1;
  when_detached_on(rt, std::get<kLast>(std::forward<Tuple>(t)), std::get<I>(std::forward<Tuple>(t))...);
}

}  // namespace detail

/// when(cown..., body): the body receives each cown's value by reference.
/// A cown is a CownPtr<T> or a Cown<T>* the caller keeps alive for the call.
template <class... Args>
auto when(Args&&... args) {
  static_assert(sizeof...(Args) >= 1, "when() needs a body");
  Runtime* rt = Runtime::current();
  if (rt == nullptr) throw std::logic_error("boc::when: no live Runtime");
  return detail::when_split(*rt, std::forward_as_tuple(std::forward<Args>(args)...),
                            std::make_index_sequence<sizeof...(Args) - 1>{});
}

/// when_detached(cown..., body): as when(), but makes no result cown and
/// returns nothing (the body's return value is discarded). For callers that
/// never read the result: it saves the result cown's allocation and a request.
/// A body error cannot be read afterwards; pump() still reports the errors
/// of pinned bodies.
template <class... Args>
void when_detached(Args&&... args) {
  static_assert(sizeof...(Args) >= 1, "when_detached() needs a body");
  Runtime* rt = Runtime::current();
  if (rt == nullptr) throw std::logic_error("boc::when_detached: no live Runtime");
  detail::when_detached_split(*rt, std::forward_as_tuple(std::forward<Args>(args)...),
                              std::make_index_sequence<sizeof...(Args) - 1>{});
}

/// when_detached_in(runtime, cown..., body): as when_detached(), on an explicit runtime.
template <class... Args>
void when_detached_in(Runtime& rt, Args&&... args) {
  static_assert(sizeof...(Args) >= 1, "when_detached_in() needs a body");
  detail::when_detached_split(rt, std::forward_as_tuple(std::forward<Args>(args)...),
                              std::make_index_sequence<sizeof...(Args) - 1>{});
}

/// when_in(runtime, cown..., body): as when(), on an explicit runtime.
template <class... Args>
auto when_in(Runtime& rt, Args&&... args) {
  static_assert(sizeof...(Args) >= 1, "when_in() needs a body");
  return detail::when_split(rt, std::forward_as_tuple(std::forward<Args>(args)...),
                            std::make_index_sequence<sizeof...(Args) - 1>{});
}

}  // namespace boc
