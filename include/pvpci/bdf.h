/*
 * PCI addresses in the text forms users already type: [DDDD:]BB:DD.F.
 * Owns parsing and printing only; no knowledge of devices.
 */
#ifndef PVPCI_BDF_H
#define PVPCI_BDF_H

#include <stdint.h>
#include <stddef.h>

#include "pvpci/api.h"

struct pvpci_bdf {
	uint16_t domain;
	uint8_t bus;
	uint8_t dev;	/* 0..31 */
	uint8_t fn;	/* 0..7 */
};

#define PVPCI_BDF_STRLEN 13	/* "dddd:bb:dd.f" + NUL */

/* devfn as the PV protocol and Linux encode it: slot << 3 | function. */
static inline unsigned pvpci_devfn(const struct pvpci_bdf *b)
{
	return (unsigned)b->dev << 3 | b->fn;
}

/*
 * Parse "[DDDD:]BB:DD.F" (hex, function 0-7, slot 0-1f).  The whole string
 * must be consumed.  Returns 0, or -EINVAL with *ret untouched.
 */
PVPCI_API int pvpci_bdf_parse(const char *s, struct pvpci_bdf *ret);

/* Parse a prefix of s; *ret_end points after it.  Same rules otherwise. */
PVPCI_API int pvpci_bdf_parse_prefix(const char *s, struct pvpci_bdf *ret, const char **ret_end);

/* "dddd:bb:dd.f" into buf (at least PVPCI_BDF_STRLEN bytes); returns buf. */
PVPCI_API char *pvpci_bdf_format(const struct pvpci_bdf *b, char *buf);

PVPCI_API int pvpci_bdf_cmp(const struct pvpci_bdf *a, const struct pvpci_bdf *b);

/*
 * pciback's hide= list: "(BDF)(BDF)...".  Fills up to max entries; returns
 * the number parsed, or -EINVAL (bad syntax) / -E2BIG (more than max).
 */
PVPCI_API int pvpci_bdf_parse_list(const char *s, struct pvpci_bdf *ret, size_t max);

#endif
