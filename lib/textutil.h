/*
 * Small text helpers shared by the parsers of lib/ (BDFs, dumps, quirks,
 * state files).  Private to the library.
 */
#ifndef PVPCI_TEXTUTIL_H
#define PVPCI_TEXTUTIL_H

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

#endif
