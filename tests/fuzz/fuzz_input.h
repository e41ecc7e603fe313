/*
 * Reading a fuzzer's input as a stream of small numbers and strings, for
 * the targets that decode the bytes into a sequence of operations.  Past
 * the end every read gives 0 (or an empty string), so any input decodes.
 * And the one way a target reports a broken invariant: a message on
 * stderr, then abort(), which libFuzzer records as a crash.
 * Header-only: each target includes it once.
 */
#ifndef PVPCI_FUZZ_INPUT_H
#define PVPCI_FUZZ_INPUT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fin {
	const uint8_t *p;
	size_t n, off;
};

static inline size_t fin_left(const struct fin *in)
{
	return in->n - in->off;
}

static inline uint8_t fin_u8(struct fin *in)
{
	return in->off < in->n ? in->p[in->off++] : 0;
}

static inline uint16_t fin_u16(struct fin *in)
{
	uint16_t lo = fin_u8(in);

	return (uint16_t)(lo | (uint16_t)fin_u8(in) << 8);
}

static inline uint32_t fin_u32(struct fin *in)
{
	uint32_t lo = fin_u16(in);

	return lo | (uint32_t)fin_u16(in) << 16;
}

/* The next len bytes (fewer at the end) into buf as a string, nul added;
 * returns the bytes taken.  buf holds len + 1. */
static inline size_t fin_str(struct fin *in, char *buf, size_t len)
{
	size_t k = fin_left(in) < len ? fin_left(in) : len;

	memcpy(buf, in->p + in->off, k);
	buf[k] = '\0';
	in->off += k;
	return k;
}

__attribute__((format(printf, 1, 2), noreturn))
static inline void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("invariant broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#endif
