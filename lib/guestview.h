/*
 * What a guest has been shown of one exported function while a frontend
 * has it (the engine's virtual registers, the message interrupts it was
 * given), kept in DIR/<bdf>.guest beside the function's saved state, so
 * that a backend restarted under a guest that still has the function
 * (killed, crashed, upgraded) gives it the same view and takes its
 * interrupts over.  Written at each change (replaced by a rename: a kill
 * leaves the old view or the new one), never synced: the guest it
 * describes does not outlive the host.  Private to the library.
 */
#ifndef PVPCI_GUESTVIEW_H
#define PVPCI_GUESTVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "pvpci/bdf.h"
#include "pvpci/confspace.h"
#include "pvpci/pciif.h"

#define PVPCI_GUESTVIEW_MAX	32768	/* bigger is not ours: a view is ~1 KiB */

struct pvpci_guestview {
	struct pvpci_bdf bdf;
	struct pvpci_cs_virt virt;
	struct pvpci_pciif_intr intr;
};

/* The text of v into buf (NUL-terminated); its length, or -ENOSPC. */
int pvpci_guestview_format(const struct pvpci_guestview *v, char *buf, size_t len);
/* text back into *ret; -EBADMSG (with the line in errbuf) when it is not
 * one, *ret untouched. */
int pvpci_guestview_parse(const char *text, struct pvpci_guestview *ret, char *errbuf, size_t errlen);

/* dir's file for v->bdf, replaced. */
int pvpci_guestview_save(const char *dir, const struct pvpci_guestview *v, char *errbuf, size_t errlen);
/* bdf's file; -ENOENT when there is none, -EBADMSG when it does not parse
 * or is another function's. */
int pvpci_guestview_load(const char *dir, const struct pvpci_bdf *bdf, struct pvpci_guestview *ret,
			 char *errbuf, size_t errlen);
/* bdf's file gone (0 when there was none). */
int pvpci_guestview_remove(const char *dir, const struct pvpci_bdf *bdf);

#endif
