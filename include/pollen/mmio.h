/* Device registers and memory order: BAR accessors, barriers, a bounded register wait. */
#ifndef POLLEN_MMIO_H
#define POLLEN_MMIO_H

#include <stddef.h>
#include <stdint.h>

#include <pollen/compiler.h>

PL_BEGIN_DECLS

/*
 * Accessors: one volatile load or store of the register's width at @base + @off, in the
 * CPU's byte order (little-endian on every CPU Pollen builds for, as PCI is). They order
 * nothing by themselves: put the barrier the step needs beside them, by name.
 */
#define PL__MMIO(bits)                                                                  \
	PL_INLINE uint##bits##_t pl_mmio_read##bits(const volatile void *base, size_t off)  \
	{                                                                               \
		return *(const volatile uint##bits##_t *)((const volatile char *)base + off); \
	}                                                                               \
	PL_INLINE void pl_mmio_write##bits(volatile void *base, size_t off, uint##bits##_t v) \
	{                                                                               \
		*(volatile uint##bits##_t *)((volatile char *)base + off) = v;          \
	}
PL__MMIO(8)
PL__MMIO(16)
PL__MMIO(32)
PL__MMIO(64)
#undef PL__MMIO

/*
 * A 64-bit register as two 32-bit writes, low half first, for devices that do not take
 * 8-byte accesses (the NVMe specification allows either for ASQ and ACQ).
 */
PL_INLINE void pl_mmio_write64_lo_hi(volatile void *base, size_t off, uint64_t v)
{
	pl_mmio_write32(base, off, (uint32_t)v);
	pl_mmio_write32(base, off + 4, (uint32_t)(v >> 32));
}

/*
 * Barriers. Which one a step needs:
 *
 *   writing entries or descriptors in DMA memory, then the doorbell or tail register
 *   that hands them to the device:                                      pl_dma_wmb()
 *   seeing a phase tag or DD bit set in DMA memory, then reading the rest of that
 *   completion or descriptor:                                            pl_dma_rmb()
 *   writing a descriptor's fields, then the word that gives it to the device (both in
 *   DMA memory):                                                          pl_dma_wmb()
 *   write-combining BAR mappings and non-temporal stores, or ordering against another
 *   agent that is not coherent:                         pl_wmb(), pl_rmb(), pl_mb()
 *
 * The pl_dma_* barriers order accesses to coherent DMA memory and uncached BARs, which
 * is all Pollen's mappings are. On x86 they cost nothing at run time: the CPU keeps
 * stores in order with stores and loads with loads for those memory types, so only the
 * compiler must be stopped. On arm64 they are the outer-shareable dmb variants.
 */
#define pl_barrier() __asm__ volatile("" ::: "memory")

#if defined(__x86_64__) || defined(__i386__)
#define pl_mb() __asm__ volatile("mfence" ::: "memory")
#define pl_rmb() __asm__ volatile("lfence" ::: "memory")
#define pl_wmb() __asm__ volatile("sfence" ::: "memory")
#define pl_dma_rmb() pl_barrier()
#define pl_dma_wmb() pl_barrier()
#elif defined(__aarch64__)
#define pl_mb() __asm__ volatile("dsb sy" ::: "memory")
#define pl_rmb() __asm__ volatile("dsb ld" ::: "memory")
#define pl_wmb() __asm__ volatile("dsb st" ::: "memory")
#define pl_dma_rmb() __asm__ volatile("dmb oshld" ::: "memory")
#define pl_dma_wmb() __asm__ volatile("dmb oshst" ::: "memory")
#else
/* Elsewhere the strongest the compiler knows; correct, if slower than need be. */
#define pl_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define pl_rmb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define pl_wmb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define pl_dma_rmb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define pl_dma_wmb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

/** struct pl_mmio_wait - a register condition to wait for, with a bound. */
struct pl_mmio_wait {
	size_t off;		/* the 32-bit register */
	uint32_t mask, want;	/* done when (value & mask) == want */
	uint32_t fail;		/* give up at once when (value & fail) != 0; 0: never */
	unsigned timeout_ms;
	const char *what;	/* names it in the error line ("0000:00:02.0 CSTS.RDY"); NULL: silent */
	uint32_t last;		/* out: the last value read */
};

/**
 * pl_mmio_wait() - read a register until a condition holds, sleeping a growing interval
 * (1 us up to 1 ms) between reads, for at most @w->timeout_ms (the control path only).
 * Return: 0; -ETIMEDOUT when the time ran out; -EIO when a @w->fail bit came up. Either
 *         failure is logged once with the register, its last value and what was wanted
 *         (a register that reads all ones is called out: the device is gone or its memory
 *         space is off), unless @w->what is NULL.
 */
PL_API int pl_mmio_wait(const volatile void *base, struct pl_mmio_wait *w);

/* Waits until (register @off & @mask) == @want, like ixy's wait_set_reg32/wait_clear_reg32. */
PL_INLINE int pl_mmio_wait32(const volatile void *base, size_t off, uint32_t mask, uint32_t want,
			     unsigned timeout_ms, const char *what)
{
	/* Every field, in order: C++ wants designated initializers so. */
	struct pl_mmio_wait w = { .off = off, .mask = mask, .want = want, .fail = 0,
				  .timeout_ms = timeout_ms, .what = what, .last = 0 };

	return pl_mmio_wait(base, &w);
}

PL_END_DECLS

#endif
