/*
 * Config dumps as text: what `lspci -x`, `-xxx` and `-xxxx` print (with or
 * without the -v/-vv/-vvv decoding between the header line and the hex),
 * one or many functions per file, as `lspci -F` reads it; and raw binary
 * images.  Owns parsing and writing of that format; no device access.
 *
 * What is read (the rules of pciutils' dump reader, with the differences
 * noted):
 *  - A header line "BB:DD.F text", "DDDD:BB:DD.F text" or "DDDDD:BB:DD.F
 *    text" (the space after the address is required, as lspci -F requires
 *    it) starts a function; a blank line ends it.
 *  - Hex lines "OO: b0 b1 ... b15" (offset of 2 to 8 hex digits, bytes of
 *    2) fill its config bytes.  Stricter than lspci -F, because a file that
 *    breaks these is damaged rather than merely unusual: a hex line outside
 *    a function (before any header, or after the blank line that ended it),
 *    an offset that is not a multiple of 16, more than 16 bytes on a line,
 *    an offset given twice, bytes past 4096, a device number above 1f, a
 *    function above 7, a domain above ffff, the same function twice, and a
 *    function with no hex at all are errors ("line N: why").
 *  - Decoding lines of -v/-vv ("Region N: ...", "Memory at ...", "I/O ports
 *    at ...", "Expansion ROM at ...") give BAR addresses and sizes; every
 *    other line is ignored.  Lines may be of any length and the last one
 *    need not end in a newline (lspci -F refuses both).
 */
#ifndef PVPCI_DUMP_H
#define PVPCI_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pvpci/api.h"
#include "pvpci/bdf.h"
#include "pvpci/hostdev.h"

#define PVPCI_DUMP_MAX_DEVS	4096			/* functions in one dump */
#define PVPCI_DUMP_MAX_BYTES	(64u * 1024 * 1024)	/* size of one dump */

struct pvpci_dump_dev {
	struct pvpci_bdf bdf;
	char desc[128];			/* text after the BDF on the header line */
	/*
	 * Bytes the dump did not give (past len, or a missing line inside it)
	 * are 0xff, what a config read that nothing answers returns.
	 */
	uint8_t cfg[PVPCI_CFG_EXP_SIZE];
	/*
	 * Bytes given, rounded up to 64, 256 or 4096 (lspci -x, -xxx, -xxxx).
	 * lspci -F refuses reads past the last byte given, so len is what a
	 * reader may trust, not always 4096.
	 */
	unsigned len;
	bool whole;			/* every byte of the len was given */
	/*
	 * From the Region / Expansion ROM lines (index PVPCI_ROM_BAR for the
	 * ROM), as lspci printed them; where no line was given, all zero and
	 * bar_sizes_known false.  flags: PVPCI_BAR_IO, PVPCI_BAR_PREFETCH,
	 * PVPCI_BAR_MEM64 on the lower half of a 64-bit BAR, whose upper half
	 * (the next index) is {0, 0, PVPCI_BAR_MEM64_HI} and known too, and
	 * PVPCI_BAR_ROM.  size is what the line said (0: it said none).
	 */
	struct pvpci_bar bars[PVPCI_NUM_BARS + 1];
	bool bar_sizes_known[PVPCI_NUM_BARS + 1];
	/*
	 * "[virtual]": the OS reported the region but the register does not
	 * decode it (Enhanced Allocation, or a BAR the firmware hid).
	 */
	bool bar_virtual[PVPCI_NUM_BARS + 1];
	/*
	 * The host's interrupt number for the function's INTx, as lspci -v
	 * printed it ("Flags: ..., IRQ 16", or -vv's "Interrupt: pin A routed
	 * to IRQ 16"); 0 when no line said.  Not written back by
	 * pvpci_dump_write.
	 */
	unsigned irq;
};

struct pvpci_dump {
	struct pvpci_dump_dev *devs;	/* in file order */
	size_t n;
};

/*
 * Parse text (len bytes, need not be NUL-terminated; NUL bytes are ordinary
 * characters).  On success fills *ret, which the caller frees with
 * pvpci_dump_free.  On error *ret is untouched, the return is -EINVAL (or
 * -ENOMEM) and errbuf (when given) says "line N: why".
 */
PVPCI_API int pvpci_dump_parse(const char *text, size_t len, struct pvpci_dump *ret, char *errbuf,
			       size_t errlen);
/* The same for text that starts at line first_line of a larger file (a
 * record's dumps): messages count lines from there. */
PVPCI_API int pvpci_dump_parse_at(const char *text, size_t len, unsigned first_line,
				  struct pvpci_dump *ret, char *errbuf, size_t errlen);

/*
 * A dump in memory that may be text or a raw image: binary (see
 * pvpci_dump_load for the test) of exactly 64, 256 or 4096 bytes gives one
 * function at 0000:00:00.0, anything else goes to pvpci_dump_parse.  The
 * one entry point for untrusted bytes (fuzzers use it).  Same returns.
 */
PVPCI_API int pvpci_dump_parse_any(const void *buf, size_t len, struct pvpci_dump *ret,
				   char *errbuf, size_t errlen);

/*
 * Load a file: text as above, or a raw binary image of exactly 64, 256 or
 * 4096 bytes (one function, at 0000:00:00.0, desc "").  A file holding a
 * NUL byte or a control character other than \t \n \v \f \r is binary.
 * Errors: -errno of open/read, -EFBIG past PVPCI_DUMP_MAX_BYTES, -EINVAL
 * for a bad format; errbuf says why ("cannot open PATH: ...", "PATH: line
 * N: ...").
 */
PVPCI_API int pvpci_dump_load(const char *path, struct pvpci_dump *ret, char *errbuf,
			      size_t errlen);

PVPCI_API void pvpci_dump_free(struct pvpci_dump *d);	/* NULL is fine; leaves *d empty */

/*
 * Write one function as `lspci -xxxx` would (the header line in the
 * 4-digit-domain form, then 16 bytes a line for len bytes, then a blank
 * line), so that `lspci -F` reads it back.  len: a multiple of 16 up to
 * 4096 (lspci -F itself needs at least 64).  Control characters in desc
 * are written as spaces.
 *
 * When bars is given (7 entries, PVPCI_ROM_BAR last), a "\tRegion N: ..."
 * line for each entry with a size (not UNUSED, not a MEM64_HI half) and an
 * "\tExpansion ROM at ..." line precede the hex, in lspci -vv's wording
 * with [size=...], so that pvpci_dump_parse (and sim) learn the sizes.
 * Sizes are printed as lspci does (K/M/G/T) when that is exact, in bytes
 * otherwise, so that they read back unchanged.
 * Returns 0, -EINVAL for bad arguments, -EIO when the stream failed.
 */
PVPCI_API int pvpci_dump_write(FILE *f, const struct pvpci_bdf *bdf, const char *desc,
			       const uint8_t *cfg, unsigned len,
			       const struct pvpci_bar *bars /* 7 entries or NULL */);

#endif
