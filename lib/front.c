/*
 * The frontend's side of the protocol (front.h), as Linux's xen-pcifront
 * drives the shared page: do_pci_op for ops, pcifront_do_aer for the
 * backend's AER requests, pcifront_scan_root for finding functions.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "errmsg.h"
#include "pvpci/front.h"

#define DEFAULT_TIMEOUT_MS	2000
#define KEEP_RETRY_MS		50	/* keep_page: how often a page is offered again */

struct pvpci_front {
	struct pvpci_chan *c;
	struct pvpci_front_opts o;
	uint32_t roots[PVPCI_LOCAL_MAX_ROOTS];
	size_t nroots;
	int broken;
	bool away;		/* keep_page: the backend went, the page not granted again yet */
	pvpci_front_aer_fn aer;
	void *aer_ctx;
};

static void flog(struct pvpci_front *f, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void flog(struct pvpci_front *f, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pvpci_vlogf(f->o.log, f->o.log_ctx, level, NULL, fmt, ap);
	va_end(ap);
}

void pvpci_front_set_roots(struct pvpci_front *f, const uint32_t *roots, size_t n)
{
	f->nroots = n < PVPCI_LOCAL_MAX_ROOTS ? n : PVPCI_LOCAL_MAX_ROOTS;
	memcpy(f->roots, roots, f->nroots * sizeof(*roots));
}

int pvpci_front_new(struct pvpci_chan *c, const uint32_t *roots, size_t nroots,
		    const struct pvpci_front_opts *o, struct pvpci_front **ret)
{
	struct pvpci_front *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->c = c;
	if (o)
		f->o = *o;
	if (f->o.timeout_ms <= 0)
		f->o.timeout_ms = DEFAULT_TIMEOUT_MS;
	pvpci_front_set_roots(f, roots, nroots);
	*ret = f;
	return 0;
}

int pvpci_front_connect(const char *path, unsigned domid, const struct pvpci_front_opts *o,
			struct pvpci_front **ret, char *errbuf, size_t errlen)
{
	struct pvpci_local_welcome w;
	struct pvpci_chan *c;
	int timeout = o && o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	int err = pvpci_local_connect(path, domid, timeout, &c, &w, errbuf, errlen);

	if (err)
		return err;
	err = pvpci_front_new(c, w.roots, w.nroots, o, ret);
	if (err) {
		pvpci_chan_close(c);
		return pvpci_errf(errbuf, errlen, err, "out of memory");
	}
	return 0;
}

void pvpci_front_close(struct pvpci_front *f)
{
	if (!f)
		return;
	pvpci_chan_close(f->c);
	free(f);
}

struct pvpci_chan *pvpci_front_chan(const struct pvpci_front *f)
{
	return f->c;
}

size_t pvpci_front_roots(const struct pvpci_front *f, uint32_t *ret, size_t max)
{
	size_t n = f->nroots < max ? f->nroots : max;

	memcpy(ret, f->roots, n * sizeof(*ret));
	return f->nroots;
}

int pvpci_front_broken(const struct pvpci_front *f)
{
	return f->broken;
}

int pvpci_front_regrant(struct pvpci_front *f)
{
	char err[256];
	int r;

	if (!f->o.keep_page)
		return -EINVAL;
	f->away = true;
	if (!f->o.socket)
		return -ENOTCONN;
	r = pvpci_local_regrant(f->c, f->o.socket, f->o.timeout_ms, err, sizeof(err));
	if (r < 0)
		return r;
	f->away = false;
	flog(f, 6, "the page granted again to the backend at %s (pci-op-ref %u)", f->o.socket, f->c->ref);
	return 0;
}

/*
 * Wait up to timeout_ms for a kick, as pvpci_chan_wait.  With keep_page a
 * backend that goes is no error: the page stays ours, offered again to
 * the next backend every KEEP_RETRY_MS, and the kicks are waited for
 * meanwhile (that backend answers what it finds on the page).
 */
static int front_wait(struct pvpci_front *f, int timeout_ms)
{
	struct pollfd p = { .fd = f->c->evt_fd, .events = POLLIN };
	int r, step;

	if (!f->o.keep_page)
		return pvpci_chan_wait(f->c, timeout_ms);
	if (!f->away) {
		r = pvpci_chan_wait(f->c, timeout_ms);
		if (r != -EPIPE)
			return r;
		f->away = true;
		flog(f, 4, "the backend went away; the page is kept for the next one");
	}
	if (f->o.socket && pvpci_front_regrant(f) == 0)
		return pvpci_chan_wait(f->c, timeout_ms);
	step = timeout_ms < 0 || timeout_ms > KEEP_RETRY_MS ? KEEP_RETRY_MS : timeout_ms;
	if (poll(&p, 1, step) < 0 && errno != EINTR)
		return -errno;
	r = pvpci_chan_ack(f->c);
	return r < 0 ? r : r > 0;
}

static uint32_t flags_load(struct pvpci_sharedinfo *sh)
{
	return __atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE);
}

/* pcifront_do_aer: answer the backend's request, then clear its flag. */
static int answer_aer(struct pvpci_front *f)
{
	struct pvpci_sharedinfo *sh = f->c->sh;
	struct pvpci_aer_op a;
	struct pvpci_bdf dev;
	int32_t res = PVPCI_PCI_ERS_RESULT_NONE;

	if (!(flags_load(sh) & PVPCI_XEN_PCIB_active))
		return 0;
	memcpy(&a, &sh->aer_op, sizeof(a));
	dev = (struct pvpci_bdf){ .domain = a.domain & 0xffff, .bus = a.bus & 0xff,
				  .dev = (a.devfn >> 3) & 0x1f, .fn = a.devfn & 7 };
	if (f->aer)
		res = f->aer(f->aer_ctx, a.cmd, &dev, a.err);
	if (f->o.verbose) {
		char b[PVPCI_BDF_STRLEN];

		flog(f, 7, "%s: AER %s (state %d) -> %d", pvpci_bdf_format(&dev, b),
		     pvpci_op_name(a.cmd) ? pvpci_op_name(a.cmd) : "?", a.err, res);
	}
	sh->aer_op.err = res;
	__atomic_fetch_and(&sh->flags, ~PVPCI_XEN_PCIB_active, __ATOMIC_RELEASE);
	pvpci_chan_notify(f->c);
	return 1;
}

/* op is the answer; sent_value what value was when it went. */
static void op_log(struct pvpci_front *f, const struct pvpci_op *op, uint32_t sent_value)
{
	char b[PVPCI_BDF_STRLEN];
	struct pvpci_bdf d = { .domain = op->domain & 0xffff, .bus = op->bus & 0xff,
			       .dev = (op->devfn >> 3) & 0x1f, .fn = op->devfn & 7 };
	const char *name = pvpci_op_name(op->cmd);

	pvpci_bdf_format(&d, b);
	if (op->cmd == PVPCI_XEN_PCI_OP_conf_read || op->cmd == PVPCI_XEN_PCI_OP_conf_write)
		flog(f, 7, "%s: %s %d bytes at 0x%x%s%x -> %d (%s)", b, name, op->size, op->offset,
		     op->cmd == PVPCI_XEN_PCI_OP_conf_read ? " = " : " <- ", op->value, op->err,
		     pvpci_err_str(op->err));
	else
		flog(f, 7, "%s: %s value %u info %u -> %d, value %u", b, name ? name : "?", sent_value,
		     op->info, op->err, op->value);
}

int pvpci_front_op(struct pvpci_front *f, struct pvpci_op *op)
{
	struct pvpci_sharedinfo *sh = f->c->sh;
	uint32_t sent_value = op->value;
	long deadline;
	int r;

	if (f->broken) {
		op->err = PVPCI_ERR_dev_not_found;
		return op->err;
	}
	memcpy(&sh->op, op, sizeof(*op));
	__atomic_fetch_or(&sh->flags, PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
	r = pvpci_chan_notify(f->c);
	deadline = pvpci_now_ms() + f->o.timeout_ms;
	while (!r && (flags_load(sh) & PVPCI_XEN_PCIF_active)) {
		long left = deadline - pvpci_now_ms();

		answer_aer(f);
		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		r = front_wait(f, (int)left);
		r = r < 0 ? r : 0;
	}
	if (r) {
		/* As pcifront: "pciback not responding", the op fails; with
		 * keep_page (pcifront's own way) only this one. */
		__atomic_fetch_and(&sh->flags, ~PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
		if (!f->o.keep_page || r != -ETIMEDOUT)
			f->broken = r;
		flog(f, 3, "backend not responding: %s", strerror(-r));
		op->err = PVPCI_ERR_dev_not_found;
		return op->err;
	}
	answer_aer(f);	/* one may have come with the answer (pcifront reschedules it) */
	memcpy(op, &sh->op, sizeof(*op));
	if (f->o.verbose)
		op_log(f, op, sent_value);
	return op->err;
}

static struct pvpci_op op_for(uint32_t cmd, const struct pvpci_bdf *dev)
{
	return (struct pvpci_op){ .cmd = cmd, .domain = dev->domain, .bus = dev->bus,
				  .devfn = pvpci_devfn(dev) };
}

int pvpci_front_conf_read(struct pvpci_front *f, const struct pvpci_bdf *dev, int off, int size,
			  uint32_t *ret_val)
{
	struct pvpci_op op = op_for(PVPCI_XEN_PCI_OP_conf_read, dev);
	int err;

	op.offset = off;
	op.size = size;
	err = pvpci_front_op(f, &op);
	if (!err)
		*ret_val = op.value;
	return err;
}

int pvpci_front_conf_write(struct pvpci_front *f, const struct pvpci_bdf *dev, int off, int size,
			   uint32_t val)
{
	struct pvpci_op op = op_for(PVPCI_XEN_PCI_OP_conf_write, dev);

	op.offset = off;
	op.size = size;
	op.value = val;
	return pvpci_front_op(f, &op);
}

/* An op whose answer is an interrupt number in value. */
static int irq_op(struct pvpci_front *f, uint32_t cmd, const struct pvpci_bdf *dev, uint32_t info,
		  uint32_t *ret_irq)
{
	struct pvpci_op op = op_for(cmd, dev);
	int err;

	op.info = info;
	err = pvpci_front_op(f, &op);
	if (!err && ret_irq)
		*ret_irq = op.value;
	return err;
}

int pvpci_front_enable_msi(struct pvpci_front *f, const struct pvpci_bdf *dev, uint32_t *ret_irq)
{
	return irq_op(f, PVPCI_XEN_PCI_OP_enable_msi, dev, 0, ret_irq);
}

int pvpci_front_enable_multi_msi(struct pvpci_front *f, const struct pvpci_bdf *dev, unsigned n,
				 uint32_t *ret_first_irq)
{
	return irq_op(f, PVPCI_XEN_PCI_OP_enable_multi_msi, dev, n, ret_first_irq);
}

int pvpci_front_disable_msi(struct pvpci_front *f, const struct pvpci_bdf *dev)
{
	return irq_op(f, PVPCI_XEN_PCI_OP_disable_msi, dev, 0, NULL);
}

int pvpci_front_disable_msix(struct pvpci_front *f, const struct pvpci_bdf *dev)
{
	return irq_op(f, PVPCI_XEN_PCI_OP_disable_msix, dev, 0, NULL);
}

int pvpci_front_enable_msix(struct pvpci_front *f, const struct pvpci_bdf *dev,
			    struct pvpci_msix_entry *entries, unsigned n)
{
	struct pvpci_op op = op_for(PVPCI_XEN_PCI_OP_enable_msix, dev);
	unsigned k = n < PVPCI_SH_INFO_MAX_VEC ? n : PVPCI_SH_INFO_MAX_VEC;
	int err;

	op.value = n;	/* the backend refuses more than SH_INFO_MAX_VEC */
	for (unsigned i = 0; i < k; i++)
		op.msix_entries[i] = entries[i];
	err = pvpci_front_op(f, &op);
	if (!err)
		for (unsigned i = 0; i < k; i++)
			entries[i].vector = op.msix_entries[i].vector;
	return err;
}

int pvpci_front_scan(struct pvpci_front *f, struct pvpci_bdf *ret, size_t max, size_t *ret_n)
{
	size_t n = 0;

	for (size_t r = 0; r < f->nroots; r++)
		for (unsigned devfn = 0; devfn < 256; devfn++) {
			struct pvpci_bdf d = { .domain = f->roots[r] >> 8, .bus = f->roots[r] & 0xff,
					       .dev = devfn >> 3, .fn = devfn & 7 };
			uint32_t v;

			if (pvpci_front_conf_read(f, &d, 0, 4, &v) != PVPCI_ERR_success) {
				if (f->broken)
					return f->broken;
				continue;
			}
			if ((v & 0xffff) == 0xffff || (v & 0xffff) == 0)
				continue;
			if (n < max)
				ret[n] = d;
			n++;
		}
	*ret_n = n < max ? n : max;
	return 0;
}

int pvpci_front_read_config(struct pvpci_front *f, const struct pvpci_bdf *dev, uint8_t *buf,
			    unsigned *ret_size)
{
	uint32_t v;
	unsigned size = 256;

	if (pvpci_front_conf_read(f, dev, 0x100, 4, &v) == PVPCI_ERR_success)
		size = 4096;
	memset(buf, 0xff, 4096);
	for (unsigned off = 0; off < size; off += 4) {
		if (pvpci_front_conf_read(f, dev, (int)off, 4, &v) != PVPCI_ERR_success) {
			if (f->broken)
				return f->broken;
			v = 0xffffffffu;
		}
		for (unsigned b = 0; b < 4; b++)
			buf[off + b] = (uint8_t)(v >> (8 * b));
	}
	*ret_size = size;
	return 0;
}

void pvpci_front_set_aer_handler(struct pvpci_front *f, pvpci_front_aer_fn fn, void *ctx)
{
	f->aer = fn;
	f->aer_ctx = ctx;
	if (fn)
		__atomic_fetch_or(&f->c->sh->flags, PVPCI_XEN_PCIB_AERHANDLER, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(&f->c->sh->flags, ~PVPCI_XEN_PCIB_AERHANDLER, __ATOMIC_RELEASE);
}

int pvpci_front_poll(struct pvpci_front *f, int timeout_ms)
{
	int r;

	if (answer_aer(f))
		return 1;
	r = front_wait(f, timeout_ms);
	if (r < 0) {
		f->broken = r;
		return r;
	}
	return answer_aer(f);
}
