/*
 * The PCI Express capability: what a guest reads of every register, what
 * each guest write leaves in the (recording fake) hardware, strict and
 * permissive, Function Level Reset, RW1C status, version 1 and 2 layouts,
 * device/port types, and writes that span several registers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "cstest.h"

#define EXP	0x40	/* where the fake devices have it */

struct delays {
	unsigned calls, last;
};

static void rec_delay(void *ctx, unsigned usecs)
{
	struct delays *d = ctx;

	d->calls++;
	d->last = usecs;
}

static struct pvpci_cs *bind_opts(struct fakedev *f, bool permissive, struct delays *d)
{
	struct pvpci_cs_opts o = { .permissive = permissive, .delay = rec_delay, .delay_ctx = d };
	return cs_bind_with(f, &o);
}

static struct pvpci_cs *bind(struct fakedev *f, bool permissive)
{
	static struct delays unused;

	return bind_opts(f, permissive, &unused);
}

/*
 * A version 2 PCI Express endpoint at 0x40, the only standard capability.
 * Hardware lets software change every control bit (so that any write that
 * got through would show) and clears the status bits on 1.  The slot and
 * root registers hold junk an endpoint should not show.
 */
static struct fakedev *exp_dev(unsigned flags, uint32_t devcap)
{
	struct fakedev *f = fake_new(PVPCI_CFG_EXP_SIZE);

	fake_cap(f, EXP, 0x10, 0);
	fake_put(f, EXP + 0x02, 2, flags);
	fake_put(f, EXP + 0x04, 4, devcap);
	fake_put(f, EXP + 0x08, 2, 0x2837);	/* MRRS 512, no snoop, MPS 256, RO, CE/NFE/FE */
	fake_put(f, EXP + 0x0a, 2, 0x0025);	/* CED, FED, transactions pending */
	fake_put(f, EXP + 0x0c, 4, 0x00437c12);
	fake_put(f, EXP + 0x10, 2, 0x0042);	/* ASPM L1, common clock */
	fake_put(f, EXP + 0x12, 2, 0xd012);
	for (unsigned o = EXP + 0x14; o < EXP + 0x24; o++)
		f->cfg[o] = 0xa5;
	fake_put(f, EXP + 0x24, 4, 0x0070001f);
	fake_put(f, EXP + 0x28, 2, 0x0405);	/* LTR, completion timeout range */
	fake_put(f, EXP + 0x2c, 4, 0x0000000e);
	fake_put(f, EXP + 0x30, 2, 0x0003);
	fake_put(f, EXP + 0x32, 2, 0x0001);
	for (unsigned o = EXP + 0x34; o < EXP + 0x3c; o++)
		f->cfg[o] = 0x5a;
	fake_wmask(f, EXP + 0x08, 2, 0x7fff);
	fake_rw1c(f, EXP + 0x0a, 2, 0x000f);
	fake_wmask(f, EXP + 0x10, 2, 0xffff);
	fake_rw1c(f, EXP + 0x12, 2, 0xc000);
	for (unsigned o = EXP + 0x14; o < EXP + 0x24; o++)
		f->hw_wmask[o] = 0xff;
	fake_wmask(f, EXP + 0x28, 2, 0xffff);
	fake_wmask(f, EXP + 0x30, 2, 0xffff);
	for (unsigned o = EXP + 0x34; o < EXP + 0x3c; o++)
		f->hw_wmask[o] = 0xff;
	return f;
}

static void test_v2_endpoint_reads(void **state)
{
	struct fakedev *f = exp_dev(0x0002, 0x00000002);
	struct pvpci_cs *cs = bind(f, false);
	uint8_t exp[0x3c];

	(void)state;
	memcpy(exp, f->cfg + EXP, sizeof(exp));
	exp[1] = 0;				/* next: end of chain */
	memset(exp + 0x14, 0, 0x10);		/* slot and root: not an endpoint's */
	memset(exp + 0x34, 0, 0x08);		/* slot 2 */
	for (unsigned size = 1; size <= 4; size *= 2)
		for (unsigned o = 0; o < sizeof(exp); o += size)
			if (cs_rd(cs, EXP + o, size) != cs_le(exp + o, size))
				fail_msg("read +0x%02x size %u: 0x%x, want 0x%x", o, size, cs_rd(cs, EXP + o, size),
					 cs_le(exp + o, size));
	assert_int_equal(f->nlog, 0);
	assert_int_equal(cs_cap_at(cs, EXP)->len, 0x3c);
	assert_string_equal(pvpci_reg_policy(pvpci_cs_reg_at(cs, EXP + 0x04)), "read-only");
	assert_string_equal(pvpci_reg_policy(pvpci_cs_reg_at(cs, EXP + 0x08)), "emulated");
	assert_string_equal(pvpci_reg_policy(pvpci_cs_reg_at(cs, EXP + 0x0a)), "passthrough");
	assert_string_equal(pvpci_reg_policy(pvpci_cs_reg_at(cs, EXP + 0x14)), "reserved");
	assert_string_equal(pvpci_reg_policy(pvpci_cs_reg_at(cs, EXP + 0x20)), "reserved");
	assert_string_equal(pvpci_reg_policy(pvpci_cs_reg_at(cs, EXP + 0x38)), "reserved");
	pvpci_cs_free(cs);
	free(f);
}

/* Device Control, strict: every bit is the guest's own copy but Aux Power
 * PM Enable (read-only) and FLR (not capable: read-only); none reaches
 * hardware. */
static void test_devctl_strict(void **state)
{
	struct fakedev *f = exp_dev(0x0002, 0x00000002);
	struct pvpci_cs *cs = bind(f, false);

	(void)state;
	for (unsigned bit = 0; bit < 16; bit++) {
		uint32_t before = cs_rd(cs, EXP + 0x08, 2), want = before ^ (1u << bit);

		cs_wr(cs, EXP + 0x08, 2, want);
		if (bit == 10 || bit == 15)
			want = before;	/* read-only */
		if (cs_rd(cs, EXP + 0x08, 2) != want)
			fail_msg("bit %u: reads 0x%x, want 0x%x", bit, cs_rd(cs, EXP + 0x08, 2), want);
	}
	cs_wr(cs, EXP + 0x09, 1, 0x00);	/* MRRS, no snoop by the high byte alone */
	assert_int_equal(cs_rd(cs, EXP + 0x08, 2) & 0xff00, 0x0000);
	cs_wr(cs, EXP + 0x08, 2, 0xffff);
	assert_int_equal(cs_rd(cs, EXP + 0x08, 2), 0x7bff);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(fake_get(f, EXP + 0x08, 2), 0x2837);
	assert_int_equal(f->resets, 0);
	pvpci_cs_free(cs);
	free(f);
}

/* Permissive: error reporting enables and Max_Read_Request_Size reach
 * hardware; Max_Payload_Size, phantom functions, relaxed ordering,
 * extended tags and no snoop never do. */
static void test_devctl_permissive(void **state)
{
	struct fakedev *f = exp_dev(0x0002, 0x00000002);
	struct pvpci_cs *cs = bind(f, true);

	(void)state;
	cs_wr(cs, EXP + 0x08, 2, 0x7fff);
	assert_int_equal(cs_rd(cs, EXP + 0x08, 2), 0x7bff);
	assert_int_equal(fake_get(f, EXP + 0x08, 2), 0x783f);
	cs_wr(cs, EXP + 0x08, 2, 0x0000);
	assert_int_equal(cs_rd(cs, EXP + 0x08, 2), 0x0000);
	assert_int_equal(fake_get(f, EXP + 0x08, 2), 0x0830);
	/* The fabric's bits, as the host set them, whatever the guest wrote. */
	assert_int_equal(fake_get(f, EXP + 0x08, 2) & 0x0bf0, 0x2837 & 0x0bf0);
	for (size_t i = 0; i < f->nlog; i++)
		assert_int_equal(f->log[i].off, EXP + 0x08);
	/* A write of the low byte leaves MRRS in hardware alone. */
	cs_wr(cs, EXP + 0x08, 2, 0x5000);
	f->nlog = 0;
	cs_wr(cs, EXP + 0x08, 1, 0x0f);
	assert_int_equal(fake_get(f, EXP + 0x08, 2), 0x583f);
	assert_int_equal(cs_rd(cs, EXP + 0x08, 2), 0x500f);
	/* Nor when the hardware's MRRS is not the guest's copy (the device's
	 * default after an FLR): fuzz_ops found the copy written through. */
	fake_put(f, EXP + 0x08, 2, 0x2830);
	cs_wr(cs, EXP + 0x08, 1, 0x0f);
	assert_int_equal(fake_get(f, EXP + 0x08, 2), 0x283f);
	/* Switched off at run time: back to strict. */
	pvpci_cs_set_permissive(cs, false);
	f->nlog = 0;
	cs_wr(cs, EXP + 0x08, 2, 0x0000);
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);
}

static void test_flr(void **state)
{
	struct fakedev *f = exp_dev(0x0002, 0x10000002);
	struct delays d = { 0, 0 };
	struct pvpci_cs *cs;

	(void)state;
	/* With AER, whose virtual masks an FLR puts back too. */
	fake_ext_cap(f, 0x100, 0x0001, 1, 0);
	fake_put(f, 0x108, 4, 0x00400000);
	cs = bind_opts(f, false, &d);
	cs_wr(cs, EXP + 0x08, 2, 0x0000);
	cs_wr(cs, 0x108, 4, 0xfffffff0);
	assert_int_equal(cs_rd(cs, EXP + 0x08, 2), 0x0000);
	cs_wr(cs, EXP + 0x08, 2, 0x8000);
	assert_int_equal(f->resets, 1);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.last, 100000);
	/* Reads 0 and the copies are as at bind, as after a reset. */
	assert_int_equal(cs_rd(cs, EXP + 0x08, 2), 0x2837);
	assert_int_equal(cs_rd(cs, 0x108, 4), 0x00400000);
	assert_int_equal(fake_count_write(f, EXP + 0x08, 2, 0x8000), 0);
	for (size_t i = 0; i < f->nlog; i++)
		assert_int_not_equal(f->log[i].off, EXP + 0x08);

	/* FLR and a status acknowledgement in one dword: both happen. */
	f->nlog = 0;
	cs_wr(cs, EXP + 0x08, 4, 0x00018000 | 0x2837);
	assert_int_equal(f->resets, 2);
	assert_int_equal(d.calls, 2);
	assert_int_equal(fake_get(f, EXP + 0x0a, 2), 0x0024);
	assert_int_equal(cs_rd(cs, EXP + 0x08, 4), 0x00242837);

	/* Writing the bit as 0 is no reset. */
	cs_wr(cs, EXP + 0x08, 2, 0x2837);
	cs_wr(cs, EXP + 0x08, 1, 0x37);
	assert_int_equal(f->resets, 2);
	pvpci_cs_free(cs);
	free(f);
}

static void test_flr_not_capable_or_failing(void **state)
{
	struct fakedev *f = exp_dev(0x0002, 0x00000002);
	struct pvpci_hostdev_ops noreset = fake_ops;
	struct delays d = { 0, 0 };
	struct pvpci_cs *cs = bind_opts(f, false, &d);

	(void)state;
	cs_wr(cs, EXP + 0x08, 2, 0x8000);
	assert_int_equal(f->resets, 0);
	assert_int_equal(d.calls, 0);
	assert_int_equal(cs_rd(cs, EXP + 0x08, 2) & 0x8000, 0);
	pvpci_cs_free(cs);
	free(f);

	/* Capable, but the host has no reset to offer: the protocol's error. */
	f = exp_dev(0x0002, 0x10000002);
	noreset.reset = NULL;
	f->hd.ops = &noreset;
	cs = bind_opts(f, false, &d);
	assert_int_equal(pvpci_cs_write(cs, EXP + 0x08, 2, 0x8000), PVPCI_ERR_op_failed);
	assert_int_equal(d.calls, 0);
	assert_int_equal(cs_rd(cs, EXP + 0x08, 2) & 0x8000, 0);
	pvpci_cs_free(cs);
	free(f);
}

static void test_status_rw1c(void **state)
{
	struct fakedev *f = exp_dev(0x0002, 0x00000002);
	struct pvpci_cs *cs = bind(f, false);

	(void)state;
	/* Device Status: the four error bits clear on 1; Transactions Pending
	 * and the rest are read-only. */
	cs_wr(cs, EXP + 0x0a, 2, 0x0001);
	assert_int_equal(fake_get(f, EXP + 0x0a, 2), 0x0024);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(f->log[0].off, EXP + 0x0a);
	assert_int_equal(f->log[0].val & 0x000f, 0x0001);
	cs_wr(cs, EXP + 0x0a, 2, 0xfff0);
	assert_int_equal(fake_get(f, EXP + 0x0a, 2), 0x0024);
	cs_wr(cs, EXP + 0x0a, 2, 0xffff);
	assert_int_equal(fake_get(f, EXP + 0x0a, 2), 0x0020);
	assert_int_equal(cs_rd(cs, EXP + 0x0a, 2), 0x0020);

	/* Link Status: bits 14 and 15 clear on 1, the rest is read-only. */
	f->nlog = 0;
	cs_wr(cs, EXP + 0x12, 2, 0x4000);
	assert_int_equal(fake_get(f, EXP + 0x12, 2), 0x9012);
	cs_wr(cs, EXP + 0x12, 2, 0x3fff);
	assert_int_equal(fake_get(f, EXP + 0x12, 2), 0x9012);
	cs_wr(cs, EXP + 0x13, 1, 0x80);
	assert_int_equal(fake_get(f, EXP + 0x12, 2), 0x1012);
	assert_int_equal(cs_rd(cs, EXP + 0x12, 2), 0x1012);
	for (size_t i = 0; i < f->nlog; i++)
		assert_true(f->log[i].off >= EXP + 0x12 && f->log[i].off < EXP + 0x14);
	pvpci_cs_free(cs);
	free(f);
}

/* Link Control and Link Control 2 are the guest's copies, permissive or
 * not: the link belongs to the host's port as much as to this function. */
static void test_link_control_never_reaches_hw(void **state)
{
	(void)state;
	for (int permissive = 0; permissive < 2; permissive++) {
		struct fakedev *f = exp_dev(0x0002, 0x00000002);
		struct pvpci_cs *cs = bind(f, permissive);

		cs_wr(cs, EXP + 0x10, 2, 0xffff);
		assert_int_equal(cs_rd(cs, EXP + 0x10, 2), 0x03cb);
		cs_wr(cs, EXP + 0x10, 2, 0x0000);
		assert_int_equal(cs_rd(cs, EXP + 0x10, 2), 0x0000);
		cs_wr(cs, EXP + 0x30, 2, 0xffff);
		assert_int_equal(cs_rd(cs, EXP + 0x30, 2), 0x1fbf);
		cs_wr(cs, EXP + 0x30, 2, 0x0010);	/* Enter Compliance */
		assert_int_equal(cs_rd(cs, EXP + 0x30, 2), 0x0010);
		assert_int_equal(f->nlog, 0);
		assert_int_equal(fake_get(f, EXP + 0x10, 2), 0x0042);
		assert_int_equal(fake_get(f, EXP + 0x30, 2), 0x0003);
		pvpci_cs_free(cs);
		free(f);
	}
}

static void test_devctl2(void **state)
{
	struct fakedev *f = exp_dev(0x0002, 0x00000002);
	struct pvpci_cs *cs = bind(f, false);

	(void)state;
	/* Only the completion timeout is the guest's; LTR stays as the host set it. */
	cs_wr(cs, EXP + 0x28, 2, 0xffff);
	assert_int_equal(cs_rd(cs, EXP + 0x28, 2), 0x041f);
	cs_wr(cs, EXP + 0x28, 2, 0x0000);
	assert_int_equal(cs_rd(cs, EXP + 0x28, 2), 0x0400);
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);

	f = exp_dev(0x0002, 0x00000002);
	cs = bind(f, true);
	cs_wr(cs, EXP + 0x28, 2, 0xfff0);
	assert_int_equal(fake_get(f, EXP + 0x28, 2), 0x0410);
	assert_int_equal(cs_rd(cs, EXP + 0x28, 2), 0x0410);
	pvpci_cs_free(cs);
	free(f);
}

/* Capability registers, the other status registers and the registers an
 * endpoint does not have take no write, permissive or not. */
static void test_read_only_registers(void **state)
{
	static const unsigned ro[] = { 0x02, 0x04, 0x0c, 0x14, 0x18, 0x1a, 0x1c, 0x1e, 0x20,
				       0x24, 0x2a, 0x2c, 0x32, 0x34, 0x38, 0x3a };

	(void)state;
	for (int permissive = 0; permissive < 2; permissive++) {
		struct fakedev *f = exp_dev(0x0002, 0x00000002);
		struct pvpci_cs *cs = bind(f, permissive);
		uint8_t before[0x3c];

		memcpy(before, f->cfg + EXP, sizeof(before));
		for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
			uint32_t was = cs_rd(cs, EXP + ro[i], 2);

			cs_wr(cs, EXP + ro[i], 2, 0xffff);
			cs_wr(cs, EXP + ro[i], 2, 0x0000);
			assert_int_equal(cs_rd(cs, EXP + ro[i], 2), was);
		}
		assert_int_equal(f->nlog, 0);
		assert_memory_equal(f->cfg + EXP, before, sizeof(before));
		pvpci_cs_free(cs);
		free(f);
	}
}

/* Accesses spanning registers of different owners and policies. */
static void test_straddling_writes(void **state)
{
	struct fakedev *f = exp_dev(0x0002, 0x00000002);
	struct pvpci_cs *cs = bind(f, true);

	(void)state;
	/* The chain's ID and next pointer with the Capabilities register. */
	cs_wr(cs, EXP, 4, 0xffffffff);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(cs_rd(cs, EXP, 4), 0x00020010);
	/* Link Control (virtual) with Link Status (RW1C). */
	cs_wr(cs, EXP + 0x10, 4, 0x80000001);
	assert_int_equal(cs_rd(cs, EXP + 0x10, 2), 0x0001);
	assert_int_equal(fake_get(f, EXP + 0x10, 2), 0x0042);
	assert_int_equal(fake_get(f, EXP + 0x12, 2), 0x5012);
	assert_int_equal(f->nlog, 1);
	/* Link Capabilities 2 (read-only) with Link Control 2 would be two
	 * dwords; Device Control 2 with Device Status 2 is one. */
	f->nlog = 0;
	cs_wr(cs, EXP + 0x28, 4, 0xffff0000);
	assert_int_equal(cs_rd(cs, EXP + 0x28, 4), 0x00000400);
	assert_int_equal(fake_get(f, EXP + 0x28, 2), 0x0400);
	pvpci_cs_free(cs);
	free(f);
}

/*
 * Version 1: an endpoint's structure ends after Link Status.  What comes
 * after it is someone else's: here a vendor-specific capability at +0x14,
 * then bytes nobody covers (device-specific: read through, writes dropped
 * unless permissive).
 */
static void test_v1_endpoint(void **state)
{
	struct fakedev *f = exp_dev(0x0001, 0x00000002);
	struct pvpci_cs *cs;

	(void)state;
	f->cfg[EXP + 1] = EXP + 0x14;
	fake_put(f, EXP + 0x14, 4, 0x00080009);	/* vendor specific, 8 bytes */
	fake_put(f, EXP + 0x24, 4, 0x12345678);	/* where v2 has DevCap2 */
	cs = bind(f, false);
	assert_int_equal(cs_cap_at(cs, EXP)->len, 0x14);
	assert_null(pvpci_cs_reg_at(cs, EXP + 0x24));
	assert_null(pvpci_cs_reg_at(cs, EXP + 0x28));
	assert_int_equal(cs_rd(cs, EXP + 0x14, 4), 0x00080009);
	assert_int_equal(cs_rd(cs, EXP + 0x24, 4), 0x12345678);
	assert_int_equal(cs_rd(cs, EXP + 0x08, 2), 0x2837);
	cs_wr(cs, EXP + 0x28, 2, 0x0000);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(fake_get(f, EXP + 0x28, 2), 0x0405);
	pvpci_cs_set_permissive(cs, true);
	cs_wr(cs, EXP + 0x28, 2, 0x0000);
	assert_int_equal(fake_count_write(f, EXP + 0x28, 2, 0x0000), 1);
	pvpci_cs_free(cs);
	free(f);

	/* Version 0 (an all-zero capabilities register) is taken as version 1. */
	f = exp_dev(0x0000, 0x00000002);
	cs = bind(f, false);
	assert_int_equal(cs_cap_at(cs, EXP)->len, 0x14);
	pvpci_cs_free(cs);
	free(f);

	/* A version 1 root complex integrated endpoint has no link. */
	f = exp_dev(0x0091, 0x00000002);
	cs = bind(f, false);
	assert_int_equal(cs_cap_at(cs, EXP)->len, 0x0c);
	assert_null(pvpci_cs_reg_at(cs, EXP + 0x0c));
	assert_int_equal(cs_rd(cs, EXP + 0x0c, 4), 0x00437c12);	/* not ours: device-specific */
	pvpci_cs_free(cs);
	free(f);
}

static void test_types(void **state)
{
	struct fakedev *f = exp_dev(0x0092, 0x00000002);	/* v2 RC integrated endpoint */
	struct pvpci_cs *cs = bind(f, true);

	(void)state;
	/* No link: the link registers read 0 and take nothing. */
	assert_int_equal(cs_rd(cs, EXP + 0x0c, 4), 0);
	assert_int_equal(cs_rd(cs, EXP + 0x10, 4), 0);
	assert_int_equal(cs_rd(cs, EXP + 0x2c, 4), 0);
	assert_int_equal(cs_rd(cs, EXP + 0x30, 4), 0);
	cs_wr(cs, EXP + 0x10, 4, 0xffffffff);
	cs_wr(cs, EXP + 0x30, 4, 0xffffffff);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(cs_cap_at(cs, EXP)->len, 0x3c);
	pvpci_cs_free(cs);
	free(f);

	/* A root complex event collector has root registers: read-only. */
	f = exp_dev(0x00a2, 0x00000002);
	cs = bind(f, true);
	assert_int_equal(cs_rd(cs, EXP + 0x1c, 4), 0xa5a5a5a5);
	assert_int_equal(cs_rd(cs, EXP + 0x20, 4), 0xa5a5a5a5);
	assert_int_equal(cs_rd(cs, EXP + 0x14, 4), 0);	/* no slot */
	cs_wr(cs, EXP + 0x1c, 4, 0);
	cs_wr(cs, EXP + 0x20, 4, 0xffffffff);
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);

	/* Version 1 of one: up to Root Status. */
	f = exp_dev(0x00a1, 0x00000002);
	cs = bind(f, false);
	assert_int_equal(cs_cap_at(cs, EXP)->len, 0x24);
	assert_int_equal(cs_rd(cs, EXP + 0x20, 4), 0xa5a5a5a5);
	pvpci_cs_free(cs);
	free(f);
}

/* A structure that would run past the conventional space is cut there:
 * bind works and nothing beyond is claimed. */
static void test_cut_at_end_of_space(void **state)
{
	struct fakedev *f = fake_new(PVPCI_CFG_EXP_SIZE);
	struct pvpci_cs *cs;

	(void)state;
	fake_cap(f, 0xe0, 0x10, 0);
	fake_put(f, 0xe2, 2, 0x0002);
	fake_put(f, 0xe8, 2, 0x0010);
	cs = bind(f, false);
	assert_int_equal(cs_cap_at(cs, 0xe0)->len, 0x20);
	assert_non_null(pvpci_cs_reg_at(cs, 0xfc));
	assert_null(pvpci_cs_reg_at(cs, 0x100));
	assert_int_equal(cs_rd(cs, 0xe8, 2), 0x0010);
	pvpci_cs_free(cs);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2_endpoint_reads),
		cmocka_unit_test(test_devctl_strict),
		cmocka_unit_test(test_devctl_permissive),
		cmocka_unit_test(test_flr),
		cmocka_unit_test(test_flr_not_capable_or_failing),
		cmocka_unit_test(test_status_rw1c),
		cmocka_unit_test(test_link_control_never_reaches_hw),
		cmocka_unit_test(test_devctl2),
		cmocka_unit_test(test_read_only_registers),
		cmocka_unit_test(test_straddling_writes),
		cmocka_unit_test(test_v1_endpoint),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_cut_at_end_of_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
