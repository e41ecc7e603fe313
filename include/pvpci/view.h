/*
 * What a person or lspci reads: the guest-visible config space of one
 * function as `lspci -xxxx` text, or as a table of registers with the
 * policy of each beside the host's value.  Owns formatting only.
 */
#ifndef PVPCI_VIEW_H
#define PVPCI_VIEW_H

#include <stdio.h>

#include "pvpci/api.h"
#include "pvpci/confspace.h"
#include "pvpci/hostdev.h"

/* The guest's view read through the engine, in `lspci -xxxx` text.
 * Returns 0 or a negative errno. */
PVPCI_API int pvpci_view_lspci(FILE *f, struct pvpci_cs *cs, const char *desc);

/* Every register and every run of unhandled bytes with host value, guest
 * value and policy, and the capability chain with what stays visible. */
PVPCI_API int pvpci_view_table(FILE *f, struct pvpci_cs *cs, const char *desc);

/*
 * Host function hd as `pvpci capture` writes it: `lspci -xxxx` text of
 * cfg (its config space, hd->cfg_size bytes) with Region lines giving the
 * BAR sizes the host reports, which `sim:FILE` loads as it was.  Returns
 * 0 or a negative errno.
 */
PVPCI_API int pvpci_view_capture(FILE *f, struct pvpci_hostdev *hd, const uint8_t *cfg);

/*
 * "Ethernet controller: Red Hat, Inc. Virtio network device (rev 01)"
 * from the IDs in cfg, with names from pci.ids through libpci where it is
 * built in, else numbers.  Returns buf.
 */
PVPCI_API char *pvpci_describe(const uint8_t *cfg, char *buf, size_t len);

#endif
