/*
 * The calls into Xen's tool libraries, behind the tables the rest of the
 * library calls through so that tests can stand in for Xen:
 *   struct pvpci_xen_ops  (transport.h)   libxengnttab, libxenevtchn
 *   struct pvpci_hv_ops   (hypervisor.h)  libxenctrl, and libxencall for
 *                                         the physdev ops it does not wrap
 * Nothing else in the library calls them (libxenstore aside).  Their
 * messages are not printed: a failure comes back as an errno, and the
 * caller says what failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
/* First: it asks Xen's public headers for the tools' definitions, which
 * they give only to the first inclusion. */
#include <xenctrl.h>
#include <xencall.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xentoollog.h>

#include "errmsg.h"
#include "pvpci/hypervisor.h"
#include "pvpci/transport.h"

#define GNTDEV	"/dev/xen/gntdev"
#define EVTCHN	"/dev/xen/evtchn"
#define PRIVCMD	"/dev/xen/privcmd"

/* ---- a logger that says nothing: the library never prints ---- */

static void silent_vmessage(struct xentoollog_logger *l, xentoollog_level level, int errnoval,
			    const char *context, const char *format, va_list al)
{
	(void)l, (void)level, (void)errnoval, (void)context, (void)format, (void)al;
}

static void silent_destroy(struct xentoollog_logger *l)
{
	(void)l;
}

static struct xentoollog_logger silent = {
	.vmessage = silent_vmessage,
	.destroy = silent_destroy,
};

/* errno after a library call that failed, never 0. */
static int lib_errno(void)
{
	return errno ? -errno : -EIO;
}

/* ---- grant table and event channels ---- */

struct real_xen {
	struct pvpci_xen x;
	xengnttab_handle *gt;
};

static int r_map(struct pvpci_xen *x, uint32_t domid, uint32_t ref, void **ret_page)
{
	void *p;

	errno = 0;
	p = xengnttab_map_grant_ref(((struct real_xen *)x)->gt, domid, ref, PROT_READ | PROT_WRITE);
	if (!p)
		return lib_errno();
	*ret_page = p;
	return 0;
}

static int r_unmap(struct pvpci_xen *x, void *page)
{
	errno = 0;
	return xengnttab_unmap(((struct real_xen *)x)->gt, page, 1) < 0 ? lib_errno() : 0;
}

static int r_evtchn_open(struct pvpci_xen *x, struct pvpci_xen_evtchn **ret, int *ret_fd)
{
	xenevtchn_handle *h;
	int fd, fl;

	(void)x;
	errno = 0;
	h = xenevtchn_open(&silent, 0);
	if (!h)
		return lib_errno();
	/* The loop reads it only when it is readable; a spurious wake-up
	 * must not block it (ack never blocks). */
	fd = xenevtchn_fd(h);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int e = -errno;

		xenevtchn_close(h);
		return e;
	}
	*ret = (struct pvpci_xen_evtchn *)h;
	*ret_fd = fd;
	return 0;
}

static void r_evtchn_close(struct pvpci_xen *x, struct pvpci_xen_evtchn *h)
{
	(void)x;
	xenevtchn_close((xenevtchn_handle *)h);
}

static int r_bind(struct pvpci_xen *x, struct pvpci_xen_evtchn *h, uint32_t domid, uint32_t remote_port)
{
	xenevtchn_port_or_error_t p;

	(void)x;
	errno = 0;
	p = xenevtchn_bind_interdomain((xenevtchn_handle *)h, domid, remote_port);
	return p < 0 ? lib_errno() : p;
}

static int r_unbind(struct pvpci_xen *x, struct pvpci_xen_evtchn *h, uint32_t port)
{
	(void)x;
	errno = 0;
	return xenevtchn_unbind((xenevtchn_handle *)h, port) < 0 ? lib_errno() : 0;
}

static int r_notify(struct pvpci_xen *x, struct pvpci_xen_evtchn *h, uint32_t port)
{
	(void)x;
	errno = 0;
	return xenevtchn_notify((xenevtchn_handle *)h, port) < 0 ? lib_errno() : 0;
}

static int r_pending(struct pvpci_xen *x, struct pvpci_xen_evtchn *h)
{
	xenevtchn_port_or_error_t p;

	(void)x;
	errno = 0;
	p = xenevtchn_pending((xenevtchn_handle *)h);
	return p < 0 ? lib_errno() : p;
}

static int r_unmask(struct pvpci_xen *x, struct pvpci_xen_evtchn *h, uint32_t port)
{
	(void)x;
	errno = 0;
	return xenevtchn_unmask((xenevtchn_handle *)h, port) < 0 ? lib_errno() : 0;
}

static void r_close(struct pvpci_xen *x)
{
	struct real_xen *rx = (struct real_xen *)x;

	xengnttab_close(rx->gt);
	free(rx);
}

static const struct pvpci_xen_ops real_xen_ops = {
	.map = r_map,
	.unmap = r_unmap,
	.evtchn_open = r_evtchn_open,
	.evtchn_close = r_evtchn_close,
	.bind = r_bind,
	.unbind = r_unbind,
	.notify = r_notify,
	.pending = r_pending,
	.unmask = r_unmask,
	.close = r_close,
};

bool pvpci_xen_present(void)
{
	return access(GNTDEV, F_OK) == 0 && access(EVTCHN, F_OK) == 0;
}

int pvpci_xen_open(struct pvpci_xen **ret, char *errbuf, size_t errlen)
{
	struct real_xen *rx;
	xenevtchn_handle *probe;
	int e;

	if (access(GNTDEV, F_OK) < 0)
		return pvpci_errf(errbuf, errlen, -ENODEV, "no " GNTDEV ": not a Xen host");
	if (access(EVTCHN, F_OK) < 0)
		return pvpci_errf(errbuf, errlen, -ENODEV, "no " EVTCHN ": not a Xen host");
	rx = calloc(1, sizeof(*rx));
	if (!rx)
		return pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
	errno = 0;
	rx->gt = xengnttab_open(&silent, 0);
	if (!rx->gt) {
		e = lib_errno();
		free(rx);
		return pvpci_errf(errbuf, errlen, e, GNTDEV ": %s", strerror(-e));
	}
	/* Each frontend gets a handle of its own when it connects: say now,
	 * not then, when they cannot be had. */
	errno = 0;
	probe = xenevtchn_open(&silent, 0);
	if (!probe) {
		e = lib_errno();
		xengnttab_close(rx->gt);
		free(rx);
		return pvpci_errf(errbuf, errlen, e, EVTCHN ": %s", strerror(-e));
	}
	xenevtchn_close(probe);
	rx->x.ops = &real_xen_ops;
	*ret = &rx->x;
	return 0;
}

/* ---- the hypervisor: pirqs and permissions ---- */

struct real_hv {
	struct pvpci_hv hv;
	xc_interface *xch;
	xencall_handle *call;	/* PHYSDEVOP_{prepare,release}_msix */
};

static xc_interface *xch_of(struct pvpci_hv *hv)
{
	return ((struct real_hv *)hv)->xch;
}

static int r_map_pirq_msi(struct pvpci_hv *hv, unsigned domid, const struct pvpci_bdf *bdf,
			  unsigned entry_nr, uint64_t table_base, int *ret_pirq)
{
	int pirq = -1;	/* Xen chooses */

	/* libxenctrl asks for MAP_PIRQ_TYPE_MSI, whose bus has no segment. */
	if (bdf->domain)
		return -EOPNOTSUPP;
	errno = 0;
	if (xc_physdev_map_pirq_msi(xch_of(hv), domid, -1, &pirq, pvpci_devfn(bdf), bdf->bus,
				    (int)entry_nr, table_base) < 0)
		return lib_errno();
	*ret_pirq = pirq;
	return 0;
}

static int r_map_pirq_gsi(struct pvpci_hv *hv, unsigned domid, int gsi, int *ret_pirq)
{
	int pirq = gsi;

	errno = 0;
	if (xc_physdev_map_pirq(xch_of(hv), domid, gsi, &pirq) < 0)
		return lib_errno();
	*ret_pirq = pirq;
	return 0;
}

static int r_unmap_pirq(struct pvpci_hv *hv, unsigned domid, int pirq)
{
	errno = 0;
	return xc_physdev_unmap_pirq(xch_of(hv), domid, pirq) < 0 ? lib_errno() : 0;
}

static int r_iomem(struct pvpci_hv *hv, unsigned domid, uint64_t first_mfn, uint64_t nr_mfns, bool allow)
{
	errno = 0;
	return xc_domain_iomem_permission(xch_of(hv), domid, first_mfn, nr_mfns, allow) < 0 ? lib_errno() : 0;
}

static int r_ioport(struct pvpci_hv *hv, unsigned domid, uint32_t first, uint32_t nr, bool allow)
{
	errno = 0;
	return xc_domain_ioport_permission(xch_of(hv), domid, first, nr, allow) < 0 ? lib_errno() : 0;
}

static int r_irq(struct pvpci_hv *hv, unsigned domid, int pirq, bool allow)
{
	errno = 0;
	return xc_domain_irq_permission(xch_of(hv), domid, (uint32_t)pirq, allow) < 0 ? lib_errno() : 0;
}

_Static_assert(PVPCI_DOMID_IO == DOMID_IO, "hypervisor.h's DOMID_IO is Xen's");

/* libxl's pci_encode_bdf: the machine address as Xen's domctl takes it. */
static uint32_t sbdf(const struct pvpci_bdf *bdf)
{
	return (uint32_t)bdf->domain << 16 | (uint32_t)bdf->bus << 8 | pvpci_devfn(bdf);
}

static int r_assign(struct pvpci_hv *hv, unsigned domid, const struct pvpci_bdf *bdf, bool relaxed)
{
	errno = 0;
	return xc_assign_device(xch_of(hv), domid, sbdf(bdf), relaxed ? XEN_DOMCTL_DEV_RDM_RELAXED : 0) < 0 ?
		       lib_errno() : 0;
}

static int r_deassign(struct pvpci_hv *hv, unsigned domid, const struct pvpci_bdf *bdf)
{
	errno = 0;
	return xc_deassign_device(xch_of(hv), domid, sbdf(bdf)) < 0 ? lib_errno() : 0;
}

static int r_prepare_msix(struct pvpci_hv *hv, const struct pvpci_bdf *bdf, bool prepare)
{
	xencall_handle *call = ((struct real_hv *)hv)->call;
	struct physdev_pci_device *dev;
	int r;

	errno = 0;
	dev = xencall_alloc_buffer(call, sizeof(*dev));	/* the hypercall's argument */
	if (!dev)
		return lib_errno();
	dev->seg = (uint16_t)bdf->domain;
	dev->bus = (uint8_t)bdf->bus;
	dev->devfn = (uint8_t)pvpci_devfn(bdf);
	errno = 0;
	r = xencall2(call, __HYPERVISOR_physdev_op, prepare ? PHYSDEVOP_prepare_msix : PHYSDEVOP_release_msix,
		     (uint64_t)(uintptr_t)dev) < 0 ? lib_errno() : 0;
	xencall_free_buffer(call, dev);
	return r;
}

static void r_hv_close(struct pvpci_hv *hv)
{
	xencall_close(((struct real_hv *)hv)->call);
	xc_interface_close(xch_of(hv));
	free(hv);
}

static const struct pvpci_hv_ops real_hv_ops = {
	.map_pirq_msi = r_map_pirq_msi,
	.map_pirq_gsi = r_map_pirq_gsi,
	.unmap_pirq = r_unmap_pirq,
	.iomem_permission = r_iomem,
	.ioport_permission = r_ioport,
	.irq_permission = r_irq,
	.assign_device = r_assign,
	.deassign_device = r_deassign,
	.prepare_msix = r_prepare_msix,
	.close = r_hv_close,
};

bool pvpci_hv_present(void)
{
	return access(PRIVCMD, F_OK) == 0;
}

int pvpci_hv_open(struct pvpci_hv **ret, char *errbuf, size_t errlen)
{
	struct real_hv *rh;
	int e;

	if (!pvpci_hv_present())
		return pvpci_errf(errbuf, errlen, -ENODEV, "no " PRIVCMD ": not a Xen host");
	rh = calloc(1, sizeof(*rh));
	if (!rh)
		return pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
	errno = 0;
	rh->xch = xc_interface_open(&silent, &silent, 0);
	if (!rh->xch) {
		e = lib_errno();
		free(rh);
		return pvpci_errf(errbuf, errlen, e, "libxenctrl: %s", strerror(-e));
	}
	errno = 0;
	rh->call = xencall_open(&silent, 0);
	if (!rh->call) {
		e = lib_errno();
		xc_interface_close(rh->xch);
		free(rh);
		return pvpci_errf(errbuf, errlen, e, "libxencall: %s", strerror(-e));
	}
	rh->hv.ops = &real_hv_ops;
	*ret = &rh->hv;
	return 0;
}

void pvpci_hv_close(struct pvpci_hv *hv)
{
	if (hv)
		hv->ops->close(hv);
}
