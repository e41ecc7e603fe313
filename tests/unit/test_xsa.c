/*
 * A regression test for every class of past advisory against PCI
 * passthrough backends (Xen Security Advisories), each named after the
 * advisory that motivates it, and the malformed accesses such advisories
 * came from.  Each case states the answer the guest gets and checks what
 * reached the recording host device (the fake's logs of writes and
 * reads).  Against the engine (pvpci_cs), the op dispatch and serve()
 * (pvpci_pciif), and for XSA-332 also the backend's event loop with local
 * frontends in this process.
 *
 * What other tests already prove is not repeated here: each capability's
 * own file sweeps its registers; this file attacks across them.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "pciiftest.h"
#include "pvpci/backend.h"
#include "pvpci/front.h"
#include "pvpci/hostdev_sim.h"

#define PMCSR	(PM + 4)

/* The engine's modes a guest may meet. */
static const struct pvpci_cs_opts modes[] = {
	{ .log = rec_log },
	{ .log = rec_log, .permissive = true },
	{ .log = rec_log, .allow_interrupt_control = true },
	{ .log = rec_log, .permissive = true, .allow_interrupt_control = true },
};
#define NMODES	(sizeof(modes) / sizeof(modes[0]))

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* A guest write of a sweep, and the test's checks of it. */
typedef void (*write_fn)(void *ctx, unsigned off, unsigned size, uint32_t v);

/*
 * Every aligned access of each width with a byte in [lo, hi), each with
 * none, all, alternating and two sets of random bits.
 */
static void sweep(unsigned lo, unsigned hi, uint32_t *seed, write_fn fn, void *ctx)
{
	static const uint32_t fixed[] = { 0, 0xffffffffu, 0x5a5a5a5au };

	for (unsigned size = 1; size <= 4; size *= 2)
		for (unsigned off = lo & ~(size - 1); off < hi; off += size)
			for (unsigned k = 0; k < 5; k++)
				fn(ctx, off, size, (k < 3 ? fixed[k] : rnd(seed)) & size_mask(size));
}

/* Bytes of a size-byte access at off that fall in a 4-byte register at reg. */
static uint32_t bytes_of(unsigned reg, unsigned off, unsigned size, uint32_t v, uint32_t *ret_mask)
{
	unsigned sh = 8 * (off - reg);

	*ret_mask = size_mask(size) << sh;
	return v << sh;
}

/* ---- XSA-120, XSA-126: the Command register ---- */

#define CMD_DECODE	0x0003
#define CMD_MASTER	0x0004
#define CMD_MWI		0x0010
#define CMD_INTX	0x0400
#define CMD_GUEST	0x02bc	/* master, special, MWI, VGA snoop, stepping, fast back-to-back */
#define CMD_DEFINED	0x07ff
/* What the host left: special cycles, parity, SERR and reserved bits on. */
#define CMD_HOST	0xf948
#define STATUS_HOST	0xf910	/* every error bit, and the capability list */

/* Hardware's Command after a guest write leaves g in the guest's register. */
static uint32_t command_after(uint32_t hw, uint32_t g, const struct pvpci_cs_opts *o)
{
	/* Decode goes through the host's enable path, which sets both. */
	hw = (hw & ~CMD_DECODE) | (g & CMD_DECODE ? CMD_DECODE : 0);
	hw = (hw & ~(CMD_MASTER | CMD_MWI)) | (g & (CMD_MASTER | CMD_MWI));
	if (o->allow_interrupt_control)
		hw = (hw & ~CMD_INTX) | (g & CMD_INTX);
	if (o->permissive)
		hw = (hw & ~CMD_GUEST) | (g & CMD_GUEST);
	return hw;
}

/* One guest write of v at off over Command (and Status for 4 bytes). */
static void command_write(struct fakedev *f, struct pvpci_cs *cs, const struct pvpci_cs_opts *o,
			  unsigned off, unsigned size, uint32_t v)
{
	uint32_t wm, cv = bytes_of(4, off, size, v, &wm) & 0xffff, hw = fake_get(f, 4, 2), g, want;
	bool decode = f->decode;
	unsigned calls = f->decode_calls;

	g = (cs_rd(cs, 4, 2) & ~wm) | cv;
	fake_put(f, 6, 2, STATUS_HOST);
	f->nlog = 0;
	assert_int_equal(pvpci_cs_write(cs, off, size, v), PVPCI_ERR_success);
	want = command_after(hw, g, o);
	if (fake_get(f, 4, 2) != want)
		fail_msg("write 0x%x size %u of 0x%x over 0x%04x: hardware's Command 0x%04x, want 0x%04x",
			 off, size, v, hw, fake_get(f, 4, 2), want);
	/* Decode changed only through the enable path, and only when asked. */
	assert_int_equal(f->decode_calls, calls + (decode != !!(g & CMD_DECODE)));
	for (size_t i = 0; i < f->nlog; i++) {
		const struct fake_write *w = &f->log[i];

		assert_int_equal(w->size, 2);
		if (w->off == 4) {
			assert_int_equal(w->val & CMD_DECODE, want & CMD_DECODE);
		} else {
			/* Status: the error bits the guest wrote 1 to, nothing else. */
			assert_int_equal(w->off, 6);
			assert_int_equal(size, 4);
			assert_int_equal(w->val, (STATUS_HOST & ~0xf900u) | (v >> 16 & 0xf900u));
		}
	}
	assert_int_equal(fake_get(f, 6, 2), STATUS_HOST & ~(size == 4 ? v >> 16 & 0xf900u : 0));
	/* The guest reads back what it wrote, but for the bits hardware owns. */
	assert_int_equal(cs_rd(cs, 4, 2), ((want & CMD_GUEST) | (g & ~CMD_GUEST)) & CMD_DEFINED);
}

/*
 * Every value of Command at every width (and with Status, 4 bytes), in
 * each mode, on a device whose Command takes every bit: only the guest's
 * bits reach hardware (bus master and MWI; INTx Disable with interrupt
 * control; the PCI_COMMAND_GUEST bits in permissive mode), decode only
 * through the enable path, and SERR, parity and reserved bits never.
 */
static void test_xsa120_126_command_register(void **state)
{
	static const struct { unsigned off, size; } acc[] = { { 4, 1 }, { 5, 1 }, { 4, 2 }, { 4, 4 } };
	uint32_t seed = 120;

	(void)state;
	for (size_t m = 0; m < NMODES; m++) {
		struct fakedev *f = fake_new(256);
		struct pvpci_cs *cs;
		uint32_t allowed = CMD_DECODE | CMD_MASTER | CMD_MWI |
				   (modes[m].allow_interrupt_control ? CMD_INTX : 0) |
				   (modes[m].permissive ? CMD_GUEST : 0);

		fake_put(f, 4, 2, CMD_HOST);
		fake_wmask(f, 4, 2, 0xffff);
		cs = cs_bind_with(f, &modes[m]);
		for (size_t a = 0; a < sizeof(acc) / sizeof(acc[0]); a++)
			for (uint32_t v = 0; v < (acc[a].size == 1 ? 0x100u : 0x10000u); v++)
				command_write(f, cs, &modes[m], acc[a].off, acc[a].size,
					      acc[a].size == 4 ? v | rnd(&seed) << 16 : v);
		/* And back to what the guest found. */
		command_write(f, cs, &modes[m], 4, 2, CMD_HOST & CMD_DEFINED);
		assert_int_equal(fake_get(f, 4, 2) & ~allowed, CMD_HOST & ~allowed);
		pvpci_cs_free(cs);
		free(f);
	}
}

/* ---- XSA-128, XSA-129: MSI address, data and mask never reach the device ---- */

/* A's MSI made 64-bit with per-vector masking (24 bytes), MSI-X gone:
 * MSI runs up to the vendor capability. */
static void msi64_masking(struct fakedev *f)
{
	f->cfg[MSI + 1] = VNDR;
	fake_put(f, MSI + 2, 2, 0x0186);
	memset(f->cfg + MSIX, 0, VNDR - MSIX);
}

/* The host's values in every MSI field and every byte writable, so that
 * anything that got through would show. */
static void msi_host_values(struct fakedev *f, unsigned len)
{
	fake_put(f, MSI + 4, 4, 0xfee0100c);
	for (unsigned o = MSI + 8; o < MSI + len; o += 4)
		fake_put(f, o, 4, 0x4041 + o);
	for (unsigned o = MSI + 2; o < MSI + len; o++)
		f->hw_wmask[o] = 0xff;
}

struct msi_sweep {
	struct env *e;
	const struct pvpci_cs_opts *o;
	unsigned len;
	uint8_t body[0x18];	/* the host's address, data, mask and pending */
	uint32_t ctrl;		/* Message Control but Enable and MME */
};

static void msi_write(void *ctx, unsigned off, unsigned size, uint32_t v)
{
	struct msi_sweep *m = ctx;
	struct fakedev *f = m->e->f[0];
	uint32_t hw = fake_get(f, MSI + 2, 2);

	f->nlog = 0;
	assert_int_equal(conf(m->e, 0, PVPCI_XEN_PCI_OP_conf_write, (int32_t)off, (int32_t)size, v).err,
			 PVPCI_ERR_success);
	/* Only Enable and Multiple Message Enable, only with interrupt
	 * control, only through Message Control. */
	for (size_t i = 0; i < f->nlog; i++)
		if (!m->o->allow_interrupt_control || f->log[i].off != MSI + 2 || f->log[i].size != 2 ||
		    ((f->log[i].val ^ hw) & ~0x0071u))
			fail_msg("write 0x%x size %u of 0x%x reached the device: 0x%x size %u = 0x%x", off,
				 size, v, f->log[i].off, f->log[i].size, f->log[i].val);
	assert_memory_equal(f->cfg + MSI + 4, m->body, m->len - 4);
	assert_int_equal(fake_get(f, MSI + 2, 2) & ~0x0071u, m->ctrl);
	assert_true((fake_get(f, MSI + 2, 2) >> 4 & 7) <= 3);	/* 8 vectors capable */
}

static void msi_sweep(struct env *e, const struct pvpci_cs_opts *o, unsigned len, uint32_t *seed)
{
	struct msi_sweep m = { e, o, len, { 0 }, fake_get(e->f[0], MSI + 2, 2) & ~0x0071u };

	memcpy(m.body, e->f[0]->cfg + MSI + 4, len - 4);
	sweep(MSI, MSI + len, seed, msi_write, &m);
}

/*
 * Every write at every width over the MSI capability (whose accesses
 * straddle ID, next and Message Control, and data and the reserved half
 * after it), with MSI off and then on through the op, in each mode, for
 * a 32-bit layout without masking and a 64-bit one with.
 */
static void test_xsa128_129_msi_never_reaches_device(void **state)
{
	static const struct { void (*change)(struct fakedev *f); unsigned len; } layouts[] = {
		{ NULL, 0x0c }, { msi64_masking, 0x18 },
	};
	/* Straddling writes with interrupt control, each on a fresh function:
	 * the one write that reaches the device, if any. */
	static const struct {
		unsigned off, size;
		uint32_t v;
		int nwrites;
		uint32_t want;
	} straddle[] = {
		{ MSI, 4, 0x0071ffff, 1, 0x0037 },	/* ID, next, Control: Enable, MME 8 */
		{ MSI, 4, 0x0001ffff, 1, 0x0007 },
		{ MSI + 4, 4, 0xffffffff, 0, 0 },	/* address */
		{ MSI + 8, 4, 0xffffffff, 0, 0 },	/* data and the reserved half */
		{ MSI + 8, 2, 0xffff, 0, 0 },
		{ MSI + 2, 2, 0xff70, 0, 0 },		/* MME alone: Enable stays off */
	};
	uint32_t seed = 128;

	(void)state;
	for (size_t l = 0; l < sizeof(layouts) / sizeof(layouts[0]); l++)
		for (size_t m = 0; m < NMODES; m++) {
			struct env_opts eo = { .cs = modes[m], .change_a = layouts[l].change };
			struct env *e = env_new(PVPCI_TOPO_VPCI, &eo);

			msi_host_values(e->f[0], layouts[l].len);
			msi_sweep(e, &modes[m], layouts[l].len, &seed);
			assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_disable_msi, 0, 0).err, 0);
			assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_enable_multi_msi, 0, 4).err, 0);
			msi_sweep(e, &modes[m], layouts[l].len, &seed);
			assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_disable_msi, 0, 0).err, 0);
			env_free(e);
		}
	for (size_t k = 0; k < sizeof(straddle) / sizeof(straddle[0]); k++)
		for (size_t m = 0; m < NMODES; m++) {
			struct env_opts eo = { .cs = modes[m] };
			struct env *e = env_new(PVPCI_TOPO_VPCI, &eo);
			int n = modes[m].allow_interrupt_control ? straddle[k].nwrites : 0;

			msi_host_values(e->f[0], 0x0c);
			assert_int_equal(pvpci_cs_write(e->cs[0], straddle[k].off, straddle[k].size,
							straddle[k].v), PVPCI_ERR_success);
			assert_int_equal(e->f[0]->nlog, n);
			if (n)
				assert_int_equal(fake_count_write(e->f[0], MSI + 2, 2, straddle[k].want), 1);
			env_free(e);
		}
}

/* ---- XSA-131: fields nobody handles are read-only unless permissive ---- */

struct unknown_sweep {
	struct fakedev *f;
	struct pvpci_cs *cs;
	bool permissive;
};

static void unknown_write(void *ctx, unsigned off, unsigned size, uint32_t v)
{
	struct unknown_sweep *u = ctx;
	struct fakedev *f = u->f;
	uint32_t before = fake_get(f, off, size);

	f->nlog = f->nrlog = 0;
	/* Reads pass through, once, at the guest's width. */
	assert_int_equal(cs_rd(u->cs, off, size), before);
	assert_int_equal(f->nrlog, 1);
	assert_int_equal(f->rlog[0].off, off);
	assert_int_equal(f->rlog[0].size, size);
	assert_int_equal(pvpci_cs_write(u->cs, off, size, v), PVPCI_ERR_success);
	if (!u->permissive) {
		assert_int_equal(f->nlog, 0);
		assert_int_equal(fake_get(f, off, size), before);
	} else {
		assert_int_equal(f->nlog, 1);
		assert_int_equal(fake_count_write(f, off, size, v), 1);
		assert_int_equal(fake_get(f, off, size), v);
	}
}

static void unknown_sweep(struct fakedev *f, struct pvpci_cs *cs, bool permissive, uint32_t *seed)
{
	struct unknown_sweep u = { f, cs, permissive };

	sweep(0x40, f->hd.cfg_size, seed, unknown_write, &u);
}

static size_t log_lines(int level, const char *part)
{
	char tag[8];
	size_t n = 0;

	snprintf(tag, sizeof(tag), "%d ", level);
	for (const char *s = logbuf; *s; s = strchr(s, '\n') + 1) {
		const char *eol = strchr(s, '\n');
		const char *hit = strstr(s, part);

		n += !strncmp(s, tag, strlen(tag)) && hit && hit < eol;
	}
	return n;
}

/*
 * Every byte past the header of a function with no capability at all, in
 * both spaces, at every width: strict, writes succeed and are dropped,
 * with one warning; permissive, each reaches the device as the guest
 * wrote it, with one warning; permissive turned off again, dropped again.
 * A hidden capability's bytes stay read-only even when permissive.
 */
static void test_xsa131_unknown_fields_readonly_unless_permissive(void **state)
{
	uint32_t seed = 131;

	(void)state;
	for (int permissive = 0; permissive < 2; permissive++) {
		struct fakedev *f = fake_new(4096);
		struct pvpci_cs *cs;

		for (unsigned o = 0x40; o < 4096; o++) {
			f->cfg[o] = (uint8_t)(o * 7 + 3);
			f->hw_wmask[o] = 0xff;
		}
		fake_put(f, 0x100, 4, 0);	/* no extended capability */
		logbuf[0] = 0;
		cs = cs_bind_with(f, &modes[permissive]);
		unknown_sweep(f, cs, permissive, &seed);
		assert_int_equal(log_lines(PVPCI_LOG_WARNING, ""), 1);
		assert_int_equal(log_lines(PVPCI_LOG_WARNING, permissive
			? "permissive mode: passing a write to an unhandled field at offset 0x40, size 1"
			: "Driver tried to write to a read-only configuration space field at offset 0x40, "
			  "size 1."), 1);
		if (permissive) {
			pvpci_cs_set_permissive(cs, false);
			unknown_sweep(f, cs, false, &seed);
		}
		pvpci_cs_free(cs);
		free(f);
	}

	/* PCI-X (hidden) at 0x40: its 8 bytes read 0 and take nothing. */
	struct fakedev *f = fake_new(256);
	struct pvpci_cs *cs;

	fake_cap(f, 0x40, 0x07, 0);
	for (unsigned o = 0x40; o < 0x48; o++)
		f->hw_wmask[o] = 0xff;
	cs = cs_bind_with(f, &modes[1]);
	for (unsigned size = 1; size <= 4; size *= 2)
		for (unsigned off = 0x40; off < 0x48; off += size) {
			assert_int_equal(pvpci_cs_write(cs, off, size, size_mask(size)), PVPCI_ERR_success);
			assert_int_equal(cs_rd(cs, off, size), 0);
		}
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);
}

/* ---- XSA-155: the op is fetched from the page once ---- */

/* What a frontend does to its page while the backend works. */
enum { MUT_WRITE, MUT_MSIX, MUT_OTHER_DEV, MUT_BAD_ACCESS, MUT_FLIP, MUT_DISABLE, MUT_ENTRIES,
       MUT_GARBAGE, NMUT };

struct rewriter {
	struct pvpci_sharedinfo *sh;
	uint8_t left[PAGE];		/* the page as the frontend last left it */
	struct pvpci_bdf other;		/* where a redirect points */
	int which;			/* a MUT_*, or -1: each in turn */
	unsigned n;			/* accesses the rewrites ran at */
};

static void rewrite(struct fakedev *f, bool write, unsigned off, unsigned size)
{
	struct rewriter *w = f->hook_ctx;
	struct pvpci_op *op = &w->sh->op;

	(void)write;
	(void)off;
	(void)size;
	switch (w->which < 0 ? w->n % NMUT : (unsigned)w->which) {
	case MUT_WRITE:		/* into a write of the cache line size */
		op->cmd = PVPCI_XEN_PCI_OP_conf_write;
		op->offset = 0x0c;
		op->size = 1;
		op->value = 0xff;
		break;
	case MUT_MSIX:		/* into 128 duplicate MSI-X entries */
		op->cmd = PVPCI_XEN_PCI_OP_enable_msix;
		op->value = PVPCI_SH_INFO_MAX_VEC;
		for (unsigned k = 0; k < PVPCI_SH_INFO_MAX_VEC; k++)
			op->msix_entries[k].entry = 0;
		break;
	case MUT_OTHER_DEV:
		op->domain = w->other.domain;
		op->bus = w->other.bus;
		op->devfn = pvpci_devfn(&w->other);
		break;
	case MUT_BAD_ACCESS:
		op->offset = -4;
		op->size = INT_MAX;
		break;
	case MUT_FLIP:
		op->value = ~op->value;
		op->info = 0xffffffffu;
		break;
	case MUT_DISABLE:
		op->cmd = op->cmd == PVPCI_XEN_PCI_OP_disable_msi ? PVPCI_XEN_PCI_OP_disable_msix
								  : PVPCI_XEN_PCI_OP_disable_msi;
		break;
	case MUT_ENTRIES:
		for (unsigned k = 0; k < PVPCI_SH_INFO_MAX_VEC; k++)
			op->msix_entries[k] = (struct pvpci_msix_entry){ 0x1234, 0xffff };
		break;
	default:
		op->cmd = 0x80000000u | w->n;
		op->value = w->n;
		break;
	}
	w->n++;
	memcpy(w->left, w->sh, PAGE);
}

#define NONE	0xffffffffu

struct df_case {
	const char *name;
	uint32_t pre;			/* an op on A first (2 vectors or entries), or NONE */
	int dev;			/* 0: A, 1: B */
	uint32_t cmd;
	int32_t off, size;
	uint32_t value, info;
	uint16_t entries[3];
};

static const struct df_case df_cases[] = {
	{ "conf_read of A's IDs", NONE, 0, PVPCI_XEN_PCI_OP_conf_read, 0, 4, 0, 0, { 0 } },
	{ "conf_read of A's MSI-X control", NONE, 0, PVPCI_XEN_PCI_OP_conf_read, MSIX + 2, 2, 0, 0, { 0 } },
	{ "conf_read of B's cache line", NONE, 1, PVPCI_XEN_PCI_OP_conf_read, 0x0c, 1, 0, 0, { 0 } },
	{ "conf_write of A's cache line", NONE, 0, PVPCI_XEN_PCI_OP_conf_write, 0x0c, 1, 0x20, 0, { 0 } },
	{ "conf_write of A's Command", NONE, 0, PVPCI_XEN_PCI_OP_conf_write, 4, 2, 0x0006, 0, { 0 } },
	{ "conf_write of A's PMCSR", NONE, 0, PVPCI_XEN_PCI_OP_conf_write, PMCSR, 2, 0x0003, 0, { 0 } },
	{ "conf_write of B's latency", NONE, 1, PVPCI_XEN_PCI_OP_conf_write, 0x0d, 1, 0x40, 0, { 0 } },
	{ "enable_msi", NONE, 0, PVPCI_XEN_PCI_OP_enable_msi, 0, 0, 0, 0, { 0 } },
	{ "enable_multi_msi of 4", NONE, 0, PVPCI_XEN_PCI_OP_enable_multi_msi, 0, 0, 0, 4, { 0 } },
	{ "enable_msix of 3", NONE, 0, PVPCI_XEN_PCI_OP_enable_msix, 0, 0, 3, 0, { 5, 0, 15 } },
	{ "enable_msix of duplicates", NONE, 0, PVPCI_XEN_PCI_OP_enable_msix, 0, 0, 2, 0, { 7, 7 } },
	{ "disable_msix", PVPCI_XEN_PCI_OP_enable_msix, 0, PVPCI_XEN_PCI_OP_disable_msix, 0, 0, 0, 0, { 0 } },
	{ "disable_msi", PVPCI_XEN_PCI_OP_enable_multi_msi, 0, PVPCI_XEN_PCI_OP_disable_msi, 0, 0, 0, 0,
	  { 0 } },
};

/* A PMCSR whose PowerState the device takes, with No_Soft_Reset. */
static void pm_writable(struct fakedev *f)
{
	fake_put(f, PMCSR, 2, 0x0008);
	fake_wmask(f, PMCSR, 2, 0x0003);
}

/* Serve c on a fresh env through a fresh page; w (may be NULL) rewrites
 * the page at each access to either function.  The page is returned. */
static uint8_t *df_serve(struct env *e, const struct df_case *c, struct rewriter *w)
{
	uint8_t *pg = page_new();
	struct pvpci_sharedinfo *sh = (void *)pg;

	if (c->pre == PVPCI_XEN_PCI_OP_enable_msix)
		assert_int_equal(msix(e, 2, (const uint16_t[]){ 0, 1 }, 2).err, 0);
	else if (c->pre != NONE)
		assert_int_equal(run(e, 0, c->pre, 0, 2).err, 0);
	for (int i = 0; i < 2; i++)
		e->f[i]->nlog = e->f[i]->nrlog = 0;
	sh_op(sh, &e->guest[c->dev], c->cmd, c->off, c->size, c->value);
	sh->op.info = c->info;
	for (unsigned k = 0; k < 3; k++)
		sh->op.msix_entries[k].entry = c->entries[k];
	sh->flags = PVPCI_XEN_PCIF_active;
	if (w) {
		w->sh = sh;
		w->other = e->guest[!c->dev];
		memcpy(w->left, pg, PAGE);
		for (int i = 0; i < 2; i++) {
			e->f[i]->on_access = rewrite;
			e->f[i]->hook_ctx = w;
		}
	}
	assert_int_equal(pvpci_pciif_serve(e->p, sh), 1);
	e->f[0]->on_access = e->f[1]->on_access = NULL;
	return pg;
}

static void logs_equal(const struct fakedev *a, const struct fakedev *b, const char *what)
{
	if (a->nlog != b->nlog || a->nrlog != b->nrlog || a->decode_calls != b->decode_calls ||
	    memcmp(a->log, b->log, a->nlog * sizeof(a->log[0])) ||
	    memcmp(a->rlog, b->rlog, a->nrlog * sizeof(a->rlog[0])))
		fail_msg("%s: the device saw other accesses (%zu writes, %zu reads against %zu, %zu)",
			 what, b->nlog, b->nrlog, a->nlog, a->nrlog);
}

/*
 * Each op, served once as the frontend wrote it, and once while a
 * frontend rewrites the page at every access the backend makes to either
 * function (one kind of rewrite throughout, or each in turn): the device
 * accesses, the answer and the interrupts handed out are the same, and
 * the page is what the frontend left but for err, value and the vectors
 * of the entries validated.
 */
static void xsa155_double_fetch(enum pvpci_topo_mode mode)
{
	struct env_opts eo = { .change_a = pm_writable };

	for (size_t c = 0; c < sizeof(df_cases) / sizeof(df_cases[0]); c++)
		for (int which = -1; which < NMUT; which++) {
			const struct df_case *dc = &df_cases[c];
			struct env *ref = env_new(mode, &eo), *e = env_new(mode, &eo);
			struct rewriter *w = calloc(1, sizeof(*w));
			uint8_t *want = df_serve(ref, dc, NULL), *got;
			struct pvpci_sharedinfo *ws = (void *)want, *ls = (void *)w->left;
			char what[128];

			w->which = which;
			got = df_serve(e, dc, w);
			snprintf(what, sizeof(what), "%s, rewrite %d", dc->name, which);
			logs_equal(ref->f[0], e->f[0], what);
			logs_equal(ref->f[1], e->f[1], what);
			if (ref->f[dc->dev]->nlog + ref->f[dc->dev]->nrlog)
				assert_int_not_equal(w->n, 0);	/* the rewrites did run */
			assert_int_equal(in_use(e), in_use(ref));
			ls->flags &= ~(uint32_t)PVPCI_XEN_PCIF_active;
			ls->op.err = ws->op.err;
			ls->op.value = ws->op.value;
			if (dc->cmd == PVPCI_XEN_PCI_OP_enable_msix && ws->op.err == 0)
				for (unsigned k = 0; k < dc->value; k++)
					ls->op.msix_entries[k].vector = ws->op.msix_entries[k].vector;
			if (memcmp(got, w->left, PAGE))
				fail_msg("%s: the page is not the frontend's plus the answer", what);
			free(got);
			free(want);
			free(w);
			env_free(e);
			env_free(ref);
		}
}
EVERY_MODE(xsa155_double_fetch)

/* ---- XSA-157: MSI and MSI-X op sequences ---- */

struct seq_op {
	const char *name;
	uint32_t cmd;
	uint32_t n;		/* enable_multi_msi: vectors; enable_msix: entries */
	uint16_t entries[3];	/* the first entries; entry k >= 3 is k */
	int32_t off;		/* conf_write of value n at off, 2 bytes */
};

/* What the ops have done, as pciback and Linux's PCI core would see it. */
struct model {
	bool msi, msix, mem, d3;
	unsigned n;
};

static uint16_t seq_entry(const struct seq_op *o, unsigned k)
{
	return k < 3 ? o->entries[k] : (uint16_t)k;
}

static bool entries_bad(const struct seq_op *o, unsigned table)
{
	for (unsigned i = 0; i < o->n; i++)
		for (unsigned j = 0; j <= i; j++)
			if (seq_entry(o, i) >= table || (j < i && seq_entry(o, i) == seq_entry(o, j)))
				return true;
	return false;
}

/* The answer pciback gives to o in state m, and m after it. */
static void model_op(struct model *m, const struct seq_op *o, int32_t *ret_err, uint32_t *ret_value)
{
	unsigned nvec = o->cmd == PVPCI_XEN_PCI_OP_enable_msi ? 1 : o->n;
	int32_t err = 0;

	*ret_value = 0;
	switch (o->cmd) {
	case PVPCI_XEN_PCI_OP_enable_msi:
	case PVPCI_XEN_PCI_OP_enable_multi_msi:
		/* A has 8 vectors; not in D3hot (Linux: -EINVAL). */
		if (m->msi || m->msix || nvec == 0 || nvec > 8 || m->d3) {
			err = PVPCI_ERR_op_failed;
		} else {
			*ret_value = IRQ0;
			m->msi = true;
			m->n = nvec;
		}
		break;
	case PVPCI_XEN_PCI_OP_enable_msix:
		*ret_value = o->n;
		if (o->n > PVPCI_SH_INFO_MAX_VEC)
			err = -L_EINVAL;
		else if (m->msix)
			err = -L_EALREADY;
		else if (m->msi || !m->mem)
			err = -L_ENXIO;
		else {
			if (o->n == 0)
				err = -L_ERANGE;
			else if (m->d3 || o->n > 16 || entries_bad(o, 16))
				err = -L_EINVAL;
			else {
				m->msix = true;
				m->n = o->n;
			}
			*ret_value = (uint32_t)err;
		}
		break;
	case PVPCI_XEN_PCI_OP_disable_msi:
		m->msi = false;
		break;
	case PVPCI_XEN_PCI_OP_disable_msix:
		m->msix = false;
		break;
	default:	/* conf_write */
		*ret_value = o->n;
		if (o->off == 4)
			m->mem = o->n & 0x0002;
		else
			m->d3 = (o->n & 3) == 3;
		break;
	}
	*ret_err = err;
}

static unsigned log2_up(unsigned n)
{
	unsigned l = 0;

	while (1u << l < n)
		l++;
	return l;
}

/* Run o on A and check the answer and the function against the model. */
static void seq_step(struct env *e, struct model *m, const struct seq_op *o, const char *path)
{
	struct pvpci_op op = op_at(&e->guest[0], o->cmd);
	struct fakedev *f = e->f[0];
	struct model before = *m;
	size_t nlog = f->nlog;
	uint32_t value;
	int32_t err;

	op.value = o->n;
	op.info = o->n;
	op.offset = o->off;
	op.size = 2;
	for (unsigned k = 0; k < o->n && k < PVPCI_SH_INFO_MAX_VEC; k++)
		op.msix_entries[k].entry = seq_entry(o, k);
	model_op(m, o, &err, &value);
	pvpci_pciif_do_op(e->p, &op);
	if (op.err != err || op.value != value)
		fail_msg("%s: %s answered %d value 0x%x, want %d value 0x%x", path, o->name, op.err,
			 op.value, err, value);
	if (o->cmd == PVPCI_XEN_PCI_OP_enable_msix)
		for (unsigned k = 0; k < o->n && k < PVPCI_SH_INFO_MAX_VEC; k++)
			assert_int_equal(op.msix_entries[k].vector, err ? 0x5a5a : IRQ0 + k);
	/* Hardware as the answers say: never both. */
	if (msi_on_in_hw(f) != m->msi || msix_on_in_hw(f) != m->msix)
		fail_msg("%s: after %s MSI %d MSI-X %d in hardware, want %d %d", path, o->name,
			 msi_on_in_hw(f), msix_on_in_hw(f), m->msi, m->msix);
	if (m->msi)
		assert_int_equal(fake_get(f, MSI + 2, 2) >> 4 & 7, log2_up(m->n));
	assert_int_equal(in_use(e), m->msi || m->msix ? m->n : 0);
	assert_int_equal(cs_rd(e->cs[0], MSI + 2, 2) & 1, m->msi);
	assert_int_equal(cs_rd(e->cs[0], MSIX + 2, 2) >> 15, m->msix);
	/* A refused or idle MSI op writes nothing. */
	if (o->cmd != PVPCI_XEN_PCI_OP_conf_write && !memcmp(&before, m, sizeof(*m)))
		assert_int_equal(f->nlog, nlog);
}

/*
 * Every sequence of four ops of the set that changes state (MSI, multi-
 * MSI, MSI-X, both disables, memory decode off and on through Command,
 * D3hot and D0 through PMCSR), and after each step every refused op
 * (counts 0, 16, 17, 33, 129, 0xffffffff; duplicate, out-of-table and
 * far entries): each answer is pciback's, MSI and MSI-X Enable in
 * hardware say what the answers said, never both, the interrupts handed
 * out match, and a refused op writes nothing.
 */
static void test_xsa157_msi_msix_sequences(void **state)
{
	static const struct seq_op steps[] = {
		{ "enable_msi", PVPCI_XEN_PCI_OP_enable_msi, 1, { 0 }, 0 },
		{ "enable_multi_msi 4", PVPCI_XEN_PCI_OP_enable_multi_msi, 4, { 0 }, 0 },
		{ "enable_msix {1, 15}", PVPCI_XEN_PCI_OP_enable_msix, 2, { 1, 15 }, 0 },
		{ "disable_msi", PVPCI_XEN_PCI_OP_disable_msi, 0, { 0 }, 0 },
		{ "disable_msix", PVPCI_XEN_PCI_OP_disable_msix, 0, { 0 }, 0 },
		{ "memory decode off", PVPCI_XEN_PCI_OP_conf_write, 0x0004, { 0 }, 4 },
		{ "memory decode on", PVPCI_XEN_PCI_OP_conf_write, 0x0006, { 0 }, 4 },
		{ "D3hot", PVPCI_XEN_PCI_OP_conf_write, 0x0003, { 0 }, PMCSR },
		{ "D0", PVPCI_XEN_PCI_OP_conf_write, 0x0000, { 0 }, PMCSR },
	};
	static const struct seq_op refused[] = {
		{ "enable_multi_msi 0", PVPCI_XEN_PCI_OP_enable_multi_msi, 0, { 0 }, 0 },
		{ "enable_multi_msi 16", PVPCI_XEN_PCI_OP_enable_multi_msi, 16, { 0 }, 0 },
		{ "enable_multi_msi 33", PVPCI_XEN_PCI_OP_enable_multi_msi, 33, { 0 }, 0 },
		{ "enable_multi_msi 129", PVPCI_XEN_PCI_OP_enable_multi_msi, 129, { 0 }, 0 },
		{ "enable_multi_msi 0xffffffff", PVPCI_XEN_PCI_OP_enable_multi_msi, 0xffffffffu, { 0 }, 0 },
		{ "enable_msix 0", PVPCI_XEN_PCI_OP_enable_msix, 0, { 0 }, 0 },
		{ "enable_msix 17", PVPCI_XEN_PCI_OP_enable_msix, 17, { 0 }, 0 },
		{ "enable_msix 129", PVPCI_XEN_PCI_OP_enable_msix, 129, { 0 }, 0 },
		{ "enable_msix 0xffffffff", PVPCI_XEN_PCI_OP_enable_msix, 0xffffffffu, { 0 }, 0 },
		{ "enable_msix {3, 3}", PVPCI_XEN_PCI_OP_enable_msix, 2, { 3, 3 }, 0 },
		{ "enable_msix {16}", PVPCI_XEN_PCI_OP_enable_msix, 1, { 16 }, 0 },
		{ "enable_msix {0, 0xffff}", PVPCI_XEN_PCI_OP_enable_msix, 2, { 0, 0xffff }, 0 },
	};
	const size_t ns = sizeof(steps) / sizeof(steps[0]);
	struct env_opts eo = { .change_a = pm_writable };

	(void)state;
	for (size_t seq = 0; seq < ns * ns * ns * ns; seq++) {
		struct env *e = env_new(PVPCI_TOPO_VPCI, &eo);
		struct model m = { .mem = true };
		char path[256] = "";
		size_t len = 0;

		assert_int_equal(conf(e, 0, PVPCI_XEN_PCI_OP_conf_write, 4, 2, 0x0006).err, 0);
		for (size_t i = 0, s = seq; i < 4; i++, s /= ns) {
			const struct seq_op *o = &steps[s % ns];

			len += (size_t)snprintf(path + len, sizeof(path) - len, "%s%s", i ? ", " : "", o->name);
			seq_step(e, &m, o, path);
			for (size_t r = 0; r < sizeof(refused) / sizeof(refused[0]); r++) {
				struct model same = m;

				seq_step(e, &m, &refused[r], path);
				assert_memory_equal(&same, &m, sizeof(m));
			}
		}
		env_free(e);
	}
}

/* ---- XSA-164: MSI-X entries never index past the table ---- */

static unsigned table_entries;

/* A's MSI-X with table_entries entries, the table in the 1M BAR 2. */
static void msix_table_in_bar2(struct fakedev *f)
{
	fake_put(f, MSIX + 2, 2, table_entries - 1);
	fake_put(f, MSIX + 4, 4, 0x00000002);
}

/*
 * Tables of 1, 16, 128 and 2048 entries: an entry is taken only when it
 * is below the table size found at bind, whatever the op's count, and
 * whatever the device says its table size is later; refused entries
 * change nothing in hardware and get no vector.
 */
static void test_xsa164_msix_entries_within_table(void **state)
{
	static const unsigned sizes[] = { 1, 16, 128, 2048 };
	struct env_opts eo = { .nirq = 256, .change_a = msix_table_in_bar2 };

	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		const unsigned t = sizes[s];
		const uint16_t probes[] = { (uint16_t)(t - 1), (uint16_t)t, (uint16_t)(t + 1), 0x7ff, 0x800,
					    0x7fff, 0xffff };
		struct env *e;
		uint16_t ent[PVPCI_SH_INFO_MAX_VEC];
		struct pvpci_op op;

		table_entries = t;
		e = env_new(PVPCI_TOPO_VPCI, &eo);
		for (size_t p = 0; p < sizeof(probes) / sizeof(probes[0]); p++) {
			bool inside = probes[p] < t;

			op = msix(e, 1, &probes[p], 1);
			assert_int_equal(op.err, inside ? 0 : -L_EINVAL);
			assert_int_equal(op.msix_entries[0].vector, inside ? IRQ0 : 0x5a5a);
			assert_int_equal(msix_on_in_hw(e->f[0]), inside);
			if (!inside)
				assert_int_equal(e->f[0]->nlog, 0);
			assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_disable_msix, 0, 0).err, 0);
			e->f[0]->nlog = 0;
			/* The same entry twice, after the last one of the table. */
			ent[0] = (uint16_t)(t - 1);
			ent[1] = probes[p];
			op = msix(e, 2, ent, 2);
			assert_int_equal(op.err, -L_EINVAL);
			assert_int_equal(e->f[0]->nlog, 0);
		}
		/* As many as the page carries, the last ones of the table. */
		for (unsigned k = 0; k < PVPCI_SH_INFO_MAX_VEC; k++)
			ent[k] = (uint16_t)(t > PVPCI_SH_INFO_MAX_VEC ? t - 1 - k : k);
		op = msix(e, PVPCI_SH_INFO_MAX_VEC, ent, PVPCI_SH_INFO_MAX_VEC);
		assert_int_equal(op.err, t >= PVPCI_SH_INFO_MAX_VEC ? 0 : -L_EINVAL);
		assert_int_equal(in_use(e), t >= PVPCI_SH_INFO_MAX_VEC ? PVPCI_SH_INFO_MAX_VEC : 0);
		assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_disable_msix, 0, 0).err, 0);
		/* The device claims the largest table now: not believed. */
		fake_put(e->f[0], MSIX + 2, 2, 0x07ff);
		ent[0] = (uint16_t)t;
		op = msix(e, 1, ent, 1);
		assert_int_equal(op.err, -L_EINVAL);
		assert_false(msix_on_in_hw(e->f[0]));
		env_free(e);
	}
}

/* ---- XSA-237: ops on functions not exported to this frontend ---- */

/* Every command at op's address (the rest of op as it is): dev_not_found,
 * value as sent. */
static void nobody_at(struct pvpci_pciif *p, struct pvpci_op op)
{
	static const uint32_t cmds[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0xffffffffu };

	for (size_t j = 0; j < sizeof(cmds) / sizeof(cmds[0]); j++) {
		struct pvpci_op o = op;

		o.cmd = cmds[j];
		pvpci_pciif_do_op(p, &o);
		assert_int_equal(o.err, PVPCI_ERR_dev_not_found);
		assert_int_equal(o.value, op.value);
	}
}

/*
 * Frontend 1 has A and B; frontend 2 has C (0000:04:00.0, at slot 9 in
 * vpci).  Every command, from each frontend, at the other's functions (by
 * guest and by host address), and at its own with high bits in domain,
 * bus or devfn that a truncation to the field's width would drop:
 * dev_not_found, value as sent, nothing reaches any function.  Once A is
 * unexported (with MSI on), its address finds nothing either.
 */
static void xsa237_ops_on_unexported_devices(enum pvpci_topo_mode mode)
{
	static const uint32_t high[][3] = {	/* domain, bus, devfn bits */
		{ 0x10000, 0, 0 }, { 0x80000000u, 0, 0 }, { 0, 0x100, 0 }, { 0, 0xffffff00u, 0 },
		{ 0, 0, 0x100 }, { 0, 0, 0x80000000u }, { 0xffffffffu, 0xffffffffu, 0xffffffffu },
	};
	struct env *e = env_new(mode, NULL);
	struct fakedev *c = fake_new(256);
	struct pvpci_pciif_cfg cfg = { .mode = mode, .domid = 8, .irq = &pvpci_irq_local_ops,
				       .irq_ctx = e->irq };
	struct pvpci_pciif *p2;
	struct pvpci_cs *ccs;
	struct pvpci_bdf gc;

	c->hd.bdf = (struct pvpci_bdf){ 0, 4, 0, 0 };
	ccs = cs_bind_with(c, &modes[0]);
	assert_int_equal(pvpci_pciif_new(&cfg, &p2), 0);
	assert_int_equal(pvpci_pciif_export(p2, &c->hd.bdf, mode != PVPCI_TOPO_PASSTHROUGH ? 9 : PVPCI_VSLOT_ANY,
					    ccs, &gc, NULL, 0), 0);
	nobody_at(e->p, op_at(&gc, 0));
	nobody_at(e->p, op_at(&c->hd.bdf, 0));
	for (int i = 0; i < 2; i++) {
		nobody_at(p2, op_at(&e->guest[i], 0));
		nobody_at(p2, op_at(&e->host[i], 0));
	}
	for (size_t h = 0; h < sizeof(high) / sizeof(high[0]); h++) {
		struct pvpci_op op = op_at(&e->guest[0], 0);

		op.domain |= high[h][0];
		op.bus |= high[h][1];
		op.devfn |= high[h][2];
		op.offset = 0;
		op.size = 4;
		nobody_at(e->p, op);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(e->f[i]->nlog + e->f[i]->nrlog, 0);
	assert_int_equal(c->nlog + c->nrlog, 0);
	assert_int_equal(in_use(e), 0);

	assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_enable_msi, 0, 0).err, 0);
	assert_int_equal(pvpci_pciif_unexport(e->p, &e->host[0]), 0);
	assert_false(msi_on_in_hw(e->f[0]));
	e->f[0]->nlog = e->f[0]->nrlog = 0;
	nobody_at(e->p, op_at(&e->guest[0], 0));
	nobody_at(e->p, op_at(&e->host[0], 0));
	assert_int_equal(e->f[0]->nlog + e->f[0]->nrlog, 0);
	assert_int_equal(in_use(e), 0);
	pvpci_pciif_free(p2);
	pvpci_cs_free(ccs);
	free(c);
	env_free(e);
}
EVERY_MODE(xsa237_ops_on_unexported_devices)

/* ---- XSA-332: an event flood, a frontend that never lets go ---- */

static void set_active(struct fakedev *f, bool write, unsigned off, unsigned size)
{
	struct pvpci_sharedinfo *sh = f->hook_ctx;

	(void)write;
	(void)off;
	(void)size;
	__atomic_fetch_or(&sh->flags, PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
}

/*
 * serve() does one op per call, whatever the frontend does to the flag:
 * nothing while it is clear, however often it is called; one op's device
 * accesses per call while the frontend sets it again after every answer
 * and during the op itself (pciback's clear_bit after the answer clears
 * that too).
 */
static void xsa332_serve(enum pvpci_topo_mode mode)
{
	struct env *e = env_new(mode, NULL);
	uint8_t *pg = page_new();
	struct pvpci_sharedinfo *sh = (void *)pg;
	struct fakedev *f = e->f[0];
	unsigned long r0, w0;

	sh_op(sh, &e->guest[0], PVPCI_XEN_PCI_OP_conf_write, 0x0c, 1, 0x20);
	sh->flags = 0;
	r0 = f->hd.n_reads;
	w0 = f->hd.n_writes;
	for (int k = 0; k < 100000; k++)
		assert_int_equal(pvpci_pciif_serve(e->p, sh), 0);
	assert_int_equal(f->hd.n_reads, r0);
	assert_int_equal(f->hd.n_writes, w0);

	f->on_access = set_active;
	f->hook_ctx = sh;
	for (int k = 0; k < 100000; k++) {
		sh->flags |= PVPCI_XEN_PCIF_active;
		assert_int_equal(pvpci_pciif_serve(e->p, sh), 1);
		assert_int_equal(f->hd.n_writes, w0 + (unsigned long)k + 1);
		assert_int_equal(f->hd.n_reads, r0);
		assert_int_equal(sh->flags, 0);
		assert_int_equal(sh->op.err, 0);
	}
	/* 128 MSI-X entries, refused (duplicates) after the one read it
	 * needs, over and over: one read a call, nothing written. */
	sh_op(sh, &e->guest[0], PVPCI_XEN_PCI_OP_enable_msix, 0, 0, PVPCI_SH_INFO_MAX_VEC);
	for (unsigned k = 0; k < PVPCI_SH_INFO_MAX_VEC; k++)
		sh->op.msix_entries[k].entry = (uint16_t)(k % 16);
	for (int k = 0; k < 1000; k++) {
		unsigned long r = f->hd.n_reads, w = f->hd.n_writes;

		sh->op.value = PVPCI_SH_INFO_MAX_VEC;
		sh->flags |= PVPCI_XEN_PCIF_active;
		assert_int_equal(pvpci_pciif_serve(e->p, sh), 1);
		assert_int_equal(sh->op.err, -L_EINVAL);
		assert_int_equal(f->hd.n_reads - r, 1);	/* Command, for memory decode */
		assert_int_equal(f->hd.n_writes, w);
	}
	f->on_access = NULL;
	free(pg);
	env_free(e);
}
EVERY_MODE(xsa332_serve)

/* A backend in this process, its host the fixtures' virtio-net
 * (0000:00:03.0, for domain 1) and virtio-blk (0000:00:02.0, domain 2). */
struct flood {
	char dir[64], sock[96], state[96];
	struct pvpci_host *host;
	struct pvpci_backend *b;
	struct pvpci_front *fe[2];
	int connected;
	size_t served[2];	/* ops the verbose log shows, by domain */
	unsigned poll_us;	/* the backend's */
};

static void flood_log(void *ctx, int level, const char *msg)
{
	struct flood *fl = ctx;

	if (level == PVPCI_LOG_DEBUG && strstr(msg, "read 4 bytes at 0x0 = "))
		fl->served[strstr(msg, "0000:00:03.0") ? 0 : 1]++;
}

static void *connect_both(void *arg)
{
	struct flood *fl = arg;
	struct pvpci_front_opts o = { .timeout_ms = 5000 };
	char err[256];

	for (unsigned d = 0; d < 2; d++)
		if (pvpci_front_connect(fl->sock, d + 1, &o, &fl->fe[d], err, sizeof(err)) < 0)
			fl->fe[d] = NULL;
	__atomic_store_n(&fl->connected, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void append_file(char **buf, size_t *len, const char *path)
{
	FILE *in = fopen(path, "r");
	char chunk[4096];
	size_t n;

	assert_non_null(in);
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0) {
		*buf = realloc(*buf, *len + n + 2);
		memcpy(*buf + *len, chunk, n);
		*len += n;
	}
	(*buf)[(*len)++] = '\n';
	fclose(in);
}

static void flood_start(struct flood *fl)
{
	const char *src = getenv("PVPCI_SRC") && *getenv("PVPCI_SRC") ? getenv("PVPCI_SRC") : PVPCI_SRC;
	static const char *const fixtures[] = { "virtio-net", "virtio-blk" };
	struct pvpci_backend_cfg bc = {
		.mode = PVPCI_TOPO_VPCI, .verbose = true, .log = flood_log, .log_ctx = fl,
		.dev = { .state_dir = fl->state }, .poll_us = fl->poll_us,
	};
	char err[512], path[512], *text = NULL;
	size_t len = 0;
	pthread_t thr;

	snprintf(fl->dir, sizeof(fl->dir), "/tmp/pvpci-xsa332-XXXXXX");
	assert_non_null(mkdtemp(fl->dir));
	snprintf(fl->sock, sizeof(fl->sock), "%s/sock", fl->dir);
	snprintf(fl->state, sizeof(fl->state), "%s/state", fl->dir);
	assert_int_equal(mkdir(fl->state, 0700), 0);
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/fixtures/%s.lspci", src, fixtures[i]);
		append_file(&text, &len, path);
	}
	if (pvpci_sim_host_from_text(text, len, &fl->host, err, sizeof(err)) < 0)
		fail_msg("sim host: %s", err);
	free(text);
	bc.host = fl->host;
	if (pvpci_backend_new(&bc, &fl->b, err, sizeof(err)) < 0 ||
	    pvpci_backend_export(fl->b, 1, &(struct pvpci_bdf){ 0, 0, 3, 0 }, PVPCI_VSLOT_ANY, false, NULL,
				 err, sizeof(err)) < 0 ||
	    pvpci_backend_export(fl->b, 2, &(struct pvpci_bdf){ 0, 0, 2, 0 }, PVPCI_VSLOT_ANY, false, NULL,
				 err, sizeof(err)) < 0 ||
	    pvpci_backend_listen(fl->b, fl->sock, err, sizeof(err)) < 0)
		fail_msg("backend: %s", err);
	assert_int_equal(pthread_create(&thr, NULL, connect_both, fl), 0);
	while (!__atomic_load_n(&fl->connected, __ATOMIC_ACQUIRE))
		assert_int_equal(pvpci_backend_run(fl->b, 10), 0);
	assert_int_equal(pthread_join(thr, NULL), 0);
	assert_non_null(fl->fe[0]);
	assert_non_null(fl->fe[1]);
	assert_int_equal(pvpci_backend_nfronts(fl->b), 2);
}

static void flood_stop(struct flood *fl)
{
	pvpci_front_close(fl->fe[0]);
	pvpci_front_close(fl->fe[1]);
	pvpci_backend_free(fl->b);
	pvpci_host_close(fl->host);
	unlink(fl->sock);
	assert_int_equal(rmdir(fl->state), 0);
	assert_int_equal(rmdir(fl->dir), 0);
}

/* Post a read of the IDs of the function at 00:00.0 (the only one
 * each domain has, in vpci) on d's page, without a kick. */
static struct pvpci_sharedinfo *post_read(struct flood *fl, int d)
{
	struct pvpci_sharedinfo *sh = pvpci_front_chan(fl->fe[d])->sh;

	sh_op(sh, &(struct pvpci_bdf){ 0, 0, 0, 0 }, PVPCI_XEN_PCI_OP_conf_read, 0, 4, 0);
	sh->op.err = 0x7777;
	__atomic_fetch_or(&sh->flags, PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
	return sh;
}

static bool backend_ready(struct flood *fl)
{
	struct pollfd p = { .fd = pvpci_backend_fd(fl->b), .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

/*
 * Domain 1 kicks 100000 times for one op and domain 2 kicks once: one
 * round of the loop answers each once; the kicks are gone after it (the
 * loop has nothing to do); an op posted without a kick waits for one (the
 * backend does not poll the flag: polling is off, and with it on only
 * right after an answer), and is answered at the next kick.
 */
static void test_xsa332_event_flood(void **state)
{
	struct flood fl = { .connected = 0 };
	struct pvpci_sharedinfo *sh1, *sh2;

	(void)state;
	test_xsa332_serve(state);

	flood_start(&fl);
	for (int k = 0; k < 100 && backend_ready(&fl); k++)
		assert_int_equal(pvpci_backend_dispatch(fl.b), 0);
	sh1 = post_read(&fl, 0);
	for (int k = 0; k < 100000; k++)
		assert_int_equal(pvpci_chan_notify(pvpci_front_chan(fl.fe[0])), 0);
	sh2 = post_read(&fl, 1);
	assert_int_equal(pvpci_chan_notify(pvpci_front_chan(fl.fe[1])), 0);
	assert_int_equal(pvpci_backend_dispatch(fl.b), 0);
	assert_int_equal(fl.served[0], 1);
	assert_int_equal(fl.served[1], 1);
	assert_int_equal(sh1->flags & PVPCI_XEN_PCIF_active, 0);
	assert_int_equal(sh2->flags & PVPCI_XEN_PCIF_active, 0);
	assert_int_equal(sh1->op.err, 0);
	assert_int_equal(sh1->op.value, 0x10411af4);	/* virtio-net */
	assert_int_equal(sh2->op.err, 0);
	assert_int_equal(sh2->op.value, 0x10421af4);	/* virtio-blk */
	assert_false(backend_ready(&fl));

	/* The flag set again, no kick: nothing happens. */
	post_read(&fl, 0);
	for (int k = 0; k < 100; k++)
		assert_int_equal(pvpci_backend_dispatch(fl.b), 0);
	assert_int_equal(fl.served[0], 1);
	assert_int_equal(sh1->op.err, 0x7777);
	assert_int_equal(pvpci_chan_notify(pvpci_front_chan(fl.fe[0])), 0);
	assert_int_equal(pvpci_backend_dispatch(fl.b), 0);
	assert_int_equal(fl.served[0], 2);
	assert_int_equal(sh1->op.err, 0);
	flood_stop(&fl);
}

/* Domain 1's frontend, posting a read again whenever the last is
 * answered, without a kick, until told to stop. */
struct reposter {
	struct flood *fl;
	atomic_bool stop;
};

static void *repost(void *arg)
{
	struct reposter *r = arg;
	struct pvpci_sharedinfo *sh = pvpci_front_chan(r->fl->fe[0])->sh;

	while (!atomic_load(&r->stop))
		if (!(__atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE) & PVPCI_XEN_PCIF_active))
			post_read(r->fl, 0);
	return NULL;
}

/*
 * With polling (the backend watches a page a while after each answer): a
 * frontend that posts its next op the moment the last is answered gets
 * at most PVPCI_BACKEND_POLL_OPS ops a turn, and the other domain's op,
 * kicked at the same time, is answered in the same round of the loop.
 * Without the limit the round never ends (the test's time limit fails).
 */
static void test_xsa332_poll_flood(void **state)
{
	struct flood fl = { .connected = 0, .poll_us = 1000000 };
	struct reposter r = { .fl = &fl };
	struct pvpci_sharedinfo *sh2;
	pthread_t thr;

	(void)state;
	flood_start(&fl);
	for (int k = 0; k < 100 && backend_ready(&fl); k++)
		assert_int_equal(pvpci_backend_dispatch(fl.b), 0);
	post_read(&fl, 0);
	assert_int_equal(pvpci_chan_notify(pvpci_front_chan(fl.fe[0])), 0);
	sh2 = post_read(&fl, 1);
	assert_int_equal(pvpci_chan_notify(pvpci_front_chan(fl.fe[1])), 0);
	atomic_init(&r.stop, false);
	assert_int_equal(pthread_create(&thr, NULL, repost, &r), 0);
	assert_int_equal(pvpci_backend_dispatch(fl.b), 0);
	atomic_store(&r.stop, true);
	assert_int_equal(pthread_join(thr, NULL), 0);
	assert_int_equal(fl.served[1], 1);
	assert_int_equal(sh2->op.value, 0x10421af4);	/* virtio-blk */
	assert_true(fl.served[0] >= 1);
	assert_true(fl.served[0] <= PVPCI_BACKEND_POLL_OPS);
	flood_stop(&fl);
}

/* ---- XSA-337: where the MSI-X table is, never re-read ---- */

/*
 * After bind, the guest sizes and moves every BAR and writes the MSI-X
 * Table and PBA registers, the device itself changes them and loses its
 * BAR 0, and MSI-X is enabled and disabled: the geometry is the one found
 * at bind, the Table/PBA registers and the BARs are never read from the
 * device again, nothing is written to the BARs, and the guest reads the
 * bind-time values.
 */
static void xsa337_msix_table_location_not_reread(enum pvpci_topo_mode mode)
{
	static const uint16_t ent[] = { 0, 15 }, past[] = { 16 };
	struct env *e = env_new(mode, NULL);
	struct fakedev *f = e->f[0];
	struct cs_msix_geom g;

	f->nrlog = 0;
	for (unsigned off = 0x10; off <= 0x30; off += 4) {
		if (off > 0x24 && off < 0x30)
			continue;
		cs_wr(e->cs[0], off, 4, 0xffffffff);
		cs_rd(e->cs[0], off, 4);
		cs_wr(e->cs[0], off, 4, 0x12340000);
	}
	cs_wr(e->cs[0], MSIX + 4, 4, 0xffffffff);
	cs_wr(e->cs[0], MSIX + 8, 4, 0x00100003);
	fake_put(f, MSIX + 4, 4, 0x00000803);
	fake_put(f, MSIX + 8, 4, 0xfffffff8);
	fake_put(f, MSIX + 2, 2, 0x07ff);
	fake_put(f, 0x10, 4, 0);
	assert_int_equal(msix(e, 2, ent, 2).err, 0);
	assert_int_equal(msix_on_in_hw(f), true);
	assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_disable_msix, 0, 0).err, 0);
	assert_int_equal(msix(e, 1, past, 1).err, -L_EINVAL);
	for (unsigned off = 0; off < 256; off += 4)
		conf(e, 0, PVPCI_XEN_PCI_OP_conf_read, (int32_t)off, 4, 0);
	assert_int_equal(cs_msix_geometry(e->cs[0], &g), 0);
	assert_int_equal(g.entries, 16);
	assert_int_equal(g.table_bir, 0);
	assert_int_equal(g.table_off, 0);
	assert_int_equal(g.pba_bir, 0);
	assert_int_equal(g.pba_off, 0x800);
	assert_int_equal(fake_reads_of(f, MSIX + 4, 8), 0);
	assert_int_equal(fake_reads_of(f, 0x10, 0x18), 0);
	assert_int_equal(fake_reads_of(f, 0x30, 4), 0);
	assert_int_equal(fake_writes_to(f, 0x10, 0x18), 0);
	assert_int_equal(fake_writes_to(f, 0x30, 4), 0);
	assert_int_equal(cs_rd(e->cs[0], MSIX + 4, 4), 0x00000000);
	assert_int_equal(cs_rd(e->cs[0], MSIX + 8, 4), 0x00000800);
	assert_int_equal(cs_rd(e->cs[0], 0x10, 4), 0xfeb00000);
	env_free(e);
}
EVERY_MODE(xsa337_msix_table_location_not_reread)

/* ---- malformed accesses ---- */

static void express(struct fakedev *f)
{
	f->hd.cfg_size = 4096;
}

/*
 * Sizes 0, 3, 5, 8, -1, INT_MAX and INT_MIN, misaligned and negative
 * offsets, offsets past 0xff on a conventional function and past 0xfff on
 * an express one, through the protocol: invalid_offset, value 0 for a
 * read, and no device access; the good ones next to them: success, one
 * read of the guest's width.
 */
static void test_bad_sizes_and_offsets(void **state)
{
	static const struct { int32_t off, size; int err_conv, err_exp; } cases[] = {
		{ 0, 0, -2, -2 }, { 0, 3, -2, -2 }, { 0, 5, -2, -2 }, { 0, 8, -2, -2 },
		{ 0, -1, -2, -2 }, { 0, INT_MAX, -2, -2 }, { 0, INT_MIN, -2, -2 },
		{ 1, 2, -2, -2 }, { 2, 4, -2, -2 }, { 3, 4, -2, -2 }, { 0xfd, 2, -2, -2 },
		{ 0xfff, 2, -2, -2 },
		{ -1, 1, -2, -2 }, { -2, 2, -2, -2 }, { -4, 4, -2, -2 }, { INT_MIN, 4, -2, -2 },
		{ INT_MIN, 1, -2, -2 }, { -0x100, 4, -2, -2 },
		{ 0xff, 1, 0, 0 }, { 0xfe, 2, 0, 0 }, { 0xfc, 4, 0, 0 },
		{ 0x100, 1, -2, 0 }, { 0x100, 4, -2, 0 }, { 0xfff, 1, -2, 0 }, { 0xffc, 4, -2, 0 },
		{ 0x1000, 1, -2, -2 }, { 0x1000, 4, -2, -2 }, { 0x7ffffffc, 4, -2, -2 },
		{ INT_MAX, 1, -2, -2 },
	};
	struct env_opts eo = { .change_a = express };

	(void)state;
	for (int x = 0; x < 2; x++) {
		struct env *e = env_new(PVPCI_TOPO_VPCI, x ? &eo : NULL);
		struct fakedev *f = e->f[0];

		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
			int want = x ? cases[k].err_exp : cases[k].err_conv;
			struct pvpci_op op;

			f->nlog = f->nrlog = 0;
			op = conf(e, 0, PVPCI_XEN_PCI_OP_conf_read, cases[k].off, cases[k].size, 0x1234);
			if (op.err != want)
				fail_msg("%s: read at %d size %d answered %d, want %d", x ? "express" : "conventional",
					 cases[k].off, cases[k].size, op.err, want);
			assert_int_equal(op.value, want ? 0 : fake_get(f, (unsigned)cases[k].off,
								       (unsigned)cases[k].size));
			assert_int_equal(f->nrlog, !want);
			if (!want)
				assert_int_equal(f->rlog[0].size, cases[k].size);
			op = conf(e, 0, PVPCI_XEN_PCI_OP_conf_write, cases[k].off, cases[k].size, 0xffffffff);
			assert_int_equal(op.err, want);
			assert_int_equal(f->nlog, 0);	/* the good ones are unhandled bytes */
			assert_int_equal(f->nrlog, !want);
		}
		env_free(e);
	}
}

/* A BAR register as the guest sees it. */
struct bar_view {
	unsigned off;
	uint32_t orig, len, ro;	/* the host's address, the size mask, read-only bits */
	bool rom;
};

struct bar_sweep {
	struct pvpci_cs *cs;
	const struct bar_view *r;
};

/* A write of v, then of the original bytes: the guest reads the size mask
 * exactly when its register holds all ones in the address bits, else the
 * original address; the ROM BAR with the guest's own enable bit. */
static void bar_write(void *ctx, unsigned off, unsigned size, uint32_t v)
{
	const struct bar_sweep *b = ctx;
	const struct bar_view *r = b->r;
	uint32_t addr = r->rom ? 0xfffff800u : 0xffffffffu;

	for (int again = 0; again < 2; again++) {
		uint32_t wm, g = bytes_of(r->off, off, size, v, &wm), cur = cs_rd(b->cs, r->off, 4);
		uint32_t merged = (cur & ~wm) | g;
		uint32_t want = ((merged | r->ro) & addr) == addr ? r->len : r->orig;

		if (r->rom)
			want = (want & ~1u) | (merged & 1);
		assert_int_equal(pvpci_cs_write(b->cs, off, size, v), PVPCI_ERR_success);
		if (cs_rd(b->cs, r->off, 4) != want)
			fail_msg("BAR at 0x%x: write 0x%x size %u of 0x%x over 0x%x reads 0x%x, want 0x%x",
				 r->off, off, size, v, cur, cs_rd(b->cs, r->off, 4), want);
		v = r->orig >> 8 * (off - r->off) & size_mask(size);
	}
}

/*
 * Every width at every offset of the six BARs and the ROM BAR, each value
 * and the original after it, strict and permissive: nothing reaches the
 * device, and the guest reads what bar_write says.
 */
static void test_bar_and_rom_writes_every_width(void **state)
{
	static const struct bar_view bars[] = {
		{ 0x10, 0xfeb00000, 0xfffff000, 0xf, false },
		{ 0x14, 0, 0, 0xffffffff, false },		/* unused */
		{ 0x18, 0x0000000c, 0xfff0000c, 0xf, false },	/* 64-bit, low */
		{ 0x1c, 0x00000002, 0xffffffff, 0, false },	/* 64-bit, high */
		{ 0x20, 0x0000c001, 0xffffffe1, 0x3, false },	/* I/O */
		{ 0x24, 0, 0, 0xffffffff, false },
		{ 0x30, 0xfe000000, 0xffff0000, 0x7fe, true },
	};
	uint32_t seed = 33;

	(void)state;
	for (int permissive = 0; permissive < 2; permissive++) {
		struct fakedev *f = fake_new(256);
		struct bar_sweep b = { cs_bind_with(f, &modes[permissive]), NULL };
		uint8_t hw[64];

		memcpy(hw, f->cfg, 64);
		for (size_t k = 0; k < sizeof(bars) / sizeof(bars[0]); k++) {
			b.r = &bars[k];
			sweep(bars[k].off, bars[k].off + 4, &seed, bar_write, &b);
		}
		assert_int_equal(f->nlog, 0);
		assert_memory_equal(f->cfg, hw, 64);
		pvpci_cs_free(b.cs);
		free(f);
	}
}

/*
 * The guest puts A in D3hot: enable_msix is refused as Linux refuses it
 * (-EINVAL: not in D0) and enable_msi fails, with nothing written; back
 * in D0 both work.  MSI-X on, then D3hot: disabling still works.
 */
static void test_pm_d3hot_then_msix_enable(void **state)
{
	static const uint16_t ent[] = { 0 };
	struct env_opts eo = { .change_a = pm_writable };
	struct env *e = env_new(PVPCI_TOPO_VPCI, &eo);
	struct fakedev *f = e->f[0];
	struct pvpci_op op;

	(void)state;
	assert_int_equal(conf(e, 0, PVPCI_XEN_PCI_OP_conf_write, PMCSR, 2, 0x0003).err, 0);
	assert_int_equal(fake_get(f, PMCSR, 2) & 3, 3);
	f->nlog = 0;
	op = msix(e, 1, ent, 1);
	assert_int_equal(op.err, -L_EINVAL);
	assert_int_equal(op.value, (uint32_t)-L_EINVAL);
	op = run(e, 0, PVPCI_XEN_PCI_OP_enable_msi, 0, 0);
	assert_int_equal(op.err, PVPCI_ERR_op_failed);
	assert_int_equal(op.value, 0);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(in_use(e), 0);
	assert_true(logged(4, "0000:03:00.0: error enabling MSI-X for guest 7: err -22"));
	assert_true(logged(4, "0000:03:00.0: error enabling MSI for guest 7: err -22"));

	assert_int_equal(conf(e, 0, PVPCI_XEN_PCI_OP_conf_write, PMCSR, 2, 0x0000).err, 0);
	assert_int_equal(msix(e, 1, ent, 1).err, 0);
	assert_int_equal(conf(e, 0, PVPCI_XEN_PCI_OP_conf_write, PMCSR, 2, 0x0003).err, 0);
	assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_disable_msix, 0, 0).err, 0);
	assert_false(msix_on_in_hw(f));
	env_free(e);
}

/* A's vendor capability made VPD, whose address and data registers the
 * device takes whole. */
static void vpd_instead_of_vendor(struct fakedev *f)
{
	f->cfg[VNDR] = 0x03;
	f->cfg[VNDR + 2] = 0;
	fake_wmask(f, VNDR + 2, 2, 0xffff);
	fake_wmask(f, VNDR + 4, 4, 0xffffffff);
}

/*
 * VPD write requests (the F flag set in the address) at each width that
 * covers it, through the protocol, strict and permissive: access_denied
 * and nothing written; the data half dropped; a read request goes through.
 */
static void test_vpd_write_requests(void **state)
{
	static const struct { int32_t off, size; uint32_t v; int err; } cases[] = {
		{ VNDR + 2, 2, 0x8010, PVPCI_ERR_access_denied },
		{ VNDR + 3, 1, 0x80, PVPCI_ERR_access_denied },
		{ VNDR, 4, 0x80100000, PVPCI_ERR_access_denied },
		{ VNDR, 4, 0xffffffff, PVPCI_ERR_access_denied },
		{ VNDR + 4, 4, 0xdeadbeef, PVPCI_ERR_success },	/* data: dropped */
		{ VNDR + 6, 2, 0xbeef, PVPCI_ERR_success },
	};

	(void)state;
	for (int permissive = 0; permissive < 2; permissive++) {
		struct env_opts eo = { .cs = modes[permissive], .change_a = vpd_instead_of_vendor };
		struct env *e = env_new(PVPCI_TOPO_VPCI, &eo);
		struct fakedev *f = e->f[0];

		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
			assert_int_equal(conf(e, 0, PVPCI_XEN_PCI_OP_conf_write, cases[k].off, cases[k].size,
					      cases[k].v).err, cases[k].err);
		assert_int_equal(f->nlog, 0);
		assert_int_equal(conf(e, 0, PVPCI_XEN_PCI_OP_conf_write, VNDR + 2, 2, 0x0010).err, 0);
		assert_int_equal(f->nlog, 1);
		assert_int_equal(fake_count_write(f, VNDR + 2, 2, 0x0010), 1);
		env_free(e);
	}
}

/* A, with AER (0x100) -> DSN (0x180, hidden) -> VSEC (0x140) in extended
 * space, every byte past the header writable by the device. */
static void with_extended_caps(struct fakedev *f)
{
	f->hd.cfg_size = 4096;
	fake_ext_cap(f, 0x100, 0x0001, 2, 0x180);
	fake_ext_cap(f, 0x180, 0x0003, 1, 0x140);
	fake_ext_cap(f, 0x140, 0x000b, 1, 0);
	fake_put(f, 0x144, 4, 0x01000001);	/* VSEC ID 1, revision 0, 16 bytes */
	for (unsigned o = 0x40; o < 4096; o++)
		f->hw_wmask[o] = 0xff;
}

struct header_sweep {
	struct fakedev *f;
	struct pvpci_cs *cs;
	unsigned off, len;	/* ID and next: 2 bytes; extended: 4 */
};

static void header_write(void *ctx, unsigned off, unsigned size, uint32_t v)
{
	const struct header_sweep *h = ctx;
	uint32_t seen = cs_rd(h->cs, h->off, h->len);

	assert_int_equal(pvpci_cs_write(h->cs, off, size, v), PVPCI_ERR_success);
	assert_int_equal(fake_writes_to(h->f, h->off, h->len), 0);
	assert_int_equal(cs_rd(h->cs, h->off, h->len), seen);
}

/*
 * The ID and next bytes of every capability and the header dwords of the
 * extended ones, visible or hidden, at every width, strict and
 * permissive: none of their bytes is written, and the guest reads them
 * as before.
 */
static void test_capability_id_next_writes(void **state)
{
	static const struct { unsigned off, len; } hdrs[] = {
		{ PM, 2 }, { MSI, 2 }, { MSIX, 2 }, { VNDR, 2 }, { 0x100, 4 }, { 0x140, 4 }, { 0x180, 4 },
	};
	uint32_t seed = 9;

	(void)state;
	for (int permissive = 0; permissive < 2; permissive++) {
		struct header_sweep h = { dev_a(), NULL, 0, 0 };

		with_extended_caps(h.f);
		h.cs = cs_bind_with(h.f, &modes[permissive]);
		for (size_t k = 0; k < sizeof(hdrs) / sizeof(hdrs[0]); k++) {
			h.off = hdrs[k].off;
			h.len = hdrs[k].len;
			sweep(h.off, h.off + h.len, &seed, header_write, &h);
		}
		pvpci_cs_free(h.cs);
		free(h.f);
	}
}

/* The guest's walk of a chain, bounded: the offsets visited. */
static size_t walk(struct pvpci_cs *cs, bool ext, unsigned *out, size_t max)
{
	unsigned p = ext ? 0x100 : cs_rd(cs, 0x34, 1) & 0xfc;
	size_t n = 0;

	while (p && n < max) {
		uint32_t h = cs_rd(cs, p, ext ? 4 : 2);

		if (ext && !h)
			break;
		out[n++] = p;
		p = ext ? h >> 20 : (h >> 8) & 0xfc;
	}
	if (n == max)
		fail_msg("the guest's walk of the %s chain does not end", ext ? "extended" : "standard");
	return n;
}

/*
 * Chains that loop in the device itself, and a device that makes its
 * chain loop after bind: bind cuts them where they go back and says so;
 * the guest's walk ends, on the bind-time chain.
 */
static void test_looping_capability_chains(void **state)
{
	unsigned seen[1024];
	struct fakedev *f;
	struct pvpci_cs *cs;

	(void)state;
	/* Every dword slot a vendor capability, the last back to the first. */
	f = fake_new(256);
	for (unsigned o = 0x40; o < 0x100; o += 4) {
		fake_cap(f, o, 0x09, (uint8_t)(o + 4 < 0x100 ? o + 4 : 0x40));
		f->cfg[o + 2] = 4;
	}
	cs = cs_bind_with(f, &modes[0]);
	assert_string_equal(pvpci_cs_chain_note(cs), "capability chain loops back to 0x40; cut after 48 entries");
	assert_int_equal(walk(cs, false, seen, 1024), 48);
	assert_int_equal(seen[47], 0xfc);
	/* The device rewires every pointer to 0x40 now: the guest walks on. */
	for (unsigned o = 0x40; o < 0x100; o += 4)
		f->cfg[o + 1] = 0x40;
	assert_int_equal(walk(cs, false, seen, 1024), 48);
	pvpci_cs_free(cs);
	free(f);

	/* 0x40 -> 0x50 -> 0x60 -> back to 0x50. */
	f = fake_new(256);
	fake_cap(f, 0x40, 0x01, 0x50);
	fake_cap(f, 0x50, 0x05, 0x60);
	fake_cap(f, 0x60, 0x09, 0x50);
	f->cfg[0x62] = 4;
	cs = cs_bind_with(f, &modes[0]);
	assert_string_equal(pvpci_cs_chain_note(cs), "capability chain loops back to 0x50; cut after 3 entries");
	assert_int_equal(walk(cs, false, seen, 1024), 3);
	assert_int_equal(cs_rd(cs, 0x61, 1), 0);
	pvpci_cs_free(cs);
	free(f);

	/* Extended: a ring through every dword slot, and a ring of two. */
	f = fake_new(4096);
	for (unsigned o = 0x100; o < 0x1000; o += 4)
		fake_ext_cap(f, o, 0x0003, 1, o + 4 < 0x1000 ? o + 4 : 0x100);
	cs = cs_bind_with(f, &modes[0]);
	assert_string_equal(pvpci_cs_chain_note(cs),
			    "extended capability chain loops back to 0x100; cut after 960 entries");
	assert_int_equal(walk(cs, true, seen, 1024), 0);	/* all hidden */
	pvpci_cs_free(cs);
	free(f);

	f = fake_new(4096);
	fake_ext_cap(f, 0x100, 0x0001, 2, 0x140);
	fake_ext_cap(f, 0x140, 0x000b, 1, 0x100);
	fake_put(f, 0x144, 4, 0x01000001);
	cs = cs_bind_with(f, &modes[0]);
	assert_string_equal(pvpci_cs_chain_note(cs),
			    "extended capability chain loops back to 0x100; cut after 2 entries");
	assert_int_equal(walk(cs, true, seen, 1024), 2);
	fake_ext_cap(f, 0x140, 0x000b, 1, 0x140);	/* the device loops it on itself */
	assert_int_equal(walk(cs, true, seen, 1024), 2);
	assert_int_equal(cs_rd(cs, 0x140, 4) >> 20, 0);
	pvpci_cs_free(cs);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xsa120_126_command_register),
		cmocka_unit_test(test_xsa128_129_msi_never_reaches_device),
		cmocka_unit_test(test_xsa131_unknown_fields_readonly_unless_permissive),
		cmocka_unit_test(test_xsa155_double_fetch),
		cmocka_unit_test(test_xsa157_msi_msix_sequences),
		cmocka_unit_test(test_xsa164_msix_entries_within_table),
		cmocka_unit_test(test_xsa237_ops_on_unexported_devices),
		cmocka_unit_test(test_xsa332_event_flood),
		cmocka_unit_test(test_xsa332_poll_flood),
		cmocka_unit_test(test_xsa337_msix_table_location_not_reread),
		cmocka_unit_test(test_bad_sizes_and_offsets),
		cmocka_unit_test(test_bar_and_rom_writes_every_width),
		cmocka_unit_test(test_pm_d3hot_then_msix_enable),
		cmocka_unit_test(test_vpd_write_requests),
		cmocka_unit_test(test_capability_id_next_writes),
		cmocka_unit_test(test_looping_capability_chains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
