/*
 * Small text helpers shared by the parsers of lib/ (BDFs, dumps, quirks,
 * state files).  Private to the library.
 */
#ifndef PVPCI_TEXTUTIL_H
#define PVPCI_TEXTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit, or -1. */
static inline int pvpci_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* CRC-32 (IEEE 802.3, reflected), bit by bit: what the state files carry,
 * a few hundred bytes each. */
static inline uint32_t pvpci_crc32(const char *p, size_t len)
{
	uint32_t c = 0xffffffffu;

	while (len--) {
		c ^= (uint8_t)*p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

#endif
