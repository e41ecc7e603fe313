/*
 * The xen transport's channel (transport.h): the page a frontend granted,
 * mapped, and its event channel, bound on a handle of the channel's own,
 * through the calls of struct pvpci_xen_ops (xenlibs.c makes them to
 * libxengnttab and libxenevtchn; tests make them to fakes).
 *
 * Kicks: when the frontend notifies, Xen masks the port and the event
 * channel device queues it: evt_fd becomes readable, ack takes the port
 * (pending).  The port stays masked while the backend serves the op, so
 * a frontend kicking meanwhile costs the backend nothing; kicks it sent
 * are held by Xen and fire again at the unmask.  The backend unmasks
 * (rearm) only after it answered and notified: the answer's notification
 * goes out first, and the unmask's system call is off the path between
 * reading the op and notifying (measured: notify first, unmask after, is
 * the faster order; ../shared/notes/xen-under-qemu.md).
 *
 * Owns the mapping, the binding and the handle; nothing of what an op
 * means.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "pvpci/transport.h"

struct xen_chan {
	struct pvpci_chan c;
	struct pvpci_xen *x;
	struct pvpci_xen_evtchn *h;
	uint32_t local_port;
	bool bound;
	bool masked;		/* ack took a kick; rearm unmasks */
};

static struct xen_chan *xc_of(struct pvpci_chan *c)
{
	return (struct xen_chan *)c;
}

static int xen_notify(struct pvpci_chan *c)
{
	struct xen_chan *xc = xc_of(c);

	return xc->x->ops->notify(xc->x, xc->h, xc->local_port);
}

static int xen_ack(struct pvpci_chan *c)
{
	struct xen_chan *xc = xc_of(c);
	int port = xc->x->ops->pending(xc->x, xc->h);

	if (port == -EAGAIN)
		return 0;
	if (port < 0)
		return port;
	/* The handle is the channel's own: only its port can fire on it. */
	if ((uint32_t)port != xc->local_port)
		return -EPROTO;
	xc->masked = true;
	return 1;
}

static int xen_rearm(struct pvpci_chan *c)
{
	struct xen_chan *xc = xc_of(c);

	if (!xc->masked)
		return 0;
	xc->masked = false;
	return xc->x->ops->unmask(xc->x, xc->h, xc->local_port);
}

static int xen_wait(struct pvpci_chan *c, int timeout_ms)
{
	struct pollfd p = { .fd = c->evt_fd, .events = POLLIN };
	int r;

	for (;;) {
		r = xen_ack(c);
		if (r > 0) {
			/* Whoever waits reads the page next: nothing between. */
			r = xen_rearm(c);
			return r < 0 ? r : 1;
		}
		if (r < 0)
			return r;
		r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return 0;
		if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
			return -EPIPE;
	}
}

static void xen_close(struct pvpci_chan *c)
{
	struct xen_chan *xc = xc_of(c);

	if (xc->bound)
		xc->x->ops->unbind(xc->x, xc->h, xc->local_port);
	if (xc->h)
		xc->x->ops->evtchn_close(xc->x, xc->h);
	if (c->sh)
		xc->x->ops->unmap(xc->x, c->sh);
	free(xc);
}

static const struct pvpci_chan_ops xen_chan_ops = {
	.name = "xen",
	.notify = xen_notify,
	.ack = xen_ack,
	.wait = xen_wait,
	.rearm = xen_rearm,
	.close = xen_close,
};

int pvpci_xen_connect(void *ctx, unsigned domid, uint32_t ref, uint32_t port, struct pvpci_chan **ret,
		      char *errbuf, size_t errlen)
{
	struct pvpci_xen *x = ctx;
	struct xen_chan *xc = calloc(1, sizeof(*xc));
	void *page = NULL;
	int r;

	if (!xc)
		return pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
	xc->x = x;
	xc->c.ops = &xen_chan_ops;
	xc->c.ctl_fd = -1;
	xc->c.evt_fd = -1;
	xc->c.domid = domid;
	xc->c.ref = ref;
	xc->c.port = port;
	r = x->ops->map(x, domid, ref, &page);
	if (r < 0) {
		/* -ENOENT is the backend's "no such grant"; this is another thing. */
		r = pvpci_errf(errbuf, errlen, r == -ENOENT ? -EINVAL : r,
			       "mapping grant %u of domain %u: %s", ref, domid, strerror(-r));
		goto fail;
	}
	xc->c.sh = page;
	r = x->ops->evtchn_open(x, &xc->h, &xc->c.evt_fd);
	if (r < 0) {
		r = pvpci_errf(errbuf, errlen, r, "opening an event channel handle: %s", strerror(-r));
		goto fail;
	}
	r = x->ops->bind(x, xc->h, domid, port);
	if (r < 0) {
		r = pvpci_errf(errbuf, errlen, r == -ENOENT ? -EINVAL : r,
			       "binding event channel %u of domain %u: %s", port, domid, strerror(-r));
		goto fail;
	}
	xc->local_port = (uint32_t)r;
	xc->bound = true;
	*ret = &xc->c;
	return 0;
fail:
	xen_close(&xc->c);
	return r;
}

void pvpci_xen_close(struct pvpci_xen *x)
{
	if (x)
		x->ops->close(x);
}
