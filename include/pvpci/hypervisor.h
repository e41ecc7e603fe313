/*
 * What pvpci asks of the hypervisor itself (libxenctrl), as a table so
 * that tests can stand in for Xen: a guest's pirqs for the MSI and MSI-X
 * of a function (the backend's interrupt allocator, irq_xen.c) and for
 * its legacy interrupt, a guest's permission to reach a function's
 * memory, I/O ports and interrupt, and the function's place in the
 * guest's IOMMU context (the toolstack's attach and detach, as libxl does
 * them for a PV guest, with what pciback does for MSI-X).  The real table is pvpci_hv_open's
 * (lib/xenlibs.c).  Each call returns 0 or a negative errno.  Backends
 * embed struct pvpci_hv first.
 */
#ifndef PVPCI_HYPERVISOR_H
#define PVPCI_HYPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvpci/api.h"
#include "pvpci/bdf.h"

struct pvpci_hv;

#define PVPCI_DOMID_IO	0x7ff1U	/* DOMID_IO (xen/include/public/xen.h): the quarantine */

struct pvpci_hv_ops {
	/*
	 * Map one message interrupt of host function bdf into domid's pirqs,
	 * the pirq chosen by Xen into *ret_pirq (xc_physdev_map_pirq_msi):
	 * MSI with table_base 0, or MSI-X table entry entry_nr, table_base
	 * the host address of the BAR the table is in.
	 */
	int (*map_pirq_msi)(struct pvpci_hv *hv, unsigned domid, const struct pvpci_bdf *bdf,
			    unsigned entry_nr, uint64_t table_base, int *ret_pirq);
	/* The legacy interrupt gsi as domid's pirq of the same number
	 * (xc_physdev_map_pirq, as libxl asks for it). */
	int (*map_pirq_gsi)(struct pvpci_hv *hv, unsigned domid, int gsi, int *ret_pirq);
	int (*unmap_pirq)(struct pvpci_hv *hv, unsigned domid, int pirq);
	/* Give (allow) or take back domid's access to machine frames
	 * first_mfn .. first_mfn + nr_mfns - 1, I/O ports first .. first +
	 * nr - 1, interrupt pirq. */
	int (*iomem_permission)(struct pvpci_hv *hv, unsigned domid, uint64_t first_mfn, uint64_t nr_mfns,
				bool allow);
	int (*ioport_permission)(struct pvpci_hv *hv, unsigned domid, uint32_t first, uint32_t nr, bool allow);
	int (*irq_permission)(struct pvpci_hv *hv, unsigned domid, int pirq, bool allow);
	/*
	 * Put host function bdf in domid's IOMMU context (xc_assign_device;
	 * relaxed: XEN_DOMCTL_DEV_RDM_RELAXED), or take it out
	 * (xc_deassign_device).  Only then does the function's DMA reach the
	 * guest's memory, and only then does Xen map its MSI and MSI-X as the
	 * guest's pirqs (map_domain_pirq looks for it among the guest's
	 * functions).  -EOPNOTSUPP: the domain has no IOMMU context (Xen has
	 * no IOMMU, or the domain was made without passthrough).
	 *
	 * domid PVPCI_DOMID_IO is Xen's quarantine (XSA-302), where the
	 * toolstack puts a function it makes assignable: its DMA then reaches
	 * nothing of dom0's.  Assigning a quarantined function to a guest
	 * takes it out; de-assigning it from the guest puts it back; only
	 * de-assigning it from PVPCI_DOMID_IO gives it back to dom0.  Under
	 * Xen's iommu=no-quarantine (make e2e, Xen 4.17.7) the assignment to
	 * PVPCI_DOMID_IO succeeds and leaves the function dom0's, and the
	 * de-assignment from it answers -ENODEV.
	 */
	int (*assign_device)(struct pvpci_hv *hv, unsigned domid, const struct pvpci_bdf *bdf, bool relaxed);
	int (*deassign_device)(struct pvpci_hv *hv, unsigned domid, const struct pvpci_bdf *bdf);
	/*
	 * Tell Xen where host function bdf's MSI-X table is, while no entry
	 * of it is in use (PHYSDEVOP_prepare_msix), or forget it
	 * (PHYSDEVOP_release_msix), as pciback does when it seizes and lets
	 * go of a function: Xen keeps the table's pages read-only to guests,
	 * and maps MSI-X for a function assigned to a guest only once told
	 * (-ENODATA otherwise).  -EBUSY: told already, or its entries are
	 * in use.  Only for a function that has MSI-X: Xen 4.17's
	 * pci_prepare_msix dereferences NULL for one without (a panic).
	 */
	int (*prepare_msix)(struct pvpci_hv *hv, const struct pvpci_bdf *bdf, bool prepare);
	void (*close)(struct pvpci_hv *hv);
};

struct pvpci_hv {
	const struct pvpci_hv_ops *ops;
};

/* Whether this machine has Xen's privileged interface (/dev/xen/privcmd). */
PVPCI_API bool pvpci_hv_present(void);
/* Open it (xc_interface_open): -ENODEV "not a Xen host" where it is
 * missing; otherwise why libxenctrl refused. */
PVPCI_API int pvpci_hv_open(struct pvpci_hv **ret, char *errbuf, size_t errlen);
PVPCI_API void pvpci_hv_close(struct pvpci_hv *hv);	/* NULL is fine */

#endif
