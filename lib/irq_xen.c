/*
 * The Xen interrupt allocator behind struct pvpci_irq_ops: a guest's
 * MSI and MSI-X interrupts are pirqs of its domain, each mapped by the
 * hypervisor for the host function's message (or MSI-X table entry) and
 * unmapped when the guest disables it, loses the function or goes away.
 * As Linux's dom0 does when pciback enables MSI for a PV guest (the pirq
 * mapped for the device's owner domain, the number handed to the guest,
 * which binds it) and as QEMU does for an HVM guest's passthrough
 * (xc_physdev_map_pirq_msi with Xen choosing the pirq).  The calls go
 * through struct pvpci_hv_ops (hypervisor.h).
 *
 * Owns the set of pirqs it mapped for one domain: only those are ever
 * unmapped (the toolstack maps the legacy interrupt's pirq in the same
 * domain; a release of a number not ours must not take it).  Not owned:
 * the MSI / MSI-X capability (pciif turns Enable on after alloc and off
 * before release, so the hardware never fires into an unmapped pirq).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "pvpci/hypervisor.h"
#include "pvpci/pciif.h"

struct pvpci_irq_xen {
	struct pvpci_hv *hv;
	unsigned domid;
	unsigned max, n;
	uint32_t *pirqs;		/* mapped now, n of them, in mapping order */
};

int pvpci_irq_xen_new(struct pvpci_hv *hv, unsigned domid, unsigned max, struct pvpci_irq_xen **ret)
{
	struct pvpci_irq_xen *a;

	if (!hv || !max)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->pirqs = calloc(max, sizeof(*a->pirqs));
	if (!a->pirqs) {
		free(a);
		return -ENOMEM;
	}
	a->hv = hv;
	a->domid = domid;
	a->max = max;
	*ret = a;
	return 0;
}

unsigned pvpci_irq_xen_in_use(const struct pvpci_irq_xen *a)
{
	return a->n;
}

/* Unmap pirq if it is one of ours; errors are the domain's death (its
 * pirqs went with it) or Xen's, and nothing more can be done either way. */
static void unmap(struct pvpci_irq_xen *a, uint32_t pirq)
{
	for (unsigned i = 0; i < a->n; i++)
		if (a->pirqs[i] == pirq) {
			a->hv->ops->unmap_pirq(a->hv, a->domid, (int)pirq);
			a->pirqs[i] = a->pirqs[--a->n];
			return;
		}
}

void pvpci_irq_xen_free(struct pvpci_irq_xen *a)
{
	if (!a)
		return;
	while (a->n)
		unmap(a, a->pirqs[a->n - 1]);
	free(a->pirqs);
	free(a);
}

void pvpci_irq_xen_abandon(struct pvpci_irq_xen *a)
{
	if (!a)
		return;
	free(a->pirqs);
	free(a);
}

static int xen_alloc(void *ctx, const struct pvpci_irq_req *req, uint32_t *ret)
{
	struct pvpci_irq_xen *a = ctx;
	unsigned i;
	int r = 0;

	if (req->n == 0)
		return -EINVAL;
	/* Several messages of one MSI need MAP_PIRQ_TYPE_MULTI_MSI, which
	 * libxenctrl does not ask for. */
	if (!req->msix && req->n > 1)
		return -EOPNOTSUPP;
	/* Xen tells MSI-X from MSI by the table's address. */
	if (req->msix && (!req->entries || !req->table_base))
		return -ENXIO;
	if (req->n > a->max - a->n)
		return -ENOSPC;
	for (i = 0; i < req->n; i++) {
		int pirq = -1;

		r = a->hv->ops->map_pirq_msi(a->hv, a->domid, req->host, req->msix ? req->entries[i] : 0,
					     req->msix ? req->table_base : 0, &pirq);
		if (r == 0 && pirq < 0)
			r = -EIO;
		if (r < 0)
			break;
		ret[i] = (uint32_t)pirq;
		a->pirqs[a->n++] = (uint32_t)pirq;
	}
	if (r < 0)
		while (i--)	/* the ones this call mapped, last first */
			unmap(a, ret[i]);
	return r;
}

static void xen_release(void *ctx, const struct pvpci_irq_req *req, const uint32_t *irqs)
{
	struct pvpci_irq_xen *a = ctx;

	for (unsigned i = req->n; i-- > 0;)
		unmap(a, irqs[i]);
}

/* The pirqs an earlier pvpcid mapped for this domain: Xen keeps a
 * domain's pirqs until they are unmapped or the domain dies, whatever
 * becomes of the process that asked; they are ours to unmap from now on. */
static int xen_adopt(void *ctx, const struct pvpci_irq_req *req, const uint32_t *irqs)
{
	struct pvpci_irq_xen *a = ctx;

	if (req->n > a->max - a->n)
		return -ENOSPC;
	for (unsigned i = 0; i < req->n; i++) {
		if (irqs[i] > INT32_MAX)
			return -ERANGE;
		for (unsigned k = 0; k < a->n; k++)
			if (a->pirqs[k] == irqs[i])
				return -EEXIST;
		for (unsigned k = 0; k < i; k++)
			if (irqs[k] == irqs[i])
				return -EEXIST;
	}
	for (unsigned i = 0; i < req->n; i++)
		a->pirqs[a->n++] = irqs[i];
	return 0;
}

const struct pvpci_irq_ops pvpci_irq_xen_ops = {
	.alloc = xen_alloc,
	.release = xen_release,
	.adopt = xen_adopt,
};
