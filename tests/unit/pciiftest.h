/*
 * What the protocol's unit tests share (test_pciif, test_xsa): two fake
 * functions, A with PM, MSI, MSI-X and a vendor capability and B with
 * none, exported by one pciif in either topology with a local interrupt
 * allocator (or another one given); ops built with every other field garbage; a page filled
 * with a pattern; a log that keeps every line.  Header-only; include
 * after cmocka.h.
 */
#ifndef PVPCI_TEST_PCIIFTEST_H
#define PVPCI_TEST_PCIIFTEST_H

#include <stdio.h>
#include <string.h>

#include "cstest.h"
#include "pvpci/pciif.h"

#define PM	0x40
#define MSI	0x48	/* 32-bit, no masking: 12 bytes */
#define MSIX	0x54
#define VNDR	0x60
#define IRQ0	100	/* the first number the allocator hands out */
#define DOMID	7

/* Linux's errno numbers, as the frontend reads them. */
enum { L_ENXIO = 6, L_EIO = 5, L_EBUSY = 16, L_EINVAL = 22, L_ENOSPC = 28, L_ERANGE = 34,
       L_EALREADY = 114 };

/* ---- log ---- */

static char logbuf[16384];

static inline void rec_log(void *ctx, int level, const char *msg)
{
	size_t n = strlen(logbuf);

	(void)ctx;
	snprintf(logbuf + n, sizeof(logbuf) - n, "%d %s\n", level, msg);
}

/* Is "level msg" a whole line of the log? */
static inline bool logged(int level, const char *msg)
{
	char line[512];
	size_t n = (size_t)snprintf(line, sizeof(line), "%d %s\n", level, msg);

	for (const char *s = logbuf; (s = strstr(s, line)); s += n)
		if (s == logbuf || s[-1] == '\n')
			return true;
	return false;
}

/* ---- the functions ---- */

/*
 * A: PM, MSI (8 vectors capable), MSI-X (16 entries, table at BAR 0 + 0,
 * PBA at BAR 0 + 0x800) and a vendor capability, host 0000:03:00.0, with
 * MSI's and MSI-X's Enable bits writable in "hardware".
 */
static inline struct fakedev *dev_a(void)
{
	struct fakedev *f = fake_new(256);

	fake_cap(f, PM, 0x01, MSI);
	fake_put(f, PM + 2, 2, 0x0003);
	fake_cap(f, MSI, 0x05, MSIX);
	fake_put(f, MSI + 2, 2, 0x0006);
	fake_wmask(f, MSI + 2, 2, 0x0071);
	fake_cap(f, MSIX, 0x11, VNDR);
	fake_put(f, MSIX + 2, 2, 0x000f);
	fake_put(f, MSIX + 4, 4, 0x00000000);
	fake_put(f, MSIX + 8, 4, 0x00000800);
	fake_wmask(f, MSIX + 2, 2, 0xc000);
	fake_cap(f, VNDR, 0x09, 0);
	f->cfg[VNDR + 2] = 4;
	return f;
}

/* B: no capabilities, host 0000:02:05.1. */
static inline struct fakedev *dev_b(void)
{
	struct fakedev *f = fake_new(256);

	f->hd.bdf = (struct pvpci_bdf){ 0, 2, 5, 1 };
	return f;
}

static inline void hw_memory(struct fakedev *f, bool on)
{
	f->cfg[4] = (uint8_t)(on ? f->cfg[4] | 0x02 : f->cfg[4] & ~0x02);
}

static inline bool msi_on_in_hw(const struct fakedev *f)
{
	return fake_get(f, MSI + 2, 2) & 0x0001;
}

static inline bool msix_on_in_hw(const struct fakedev *f)
{
	return fake_get(f, MSIX + 2, 2) & 0x8000;
}

/* ---- the backend under test ---- */

struct env {
	enum pvpci_topo_mode mode;
	struct fakedev *f[2];
	struct pvpci_cs *cs[2];
	struct pvpci_irq_local *irq;
	struct pvpci_pciif *p;
	struct pvpci_bdf host[2], guest[2];
};

struct env_opts {
	unsigned nirq;		/* 0: 64 */
	bool no_irq;		/* cfg.irq NULL */
	const struct pvpci_irq_ops *irq;	/* another allocator than the local one */
	void *irq_ctx;
	bool verbose;
	struct pvpci_cs_opts cs;	/* both engines' (log: rec_log when NULL) */
	struct pvpci_ratelimit *log_limit;	/* the pciif's */
	void (*change_a)(struct fakedev *f);	/* what else A has, before it is bound */
};

static inline struct env *env_new(enum pvpci_topo_mode mode, const struct env_opts *o)
{
	struct env *e = calloc(1, sizeof(*e));
	struct pvpci_cs_opts co = o ? o->cs : (struct pvpci_cs_opts){ 0 };
	struct pvpci_pciif_cfg cfg = { .mode = mode, .domid = DOMID, .irq = &pvpci_irq_local_ops,
				       .verbose = o && o->verbose, .log = rec_log };
	char err[256];

	logbuf[0] = 0;
	cfg.log_limit = o ? o->log_limit : NULL;
	if (!co.log)
		co.log = rec_log;
	e->mode = mode;
	assert_int_equal(pvpci_irq_local_new(IRQ0, o && o->nirq ? o->nirq : 64, &e->irq), 0);
	cfg.irq_ctx = e->irq;
	if (o && o->no_irq)
		cfg.irq = NULL;
	if (o && o->irq) {
		cfg.irq = o->irq;
		cfg.irq_ctx = o->irq_ctx;
	}
	assert_int_equal(pvpci_pciif_new(&cfg, &e->p), 0);
	e->f[0] = dev_a();
	e->f[1] = dev_b();
	if (o && o->change_a)
		o->change_a(e->f[0]);
	for (int i = 0; i < 2; i++) {
		e->cs[i] = cs_bind_with(e->f[i], &co);
		hw_memory(e->f[i], true);
		e->host[i] = e->f[i]->hd.bdf;
	}
	/* vpci and slot: A placed at slot 5, B takes the lowest free slot,
	 * keeping its function number in vpci, at function 0 in slot.
	 * Passthrough: the host's addresses. */
	assert_int_equal(pvpci_pciif_export(e->p, &e->host[0],
					    mode != PVPCI_TOPO_PASSTHROUGH ? 5 : PVPCI_VSLOT_ANY, e->cs[0],
					    &e->guest[0], err, sizeof(err)), 0);
	assert_int_equal(pvpci_pciif_export(e->p, &e->host[1], PVPCI_VSLOT_ANY, e->cs[1], &e->guest[1],
					    err, sizeof(err)), 0);
	if (mode != PVPCI_TOPO_PASSTHROUGH) {
		assert_int_equal(pvpci_bdf_cmp(&e->guest[0], &(struct pvpci_bdf){ 0, 0, 5, 0 }), 0);
		assert_int_equal(pvpci_bdf_cmp(&e->guest[1], &(struct pvpci_bdf){ 0, 0, 0,
							mode == PVPCI_TOPO_SLOT ? 0 : 1 }), 0);
	} else {
		assert_int_equal(pvpci_bdf_cmp(&e->guest[0], &e->host[0]), 0);
		assert_int_equal(pvpci_bdf_cmp(&e->guest[1], &e->host[1]), 0);
	}
	assert_int_equal(pvpci_topo_mode(pvpci_pciif_topo(e->p)), mode);
	e->f[0]->nlog = e->f[1]->nlog = 0;
	return e;
}

static inline void env_free(struct env *e)
{
	pvpci_pciif_free(e->p);
	assert_int_equal(pvpci_irq_local_in_use(e->irq), 0);
	pvpci_irq_local_free(e->irq);
	for (int i = 0; i < 2; i++) {
		pvpci_cs_free(e->cs[i]);
		free(e->f[i]);
	}
	free(e);
}

/* An op for guest address g, every other field garbage. */
static inline struct pvpci_op op_at(const struct pvpci_bdf *g, uint32_t cmd)
{
	struct pvpci_op op;

	memset(&op, 0x5a, sizeof(op));
	op.cmd = cmd;
	op.domain = g->domain;
	op.bus = g->bus;
	op.devfn = pvpci_devfn(g);
	return op;
}

static inline struct pvpci_op run(struct env *e, int i, uint32_t cmd, uint32_t value,
				  uint32_t info)
{
	struct pvpci_op op = op_at(&e->guest[i], cmd);

	op.value = value;
	op.info = info;
	pvpci_pciif_do_op(e->p, &op);
	return op;
}

static inline struct pvpci_op conf(struct env *e, int i, uint32_t cmd, int32_t off, int32_t size,
				   uint32_t value)
{
	struct pvpci_op op = op_at(&e->guest[i], cmd);

	op.offset = off;
	op.size = size;
	op.value = value;
	pvpci_pciif_do_op(e->p, &op);
	return op;
}

/* enable_msix on A with nvec entries from list. */
static inline struct pvpci_op msix(struct env *e, uint32_t nvec, const uint16_t *entries, size_t n)
{
	struct pvpci_op op = op_at(&e->guest[0], PVPCI_XEN_PCI_OP_enable_msix);

	op.value = nvec;
	for (size_t k = 0; k < n; k++)
		op.msix_entries[k].entry = entries[k];
	pvpci_pciif_do_op(e->p, &op);
	return op;
}

static inline unsigned in_use(const struct env *e)
{
	return pvpci_irq_local_in_use(e->irq);
}

/* A test of every topology: passthrough, vpci and slot. */
#define EVERY_MODE(name)						\
	static void test_##name(void **state)				\
	{								\
		(void)state;						\
		name(PVPCI_TOPO_PASSTHROUGH);				\
		name(PVPCI_TOPO_VPCI);					\
		name(PVPCI_TOPO_SLOT);					\
	}

/* ---- the page ---- */

#define PAGE	4096

static inline uint8_t *page_new(void)
{
	uint8_t *pg = aligned_alloc(PAGE, PAGE);

	memset(pg, 0xa5, PAGE);
	return pg;
}

static inline void sh_op(struct pvpci_sharedinfo *sh, const struct pvpci_bdf *g, uint32_t cmd,
			 int32_t off, int32_t size, uint32_t value)
{
	sh->op.cmd = cmd;
	sh->op.domain = g->domain;
	sh->op.bus = g->bus;
	sh->op.devfn = pvpci_devfn(g);
	sh->op.offset = off;
	sh->op.size = size;
	sh->op.value = value;
}

#endif
