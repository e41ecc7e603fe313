/*
 * The backend's side of the PV PCI protocol of xen/io/pciif.h: the op
 * table's names, one op dispatched against the exported functions with
 * the error codes Linux pciback gives (xen_pcibk_do_op and its MSI
 * helpers), the shared page's handshake for ops (serve) and for AER
 * (post, poll, cancel), and per function the MSI / MSI-X state the ops
 * set up.  Owns the topology and that state.  Not owned here: the engines
 * (struct pvpci_cs), the page and its notifications (the transport), the
 * interrupt numbers (struct pvpci_irq_ops).
 *
 * Everything the frontend wrote is read once: serve() copies the op out
 * of the page and the rest works on the copy; an AER answer is checked
 * against what was posted, never against what the page says now.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_internal.h"
#include "errmsg.h"
#include "pvpci/pciif.h"
#include "pvpci/record.h"

static const char *const op_names[] = {
#define PVPCI_OP_NAME(name, val) [val] = #name,
	PVPCI_XEN_PCI_OPS(PVPCI_OP_NAME)
#undef PVPCI_OP_NAME
};

const char *pvpci_op_name(uint32_t cmd)
{
	return cmd < sizeof(op_names) / sizeof(op_names[0]) ? op_names[cmd] : NULL;
}

#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x0002
#define MSI_MAX_VEC		32	/* Multiple Message Enable's limit */
#define MSIX_MAX_ENTRIES	2048	/* Table Size's limit */

/* Message interrupts an op turned on, and the numbers handed out for them. */
struct intr {
	const char *name;	/* "MSI", "MSI-X" */
	bool on;
	unsigned n;
	uint32_t irqs[PVPCI_SH_INFO_MAX_VEC];
};

/* One exported function: the topology's dev pointer. */
struct fn {
	struct pvpci_cs *cs;
	struct pvpci_bdf host;
	char name[PVPCI_BDF_STRLEN];
	struct intr msi, msix;
};

struct pvpci_pciif {
	struct pvpci_pciif_cfg cfg;
	struct pvpci_topo *topo;
	/* The AER op in flight, as posted. */
	bool aer_pending;
	uint32_t aer_cmd;
	struct pvpci_bdf aer_host;
};

/* ---- messages ---- */

/* A message about host function host (NULL: about none), within the
 * guest's rate limit. */
__attribute__((format(printf, 4, 5)))
static void say(const struct pvpci_pciif *p, int level, const struct pvpci_bdf *host,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pvpci_vlogf_limited(p->cfg.log, p->cfg.log_ctx, p->cfg.log_limit, level, host, fmt, ap);
	va_end(ap);
}

/* pciback's verbose_request: every op, at debug level, when asked. */
__attribute__((format(printf, 3, 4)))
static void verbose(const struct pvpci_pciif *p, const struct pvpci_bdf *host, const char *fmt, ...)
{
	va_list ap;

	if (!p->cfg.verbose)
		return;
	va_start(ap, fmt);
	pvpci_vlogf(p->cfg.log, p->cfg.log_ctx, PVPCI_LOG_DEBUG, host, fmt, ap);
	va_end(ap);
}

/* ---- life of a pciif and its functions ---- */

int pvpci_pciif_new(const struct pvpci_pciif_cfg *cfg, struct pvpci_pciif **ret)
{
	struct pvpci_pciif *p;
	int err;

	if (!cfg)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	err = pvpci_topo_new(cfg->mode, &p->topo);
	if (err < 0) {
		free(p);
		return err;
	}
	p->cfg = *cfg;
	*ret = p;
	return 0;
}

void pvpci_pciif_free(struct pvpci_pciif *p)
{
	struct pvpci_bdf host;

	if (!p)
		return;
	while (pvpci_topo_get(p->topo, 0, &host, NULL, NULL) == 0)
		pvpci_pciif_unexport(p, &host);
	pvpci_topo_free(p->topo);
	free(p);
}

void pvpci_pciif_abandon(struct pvpci_pciif *p)
{
	void *dev;

	if (!p)
		return;
	while (pvpci_topo_get(p->topo, 0, NULL, NULL, &dev) == 0) {
		struct fn *f = dev;

		pvpci_topo_remove(p->topo, &f->host);
		free(f);
	}
	pvpci_topo_free(p->topo);
	free(p);
}

const struct pvpci_topo *pvpci_pciif_topo(const struct pvpci_pciif *p)
{
	return p->topo;
}

int pvpci_pciif_export(struct pvpci_pciif *p, const struct pvpci_bdf *host, int vslot,
		       struct pvpci_cs *cs, struct pvpci_bdf *ret_guest, char *errbuf, size_t errlen)
{
	struct fn *f;
	int err;

	if (!cs)
		return pvpci_errf(errbuf, errlen, -EINVAL, "no config space given for the function");
	f = calloc(1, sizeof(*f));
	if (!f)
		return pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
	f->cs = cs;
	f->host = *host;
	pvpci_bdf_format(host, f->name);
	f->msi.name = "MSI";
	f->msix.name = "MSI-X";
	err = pvpci_topo_add(p->topo, host, vslot, f, ret_guest, errbuf, errlen);
	if (err < 0)
		free(f);
	return err;
}

/* n numbers for in (MSI or MSI-X) of f into in->irqs; for MSI-X, entries
 * are the table entries and the allocator is told where the table is. */
static int irqs_get(struct pvpci_pciif *p, const struct fn *f, struct intr *in, unsigned n,
		    const uint16_t *entries)
{
	struct pvpci_irq_req req = { .host = &f->host, .msix = in == &f->msix, .n = n, .entries = entries };
	struct cs_msix_geom g;
	struct pvpci_bar bar;

	/* -EIO is XEN_PCI_ERR_op_failed's number too: what every MSI / MSI-X
	 * op answers without an allocator. */
	if (!p->cfg.irq)
		return -EIO;
	if (req.msix && cs_msix_geometry(f->cs, &g) == 0 &&
	    pvpci_hostdev_bar_info(pvpci_cs_hostdev(f->cs), g.table_bir, &bar) == 0)
		req.table_base = bar.addr;
	return p->cfg.irq->alloc(p->cfg.irq_ctx, &req, in->irqs);
}

/* Give back the n numbers in->irqs holds. */
static void irqs_put(struct pvpci_pciif *p, const struct fn *f, struct intr *in, unsigned n)
{
	struct pvpci_irq_req req = { .host = &f->host, .msix = in == &f->msix, .n = n };

	if (p->cfg.irq && n)
		p->cfg.irq->release(p->cfg.irq_ctx, &req, in->irqs);
}

static struct fn *fn_of(const struct pvpci_pciif *p, const struct pvpci_bdf *host)
{
	struct pvpci_bdf h;
	void *dev;

	for (size_t i = 0; pvpci_topo_get(p->topo, i, &h, NULL, &dev) == 0; i++)
		if (!pvpci_bdf_cmp(&h, host))
			return dev;
	return NULL;
}

int pvpci_pciif_intr_get(const struct pvpci_pciif *p, const struct pvpci_bdf *host,
			 struct pvpci_pciif_intr *ret)
{
	const struct fn *f = fn_of(p, host);
	const struct intr *in;

	if (!f)
		return -ENOENT;
	in = f->msix.on ? &f->msix : &f->msi;
	memset(ret, 0, sizeof(*ret));
	ret->msi = f->msi.on;
	ret->msix = f->msix.on;
	ret->n = in->on ? in->n : 0;
	memcpy(ret->irqs, in->irqs, ret->n * sizeof(*ret->irqs));
	return 0;
}

int pvpci_pciif_intr_adopt(struct pvpci_pciif *p, const struct pvpci_bdf *host,
			   const struct pvpci_pciif_intr *in)
{
	struct fn *f = fn_of(p, host);
	struct pvpci_irq_req req;
	struct intr *to;
	int err;

	if (!f)
		return -ENOENT;
	if (!in->msi && !in->msix)
		return 0;
	if ((in->msi && in->msix) || !in->n || in->n > PVPCI_SH_INFO_MAX_VEC || (in->msi && in->n > 32))
		return -EINVAL;
	if (f->msi.on || f->msix.on)
		return -EBUSY;
	if (!p->cfg.irq || !p->cfg.irq->adopt)
		return -EOPNOTSUPP;
	to = in->msix ? &f->msix : &f->msi;
	req = (struct pvpci_irq_req){ .host = &f->host, .msix = in->msix, .n = in->n };
	err = p->cfg.irq->adopt(p->cfg.irq_ctx, &req, in->irqs);
	if (err < 0)
		return err;
	memcpy(to->irqs, in->irqs, in->n * sizeof(*in->irqs));
	to->n = in->n;
	to->on = true;
	return 0;
}

/* Turn off in hardware what an op turned on, and give its numbers back. */
static void intr_off(struct pvpci_pciif *p, struct fn *f, struct intr *in)
{
	int err;

	if (!in->on)
		return;
	err = in == &f->msix ? cs_msix_set_enable(f->cs, false) : cs_msi_set_enable(f->cs, false, 0);
	if (err < 0)
		say(p, PVPCI_LOG_WARNING, &f->host, "error disabling %s for guest %u: err %d", in->name,
		    p->cfg.domid, err);
	irqs_put(p, f, in, in->n);
	in->on = false;
	in->n = 0;
}

int pvpci_pciif_unexport(struct pvpci_pciif *p, const struct pvpci_bdf *host)
{
	struct fn *f = pvpci_topo_remove(p->topo, host);

	if (!f)
		return -ENOENT;
	intr_off(p, f, &f->msix);
	intr_off(p, f, &f->msi);
	/* Its AER request is void: nobody will answer it (the frontend that
	 * had it went away), and a new one must not be refused -EBUSY. */
	if (p->aer_pending && !pvpci_bdf_cmp(&p->aer_host, host))
		p->aer_pending = false;
	free(f);
	return 0;
}

/* ---- the ops ---- */

static int conf_read(struct pvpci_pciif *p, struct fn *f, struct pvpci_op *op)
{
	uint32_t v = 0;
	int err = pvpci_cs_read(f->cs, op->offset, op->size, &v);

	/* A failed read answers 0, as pciback's does. */
	op->value = err ? 0 : v;
	verbose(p, &f->host, "read %d bytes at 0x%x = %x", op->size, (unsigned)op->offset, op->value);
	return err;
}

static int conf_write(struct pvpci_pciif *p, struct fn *f, struct pvpci_op *op)
{
	verbose(p, &f->host, "write request %d bytes at 0x%x = %x", op->size, (unsigned)op->offset,
		op->value);
	return pvpci_cs_write(f->cs, op->offset, op->size, op->value);
}

/*
 * enable_msi (nvec 1) and enable_multi_msi (nvec from op->info): any
 * failure is op_failed with value 0, as pciback answers.  The numbers are
 * taken before hardware is touched, so a shortage changes nothing there.
 */
static int msi_enable(struct pvpci_pciif *p, struct fn *f, struct pvpci_op *op, unsigned nvec)
{
	int err;

	if (f->msi.on)
		err = -EALREADY;
	else if (f->msix.on)
		err = -ENXIO;
	else if (nvec == 0 || nvec > MSI_MAX_VEC)
		err = -EINVAL;
	else if (!cs_pm_in_d0(f->cs))
		err = -EINVAL;	/* as pci_enable_msi outside D0 */
	else
		err = irqs_get(p, f, &f->msi, nvec, NULL);
	if (!err) {
		/* -ERANGE: more vectors than Multiple Message Capable allows. */
		err = cs_msi_set_enable(f->cs, true, nvec);
		if (err < 0)
			irqs_put(p, f, &f->msi, nvec);
	}
	if (err < 0) {
		say(p, PVPCI_LOG_WARNING, &f->host, "error enabling MSI for guest %u: err %d",
		    p->cfg.domid, err);
		op->value = 0;
		return PVPCI_ERR_op_failed;
	}
	f->msi.on = true;
	f->msi.n = nvec;
	op->value = f->msi.irqs[0];
	verbose(p, &f->host, "MSI: %u", op->value);
	return 0;
}

/* disable_msi and disable_msix: nothing to do when the op had not enabled
 * it; value is the function's legacy interrupt, and none is bound here. */
static int intr_disable(struct pvpci_pciif *p, struct fn *f, struct pvpci_op *op, struct intr *in)
{
	verbose(p, &f->host, "disable %s", in->name);
	intr_off(p, f, in);
	op->value = 0;
	verbose(p, &f->host, "%s: %u", in->name, op->value);
	return 0;
}

/*
 * The answers for enable_msix are negative errno values, which the
 * frontend reads as Linux's numbers (pciback runs in Linux): map ours so
 * that the page says the same on any host.
 */
static int32_t linux_errno(int err)
{
	static const struct { int host; int32_t linux_nr; } map[] = {
		{ EIO, 5 }, { ENXIO, 6 }, { ENOMEM, 12 }, { EBUSY, 16 }, { ENODEV, 19 },
		{ EINVAL, 22 }, { ENOSPC, 28 }, { ERANGE, 34 }, { EALREADY, 114 },
	};

	if (err == 0)
		return 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].host == -err)
			return -map[i].linux_nr;
	return -5;	/* EIO */
}

/* What pciback checks before it asks the PCI core: value stays as sent. */
static int msix_refused(struct fn *f, const struct pvpci_op *op)
{
	uint32_t cmd;

	if (op->value > PVPCI_SH_INFO_MAX_VEC)
		return -EINVAL;
	if (f->msix.on)
		return -EALREADY;
	/* The table lives in a memory BAR: with decoding off in hardware
	 * (whatever the guest's virtual Command says) it cannot be reached. */
	if (f->msi.on || pvpci_hostdev_read(pvpci_cs_hostdev(f->cs), PCI_COMMAND, 2, &cmd) < 0 ||
	    !(cmd & PCI_COMMAND_MEMORY))
		return -ENXIO;
	return 0;
}

/* What pci_enable_msix_exact checks and does: value becomes the result. */
static int msix_setup(struct pvpci_pciif *p, struct fn *f, struct pvpci_op *op)
{
	unsigned nvec = op->value;
	uint64_t seen[MSIX_MAX_ENTRIES / 64] = { 0 };
	uint16_t entries[PVPCI_SH_INFO_MAX_VEC];
	struct cs_msix_geom g;
	int err;

	if (nvec < 1)
		return -ERANGE;
	if (cs_msix_geometry(f->cs, &g) < 0 || nvec > g.entries)
		return -EINVAL;
	for (unsigned i = 0; i < nvec; i++) {
		unsigned e = op->msix_entries[i].entry;

		if (e >= g.entries || (seen[e / 64] >> (e % 64) & 1))
			return -EINVAL;
		seen[e / 64] |= (uint64_t)1 << (e % 64);
	}
	/* Linux's PCI core refuses outside D0: in D3hot the table's BAR does
	 * not decode, and the host's writes to it would go nowhere (or, on
	 * some platforms, raise errors the host must handle). */
	if (!cs_pm_in_d0(f->cs))
		return -EINVAL;
	for (unsigned i = 0; i < nvec; i++)
		entries[i] = op->msix_entries[i].entry;
	err = irqs_get(p, f, &f->msix, nvec, entries);
	if (err < 0)
		return err;
	for (unsigned i = 0; i < nvec && !err; i++)
		if (f->msix.irqs[i] > UINT16_MAX)	/* the page's vector is 16 bits */
			err = -ENOSPC;
	if (!err)
		err = cs_msix_set_enable(f->cs, true);
	if (err < 0) {
		irqs_put(p, f, &f->msix, nvec);
		return err;
	}
	f->msix.on = true;
	f->msix.n = nvec;
	for (unsigned i = 0; i < nvec; i++)
		op->msix_entries[i].vector = (uint16_t)f->msix.irqs[i];
	return 0;
}

/* enable_msix: op->err is 0 or a negative errno, not a PVPCI_ERR_*. */
static int msix_enable(struct pvpci_pciif *p, struct fn *f, struct pvpci_op *op)
{
	int err = msix_refused(f, op);

	if (!err) {
		err = msix_setup(p, f, op);
		op->value = (uint32_t)linux_errno(err);
	}
	if (err < 0) {
		say(p, PVPCI_LOG_WARNING, &f->host, "error enabling MSI-X for guest %u: err %d",
		    p->cfg.domid, err);
		return linux_errno(err);
	}
	for (unsigned i = 0; i < f->msix.n; i++)
		verbose(p, &f->host, "MSI-X[%u]: %u", i, op->msix_entries[i].vector);
	return 0;
}

void pvpci_pciif_do_op(struct pvpci_pciif *p, struct pvpci_op *op)
{
	struct fn *f = pvpci_topo_lookup(p->topo, op->domain, op->bus, op->devfn);

	if (!f) {
		op->err = PVPCI_ERR_dev_not_found;
		return;
	}
	switch (op->cmd) {
	case PVPCI_XEN_PCI_OP_conf_read:
		op->err = conf_read(p, f, op);
		break;
	case PVPCI_XEN_PCI_OP_conf_write:
		op->err = conf_write(p, f, op);
		break;
	case PVPCI_XEN_PCI_OP_enable_msi:
		verbose(p, &f->host, "enable MSI");
		op->err = msi_enable(p, f, op, 1);
		break;
	case PVPCI_XEN_PCI_OP_enable_multi_msi:
		verbose(p, &f->host, "enable MSI (%u vectors)", op->info);
		op->err = msi_enable(p, f, op, op->info);
		break;
	case PVPCI_XEN_PCI_OP_disable_msi:
		op->err = intr_disable(p, f, op, &f->msi);
		break;
	case PVPCI_XEN_PCI_OP_enable_msix:
		verbose(p, &f->host, "enable MSI-X");
		op->err = msix_enable(p, f, op);
		break;
	case PVPCI_XEN_PCI_OP_disable_msix:
		op->err = intr_disable(p, f, op, &f->msix);
		break;
	default:
		/* The aer_* commands run from the backend to the frontend: one
		 * sent the other way is as unknown as any other number. */
		op->err = PVPCI_ERR_not_implemented;
		break;
	}
}

int pvpci_pciif_serve(struct pvpci_pciif *p, struct pvpci_sharedinfo *sh)
{
	struct pvpci_op op, sent;
	uint32_t nvec;

	if (!(__atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE) & PVPCI_XEN_PCIF_active))
		return 0;
	memcpy(&op, &sh->op, sizeof(op));
	/* From here on only the copy counts: the compiler may not go back to
	 * the page for any of it. */
	__asm__ __volatile__("" ::: "memory");
	if (p->cfg.record)
		sent = op;
	nvec = op.value;
	pvpci_pciif_do_op(p, &op);
	sh->op.err = op.err;
	sh->op.value = op.value;
	if (op.cmd == PVPCI_XEN_PCI_OP_enable_msix && op.err == 0)
		for (uint32_t i = 0; i < nvec; i++)
			sh->op.msix_entries[i].vector = op.msix_entries[i].vector;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_fetch_and(&sh->flags, ~(uint32_t)PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
	/* Once the answer is out: the frontend's op and what it found. */
	if (p->cfg.record)
		pvpci_record_op(p->cfg.record, p->cfg.domid, &sent, &op);
	return 1;
}

/* ---- AER ---- */

#define ERS(r)	(1u << PVPCI_PCI_ERS_RESULT_##r)

/*
 * What a frontend's driver may answer at each step (struct
 * pci_error_handlers): error_detected says whether it can recover,
 * mmio_enabled and slot_reset whether it has, resume answers nothing (a
 * frontend leaves NONE or says RECOVERED).  NONE and NO_AER_DRIVER may
 * come at any step from a frontend without a driver or a handler.
 */
static const unsigned aer_allowed[] = {
	[PVPCI_XEN_PCI_OP_aer_detected - PVPCI_XEN_PCI_OP_aer_detected] =
		ERS(NONE) | ERS(CAN_RECOVER) | ERS(NEED_RESET) | ERS(DISCONNECT) | ERS(NO_AER_DRIVER),
	[PVPCI_XEN_PCI_OP_aer_resume - PVPCI_XEN_PCI_OP_aer_detected] =
		ERS(NONE) | ERS(RECOVERED) | ERS(NO_AER_DRIVER),
	[PVPCI_XEN_PCI_OP_aer_mmio - PVPCI_XEN_PCI_OP_aer_detected] =
		ERS(NONE) | ERS(NEED_RESET) | ERS(DISCONNECT) | ERS(RECOVERED) | ERS(NO_AER_DRIVER),
	[PVPCI_XEN_PCI_OP_aer_slotreset - PVPCI_XEN_PCI_OP_aer_detected] =
		ERS(NONE) | ERS(DISCONNECT) | ERS(RECOVERED) | ERS(NO_AER_DRIVER),
};

static bool is_aer_cmd(uint32_t cmd)
{
	return cmd >= PVPCI_XEN_PCI_OP_aer_detected && cmd <= PVPCI_XEN_PCI_OP_aer_slotreset;
}

int pvpci_pciif_aer_post(struct pvpci_pciif *p, struct pvpci_sharedinfo *sh,
			 const struct pvpci_bdf *host, uint32_t cmd, int32_t err)
{
	struct pvpci_bdf guest;

	if (!is_aer_cmd(cmd))
		return -EINVAL;
	if (pvpci_topo_guest_of(p->topo, host, &guest) < 0)
		return -ENOENT;
	if (!(__atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE) & PVPCI_XEN_PCIB_AERHANDLER)) {
		say(p, PVPCI_LOG_WARNING, host, "guest %u has no AER handler for %s", p->cfg.domid,
		    pvpci_op_name(cmd));
		return -EOPNOTSUPP;
	}
	if (p->aer_pending)
		return -EBUSY;
	sh->aer_op.cmd = cmd;
	sh->aer_op.err = err;
	sh->aer_op.domain = guest.domain;
	sh->aer_op.bus = guest.bus;
	sh->aer_op.devfn = pvpci_devfn(&guest);
	p->aer_pending = true;
	p->aer_cmd = cmd;
	p->aer_host = *host;
	verbose(p, host, "%s for guest %u at %04x:%02x:%02x.%u, state %d", pvpci_op_name(cmd),
		p->cfg.domid, guest.domain, guest.bus, guest.dev, guest.fn, err);
	__atomic_fetch_or(&sh->flags, PVPCI_XEN_PCIB_active, __ATOMIC_RELEASE);
	return 0;
}

int pvpci_pciif_aer_poll(struct pvpci_pciif *p, struct pvpci_sharedinfo *sh, int32_t *ret)
{
	int32_t res;
	uint32_t idx = p->aer_cmd - PVPCI_XEN_PCI_OP_aer_detected;

	/* Nothing posted: nothing to answer (the caller's loop times out). */
	if (!p->aer_pending || (__atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE) & PVPCI_XEN_PCIB_active))
		return 0;
	res = __atomic_load_n(&sh->aer_op.err, __ATOMIC_RELAXED);
	p->aer_pending = false;
	if (res < PVPCI_PCI_ERS_RESULT_NONE || res > PVPCI_PCI_ERS_RESULT_NO_AER_DRIVER ||
	    !(aer_allowed[idx] & 1u << res)) {
		say(p, PVPCI_LOG_WARNING, &p->aer_host,
		    "guest %u answered %s with %d: taken as DISCONNECT", p->cfg.domid,
		    pvpci_op_name(p->aer_cmd), res);
		res = PVPCI_PCI_ERS_RESULT_DISCONNECT;
	}
	verbose(p, &p->aer_host, "%s: guest %u answered %d", pvpci_op_name(p->aer_cmd), p->cfg.domid,
		res);
	*ret = res;
	return 1;
}

void pvpci_pciif_aer_cancel(struct pvpci_pciif *p, struct pvpci_sharedinfo *sh)
{
	if (!p->aer_pending)
		return;
	__atomic_fetch_and(&sh->flags, ~(uint32_t)PVPCI_XEN_PCIB_active, __ATOMIC_SEQ_CST);
	sh->aer_op.err = PVPCI_PCI_ERS_RESULT_NONE;
	p->aer_pending = false;
	say(p, PVPCI_LOG_WARNING, &p->aer_host, "guest %u did not answer %s in time", p->cfg.domid,
	    pvpci_op_name(p->aer_cmd));
}
