/*
 * Save and restore (seed 000) against the recording fake device: the
 * register set found on the function, save -> a guest scribbling over
 * every byte it may through the engine -> restore giving back the saved
 * bytes; D3hot -> D0 first, MSI and MSI-X off, reset modes, the order of
 * writes, refusing a foreign or reshaped function; the text form round
 * trip and every way a text can be corrupt; and the state files (atomic
 * replace, set aside, listed, the torn temporaries of dead saves swept).
 */
/* The texts built here fit their buffers; an optimizing build cannot see
 * that and would fail -Werror on every snprintf of a text into another. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "textutil.h"

#include "pvpci/saverestore.h"
#include "pvpci/statefile.h"
#include "cs_internal.h"
#include "fakedev.h"
#include "fake_sysfs.h"

/*
 * fakedev's endpoint (BARs 0, 2/3, 4, ROM) with PM at 0x40, a PCI Express
 * capability at 0x50 (version v) and, when aer, AER at 0x100; every
 * register of the set holds a distinct value and is writable in
 * "hardware" as real devices have them.
 */
static struct fakedev *pcie_dev(unsigned v, bool aer)
{
	struct fakedev *f = fake_new(4096);

	fake_put(f, 0x04, 2, 0x0146);		/* memory, master, parity, SERR */
	fake_put(f, 0x0c, 2, 0x4010);		/* latency 0x40, cache line 0x10 */
	fake_cap(f, 0x40, 0x01, 0x50);
	fake_put(f, 0x42, 2, 0x0003);
	fake_put(f, 0x44, 2, 0x0008);		/* D0, No_Soft_Reset */
	fake_wmask(f, 0x44, 2, 0x0103);
	f->hw_rw1c[0x45] = 0x80;		/* PME_Status */
	fake_cap(f, 0x50, 0x10, 0x00);
	fake_put(f, 0x52, 2, (uint16_t)v);	/* endpoint, version v */
	fake_put(f, 0x54, 4, 0x10008fc0);	/* DevCap: FLR */
	fake_put(f, 0x58, 2, 0x2817);
	fake_wmask(f, 0x58, 2, 0xffff);
	fake_put(f, 0x60, 2, 0x0042);
	fake_wmask(f, 0x60, 2, 0x0fff);
	fake_put(f, 0x78, 2, 0x0415);
	fake_wmask(f, 0x78, 2, 0xffff);
	fake_put(f, 0x80, 2, 0x0023);
	fake_wmask(f, 0x80, 2, 0xffff);
	if (aer) {
		fake_put(f, 0x100, 4, 0x00010001);
		fake_put(f, 0x108, 4, 0x00400000);
		fake_put(f, 0x10c, 4, 0x00462030);
		fake_put(f, 0x114, 4, 0x00002000);
		fake_put(f, 0x118, 4, 0x000001e0);	/* ECRC capable, both enabled */
		fake_wmask(f, 0x108, 4, 0x03fff030);
		fake_wmask(f, 0x10c, 4, 0x03fff030);
		fake_wmask(f, 0x114, 4, 0x0000f1c1);
		fake_wmask(f, 0x118, 4, 0x00000540);
	}
	return f;
}

static void save_ok(struct fakedev *f, struct pvpci_sr_state *st)
{
	char err[256] = "";

	if (pvpci_sr_save(&f->hd, st, err, sizeof(err)) != 0)
		fail_msg("save: %s", err);
}

static int restore(struct fakedev *f, const struct pvpci_sr_state *st, enum pvpci_sr_reset mode,
		   char *err, size_t len)
{
	struct pvpci_sr_opts o = { .reset = mode };

	return pvpci_sr_restore(&f->hd, st, &o, err, len);
}

static void restore_ok(struct fakedev *f, const struct pvpci_sr_state *st, enum pvpci_sr_reset mode)
{
	char err[256] = "";

	if (restore(f, st, mode, err, sizeof(err)) != 0)
		fail_msg("restore: %s", err);
}

/* Every register of st, as the device has it now, equals the saved bits. */
static void assert_restored(const struct fakedev *f, const struct pvpci_sr_state *st)
{
	for (unsigned i = 0; i < st->nregs; i++) {
		const struct pvpci_sr_reg *g = &st->regs[i];
		uint32_t now = fake_get(f, g->off, g->size);

		if ((now & g->mask) != (g->val & g->mask))
			fail_msg("%s at 0x%x: 0x%x after restore, saved 0x%x (mask 0x%x)", g->key, g->off,
				 now, g->val, g->mask);
	}
}

static void test_register_set(void **state)
{
	static const char *const v2[] = {
		"bar0", "bar1", "bar2", "bar3", "bar4", "bar5", "rom", "cacheline", "latency",
		"devctl", "lnkctl", "devctl2", "lnkctl2", "aer-uncor-mask", "aer-uncor-sev",
		"aer-cor-mask", "aer-capctl", "command",
	};
	static const uint16_t v2_off[] = {
		0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x30, 0x0c, 0x0d, 0x58, 0x60, 0x78, 0x80,
		0x108, 0x10c, 0x114, 0x118, 0x04,
	};
	struct fakedev *f = pcie_dev(2, true);
	struct pvpci_sr_state st;

	(void)state;
	save_ok(f, &st);
	assert_int_equal(st.nregs, 18);
	for (unsigned i = 0; i < st.nregs; i++) {
		assert_string_equal(st.regs[i].key, v2[i]);
		assert_int_equal(st.regs[i].off, v2_off[i]);
		assert_int_equal(st.regs[i].val, fake_get(f, st.regs[i].off, st.regs[i].size));
	}
	assert_int_equal(st.regs[9].mask, 0x7fff);	/* never Initiate FLR */
	assert_int_equal(st.regs[10].mask, 0xffdf);	/* never Retrain Link */
	assert_int_equal(st.regs[16].mask, 0x540);
	assert_int_equal(st.regs[17].mask, 0x0140);	/* SERR and PERR only */
	assert_int_equal(st.vendor, 0x1234);
	assert_int_equal(st.device, 0x5678);
	assert_int_equal(st.subvendor, 0x1af4);
	assert_int_equal(st.subdevice, 0xabcd);
	assert_int_equal(f->nlog, 0);	/* save only reads */
	free(f);

	/* Version 1: no *2 registers; no AER: none of its four. */
	f = pcie_dev(1, false);
	save_ok(f, &st);
	assert_int_equal(st.nregs, 12);
	assert_string_equal(st.regs[10].key, "lnkctl");
	assert_string_equal(st.regs[11].key, "command");
	free(f);

	/* Conventional PCI: the header's ten. */
	f = fake_new(256);
	save_ok(f, &st);
	assert_int_equal(st.nregs, 10);
	free(f);
}

static void test_odd_functions(void **state)
{
	struct fakedev *f = pcie_dev(2, true);
	struct pvpci_sr_state st = { .nregs = 77 };
	char err[256] = "";

	(void)state;
	/* A looping chain ends; what it never reaches is not in the set. */
	f->cfg[0x51] = 0x40;
	f->cfg[0x50] = 0x07;
	save_ok(f, &st);
	assert_int_equal(st.nregs, 14);	/* header and AER */
	fake_put(f, 0x100, 4, 0x10010001);	/* AER pointing at itself */
	save_ok(f, &st);
	assert_int_equal(st.nregs, 14);
	free(f);

	f = fake_new(256);
	f->cfg[0x0e] = 0x01;
	st.nregs = 77;
	assert_int_equal(pvpci_sr_save(&f->hd, &st, err, sizeof(err)), -EOPNOTSUPP);
	assert_string_equal(err, "0000:03:00.0: header type 1: only endpoint functions (type 0) are "
				 "saved and restored");
	assert_int_equal(st.nregs, 77);	/* untouched */
	fake_put(f, 0x00, 2, 0xffff);
	assert_int_equal(pvpci_sr_save(&f->hd, &st, err, sizeof(err)), -ENODEV);
	free(f);
}

/* Every access a guest can make, with patterns, through the engine. */
static void scribble(struct fakedev *f)
{
	static const uint32_t patterns[] = { 0xffffffffu, 0x5a5aa5a5u, 0 };
	struct pvpci_cs_opts o = { .permissive = true, .allow_interrupt_control = true };
	struct pvpci_cs *cs = NULL;
	char err[256];

	assert_int_equal(pvpci_cs_new(&f->hd, &o, &cs, err, sizeof(err)), 0);
	for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++)
		for (unsigned size = 1; size <= 4; size *= 2)
			for (unsigned off = 0; off < f->hd.cfg_size; off += size)
				pvpci_cs_write(cs, off, size, patterns[p] & size_mask(size));
	pvpci_cs_free(cs);
}

static void test_guest_scribbles_then_restore(void **state)
{
	struct fakedev *f = pcie_dev(2, true);
	struct pvpci_sr_state st;
	unsigned changed = 0, resets;

	(void)state;
	save_ok(f, &st);
	scribble(f);
	resets = f->resets;	/* the guest may have reset it too (FLR) */
	for (unsigned i = 0; i < st.nregs; i++)
		changed += (fake_get(f, st.regs[i].off, st.regs[i].size) & st.regs[i].mask) !=
			   (st.regs[i].val & st.regs[i].mask);
	/* Permissive, the guest reaches cache line, latency and the PCIe and
	 * AER controls at least (whatever their handlers allow). */
	assert_true(changed >= 2);
	f->nlog = 0;
	restore_ok(f, &st, PVPCI_SR_RESET_REQUIRED);
	assert_int_equal(f->resets, resets + 1);
	assert_restored(f, &st);
	free(f);
}

static void test_lost_state_and_d3hot(void **state)
{
	struct fakedev *f = pcie_dev(2, true);
	struct pvpci_sr_state st;

	(void)state;
	save_ok(f, &st);
	scribble(f);
	/* What a reset does to a function: every writable bit back to 0... */
	for (unsigned b = 0; b < 4096; b++)
		f->cfg[b] &= (uint8_t)~f->hw_wmask[b];
	/* ...and then it is put in D3hot, with a wake event pending. */
	fake_put(f, 0x44, 2, 0x800b);
	restore_ok(f, &st, PVPCI_SR_RESET_IF_AVAILABLE);
	assert_restored(f, &st);
	assert_int_equal(fake_get(f, 0x44, 2) & 3, 0);		/* D0 */
	assert_int_equal(fake_get(f, 0x44, 2) & 0x8000, 0x8000);	/* PME_Status kept */
	/* Decode was off after the "reset": restore does not turn it on;
	 * mastering is back as saved. */
	assert_int_equal(fake_get(f, 0x04, 2), 0x0144);
	free(f);
}

struct recorder {
	unsigned delays[8], ndelays;
	size_t reset_at;	/* f->nlog when reset was called */
	char log[8][320];
	unsigned nlog;
};

static struct recorder rec;
static struct pvpci_hostdev_ops ops_rec, ops_noreset;

static void rec_delay(void *ctx, unsigned us)
{
	(void)ctx;
	if (rec.ndelays < 8)
		rec.delays[rec.ndelays++] = us;
}

static void rec_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	if (rec.nlog < 8)
		snprintf(rec.log[rec.nlog++], sizeof(rec.log[0]), "%s", msg);
}

static int rec_reset(struct pvpci_hostdev *d)
{
	struct fakedev *f = (struct fakedev *)d;

	rec.reset_at = f->nlog;
	f->resets++;
	return 0;
}

static void setup_ops(void)
{
	memset(&rec, 0, sizeof(rec));
	ops_rec = fake_ops;
	ops_rec.reset = rec_reset;
	ops_noreset = fake_ops;
	ops_noreset.reset = NULL;
}

static void test_d0_before_reset_and_writes(void **state)
{
	struct fakedev *f = pcie_dev(2, true);
	struct pvpci_sr_opts o = { .reset = PVPCI_SR_RESET_REQUIRED, .delay = rec_delay,
				   .log = rec_log };
	struct pvpci_sr_state st;
	char err[256] = "";
	size_t first_bar = SIZE_MAX, d0 = SIZE_MAX;

	(void)state;
	setup_ops();
	f->hd.ops = &ops_rec;
	save_ok(f, &st);
	fake_put(f, 0x44, 2, 0x0003);	/* D3hot */
	fake_put(f, 0x10, 4, 0);
	assert_int_equal(pvpci_sr_restore(&f->hd, &st, &o, err, sizeof(err)), 0);
	for (size_t i = 0; i < f->nlog; i++) {
		if (f->log[i].off == 0x44 && d0 == SIZE_MAX)
			d0 = i;
		if (f->log[i].off >= 0x10 && f->log[i].off < 0x28 && first_bar == SIZE_MAX)
			first_bar = i;
	}
	assert_int_equal(d0, 0);			/* D0 first of all */
	assert_int_equal(f->log[0].val & 3, 0);
	assert_int_equal(rec.reset_at, 1);		/* then the reset */
	assert_true(first_bar > rec.reset_at);		/* then the registers */
	assert_int_equal(rec.ndelays, 1);
	assert_int_equal(rec.delays[0], 10000);		/* D3hot -> D0: 10 ms */
	assert_restored(f, &st);
	assert_int_equal(rec.nlog, 2);
	assert_string_equal(rec.log[0], "0000:03:00.0: brought from D3hot to D0");
	assert_string_equal(rec.log[1], "0000:03:00.0: restored 18 registers after a function reset");
	free(f);

	/* D2 waits 200 us, D1 nothing; D0 writes nothing. */
	f = pcie_dev(2, true);
	memset(&rec, 0, sizeof(rec));
	fake_put(f, 0x44, 2, 0x0002);
	assert_int_equal(pvpci_sr_set_d0(&f->hd, &o, NULL, err, sizeof(err)), 0);
	fake_put(f, 0x44, 2, 0x0001);
	assert_int_equal(pvpci_sr_set_d0(&f->hd, &o, NULL, err, sizeof(err)), 0);
	assert_int_equal(rec.ndelays, 1);
	assert_int_equal(rec.delays[0], 200);
	f->nlog = 0;
	assert_int_equal(pvpci_sr_set_d0(&f->hd, &o, NULL, err, sizeof(err)), 0);
	assert_int_equal(f->nlog, 0);

	/* A function that will not leave D3hot is an error. */
	fake_put(f, 0x44, 2, 0x0003);
	fake_wmask(f, 0x44, 2, 0);
	assert_int_equal(pvpci_sr_set_d0(&f->hd, &o, NULL, err, sizeof(err)), -EIO);
	assert_string_equal(err, "0000:03:00.0: stays in D3 after PMCSR was set to D0");
	free(f);
}

/* MSI and MSI-X left on by a guest, or by a backend killed under one:
 * off before anything else is written back, said once, and not written
 * again when already off. */
static void test_interrupts_off(void **state)
{
	struct fakedev *f = pcie_dev(2, true);
	struct pvpci_sr_opts o = { .reset = PVPCI_SR_RESET_NONE, .log = rec_log };
	struct pvpci_sr_state st;
	char err[256] = "";
	size_t first_bar = SIZE_MAX, msi = SIZE_MAX, msix = SIZE_MAX;

	(void)state;
	setup_ops();
	fake_cap(f, 0x50, 0x10, 0x90);
	fake_cap(f, 0x90, 0x05, 0xa0);		/* MSI, 64-bit */
	fake_put(f, 0x92, 2, 0x0081);
	fake_wmask(f, 0x92, 2, 0x0071);
	fake_cap(f, 0xa0, 0x11, 0x00);		/* MSI-X, 4 entries */
	fake_put(f, 0xa2, 2, 0xc003);
	fake_wmask(f, 0xa2, 2, 0xc000);
	save_ok(f, &st);
	fake_put(f, 0x10, 4, 0);
	assert_int_equal(pvpci_sr_restore(&f->hd, &st, &o, err, sizeof(err)), 0);
	assert_int_equal(fake_get(f, 0x92, 2), 0x0080);
	assert_int_equal(fake_get(f, 0xa2, 2), 0x4003);	/* Function Mask stays */
	for (size_t i = 0; i < f->nlog; i++) {
		if (f->log[i].off == 0x92 && msi == SIZE_MAX)
			msi = i;
		if (f->log[i].off == 0xa2 && msix == SIZE_MAX)
			msix = i;
		if (f->log[i].off >= 0x10 && f->log[i].off < 0x28 && first_bar == SIZE_MAX)
			first_bar = i;
	}
	assert_true(msi < first_bar && msix < first_bar);
	assert_restored(f, &st);
	assert_int_equal(rec.nlog, 3);
	assert_string_equal(rec.log[0], "0000:03:00.0: MSI was left enabled: disabled");
	assert_string_equal(rec.log[1], "0000:03:00.0: MSI-X was left enabled: disabled");
	assert_string_equal(rec.log[2], "0000:03:00.0: restored 18 registers");

	rec.nlog = 0;
	f->nlog = 0;
	assert_int_equal(pvpci_sr_restore(&f->hd, &st, &o, err, sizeof(err)), 0);
	assert_int_equal(fake_writes_to(f, 0x90, 0x20), 0);
	assert_int_equal(rec.nlog, 1);
	free(f);
}

static void test_decode_off_then_command_last(void **state)
{
	struct fakedev *f = pcie_dev(2, true);
	struct pvpci_sr_state st;

	(void)state;
	save_ok(f, &st);
	fake_put(f, 0x04, 2, 0x0007);	/* decoding, SERR and PERR lost */
	fake_put(f, 0x18, 4, 0x0000000c);
	fake_put(f, 0x1c, 4, 0);
	restore_ok(f, &st, PVPCI_SR_RESET_NONE);
	assert_true(f->nlog > 2);
	assert_int_equal(f->log[0].off, 0x04);
	assert_int_equal(f->log[0].val, 0x0004);		/* decode off, the rest kept */
	for (size_t i = 1; i + 1 < f->nlog; i++)
		assert_int_not_equal(f->log[i].off, 0x04);
	assert_int_equal(f->log[f->nlog - 1].off, 0x04);
	assert_int_equal(f->log[f->nlog - 1].val, 0x0147);	/* decode back, SERR/PERR saved */
	assert_int_equal(f->resets, 0);
	assert_restored(f, &st);
	free(f);
}

/* Bus mastering comes back as saved, whatever the guest left and even
 * when the reset did not reset: make e2e found QEMU's e1000e mastering
 * after its detach, as its guest had left it. */
static void test_bus_master_as_saved(void **state)
{
	struct fakedev *f = pcie_dev(2, true);
	struct pvpci_sr_state st;

	(void)state;
	fake_put(f, 0x04, 2, 0x0142);				/* not mastering at the save */
	save_ok(f, &st);
	fake_put(f, 0x04, 2, 0x0147);				/* a guest's decode and mastering */
	restore_ok(f, &st, PVPCI_SR_RESET_IF_AVAILABLE);	/* a reset that changes nothing */
	assert_int_equal(f->resets, 1);
	assert_int_equal(fake_get(f, 0x04, 2), 0x0143);	/* decode kept, mastering off */
	assert_restored(f, &st);
	free(f);

	f = pcie_dev(2, true);					/* mastering at the save */
	save_ok(f, &st);
	fake_put(f, 0x04, 2, 0x0002);
	restore_ok(f, &st, PVPCI_SR_RESET_NONE);
	assert_int_equal(fake_get(f, 0x04, 2), 0x0146);
	free(f);
}

static void test_reset_modes(void **state)
{
	struct fakedev *f = pcie_dev(2, true);
	struct pvpci_sr_opts o = { .log = rec_log };
	struct pvpci_sr_state st;
	char err[256] = "";
	bool done = true;

	(void)state;
	setup_ops();
	save_ok(f, &st);
	f->hd.ops = &ops_noreset;
	o.reset = PVPCI_SR_RESET_REQUIRED;
	assert_int_equal(pvpci_sr_restore(&f->hd, &st, &o, err, sizeof(err)), -EOPNOTSUPP);
	assert_string_equal(err, "0000:03:00.0: no function reset is available (fake devices offer no "
				 "reset); refusing to go on without one unless told to (no-reset-ok)");
	assert_int_equal(f->nlog, 0);		/* nothing written */
	/* NULL opts: required too. */
	assert_int_equal(pvpci_sr_restore(&f->hd, &st, NULL, err, sizeof(err)), -EOPNOTSUPP);

	o.reset = PVPCI_SR_RESET_IF_AVAILABLE;
	assert_int_equal(pvpci_sr_reset(&f->hd, &o, &done, err, sizeof(err)), 0);
	assert_false(done);
	assert_string_equal(rec.log[0], "0000:03:00.0: no function reset is available (fake devices "
					"offer no reset); going on without one, as asked");
	assert_int_equal(pvpci_sr_restore(&f->hd, &st, &o, err, sizeof(err)), 0);
	assert_string_equal(rec.log[2], "0000:03:00.0: restored 18 registers");

	f->hd.ops = &fake_ops;
	o.reset = PVPCI_SR_RESET_NONE;
	assert_int_equal(pvpci_sr_restore(&f->hd, &st, &o, err, sizeof(err)), 0);
	assert_int_equal(f->resets, 0);
	o.reset = PVPCI_SR_RESET_REQUIRED;
	assert_int_equal(pvpci_sr_reset(&f->hd, &o, &done, err, sizeof(err)), 0);
	assert_true(done);
	assert_int_equal(f->resets, 1);
	free(f);
}

static void expect_stale(struct fakedev *f, const struct pvpci_sr_state *st, const char *msg)
{
	char err[320] = "";
	int r;

	f->nlog = 0;
	r = restore(f, st, PVPCI_SR_RESET_NONE, err, sizeof(err));
	if (r != -ESTALE || strcmp(err, msg))
		fail_msg("r %d '%s', want -ESTALE '%s'", r, err, msg);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(f->resets, 0);
}

static void test_foreign_function_refused(void **state)
{
	struct fakedev *f = pcie_dev(2, true);
	struct pvpci_sr_state st, other;

	(void)state;
	save_ok(f, &st);
	other = st;
	other.bdf.bus = 4;
	expect_stale(f, &other, "0000:03:00.0: the saved state is of 0000:04:00.0, another function");
	fake_put(f, 0x02, 2, 0x5679);
	expect_stale(f, &st, "0000:03:00.0: the saved state is of a 1234:5678 (subsystem 1af4:abcd), "
			     "the function is now a 1234:5679 (subsystem 1af4:abcd); nothing written");
	fake_put(f, 0x02, 2, 0x5678);
	fake_put(f, 0x2e, 2, 0x0001);
	expect_stale(f, &st, "0000:03:00.0: the saved state is of a 1234:5678 (subsystem 1af4:abcd), "
			     "the function is now a 1234:5678 (subsystem 1af4:0001); nothing written");
	fake_put(f, 0x2e, 2, 0xabcd);
	fake_put(f, 0x100, 4, 0);	/* AER gone */
	expect_stale(f, &st, "0000:03:00.0: its registers are not laid out as in the saved state "
			     "(aer-uncor-mask at 0x108 saved, command at 0x4 now); nothing written");
	fake_put(f, 0x100, 4, 0x00010001);
	fake_put(f, 0x52, 2, 0x0001);	/* PCIe version 1 */
	expect_stale(f, &st, "0000:03:00.0: its registers are not laid out as in the saved state "
			     "(devctl2 at 0x78 saved, aer-uncor-mask at 0x108 now); nothing written");
	fake_put(f, 0x52, 2, 0x0002);
	other = st;
	other.nregs--;
	expect_stale(f, &other, "0000:03:00.0: its registers are not laid out as in the saved state "
				"(nothing at 0x0 saved, command at 0x4 now); nothing written");
	free(f);
}

/* ---- the text form ---- */

/* body + its checksum line, into a static buffer. */
static const char *signed_text(const char *body)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf), "%schecksum crc32 %08x\n", body, pvpci_crc32(body, strlen(body)));
	return buf;
}

static void assert_same_state(const struct pvpci_sr_state *a, const struct pvpci_sr_state *b)
{
	assert_int_equal(pvpci_bdf_cmp(&a->bdf, &b->bdf), 0);
	assert_int_equal(a->vendor, b->vendor);
	assert_int_equal(a->device, b->device);
	assert_int_equal(a->subvendor, b->subvendor);
	assert_int_equal(a->subdevice, b->subdevice);
	assert_int_equal(a->nregs, b->nregs);
	for (unsigned i = 0; i < a->nregs; i++) {
		assert_string_equal(a->regs[i].key, b->regs[i].key);
		assert_int_equal(a->regs[i].off, b->regs[i].off);
		assert_int_equal(a->regs[i].size, b->regs[i].size);
		assert_int_equal(a->regs[i].mask, b->regs[i].mask);
		assert_int_equal(a->regs[i].val, b->regs[i].val);
	}
}

static void test_text_round_trip(void **state)
{
	struct fakedev *f = pcie_dev(2, true);
	struct pvpci_sr_state st, back;
	char text[PVPCI_SR_TEXT_MAX], small[16], err[256] = "";
	int n;

	(void)state;
	save_ok(f, &st);
	n = pvpci_sr_format(&st, text, sizeof(text));
	assert_true(n > 0 && (size_t)n == strlen(text));
	assert_int_equal(strncmp(text, "pvpci-saved-state 1\n", 20), 0);
	assert_non_null(strstr(text, "\nbdf 0000:03:00.0\n"));
	assert_non_null(strstr(text, "\nids 1234:5678:1af4:abcd\n"));
	assert_non_null(strstr(text, "\nreg bar0 010 4 ffffffff feb00000\n"));
	assert_non_null(strstr(text, "\nreg cacheline 00c 1 ff 10\n"));
	assert_non_null(strstr(text, "\nreg aer-capctl 118 4 00000540 000001e0\n"));
	assert_non_null(strstr(text, "\nreg command 004 2 0140 0146\nchecksum crc32 "));
	assert_int_equal(pvpci_sr_parse(text, (size_t)n, &back, err, sizeof(err)), 0);
	assert_same_state(&st, &back);
	/* As snprintf: the length whatever the room. */
	assert_int_equal(pvpci_sr_format(&st, small, sizeof(small)), n);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(pvpci_sr_format(&st, NULL, 0), n);
	/* A state no parse could give is not formatted. */
	back = st;
	back.regs[0].mask = 1;
	assert_int_equal(pvpci_sr_format(&back, text, sizeof(text)), -EINVAL);
	back = st;
	back.regs[7].val = 0x100;
	assert_int_equal(pvpci_sr_format(&back, text, sizeof(text)), -EINVAL);
	free(f);
}

static void test_every_damage_detected(void **state)
{
	struct fakedev *f = pcie_dev(2, true);
	struct pvpci_sr_state st, back = { .nregs = 99 };
	char text[PVPCI_SR_TEXT_MAX], err[256];
	int n;

	(void)state;
	save_ok(f, &st);
	n = pvpci_sr_format(&st, text, sizeof(text));
	/* Truncated anywhere. */
	for (int len = 0; len < n; len++) {
		int r = pvpci_sr_parse(text, (size_t)len, &back, err, sizeof(err));

		if (r != -EBADMSG)
			fail_msg("truncated at %d: %d", len, r);
	}
	/* Any one bit of any byte flipped. */
	for (int i = 0; i < n; i++)
		for (int bit = 0; bit < 8; bit++) {
			int r;

			text[i] ^= (char)(1 << bit);
			r = pvpci_sr_parse(text, (size_t)n, &back, err, sizeof(err));
			text[i] ^= (char)(1 << bit);
			if (r == 0)
				fail_msg("bit %d of byte %d flipped: parsed", bit, i);
		}
	assert_int_equal(back.nregs, 99);	/* untouched by every failure */
	free(f);
}

static void test_corrupt_texts(void **state)
{
	static const char head[] = "pvpci-saved-state 1\nbdf 0000:03:00.0\nids 1234:5678:1af4:abcd\n";
	static const struct {
		const char *body;	/* after head; signed unless raw */
		bool raw;
		int err;
		const char *msg;
	} cases[] = {
		{ "reg bar0 010 4 ffffffff feb00000\n", false, 0, "" },
		{ "", false, -EBADMSG, "line 4: no registers (truncated?)" },
		{ "reg bar0 010 4 ffffffff feb00000\n", true, -EBADMSG, "line 5: no checksum line (truncated?)" },
		{ "reg bar0 010 4 ffffffff feb00000\nchecksum crc32 00000000\n", true, -EBADMSG,
		  "line 5: checksum mismatch: the text was changed or damaged after it was written" },
		{ "reg bar0 010 4 ffffffff feb00000\nchecksum crc32 0000000\n", true, -EBADMSG,
		  "line 5: expected 'checksum crc32 XXXXXXXX'" },
		{ "reg bar9 010 4 ffffffff feb00000\n", false, -EBADMSG,
		  "line 4: 'bar9' is not a register of the saved set" },
		{ "reg bar0 010 4 ffffffff feb00000\nreg bar0 010 4 ffffffff feb00000\n", false, -EBADMSG,
		  "line 5: bar0 given twice" },
		{ "reg bar0 010 2 ffffffff feb00000\n", false, -EBADMSG,
		  "line 4: bar0: size 2 mask 0xffffffff, expected size 4 mask 0xffffffff" },
		{ "reg command 004 2 ffff 0146\n", false, -EBADMSG,
		  "line 4: command: size 2 mask 0xffff, expected size 2 mask 0x140" },
		{ "reg cacheline 00c 1 ff 100\n", false, -EBADMSG,
		  "line 4: cacheline: value 0x100 is wider than 1 byte" },
		{ "reg bar0 014 4 ffffffff feb00000\n", false, -EBADMSG,
		  "line 4: bar0: offset 0x14 is not where it can be" },
		{ "reg devctl 010 2 7fff 2817\n", false, -EBADMSG,
		  "line 4: devctl: offset 0x10 is not where it can be" },
		{ "reg devctl 059 2 7fff 2817\n", false, -EBADMSG,
		  "line 4: devctl: offset 0x59 is not where it can be" },
		{ "reg aer-cor-mask 054 4 ffffffff 0\n", false, -EBADMSG,
		  "line 4: aer-cor-mask: offset 0x54 is not where it can be" },
		{ "reg bar0 010 4 ffffffff\n", false, -EBADMSG,
		  "line 4: expected 'reg KEY OFFSET SIZE MASK VALUE'" },
		{ "reg bar0 010 4 ffffffff feb0000g\n", false, -EBADMSG,
		  "line 4: bar0: offset, size, mask and value must be hex numbers" },
		{ "reg bar0 010 4 ffffffff 1feb00000\n", false, -EBADMSG,
		  "line 4: bar0: offset, size, mask and value must be hex numbers" },
		{ "reg bar0  010 4 ffffffff feb00000\n", false, -EBADMSG,
		  "line 4: expected 'reg KEY OFFSET SIZE MASK VALUE'" },
		{ "# a comment is fine\nreg bar0 010 4 ffffffff feb00000\n", false, 0, "" },
		{ "\nreg bar0 010 4 ffffffff feb00000\n", false, -EBADMSG, "line 4: empty line" },
		{ "bar0 010 4 ffffffff feb00000\n", false, -EBADMSG,
		  "line 4: 'bar0': expected 'reg' or 'checksum'" },
		{ "reg bar0 010 4 ffffffff feb00000\n\x7f\n", false, -EBADMSG,
		  "line 5: byte 0x7f is not text" },
	};
	char text[8192], err[256];
	struct pvpci_sr_state st;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char body[4096];
		int r;

		snprintf(body, sizeof(body), "%s%s", head, cases[i].body);
		snprintf(text, sizeof(text), "%s", cases[i].raw ? body : signed_text(body));
		err[0] = 0;
		r = pvpci_sr_parse(text, strlen(text), &st, err, sizeof(err));
		if (r != cases[i].err || strcmp(err, cases[i].msg))
			fail_msg("case %zu: %d '%s', want %d '%s'", i, r, err, cases[i].err, cases[i].msg);
	}
	/* The head's own lines. */
	assert_int_equal(pvpci_sr_parse("hello\n", 6, &st, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 1: not a pvpci saved state");
	snprintf(text, sizeof(text), "%s", signed_text("pvpci-saved-state 2\nanything\n"));
	assert_int_equal(pvpci_sr_parse(text, strlen(text), &st, err, sizeof(err)), -EPROTONOSUPPORT);
	assert_string_equal(err, "saved state version 2 is not one this pvpci reads (1)");
	snprintf(text, sizeof(text), "%s",
		 signed_text("pvpci-saved-state 1\nbdf 0000:03:00\nids 1234:5678:1af4:abcd\n"));
	assert_int_equal(pvpci_sr_parse(text, strlen(text), &st, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 2: expected 'bdf DDDD:BB:DD.F'");
	snprintf(text, sizeof(text), "%s",
		 signed_text("pvpci-saved-state 1\nbdf 0000:03:00.0\nids 1234:5678:1af4\n"));
	assert_int_equal(pvpci_sr_parse(text, strlen(text), &st, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 3: expected 'ids VVVV:DDDD:SVVV:SDDD'");
	/* Bytes after the checksum; a NUL; no final newline. */
	snprintf(text, sizeof(text), "%sreg bar0 010 4 ffffffff 0\n", head);
	snprintf(text, sizeof(text), "%sjunk\n", signed_text(text));
	assert_int_equal(pvpci_sr_parse(text, strlen(text), &st, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 6: text after the checksum");
	assert_int_equal(pvpci_sr_parse("pvpci-saved-state 1\n\0", 21, &st, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 2: byte 0x00 is not text");
	assert_int_equal(pvpci_sr_parse("pvpci-saved-state 1", 19, &st, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 1: does not end with a newline (truncated?)");
	assert_int_equal(pvpci_sr_parse(NULL, 0, &st, NULL, 0), -EBADMSG);
}

/* ---- state files ---- */

static char tmpdir[64];

static int mktmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pvpci-state.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int rmtmp(void **state)
{
	(void)state;
	fake_rm_tree(tmpdir);
	return 0;
}

/* Names in dir, sorted, joined by spaces. */
static const char *listing(const char *dir)
{
	static char out[1024];
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);

	out[0] = 0;
	for (int i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, ".."))
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", out[0] ? " " : "",
				 ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	return out;
}

static void test_statefile(void **state)
{
	struct fakedev *f = pcie_dev(2, true);
	struct pvpci_sr_state st, back = { .nregs = 99 };
	char dir[128], path[256], tmp[300], err[512] = "";
	struct stat sb;

	(void)state;
	save_ok(f, &st);
	/* A missing directory is created, mode 0700. */
	snprintf(dir, sizeof(dir), "%s/new", tmpdir);
	assert_int_equal(pvpci_statefile_save(dir, &st, err, sizeof(err)), 0);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);

	/* A temporary file left by a killed saver of this pid does not matter. */
	snprintf(dir, sizeof(dir), "%s/state", tmpdir);
	assert_int_equal(pvpci_statefile_path(dir, &st.bdf, path, sizeof(path)), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	assert_int_equal(fake_write_file(tmp, "half", 4), 0);
	assert_int_equal(pvpci_statefile_save(dir, &st, err, sizeof(err)), 0);
	assert_string_equal(listing(dir), "0000:03:00.0.state");
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(pvpci_statefile_load(dir, &st.bdf, &back, err, sizeof(err)), 0);
	assert_same_state(&st, &back);

	/* Replacing: the new state, and still one file. */
	st.regs[7].val = 0x20;
	assert_int_equal(pvpci_statefile_save(dir, &st, err, sizeof(err)), 0);
	assert_int_equal(pvpci_statefile_load(dir, &st.bdf, &back, err, sizeof(err)), 0);
	assert_int_equal(back.regs[7].val, 0x20);
	assert_string_equal(listing(dir), "0000:03:00.0.state");
	free(f);
}

/* The pid of a process that has exited (and been reaped). */
static long dead_pid(void)
{
	pid_t p = fork();

	assert_true(p >= 0);
	if (p == 0)
		_exit(0);
	assert_int_equal(waitpid(p, NULL, 0), p);
	return (long)p;
}

/* A save killed before its rename leaves its temporary file, torn or
 * whole: never read, removed by a sweep once its writer is dead; a live
 * writer's stays, and so does everything that is not a temporary file. */
static void test_statefile_torn_temporaries(void **state)
{
	struct fakedev *f = pcie_dev(2, true);
	struct pvpci_sr_state st, back;
	struct pvpci_bdf list[4], four = { 0, 4, 0, 0 };
	char path[256], tmp[320], text[PVPCI_SR_TEXT_MAX], err[512] = "", want[512];
	size_t n = 99;
	long dead = dead_pid();
	int len;

	(void)state;
	save_ok(f, &st);
	assert_int_equal(pvpci_statefile_save(tmpdir, &st, err, sizeof(err)), 0);
	pvpci_statefile_path(tmpdir, &st.bdf, path, sizeof(path));
	/* A newer state, cut in the middle, from a writer that died... */
	st.regs[7].val = 0x20;
	len = pvpci_sr_format(&st, text, sizeof(text));
	assert_true(len > 100);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, dead);
	assert_int_equal(fake_write_file(tmp, text, (size_t)len / 2), 0);
	/* ... one whole but never renamed, of another function, dead too ... */
	pvpci_statefile_path(tmpdir, &four, tmp, sizeof(tmp));
	snprintf(tmp + strlen(tmp), sizeof(tmp) - strlen(tmp), ".tmp.%ld", dead);
	assert_int_equal(fake_write_file(tmp, text, (size_t)len), 0);
	/* ... and a live writer's (ours), a set-aside file, a stranger. */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	assert_int_equal(fake_write_file(tmp, text, 10), 0);
	snprintf(tmp, sizeof(tmp), "%s/0000:05:00.0.state.corrupt", tmpdir);
	assert_int_equal(fake_write_file(tmp, "x", 1), 0);
	snprintf(tmp, sizeof(tmp), "%s/notes.tmp.x", tmpdir);
	assert_int_equal(fake_write_file(tmp, "x", 1), 0);

	/* Loading reads the state that was renamed in, nothing else. */
	assert_int_equal(pvpci_statefile_load(tmpdir, &st.bdf, &back, err, sizeof(err)), 0);
	assert_int_equal(back.regs[7].val, 0x10);
	assert_int_equal(pvpci_statefile_load(tmpdir, &four, &back, err, sizeof(err)), -ENOENT);
	/* Listed: only the functions with a state file. */
	assert_int_equal(pvpci_statefile_list(tmpdir, list, 4, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pvpci_bdf_cmp(&list[0], &st.bdf), 0);

	assert_int_equal(pvpci_statefile_sweep(tmpdir, err, sizeof(err)), 2);
	snprintf(want, sizeof(want), "0000:03:00.0.state 0000:03:00.0.state.tmp.%ld "
		 "0000:05:00.0.state.corrupt notes.tmp.x", (long)getpid());
	assert_string_equal(listing(tmpdir), want);
	assert_int_equal(pvpci_statefile_sweep(tmpdir, err, sizeof(err)), 0);
	/* A missing directory: nothing to list or sweep. */
	snprintf(tmp, sizeof(tmp), "%s/none", tmpdir);
	assert_int_equal(pvpci_statefile_list(tmp, list, 4, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pvpci_statefile_sweep(tmp, err, sizeof(err)), 0);
	free(f);
}

static void test_statefile_corrupt_set_aside(void **state)
{
	struct fakedev *f = pcie_dev(2, true);
	struct pvpci_sr_state st, back = { .nregs = 99 };
	struct pvpci_bdf other = { 0, 4, 0, 0 };
	char path[256], path4[256], buf[PVPCI_SR_TEXT_MAX], err[512] = "", want[768];
	long n;

	(void)state;
	save_ok(f, &st);
	assert_int_equal(pvpci_statefile_save(tmpdir, &st, err, sizeof(err)), 0);
	pvpci_statefile_path(tmpdir, &st.bdf, path, sizeof(path));

	/* One byte changed: not trusted, set aside, gone for the next load. */
	n = fake_read_file(path, buf, sizeof(buf));
	assert_true(n > 100);
	buf[n / 2] ^= 0x04;
	assert_int_equal(fake_write_file(path, buf, (size_t)n), 0);
	assert_int_equal(pvpci_statefile_load(tmpdir, &st.bdf, &back, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, " is corrupt ("));
	snprintf(want, sizeof(want), "; set aside as %s.corrupt, not used", path);
	assert_non_null(strstr(err, want));
	assert_int_equal(back.nregs, 99);
	assert_string_equal(listing(tmpdir), "0000:03:00.0.state.corrupt");
	assert_int_equal(pvpci_statefile_load(tmpdir, &st.bdf, &back, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "no saved state for 0000:03:00.0 in %s (save it first)", tmpdir);
	assert_string_equal(err, want);

	/* Truncated (a crash of a writer that did not replace atomically). */
	assert_int_equal(pvpci_statefile_save(tmpdir, &st, err, sizeof(err)), 0);
	n = fake_read_file(path, buf, sizeof(buf));
	assert_int_equal(fake_write_file(path, buf, (size_t)n - 20), 0);
	assert_int_equal(pvpci_statefile_load(tmpdir, &st.bdf, &back, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "set aside"));

	/* Another function's state under this name. */
	assert_int_equal(pvpci_statefile_save(tmpdir, &st, err, sizeof(err)), 0);
	pvpci_statefile_path(tmpdir, &other, path4, sizeof(path4));
	assert_int_equal(rename(path, path4), 0);
	assert_int_equal(pvpci_statefile_load(tmpdir, &other, &back, err, sizeof(err)), -EBADMSG);
	snprintf(want, sizeof(want), "%s is corrupt (it holds the state of 0000:03:00.0); set aside as "
		 "%s.corrupt, not used", path4, path4);
	assert_string_equal(err, want);

	/* Larger than any state. */
	{
		char *big = malloc(PVPCI_STATEFILE_MAX + 10);

		memset(big, '#', PVPCI_STATEFILE_MAX + 10);
		assert_int_equal(fake_write_file(path, big, PVPCI_STATEFILE_MAX + 10), 0);
		free(big);
	}
	assert_int_equal(pvpci_statefile_load(tmpdir, &st.bdf, &back, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "larger than any saved state"));

	/* A newer version: not ours to judge, left in place. */
	snprintf(buf, sizeof(buf), "%s", signed_text("pvpci-saved-state 2\nbdf 0000:03:00.0\n"));
	assert_int_equal(fake_write_file(path, buf, strlen(buf)), 0);
	assert_int_equal(pvpci_statefile_load(tmpdir, &st.bdf, &back, err, sizeof(err)),
			 -EPROTONOSUPPORT);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(back.nregs, 99);

	/* Remove, twice. */
	assert_int_equal(pvpci_statefile_remove(tmpdir, &st.bdf, err, sizeof(err)), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(pvpci_statefile_remove(tmpdir, &st.bdf, err, sizeof(err)), 0);
	free(f);
}

static void test_statefile_dir(void **state)
{
	(void)state;
	unsetenv(PVPCI_STATE_DIR_ENV);
	assert_string_equal(pvpci_statefile_dir(NULL), "/var/lib/pvpci");
	assert_string_equal(pvpci_statefile_dir(""), "/var/lib/pvpci");
	setenv(PVPCI_STATE_DIR_ENV, "/tmp/elsewhere", 1);
	assert_string_equal(pvpci_statefile_dir(NULL), "/tmp/elsewhere");
	assert_string_equal(pvpci_statefile_dir("/given"), "/given");
	setenv(PVPCI_STATE_DIR_ENV, "", 1);
	assert_string_equal(pvpci_statefile_dir(NULL), "/var/lib/pvpci");
	unsetenv(PVPCI_STATE_DIR_ENV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_set),
		cmocka_unit_test(test_odd_functions),
		cmocka_unit_test(test_guest_scribbles_then_restore),
		cmocka_unit_test(test_lost_state_and_d3hot),
		cmocka_unit_test(test_d0_before_reset_and_writes),
		cmocka_unit_test(test_interrupts_off),
		cmocka_unit_test(test_decode_off_then_command_last),
		cmocka_unit_test(test_bus_master_as_saved),
		cmocka_unit_test(test_reset_modes),
		cmocka_unit_test(test_foreign_function_refused),
		cmocka_unit_test(test_text_round_trip),
		cmocka_unit_test(test_every_damage_detected),
		cmocka_unit_test(test_corrupt_texts),
		cmocka_unit_test_setup_teardown(test_statefile, mktmp, rmtmp),
		cmocka_unit_test_setup_teardown(test_statefile_corrupt_set_aside, mktmp, rmtmp),
		cmocka_unit_test_setup_teardown(test_statefile_torn_temporaries, mktmp, rmtmp),
		cmocka_unit_test(test_statefile_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
