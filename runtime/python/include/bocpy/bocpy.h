/* bocpy.h: the public C ABI of this bocpy (the contract of bocpy 0.13.0's
 * <bocpy/bocpy.h>, written afresh for this runtime).
 *
 * For a C extension that makes its own type cross-interpreter shareable, so
 * that bocpy Cowns and messages carry its instances between the worker
 * sub-interpreters. Find the headers with bocpy.get_include() and compile
 * bocpy.get_sources() (empty off Windows) into the extension.
 *
 * What this header gives:
 *   - BOCPY_ABI: the ABI revision; compare with >=. Bumped on any
 *     incompatible change to this header or xidata.h.
 *   - xidata.h: macros over CPython's cross-interpreter-data ("XIData") API,
 *     the same spelling on CPython 3.12, 3.13 and 3.14.
 *   - a sequentially consistent atomic surface over atomic_int_least64_t:
 *     load, store, fetch_add, compare_exchange_strong (the <stdatomic.h>
 *     generic functions off MSVC; on MSVC four out-of-line functions whose
 *     bodies are in bocpy_msvc.c), and a thread_local macro.
 *   - the owner-field helpers BOCPY_NO_OWNER, bocpy_interpid() and
 *     bocpy_main_interpid().
 *
 * Rules: C only (no C++ translation units). Include it where <Python.h> may
 * go: before any system header of the translation unit. It includes
 * <Python.h> itself, so the order against <Python.h> does not matter.
 *
 * How this runtime uses a registered type: a value that its parcel codec has
 * no native encoding for (runtime/python/values/parcel.h) crosses by its
 * XIData when its type is registered in the sending interpreter. The
 * getdata callback runs in the sender when the value is encoded (a Cown
 * released, a message sent), new_object in the receiver when it is decoded,
 * and the XIData is freed in the sender's interpreter once the parcel holding
 * it is gone. The owner-field pattern below is what stops two interpreters
 * from using one C resource at the same time.
 */
#ifndef BOCPY_BOCPY_H
#define BOCPY_BOCPY_H

#define BOCPY_ABI 1

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>
#include <stdbool.h>
#include <stdint.h>

#include "xidata.h"

/* ---- atomics -------------------------------------------------------------
 * Every operation is sequentially consistent; there are no weaker orders and
 * no _explicit forms. The compare-exchange returns true when it stored
 * `desired`; otherwise it writes the value it found through `expected`.
 * Off MSVC these names are <stdatomic.h>'s own generic functions; the four
 * prototypes below are what MSVC (whose C mode has no usable <stdatomic.h>
 * for CPython extensions) gets instead. */
#if defined(_MSC_VER)

#if !defined(thread_local)
#define thread_local __declspec(thread)
#endif

/* On MSVC an aligned volatile 64-bit integer: every access goes through the
 * functions below, which use full-barrier Interlocked operations. */
typedef volatile int_least64_t atomic_int_least64_t;

/* The prototypes, one per line, with exactly the parameter lists of their
 * bodies in bocpy_msvc.c. */
int_least64_t atomic_load(atomic_int_least64_t* ptr);
void atomic_store(atomic_int_least64_t* ptr, int_least64_t value);
int_least64_t atomic_fetch_add(atomic_int_least64_t* ptr, int_least64_t value);
bool atomic_compare_exchange_strong(atomic_int_least64_t* ptr, int_least64_t* expected, int_least64_t desired);

#else /* !_MSC_VER */

#include <stdatomic.h>

/* C23 makes thread_local a keyword; before it, C11 spells it _Thread_local. */
#if !defined(thread_local) && (!defined(__STDC_VERSION__) || __STDC_VERSION__ < 202311L)
#define thread_local _Thread_local
#endif

#endif /* _MSC_VER */

/* ---- owner field ---------------------------------------------------------
 * The pattern (one interpreter owns a C resource at a time):
 *   - the resource has one atomic_int_least64_t owner field, set to
 *     bocpy_interpid() by the interpreter that creates it;
 *   - the getdata callback (XIDATA_GETDATA_FUNC) compare-exchanges the owner
 *     from bocpy_interpid() to BOCPY_NO_OWNER before XIDATA_INIT, and raises
 *     RuntimeError (handing nothing over) when that fails;
 *   - the new_object callback compare-exchanges it from BOCPY_NO_OWNER to
 *     bocpy_interpid() before building the wrapper (and stores
 *     BOCPY_NO_OWNER back if building the wrapper fails);
 *   - every accessor of the payload checks that the atomic load of the owner
 *     equals bocpy_interpid(), and raises RuntimeError otherwise.
 * A parcel holding such a value therefore decodes once per encode: a second
 * decode finds the owner already taken and raises, as a Matrix does. */

/* No interpreter owns the resource (it is in flight). Interpreter ids are
 * never negative, so this never equals one. */
#define BOCPY_NO_OWNER (-2)

/* The id of the interpreter the calling thread is attached to (GIL held). */
static inline int_least64_t bocpy_interpid(void) {
  return (int_least64_t)PyInterpreterState_GetID(PyInterpreterState_Get());
}

/* The id of the main interpreter, from any interpreter (GIL held): the
 * permanent owner of a PinnedCown's value. */
static inline int_least64_t bocpy_main_interpid(void) {
  return (int_least64_t)PyInterpreterState_GetID(PyInterpreterState_Main());
}

#endif /* BOCPY_BOCPY_H */
