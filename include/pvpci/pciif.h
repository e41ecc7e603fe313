/*
 * The PV PCI protocol of xen/io/pciif.h, defined here on our own so that
 * the library builds where Xen's headers are not installed; a test checks
 * every size and offset against Xen's header where it is.  The shared page
 * holds one struct xen_pci_sharedinfo; the frontend fills op and sets
 * XEN_PCIF_active, the backend answers and clears it.  AER runs the other
 * way, started by the backend (XEN_PCIB_AERHANDLER / XEN_PCIB_active).
 * Names follow Xen's, with a pvpci_ prefix on the types.
 */
#ifndef PVPCI_PCIIF_H
#define PVPCI_PCIIF_H

#include <stddef.h>
#include <stdint.h>

#include "pvpci/errors.h"

#define PVPCI_XEN_PCI_MAGIC	"7"

/* flags of the shared page */
#define PVPCI_XEN_PCIF_active_bit	0	/* frontend: an op is waiting */
#define PVPCI_XEN_PCIB_AERHANDLER_bit	1	/* frontend: it has an AER handler */
#define PVPCI_XEN_PCIB_active_bit	2	/* backend: an AER op is waiting */
#define PVPCI_XEN_PCIF_active		(1u << PVPCI_XEN_PCIF_active_bit)
#define PVPCI_XEN_PCIB_AERHANDLER	(1u << PVPCI_XEN_PCIB_AERHANDLER_bit)
#define PVPCI_XEN_PCIB_active		(1u << PVPCI_XEN_PCIB_active_bit)

/* op->cmd, from one X-macro so numbers and names cannot drift */
#define PVPCI_XEN_PCI_OPS(X)			\
	X(conf_read,        0)			\
	X(conf_write,       1)			\
	X(enable_msi,       2)			\
	X(disable_msi,      3)			\
	X(enable_msix,      4)			\
	X(disable_msix,     5)			\
	X(aer_detected,     6)			\
	X(aer_resume,       7)			\
	X(aer_mmio,         8)			\
	X(aer_slotreset,    9)			\
	X(enable_multi_msi, 10)

enum pvpci_xen_pci_op {
#define PVPCI_OP_ENUM(name, val) PVPCI_XEN_PCI_OP_##name = (val),
	PVPCI_XEN_PCI_OPS(PVPCI_OP_ENUM)
#undef PVPCI_OP_ENUM
};

/* "conf_read" for 0; NULL for an unknown command. */
const char *pvpci_op_name(uint32_t cmd);

#define PVPCI_SH_INFO_MAX_VEC	128

struct pvpci_msix_entry {
	uint16_t vector;	/* OUT: the interrupt the backend bound */
	uint16_t entry;		/* IN: the table entry */
};

struct pvpci_op {
	uint32_t cmd;		/* IN: PVPCI_XEN_PCI_OP_* */
	int32_t err;		/* OUT: PVPCI_ERR_* */
	uint32_t domain;	/* IN: which device */
	uint32_t bus;
	uint32_t devfn;
	int32_t offset;		/* IN: config access */
	int32_t size;
	uint32_t value;		/* IN/OUT */
	uint32_t info;		/* IN: MSI-X entry count, MSI vector count */
	struct pvpci_msix_entry msix_entries[PVPCI_SH_INFO_MAX_VEC];
};

struct pvpci_aer_op {
	uint32_t cmd;		/* IN (to the frontend): PVPCI_XEN_PCI_OP_aer_* */
	int32_t err;		/* IN/OUT: the error state, then the frontend's result */
	uint32_t domain;
	uint32_t bus;
	uint32_t devfn;
};

struct pvpci_sharedinfo {
	uint32_t flags;
	struct pvpci_op op;
	struct pvpci_aer_op aer_op;
};

/* The layout is ABI: these are the numbers of Xen's header on every arch. */
_Static_assert(sizeof(struct pvpci_msix_entry) == 4, "msix entry");
_Static_assert(offsetof(struct pvpci_op, msix_entries) == 36, "op header");
_Static_assert(sizeof(struct pvpci_op) == 36 + 4 * PVPCI_SH_INFO_MAX_VEC, "op");
_Static_assert(sizeof(struct pvpci_aer_op) == 20, "aer op");
_Static_assert(offsetof(struct pvpci_sharedinfo, op) == 4, "sharedinfo op");
_Static_assert(offsetof(struct pvpci_sharedinfo, aer_op) == 4 + 36 + 4 * 128, "sharedinfo aer");
_Static_assert(sizeof(struct pvpci_sharedinfo) == 4 + 548 + 20, "sharedinfo");
_Static_assert(sizeof(struct pvpci_sharedinfo) <= 4096, "fits a page");

#endif
