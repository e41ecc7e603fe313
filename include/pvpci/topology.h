/*
 * Where an exported host function appears to the guest.  Owns the mapping
 * guest address <-> host BDF and the root buses a frontend must scan:
 *  - passthrough: the guest sees the host's addresses; one root per
 *    (domain, bus) exported;
 *  - vpci: everything on domain 0 bus 0, 32 slots; functions of one
 *    physical slot share one virtual slot, keeping their function number,
 *    so multi-function devices stay together; @VSLOT places a slot.
 *  - slot: the historical pciback slot backend (seed 004): every function
 *    a slot of its own at function 0, over two virtual buses of 32 slots,
 *    0000:00 and 0000:01, filled in that order (a multi-function device's
 *    functions are spread over several slots, each one function 0).  Both
 *    roots are always there.  A vslot is bus * 32 + slot (0-63), so an
 *    @VSLOT of xl (0-1f) is a slot on bus 0.
 * Knows nothing of config space; callers attach their own per-device
 * pointer to each entry.
 */
#ifndef PVPCI_TOPOLOGY_H
#define PVPCI_TOPOLOGY_H

#include <stddef.h>

#include "pvpci/api.h"
#include "pvpci/bdf.h"

enum pvpci_topo_mode {
	PVPCI_TOPO_PASSTHROUGH,
	PVPCI_TOPO_VPCI,
	PVPCI_TOPO_SLOT,
};

#define PVPCI_TOPO_MAX_DEVS	256	/* 32 slots x 8 functions */
#define PVPCI_TOPO_SLOT_BUSES	2	/* slot: buses 0 and 1 */
#define PVPCI_VSLOT_ANY		(-1)

/* What pciback says when no virtual slot is left (vpci.c, slot.c); the
 * message of a full bus starts with it, after the function's address. */
#define PVPCI_TOPO_FULL_MSG	"No more space on root virtual PCI bus"

struct pvpci_topo;

/* "passthrough" / "vpci" / "slot" <-> mode; -EINVAL for anything else. */
PVPCI_API int pvpci_topo_mode_parse(const char *s, enum pvpci_topo_mode *ret);
PVPCI_API const char *pvpci_topo_mode_name(enum pvpci_topo_mode m);

PVPCI_API int pvpci_topo_new(enum pvpci_topo_mode mode, struct pvpci_topo **ret);
PVPCI_API void pvpci_topo_free(struct pvpci_topo *t);
PVPCI_API enum pvpci_topo_mode pvpci_topo_mode(const struct pvpci_topo *t);

/* Names of the modes for a usage text: "passthrough|vpci|slot". */
#define PVPCI_TOPO_MODES	"passthrough|vpci|slot"

/*
 * Export host at vslot (vpci: 0-31, slot: 0-63; PVPCI_VSLOT_ANY to
 * choose).  Fills *ret_guest.  Errors, with a message in errbuf: -EEXIST
 * (already exported), -ENOSPC (no slot left: the message starts "BDF: "
 * PVPCI_TOPO_FULL_MSG; or vslot taken by another device), -EINVAL (vslot
 * out of range, or given in passthrough mode).
 */
PVPCI_API int pvpci_topo_add(struct pvpci_topo *t, const struct pvpci_bdf *host, int vslot,
			     void *dev, struct pvpci_bdf *ret_guest, char *errbuf, size_t errlen);
/* The vslot that puts a function at guest again (after its frontend left,
 * or a restart): its slot in vpci, bus * 32 + slot in slot mode,
 * PVPCI_VSLOT_ANY in passthrough. */
PVPCI_API int pvpci_topo_vslot_of(enum pvpci_topo_mode mode, const struct pvpci_bdf *guest);
/* Forget host; returns its dev pointer, or NULL when it was not exported.
 * Its slot is free for the next function (slot: nothing else moves). */
PVPCI_API void *pvpci_topo_remove(struct pvpci_topo *t, const struct pvpci_bdf *host);

/* The dev pointer at a guest address (as the protocol carries it:
 * domain, bus, devfn), or NULL.  Out-of-range values find nothing. */
PVPCI_API void *pvpci_topo_lookup(const struct pvpci_topo *t, uint32_t domain, uint32_t bus,
				  uint32_t devfn);
/* Host BDF -> guest BDF; -ENOENT when not exported. */
PVPCI_API int pvpci_topo_guest_of(const struct pvpci_topo *t, const struct pvpci_bdf *host,
				  struct pvpci_bdf *ret_guest);

/* Exported functions in guest address order. */
PVPCI_API size_t pvpci_topo_count(const struct pvpci_topo *t);
PVPCI_API int pvpci_topo_get(const struct pvpci_topo *t, size_t i, struct pvpci_bdf *ret_host,
			     struct pvpci_bdf *ret_guest, void **ret_dev);

/* Root buses the frontend scans, ascending (domain << 8 | bus each);
 * returns how many (at most max are written).  vpci: 0000:00 even while
 * empty; slot: 0000:00 and 0000:01, always. */
PVPCI_API size_t pvpci_topo_roots(const struct pvpci_topo *t, uint32_t *ret, size_t max);

#endif
