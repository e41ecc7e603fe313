/*
 * Config dumps as text: what `lspci -x`, `-xxx` and `-xxxx` print (with or
 * without the -v/-vv/-vvv decoding between the header line and the hex),
 * one or many functions per file, as `lspci -F` reads it; and raw binary
 * images.  Owns parsing and writing of that format; no device access.
 */
#ifndef PVPCI_DUMP_H
#define PVPCI_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pvpci/bdf.h"
#include "pvpci/hostdev.h"

struct pvpci_dump_dev {
	struct pvpci_bdf bdf;
	char desc[128];			/* text after the BDF on the header line */
	uint8_t cfg[PVPCI_CFG_EXP_SIZE];
	unsigned len;			/* bytes given: 64, 256 or 4096 (rounded up to those) */
	struct pvpci_bar bars[PVPCI_NUM_BARS + 1];	/* from Region / Expansion ROM lines */
	bool bar_sizes_known[PVPCI_NUM_BARS + 1];
};

struct pvpci_dump {
	struct pvpci_dump_dev *devs;
	size_t n;
};

/*
 * Parse text (len bytes, need not be NUL-terminated).  On error returns
 * -EINVAL (or -ENOMEM) and writes "line N: why" into errbuf.
 */
int pvpci_dump_parse(const char *text, size_t len, struct pvpci_dump *ret, char *errbuf, size_t errlen);

/* Load a file: text as above, or a raw binary image of 64/256/4096 bytes
 * (one function, at 0000:00:00.0). */
int pvpci_dump_load(const char *path, struct pvpci_dump *ret, char *errbuf, size_t errlen);

void pvpci_dump_free(struct pvpci_dump *d);	/* NULL is fine; leaves *d empty */

/*
 * Write one function as `lspci -xxxx` would (the header line, then 16 bytes
 * a line for len bytes), so that `lspci -F` reads it back.  When bars is
 * given, "\tRegion N: ..." and "\tExpansion ROM ..." lines with [size=...]
 * precede the hex, as `lspci -v` prints them, so that `sim` loads the sizes.
 */
int pvpci_dump_write(FILE *f, const struct pvpci_bdf *bdf, const char *desc, const uint8_t *cfg,
		     unsigned len, const struct pvpci_bar *bars /* 7 entries or NULL */);

#endif
