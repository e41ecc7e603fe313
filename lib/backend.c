/*
 * The backend (backend.h): domains, their exported functions and
 * frontends, and the one epoll loop that serves them.  Ops go to pciif;
 * the life of each function (bind, guest start and stop, unbind) to
 * device.c; pages and kicks to the transport.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "errmsg.h"
#include "guestview.h"
#include "pvpci/backend.h"
#include "pvpci/pciif.h"
#include "pvpci/record.h"
#include "pvpci/statefile.h"
#include "pvpci/transport.h"

#define MAX_PENDING		64	/* connections that have not said hello yet */
#define MAX_GRANTS		256	/* pages granted and not connected yet */
#define MAX_DOM_GRANTS		8	/* of them, for one domain */
#define HELLO_TIMEOUT_MS	5000
#define AER_TIMEOUT_MS		300000	/* pciback waits 300 s */
#define IRQ_BASE		32	/* each domain's local numbers: 32 .. 32 + 4095 */
#define IRQ_COUNT		4096	/* and on Xen, its pirqs mapped at once */
#define MAX_WATCHES		8	/* the caller's fds in the loop (pvpcid: 2) */
#define MAX_EVENTS		32	/* taken from epoll a round */

enum ev_kind { EV_LISTEN, EV_PENDING, EV_EVT, EV_CTL, EV_GRANT, EV_WATCH };

struct ev {
	enum ev_kind kind;
	void *obj;
};

struct pending {
	struct ev ev;
	int fd;
	long deadline;
	struct pending *next;
};

/* A page and event channel a frontend granted, not yet connected (via_store). */
struct grant {
	struct ev ev;
	struct pvpci_chan *c;
	struct grant *next;
};

/* A caller's fd in the loop (pvpci_backend_watch). */
struct watch {
	struct ev ev;
	void (*fn)(void *ctx);
	void *ctx;
	bool ready;	/* this round: fn is called at its end */
};

struct bdev {
	struct pvpci_device *d;
	struct pvpci_bdf host, guest;
	bool permissive;
	/* What its guest has been shown, as last kept in its .guest file
	 * (a fresh engine's view when none is written); NULL: out of memory,
	 * nothing kept. */
	struct pvpci_guestview *view;
};

/* One AER sequence in flight (pciback's common_process, step by step). */
struct aer_run {
	bool active;
	struct pvpci_bdf host;
	uint32_t cmd;
	long deadline;
};

/* A domain and everything it has: functions, frontend, interrupt numbers
 * (its own, as pirqs are on Xen: no guest can use up another's) and the
 * limit on what it makes the backend say. */
struct dom {
	unsigned domid;
	struct pvpci_pciif *pif;
	struct pvpci_irq_local *irq;	/* without a hypervisor */
	struct pvpci_irq_xen *irq_xen;	/* on Xen */
	struct pvpci_ratelimit rl;
	struct bdev *devs;
	size_t ndevs, cap;
	struct pvpci_chan *chan;
	bool kept;		/* functions taken over from an earlier run, no frontend since */
	struct ev ev_evt, ev_ctl;
	struct aer_run aer;
	struct dom *next;
};

struct pvpci_backend {
	struct pvpci_backend_cfg cfg;
	int epfd;
	int listen_fd;
	struct ev ev_listen;
	struct watch watches[MAX_WATCHES];
	size_t nwatches;
	struct pending *pending;
	size_t npending;
	struct grant *grants;
	size_t ngrants;
	struct dom *doms;
	size_t ndoms;
	struct pvpci_ratelimit hello_rl;	/* connections not attached to a domain yet */
	uint32_t next_ref;
	size_t nfronts;
	char aer_outcome[160];
};

static void blog(struct pvpci_backend *b, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void blog(struct pvpci_backend *b, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pvpci_vlogf(b->cfg.log, b->cfg.log_ctx, level, NULL, fmt, ap);
	va_end(ap);
}

/* What a guest or a client can make happen as often as it likes: within
 * the limit of its source (rl). */
static void blog_limited(struct pvpci_backend *b, struct pvpci_ratelimit *rl, int level,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void blog_limited(struct pvpci_backend *b, struct pvpci_ratelimit *rl, int level,
			 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pvpci_vlogf_limited(b->cfg.log, b->cfg.log_ctx, rl, level, NULL, fmt, ap);
	va_end(ap);
}

int pvpci_backend_new(const struct pvpci_backend_cfg *cfg, struct pvpci_backend **ret, char *errbuf,
		      size_t errlen)
{
	struct pvpci_backend *b = calloc(1, sizeof(*b));
	int err;

	if (!b)
		return pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
	b->cfg = *cfg;
	if (b->cfg.aer_timeout_ms <= 0)
		b->cfg.aer_timeout_ms = AER_TIMEOUT_MS;
	if (!b->cfg.max_domains)
		b->cfg.max_domains = PVPCI_BACKEND_MAX_DOMAINS;
	if (!b->cfg.max_funcs)
		b->cfg.max_funcs = PVPCI_BACKEND_MAX_FUNCS;
	pvpci_ratelimit_init(&b->hello_rl, &b->cfg.log_limit, "connections not attached yet");
	b->listen_fd = -1;
	b->next_ref = 1;
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b->epfd < 0) {
		err = pvpci_errf(errbuf, errlen, -errno, "epoll: %s", strerror(errno));
		free(b);
		return err;
	}
	*ret = b;
	return 0;
}

static int ep_add(struct pvpci_backend *b, int fd, uint32_t events, struct ev *ev)
{
	struct epoll_event e = { .events = events, .data.ptr = ev };

	return epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

static void ep_del(struct pvpci_backend *b, int fd)
{
	epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static struct dom *dom_find(const struct pvpci_backend *b, unsigned domid)
{
	for (struct dom *d = b->doms; d; d = d->next)
		if (d->domid == domid)
			return d;
	return NULL;
}

static void dom_free(struct pvpci_backend *b, struct dom *d, bool crash);

/* A domain with no function and no frontend holds nothing worth keeping;
 * it goes, so that domains that came and went do not count against the
 * limit (Xen numbers each new guest anew).  Only outside dispatch: an
 * event of the round may point at it. */
static void doms_prune(struct pvpci_backend *b)
{
	for (struct dom **pp = &b->doms, *d; (d = *pp);) {
		if (d->ndevs || d->chan || d->aer.active) {
			pp = &d->next;
			continue;
		}
		*pp = d->next;
		dom_free(b, d, false);
	}
}

static int dom_get(struct pvpci_backend *b, unsigned domid, struct dom **ret, char *errbuf,
		   size_t errlen)
{
	struct pvpci_pciif_cfg pc = {
		.mode = b->cfg.mode,
		.domid = domid,
		.verbose = b->cfg.verbose,
		.log = b->cfg.log,
		.log_ctx = b->cfg.log_ctx,
		.record = b->cfg.record,
	};
	struct dom *d = dom_find(b, domid);
	char who[32];
	int err;

	if (d) {
		*ret = d;
		return 0;
	}
	doms_prune(b);
	if (b->ndoms >= b->cfg.max_domains)
		return pvpci_errf(errbuf, errlen, -ENOSPC,
				  "%zu domains have functions already, the most this backend serves",
				  b->ndoms);
	d = calloc(1, sizeof(*d));
	if (!d)
		return pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
	snprintf(who, sizeof(who), "domain %u", domid);
	pvpci_ratelimit_init(&d->rl, &b->cfg.log_limit, who);
	if (b->cfg.hv) {
		err = pvpci_irq_xen_new(b->cfg.hv, domid, IRQ_COUNT, &d->irq_xen);
		pc.irq = &pvpci_irq_xen_ops;
		pc.irq_ctx = d->irq_xen;
	} else {
		err = pvpci_irq_local_new(IRQ_BASE, IRQ_COUNT, &d->irq);
		pc.irq = &pvpci_irq_local_ops;
		pc.irq_ctx = d->irq;
	}
	pc.log_limit = &d->rl;
	if (!err)
		err = pvpci_pciif_new(&pc, &d->pif);
	if (err) {
		pvpci_irq_local_free(d->irq);
		pvpci_irq_xen_free(d->irq_xen);
		free(d);
		return pvpci_errf(errbuf, errlen, err, "out of memory");
	}
	d->domid = domid;
	d->ev_evt = (struct ev){ EV_EVT, d };
	d->ev_ctl = (struct ev){ EV_CTL, d };
	d->next = b->doms;
	b->doms = d;
	b->ndoms++;
	*ret = d;
	return 0;
}

static struct bdev *bdev_find(struct dom *d, const struct pvpci_bdf *host)
{
	for (size_t i = 0; i < d->ndevs; i++)
		if (!pvpci_bdf_cmp(&d->devs[i].host, host))
			return &d->devs[i];
	return NULL;
}

/* Where a function goes back to after its guest's frontend left: the same
 * virtual slot (and bus), so the guest finds it where it was. */
static int reexport_slot(const struct pvpci_backend *b, const struct bdev *x)
{
	return pvpci_topo_vslot_of(b->cfg.mode, &x->guest);
}

/* The domain host is exported to, or NULL. */
static struct dom *holder(const struct pvpci_backend *b, const struct pvpci_bdf *host)
{
	for (struct dom *d = b->doms; d; d = d->next)
		if (bdev_find(d, host))
			return d;
	return NULL;
}

/*
 * Xen's SUPPORT.md: passing through a device that shares a resource with
 * another, such as a line interrupt, is not security supported.  A
 * function whose INTx is on a line another host function uses is refused
 * (-EPERM, saying why and how to accept the risk), or with allow
 * exported with a warning.  A host that cannot tell is said, not
 * refused.
 */
static int check_intx(struct pvpci_backend *b, const struct pvpci_bdf *host, bool allow, char *errbuf,
		      size_t errlen)
{
	struct pvpci_bdf with[4];
	struct pvpci_intx in;
	char bdf[PVPCI_BDF_STRLEN], list[96] = "";
	size_t n, len = 0;
	int r;

	pvpci_bdf_format(host, bdf);
	r = pvpci_host_intx_sharers(b->cfg.host, host, &in, with, 4, &n);
	if (r < 0) {
		blog(b, 4, "%s: cannot tell whether its INTx is shared with another device: %s", bdf,
		     pvpci_host_errmsg(b->cfg.host));
		return 0;
	}
	if (!n)
		return 0;
	for (size_t i = 0; i < n && i < 4; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
					pvpci_bdf_format(&with[i], (char[PVPCI_BDF_STRLEN]){ 0 }));
	if (n > 4)
		snprintf(list + len, sizeof(list) - len, " and %zu more", n - 4);
	if (allow) {
		blog(b, 4, "%s: its legacy interrupt (INTx, IRQ %u) is shared with %s: exported anyway "
			   "(allow_shared_intx), which Xen does not security-support", bdf, in.irq, list);
		return 0;
	}
	return pvpci_errf(errbuf, errlen, -EPERM,
			  "%s: its legacy interrupt (INTx, IRQ %u) is shared with %s: Xen does not "
			  "security-support passing through a device that shares resources with another "
			  "(SUPPORT.md); to accept the risk, attach it with allow_shared_intx=1 or run "
			  "pvpcid --allow-shared-intx", bdf, in.irq, list);
}

/* ---- what each guest has been shown, kept for a restart ---- */

static void view_now(struct dom *d, const struct bdev *x, struct pvpci_guestview *v)
{
	v->bdf = x->host;
	pvpci_cs_virt_get(pvpci_device_cs(x->d), &v->virt);
	if (pvpci_pciif_intr_get(d->pif, &x->host, &v->intr) < 0)
		memset(&v->intr, 0, sizeof(v->intr));
}

static bool view_same(const struct pvpci_guestview *a, const struct pvpci_guestview *b)
{
	if (a->virt.n != b->virt.n || a->virt.sizing != b->virt.sizing ||
	    a->virt.rom_enable != b->virt.rom_enable || a->intr.msi != b->intr.msi ||
	    a->intr.msix != b->intr.msix || a->intr.n != b->intr.n ||
	    memcmp(a->intr.irqs, b->intr.irqs, a->intr.n * sizeof(a->intr.irqs[0])))
		return false;
	for (size_t i = 0; i < a->virt.n; i++)
		if (a->virt.regs[i].off != b->virt.regs[i].off || a->virt.regs[i].val != b->virt.regs[i].val)
			return false;
	return true;
}

/* x's guest starts from a fresh engine: nothing to keep (a file an
 * earlier guest left goes). */
static void view_fresh(struct pvpci_backend *b, struct dom *d, struct bdev *x)
{
	pvpci_guestview_remove(b->cfg.dev.state_dir, &x->host);
	if (x->view)
		view_now(d, x, x->view);
}

/* After an op that may have changed what the function at guest address
 * (dom, bus, devfn) of d shows its guest: its view kept if it changed.
 * A view that cannot be written is said; the guest is served all the
 * same (only a restart would lose it). */
static void view_update(struct pvpci_backend *b, struct dom *d, uint32_t dom, uint32_t bus, uint32_t devfn)
{
	struct pvpci_bdf guest = { .domain = dom, .bus = bus, .dev = devfn >> 3 & 0x1f, .fn = devfn & 7 };
	struct pvpci_guestview *v;
	struct bdev *x = NULL;
	char err[256], bdf[PVPCI_BDF_STRLEN];

	if (dom > 0xffff || bus > 0xff || devfn > 0xff)
		return;
	for (size_t i = 0; !x && i < d->ndevs; i++)
		if (!pvpci_bdf_cmp(&d->devs[i].guest, &guest))
			x = &d->devs[i];
	if (!x || !x->view || !(v = malloc(sizeof(*v))))
		return;
	view_now(d, x, v);
	if (!view_same(v, x->view)) {
		if (pvpci_guestview_save(b->cfg.dev.state_dir, v, err, sizeof(err)) < 0)
			blog_limited(b, &d->rl, 4, "%s: cannot keep what its guest sees: %s",
				     pvpci_bdf_format(&x->host, bdf), err);
		*x->view = *v;
	}
	free(v);
}

/*
 * x was taken over (PVPCI_EXPORT_KEEP): what the earlier run kept of its
 * guest's view, on the engine built over the device, and its interrupts.
 * Without a file (the guest had changed nothing, or a kill came between
 * the change and the file) the device's own values stand.
 */
static void view_restore(struct pvpci_backend *b, struct dom *d, struct bdev *x)
{
	char err[256], bdf[PVPCI_BDF_STRLEN];
	int r = x->view ? pvpci_guestview_load(b->cfg.dev.state_dir, &x->host, x->view, err, sizeof(err))
			: -ENOMEM;

	pvpci_bdf_format(&x->host, bdf);
	if (r == 0 && pvpci_cs_virt_set(pvpci_device_cs(x->d), &x->view->virt) < 0) {
		snprintf(err, sizeof(err), "its registers are not this function's");
		r = -EBADMSG;
	}
	if (r == 0 && (r = pvpci_pciif_intr_adopt(d->pif, &x->host, &x->view->intr)) < 0)
		snprintf(err, sizeof(err), "its %s interrupts could not be taken over: %s",
			 x->view->intr.msix ? "MSI-X" : "MSI", strerror(-r));
	if (r == 0 && (x->view->intr.msi || x->view->intr.msix))
		blog(b, 6, "%s: domain %u's %s interrupts taken over (%u)", bdf, d->domid,
		     x->view->intr.msix ? "MSI-X" : "MSI", x->view->intr.n);
	if (r < 0 && r != -ENOENT)
		blog(b, 4, "%s: what the earlier run kept of its guest's view is not used: %s", bdf, err);
	if (x->view)
		view_now(d, x, x->view);
}

int pvpci_backend_export(struct pvpci_backend *b, unsigned domid, const struct pvpci_bdf *host,
			 int vslot, unsigned flags, struct pvpci_bdf *ret_guest, char *errbuf,
			 size_t errlen)
{
	bool permissive = flags & PVPCI_EXPORT_PERMISSIVE;
	struct pvpci_device_opts o = b->cfg.dev;
	struct pvpci_device *dev = NULL;
	struct dom *d;
	struct bdev *x;
	char bdf[PVPCI_BDF_STRLEN];
	int err;

	pvpci_bdf_format(host, bdf);
	d = holder(b, host);
	if (d)
		return pvpci_errf(errbuf, errlen, -EBUSY, "%s is exported to domain %u already", bdf,
				  d->domid);
	err = check_intx(b, host, (flags & PVPCI_EXPORT_SHARED_INTX) || b->cfg.allow_shared_intx, errbuf,
			 errlen);
	if (err)
		return err;
	err = dom_get(b, domid, &d, errbuf, errlen);
	if (err)
		return err;
	if (d->ndevs >= b->cfg.max_funcs)
		return pvpci_errf(errbuf, errlen, -ENOSPC,
				  "%s: domain %u has %zu functions already, the most one domain may have",
				  bdf, domid, d->ndevs);
	if (d->ndevs == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 4;
		struct bdev *n = realloc(d->devs, cap * sizeof(*n));

		if (!n)
			return pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
		d->devs = n;
		d->cap = cap;
	}
	o.cs.permissive = o.cs.permissive || permissive;
	o.cs.verbose = o.cs.verbose || b->cfg.verbose;
	o.cs.log_limit = &d->rl;
	if (flags & PVPCI_EXPORT_KEEP) {
		err = pvpci_device_adopt(b->cfg.host, host, &o, &dev, errbuf, errlen);
		if (err)
			return err;
	} else {
		err = pvpci_device_bind(b->cfg.host, host, &o, &dev, NULL, errbuf, errlen);
		if (err)
			return err;
		err = pvpci_device_guest_start(dev, errbuf, errlen);
		if (err)
			goto fail;
	}
	x = &d->devs[d->ndevs];
	*x = (struct bdev){ .d = dev, .host = *host, .permissive = permissive,
			    .view = calloc(1, sizeof(*x->view)) };
	err = pvpci_pciif_export(d->pif, host, vslot, pvpci_device_cs(dev), &x->guest, errbuf, errlen);
	if (err) {
		free(x->view);
		goto fail;
	}
	d->ndevs++;
	if (flags & PVPCI_EXPORT_KEEP) {
		d->kept = true;
		view_restore(b, d, x);
	} else {
		view_fresh(b, d, x);
	}
	pvpci_record_function(b->cfg.record, false, domid, &x->guest, o.cs.permissive, pvpci_device_cs(dev));
	if (ret_guest)
		*ret_guest = x->guest;
	/* pciback's lines, which operators grep for: the virtual slot (vpci:
	 * with the function when it joins functions of its physical slot
	 * there; slot: with the bus), then the domain. */
	if (b->cfg.mode == PVPCI_TOPO_SLOT) {
		blog(b, 6, "%s: slot: assign to virtual slot %u, bus %u", bdf, (unsigned)x->guest.dev,
		     (unsigned)x->guest.bus);
	} else if (b->cfg.mode == PVPCI_TOPO_VPCI) {
		bool joined = false;

		for (size_t i = 0; i + 1 < d->ndevs; i++)
			joined = joined || d->devs[i].guest.dev == x->guest.dev;
		if (joined)
			blog(b, 6, "%s: vpci: assign to virtual slot %u func %u", bdf, (unsigned)x->guest.dev,
			     (unsigned)x->guest.fn);
		else
			blog(b, 6, "%s: vpci: assign to virtual slot %u", bdf, (unsigned)x->guest.dev);
	}
	blog(b, 6, "%s: registering for %u%s", bdf, domid,
	     flags & PVPCI_EXPORT_KEEP ? " (taken over as its guest left it)" : "");
	return 0;
fail:
	if (flags & PVPCI_EXPORT_KEEP)
		pvpci_device_abandon(dev);	/* the earlier run's state stays */
	else
		pvpci_device_unbind(dev, NULL, 0);
	return err;
}

static int bdev_release(struct pvpci_backend *b, struct dom *d, struct bdev *x, char *errbuf,
			size_t errlen)
{
	int err;

	pvpci_pciif_unexport(d->pif, &x->host);
	pvpci_record_unexport(b->cfg.record, d->domid, &x->host);
	pvpci_guestview_remove(b->cfg.dev.state_dir, &x->host);
	free(x->view);
	err = pvpci_device_unbind(x->d, errbuf, errlen);
	if (err) {
		char bdf[PVPCI_BDF_STRLEN];

		blog(b, 3, "%s: %s", pvpci_bdf_format(&x->host, bdf), errbuf ? errbuf : "restore failed");
	}
	*x = d->devs[--d->ndevs];
	return err;
}

int pvpci_backend_unexport(struct pvpci_backend *b, unsigned domid, const struct pvpci_bdf *host,
			   char *errbuf, size_t errlen)
{
	struct dom *d = dom_find(b, domid);
	struct bdev *x = d ? bdev_find(d, host) : NULL;
	char bdf[PVPCI_BDF_STRLEN];

	if (!x)
		return pvpci_errf(errbuf, errlen, -ENOENT, "%s is not exported to domain %u",
				  pvpci_bdf_format(host, bdf), domid);
	if (d->aer.active && !pvpci_bdf_cmp(&d->aer.host, host))
		d->aer.active = false;
	return bdev_release(b, d, x, errbuf, errlen);
}

/* The guest is gone: each function back to D0, reset, restored, with a
 * fresh engine, at the same guest address. */
static void dom_guest_gone(struct pvpci_backend *b, struct dom *d)
{
	char err[256], bdf[PVPCI_BDF_STRLEN];

	d->aer.active = false;
	d->kept = false;
	for (size_t i = 0; i < d->ndevs; i++) {
		struct bdev *x = &d->devs[i];

		pvpci_bdf_format(&x->host, bdf);
		pvpci_pciif_unexport(d->pif, &x->host);
		if (pvpci_device_guest_stop(x->d, err, sizeof(err)))
			blog_limited(b, &d->rl, 3, "%s: after domain %u's frontend left: %s", bdf,
				     d->domid, err);
		if (pvpci_pciif_export(d->pif, &x->host, reexport_slot(b, x), pvpci_device_cs(x->d),
				       &x->guest, err, sizeof(err))) {
			blog(b, 3, "%s: cannot export it again: %s; released", bdf, err);
			pvpci_record_unexport(b->cfg.record, d->domid, &x->host);
			pvpci_guestview_remove(b->cfg.dev.state_dir, &x->host);
			free(x->view);
			pvpci_device_unbind(x->d, NULL, 0);
			d->devs[i--] = d->devs[--d->ndevs];
			continue;
		}
		view_fresh(b, d, x);
		pvpci_record_function(b->cfg.record, true, d->domid, &x->guest,
				      b->cfg.dev.cs.permissive || x->permissive, pvpci_device_cs(x->d));
	}
}

static void front_drop(struct pvpci_backend *b, struct dom *d, const char *why)
{
	if (!d->chan)
		return;
	/* Not limited, as the line of its connection: operators follow a
	 * guest's frontend by them, and each costs the guest a reset of
	 * every function it has. */
	blog(b, 6, "domain %u: frontend %s", d->domid, why);
	pvpci_record_front(b->cfg.record, d->domid, false);
	ep_del(b, d->chan->evt_fd);
	if (d->chan->ctl_fd >= 0)
		ep_del(b, d->chan->ctl_fd);
	pvpci_chan_close(d->chan);
	d->chan = NULL;
	b->nfronts--;
	dom_guest_gone(b, d);
}

void pvpci_backend_unexport_all(struct pvpci_backend *b, unsigned domid)
{
	struct dom *d = dom_find(b, domid);

	if (!d)
		return;
	front_drop(b, d, "dropped: its functions are released");
	d->aer.active = false;
	while (d->ndevs)
		bdev_release(b, d, &d->devs[0], NULL, 0);
}

int pvpci_backend_release_leftovers(struct pvpci_backend *b,
				    bool (*ours)(void *ctx, const struct pvpci_bdf *bdf), void *ctx)
{
	struct pvpci_bdf left[256];
	size_t n = 0;
	char err[512], bdf[PVPCI_BDF_STRLEN];
	int released = 0;

	if (pvpci_statefile_list(b->cfg.dev.state_dir, left, 256, &n, err, sizeof(err)) < 0) {
		blog(b, 3, "%s", err);
		return 0;
	}
	for (size_t i = 0; i < n && i < 256; i++) {
		struct pvpci_device *dev;
		bool restored = false;

		if (holder(b, &left[i]) || !ours(ctx, &left[i]))
			continue;
		pvpci_bdf_format(&left[i], bdf);
		/* Binding restores what the file holds; unbinding restores
		 * again and removes it, as any release does. */
		if (pvpci_device_bind(b->cfg.host, &left[i], &b->cfg.dev, &dev, &restored, err, sizeof(err)) < 0 ||
		    pvpci_device_unbind(dev, err, sizeof(err)) < 0) {
			blog(b, 3, "%s: left saved by an earlier run, not restored: %s", bdf, err);
			continue;
		}
		blog(b, 6, "%s: released: an earlier run left it saved and exported to nobody", bdf);
		released++;
	}
	return released;
}

/* d must be off the list already.  Its frontend dropped and its functions
 * restored and released; or, crash, only its channel closed (as the
 * death of the process closes it: unmapped, unbound), the functions as
 * their guest left them, their files kept, the pirqs mapped. */
static void dom_free(struct pvpci_backend *b, struct dom *d, bool crash)
{
	if (crash) {
		pvpci_chan_close(d->chan);
		for (size_t i = 0; i < d->ndevs; i++) {
			pvpci_device_abandon(d->devs[i].d);
			free(d->devs[i].view);
		}
		pvpci_pciif_abandon(d->pif);
		pvpci_irq_xen_abandon(d->irq_xen);
	} else {
		front_drop(b, d, "dropped: the backend is stopping");
		while (d->ndevs)
			bdev_release(b, d, &d->devs[0], NULL, 0);
		pvpci_pciif_free(d->pif);
		pvpci_irq_xen_free(d->irq_xen);
	}
	pvpci_irq_local_free(d->irq);
	free(d->devs);
	free(d);
	b->ndoms--;
}

/* Forget g; its channel goes with it unless the caller took it (g->c NULL). */
static void grant_free(struct pvpci_backend *b, struct grant *g)
{
	for (struct grant **pp = &b->grants; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	if (g->c) {
		ep_del(b, g->c->ctl_fd);
		pvpci_chan_close(g->c);
	}
	b->ngrants--;
	free(g);
}

static void pending_free(struct pvpci_backend *b, struct pending *p)
{
	for (struct pending **pp = &b->pending; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	ep_del(b, p->fd);
	close(p->fd);
	b->npending--;
	free(p);
}

/* crash: as the death of the process leaves things (dom_free). */
static void backend_free(struct pvpci_backend *b, bool crash)
{
	if (!b)
		return;
	while (b->pending)
		pending_free(b, b->pending);
	while (b->grants)
		grant_free(b, b->grants);
	while (b->doms) {
		struct dom *d = b->doms;

		b->doms = d->next;
		dom_free(b, d, crash);
	}
	if (b->listen_fd >= 0)
		close(b->listen_fd);
	close(b->epfd);
	free(b);
}

void pvpci_backend_free(struct pvpci_backend *b)
{
	backend_free(b, false);
}

void pvpci_backend_abandon(struct pvpci_backend *b)
{
	backend_free(b, true);
}

int pvpci_backend_listen(struct pvpci_backend *b, const char *path, char *errbuf, size_t errlen)
{
	int fd, err;

	if (b->listen_fd >= 0)
		return pvpci_errf(errbuf, errlen, -EBUSY, "already listening");
	fd = pvpci_local_listen(path, errbuf, errlen);
	if (fd < 0)
		return fd;
	b->ev_listen = (struct ev){ EV_LISTEN, b };
	err = ep_add(b, fd, EPOLLIN, &b->ev_listen);
	if (err) {
		close(fd);
		return pvpci_errf(errbuf, errlen, err, "epoll: %s", strerror(-err));
	}
	b->listen_fd = fd;
	return 0;
}

int pvpci_backend_fd(const struct pvpci_backend *b)
{
	return b->epfd;
}

enum pvpci_topo_mode pvpci_backend_mode(const struct pvpci_backend *b)
{
	return b->cfg.mode;
}

size_t pvpci_backend_nfronts(const struct pvpci_backend *b)
{
	return b->nfronts;
}

static void refuse(int fd, int status, const char *msg)
{
	struct pvpci_local_welcome w = { .status = status };

	snprintf(w.msg, sizeof(w.msg), "%.*s", (int)sizeof(w.msg) - 1, msg);	/* cut to fit */
	pvpci_local_answer(fd, &w);
}

static void do_accept(struct pvpci_backend *b)
{
	for (;;) {
		int fd = pvpci_local_accept(b->listen_fd);
		struct pending *p;

		if (fd < 0)
			return;
		if (b->npending >= MAX_PENDING || !(p = calloc(1, sizeof(*p)))) {
			refuse(fd, -EAGAIN, "too many connections waiting; try again");
			close(fd);
			continue;
		}
		p->fd = fd;
		p->ev = (struct ev){ EV_PENDING, p };
		p->deadline = pvpci_now_ms() + HELLO_TIMEOUT_MS;
		if (ep_add(b, fd, EPOLLIN, &p->ev)) {
			close(fd);
			free(p);
			continue;
		}
		p->next = b->pending;
		b->pending = p;
		b->npending++;
	}
}

static int welcome(struct pvpci_backend *b, int fd, const struct pvpci_chan *c, const struct dom *d);
static void do_evt(struct pvpci_backend *b, struct dom *d);
static int number(struct pvpci_backend *b, struct pvpci_chan *c, char *errbuf, size_t errlen);
static int dom_attach(struct pvpci_backend *b, struct dom *d, struct pvpci_chan *c);
static void grant_add(struct pvpci_backend *b, struct pending *p, struct pvpci_chan *c);

static void do_hello(struct pvpci_backend *b, struct pending *p)
{
	struct pvpci_chan *c;
	struct dom *d;
	char err[256];
	int r = pvpci_local_handshake(p->fd, &c, err, sizeof(err));

	if (r == -EAGAIN)
		return;
	if (r) {
		blog_limited(b, &b->hello_rl, 4, "a frontend's hello was refused: %s", err);
		refuse(p->fd, r, err);
		pending_free(b, p);
		return;
	}
	if (b->cfg.via_store) {
		grant_add(b, p, c);
		return;
	}
	d = dom_find(b, c->domid);
	if (!d || !d->ndevs || d->chan) {
		snprintf(err, sizeof(err), d && d->chan ? "domain %u has a frontend connected already"
							: "no device is exported to domain %u",
			 c->domid);
		blog_limited(b, d ? &d->rl : &b->hello_rl, 4, "%s", err);
		refuse(p->fd, d && d->chan ? -EBUSY : -ENOENT, err);
		pvpci_chan_close(c);
		pending_free(b, p);
		return;
	}
	if (number(b, c, err, sizeof(err)) < 0) {
		refuse(p->fd, -EEXIST, err);
		pvpci_chan_close(c);
	} else if (welcome(b, p->fd, c, d) || dom_attach(b, d, c)) {
		pvpci_chan_close(c);
	}
	pending_free(b, p);
}

/*
 * The numbers of a new grant: the next ones, or those a frontend that kept
 * its page across our restart granted it under (pvpci_local_regrant:
 * what the store says it published), unless the domain has a grant or a
 * frontend under them already.
 */
static int number(struct pvpci_backend *b, struct pvpci_chan *c, char *errbuf, size_t errlen)
{
	struct dom *d = dom_find(b, c->domid);

	if (!c->ref) {
		c->ref = c->port = b->next_ref++;
		return 0;
	}
	for (struct grant *g = b->grants; g; g = g->next)
		if (g->c->domid == c->domid && (g->c->ref == c->ref || g->c->port == c->port))
			return pvpci_errf(errbuf, errlen, -EEXIST, "domain %u granted page %u or event channel %u already",
					  c->domid, c->ref, c->port);
	if (d && d->chan && (d->chan->ref == c->ref || d->chan->port == c->port))
		return pvpci_errf(errbuf, errlen, -EEXIST, "domain %u is connected through page %u already",
				  c->domid, c->ref);
	/* Ours from now on never meet the numbers kept. */
	if (c->ref >= b->next_ref)
		b->next_ref = c->ref + 1;
	if (c->port >= b->next_ref)
		b->next_ref = c->port + 1;
	return 0;
}

/* Answer a hello: the numbers of the grant and, when connecting at once,
 * the roots to scan. */
static int welcome(struct pvpci_backend *b, int fd, const struct pvpci_chan *c, const struct dom *d)
{
	struct pvpci_local_welcome w = { .status = 0, .ref = c->ref, .port = c->port,
					 .mode = b->cfg.mode };

	if (d)
		w.nroots = (uint32_t)pvpci_topo_roots(pvpci_pciif_topo(d->pif), w.roots,
						      PVPCI_LOCAL_MAX_ROOTS);
	return pvpci_local_answer(fd, &w);
}

/* d's frontend is c from now on; on failure c stays the caller's.  A
 * channel without ctl_fd (xen) is dropped when the store says so. */
static int dom_attach(struct pvpci_backend *b, struct dom *d, struct pvpci_chan *c)
{
	int err = ep_add(b, c->evt_fd, EPOLLIN, &d->ev_evt);

	if (!err && c->ctl_fd >= 0)
		err = ep_add(b, c->ctl_fd, EPOLLIN | EPOLLRDHUP, &d->ev_ctl);
	if (err) {
		ep_del(b, c->evt_fd);
		return err;
	}
	d->chan = c;
	b->nfronts++;
	pvpci_record_front(b->cfg.record, d->domid, true);
	blog(b, 6, "domain %u: frontend connected (pci-op-ref %u, event-channel %u)%s", d->domid, c->ref,
	     c->port, d->kept ? ": it kept its page across our restart" : "");
	d->kept = false;
	/* An op left waiting for a backend that died: its kick went to that
	 * backend (or, on Xen, to a port nobody had bound), so none comes. */
	if (__atomic_load_n(&c->sh->flags, __ATOMIC_ACQUIRE) & PVPCI_XEN_PCIF_active)
		do_evt(b, d);
	return 0;
}

static size_t dom_grants(const struct pvpci_backend *b, unsigned domid)
{
	size_t n = 0;

	for (const struct grant *g = b->grants; g; g = g->next)
		n += g->c->domid == domid;
	return n;
}

static void grant_add(struct pvpci_backend *b, struct pending *p, struct pvpci_chan *c)
{
	struct dom *d = dom_find(b, c->domid);
	struct pvpci_ratelimit *rl = d ? &d->rl : &b->hello_rl;
	struct grant *g = NULL;
	char why[96];
	int status = -ENOSPC;

	/* One domain's client cannot take every slot: the others' hellos
	 * would be refused. */
	if (dom_grants(b, c->domid) >= MAX_DOM_GRANTS)
		snprintf(why, sizeof(why), "domain %u has %d pages waiting to be connected already",
			 c->domid, MAX_DOM_GRANTS);
	else if (b->ngrants >= MAX_GRANTS)
		snprintf(why, sizeof(why), "%d pages are waiting to be connected already", MAX_GRANTS);
	else if ((status = number(b, c, why, sizeof(why))) < 0)
		;
	else if (!(g = calloc(1, sizeof(*g))))
		snprintf(why, sizeof(why), "out of memory");
	if (!g) {
		blog_limited(b, rl, 4, "a frontend's hello was refused: %s", why);
		refuse(p->fd, status < 0 ? status : -ENOSPC, why);
		pvpci_chan_close(c);
		pending_free(b, p);
		return;
	}
	g->c = c;
	g->ev = (struct ev){ EV_GRANT, g };
	if (ep_add(b, c->ctl_fd, EPOLLIN | EPOLLRDHUP, &g->ev) || welcome(b, p->fd, c, NULL)) {
		ep_del(b, c->ctl_fd);
		pvpci_chan_close(c);
		free(g);
	} else {
		g->next = b->grants;
		b->grants = g;
		b->ngrants++;
		blog_limited(b, rl, 7, "domain %u granted pci-op-ref %u, event-channel %u", c->domid, c->ref, c->port);
		if (b->cfg.granted)
			b->cfg.granted(b->cfg.granted_ctx, c->domid);
	}
	pending_free(b, p);
}

/* The domain a frontend connects for, made when it has no function: a
 * run that picked up a device with every entry on its way out (pciback
 * attaches all the same).  -EBUSY when one is connected already. */
static int dom_for_front(struct pvpci_backend *b, unsigned domid, struct dom **ret, char *errbuf,
			 size_t errlen)
{
	struct dom *d = dom_find(b, domid);
	int err;

	if (!d && (err = dom_get(b, domid, &d, errbuf, errlen)) < 0)
		return err;
	if (d->chan)
		return pvpci_errf(errbuf, errlen, -EBUSY, "domain %u is connected already", domid);
	*ret = d;
	return 0;
}

/* Through cfg.connect (xen): map and bind what the frontend published. */
static int connect_through(struct pvpci_backend *b, unsigned domid, uint32_t ref, uint32_t port,
			   char *errbuf, size_t errlen)
{
	struct pvpci_chan *c;
	struct dom *d;
	int err = dom_for_front(b, domid, &d, errbuf, errlen);

	if (err)
		return err;
	err = b->cfg.connect(b->cfg.connect_ctx, domid, ref, port, &c, errbuf, errlen);
	if (err)
		return err;
	err = dom_attach(b, d, c);
	if (err) {
		pvpci_chan_close(c);
		return pvpci_errf(errbuf, errlen, err, "epoll: %s", strerror(-err));
	}
	return 0;
}

int pvpci_backend_connect(struct pvpci_backend *b, unsigned domid, uint32_t ref, uint32_t port,
			  char *errbuf, size_t errlen)
{
	struct dom *d;
	struct grant *g;
	struct pvpci_chan *c;
	int err;

	if (b->cfg.connect)
		return connect_through(b, domid, ref, port, errbuf, errlen);
	for (g = b->grants; g; g = g->next)
		if (g->c->domid == domid && g->c->ref == ref && g->c->port == port)
			break;
	if (!g)
		return pvpci_errf(errbuf, errlen, -ENOENT,
				  "domain %u granted no page %u with event channel %u", domid, ref, port);
	err = dom_for_front(b, domid, &d, errbuf, errlen);
	if (err)
		return err;
	c = g->c;
	ep_del(b, c->ctl_fd);
	g->c = NULL;
	grant_free(b, g);
	err = dom_attach(b, d, c);
	if (err) {
		pvpci_chan_close(c);
		return pvpci_errf(errbuf, errlen, err, "epoll: %s", strerror(-err));
	}
	return 0;
}

int pvpci_backend_attach(struct pvpci_backend *b, struct pvpci_chan *c, char *errbuf, size_t errlen)
{
	struct dom *d;
	int err = dom_for_front(b, c->domid, &d, errbuf, errlen);

	if (err)
		return err;
	c->ref = c->port = b->next_ref++;
	err = dom_attach(b, d, c);
	return err ? pvpci_errf(errbuf, errlen, err, "epoll: %s", strerror(-err)) : 0;
}

void pvpci_backend_disconnect(struct pvpci_backend *b, unsigned domid)
{
	struct dom *d = dom_find(b, domid);

	if (d && !d->chan && d->kept) {
		/* Its guest left before its frontend came back to us: what it
		 * set up goes, as when any guest leaves. */
		blog(b, 6, "domain %u: the frontend that kept its page left", d->domid);
		dom_guest_gone(b, d);
	}
	if (d)
		front_drop(b, d, "disconnected");
}

bool pvpci_backend_kept(const struct pvpci_backend *b, unsigned domid)
{
	const struct dom *d = dom_find(b, domid);

	return d && d->kept;
}

bool pvpci_backend_connected(const struct pvpci_backend *b, unsigned domid)
{
	const struct dom *d = dom_find(b, domid);

	return d && d->chan;
}

size_t pvpci_backend_exports(const struct pvpci_backend *b, unsigned domid,
			     struct pvpci_bdf *ret, size_t max)
{
	const struct dom *d = dom_find(b, domid);
	size_t n = d ? d->ndevs : 0;

	for (size_t i = 0; i < n && i < max; i++)
		ret[i] = d->devs[i].host;
	return n;
}

int pvpci_backend_host_of(const struct pvpci_backend *b, unsigned domid,
			  const struct pvpci_bdf *guest, struct pvpci_bdf *ret_host)
{
	const struct dom *d = dom_find(b, domid);

	for (size_t i = 0; d && i < d->ndevs; i++)
		if (!pvpci_bdf_cmp(&d->devs[i].guest, guest)) {
			*ret_host = d->devs[i].host;
			return 0;
		}
	return -ENOENT;
}

struct pvpci_cs *pvpci_backend_engine(const struct pvpci_backend *b, unsigned domid,
				      const struct pvpci_bdf *host)
{
	struct dom *d = dom_find(b, domid);
	struct bdev *x = d ? bdev_find(d, host) : NULL;

	return x ? pvpci_device_cs(x->d) : NULL;
}

size_t pvpci_backend_roots(const struct pvpci_backend *b, unsigned domid, uint32_t *ret,
			   size_t max)
{
	const struct dom *d = dom_find(b, domid);

	return d ? pvpci_topo_roots(pvpci_pciif_topo(d->pif), ret, max) : 0;
}

/* ---- AER ---- */

static const char *ers_name(int32_t r)
{
	static const char *const n[] = { "?", "none", "can_recover", "need_reset", "disconnect",
					 "recovered", "no_aer_driver" };

	return r >= 1 && r <= 6 ? n[r] : "?";
}

static const char *aer_step(uint32_t cmd)
{
	switch (cmd) {
	case PVPCI_XEN_PCI_OP_aer_detected: return "detected";
	case PVPCI_XEN_PCI_OP_aer_mmio: return "mmio";
	case PVPCI_XEN_PCI_OP_aer_slotreset: return "slotreset";
	default: return "resume";
	}
}

static void outcome_add(struct pvpci_backend *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void outcome_add(struct pvpci_backend *b, const char *fmt, ...)
{
	size_t n = strlen(b->aer_outcome);
	va_list ap;

	if (n && n < sizeof(b->aer_outcome) - 1)
		b->aer_outcome[n++] = ',';
	va_start(ap, fmt);
	vsnprintf(b->aer_outcome + n, sizeof(b->aer_outcome) - n, fmt, ap);
	va_end(ap);
}

static int aer_post(struct pvpci_backend *b, struct dom *d, uint32_t cmd, int32_t state)
{
	int err = pvpci_pciif_aer_post(d->pif, d->chan->sh, &d->aer.host, cmd, state);

	if (err)
		return err;
	pvpci_record_aer(b->cfg.record, d->domid, &d->aer.host, cmd, state);
	d->aer.active = true;
	d->aer.cmd = cmd;
	d->aer.deadline = pvpci_now_ms() + b->cfg.aer_timeout_ms;
	pvpci_chan_notify(d->chan);
	return 0;
}

/* The frontend answered step d->aer.cmd with res (or did not: timeout). */
static void aer_next(struct pvpci_backend *b, struct dom *d, int32_t res, bool timeout)
{
	char bdf[PVPCI_BDF_STRLEN];
	uint32_t next = 0;

	pvpci_bdf_format(&d->aer.host, bdf);
	d->aer.active = false;
	pvpci_record_aer_answer(b->cfg.record, d->domid, &d->aer.host, d->aer.cmd, res, timeout);
	if (timeout) {
		blog(b, 3, "%s: pcifront aer process not responding (domain %u)", bdf, d->domid);
		outcome_add(b, "%s:timeout", aer_step(d->aer.cmd));
		return;
	}
	outcome_add(b, "%s:%s", aer_step(d->aer.cmd), ers_name(res));
	switch (d->aer.cmd) {
	case PVPCI_XEN_PCI_OP_aer_detected:
		if (res == PVPCI_PCI_ERS_RESULT_CAN_RECOVER)
			next = PVPCI_XEN_PCI_OP_aer_mmio;
		else if (res == PVPCI_PCI_ERS_RESULT_NEED_RESET)
			next = PVPCI_XEN_PCI_OP_aer_slotreset;
		break;
	case PVPCI_XEN_PCI_OP_aer_mmio:
		if (res == PVPCI_PCI_ERS_RESULT_NEED_RESET)
			next = PVPCI_XEN_PCI_OP_aer_slotreset;
		else if (res == PVPCI_PCI_ERS_RESULT_RECOVERED)
			next = PVPCI_XEN_PCI_OP_aer_resume;
		break;
	case PVPCI_XEN_PCI_OP_aer_slotreset:
		if (res == PVPCI_PCI_ERS_RESULT_RECOVERED)
			next = PVPCI_XEN_PCI_OP_aer_resume;
		break;
	default:
		break;
	}
	blog(b, 6, "%s: AER %s: the guest answered %s", bdf, aer_step(d->aer.cmd), ers_name(res));
	if (next && aer_post(b, d, next, PVPCI_PCI_CHANNEL_IO_NORMAL))
		outcome_add(b, "%s:not_sent", aer_step(next));
}

int pvpci_backend_aer(struct pvpci_backend *b, const struct pvpci_bdf *host, int state)
{
	struct dom *d;
	int err;

	for (d = b->doms; d; d = d->next)
		if (bdev_find(d, host))
			break;
	if (!d)
		return -ENOENT;
	if (!d->chan)
		return -ENOTCONN;
	if (d->aer.active)
		return -EBUSY;
	b->aer_outcome[0] = '\0';
	d->aer.host = *host;
	err = aer_post(b, d, PVPCI_XEN_PCI_OP_aer_detected, state);
	if (err == -EOPNOTSUPP) {
		char bdf[PVPCI_BDF_STRLEN];

		blog(b, 3, "%s: guest %u has no AER driver; pciback would kill it",
		     pvpci_bdf_format(host, bdf), d->domid);
		outcome_add(b, "detected:no_handler");
	}
	return err;
}

bool pvpci_backend_aer_busy(const struct pvpci_backend *b)
{
	for (const struct dom *d = b->doms; d; d = d->next)
		if (d->aer.active)
			return true;
	return false;
}

const char *pvpci_backend_aer_outcome(const struct pvpci_backend *b)
{
	return b->aer_outcome;
}

/* ---- the loop ---- */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * Whether the frontend posts its next op within cfg.poll_us of the answer:
 * watch the page's flag (pciif.h: the frontend sets it, then kicks).  A
 * guest enumerating config space sends its ops back to back, and an op
 * seen here costs no kick, no wake-up and no system call to take it; the
 * time to beat is the kernel's wake-up of pciback's worker thread
 * (../shared/notes/xen-under-qemu.md).  The clock is read only every 32
 * spins, the first time after 32 (the wait is poll_us from then): on a PV
 * dom0 under TCG a read took 61 and 68 us on average in two runs of an
 * instrumented pvpcid (dom0's clocksource tsc notwithstanding: it is a
 * system call there), an op that arrives meanwhile is not seen, and 52%
 * and 37% of the ops were on the page at the first look.
 */
static bool op_soon(const struct pvpci_backend *b, const struct pvpci_sharedinfo *sh)
{
	long until = 0;

	for (unsigned i = 1;; i++) {
		if (__atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE) & PVPCI_XEN_PCIF_active)
			return true;
		if (i % 32 == 0) {
			long now = pvpci_now_us();

			if (!until)
				until = now + (long)b->cfg.poll_us;
			else if (now >= until)
				return false;
		}
		cpu_relax();
	}
}

/*
 * A kick from d's frontend: its ops, answered one at a time, each
 * notified as soon as it is out.  After an answer the page is watched for
 * the next op a while (op_soon), the kick taken kept (xen: the port stays
 * masked, so the frontend's kicks for the ops served here cost the
 * backend nothing; Xen holds them and they fire once at the rearm, which
 * finds the page idle).  At most PVPCI_BACKEND_POLL_OPS ops a turn: a
 * frontend that posts again at once does not keep the loop from the
 * others (XSA-332); what it posted then waits for the next turn.
 */
static void do_evt(struct pvpci_backend *b, struct dom *d)
{
	struct pvpci_sharedinfo *sh;
	uint32_t cmd, odom, obus, odevfn;
	int32_t res;
	int r = pvpci_chan_ack(d->chan);
	unsigned ops = 0;
	bool served;

	if (r < 0) {
		front_drop(b, d, "broke its event channel");
		return;
	}
	sh = d->chan->sh;
	do {
		/* What the op asks and of which function, to tell a read
		 * (most ops, which change nothing a guest is shown) from the
		 * rest; a frontend that changes them under us only costs its
		 * own view after a restart. */
		cmd = __atomic_load_n(&sh->op.cmd, __ATOMIC_RELAXED);
		odom = __atomic_load_n(&sh->op.domain, __ATOMIC_RELAXED);
		obus = __atomic_load_n(&sh->op.bus, __ATOMIC_RELAXED);
		odevfn = __atomic_load_n(&sh->op.devfn, __ATOMIC_RELAXED);
		served = pvpci_pciif_serve(d->pif, sh);
		if (served && pvpci_chan_notify(d->chan) == -EPROTO) {
			front_drop(b, d, "broke its event channel");
			return;
		}
		/* After the notify: the guest does not wait on the file. */
		if (served && cmd != PVPCI_XEN_PCI_OP_conf_read)
			view_update(b, d, odom, obus, odevfn);
		if (d->aer.active && pvpci_pciif_aer_poll(d->pif, sh, &res) == 1)
			aer_next(b, d, res, false);
	} while (served && b->cfg.poll_us && ++ops < PVPCI_BACKEND_POLL_OPS && op_soon(b, sh));
	/* Kicks again only now that the answer is out (xen: the unmask). */
	if (r > 0 && pvpci_chan_rearm(d->chan) < 0)
		front_drop(b, d, "broke its event channel");
}

int pvpci_backend_next_timeout(const struct pvpci_backend *b)
{
	long next = -1, now;

	for (const struct pending *p = b->pending; p; p = p->next)
		if (next < 0 || p->deadline < next)
			next = p->deadline;
	for (const struct dom *d = b->doms; d; d = d->next)
		if (d->aer.active && (next < 0 || d->aer.deadline < next))
			next = d->aer.deadline;
	if (next < 0)
		return -1;
	/* Only now: no deadline, no clock read on the path of every op. */
	now = pvpci_now_ms();
	return next <= now ? 0 : (int)(next - now > 1000000 ? 1000000 : next - now);
}

/* Whether anything has a deadline (pending hellos, AER steps in flight). */
static bool any_deadline(const struct pvpci_backend *b)
{
	if (b->pending)
		return true;
	for (const struct dom *d = b->doms; d; d = d->next)
		if (d->aer.active)
			return true;
	return false;
}

static void do_deadlines(struct pvpci_backend *b)
{
	long now;

	if (!any_deadline(b))
		return;
	now = pvpci_now_ms();
	for (struct pending *p = b->pending, *n; p; p = n) {
		n = p->next;
		if (p->deadline <= now) {
			refuse(p->fd, -ETIMEDOUT, "no hello in time");
			pending_free(b, p);
		}
	}
	for (struct dom *d = b->doms; d; d = d->next)
		if (d->aer.active && d->aer.deadline <= now && d->chan) {
			pvpci_pciif_aer_cancel(d->pif, d->chan->sh);
			aer_next(b, d, PVPCI_PCI_ERS_RESULT_NONE, true);
		}
}

int pvpci_backend_watch(struct pvpci_backend *b, int fd, void (*fn)(void *ctx), void *ctx)
{
	struct watch *w;
	int err;

	if (fd < 0 || !fn)
		return -EINVAL;
	if (b->nwatches == MAX_WATCHES)
		return -ENOSPC;
	w = &b->watches[b->nwatches];
	*w = (struct watch){ .ev = { EV_WATCH, w }, .fn = fn, .ctx = ctx };
	err = ep_add(b, fd, EPOLLIN, &w->ev);
	if (err < 0)
		return err;
	b->nwatches++;
	return 0;
}

/*
 * One round: what one epoll_wait of up to timeout_ms returns, then the
 * deadlines, then the callers' watched fds that were ready.  Those come
 * last: their callbacks may connect and disconnect frontends (xenbus),
 * which frees what later events of this round point to.  The wait that
 * sleeps is the one that takes the events: after a sleep an op costs one
 * epoll_wait, not a wait and then a look.
 */
static int serve(struct pvpci_backend *b, int timeout_ms)
{
	struct epoll_event evs[MAX_EVENTS];
	int n = epoll_wait(b->epfd, evs, MAX_EVENTS, timeout_ms);

	if (n < 0 && errno != EINTR)
		return -errno;
	for (int i = 0; i < n; i++) {
		struct ev *ev = evs[i].data.ptr;
		struct dom *d = ev->obj;

		switch (ev->kind) {
		case EV_LISTEN:
			do_accept(b);
			break;
		case EV_PENDING:
			do_hello(b, ev->obj);
			break;
		case EV_EVT:
			if (d->chan)
				do_evt(b, d);
			break;
		case EV_GRANT:
			/* The frontend went before xenbus connected it. */
			grant_free(b, ev->obj);
			break;
		case EV_CTL:
			/* Closing the channel removes both of its fds from the
			 * set, so a later event of this round for it is stale:
			 * d->chan is NULL then and the EV_EVT case skips it. */
			if (d->chan)
				front_drop(b, d, "went away");
			break;
		case EV_WATCH:
			((struct watch *)ev->obj)->ready = true;
			break;
		}
	}
	do_deadlines(b);
	for (size_t i = 0; i < b->nwatches; i++)
		if (b->watches[i].ready) {
			b->watches[i].ready = false;
			b->watches[i].fn(b->watches[i].ctx);
		}
	return 0;
}

int pvpci_backend_dispatch(struct pvpci_backend *b)
{
	return serve(b, 0);
}

int pvpci_backend_run(struct pvpci_backend *b, int timeout_ms)
{
	int next = pvpci_backend_next_timeout(b);

	if (next >= 0 && (timeout_ms < 0 || next < timeout_ms))
		timeout_ms = next;
	return serve(b, timeout_ms);
}
