/*
 * Shared legacy interrupts (hostdev.h): which other functions of the host
 * have their INTx on the same line as a function's.  Xen's SUPPORT.md
 * ("x86/PCI Device Passthrough") does not security-support passing through
 * a device that shares resources with another, a line interrupt used by
 * several devices being its first example: a guest that holds the line
 * asserted, or never acknowledges it, disturbs the other device's driver,
 * in dom0 or another guest.  The backend refuses such a function unless
 * told to accept the risk; this file only finds the sharers.
 */
#include <errno.h>
#include <stdlib.h>

#include "pvpci/hostdev.h"

#define MAX_FUNCS	4096	/* what one host lists at most (a dump's limit too) */

int pvpci_host_intx(struct pvpci_host *h, const struct pvpci_bdf *bdf, struct pvpci_intx *ret)
{
	struct pvpci_intx in;
	int r;

	if (!h || !bdf || !ret)
		return -EINVAL;
	if (!h->ops->host_intx) {
		pvpci_host_set_err(h, "%s hosts cannot tell which interrupt a function has", h->ops->name);
		return -EOPNOTSUPP;
	}
	r = h->ops->host_intx(h, bdf, &in);
	if (r < 0)
		return r;
	*ret = in;
	return 0;
}

int pvpci_host_intx_sharers(struct pvpci_host *h, const struct pvpci_bdf *bdf,
			    struct pvpci_intx *ret_intx, struct pvpci_bdf *ret, size_t max, size_t *ret_n)
{
	struct pvpci_bdf *all;
	struct pvpci_intx mine;
	size_t n = 0, found = 0;
	int r;

	if (!ret_n || (max && !ret))
		return -EINVAL;
	r = pvpci_host_intx(h, bdf, &mine);
	if (r < 0)
		return r;
	if (mine.pin && mine.irq) {
		all = malloc(MAX_FUNCS * sizeof(*all));
		if (!all)
			return -ENOMEM;
		r = pvpci_host_list(h, all, MAX_FUNCS, &n);
		if (r < 0) {
			free(all);
			return r;
		}
		for (size_t i = 0; i < n && i < MAX_FUNCS; i++) {
			struct pvpci_intx o;

			/* One that cannot say (gone since the list) shares nothing we know of. */
			if (!pvpci_bdf_cmp(&all[i], bdf) || h->ops->host_intx(h, &all[i], &o) < 0 || !o.pin ||
			    o.irq != mine.irq)
				continue;
			if (found < max)
				ret[found] = all[i];
			found++;
		}
		free(all);
	}
	if (ret_intx)
		*ret_intx = mine;
	*ret_n = found;
	return 0;
}
