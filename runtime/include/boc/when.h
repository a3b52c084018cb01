// C++ sugar over the runtime: `boc::when(a, b, [](A& a, B& b) { ... })`
// schedules a behavior over cowns a and b on Runtime::current() and returns
// its result cown (holding the lambda's return value, or std::monostate for
// void, and the exception if the body threw).
#pragma once

#include <array>
#include <cstddef>
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

template <class F, class... Ts>
class WhenBehavior final : public Behavior {
 public:
  using R = std::invoke_result_t<F&, Ts&...>;
  using Result = StoredResult<R>;

  WhenBehavior(std::span<CownBase* const> all, CownPtr<Result> result, F f, CownPtr<Ts>... args)
      : Behavior(all), result_(std::move(result)), f_(std::move(f)), args_(std::move(args)...) {}

  BodyResult run() override {
    try {
      std::apply(
          [this](auto&... c) {
            if constexpr (std::is_void_v<R>) {
              f_(c->value()...);
            } else {
              result_->value() = f_(c->value()...);
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
  CownPtr<Result> result_;
  F f_;
  std::tuple<CownPtr<Ts>...> args_;
};

template <class F, class... Ts>
auto when_on(Runtime& rt, F&& f, CownPtr<Ts>... cowns) {
  using B = WhenBehavior<std::decay_t<F>, Ts...>;
  auto result = make_cown<typename B::Result>();
  // The result cown is part of the request set, so a behavior scheduled on it
  // runs strictly after this one (the "happens-after" idiom).
  std::array<CownBase*, sizeof...(Ts) + 1> all{static_cast<CownBase*>(cowns.get())..., result.get()};
  rt.schedule(std::make_unique<B>(std::span<CownBase* const>(all), result, std::forward<F>(f), std::move(cowns)...));
  return result;
}

template <class Tuple, std::size_t... I>
auto when_split(Runtime& rt, Tuple&& t, std::index_sequence<I...>) {
  constexpr std::size_t kLast = std::tuple_size_v<std::decay_t<Tuple>> - 1;
  return when_on(rt, std::get<kLast>(std::forward<Tuple>(t)), std::get<I>(std::forward<Tuple>(t))...);
}

}  // namespace detail

/// when(cown..., body): the body receives each cown's value by reference.
template <class... Args>
auto when(Args&&... args) {
  static_assert(sizeof...(Args) >= 1, "when() needs a body");
  Runtime* rt = Runtime::current();
  if (rt == nullptr) throw std::logic_error("boc::when: no live Runtime");
  return detail::when_split(*rt, std::forward_as_tuple(std::forward<Args>(args)...),
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
