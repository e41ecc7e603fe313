/*
 * The backend's xenbus driver (xenbus.h): Linux pciback's xenbus.c state
 * machine over libxenstore.  Every watch event re-reads the states of
 * every device and does what they call for, so a missed intermediate
 * state or our own writes firing our watch cost nothing: each step is
 * taken only when the states say it is due.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "errmsg.h"
#include "pvpci/xenbus.h"

#define MAX_NUM_DEVS	256

struct xbdev {
	unsigned domid;
	char be[64];		/* /local/domain/0/backend/pci/<domid>/0 */
	char fe[64];		/* what "frontend" says, checked */
	char fe_state[80];	/* fe + "/state", watched */
	bool seen;		/* found in this scan */
	int fe_seen;		/* the frontend's state we last saw, for the log */
	/* Entries Closing when this run picked the device up: not exported
	 * (a detach was under way), until the toolstack says how it ended. */
	struct pvpci_bdf going[MAX_NUM_DEVS];
	int ngoing;
	bool adopted;		/* picked up from an earlier run, no frontend connected since */
	/* Picked up under a frontend that stayed connected (live): its
	 * functions taken over as they are, its page and event channel to be
	 * mapped and bound again, without a word from it. */
	bool live;
	bool live_said;		/* "waiting for its page" said once */
	struct xbdev *next;
};

struct pvpci_xbback {
	struct xs_handle *xs;
	struct pvpci_backend *b;
	void (*log)(void *ctx, int level, const char *msg);
	void *log_ctx;
	struct xbdev *devs;
	bool scanned;		/* the first scan (picking up an earlier run's devices) is done */
};

static const char *const state_names[] = {
	"Unknown", "Initialising", "InitWait", "Initialised", "Connected",
	"Closing", "Closed", "Reconfiguring", "Reconfigured",
};

const char *pvpci_xb_state_name(int state)
{
	return state >= 0 && state <= PVPCI_XB_Reconfigured ? state_names[state] : "?";
}

void pvpci_xb_assignable_path(const struct pvpci_bdf *bdf, char *buf, size_t len)
{
	snprintf(buf, len, PVPCI_XB_ASSIGNABLE_ROOT "/%04x-%02x-%02x-%01x", bdf->domain, bdf->bus, bdf->dev,
		 bdf->fn);
}

void pvpci_xb_backend_path(unsigned domid, char *buf, size_t len)
{
	snprintf(buf, len, PVPCI_XB_BACKEND_ROOT "/%u/0", domid);
}

void pvpci_xb_frontend_path(unsigned domid, char *buf, size_t len)
{
	snprintf(buf, len, "/local/domain/%u/device/pci/0", domid);
}

char *pvpci_xb_read(struct xs_handle *xs, const char *dir, const char *key)
{
	char path[256];
	unsigned len;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xs_read(xs, XBT_NULL, path, &len);
}

/* dir/key as a decimal number, or dflt. */
static int rd_int(struct xs_handle *xs, const char *dir, const char *key, int dflt)
{
	char *s = pvpci_xb_read(xs, dir, key), *end;
	long v;

	if (!s)
		return dflt;
	v = strtol(s, &end, 10);
	if (end == s || *end || v < 0 || v > 0x7fffffff)
		v = dflt;
	free(s);
	return (int)v;
}

int pvpci_xb_read_state(struct xs_handle *xs, const char *dir)
{
	return rd_int(xs, dir, "state", PVPCI_XB_Unknown);
}

bool pvpci_xb_printf(struct xs_handle *xs, uint32_t t, const char *dir, const char *key, const char *fmt, ...)
{
	char path[256], *val;
	va_list ap;
	bool ok;
	int n;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	va_start(ap, fmt);
	n = vasprintf(&val, fmt, ap);
	va_end(ap);
	if (n < 0) {
		errno = ENOMEM;
		return false;
	}
	ok = xs_write(xs, t, path, val, (unsigned)n);
	free(val);
	return ok;
}

static void xlog(struct pvpci_xbback *x, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void xlog(struct pvpci_xbback *x, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pvpci_vlogf(x->log, x->log_ctx, level, NULL, fmt, ap);
	va_end(ap);
}

/*
 * dir/key = val, in one transaction with the check that the device is
 * still the one d stands for, as xenbus_switch_state checks that it is
 * there: its backend's state node exists (a write racing the toolstack's
 * removal would make the directory again, a lone node that the next look
 * takes for a broken device or that stays for good), and is not
 * Initialising unless fresh (the toolstack removed the device and made it
 * again: the next scan probes the new one, and what was meant for the old
 * one must not reach it; only probe's InitWait meets a device
 * Initialising).  1 written, 0 the device went, -1 (errno set) the store
 * refused.
 */
static int dev_write(struct pvpci_xbback *x, struct xbdev *d, const char *dir, const char *key, const char *val,
		     bool fresh)
{
	char path[128];
	unsigned len;

	snprintf(path, sizeof(path), "%s/state", d->be);
	for (int tries = 0; tries < 16; tries++) {
		xs_transaction_t t = xs_transaction_start(x->xs);
		char *st;

		if (t == XBT_NULL)
			return -1;
		st = xs_read(x->xs, t, path, &len);
		if (!st || (!fresh && atoi(st) == PVPCI_XB_Initialising)) {
			free(st);
			xs_transaction_end(x->xs, t, true);
			return 0;
		}
		free(st);
		if (!pvpci_xb_printf(x->xs, t, dir, key, "%s", val)) {
			int e = errno;

			xs_transaction_end(x->xs, t, true);
			errno = e;
			return -1;
		}
		if (xs_transaction_end(x->xs, t, false))
			return 1;
		if (errno != EAGAIN)
			return -1;
	}
	return -1;
}

/* A key of the device's backend directory, through dev_write. */
static int be_printf(struct pvpci_xbback *x, struct xbdev *d, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int be_printf(struct pvpci_xbback *x, struct xbdev *d, const char *key, const char *fmt, ...)
{
	char val[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	return dev_write(x, d, d->be, key, val, false);
}

static void set_state(struct pvpci_xbback *x, struct xbdev *d, int state)
{
	char val[16];
	int r;

	snprintf(val, sizeof(val), "%d", state);
	r = dev_write(x, d, d->be, "state", val, state == PVPCI_XB_InitWait);

	if (r < 0)
		xlog(x, 3, "%s: cannot write state %d", d->be, state);
	else if (r > 0)
		xlog(x, 6, "%s: backend %s", d->be, pvpci_xb_state_name(state));
}

/* xenbus_dev_error: "<errno> <message>" under /local/domain/0/error/<nodename>/error,
 * and the log.  False when the device is gone. */
static bool error_node(struct pvpci_xbback *x, struct xbdev *d, int err, const char *msg)
{
	char dir[128], val[600];

	snprintf(dir, sizeof(dir), "/local/domain/0/error/backend/pci/%u/0", d->domid);
	snprintf(val, sizeof(val), "%d %s", -err, msg);
	/* The toolstack removed the device while we read it: what failed to
	 * read is gone, not wrong; nothing to report, nothing to recreate. */
	if (dev_write(x, d, dir, "error", val, false) == 0)
		return false;
	xlog(x, 3, "%s: %s", d->be, msg);
	return true;
}

/* xenbus_dev_fatal: the error node, then Closing. */
static void fatal(struct pvpci_xbback *x, struct xbdev *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fatal(struct pvpci_xbback *x, struct xbdev *d, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (error_node(x, d, err, msg))
		set_state(x, d, PVPCI_XB_Closing);
}

/*
 * Entry i cannot be exported.  Setting a device up, or picking it up
 * after a restart: fatal, as in pciback.  A function hot-added to a
 * device that has others (hot): pciback closes the whole device too,
 * taking from the guest every function it had for one it could not have;
 * here only the entry is refused: the same error node, state-i Closed
 * (it is not exported, and never will be: the toolstack's attach fails
 * with the node's message and takes the entry away), and the
 * reconfiguration goes on.
 */
static void export_failed(struct pvpci_xbback *x, struct xbdev *d, int i, bool hot, int err,
			  const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void export_failed(struct pvpci_xbback *x, struct xbdev *d, int i, bool hot, int err,
			  const char *fmt, ...)
{
	char msg[512], key[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!hot) {
		fatal(x, d, err, "%s", msg);
		return;
	}
	if (!error_node(x, d, err, msg))
		return;
	snprintf(key, sizeof(key), "state-%d", i);
	be_printf(x, d, key, "%d", PVPCI_XB_Closed);
	xlog(x, 4, "%s: dev-%d refused; the device keeps its other functions", d->be, i);
}

static int parse_bdf(const char *s, struct pvpci_bdf *ret)
{
	unsigned dom, bus, dev, fn;
	int n = 0;

	if (!s || sscanf(s, "%x:%x:%x.%x%n", &dom, &bus, &dev, &fn, &n) != 4 || s[n] || dom > 0xffff ||
	    bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	*ret = (struct pvpci_bdf){ .domain = dom, .bus = bus, .dev = dev, .fn = fn };
	return 0;
}

/* Whether opts-N ("msitranslate=0,power_mgmt=0,permissive=1,...") has key=1. */
static bool opt_on(const char *opts, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = opts; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == '=' && p[kl + 1] == '1' && (!p[kl + 2] || p[kl + 2] == ','))
			return true;
	return false;
}

/* Export dev-i (xen_pcibk_export_device): vdevfn-i places it, opts-i may
 * make it permissive or accept a shared INTx (allow_shared_intx=1, which
 * only pvpci's toolstack writes); vdev-i says where the guest sees it.  A
 * failure is said as export_failed says it (hot: a hot-added entry). */
static int export_dev(struct pvpci_xbback *x, struct xbdev *d, int i, bool keep_vdev, bool hot, bool keep)
{
	char key[32], *s, *opts, err[512];
	struct pvpci_bdf host, guest;
	int vslot = PVPCI_VSLOT_ANY, r;
	unsigned flags;

	snprintf(key, sizeof(key), "dev-%d", i);
	s = pvpci_xb_read(x->xs, d->be, key);
	r = parse_bdf(s, &host);
	if (r) {
		export_failed(x, d, i, hot, r, "Error reading %s (%s)", key, s ? s : "missing");
		free(s);
		return r;
	}
	free(s);
	/* pcistub_get_pci_dev_by_slot: only a function the stub has seized. */
	{
		char ap[80];
		unsigned len;
		char *a;

		pvpci_xb_assignable_path(&host, ap, sizeof(ap));
		a = xs_read(x->xs, XBT_NULL, ap, &len);
		if (!a) {
			export_failed(x, d, i, hot, -EINVAL,
				      "Couldn't locate PCI device (%04x:%02x:%02x.%d)! perhaps already in-use? (not assignable: pvpci assignable-add it first)",
				      host.domain, host.bus, host.dev, host.fn);
			return -EINVAL;
		}
		free(a);
	}
	snprintf(key, sizeof(key), "vdevfn-%d", i);
	s = pvpci_xb_read(x->xs, d->be, key);
	if (s) {
		unsigned long v = strtoul(s, NULL, 16);

		vslot = v ? (int)((v >> 3) & 0x1f) : PVPCI_VSLOT_ANY;
		free(s);
	}
	if (keep_vdev && pvpci_backend_mode(x->b) != PVPCI_TOPO_PASSTHROUGH) {
		/* Picking up after a restart: where the guest saw it. */
		snprintf(key, sizeof(key), "vdev-%d", i);
		s = pvpci_xb_read(x->xs, d->be, key);
		if (!parse_bdf(s, &guest))
			vslot = pvpci_topo_vslot_of(pvpci_backend_mode(x->b), &guest);
		free(s);
	}
	snprintf(key, sizeof(key), "opts-%d", i);
	opts = pvpci_xb_read(x->xs, d->be, key);
	flags = (opt_on(opts, "permissive") ? PVPCI_EXPORT_PERMISSIVE : 0) |
		(opt_on(opts, "allow_shared_intx") ? PVPCI_EXPORT_SHARED_INTX : 0);
	free(opts);
	if (keep)
		flags |= PVPCI_EXPORT_KEEP;
	r = pvpci_backend_export(x->b, d->domid, &host, vslot, flags, &guest, err, sizeof(err));
	if (keep && r == -ENOENT)
		return r;	/* no state saved: the caller decides */
	if (r == -ENOSPC && strstr(err, PVPCI_TOPO_FULL_MSG)) {
		/* pciback's own words (xen_pcibk_add_pci_dev: -ENOMEM), which
		 * people grep for; which function, and why, in the log. */
		xlog(x, 3, "%s: %s", d->be, err);
		export_failed(x, d, i, hot, -ENOMEM, "%s", PVPCI_TOPO_FULL_MSG);
		return r;
	}
	if (r == -EPERM) {
		/* The backend's own policy (a shared INTx): its words as they are. */
		export_failed(x, d, i, hot, r, "%s", err);
		return r;
	}
	if (r) {
		export_failed(x, d, i, hot, r == -ENOENT || r == -EBUSY ? -EINVAL : r,
			      "Couldn't locate PCI device (%04x:%02x:%02x.%d)! perhaps already in-use? (%s)",
			      host.domain, host.bus, host.dev, host.fn, err);
		return r;
	}
	snprintf(key, sizeof(key), "vdev-%d", i);
	be_printf(x, d, key, PVPCI_XB_VDEV_FMT, guest.domain, guest.bus, guest.dev, guest.fn);
	return 0;
}

/* xen_pcibk_publish_pci_roots: each root once, root_num after. */
static void publish_roots(struct pvpci_xbback *x, struct xbdev *d)
{
	uint32_t roots[64];
	size_t n = pvpci_backend_roots(x->b, d->domid, roots, 64);
	int num = rd_int(x->xs, d->be, "root_num", 0);

	for (size_t r = 0; r < n && r < 64; r++) {
		bool have = false;

		for (int k = 0; k < num && !have; k++) {
			char key[32], *s;
			unsigned dom, bus;

			snprintf(key, sizeof(key), "root-%d", k);
			s = pvpci_xb_read(x->xs, d->be, key);
			have = s && sscanf(s, "%x:%x", &dom, &bus) == 2 && (dom << 8 | bus) == roots[r];
			free(s);
		}
		if (have)
			continue;
		char key[32];

		snprintf(key, sizeof(key), "root-%d", num);
		be_printf(x, d, key, "%04x:%02x", roots[r] >> 8, roots[r] & 0xff);
		be_printf(x, d, "root_num", "%d", ++num);
	}
}

static int num_devs(struct pvpci_xbback *x, struct xbdev *d)
{
	int n = rd_int(x->xs, d->be, "num_devs", -1);

	if (n < 0 || n > MAX_NUM_DEVS)
		fatal(x, d, -EINVAL, "Error reading number of devices");
	return n > MAX_NUM_DEVS ? -1 : n;
}

/* xen_pcibk_attach: both sides Initialised, the frontend's magic right. */
static void attach(struct pvpci_xbback *x, struct xbdev *d)
{
	char *ref = pvpci_xb_read(x->xs, d->fe, "pci-op-ref"), *port = pvpci_xb_read(x->xs, d->fe, "event-channel");
	char *magic = pvpci_xb_read(x->xs, d->fe, "magic"), err[256], *e1 = NULL, *e2 = NULL;
	unsigned long r = ref ? strtoul(ref, &e1, 10) : 0, p = port ? strtoul(port, &e2, 10) : 0;
	int e;

	if (!ref || !port || *e1 || *e2) {
		fatal(x, d, -ENOENT, "reading %s/pci-op-ref and event-channel", d->fe);
	} else if (!magic || strcmp(magic, PVPCI_XEN_PCI_MAGIC)) {
		fatal(x, d, -EFAULT, "version mismatch (%s/%s) with pcifront - halting xen-pciback",
		      magic ? magic : "(null)", PVPCI_XEN_PCI_MAGIC);
	} else if ((e = pvpci_backend_connect(x->b, d->domid, (uint32_t)r, (uint32_t)p, err, sizeof(err))) ==
			   -ENOENT && d->adopted) {
		/* Published for the run that died: a frontend connected to it
		 * and has not seen it go yet.  Its next Initialised, over a new
		 * connection, is for us. */
		xlog(x, 6, "%s: the frontend's page was granted to an earlier run: waiting for it to connect anew",
		     d->be);
	} else if (e) {
		fatal(x, d, -EINVAL, "Error mapping other domain page in ours. (%s)", err);
	} else {
		d->adopted = false;
		set_state(x, d, PVPCI_XB_Connected);
	}
	free(ref);
	free(port);
	free(magic);
}

/* xen_pcibk_setup_backend: every dev-N, whatever its state-N. */
static void setup(struct pvpci_xbback *x, struct xbdev *d)
{
	int n = num_devs(x, d);

	if (n < 0)
		return;
	for (int i = 0; i < n; i++) {
		char key[32];

		if (export_dev(x, d, i, false, false, false))
			return;
		snprintf(key, sizeof(key), "state-%d", i);
		be_printf(x, d, key, "%d", PVPCI_XB_Initialised);
	}
	publish_roots(x, d);
	set_state(x, d, PVPCI_XB_Initialised);
}

/* xen_pcibk_reconfigure: entries Initialising are attached, entries
 * Closing detached; from Reconfiguring, then Reconfigured. */
static void reconfigure(struct pvpci_xbback *x, struct xbdev *d, int state)
{
	int n = num_devs(x, d);

	if (n < 0)
		return;
	for (int i = 0; i < n; i++) {
		char key[32], *s;
		struct pvpci_bdf guest, host;
		int sub;

		snprintf(key, sizeof(key), "state-%d", i);
		sub = rd_int(x->xs, d->be, key, PVPCI_XB_Unknown);
		if (sub == PVPCI_XB_Initialising) {
			xlog(x, 6, "%s: attaching dev-%d", d->be, i);
			if (export_dev(x, d, i, false, true, false))
				continue;	/* refused, alone */
			publish_roots(x, d);
			be_printf(x, d, key, "%d", PVPCI_XB_Initialised);
		} else if (sub == PVPCI_XB_Closing) {
			snprintf(key, sizeof(key), "vdev-%d", i);
			s = pvpci_xb_read(x->xs, d->be, key);
			if (!parse_bdf(s, &guest) && !pvpci_backend_host_of(x->b, d->domid, &guest, &host)) {
				xlog(x, 6, "%s: detaching dev-%d", d->be, i);
				pvpci_backend_unexport(x->b, d->domid, &host, NULL, 0);
			}
			free(s);
		}
	}
	if (state == PVPCI_XB_Reconfiguring)
		set_state(x, d, PVPCI_XB_Reconfigured);
}

/*
 * The functions dev-0 .. dev-<num_devs - 1> list, read in one
 * transaction: the toolstack renumbers entries in one of its own, and
 * reads spread over its commit would miss a function that moved.  With
 * ret_idx and ret_state (may be NULL), each one's entry number and
 * state-N.  The count, or -1 when no consistent read could be had (try
 * again later).
 */
static int read_entries(struct pvpci_xbback *x, struct xbdev *d, struct pvpci_bdf *ret, int *ret_idx,
			int *ret_state, int max)
{
	for (int tries = 0; tries < 8; tries++) {
		xs_transaction_t t = xs_transaction_start(x->xs);
		char path[128], *s;
		unsigned len;
		int num, k = 0;

		if (t == XBT_NULL)
			return -1;
		snprintf(path, sizeof(path), "%s/num_devs", d->be);
		s = xs_read(x->xs, t, path, &len);
		num = s ? atoi(s) : 0;
		free(s);
		for (int i = 0; i < num && i < MAX_NUM_DEVS && k < max; i++) {
			snprintf(path, sizeof(path), "%s/dev-%d", d->be, i);
			s = xs_read(x->xs, t, path, &len);
			if (parse_bdf(s, &ret[k])) {
				free(s);
				continue;
			}
			free(s);
			if (ret_idx)
				ret_idx[k] = i;
			if (ret_state) {
				snprintf(path, sizeof(path), "%s/state-%d", d->be, i);
				s = xs_read(x->xs, t, path, &len);
				ret_state[k] = s ? atoi(s) : PVPCI_XB_Unknown;
				free(s);
			}
			k++;
		}
		if (xs_transaction_end(x->xs, t, false))
			return k;
		if (errno != EAGAIN)
			return -1;
	}
	return -1;
}

static int listed(struct pvpci_xbback *x, struct xbdev *d, struct pvpci_bdf *ret, int max)
{
	return read_entries(x, d, ret, NULL, NULL, max);
}

/* Functions exported to the domain that no dev-N lists any more (the
 * toolstack removed them without the frontend's help: a forced detach, an
 * attach rolled back) are restored and released. */
static void reconcile(struct pvpci_xbback *x, struct xbdev *d)
{
	struct pvpci_bdf ex[MAX_NUM_DEVS], in[MAX_NUM_DEVS];
	size_t n = pvpci_backend_exports(x->b, d->domid, ex, MAX_NUM_DEVS);
	int num = n ? listed(x, d, in, MAX_NUM_DEVS) : 0;

	for (size_t e = 0; num >= 0 && e < n && e < MAX_NUM_DEVS; e++) {
		bool found = false;

		for (int i = 0; i < num && !found; i++)
			found = !pvpci_bdf_cmp(&in[i], &ex[e]);
		if (!found) {
			char bdf[PVPCI_BDF_STRLEN];

			xlog(x, 6, "%s: %s is no longer listed: released", d->be, pvpci_bdf_format(&ex[e], bdf));
			pvpci_backend_unexport(x->b, d->domid, &ex[e], NULL, 0);
		}
	}
}

static bool exported_to(struct pvpci_xbback *x, struct xbdev *d, const struct pvpci_bdf *host)
{
	struct pvpci_bdf ex[MAX_NUM_DEVS];
	size_t n = pvpci_backend_exports(x->b, d->domid, ex, MAX_NUM_DEVS);

	for (size_t e = 0; e < n && e < MAX_NUM_DEVS; e++)
		if (!pvpci_bdf_cmp(&ex[e], host))
			return true;
	return false;
}

/* The entries that were Closing when this run picked the device up: the
 * toolstack's detach, cut short by the earlier run's death, either
 * removes them (then they are nobody's) or, giving up, puts them back
 * Initialised: then they are the guest's again, exported where it saw
 * them. */
static void take_back(struct pvpci_xbback *x, struct xbdev *d)
{
	struct pvpci_bdf in[MAX_NUM_DEVS];
	int idx[MAX_NUM_DEVS], st[MAX_NUM_DEVS];
	int num = d->ngoing ? read_entries(x, d, in, idx, st, MAX_NUM_DEVS) : 0;

	for (int k = 0; num >= 0 && k < d->ngoing;) {
		int e = 0, i = -1, sub = PVPCI_XB_Unknown;

		while (e < num && pvpci_bdf_cmp(&in[e], &d->going[k]))
			e++;
		if (e < num) {
			i = idx[e];
			sub = st[e];
		}
		if (sub == PVPCI_XB_Closing) {
			k++;
			continue;
		}
		if (sub == PVPCI_XB_Initialised && !exported_to(x, d, &d->going[k])) {
			char bdf[PVPCI_BDF_STRLEN];

			xlog(x, 6, "%s: %s is the guest's again: exported", d->be,
			     pvpci_bdf_format(&d->going[k], bdf));
			if (!export_dev(x, d, i, true, false, false))
				publish_roots(x, d);
		}
		d->going[k] = d->going[--d->ngoing];
	}
}

/* The device is gone (directory removed, or the frontend Closed and the
 * device offline): every function restored and released. */
static void teardown(struct pvpci_xbback *x, struct xbdev *d)
{
	pvpci_backend_disconnect(x->b, d->domid);
	pvpci_backend_unexport_all(x->b, d->domid);
	xs_unwatch(x->xs, d->fe_state, "fe");
	xlog(x, 6, "%s: released", d->be);
}

/*
 * Whether a device an earlier run left in state bs, its frontend in fs,
 * is still in a guest's hands: the backend had connected (Connected, or
 * a reconfiguration under way) and the frontend has not left (Initialised:
 * it saw Connected and is on its way there).  Linux's pcifront then goes
 * on with the page and event channel it published and never connects
 * again: the run that picks the device up takes the connection over.
 */
static bool still_connected(int bs, int fs)
{
	return (bs == PVPCI_XB_Connected || bs == PVPCI_XB_Reconfiguring || bs == PVPCI_XB_Reconfigured) &&
	       (fs == PVPCI_XB_Initialised || fs == PVPCI_XB_Connected || fs == PVPCI_XB_Reconfiguring);
}

/*
 * A device picked up under a connected frontend (live): map and bind
 * again the page and event channel it published, and answer what it left
 * waiting.  Its state, and the backend's, stay as they are.  A local
 * frontend that kept its page grants it again once it sees us
 * (pvpci_local_regrant): until then the backend knows no such grant
 * (-ENOENT) and the device waits (pvpci_xbback_rescan comes with each
 * grant).
 */
static void reattach(struct pvpci_xbback *x, struct xbdev *d)
{
	char *ref = pvpci_xb_read(x->xs, d->fe, "pci-op-ref"), *port = pvpci_xb_read(x->xs, d->fe, "event-channel");
	char *magic = pvpci_xb_read(x->xs, d->fe, "magic"), err[256], *e1 = NULL, *e2 = NULL;
	unsigned long r = ref ? strtoul(ref, &e1, 10) : 0, p = port ? strtoul(port, &e2, 10) : 0;
	int e;

	if (!ref || !port || *e1 || *e2 || r > UINT32_MAX || p > UINT32_MAX) {
		d->live = false;
		fatal(x, d, -ENOENT, "reading %s/pci-op-ref and event-channel", d->fe);
	} else if (!magic || strcmp(magic, PVPCI_XEN_PCI_MAGIC)) {
		d->live = false;
		fatal(x, d, -EFAULT, "version mismatch (%s/%s) with pcifront - halting xen-pciback",
		      magic ? magic : "(null)", PVPCI_XEN_PCI_MAGIC);
	} else if ((e = pvpci_backend_connect(x->b, d->domid, (uint32_t)r, (uint32_t)p, err, sizeof(err))) ==
		   -ENOENT) {
		if (!d->live_said)
			xlog(x, 6, "%s: waiting for the frontend's page %lu to be granted again", d->be, r);
		d->live_said = true;
	} else if (e && e != -EBUSY) {
		d->live = false;
		fatal(x, d, -EINVAL, "Error mapping other domain page in ours. (%s)", err);
	} else {
		d->live = false;
		d->adopted = false;
		xlog(x, 6, "%s: the frontend's page %lu and event channel %lu taken over", d->be, r, p);
	}
	free(ref);
	free(port);
	free(magic);
}

/* One device: do what its two states call for. */
static void eval(struct pvpci_xbback *x, struct xbdev *d)
{
	int bs = pvpci_xb_read_state(x->xs, d->be), fs = pvpci_xb_read_state(x->xs, d->fe);

	if (fs != d->fe_seen) {
		xlog(x, 6, "%s: frontend %s", d->be, pvpci_xb_state_name(fs));
		d->fe_seen = fs;
	}

	/* Picked up under a connected frontend: the connection is taken over
	 * once its page is there; a frontend that left meanwhile is gone. */
	if (d->live && !still_connected(bs, fs))
		d->live = false;
	else if (d->live && !pvpci_backend_connected(x->b, d->domid))
		reattach(x, d);

	/* Whatever the states, outside a reconfiguration: the toolstack may
	 * take an entry away with no frontend connected (not yet, or closed),
	 * or roll an attach back under a frontend stuck in Reconfiguring. */
	if (bs != PVPCI_XB_Reconfiguring && bs != PVPCI_XB_Reconfigured) {
		reconcile(x, d);
		take_back(x, d);
	}
	switch (fs) {
	case PVPCI_XB_Closing:
		if (bs != PVPCI_XB_Closing && bs != PVPCI_XB_Closed) {
			pvpci_backend_disconnect(x->b, d->domid);
			set_state(x, d, PVPCI_XB_Closing);
		}
		return;
	case PVPCI_XB_Closed:
		if (bs != PVPCI_XB_Closed) {
			pvpci_backend_disconnect(x->b, d->domid);
			set_state(x, d, PVPCI_XB_Closed);
		}
		return;
	default:
		break;
	}
	switch (bs) {
	case PVPCI_XB_InitWait:
		setup(x, d);
		if (pvpci_xb_read_state(x->xs, d->be) != PVPCI_XB_Initialised)
			break;
		/* the frontend may be waiting already */
		__attribute__((fallthrough));
	case PVPCI_XB_Initialised:
		reconfigure(x, d, PVPCI_XB_Initialised);
		if (fs == PVPCI_XB_Initialised)
			attach(x, d);
		break;
	case PVPCI_XB_Connected:
	case PVPCI_XB_Reconfiguring:
		/* From Connected too (pciback would wait for the toolstack's
		 * Reconfiguring): a frontend left in Reconfiguring by an attach
		 * the toolstack rolled back gets its Reconfigured and rescans.
		 * Not one that went away (its channel hung up, its state left
		 * behind): nobody would rescan, and Reconfigured would stand in
		 * the toolstack's way until a new frontend resets the device. */
		if (fs == PVPCI_XB_Reconfiguring &&
		    (bs == PVPCI_XB_Reconfiguring || pvpci_backend_connected(x->b, d->domid)))
			reconfigure(x, d, PVPCI_XB_Reconfiguring);
		break;
	case PVPCI_XB_Reconfigured:
		if (fs == PVPCI_XB_Connected)
			set_state(x, d, PVPCI_XB_Connected);
		break;
	case PVPCI_XB_Closed:
		/* A frontend that closed and comes back (a guest's pcifront
		 * reloaded, `pvpci front` run again): its functions are still
		 * exported, reset since it left; connect it again, as blkback
		 * prepares for a reconnect.  pciback itself stays Closed. */
		if ((fs == PVPCI_XB_Initialising || fs == PVPCI_XB_Initialised) &&
		    rd_int(x->xs, d->be, "online", 1)) {
			set_state(x, d, PVPCI_XB_Initialised);
			if (fs == PVPCI_XB_Initialised)
				attach(x, d);
		}
		break;
	default:
		break;
	}
}

/*
 * A device an earlier pvpcid served (it died, or was stopped without the
 * toolstack taking the devices away).  Under a frontend still connected
 * (still_connected): each function its guest has is taken over as it is
 * (PVPCI_EXPORT_KEEP: nothing restored or reset, the guest's view and
 * interrupts as that run kept them), at its guest address, and so is one
 * on its way out in a reconfiguration that run had not finished (the
 * frontend may not have let it go yet); the states stay, the connection
 * is taken over (reattach), and the reconfiguration, if any, goes on from
 * where the states say.  Otherwise: bind its functions again (binding
 * finds each one's saved state from that run and restores it first),
 * and wait Initialised for the frontend to connect anew; entries that
 * were on their way out are left to the toolstack.  Entries on their way
 * in are taken in either way.
 */
static void adopt_devices(struct pvpci_xbback *x, struct xbdev *d)
{
	int n = num_devs(x, d), taken = 0, bs = pvpci_xb_read_state(x->xs, d->be);
	bool live = still_connected(bs, pvpci_xb_read_state(x->xs, d->fe));

	if (n < 0)
		return;
	for (int i = 0; i < n; i++) {
		char key[32];
		int sub, r;

		snprintf(key, sizeof(key), "state-%d", i);
		sub = rd_int(x->xs, d->be, key, PVPCI_XB_Unknown);
		if (sub == PVPCI_XB_Closing && live && bs == PVPCI_XB_Reconfiguring) {
			/* Still the guest's unless that run let it go (then it
			 * saved nothing more for it, and -ENOENT skips it). */
			if (!export_dev(x, d, i, true, false, true))
				taken++;
			continue;
		}
		if (sub == PVPCI_XB_Closing && d->ngoing < MAX_NUM_DEVS) {
			char *s;

			snprintf(key, sizeof(key), "dev-%d", i);
			s = pvpci_xb_read(x->xs, d->be, key);
			if (!parse_bdf(s, &d->going[d->ngoing]))
				d->ngoing++;
			free(s);
		}
		if (sub != PVPCI_XB_Initialised && sub != PVPCI_XB_Initialising)
			continue;
		r = -ENOENT;
		if (live && sub == PVPCI_XB_Initialised)
			r = export_dev(x, d, i, true, false, true);
		/* No state saved for it: it is not known to be the guest's. */
		if (r == -ENOENT && export_dev(x, d, i, sub == PVPCI_XB_Initialised, false, false))
			return;
		be_printf(x, d, key, "%d", PVPCI_XB_Initialised);
		taken++;
	}
	publish_roots(x, d);
	xlog(x, 6, "%s: picked up from an earlier run: %d function%s%s", d->be, taken, taken == 1 ? "" : "s",
	     live ? ", its frontend still connected" : "");
	if (live) {
		d->live = true;
		reattach(x, d);
	} else if (pvpci_xb_read_state(x->xs, d->be) != PVPCI_XB_Closing) {
		set_state(x, d, PVPCI_XB_Initialised);
	}
}

/* A new backend directory (xen_pcibk_xenbus_probe): check what the
 * toolstack wrote, watch the frontend, InitWait. */
static struct xbdev *probe(struct pvpci_xbback *x, unsigned domid, bool adopt)
{
	struct xbdev *d = calloc(1, sizeof(*d));
	char want[64], *fe;
	int fid;

	if (!d)
		return NULL;
	d->domid = domid;
	pvpci_xb_backend_path(domid, d->be, sizeof(d->be));
	pvpci_xb_frontend_path(domid, want, sizeof(want));
	fe = pvpci_xb_read(x->xs, d->be, "frontend");
	fid = rd_int(x->xs, d->be, "frontend-id", -1);
	if (!fe || strcmp(fe, want) || fid != (int)domid) {
		/* Not what a toolstack writes: leave it alone, say why once. */
		xlog(x, 4, "%s: frontend %s, frontend-id %d: not domain %u's PCI device; ignored", d->be,
		     fe ? fe : "missing", fid, domid);
		free(fe);
		free(d);
		return NULL;
	}
	free(fe);
	snprintf(d->fe, sizeof(d->fe), "%s", want);
	snprintf(d->fe_state, sizeof(d->fe_state), "%s/state", want);
	xs_watch(x->xs, d->fe_state, "fe");
	if (adopt) {
		d->adopted = true;
		adopt_devices(x, d);
		return d;
	}
	xlog(x, 6, "%s: new PCI device for domain %u", d->be, domid);
	set_state(x, d, PVPCI_XB_InitWait);
	return d;
}

/* A function the toolstack made assignable is the backend's to give back;
 * another one's state file is someone else's (`pvpci save`). */
static bool assignable(void *ctx, const struct pvpci_bdf *bdf)
{
	struct pvpci_xbback *x = ctx;
	char ap[80], name[PVPCI_BDF_STRLEN], *a;
	unsigned len;
	bool ours;

	pvpci_xb_assignable_path(bdf, ap, sizeof(ap));
	a = xs_read(x->xs, XBT_NULL, ap, &len);
	ours = a != NULL;
	free(a);
	if (!ours)
		xlog(x, 4, "%s: a state file, but not assignable: left for `pvpci restore`",
		     pvpci_bdf_format(bdf, name));
	return ours;
}

static void scan(struct pvpci_xbback *x)
{
	unsigned n = 0;
	char **doms = xs_directory(x->xs, XBT_NULL, PVPCI_XB_BACKEND_ROOT, &n);
	bool first;

	for (struct xbdev *d = x->devs; d; d = d->next)
		d->seen = false;
	for (unsigned i = 0; doms && i < n; i++) {
		char *end, be[64];
		unsigned long domid = strtoul(doms[i], &end, 10);
		struct xbdev *d, **pp;
		int st;

		if (end == doms[i] || *end || domid > 0x7fef)
			continue;
		for (pp = &x->devs; *pp && (*pp)->domid != domid; pp = &(*pp)->next)
			;
		d = *pp;
		pvpci_xb_backend_path((unsigned)domid, be, sizeof(be));
		st = pvpci_xb_read_state(x->xs, be);
		if (d && st == PVPCI_XB_Initialising) {
			/* Removed and made again by the toolstack between two
			 * scans (the last function detached, another attached
			 * at once): we never write Initialising, so this is a
			 * new device; the old one is let go first. */
			*pp = d->next;
			teardown(x, d);
			free(d);
			d = NULL;
		}
		if (!d) {
			/* Initialising: the toolstack made it; any later state: an
			 * earlier pvpcid served it (only at our first scan: later a
			 * device we let go is not taken back). */
			if (st == PVPCI_XB_Unknown || (st != PVPCI_XB_Initialising && x->scanned))
				continue;
			d = probe(x, (unsigned)domid, st != PVPCI_XB_Initialising);
			if (!d)
				continue;
			d->next = x->devs;
			x->devs = d;
		}
		d->seen = true;
	}
	free(doms);
	first = !x->scanned;
	x->scanned = true;
	for (struct xbdev **pp = &x->devs; *pp;) {
		struct xbdev *d = *pp;
		char *online;

		if (!d->seen || !(online = pvpci_xb_read(x->xs, d->be, "state"))) {
			*pp = d->next;
			teardown(x, d);
			free(d);
			continue;
		}
		free(online);
		eval(x, d);
		if (pvpci_xb_read_state(x->xs, d->be) == PVPCI_XB_Closed &&
		    rd_int(x->xs, d->be, "online", 1) == 0) {
			*pp = d->next;
			teardown(x, d);
			free(d);
			continue;
		}
		pp = &d->next;
	}
	/* Every device an earlier run served is picked up by now, and every
	 * new one set up: whatever else that run left saved was on its way
	 * back to the host. */
	if (first)
		pvpci_backend_release_leftovers(x->b, assignable, x);
}

int pvpci_xbback_new(struct xs_handle *xs, struct pvpci_backend *b,
		     void (*log)(void *ctx, int level, const char *msg), void *log_ctx,
		     struct pvpci_xbback **ret, char *errbuf, size_t errlen)
{
	struct pvpci_xbback *x = calloc(1, sizeof(*x));

	if (!x)
		return pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
	*x = (struct pvpci_xbback){ .xs = xs, .b = b, .log = log, .log_ctx = log_ctx };
	if (!xs_watch(xs, PVPCI_XB_BACKEND_ROOT, "be")) {
		int e = -errno;

		free(x);
		return pvpci_errf(errbuf, errlen, e, "watching %s: %s", PVPCI_XB_BACKEND_ROOT,
				  strerror(-e));
	}
	*ret = x;
	return 0;
}

void pvpci_xbback_free(struct pvpci_xbback *x)
{
	if (!x)
		return;
	xs_unwatch(x->xs, PVPCI_XB_BACKEND_ROOT, "be");
	while (x->devs) {
		struct xbdev *d = x->devs;

		x->devs = d->next;
		teardown(x, d);
		set_state(x, d, PVPCI_XB_Closed);
		free(d);
	}
	free(x);
}

int pvpci_xbback_fd(const struct pvpci_xbback *x)
{
	return xs_fileno(x->xs);
}

void pvpci_xbback_rescan(struct pvpci_xbback *x)
{
	if (x)
		scan(x);
}

int pvpci_xbback_dispatch(struct pvpci_xbback *x)
{
	bool fired = false;
	char **w;

	while ((w = xs_check_watch(x->xs))) {
		fired = true;
		free(w);
	}
	if (errno != EAGAIN)
		return -errno;
	if (fired)
		scan(x);
	return 0;
}
