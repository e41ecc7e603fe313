/*
 * One host function while it is exported: the host device, the engine
 * that virtualizes its config space for the guest, and its saved state,
 * through the moments of seed 000:
 *   bind          save the config space (or, when a saved state is found
 *                 from an earlier run that died, restore it first: the
 *                 device may hold what a guest left), then build the engine
 *   adopt         an earlier run's function whose guest still has it:
 *                 its saved state loaded, the device left as it is
 *   guest start   (boot, hot-add) restore the saved state; a fresh engine
 *   guest stop    (shutdown, hot-remove) bring to D0, reset, restore; a
 *                 fresh engine
 *   unbind        restore, forget the saved state, release
 * Owns the hostdev it opens and the engine; the host stays the caller's.
 * The daemon calls these on xenbus events; the CLI and tests call them
 * directly.
 */
#ifndef PVPCI_DEVICE_H
#define PVPCI_DEVICE_H

#include <stddef.h>

#include "pvpci/api.h"
#include "pvpci/confspace.h"
#include "pvpci/hostdev.h"
#include "pvpci/quirks.h"
#include "pvpci/saverestore.h"

struct pvpci_device;

struct pvpci_device_opts {
	const char *state_dir;		/* NULL: pvpci_statefile_dir's default */
	struct pvpci_cs_opts cs;	/* permissive, interrupt control, log, delay */
	enum pvpci_sr_reset reset;	/* at guest stop */
	const struct pvpci_quirks *quirks;	/* NULL: none; not owned */
};

/*
 * Bind bdf of h.  *ret_restored (may be NULL) says whether a saved state
 * of an earlier run was found and restored.  On failure nothing is left
 * open, *ret is untouched and errbuf says why.
 */
PVPCI_API int pvpci_device_bind(struct pvpci_host *h, const struct pvpci_bdf *bdf,
				const struct pvpci_device_opts *o, struct pvpci_device **ret,
				bool *ret_restored, char *errbuf, size_t errlen);

/*
 * Take bdf of h over from an earlier run whose guest still has it (its
 * frontend stayed connected while that run died): the saved state of
 * that run is loaded and kept for the release, and nothing is restored or
 * reset: the device holds what the guest set up, and the engine is built
 * over it as it is.  -ENOENT (errbuf says so) when no state was saved:
 * then the function is not known to be the guest's; other errors as
 * bind.
 */
PVPCI_API int pvpci_device_adopt(struct pvpci_host *h, const struct pvpci_bdf *bdf,
				 const struct pvpci_device_opts *o, struct pvpci_device **ret,
				 char *errbuf, size_t errlen);

PVPCI_API int pvpci_device_guest_start(struct pvpci_device *d, char *errbuf, size_t errlen);
PVPCI_API int pvpci_device_guest_stop(struct pvpci_device *d, char *errbuf, size_t errlen);

/* Restore, remove the saved state and free d (also on failure, after
 * saying why: the device is released either way). */
PVPCI_API int pvpci_device_unbind(struct pvpci_device *d, char *errbuf, size_t errlen);

/* Free d without touching the device or the saved state: what a crash
 * leaves, for tests and for a daemon handing devices to its next run. */
PVPCI_API void pvpci_device_abandon(struct pvpci_device *d);	/* NULL is fine */

PVPCI_API struct pvpci_cs *pvpci_device_cs(const struct pvpci_device *d);
PVPCI_API struct pvpci_hostdev *pvpci_device_hostdev(const struct pvpci_device *d);
PVPCI_API const struct pvpci_sr_state *pvpci_device_saved(const struct pvpci_device *d);

#endif
