/*
 * BDF text parsing and formatting ([DDDD:]BB:DD.F and pciback's (BDF) lists).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pvpci/bdf.h"
#include "textutil.h"

/* Up to maxdigits hex digits; at least one.  Returns digits consumed or -1. */
static int hexnum(const char *s, int maxdigits, unsigned *ret)
{
	unsigned v = 0;
	int n = 0;

	while (n < maxdigits && pvpci_hexval(s[n]) >= 0)
		v = v << 4 | (unsigned)pvpci_hexval(s[n++]);
	if (n == 0 || pvpci_hexval(s[n]) >= 0)
		return -1;
	*ret = v;
	return n;
}

int pvpci_bdf_parse_prefix(const char *s, struct pvpci_bdf *ret, const char **ret_end)
{
	unsigned a, b, dom = 0, bus, dev, fn;
	int n, m;

	if (!s)
		return -EINVAL;
	n = hexnum(s, 4, &a);
	if (n < 0 || s[n] != ':')
		return -EINVAL;
	m = hexnum(s + n + 1, 4, &b);
	if (m < 0)
		return -EINVAL;
	if (s[n + 1 + m] == ':') {	/* DDDD:BB:DD.F */
		dom = a;
		if (m > 2)
			return -EINVAL;
		bus = b;
		s += n + 1 + m + 1;
		n = hexnum(s, 2, &dev);
		if (n < 0)
			return -EINVAL;
		s += n;
	} else {			/* BB:DD.F */
		if (n > 2 || m > 2)
			return -EINVAL;
		bus = a;
		dev = b;
		s += n + 1 + m;
	}
	if (*s != '.' || s[1] < '0' || s[1] > '7')
		return -EINVAL;
	fn = (unsigned)(s[1] - '0');
	if (dev > 0x1f)
		return -EINVAL;
	ret->domain = (uint16_t)dom;
	ret->bus = (uint8_t)bus;
	ret->dev = (uint8_t)dev;
	ret->fn = (uint8_t)fn;
	if (ret_end)
		*ret_end = s + 2;
	return 0;
}

int pvpci_bdf_parse(const char *s, struct pvpci_bdf *ret)
{
	struct pvpci_bdf b;
	const char *end;

	if (pvpci_bdf_parse_prefix(s, &b, &end) < 0 || *end)
		return -EINVAL;
	*ret = b;
	return 0;
}

char *pvpci_bdf_format(const struct pvpci_bdf *b, char *buf)
{
	snprintf(buf, PVPCI_BDF_STRLEN, "%04x:%02x:%02x.%x", b->domain, b->bus,
		 b->dev & 0x1f, b->fn & 7);
	return buf;
}

int pvpci_bdf_cmp(const struct pvpci_bdf *a, const struct pvpci_bdf *b)
{
	unsigned long x = (unsigned long)a->domain << 16 | (unsigned)a->bus << 8 | pvpci_devfn(a);
	unsigned long y = (unsigned long)b->domain << 16 | (unsigned)b->bus << 8 | pvpci_devfn(b);

	return x < y ? -1 : x > y;
}

int pvpci_bdf_parse_list(const char *s, struct pvpci_bdf *ret, size_t max)
{
	size_t n = 0;
	const char *end;
	struct pvpci_bdf b;

	if (!s)
		return -EINVAL;
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	while (*s) {
		if (*s != '(')
			return -EINVAL;
		if (pvpci_bdf_parse_prefix(s + 1, &b, &end) < 0 || *end != ')')
			return -EINVAL;
		if (n == max)
			return -E2BIG;
		ret[n++] = b;
		s = end + 1;
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
	}
	return (int)n;
}
