/*
 * CRC32C (Castagnoli), the NVMe/TCP header and data digest (TP 8000 3.6.3, as iSCSI's:
 * RFC 3720 B.4): reflected polynomial 0x82f63b78, seeded and finished with all ones.
 * SSE4.2's CRC32 instruction computes exactly this, 8 bytes a cycle or so; a table
 * serves CPUs without it.
 */
#include "nvmf_tcp.h"

#include <stdbool.h>

static uint32_t table[256];

static void make_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? c >> 1 ^ 0x82f63b78u : c >> 1;
		table[i] = c;
	}
}

static uint32_t by_table(uint32_t c, const uint8_t *p, size_t len)
{
	while (len--)
		c = table[(c ^ *p++) & 0xff] ^ c >> 8;
	return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t by_insn(uint32_t c, const uint8_t *p, size_t len)
{
	uint64_t c64 = c;

	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v;

		__builtin_memcpy(&v, p, 8);
		c64 = __builtin_ia32_crc32di(c64, v);
	}
	c = (uint32_t)c64;
	while (len--)
		c = __builtin_ia32_crc32qi(c, *p++);
	return c;
}
#endif

static uint32_t (*impl)(uint32_t, const uint8_t *, size_t);

/* Chosen once, before any connection runs (constructors run before main). */
__attribute__((constructor)) static void choose(void)
{
	make_table();
	impl = by_table;
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2"))
		impl = by_insn;
#endif
}

uint32_t nvmf_crc32c_update(uint32_t crc, const void *buf, size_t len)
{
	return impl(crc, buf, len);
}

uint32_t nvmf_crc32c(const void *buf, size_t len)
{
	return ~impl(~0u, buf, len);
}

uint32_t nvmf_crc32c_table(const void *buf, size_t len)
{
	return ~by_table(~0u, buf, len);
}
