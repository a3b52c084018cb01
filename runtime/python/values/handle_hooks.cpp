// The process-global cown-handle hooks.
#include "handle_hooks.h"

#include <atomic>

#include "parcel.h"

namespace boc::py {
namespace {
using UnwrapFn = CownRef (*)(PyObject*);
using WrapFn = PyObject* (*)(const CownRef&);
std::atomic<UnwrapFn> g_unwrap{nullptr};
std::atomic<WrapFn> g_wrap{nullptr};
}  // namespace

void set_handle_hooks(const HandleHooks& hooks) {
  // Release: pairs with the acquire loads below, so a thread that sees a hook
  // also sees whatever the installer initialised before installing it.
  g_unwrap.store(hooks.unwrap, std::memory_order_release);
  g_wrap.store(hooks.wrap, std::memory_order_release);
}

namespace detail {

CownRef unwrap_handle(PyObject* obj) {
  // Acquire: pairs with the release store in set_handle_hooks.
  UnwrapFn fn = g_unwrap.load(std::memory_order_acquire);
  return fn ? fn(obj) : CownRef();
}

PyObject* wrap_handle(const CownRef& cown) {
  // Acquire: pairs with the release store in set_handle_hooks.
  WrapFn fn = g_wrap.load(std::memory_order_acquire);
  if (!fn) {
    PyErr_SetString(PyExc_RuntimeError, "parcel holds a cown handle but no handle hooks are installed");
    return nullptr;
  }
  return fn(cown);
}

}  // namespace detail
}  // namespace boc::py
