/*
 * The frontend's xenbus driver (xenbus.h), as Linux's pcifront: publish
 * the page and event channel, follow the backend's states, rescan when
 * devices come and go.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

#include "clock.h"
#include "errmsg.h"
#include "pvpci/xenbus.h"

struct pvpci_xbfront {
	struct xs_handle *xs;
	unsigned domid;
	char fe[64], be[128], be_state[140];
	struct pvpci_front *f;
	struct pvpci_front_opts o;
	int (*rescan)(void *ctx, struct pvpci_front *f);
	void *rescan_ctx;
	char socket[108];	/* the local transport's, for reconnecting */
	int timeout_ms;
};

static bool set_state(struct pvpci_xbfront *x, int state)
{
	char path[96], v[8];

	snprintf(path, sizeof(path), "%s/state", x->fe);
	snprintf(v, sizeof(v), "%d", state);
	return xs_write(x->xs, XBT_NULL, path, v, (unsigned)strlen(v));
}

/* root_num / root-N, as pcifront_connect reads them; 0000:00 when none. */
static size_t read_roots(struct pvpci_xbfront *x, uint32_t *roots, size_t max)
{
	char *s = pvpci_xb_read(x->xs, x->be, "root_num");
	int num = s ? atoi(s) : -1;
	size_t n = 0;

	free(s);
	if (num < 0) {
		roots[0] = 0;
		return 1;
	}
	for (int i = 0; i < num && n < max; i++) {
		char key[32];
		unsigned dom, bus;

		snprintf(key, sizeof(key), "root-%d", i);
		s = pvpci_xb_read(x->xs, x->be, key);
		if (s && sscanf(s, "%x:%x", &dom, &bus) == 2 && dom <= 0xffff && bus <= 0xff)
			roots[n++] = dom << 8 | bus;
		free(s);
	}
	return n;
}

/* Publish what the backend needs, in one transaction (pcifront_publish_info). */
static int publish(struct pvpci_xbfront *x, const struct pvpci_chan *c)
{
	for (int tries = 0; tries < 16; tries++) {
		xs_transaction_t t = xs_transaction_start(x->xs);
		char path[96], v[16];
		bool ok = t != XBT_NULL;

		snprintf(path, sizeof(path), "%s/pci-op-ref", x->fe);
		snprintf(v, sizeof(v), "%u", c->ref);
		ok = ok && xs_write(x->xs, t, path, v, (unsigned)strlen(v));
		snprintf(path, sizeof(path), "%s/event-channel", x->fe);
		snprintf(v, sizeof(v), "%u", c->port);
		ok = ok && xs_write(x->xs, t, path, v, (unsigned)strlen(v));
		snprintf(path, sizeof(path), "%s/magic", x->fe);
		ok = ok && xs_write(x->xs, t, path, PVPCI_XEN_PCI_MAGIC, 1);
		if (!ok) {
			int e = -errno;

			if (t != XBT_NULL)
				xs_transaction_end(x->xs, t, true);
			return e ? e : -EIO;
		}
		if (xs_transaction_end(x->xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

#define BIT(st) (1u << (st))

/* Wait for the backend's state to become one of want (bitmask of states),
 * or one of fail; its state, or a negative errno (-EPIPE for fail).  With
 * stale_closed, a Closed the backend is in when the wait begins is what an
 * earlier frontend left, not an answer: it fails only once the backend
 * has been seen in another state and comes back to it. */
static int wait_backend(struct pvpci_xbfront *x, unsigned want, unsigned fail, bool stale_closed,
			int timeout_ms)
{
	long deadline = pvpci_now_ms() + timeout_ms;

	for (;;) {
		int st = pvpci_xb_read_state(x->xs, x->be);
		char **w;
		struct pollfd p = { .fd = xs_fileno(x->xs), .events = POLLIN };
		long left = deadline - pvpci_now_ms();

		if (want & BIT(st))
			return st;
		if (st != PVPCI_XB_Closed)
			stale_closed = false;
		if ((fail & BIT(st)) && !(st == PVPCI_XB_Closed && stale_closed))
			return -EPIPE;
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
		while ((w = xs_check_watch(x->xs)))
			free(w);
	}
}

/*
 * A frontend before us died without closing (killed, or its guest's
 * kernel gone under it): the backend is still Connected, or in the middle
 * of a reconfiguration, to a channel nobody holds, and would take our
 * Initialised for nothing new.  Walk it to Closed first, as Linux's
 * xenbus_reset_frontend does after a kexec: Closing, then Closed, each
 * answered by the backend.  From Closed the backend takes a new frontend.
 * (A frontend still running for the domain is let go the same way: the
 * last one to connect has the device.)
 */
static int reset_backend(struct pvpci_xbfront *x, char *errbuf, size_t errlen)
{
	int st = pvpci_xb_read_state(x->xs, x->be), r = 0;

	switch (st) {
	case PVPCI_XB_Connected:
	case PVPCI_XB_Reconfiguring:
	case PVPCI_XB_Reconfigured:
		r = set_state(x, PVPCI_XB_Closing) ? 0 : -errno;
		if (!r)
			r = wait_backend(x, BIT(PVPCI_XB_Closing) | BIT(PVPCI_XB_Closed), 0, false, x->timeout_ms);
		if (r < 0)
			break;
		__attribute__((fallthrough));
	case PVPCI_XB_Closing:
		r = set_state(x, PVPCI_XB_Closed) ? 0 : -errno;
		if (!r)
			r = wait_backend(x, BIT(PVPCI_XB_Closed), 0, false, x->timeout_ms);
		break;
	default:
		return 0;
	}
	if (r >= 0)
		return 0;
	return pvpci_errf(errbuf, errlen, r, "resetting %s, left %s by an earlier frontend: %s", x->be,
			  pvpci_xb_state_name(st), r == -ETIMEDOUT ? "the backend did not answer in time" : strerror(-r));
}

/* Grant, publish, Initialised, wait for Connected, scan what the roots say:
 * the connection half of pcifront's probe.  On failure the frontend is
 * Closed and errbuf says why. */
static int xb_connect(struct pvpci_xbfront *x, char *errbuf, size_t errlen)
{
	struct pvpci_local_welcome w;
	struct pvpci_chan *c = NULL;
	uint32_t roots[PVPCI_LOCAL_MAX_ROOTS];
	int err, st;
	bool closed;

	err = reset_backend(x, errbuf, errlen);
	if (err)
		goto fail;
	err = pvpci_local_connect(x->socket, x->domid, x->timeout_ms, &c, &w, errbuf, errlen);
	if (err)
		goto fail;
	err = publish(x, c);
	closed = pvpci_xb_read_state(x->xs, x->be) == PVPCI_XB_Closed;
	if (err || !set_state(x, PVPCI_XB_Initialised)) {
		err = pvpci_errf(errbuf, errlen, err ? err : -errno, "publishing in %s: %s", x->fe,
				 strerror(err ? -err : errno));
		goto fail;
	}
	/* A backend Closed before our Initialised has not seen it yet. */
	st = wait_backend(x, BIT(PVPCI_XB_Connected), BIT(PVPCI_XB_Closing) | BIT(PVPCI_XB_Closed), closed,
			  x->timeout_ms);
	if (st < 0) {
		char *e = NULL, path[128];
		unsigned len;

		snprintf(path, sizeof(path), "/local/domain/0/error/backend/pci/%u/0/error", x->domid);
		e = xs_read(x->xs, XBT_NULL, path, &len);
		err = pvpci_errf(errbuf, errlen, st, "the backend %s (%s)%s%s",
				 st == -ETIMEDOUT ? "did not connect in time" : "is closing", x->be,
				 e ? ": " : "", e ? e : "");
		free(e);
		goto fail;
	}
	err = pvpci_front_new(c, roots, read_roots(x, roots, PVPCI_LOCAL_MAX_ROOTS), &x->o, &x->f);
	if (err) {
		err = pvpci_errf(errbuf, errlen, err, "out of memory");
		goto fail;
	}
	if (x->rescan)
		x->rescan(x->rescan_ctx, x->f);
	set_state(x, PVPCI_XB_Connected);
	return 0;
fail:
	pvpci_chan_close(c);
	set_state(x, PVPCI_XB_Closed);
	return err;
}

int pvpci_xbfront_open(struct xs_handle *xs, unsigned domid, const char *socket,
		       const struct pvpci_front_opts *o, int timeout_ms, struct pvpci_xbfront **ret,
		       char *errbuf, size_t errlen)
{
	struct pvpci_xbfront *x = calloc(1, sizeof(*x));
	char *be;
	int err;

	if (!x)
		return pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
	x->xs = xs;
	x->domid = domid;
	x->timeout_ms = timeout_ms;
	if (o)
		x->o = *o;
	if (strlen(socket) >= sizeof(x->socket)) {
		free(x);
		return pvpci_errf(errbuf, errlen, -ENAMETOOLONG, "%s: socket path too long", socket);
	}
	snprintf(x->socket, sizeof(x->socket), "%s", socket);
	if (x->o.keep_page)
		x->o.socket = x->socket;	/* the page offered again there */
	pvpci_xb_frontend_path(domid, x->fe, sizeof(x->fe));
	be = pvpci_xb_read(xs, x->fe, "backend");
	if (!be || strlen(be) >= sizeof(x->be) - 8) {
		err = pvpci_errf(errbuf, errlen, -ENOENT, "%s/backend: %s (is a PCI device attached?)",
				 x->fe, be ? "too long" : strerror(errno));
		free(be);
		free(x);
		return err;
	}
	snprintf(x->be, sizeof(x->be), "%s", be);
	free(be);
	snprintf(x->be_state, sizeof(x->be_state), "%s/state", x->be);
	if (!xs_watch(xs, x->be_state, "be")) {
		err = pvpci_errf(errbuf, errlen, -errno, "watching %s: %s", x->be_state, strerror(errno));
		free(x);
		return err;
	}
	err = xb_connect(x, errbuf, errlen);
	if (err) {
		xs_unwatch(xs, x->be_state, "be");
		free(x);
		return err;
	}
	*ret = x;
	return 0;
}

int pvpci_xbfront_reconnect(struct pvpci_xbfront *x, char *errbuf, size_t errlen)
{
	pvpci_front_close(x->f);
	x->f = NULL;
	/* The store shows the dead backend's state (Connected, or a
	 * reconfiguration) until one comes back, which may take the device
	 * over as it is (for a frontend that keeps its page) or say
	 * Initialised; this frontend connects anew either way, walking the
	 * backend through Closing and Closed first (xb_connect), which a
	 * restarted pvpcid answers.  Its socket serves before it answers. */
	return xb_connect(x, errbuf, errlen);
}

void pvpci_xbfront_close(struct pvpci_xbfront *x)
{
	char *dir;
	unsigned len;

	if (!x)
		return;
	/* The toolstack may have removed the device already: writing its
	 * state would make the directory again, for nobody. */
	dir = xs_read(x->xs, XBT_NULL, x->fe, &len);
	if (dir)
		set_state(x, PVPCI_XB_Closing);
	pvpci_front_close(x->f);
	if (dir)
		set_state(x, PVPCI_XB_Closed);
	free(dir);
	xs_unwatch(x->xs, x->be_state, "be");
	free(x);
}

struct pvpci_front *pvpci_xbfront_front(const struct pvpci_xbfront *x)
{
	return x->f;
}

int pvpci_xbfront_fd(const struct pvpci_xbfront *x)
{
	return xs_fileno(x->xs);
}

void pvpci_xbfront_set_rescan(struct pvpci_xbfront *x, int (*rescan)(void *ctx, struct pvpci_front *f),
			      void *ctx)
{
	x->rescan = rescan;
	x->rescan_ctx = ctx;
}

static int fe_state(struct pvpci_xbfront *x)
{
	return pvpci_xb_read_state(x->xs, x->fe);
}

int pvpci_xbfront_dispatch(struct pvpci_xbfront *x)
{
	char **w;
	int bs, rescanned = 0;

	while ((w = xs_check_watch(x->xs)))
		free(w);
	bs = pvpci_xb_read_state(x->xs, x->be);
	switch (bs) {
	case PVPCI_XB_Reconfiguring:
		/* pcifront_detach_devices: the functions whose state-N is
		 * Closing go; the scan after Reconfigured no longer finds them. */
		if (fe_state(x) == PVPCI_XB_Connected)
			set_state(x, PVPCI_XB_Reconfiguring);
		break;
	case PVPCI_XB_Reconfigured:
		/* pcifront_attach_devices: rescan the roots, then Connected;
		 * the toolstack goes on once it sees that, so the scan must
		 * be done by then. */
		if (fe_state(x) == PVPCI_XB_Reconfiguring) {
			uint32_t roots[PVPCI_LOCAL_MAX_ROOTS];
			size_t n = read_roots(x, roots, PVPCI_LOCAL_MAX_ROOTS);
			int r;

			pvpci_front_set_roots(x->f, roots, n);
			r = x->rescan ? x->rescan(x->rescan_ctx, x->f) : 0;
			if (r < 0)
				return r;
			set_state(x, PVPCI_XB_Connected);
			rescanned = 1;
		}
		break;
	case PVPCI_XB_Closing:
	case PVPCI_XB_Closed:
	case PVPCI_XB_Unknown:
		return -EPIPE;
	default:
		break;
	}
	return rescanned;
}
