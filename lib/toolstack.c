/*
 * The toolstack verbs over the store (toolstack.h), written and waited for
 * as libxl_pci.c does.  Every change is one transaction, retried when the
 * store says EAGAIN; every wait watches the backend directory and has a
 * deadline.  What an attach wrote is undone when nobody answers; what a
 * detach changed is put back.  On Xen, the guest's permissions to reach
 * the function go with the entry.  Driver binding and reading the
 * function's resources are toolstack_sysfs.c's.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "clock.h"
#include "errmsg.h"
#include "pvpci/hypervisor.h"
#include "pvpci/toolstack.h"
#include "pvpci/xenbus.h"

#define MAX_TRIES	64	/* a transaction retried on EAGAIN */
#define MAX_ENTRIES	256	/* entries of one domain's device */
#define TOKEN		"pvpci-toolstack"

/* One verb's context: the store, the domain's two directories, the
 * caller's options and error buffer. */
struct ts {
	struct xs_handle *xs;
	unsigned domid;
	int timeout_ms;
	bool force;
	const struct pvpci_ts_opts *o;
	char be[64], fe[64];
	char *errbuf;
	size_t errlen;
};

static void ts_init(struct ts *c, struct xs_handle *xs, unsigned domid, const struct pvpci_ts_opts *o,
		    char *errbuf, size_t errlen)
{
	*c = (struct ts){ .xs = xs, .domid = domid, .o = o, .errbuf = errbuf, .errlen = errlen };
	c->timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : PVPCI_TS_TIMEOUT_MS;
	c->force = o && o->force;
	pvpci_xb_backend_path(domid, c->be, sizeof(c->be));
	pvpci_xb_frontend_path(domid, c->fe, sizeof(c->fe));
}

static void tlog(struct ts *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void tlog(struct ts *c, int level, const char *fmt, ...)
{
	va_list ap;

	if (!c->o)
		return;
	va_start(ap, fmt);
	pvpci_vlogf(c->o->log, c->o->log_ctx, level, NULL, fmt, ap);
	va_end(ap);
}

/* ---- the store, inside a transaction or not ---- */

/* dir/key (dir alone when key is NULL), malloc'd, or NULL. */
static char *rd(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *key)
{
	char path[256];
	unsigned len;

	snprintf(path, sizeof(path), "%s%s%s", dir, key ? "/" : "", key ? key : "");
	return xs_read(xs, t, path, &len);
}

/* dir/key as a decimal number in [0, max], or dflt. */
static int rd_int(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *key, int max,
		  int dflt)
{
	char *s = rd(xs, t, dir, key), *end;
	long v;

	if (!s)
		return dflt;
	v = strtol(s, &end, 10);
	if (end == s || *end || v < 0 || v > max)
		v = dflt;
	free(s);
	return (int)v;
}

#define wr pvpci_xb_printf

/* dir/key removed (dir itself when key is NULL); absent is fine. */
static bool rm(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *key)
{
	char path[256];

	snprintf(path, sizeof(path), "%s%s%s", dir, key ? "/" : "", key ? key : "");
	return xs_rm(xs, t, path) || errno == ENOENT;
}

/* "dev-3" */
static const char *ekey(char *buf, size_t len, const char *name, int i)
{
	snprintf(buf, len, "%s-%d", name, i);
	return buf;
}

static int parse_bdf(const char *s, struct pvpci_bdf *ret)
{
	return s ? pvpci_bdf_parse(s, ret) : -EINVAL;
}

/*
 * Run body in a transaction until it commits.  body returns 0 to commit,
 * a positive number to abort and return it (nothing to do, or come back
 * later), or a negative errno (its message written) to abort and fail.
 */
static int in_tx(struct ts *c, int (*body)(struct ts *c, xs_transaction_t t, void *arg), void *arg)
{
	for (int tries = 0; tries < MAX_TRIES; tries++) {
		xs_transaction_t t = xs_transaction_start(c->xs);
		int r;

		if (t == XBT_NULL)
			return pvpci_errf(c->errbuf, c->errlen, -errno, "the store: starting a transaction: %s",
					  strerror(errno));
		r = body(c, t, arg);
		if (r) {
			xs_transaction_end(c->xs, t, true);
			return r;
		}
		if (xs_transaction_end(c->xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return pvpci_errf(c->errbuf, c->errlen, -errno, "the store: committing: %s",
					  strerror(errno));
	}
	return pvpci_errf(c->errbuf, c->errlen, -EAGAIN, "the store kept changing: %d transactions retried",
			  MAX_TRIES);
}

static int store_err(struct ts *c, const char *what)
{
	int e = errno ? errno : EIO;

	return pvpci_errf(c->errbuf, c->errlen, -e, "the store: %s: %s", what, strerror(e));
}

/* ---- waiting for the backend ---- */

static int be_state(struct ts *c)
{
	return pvpci_xb_read_state(c->xs, c->be);
}

/* Follow the backend directory (watched by the caller) until cond says
 * done (1) or failed (negative), or timeout_ms passes (-ETIMEDOUT). */
static int wait_be(struct ts *c, int (*cond)(struct ts *c, void *arg), void *arg)
{
	long deadline = pvpci_now_ms() + c->timeout_ms;

	for (;;) {
		struct pollfd p = { .fd = xs_fileno(c->xs), .events = POLLIN };
		long left;
		char **w;
		int r = cond(c, arg);

		if (r)
			return r;
		left = deadline - pvpci_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (p.fd < 0)
			return -errno;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
		while ((w = xs_check_watch(c->xs)))
			free(w);
	}
}

/* The backend closed the device or it went away: no point waiting. */
static int be_gone(struct ts *c, int bs)
{
	char *s;

	if (bs == PVPCI_XB_Closing || bs == PVPCI_XB_Closed)
		return -EPIPE;
	if (bs != PVPCI_XB_Unknown)
		return 0;
	s = rd(c->xs, XBT_NULL, c->be, NULL);
	free(s);
	return s ? 0 : -ENOENT;
}

static bool reconfiguring(int bs)
{
	return bs == PVPCI_XB_Reconfiguring || bs == PVPCI_XB_Reconfigured;
}

static int cond_connected(struct ts *c, void *arg)
{
	int bs = be_state(c);

	(void)arg;
	return bs == PVPCI_XB_Connected ? 1 : be_gone(c, bs);
}

/* Ready for an entry: Connected (hot attach), or not yet connected. */
static int cond_settled(struct ts *c, void *arg)
{
	int bs = be_state(c);

	(void)arg;
	return bs >= PVPCI_XB_Initialising && bs <= PVPCI_XB_Connected ? 1 : be_gone(c, bs);
}

/* "Connected (4)"; the reason a wait ended, with the backend's error node. */
static int wait_err(struct ts *c, int r, const char *what)
{
	char path[128], *e;
	unsigned len;
	int bs = be_state(c);

	snprintf(path, sizeof(path), "/local/domain/0/error/backend/pci/%u/0/error", c->domid);
	e = r == -EPIPE || r == -ECANCELED ? xs_read(c->xs, XBT_NULL, path, &len) : NULL;
	if (r == -ETIMEDOUT)
		pvpci_errf(c->errbuf, c->errlen, r, "%s in %d ms (backend %s, state %d; frontend state %d)%s",
			   what, c->timeout_ms, pvpci_xb_state_name(bs), bs, pvpci_xb_read_state(c->xs, c->fe),
			   bs == PVPCI_XB_Initialising ? ": no backend took the device (is pvpcid --store running?)"
						       : "");
	else if (r == -EPIPE)
		pvpci_errf(c->errbuf, c->errlen, r, "%s: the backend is %s%s%s", what, pvpci_xb_state_name(bs),
			   e ? ": " : "", e ? e : "");
	else if (r == -ECANCELED)
		pvpci_errf(c->errbuf, c->errlen, r, "%s: the backend refused it%s%s", what, e ? ": " : "",
			   e ? e : "");
	else if (r == -ENOENT)
		pvpci_errf(c->errbuf, c->errlen, r, "%s: %s was removed", what, c->be);
	else
		pvpci_errf(c->errbuf, c->errlen, r, "%s: %s", what, strerror(-r));
	free(e);
	return r;
}

/* ---- xl's PCI spec ---- */

int pvpci_pci_spec_parse(const char *s, struct pvpci_pci_spec *ret, char *errbuf, size_t errlen)
{
	struct pvpci_pci_spec sp = { 0 };
	const char *p;

	if (!s || pvpci_bdf_parse_prefix(s, &sp.bdf, &p) < 0) {
		if (s && strstr(s, ".*"))
			return pvpci_errf(errbuf, errlen, -EINVAL,
					  "'%s': the function wildcard (.*) is not supported: attach each function", s);
		return pvpci_errf(errbuf, errlen, -EINVAL,
				  "'%s': expected [DDDD:]BB:DD.F[@VSLOT][,permissive=1][,msitranslate=1][,power_mgmt=1][,seize=1][,allow_shared_intx=1]",
				  s ? s : "");
	}
	if (*p == '@') {
		char *end;
		unsigned long v = isxdigit((unsigned char)p[1]) ? strtoul(p + 1, &end, 16) : 0x100;

		if (v > 0x1f)
			return pvpci_errf(errbuf, errlen, -EINVAL, "'%s': VSLOT is a slot number in hex, 0 to 1f", s);
		sp.vdevfn = (unsigned)v << 3;
		p = end;
	}
	while (*p == ',') {
		const char *k = p + 1, *end = strchrnul(k, ','), *eq = memchr(k, '=', (size_t)(end - k));
		static const char *const flags[] = { "permissive", "msitranslate", "power_mgmt", "seize",
						     "allow_shared_intx" };
		bool *dst[] = { &sp.permissive, &sp.msitranslate, &sp.power_mgmt, &sp.seize, &sp.allow_shared_intx };
		const unsigned nflags = sizeof(flags) / sizeof(flags[0]);
		size_t kl, vl;
		const char *v;
		unsigned f;

		if (!eq)
			return pvpci_errf(errbuf, errlen, -EINVAL, "'%.*s': expected KEY=VALUE", (int)(end - k), k);
		kl = (size_t)(eq - k);
		v = eq + 1;
		vl = (size_t)(end - v);
		for (f = 0; f < nflags && (strlen(flags[f]) != kl || strncmp(k, flags[f], kl)); f++)
			;
		if (f < nflags) {
			if (vl != 1 || (*v != '0' && *v != '1'))
				return pvpci_errf(errbuf, errlen, -EINVAL, "'%.*s': %s is 0 or 1", (int)(end - k), k,
						  flags[f]);
			*dst[f] = *v == '1';
		} else if (kl == 10 && !strncmp(k, "rdm_policy", kl)) {
			if (vl == 6 && !strncmp(v, "strict", 6))
				sp.rdm_relaxed = false;
			else if (vl == 7 && !strncmp(v, "relaxed", 7))
				sp.rdm_relaxed = true;
			else
				return pvpci_errf(errbuf, errlen, -EINVAL, "'%.*s': rdm_policy is strict or relaxed",
						  (int)(end - k), k);
		} else {
			return pvpci_errf(errbuf, errlen, -EINVAL,
					  "'%.*s': unknown option (permissive, msitranslate, power_mgmt, seize, rdm_policy, allow_shared_intx)",
					  (int)kl, k);
		}
		p = end;
	}
	if (*p)
		return pvpci_errf(errbuf, errlen, -EINVAL, "'%s': unexpected '%s'", s, p);
	*ret = sp;
	return 0;
}

int pvpci_ts_host_parse(const char *spec, struct pvpci_ts_host *ret, char *errbuf, size_t errlen)
{
	struct pvpci_ts_host h = { 0 };
	const char *root;

	if (!spec || !strcmp(spec, "none") || !strcmp(spec, "sim") || !strncmp(spec, "sim:", 4)) {
		h.sim = spec && strcmp(spec, "none");
		*ret = h;
		return 0;
	}
	if (strcmp(spec, "sysfs") && strncmp(spec, "sysfs:", 6))
		return pvpci_errf(errbuf, errlen, -EINVAL, "'%s': the host is none, sim[:...] or sysfs[:ROOT]",
				  spec);
	root = spec[5] ? spec + 6 : "";
	if (!*root)
		root = "/sys";
	if (strchr(root, ','))
		return pvpci_errf(errbuf, errlen, -EINVAL, "'%s': seizing takes no host options", spec);
	if (strlen(root) >= sizeof(h.root))
		return pvpci_errf(errbuf, errlen, -ENAMETOOLONG, "'%s': the root is too long", spec);
	h.sysfs = true;
	strcpy(h.root, root);
	*ret = h;
	return 0;
}

/* ---- assignable functions: /libxl/pci/DDDD-BB-DD-F ---- */

struct assignable_tx {
	const struct pvpci_bdf *bdf;
	char ap[64];
	const char *driver_path, *name;
	bool check_only;
	char bdfs[PVPCI_BDF_STRLEN];
};

static void assignable_init(struct assignable_tx *a, const struct pvpci_bdf *bdf)
{
	a->bdf = bdf;
	pvpci_xb_assignable_path(bdf, a->ap, sizeof(a->ap));
	pvpci_bdf_format(bdf, a->bdfs);
}

static int add_body(struct ts *c, xs_transaction_t t, void *arg)
{
	struct assignable_tx *a = arg;
	char *s = rd(c->xs, t, a->ap, NULL);

	free(s);
	if (s)
		return 1;	/* someone made it meanwhile */
	if (!wr(c->xs, t, a->ap, "driver_path", "%s", a->driver_path) ||
	    (a->name && !wr(c->xs, t, a->ap, "name", "%s", a->name)))
		return store_err(c, a->ap);
	return 0;
}

/*
 * Xen's quarantine (XSA-302), as libxl's assignable-add ends and its
 * assignable-remove begins: the function assigned to DOMID_IO, always
 * relaxed (a sentinel without mappings: no reserved region can refuse
 * it), and de-assigned from there, which Xen 4.17 answers by giving it
 * to dom0.  In between Xen moves it itself: to the guest at attach's
 * assignment, back to DOMID_IO at detach's de-assignment.  (Under
 * iommu=no-quarantine Xen 4.17.7 quarantines nothing, and refuses the
 * de-assignment from DOMID_IO with -ENODEV, libxl's as ours.)  Only on
 * Xen, and only for a function seized for the stub through sysfs: one
 * held any other way (--host none) may be driven by a dom0 driver whose
 * DMA the quarantine would cut off, and a simulated one is not Xen's.
 */
static bool quarantines(const struct ts *c)
{
	return c->o && c->o->hv && c->o->host && c->o->host->sysfs;
}

static int quarantine(struct ts *c, const struct assignable_tx *a, bool in)
{
	struct pvpci_hv *hv = c->o->hv;
	int r = in ? hv->ops->assign_device(hv, PVPCI_DOMID_IO, a->bdf, true)
		   : hv->ops->deassign_device(hv, PVPCI_DOMID_IO, a->bdf);
	const char *why = "";

	if (!r) {
		tlog(c, 6, "%s: %s", a->bdfs, in ? "quarantined (assigned to DOMID_IO)" : "out of quarantine: dom0's");
		return 0;
	}
	if (in && r == -EOPNOTSUPP)
		why = " (Xen has no IOMMU: libxl refuses such a function too)";
	else if (in && r == -EBUSY)
		why = " (a domain has it)";
	else if (!in && r == -ENODEV)
		why = " (Xen does not hold it in quarantine: a domain has it, or it was made assignable without)";
	return pvpci_errf(c->errbuf, c->errlen, r, "%s: failed to %squarantine it (%s DOMID_IO): %s%s", a->bdfs,
			  in ? "" : "de-", in ? "xc_assign_device to" : "xc_deassign_device from", strerror(-r),
			  why);
}

/* The same as a rollback: its failure logged, errbuf kept for the reason
 * of the rollback. */
static void quarantine_back(struct ts *c, const struct assignable_tx *a, bool in)
{
	char keep[512];

	snprintf(keep, sizeof(keep), "%s", c->errbuf ? c->errbuf : "");
	if (quarantine(c, a, in) < 0)
		tlog(c, 3, "%s", c->errbuf ? c->errbuf : "");
	if (c->errbuf)
		snprintf(c->errbuf, c->errlen, "%s", keep);
}

int pvpci_ts_assignable_add(struct xs_handle *xs, const struct pvpci_ts_opts *o, const struct pvpci_bdf *bdf,
			    const char *name, char *errbuf, size_t errlen)
{
	const struct pvpci_ts_host *h = o ? o->host : NULL;
	struct assignable_tx a = { 0 };
	char dp[256] = "", *s;
	struct ts c;
	int r;

	ts_init(&c, xs, 0, o, errbuf, errlen);
	assignable_init(&a, bdf);
	s = rd(xs, XBT_NULL, a.ap, NULL);
	free(s);
	if (s)
		return 1;
	if (name && strlen(name) >= sizeof(((struct pvpci_ts_assignable *)0)->name))
		return pvpci_errf(errbuf, errlen, -ENAMETOOLONG, "the name '%s' is too long", name);
	if (h && h->sysfs) {
		r = pvpci_ts_sysfs_seize(h, bdf, dp, sizeof(dp), errbuf, errlen);
		if (r < 0)
			return r;
	}
	/* Quarantined before the node says it is assignable (libxl writes
	 * the node first): an attach never finds it otherwise. */
	r = quarantines(&c) ? quarantine(&c, &a, true) : 0;
	if (!r) {
		a.driver_path = dp;
		a.name = name;
		r = in_tx(&c, add_body, &a);
		if (r < 0 && quarantines(&c))
			quarantine_back(&c, &a, false);
	}
	if (r < 0 && h && h->sysfs)
		pvpci_ts_sysfs_release(h, bdf, dp, NULL, 0);
	return r;
}

static int remove_body(struct ts *c, xs_transaction_t t, void *arg)
{
	struct assignable_tx *a = arg;
	char *s = rd(c->xs, t, a->ap, NULL), *dom;
	int r;

	if (!s)
		return pvpci_errf(c->errbuf, c->errlen, -ENOENT, "%s is not assignable", a->bdfs);
	free(s);
	dom = rd(c->xs, t, a->ap, "domid");
	if (dom) {
		r = pvpci_errf(c->errbuf, c->errlen, -EBUSY, "%s is attached to domain %s: detach it first",
			       a->bdfs, dom);
		free(dom);
		return r;
	}
	return a->check_only || rm(c->xs, t, a->ap, NULL) ? 0 : store_err(c, a->ap);
}

int pvpci_ts_assignable_remove(struct xs_handle *xs, const struct pvpci_ts_opts *o,
			       const struct pvpci_bdf *bdf, bool rebind, char *errbuf, size_t errlen)
{
	const struct pvpci_ts_host *h = o ? o->host : NULL;
	struct assignable_tx a = { 0 };
	struct ts c;
	char *dp;
	int r;

	ts_init(&c, xs, 0, o, errbuf, errlen);
	assignable_init(&a, bdf);
	/* Checked first, then out of quarantine (libxl's first step), then
	 * given back, then the node removed if still nobody's. */
	a.check_only = true;
	r = in_tx(&c, remove_body, &a);
	if (r)
		return r;
	if (quarantines(&c)) {
		r = quarantine(&c, &a, false);
		if (r < 0)
			return r;
	}
	dp = rd(xs, XBT_NULL, a.ap, "driver_path");
	if (h && h->sysfs)
		r = pvpci_ts_sysfs_release(h, bdf, rebind && dp ? dp : NULL, errbuf, errlen);
	free(dp);
	if (r < 0) {
		/* Still assignable: back in quarantine. */
		if (quarantines(&c))
			quarantine_back(&c, &a, true);
		return r;
	}
	a.check_only = false;
	return in_tx(&c, remove_body, &a);
}

static int cmp_assignable(const void *a, const void *b)
{
	return pvpci_bdf_cmp(&((const struct pvpci_ts_assignable *)a)->bdf,
			     &((const struct pvpci_ts_assignable *)b)->bdf);
}

int pvpci_ts_assignable_list(struct xs_handle *xs, struct pvpci_ts_assignable *ret, size_t max,
			     size_t *ret_n, char *errbuf, size_t errlen)
{
	unsigned num = 0;
	char **names = xs_directory(xs, XBT_NULL, PVPCI_XB_ASSIGNABLE_ROOT, &num);
	size_t n = 0;

	if (!names && errno != ENOENT)
		return pvpci_errf(errbuf, errlen, -errno, "the store: %s: %s", PVPCI_XB_ASSIGNABLE_ROOT,
				  strerror(errno));
	for (unsigned i = 0; names && i < num && n < max; i++) {
		unsigned dom, bus, dev, fn;
		char dir[96], *s, end;

		if (sscanf(names[i], "%x-%x-%x-%x%c", &dom, &bus, &dev, &fn, &end) != 4 || dom > 0xffff ||
		    bus > 0xff || dev > 0x1f || fn > 7)
			continue;
		snprintf(dir, sizeof(dir), PVPCI_XB_ASSIGNABLE_ROOT "/%s", names[i]);
		s = rd(xs, XBT_NULL, dir, "domid");
		free(s);
		if (s)
			continue;
		ret[n] = (struct pvpci_ts_assignable){ .bdf = { .domain = (uint16_t)dom, .bus = (uint8_t)bus,
								.dev = (uint8_t)dev, .fn = (uint8_t)fn } };
		s = rd(xs, XBT_NULL, dir, "name");
		if (s)
			snprintf(ret[n].name, sizeof(ret[n].name), "%s", s);
		free(s);
		n++;
	}
	free(names);
	qsort(ret, n, sizeof(*ret), cmp_assignable);
	*ret_n = n;
	return 0;
}

/* ---- entries ---- */

/* Where entry bdf is among domid's num_devs entries, in t: its index,
 * -ENOENT when not there; *ret_num the count (-1: no device). */
static int find_entry(struct ts *c, xs_transaction_t t, const struct pvpci_bdf *bdf, int *ret_num)
{
	int num = rd_int(c->xs, t, c->be, "num_devs", MAX_ENTRIES, -1);

	*ret_num = num;
	for (int i = 0; i < num; i++) {
		char key[32], *s = rd(c->xs, t, c->be, ekey(key, sizeof(key), "dev", i));
		struct pvpci_bdf b;
		bool same = !parse_bdf(s, &b) && !pvpci_bdf_cmp(&b, bdf);

		free(s);
		if (same)
			return i;
	}
	return -ENOENT;
}

/* libxl_create_pci_backend_device */
static bool write_entry(struct ts *c, xs_transaction_t t, int i, const struct pvpci_pci_spec *sp)
{
	const struct pvpci_bdf *b = &sp->bdf;
	char key[32];
	bool ok;

	ok = wr(c->xs, t, c->be, ekey(key, sizeof(key), "key", i), PVPCI_XB_BDF_FMT, b->domain, b->bus, b->dev,
		b->fn) &&
	     wr(c->xs, t, c->be, ekey(key, sizeof(key), "dev", i), PVPCI_XB_BDF_FMT, b->domain, b->bus, b->dev,
		b->fn);
	/* libxl writes vdevfn only when it is not 0 */
	if (ok && sp->vdevfn)
		ok = wr(c->xs, t, c->be, ekey(key, sizeof(key), "vdevfn", i), "%x", sp->vdevfn);
	return ok &&
	       /* libxl's line; allow_shared_intx (pvpci's own) only when set */
	       wr(c->xs, t, c->be, ekey(key, sizeof(key), "opts", i),
		  "msitranslate=%d,power_mgmt=%d,permissive=%d,rdm_policy=%s%s", sp->msitranslate, sp->power_mgmt,
		  sp->permissive, sp->rdm_relaxed ? "relaxed" : "strict",
		  sp->allow_shared_intx ? ",allow_shared_intx=1" : "") &&
	       wr(c->xs, t, c->be, ekey(key, sizeof(key), "state", i), "%d", PVPCI_XB_Initialising);
}

/* Keys of an entry: the first three moved always, the others when present. */
static const char *const entry_keys[] = { "state", "dev", "key", "vdev", "opts", "vdevfn", "name" };
#define ALWAYS_KEYS 3

static bool remove_keys(struct ts *c, xs_transaction_t t, int i)
{
	for (size_t k = 0; k < sizeof(entry_keys) / sizeof(entry_keys[0]); k++) {
		char key[32];

		if (!rm(c->xs, t, c->be, ekey(key, sizeof(key), entry_keys[k], i)))
			return false;
	}
	return true;
}

int pvpci_ts_remove_entry(struct xs_handle *xs, uint32_t t, const char *be, int i, int num)
{
	struct ts c = { .xs = xs };

	if (i < 0 || i >= num)
		return -EINVAL;
	snprintf(c.be, sizeof(c.be), "%s", be);
	if (!remove_keys(&c, t, i) || !wr(xs, t, be, "num_devs", "%d", num - 1))
		return -errno;
	for (int j = i + 1; j < num; j++) {
		for (size_t k = 0; k < sizeof(entry_keys) / sizeof(entry_keys[0]); k++) {
			char from[32], to[32], *v = rd(xs, t, be, ekey(from, sizeof(from), entry_keys[k], j));
			bool ok = true;

			if (!v && (k >= ALWAYS_KEYS || errno == ENOENT))
				continue;	/* libxl writes what it reads; nothing read, nothing moved */
			if (!v)
				return -errno;
			ok = wr(xs, t, be, ekey(to, sizeof(to), entry_keys[k], j - 1), "%s", v) && rm(xs, t, be, from);
			free(v);
			if (!ok)
				return -errno;
		}
	}
	return 0;
}

/* ---- what the guest may reach, on Xen ---- */

#define XC_PAGE_SHIFT	12

/* Resource i's I/O ports, or the machine pages its memory spans. */
static int range_permission(struct ts *c, const struct pvpci_ts_resources *res, unsigned i, bool allow)
{
	struct pvpci_hv *hv = c->o->hv;
	uint64_t s = res->r[i].start, e = res->r[i].end;

	if (res->r[i].io)
		return hv->ops->ioport_permission(hv, c->domid, (uint32_t)s, (uint32_t)(e - s + 1), allow);
	return hv->ops->iomem_permission(hv, c->domid, s >> XC_PAGE_SHIFT,
					 (e >> XC_PAGE_SHIFT) - (s >> XC_PAGE_SHIFT) + 1, allow);
}

/* Give back what a grant gave, for the first n resources (and the
 * interrupt when irq_given); errors are logged, nothing more to do. */
static void revoke(struct ts *c, const char *bdfs, const struct pvpci_ts_resources *res, unsigned n,
		   bool irq_given)
{
	struct pvpci_hv *hv = c->o->hv;

	for (unsigned i = n; i-- > 0;) {
		int r = range_permission(c, res, i, false);

		if (r < 0)
			tlog(c, 3, "%s: taking back domain %u's %s 0x%" PRIx64 "-0x%" PRIx64 ": %s", bdfs, c->domid,
			     res->r[i].io ? "I/O ports" : "memory", res->r[i].start, res->r[i].end, strerror(-r));
	}
	/* libxl's order: the pirq unmapped, then the permission. */
	if (irq_given) {
		int r = hv->ops->unmap_pirq(hv, c->domid, (int)res->irq);

		if (r < 0)
			tlog(c, 3, "%s: unmapping domain %u's pirq %u: %s", bdfs, c->domid, res->irq, strerror(-r));
		r = hv->ops->irq_permission(hv, c->domid, (int)res->irq, false);
		if (r < 0)
			tlog(c, 3, "%s: taking back domain %u's interrupt %u: %s", bdfs, c->domid, res->irq,
			     strerror(-r));
	}
}

/*
 * What pciback does when it seizes a function (pcistub_init_device) and
 * lets it go: PHYSDEVOP_prepare_msix, release_msix.  Xen learns where
 * the function's MSI-X table is and keeps its pages read-only to guests;
 * it maps the MSI-X entries of a function assigned to a guest only after
 * that (-ENODATA otherwise: make e2e saw it).  Done before the guest may
 * map the BAR that holds the table, and only for a function that has
 * MSI-X, as pciback asks it: Xen 4.17 dereferences a NULL pointer for one
 * without (make e2e's edu panicked it).  One prepared already (-EBUSY: an
 * attach that died, or Xen using it meanwhile) needs nothing; true when
 * this call prepared it.
 */
static bool msix_table(struct ts *c, const char *bdfs, const struct pvpci_bdf *bdf, bool prepare)
{
	struct pvpci_hv *hv = c->o->hv;
	int r = hv->ops->prepare_msix(hv, bdf, prepare);

	if (r < 0 && r != -ENODEV && r != -ENOSYS)
		tlog(c, r == -EBUSY ? 6 : 3, "%s: %s its MSI-X table: %s", bdfs,
		     prepare ? "telling Xen of" : "releasing", strerror(-r));
	return r == 0;
}

/*
 * libxl's pci_add_dm_done for a PV guest (allow) or do_pci_remove (not):
 * each memory BAR and the ROM as whole machine pages, each I/O BAR's
 * ports, the legacy interrupt as the pirq of its number, then the
 * function into the guest's IOMMU context (relaxed: rdm_policy); and,
 * first, its MSI-X table prepared as pciback would (msix_table).  A grant
 * that fails takes back what it gave.  Nothing without a hypervisor, or
 * for a function the host does not have (a simulated one).  *ret_given
 * (may be NULL) says whether anything was given.
 */
static int permit(struct ts *c, const struct pvpci_bdf *bdf, bool allow, bool relaxed, bool *ret_given)
{
	struct pvpci_hv *hv = c->o ? c->o->hv : NULL;
	const char *root = c->o && c->o->host && c->o->host->sysfs ? c->o->host->root : "/sys";
	struct pvpci_ts_resources res;
	char bdfs[PVPCI_BDF_STRLEN], why[512];
	bool prepared;
	int r, pirq;

	if (ret_given)
		*ret_given = false;
	if (!hv)
		return 0;
	pvpci_bdf_format(bdf, bdfs);
	/* Its address may be a real function's of this host: not the guest's. */
	if (c->o->host && c->o->host->sim) {
		tlog(c, 6, "%s: simulated (--host sim): no memory, I/O ports or interrupt %s domain %u", bdfs,
		     allow ? "given to" : "taken from", c->domid);
		return 0;
	}
	r = pvpci_ts_sysfs_resources(root, bdf, &res, why, sizeof(why));
	if (r == -ENOENT) {
		tlog(c, 6, "%s: not a function of this host: no memory, I/O ports or interrupt %s domain %u",
		     bdfs, allow ? "given to" : "taken from", c->domid);
		return 0;
	}
	if (r < 0) {
		if (!allow) {
			tlog(c, 3, "%s: %s: nothing taken back from domain %u", bdfs, why, c->domid);
			return 0;
		}
		return pvpci_errf(c->errbuf, c->errlen, r, "%s: %s", bdfs, why);
	}
	if (!allow) {
		revoke(c, bdfs, &res, res.n, res.irq != 0);
		r = hv->ops->deassign_device(hv, c->domid, bdf);
		if (r < 0 && r != -ENOSYS)
			tlog(c, 3, "%s: taking it out of domain %u's IOMMU context: %s", bdfs, c->domid,
			     strerror(-r));
		if (res.msix)
			msix_table(c, bdfs, bdf, false);
		tlog(c, 6, "%s: domain %u's permissions taken back", bdfs, c->domid);
		return 0;
	}
	prepared = res.msix && msix_table(c, bdfs, bdf, true);
	for (unsigned i = 0; i < res.n; i++) {
		r = range_permission(c, &res, i, true);
		if (r < 0) {
			revoke(c, bdfs, &res, i, false);
			pvpci_errf(c->errbuf, c->errlen, r, "%s: giving domain %u its %s 0x%" PRIx64 "-0x%" PRIx64 ": %s",
				   bdfs, c->domid, res.r[i].io ? "I/O ports" : "memory", res.r[i].start, res.r[i].end,
				   strerror(-r));
			goto fail;
		}
	}
	if (res.irq) {
		r = hv->ops->map_pirq_gsi(hv, c->domid, (int)res.irq, &pirq);
		if (r == 0 && pirq != (int)res.irq) {
			/* The number the guest finds in Interrupt Line is the GSI:
			 * a pirq of another number would never fire for it. */
			hv->ops->unmap_pirq(hv, c->domid, pirq);
			r = -EBUSY;
		}
		if (r == 0) {
			r = hv->ops->irq_permission(hv, c->domid, (int)res.irq, true);
			if (r < 0)
				hv->ops->unmap_pirq(hv, c->domid, (int)res.irq);
		}
		if (r < 0) {
			revoke(c, bdfs, &res, res.n, false);
			pvpci_errf(c->errbuf, c->errlen, r, "%s: giving domain %u its interrupt %u: %s", bdfs, c->domid,
				   res.irq, strerror(-r));
			goto fail;
		}
	}
	/* As libxl: a Xen that knows no assignment at all (ENOSYS) is let
	 * be; one that refuses (no IOMMU for the domain) refuses the attach,
	 * since the guest's function could neither DMA to it nor have MSI. */
	r = hv->ops->assign_device(hv, c->domid, bdf, relaxed);
	if (r < 0 && r != -ENOSYS) {
		revoke(c, bdfs, &res, res.n, res.irq != 0);
		pvpci_errf(c->errbuf, c->errlen, r, "%s: assigning it to domain %u (xc_assign_device): %s%s", bdfs,
			   c->domid, strerror(-r),
			   r == -EOPNOTSUPP ? " (the domain has no IOMMU context: is there an IOMMU, and was it made "
					      "with passthrough=\"enabled\"?)" : "");
		goto fail;
	}
	tlog(c, 6, "%s: domain %u may reach its %u BAR%s%s", bdfs, c->domid, res.n, res.n == 1 ? "" : "s",
	     res.irq ? " and its interrupt" : "");
	if (ret_given)
		*ret_given = true;
	return 0;
fail:
	if (prepared)
		msix_table(c, bdfs, bdf, false);
	return r;
}

/* ---- attach ---- */

enum attach_mode {
	ATTACH_CREATE,		/* the domain's first: both directories made */
	ATTACH_STARTING,	/* the frontend has not connected yet: entry only */
	ATTACH_HOT,		/* Connected: entry and Reconfiguring */
};

struct attach_tx {
	const struct pvpci_pci_spec *sp;
	struct assignable_tx a;
	enum attach_mode mode;
	int num;
	bool refused;		/* the backend closed the entry alone (state-N Closed) */
	char created[2][64];	/* the highest directory the creation made, per side */
};

/* The highest ancestor of path (or path) that does not exist in t, into
 * out; "" when path exists. */
static void first_missing(struct ts *c, xs_transaction_t t, const char *path, char *out, size_t len)
{
	out[0] = 0;
	for (const char *p = strchr(path + 1, '/');; p = strchr(p + 1, '/')) {
		char pre[64], *s;

		snprintf(pre, sizeof(pre), "%.*s", p ? (int)(p - path) : (int)strlen(path), path);
		s = rd(c->xs, t, pre, NULL);
		free(s);
		if (!s) {
			snprintf(out, len, "%s", pre);
			return;
		}
		if (!p)
			return;
	}
}

/* libxl__create_pci_backend + libxl__device_generic_add, in t. */
static int create_dev(struct ts *c, xs_transaction_t t, struct attach_tx *a)
{
	struct xs_permissions bp[2] = { { .id = 0, .perms = XS_PERM_NONE },
					{ .id = c->domid, .perms = XS_PERM_READ } };
	struct xs_permissions fp[2] = { { .id = c->domid, .perms = XS_PERM_NONE },
					{ .id = 0, .perms = XS_PERM_READ } };
	char home[32], *name;
	bool ok;

	snprintf(home, sizeof(home), "/local/domain/%u", c->domid);
	name = rd(c->xs, t, home, "name");
	first_missing(c, t, c->be, a->created[0], sizeof(a->created[0]));
	first_missing(c, t, c->fe, a->created[1], sizeof(a->created[1]));
	ok = rm(c->xs, t, c->fe, NULL) && xs_mkdir(c->xs, t, c->fe) &&
	     xs_set_permissions(c->xs, t, c->fe, fp, 2) && wr(c->xs, t, c->fe, "backend", "%s", c->be) &&
	     wr(c->xs, t, c->fe, "backend-id", "%d", 0) &&
	     wr(c->xs, t, c->fe, "state", "%d", PVPCI_XB_Initialising) && rm(c->xs, t, c->be, NULL) &&
	     xs_mkdir(c->xs, t, c->be) && xs_set_permissions(c->xs, t, c->be, bp, 2) &&
	     wr(c->xs, t, c->be, "frontend", "%s", c->fe) && wr(c->xs, t, c->be, "frontend-id", "%u", c->domid) &&
	     wr(c->xs, t, c->be, "online", "1") && wr(c->xs, t, c->be, "state", "%d", PVPCI_XB_Initialising) &&
	     (name ? wr(c->xs, t, c->be, "domain", "%s", name)
		   : wr(c->xs, t, c->be, "domain", "Domain-%u", c->domid)) &&
	     write_entry(c, t, 0, a->sp) && wr(c->xs, t, c->be, "num_devs", "1");
	free(name);
	return ok ? 0 : store_err(c, c->be);
}

static int attach_body(struct ts *c, xs_transaction_t t, void *arg)
{
	struct attach_tx *a = arg;
	char *s = rd(c->xs, t, a->a.ap, NULL);
	int r, num, bs;

	if (!s)
		return pvpci_errf(c->errbuf, c->errlen, -ENODEV,
				  "%s is not assignable: `pvpci assignable-add %s` first, or attach with ,seize=1",
				  a->a.bdfs, a->a.bdfs);
	free(s);
	s = rd(c->xs, t, a->a.ap, "domid");
	if (s) {
		r = pvpci_errf(c->errbuf, c->errlen, -EBUSY, "%s is attached to domain %s already", a->a.bdfs, s);
		free(s);
		return r;
	}
	if (find_entry(c, t, &a->sp->bdf, &num) >= 0)
		return pvpci_errf(c->errbuf, c->errlen, -EEXIST, "%s is attached to domain %u already", a->a.bdfs,
				  c->domid);
	if (num < 0) {
		s = rd(c->xs, t, c->be, "num_devs");
		free(s);
		if (s)
			return pvpci_errf(c->errbuf, c->errlen, -EINVAL, "%s/num_devs: not a number up to %d", c->be,
					  MAX_ENTRIES);
		a->mode = ATTACH_CREATE;
		a->num = 0;
		r = create_dev(c, t, a);
		if (r)
			return r;
	} else {
		if (num >= MAX_ENTRIES)
			return pvpci_errf(c->errbuf, c->errlen, -ENOSPC, "domain %u has %d functions already",
					  c->domid, num);
		bs = rd_int(c->xs, t, c->be, "state", 0x7fffffff, PVPCI_XB_Unknown);
		if (bs == PVPCI_XB_Connected)
			a->mode = ATTACH_HOT;
		else if (bs >= PVPCI_XB_Initialising && bs < PVPCI_XB_Connected)
			a->mode = ATTACH_STARTING;	/* libxl's `starting`: the backend takes it as it sets up */
		else
			return 1;	/* a reconfiguration under way: wait for it */
		a->num = num;
		if (!write_entry(c, t, num, a->sp) || !wr(c->xs, t, c->be, "num_devs", "%d", num + 1) ||
		    (a->mode == ATTACH_HOT && !wr(c->xs, t, c->be, "state", "%d", PVPCI_XB_Reconfiguring)))
			return store_err(c, c->be);
	}
	return wr(c->xs, t, a->a.ap, "domid", "%u", c->domid) ? 0 : store_err(c, a->a.ap);
}

/* Exported (state-N Initialised) and, on a hot attach, rescanned, on a
 * first attach the device set up (the backend Initialised: it writes
 * state-N before its own state, so state-N alone says too early); or
 * refused by the backend, the device kept (state-N Closed: -ECANCELED). */
static int cond_attached(struct ts *c, void *arg)
{
	struct attach_tx *a = arg;
	char key[32];
	int bs = be_state(c);
	int sub = rd_int(c->xs, XBT_NULL, c->be, ekey(key, sizeof(key), "state", a->num), 0x7fffffff, 0);

	if (sub == PVPCI_XB_Initialised &&
	    (a->mode == ATTACH_HOT ? bs == PVPCI_XB_Connected
				   : bs >= PVPCI_XB_Initialised && bs <= PVPCI_XB_Connected))
		return 1;
	if (sub == PVPCI_XB_Closed) {
		a->refused = true;
		return -ECANCELED;
	}
	return be_gone(c, bs);
}

/* The domain's domid node, when it is ours. */
static bool release_domid(struct ts *c, xs_transaction_t t, const char *ap)
{
	int dom = rd_int(c->xs, t, ap, "domid", 0x7fff, -1);

	return dom != (int)c->domid || rm(c->xs, t, ap, "domid");
}

/* Assignable and no domain's, now. */
static bool nobodys(struct ts *c, const struct assignable_tx *a)
{
	char *node = rd(c->xs, XBT_NULL, a->ap, NULL), *dom = node ? rd(c->xs, XBT_NULL, a->ap, "domid") : NULL;
	bool free_now = node && !dom;

	free(node);
	free(dom);
	return free_now;
}

/* Everything attach_body wrote, taken back. */
static int rollback_body(struct ts *c, xs_transaction_t t, void *arg)
{
	struct attach_tx *a = arg;
	bool ok = release_domid(c, t, a->a.ap);

	if (a->mode == ATTACH_CREATE) {
		ok = ok && rm(c->xs, t, a->created[0][0] ? a->created[0] : c->be, NULL) &&
		     rm(c->xs, t, a->created[1][0] ? a->created[1] : c->fe, NULL);
	} else {
		int num, i = find_entry(c, t, &a->sp->bdf, &num), bs;

		if (i != a->num || num != a->num + 1)
			return ok ? 0 : store_err(c, a->a.ap);	/* not ours as we left it: leave it */
		ok = ok && remove_keys(c, t, i) && wr(c->xs, t, c->be, "num_devs", "%d", num - 1);
		/* A backend that refused the entry ends the reconfiguration
		 * itself; one that did not answer is put back Connected. */
		bs = rd_int(c->xs, t, c->be, "state", 0x7fffffff, 0);
		if (a->mode == ATTACH_HOT && !a->refused && reconfiguring(bs))
			ok = ok && wr(c->xs, t, c->be, "state", "%d", PVPCI_XB_Connected);
	}
	return ok ? 0 : store_err(c, c->be);
}

int pvpci_ts_attach(struct xs_handle *xs, unsigned domid, const struct pvpci_pci_spec *spec,
		    const struct pvpci_ts_opts *o, char *errbuf, size_t errlen)
{
	struct attach_tx a = { .sp = spec };
	bool seized = false, granted = false;
	struct ts c;
	int r;

	if (domid == 0 || domid > 0x7fef)
		return pvpci_errf(errbuf, errlen, -EINVAL, "domain %u: a guest is 1 to 32751", domid);
	ts_init(&c, xs, domid, o, errbuf, errlen);
	assignable_init(&a.a, &spec->bdf);
	if (spec->seize) {
		r = pvpci_ts_assignable_add(xs, o, &spec->bdf, NULL, errbuf, errlen);
		if (r < 0)
			return r;
		seized = r == 0;
		if (seized)
			tlog(&c, 6, "%s: seized (seize=1)", a.a.bdfs);
	}
	if (!xs_watch(xs, c.be, TOKEN)) {
		r = store_err(&c, "watching the backend");
		goto undo_seize;
	}
	/* The guest may reach the function before the backend exports it,
	 * as libxl does it; only one that is assignable and nobody's (the
	 * attach refuses any other, and taking back on that refusal would
	 * take what another attach gave). */
	if (nobodys(&c, &a.a)) {
		r = permit(&c, &spec->bdf, true, spec->rdm_relaxed, &granted);
		if (r < 0)
			goto out;
	}
	/* A reconfiguration under way: let it end (libxl__wait_for_backend). */
	while ((r = in_tx(&c, attach_body, &a)) == 1) {
		r = wait_be(&c, cond_settled, NULL);
		if (r < 0) {
			wait_err(&c, r, "the backend did not settle");
			goto out;
		}
	}
	if (r < 0)
		goto out;
	tlog(&c, 6, "%s: %s as entry %d of domain %u", a.a.bdfs,
	     a.mode == ATTACH_CREATE ? "device created" : a.mode == ATTACH_HOT ? "hot attach" : "attach",
	     a.num, domid);
	r = wait_be(&c, cond_attached, &a);
	if (r > 0) {
		r = 0;
		tlog(&c, 6, "%s: attached to domain %u", a.a.bdfs, domid);
		goto out;
	}
	wait_err(&c, r, a.mode == ATTACH_HOT ? "the backend and frontend did not take it"
					     : "the backend did not export it");
	{
		char keep[512];

		/* The rollback's own failure must not hide why it happened. */
		snprintf(keep, sizeof(keep), "%s", errbuf ? errbuf : "");
		if (in_tx(&c, rollback_body, &a) < 0)
			tlog(&c, 3, "rolling back: %s", errbuf ? errbuf : "");
		else
			tlog(&c, 6, "%s: rolled back", a.a.bdfs);
		if (errbuf)
			snprintf(errbuf, errlen, "%s; nothing left behind", keep);
	}
out:
	if (r && granted)
		permit(&c, &spec->bdf, false, false, NULL);
	xs_unwatch(xs, c.be, TOKEN);
undo_seize:
	if (r && seized)
		pvpci_ts_assignable_remove(xs, o, &spec->bdf, true, NULL, 0);
	return r;
}

/* ---- detach ---- */

struct detach_tx {
	const struct pvpci_bdf *bdf;
	struct assignable_tx a;
	bool unconnected;	/* no frontend connected: removed at once */
	bool forced;
};

static int not_attached(struct ts *c, struct detach_tx *d, int num)
{
	if (num < 0)
		return pvpci_errf(c->errbuf, c->errlen, -ENOENT, "domain %u has no PCI device", c->domid);
	return pvpci_errf(c->errbuf, c->errlen, -ENOENT, "%s is not attached to domain %u", d->a.bdfs, c->domid);
}

/* No reconfiguration under way (the directory may have gone). */
static int cond_quiet(struct ts *c, void *arg)
{
	int bs = be_state(c);

	(void)arg;
	return reconfiguring(bs) ? 0 : bs == PVPCI_XB_Unknown ? be_gone(c, bs) : 1;
}

/* libxl: state-i Closing, the device Reconfiguring. */
static int closing_body(struct ts *c, xs_transaction_t t, void *arg)
{
	struct detach_tx *d = arg;
	int num, i = find_entry(c, t, d->bdf, &num);
	char key[32];

	if (i < 0)
		return not_attached(c, d, num);
	if (rd_int(c->xs, t, c->be, "state", 0x7fffffff, 0) != PVPCI_XB_Connected)
		return 1;	/* it moved meanwhile: look again */
	return wr(c->xs, t, c->be, ekey(key, sizeof(key), "state", i), "%d", PVPCI_XB_Closing) &&
			       wr(c->xs, t, c->be, "state", "%d", PVPCI_XB_Reconfiguring)
		       ? 0
		       : store_err(c, c->be);
}

/* Nobody answered: the entry as it was, the device Connected. */
static int restore_body(struct ts *c, xs_transaction_t t, void *arg)
{
	struct detach_tx *d = arg;
	int num, i = find_entry(c, t, d->bdf, &num);
	char key[32];
	bool ok = true;

	if (i < 0)
		return not_attached(c, d, num);
	if (rd_int(c->xs, t, c->be, ekey(key, sizeof(key), "state", i), 0x7fffffff, 0) == PVPCI_XB_Closing)
		ok = wr(c->xs, t, c->be, key, "%d", PVPCI_XB_Initialised);
	if (reconfiguring(rd_int(c->xs, t, c->be, "state", 0x7fffffff, 0)))
		ok = ok && wr(c->xs, t, c->be, "state", "%d", PVPCI_XB_Connected);
	return ok ? 0 : store_err(c, c->be);
}

/* libxl__xs_path_cleanup: path removed, then each parent left empty, up
 * to (not including) /local/domain/<id>. */
static bool cleanup_path(struct xs_handle *xs, xs_transaction_t t, const char *path)
{
	char p[128];

	snprintf(p, sizeof(p), "%s", path);
	if (!rm(xs, t, p, NULL))
		return false;
	for (;;) {
		char *slash = strrchr(p, '/'), **d;
		unsigned n = 0, depth = 0;
		bool empty;

		*slash = 0;
		for (const char *q = p; *q; q++)
			depth += *q == '/';
		if (depth <= 3 || strncmp(p, "/local/domain/", 14))
			return true;
		d = xs_directory(xs, t, p, &n);
		empty = d && n == 0;
		free(d);
		if (!empty)
			return true;
		if (!rm(xs, t, p, NULL))
			return false;
	}
}

/* libxl's second transaction, or the device destroyed with its last entry. */
static int entry_remove_body(struct ts *c, xs_transaction_t t, void *arg)
{
	struct detach_tx *d = arg;
	int num, i = find_entry(c, t, d->bdf, &num), r, bs;

	if (i < 0)
		return not_attached(c, d, num);
	bs = rd_int(c->xs, t, c->be, "state", 0x7fffffff, 0);
	if (d->unconnected && !d->forced && (bs == PVPCI_XB_Connected || reconfiguring(bs)))
		return 1;	/* a frontend came meanwhile: it has to let go first */
	if (!release_domid(c, t, d->a.ap))
		return store_err(c, d->a.ap);
	if (num == 1)
		return cleanup_path(c->xs, t, c->fe) && cleanup_path(c->xs, t, c->be) ? 0 : store_err(c, c->be);
	r = pvpci_ts_remove_entry(c->xs, t, c->be, i, num);
	if (r)
		return pvpci_errf(c->errbuf, c->errlen, r, "the store: %s: %s", c->be, strerror(-r));
	if (d->forced && reconfiguring(bs))
		return wr(c->xs, t, c->be, "state", "%d", PVPCI_XB_Connected) ? 0 : store_err(c, c->be);
	return 0;
}

/* After a wait that failed (its message in errbuf): stop, or go on when forced. */
static int give_up(struct ts *c, struct detach_tx *d, int r, const char *what, bool restore)
{
	char keep[512];

	snprintf(keep, sizeof(keep), "%s", c->errbuf ? c->errbuf : "");
	if (c->force) {
		tlog(c, 4, "%s; removing %s anyway", keep, d->a.bdfs);
		d->forced = true;
		return 0;
	}
	if (restore && in_tx(c, restore_body, d) < 0)
		tlog(c, 3, "restoring: %s", c->errbuf ? c->errbuf : "");
	return pvpci_errf(c->errbuf, c->errlen, r, "%s; %s (-f removes it anyway)", keep, what);
}

int pvpci_ts_detach(struct xs_handle *xs, unsigned domid, const struct pvpci_bdf *bdf,
		    const struct pvpci_ts_opts *o, char *errbuf, size_t errlen)
{
	struct detach_tx d = { .bdf = bdf };
	struct ts c;
	int r, num;

	ts_init(&c, xs, domid, o, errbuf, errlen);
	assignable_init(&d.a, bdf);
	if (find_entry(&c, XBT_NULL, bdf, &num) < 0)
		return not_attached(&c, &d, num);
	if (!xs_watch(xs, c.be, TOKEN))
		return store_err(&c, "watching the backend");
	for (;;) {
		/* A reconfiguration under way: let it end (libxl__wait_for_backend). */
		r = wait_be(&c, cond_quiet, NULL);
		if (r < 0) {
			wait_err(&c, r, "the backend stayed in a reconfiguration");
			r = give_up(&c, &d, r, "nothing changed", false);
			break;
		}
		if (be_state(&c) != PVPCI_XB_Connected) {
			/* No frontend holds it (not connected yet, or closed):
			 * nobody to ask, as libxl does not wait for an HVM guest. */
			d.unconnected = true;
			break;
		}
		r = in_tx(&c, closing_body, &d);
		if (r < 0)
			goto out;
		if (r == 1)
			continue;
		tlog(&c, 6, "%s: detaching from domain %u", d.a.bdfs, domid);
		r = wait_be(&c, cond_connected, NULL);
		if (r == -ETIMEDOUT && be_state(&c) == PVPCI_XB_Reconfigured) {
			/* The backend let it go (Reconfigured: it detached the
			 * Closing entries) and only the frontend's Connected is
			 * missing (it died after its Reconfiguring): the function
			 * is no longer the guest's.  Putting the entry back would
			 * list a function nobody exports. */
			tlog(&c, 4, "the frontend did not answer in %d ms, but the backend let %s go: removing it",
			     c.timeout_ms, d.a.bdfs);
			d.forced = true;
			r = 0;
		} else if (r < 0) {
			wait_err(&c, r, "the frontend did not let it go");
			r = give_up(&c, &d, r, "restored as it was", true);
		}
		break;
	}
	if (r < 0)
		goto out;
	r = in_tx(&c, entry_remove_body, &d);
	if (r == 1) {
		d.unconnected = false;
		xs_unwatch(xs, c.be, TOKEN);
		return pvpci_ts_detach(xs, domid, bdf, o, errbuf, errlen);
	}
	if (!r) {
		tlog(&c, 6, "%s: detached from domain %u%s", d.a.bdfs, domid,
		     d.unconnected ? " (no frontend connected)" : d.forced ? " (forced)" : "");
		permit(&c, bdf, false, false, NULL);
	}
out:
	xs_unwatch(xs, c.be, TOKEN);
	return r;
}

/* ---- list ---- */

struct list_tx {
	struct pvpci_ts_dev *devs;
	size_t max, n;
};

static int list_body(struct ts *c, xs_transaction_t t, void *arg)
{
	struct list_tx *l = arg;
	int num = rd_int(c->xs, t, c->be, "num_devs", MAX_ENTRIES, 0);

	l->n = 0;
	for (int i = 0; i < num && l->n < l->max; i++) {
		struct pvpci_ts_dev *d = &l->devs[l->n];
		char key[32], *s = rd(c->xs, t, c->be, ekey(key, sizeof(key), "dev", i));
		unsigned dom, bus, dev, fn;
		int bad = parse_bdf(s, &d->bdf);

		free(s);
		if (bad)
			continue;
		d->vdevfn = 0;
		s = rd(c->xs, t, c->be, ekey(key, sizeof(key), "vdev", i));
		if (s && sscanf(s, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) == 4 && dev <= 0x1f && fn <= 7) {
			d->vdevfn = dev << 3 | fn;
		} else {
			free(s);
			s = rd(c->xs, t, c->be, ekey(key, sizeof(key), "vdevfn", i));
			if (s)
				d->vdevfn = (unsigned)strtoul(s, NULL, 16) & 0xff;
		}
		free(s);
		l->n++;
	}
	return 0;
}

int pvpci_ts_list(struct xs_handle *xs, unsigned domid, struct pvpci_ts_dev *ret, size_t max,
		  size_t *ret_n, char *errbuf, size_t errlen)
{
	struct list_tx l = { .devs = ret, .max = max };
	struct ts c;
	int r;

	ts_init(&c, xs, domid, NULL, errbuf, errlen);
	r = in_tx(&c, list_body, &l);
	if (r)
		return r;
	*ret_n = l.n;
	return 0;
}

int pvpci_ts_domain_introduce(struct xs_handle *xs, unsigned domid, const char *name,
			      char *errbuf, size_t errlen)
{
	struct xs_permissions perms[2] = { { .id = 0, .perms = XS_PERM_NONE },
					   { .id = domid, .perms = XS_PERM_READ } };
	char home[32], dev[48];

	if (domid == 0 || domid > 0x7fef)
		return pvpci_errf(errbuf, errlen, -EINVAL, "domain %u cannot be introduced", domid);
	snprintf(home, sizeof(home), "/local/domain/%u", domid);
	snprintf(dev, sizeof(dev), "%s/device", home);
	/* Port 1: xenstored insists on one; the embedded store ignores it. */
	if (!xs_introduce_domain(xs, domid, 0, 1))
		return pvpci_errf(errbuf, errlen, -errno, "introducing domain %u: %s", domid,
				  strerror(errno));
	if (!xs_mkdir(xs, XBT_NULL, home) || !xs_set_permissions(xs, XBT_NULL, home, perms, 2) ||
	    !xs_mkdir(xs, XBT_NULL, dev) || !xs_set_permissions(xs, XBT_NULL, dev, perms, 2) ||
	    !(name ? pvpci_xb_printf(xs, XBT_NULL, home, "name", "%s", name)
		   : pvpci_xb_printf(xs, XBT_NULL, home, "name", "Domain-%u", domid)))
		return pvpci_errf(errbuf, errlen, -errno, "%s: %s", home, strerror(errno));
	return 0;
}
