/*
 * Xen, faked, for the tests of the xen transport and of the Xen interrupt
 * allocator and toolstack permissions: struct pvpci_xen_ops (grant
 * mapping, event channels) and struct pvpci_hv_ops (pirqs,
 * permissions), each keeping every call in order as text in calls[].
 *
 * The grant is a page of this process.  An event channel is an eventfd
 * modelled as Xen's port: it fires once, then stays masked, holding
 * further kicks, until it is unmasked.  Pirqs are handed out from 50 up;
 * a map can be made to fail at its Nth call.  Header-only; include after
 * cmocka.h.
 */
#ifndef PVPCI_TEST_FAKEXEN_H
#define PVPCI_TEST_FAKEXEN_H

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pvpci/hypervisor.h"
#include "pvpci/pciif.h"
#include "pvpci/transport.h"

#define FX_LOCAL_PORT	33
#define FX_PIRQ0	50

static inline void fx_call(char *calls, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Append one call and a space to calls. */
static inline void fx_call(char *calls, size_t len, const char *fmt, ...)
{
	size_t n = strlen(calls);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(calls + n, len - n, fmt, ap);
	va_end(ap);
	n = strlen(calls);
	snprintf(calls + n, len - n, " ");
}

/* ---- grant table and event channels ---- */

struct fake_evtchn {
	int efd;		/* readable while the port is pending */
	bool bound, masked, held;
};

struct fake_xen {
	struct pvpci_xen x;
	char calls[4096];
	int map_err, open_err, bind_err, unmask_err;
	int pending_port;		/* 0: the bound port; else this one */
	void *page;
	bool mapped;
	struct fake_evtchn *ev;		/* the handle open, if any */
	/* The page as the frontend would see it when it is notified. */
	uint32_t flags_at_notify;
	int32_t err_at_notify;
	uint32_t value_at_notify;
	void (*on_notify)(struct fake_xen *f);
	void *ctx;			/* the test's */
	unsigned nnotify;
};

#define FX_CALL(f, ...) fx_call((f)->calls, sizeof((f)->calls), __VA_ARGS__)

static inline struct fake_xen *fx_of(struct pvpci_xen *x)
{
	return (struct fake_xen *)x;
}

static inline int fx_map(struct pvpci_xen *x, uint32_t domid, uint32_t ref, void **ret)
{
	struct fake_xen *f = fx_of(x);

	FX_CALL(f, "map(%u,%u)", domid, ref);
	if (f->map_err)
		return f->map_err;
	assert_false(f->mapped);
	f->mapped = true;
	*ret = f->page;
	return 0;
}

static inline int fx_unmap(struct pvpci_xen *x, void *page)
{
	struct fake_xen *f = fx_of(x);

	FX_CALL(f, "unmap");
	assert_ptr_equal(page, f->page);
	assert_true(f->mapped);
	f->mapped = false;
	return 0;
}

static inline int fx_open(struct pvpci_xen *x, struct pvpci_xen_evtchn **ret, int *ret_fd)
{
	struct fake_xen *f = fx_of(x);

	FX_CALL(f, "open");
	if (f->open_err)
		return f->open_err;
	assert_null(f->ev);
	f->ev = calloc(1, sizeof(*f->ev));
	f->ev->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(f->ev->efd >= 0);
	*ret = (struct pvpci_xen_evtchn *)f->ev;
	*ret_fd = f->ev->efd;
	return 0;
}

static inline void fx_close_evtchn(struct pvpci_xen *x, struct pvpci_xen_evtchn *h)
{
	struct fake_xen *f = fx_of(x);

	FX_CALL(f, "close");
	assert_ptr_equal(h, f->ev);
	close(f->ev->efd);
	free(f->ev);
	f->ev = NULL;
}

static inline int fx_bind(struct pvpci_xen *x, struct pvpci_xen_evtchn *h, uint32_t domid, uint32_t port)
{
	struct fake_xen *f = fx_of(x);

	FX_CALL(f, "bind(%u,%u)", domid, port);
	assert_ptr_equal(h, f->ev);
	if (f->bind_err)
		return f->bind_err;
	f->ev->bound = true;
	return FX_LOCAL_PORT;
}

static inline int fx_unbind(struct pvpci_xen *x, struct pvpci_xen_evtchn *h, uint32_t port)
{
	struct fake_xen *f = fx_of(x);

	FX_CALL(f, "unbind(%u)", port);
	assert_ptr_equal(h, f->ev);
	assert_true(f->ev->bound);
	f->ev->bound = false;
	return 0;
}

static inline int fx_notify(struct pvpci_xen *x, struct pvpci_xen_evtchn *h, uint32_t port)
{
	struct fake_xen *f = fx_of(x);
	struct pvpci_sharedinfo *sh = f->page;

	(void)h;
	FX_CALL(f, "notify(%u)", port);
	f->flags_at_notify = __atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE);
	f->err_at_notify = sh->op.err;
	f->value_at_notify = sh->op.value;
	f->nnotify++;
	if (f->on_notify)
		f->on_notify(f);
	return 0;
}

static inline int fx_pending(struct pvpci_xen *x, struct pvpci_xen_evtchn *h)
{
	struct fake_xen *f = fx_of(x);
	uint64_t n;

	(void)h;
	if (read(f->ev->efd, &n, sizeof(n)) != sizeof(n))
		return -EAGAIN;
	FX_CALL(f, "pending");
	f->ev->masked = true;
	return f->pending_port ? f->pending_port : FX_LOCAL_PORT;
}

static inline int fx_unmask(struct pvpci_xen *x, struct pvpci_xen_evtchn *h, uint32_t port)
{
	struct fake_xen *f = fx_of(x);
	uint64_t one = 1;

	(void)h;
	FX_CALL(f, "unmask(%u)", port);
	if (f->unmask_err)
		return f->unmask_err;
	f->ev->masked = false;
	/* What fired while it was masked fires now. */
	if (f->ev->held) {
		f->ev->held = false;
		assert_int_equal(write(f->ev->efd, &one, sizeof(one)), sizeof(one));
	}
	return 0;
}

static inline void fx_close(struct pvpci_xen *x)
{
	(void)x;
}

static const struct pvpci_xen_ops fake_xen_ops = {
	.map = fx_map, .unmap = fx_unmap, .evtchn_open = fx_open, .evtchn_close = fx_close_evtchn,
	.bind = fx_bind, .unbind = fx_unbind, .notify = fx_notify, .pending = fx_pending,
	.unmask = fx_unmask, .close = fx_close,
};

static inline void fake_xen_init(struct fake_xen *f)
{
	memset(f, 0, sizeof(*f));
	f->x.ops = &fake_xen_ops;
	f->page = aligned_alloc(4096, 4096);
	assert_non_null(f->page);
	memset(f->page, 0, 4096);
}

static inline void fake_xen_fini(struct fake_xen *f)
{
	assert_false(f->mapped);
	assert_null(f->ev);
	free(f->page);
}

/* The frontend kicks: held by Xen while the port is masked. */
static inline void fake_xen_kick(struct fake_xen *f)
{
	uint64_t one = 1;

	if (f->ev->masked)
		f->ev->held = true;
	else
		assert_int_equal(write(f->ev->efd, &one, sizeof(one)), sizeof(one));
}

/* ---- the hypervisor ---- */

struct fake_hv {
	struct pvpci_hv hv;
	char calls[4096];
	int next_pirq;			/* what the next map gives */
	unsigned nmap;			/* map calls so far */
	unsigned fail_at;		/* the map call (1, 2, ...) that fails; 0: none */
	int fail_err;
	int perm_err;			/* every permission call's answer */
	int assign_err;			/* assign_device's answer */
	int deassign_err;		/* deassign_device's answer */
	int msix_err;			/* prepare_msix's answer */
	int mapped;			/* pirqs mapped and not unmapped */
	/* Called at each pirq map (true) and unmap (false), before it is
	 * recorded: the test looks at the hardware then. */
	void (*at)(struct fake_hv *h, bool map);
	void *ctx;			/* the test's */
};

static inline struct fake_hv *fh_of(struct pvpci_hv *hv)
{
	return (struct fake_hv *)hv;
}

static inline int fh_map_msi(struct pvpci_hv *hv, unsigned domid, const struct pvpci_bdf *bdf,
			     unsigned entry_nr, uint64_t table_base, int *ret_pirq)
{
	struct fake_hv *h = fh_of(hv);
	char b[PVPCI_BDF_STRLEN];

	if (h->at)
		h->at(h, true);
	h->nmap++;
	if (h->fail_at == h->nmap) {
		FX_CALL(h, "msi(%u,%s,%u,%#" PRIx64 ")=%d", domid, pvpci_bdf_format(bdf, b), entry_nr,
			table_base, h->fail_err);
		return h->fail_err;
	}
	*ret_pirq = h->next_pirq++;
	h->mapped++;
	FX_CALL(h, "msi(%u,%s,%u,%#" PRIx64 ")=%d", domid, pvpci_bdf_format(bdf, b), entry_nr, table_base,
		*ret_pirq);
	return 0;
}

static inline int fh_map_gsi(struct pvpci_hv *hv, unsigned domid, int gsi, int *ret_pirq)
{
	struct fake_hv *h = fh_of(hv);

	FX_CALL(h, "gsi(%u,%d)", domid, gsi);
	h->mapped++;
	*ret_pirq = gsi;
	return 0;
}

static inline int fh_unmap(struct pvpci_hv *hv, unsigned domid, int pirq)
{
	struct fake_hv *h = fh_of(hv);

	if (h->at)
		h->at(h, false);
	FX_CALL(h, "unmap(%u,%d)", domid, pirq);
	h->mapped--;
	return 0;
}

static inline int fh_iomem(struct pvpci_hv *hv, unsigned domid, uint64_t first, uint64_t nr, bool allow)
{
	struct fake_hv *h = fh_of(hv);

	FX_CALL(h, "iomem(%u,%#" PRIx64 ",%" PRIu64 ",%s)", domid, first, nr, allow ? "on" : "off");
	return h->perm_err;
}

static inline int fh_ioport(struct pvpci_hv *hv, unsigned domid, uint32_t first, uint32_t nr, bool allow)
{
	struct fake_hv *h = fh_of(hv);

	FX_CALL(h, "ioport(%u,%#x,%u,%s)", domid, first, nr, allow ? "on" : "off");
	return h->perm_err;
}

static inline int fh_irq(struct pvpci_hv *hv, unsigned domid, int pirq, bool allow)
{
	struct fake_hv *h = fh_of(hv);

	FX_CALL(h, "irq(%u,%d,%s)", domid, pirq, allow ? "on" : "off");
	return h->perm_err;
}

static inline int fh_assign(struct pvpci_hv *hv, unsigned domid, const struct pvpci_bdf *bdf, bool relaxed)
{
	struct fake_hv *h = fh_of(hv);
	char b[PVPCI_BDF_STRLEN];

	FX_CALL(h, "assign(%u,%s,%s)", domid, pvpci_bdf_format(bdf, b), relaxed ? "relaxed" : "strict");
	return h->assign_err;
}

static inline int fh_deassign(struct pvpci_hv *hv, unsigned domid, const struct pvpci_bdf *bdf)
{
	struct fake_hv *h = fh_of(hv);
	char b[PVPCI_BDF_STRLEN];

	FX_CALL(h, "deassign(%u,%s)", domid, pvpci_bdf_format(bdf, b));
	return h->deassign_err;
}

static inline int fh_prepare_msix(struct pvpci_hv *hv, const struct pvpci_bdf *bdf, bool prepare)
{
	struct fake_hv *h = fh_of(hv);
	char b[PVPCI_BDF_STRLEN];

	FX_CALL(h, "msix(%s,%s)", pvpci_bdf_format(bdf, b), prepare ? "prepare" : "release");
	return h->msix_err;
}

static inline void fh_close(struct pvpci_hv *hv)
{
	(void)hv;
}

static const struct pvpci_hv_ops fake_hv_ops = {
	.map_pirq_msi = fh_map_msi, .map_pirq_gsi = fh_map_gsi, .unmap_pirq = fh_unmap,
	.iomem_permission = fh_iomem, .ioport_permission = fh_ioport, .irq_permission = fh_irq,
	.assign_device = fh_assign, .deassign_device = fh_deassign, .prepare_msix = fh_prepare_msix,
	.close = fh_close,
};

static inline void fake_hv_init(struct fake_hv *h)
{
	memset(h, 0, sizeof(*h));
	h->hv.ops = &fake_hv_ops;
	h->next_pirq = FX_PIRQ0;
}

#endif
