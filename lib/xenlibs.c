/*
 * The calls into Xen's tool libraries, behind the tables the rest of the
 * library calls through so that tests can stand in for Xen:
 *   struct pvpci_xen_ops  (transport.h)   libxengnttab, libxenevtchn
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
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xentoollog.h>

#include "errmsg.h"
#include "pvpci/transport.h"

#define GNTDEV	"/dev/xen/gntdev"
#define EVTCHN	"/dev/xen/evtchn"

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
