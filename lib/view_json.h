/*
 * The members lib/view.c writes into pvpci's --json documents (the
 * documents are described in doc/schema/).  Private, as json.h is: each
 * writes members into the object the caller has open.
 */
#ifndef PVPCI_LIB_VIEW_JSON_H
#define PVPCI_LIB_VIEW_JSON_H

#include <stdint.h>

#include "json.h"
#include "pvpci/bdf.h"
#include "pvpci/confspace.h"

/* "bdf" ("0000:03:00.0") and its numbers "domain", "bus", "dev", "func". */
void pvpci_view_json_bdf(struct pvpci_json *j, const struct pvpci_bdf *b);

/*
 * Those, "description" (desc, or pvpci_describe of cfg when desc is NULL
 * or ""), and what the header of cfg says: "vendor_id", "device_id",
 * "class" (24 bits), "revision", "header_type" (7 bits), "multifunction",
 * and for a type 0 header "subsystem_vendor_id" and "subsystem_id".
 */
void pvpci_view_json_ids(struct pvpci_json *j, const struct pvpci_bdf *b, const uint8_t *cfg,
			 const char *desc);

/*
 * One function's guest view: its ids, "exportable" true, "permissive",
 * "config_size", "config" and "host_config" (hex of every byte the guest
 * reads and the host had at bind), "capabilities", "chain_note",
 * "registers" (the table's rows with their masks) and "unhandled" (its
 * runs of bytes no register covers).
 */
void pvpci_view_json(struct pvpci_json *j, struct pvpci_cs *cs, const char *desc);

#endif
