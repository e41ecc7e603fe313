/*
 * Quirks: config-space fields an operator lets a guest read and write on
 * particular devices, beyond what the engine passes through by default.
 * Owns the text forms (pciback's sysfs quirks line, and a quirks file
 * keyed by device IDs), matching quirks to a function, and turning each
 * matching quirk into a pass-through register of the engine.  It does not
 * own what the register does once added (the engine's mask arithmetic).
 *
 * Text, one entry per line; '#' starts a comment that runs to the end of
 * the line; blank lines are ignored; numbers are hexadecimal with or
 * without "0x"; tokens are separated by spaces or tabs.  Two forms:
 *
 *   [DDDD:]BB:DD.F-REG:SIZE:MASK
 *       pciback's line for /sys/bus/pci/drivers/pciback/quirks: applies
 *       to the function at that address, whatever it is.
 *
 *   VVVV:DDDD[:SVVV:SDDD] REG:SIZE:MASK [REG:SIZE:MASK...]
 *       applies to every function with vendor VVVV and device DDDD (and,
 *       when given, subsystem vendor SVVV and subsystem DDDD): the form
 *       for a file kept across reboots, where addresses change and IDs
 *       do not.  Example:
 *
 *         # e1000e 82574L: the driver tunes a vendor register at 0xe0
 *         8086:10d3 e0:2:ffff
 *         8086:10d3:8086:a01f f0:4:0000ff00 f4:1:ff
 *
 * REG is the offset (0..0xfff), SIZE 1, 2 or 4, REG a multiple of SIZE.
 * MASK says which bits of the field the guest may change in hardware:
 * reads of the whole field come from the device; on a write, bits set in
 * MASK take the guest's value and the others keep the device's.  (pciback
 * records the mask and shows it back; here it is enforced.)  A MASK wider
 * than SIZE is an error, as pciback has it; MASK 0 makes a field
 * read-only, which also keeps permissive mode's writes off it.
 *
 * Quirks only ever cover bytes no other register of the engine covers: a
 * quirk that overlaps the header, a BAR, MSI, MSI-X or any register a
 * capability handler registered is refused, so nothing an operator writes
 * here widens what that handling lets a guest do.
 *
 * Limits (the parser takes untrusted text and is fuzzed): text up to
 * PVPCI_QUIRKS_MAX_TEXT bytes, lines up to PVPCI_QUIRKS_MAX_LINE bytes,
 * PVPCI_QUIRKS_MAX_FIELDS fields in all.  Errors name the line.
 */
#ifndef PVPCI_QUIRKS_H
#define PVPCI_QUIRKS_H

#include <stddef.h>
#include <stdint.h>

#include "pvpci/api.h"
#include "pvpci/bdf.h"

struct pvpci_cs;
struct pvpci_quirks;

#define PVPCI_QUIRKS_MAX_TEXT	(1u << 20)
#define PVPCI_QUIRKS_MAX_LINE	1024
#define PVPCI_QUIRKS_MAX_FIELDS	4096

/*
 * Parse text (len bytes, need not be NUL-terminated).  On success *ret
 * owns the parsed quirks (free with pvpci_quirks_free).  On failure
 * returns -EINVAL (errbuf: "line N: why"), -E2BIG (a limit) or -ENOMEM,
 * and *ret is untouched.  An empty text gives an empty set.
 */
PVPCI_API int pvpci_quirks_parse(const char *text, size_t len, struct pvpci_quirks **ret,
				 char *errbuf, size_t errlen);
/* The same from a file; errbuf says "PATH: line N: why" or why it could
 * not be read. */
PVPCI_API int pvpci_quirks_load(const char *path, struct pvpci_quirks **ret, char *errbuf,
				size_t errlen);
PVPCI_API void pvpci_quirks_free(struct pvpci_quirks *q);	/* NULL is fine */

/* Fields parsed, over every line. */
PVPCI_API size_t pvpci_quirks_count(const struct pvpci_quirks *q);

/*
 * Field i (0 .. count - 1) as one line of text, in the form it was given
 * (pciback's, or keyed by IDs with this one field), which the parser
 * reads back as the same field: what a record keeps of the quirks in
 * force.  NULL when there is no field i or buf is too small
 * (PVPCI_QUIRKS_FIELD_LEN always suffices).
 */
#define PVPCI_QUIRKS_FIELD_LEN	64
PVPCI_API const char *pvpci_quirks_field(const struct pvpci_quirks *q, size_t i, char *buf,
					 size_t len);

/*
 * Add the fields of every quirk that matches cs's host function (its
 * address, and its IDs as the host had them at bind) to cs, as
 * pass-through registers named "quirk".  All or nothing: when one field
 * cannot be added, none is, and errbuf says which line and why.  Returns
 * the number of fields added (0 when nothing matches), -EEXIST (overlaps
 * a register of the engine, or another quirk that matches too), -EINVAL
 * (past the function's config space) or -ENOMEM.
 */
PVPCI_API int pvpci_quirks_apply(const struct pvpci_quirks *q, struct pvpci_cs *cs, char *errbuf,
				 size_t errlen);

#endif
