// Shipping behavior code between interpreters. A body's code is marshalled
// once into a process-wide, append-only registry under a content key
// (bocpy.behaviors.register_behavior computes it; the registry itself is also
// bocpy._core.registry_register / registry_lookup, see module_registry.cpp).
// Entries are plain bytes, so they outlive the interpreter that wrote them.
// Each interpreter rebuilds a body once (bocpy.behaviors.Resolver: globals =
// its defining module here; for `__main__`, the worker's script bindings) and
// caches it; each schedule then ships only the entry's index and the captures.
#pragma once

#include <Python.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "interp_state.h"
#include "module_registry.h"  // bocpy._core.registry_*: module_core.cpp gets it through this header

namespace boc::py {

/// One registry entry; immutable once stored and never removed.
struct RegistryEntry {
  std::string key;
  std::string blob;    // marshal.dumps of the code object
  std::string module;  // the module whose globals the body binds to
  std::optional<std::string> source;
};

/// Stores `entry` unless its key is present (the first write wins: equal keys
/// are equal bodies). Returns the stored entry's index. Any thread.
std::uint64_t registry_store(RegistryEntry entry);
/// The entry under `key` (and its index in `*index`), or nullptr. Any thread.
const RegistryEntry* registry_find(std::string_view key, std::uint64_t* index = nullptr);

/// The entry at `index`, or nullptr. Any thread.
const RegistryEntry* registry_entry(std::uint64_t index);

/// Registers fn's code from the current interpreter (GIL held) and returns its
/// index, or -1 with a Python error set.
std::int64_t register_behavior_code(InterpState* state, PyObject* fn);

/// A callable for code `id` in the current interpreter. `closure_values` is a
/// tuple of values for the code's free variables (nullptr when it has none).
/// New reference, or nullptr with a Python error set.
PyObject* behavior_function(InterpState* state, std::uint64_t id, PyObject* closure_values);

}  // namespace boc::py
