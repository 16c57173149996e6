/* What every public header shares: C and C++ linkage, the exported ABI, forced inlining. */
#ifndef POLLEN_COMPILER_H
#define POLLEN_COMPILER_H

#ifdef __cplusplus
#define PL_BEGIN_DECLS extern "C" {
#define PL_END_DECLS }
#define PL_STATIC_ASSERT static_assert
#else
#define PL_BEGIN_DECLS
#define PL_END_DECLS
#define PL_STATIC_ASSERT _Static_assert
#endif

/*
 * libpollen.so is built with -fvisibility=hidden: only declarations marked PL_API are
 * its ABI. Everything else, however it is named, stays inside the library.
 */
#define PL_API __attribute__((visibility("default")))

/*
 * The fast path (ring, mempool cache, packet helpers): inlined where the caller compiles
 * it. "static inline" alone is a hint that GCC declines for bodies of this size, and an
 * out-of-line copy costs a call per burst and loses the constant burst length.
 */
#define PL_INLINE static inline __attribute__((always_inline))

#define pl_likely(x) __builtin_expect(!!(x), 1)
#define pl_unlikely(x) __builtin_expect(!!(x), 0)

#endif
