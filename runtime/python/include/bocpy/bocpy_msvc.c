/* bocpy_msvc.c: the bodies of bocpy.h's four atomics for MSVC, whose C mode
 * has no <stdatomic.h> CPython extensions can use. bocpy.get_sources() lists
 * this file on Windows only; elsewhere it compiles to nothing (<stdatomic.h>
 * provides the names).
 *
 * Each body is sequentially consistent: the _Interlocked intrinsics are full
 * barriers. 32-bit x86 has no 64-bit exchange, add or or intrinsics, so there
 * every operation is a loop over the 64-bit compare-exchange (cmpxchg8b).
 * The parameter lists are exactly those of the prototypes in bocpy.h. */
#include "bocpy.h"

#if defined(_MSC_VER)

#include <intrin.h>

#if defined(_M_IX86)
/* Reads *ptr atomically: a compare-exchange that stores what it finds. */
static int_least64_t bocpy_msvc_read(atomic_int_least64_t* ptr) {
  return _InterlockedCompareExchange64((volatile __int64*)ptr, 0, 0);
}
#endif

int_least64_t atomic_load(atomic_int_least64_t* ptr) {
#if defined(_M_IX86)
  return bocpy_msvc_read(ptr);
#else
  return _InterlockedOr64((volatile __int64*)ptr, 0);
#endif
}

void atomic_store(atomic_int_least64_t* ptr, int_least64_t value) {
#if defined(_M_IX86)
  int_least64_t seen = bocpy_msvc_read(ptr);
  for (;;) {
    int_least64_t prior = _InterlockedCompareExchange64((volatile __int64*)ptr, value, seen);
    if (prior == seen) return;
    seen = prior;
  }
#else
  (void)_InterlockedExchange64((volatile __int64*)ptr, value);
#endif
}

int_least64_t atomic_fetch_add(atomic_int_least64_t* ptr, int_least64_t value) {
#if defined(_M_IX86)
  int_least64_t seen = bocpy_msvc_read(ptr);
  for (;;) {
    int_least64_t prior = _InterlockedCompareExchange64((volatile __int64*)ptr, seen + value, seen);
    if (prior == seen) return prior;
    seen = prior;
  }
#else
  return _InterlockedExchangeAdd64((volatile __int64*)ptr, value);
#endif
}

bool atomic_compare_exchange_strong(atomic_int_least64_t* ptr, int_least64_t* expected, int_least64_t desired) {
  int_least64_t want = *expected;
  int_least64_t prior = _InterlockedCompareExchange64((volatile __int64*)ptr, desired, want);
  if (prior == want) return true;
  *expected = prior;
  return false;
}

#else

/* ISO C wants at least one declaration in a translation unit. */
typedef int bocpy_msvc_unused_off_msvc;

#endif /* _MSC_VER */
