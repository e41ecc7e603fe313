/*
 * The MSI-X capability: the table and PBA geometry validated at bind (a
 * capability that fails is hidden, the chain relinked around it, and the
 * warning says why), Table/PBA registers that keep their bind-time values
 * (XSA-337), Message Control with only Enable and Function Mask writable
 * and virtual, the op path and interrupt control, against a recording fake.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "cstest.h"

#define PM	0x40
#define MSI	0x48	/* 32-bit, no masking: 12 bytes */
#define MSIX	0x54
#define CTRL	(MSIX + 2)
#define VNDR	0x60	/* right after the 12 bytes of MSI-X */

static char logbuf[4096];

static void rec_log(void *ctx, int level, const char *msg)
{
	size_t n = strlen(logbuf);

	(void)ctx;
	(void)level;
	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
}

/*
 * PM, MSI, MSI-X and a vendor-specific capability back to back.  BARs are
 * fake_new's: 0 is 4K of memory, 1 unused, 2/3 a 64-bit 1M, 4 I/O, 5
 * unused.  Every byte of MSI-X is writable in "hardware".
 */
static struct fakedev *msix_dev(uint16_t ctrl, uint32_t table, uint32_t pba)
{
	struct fakedev *f = fake_new(256);

	fake_cap(f, PM, 0x01, MSI);
	fake_put(f, PM + 2, 2, 0x0003);
	fake_cap(f, MSI, 0x05, MSIX);
	fake_cap(f, MSIX, 0x11, VNDR);
	fake_put(f, CTRL, 2, ctrl);
	fake_put(f, MSIX + 4, 4, table);
	fake_put(f, MSIX + 8, 4, pba);
	for (unsigned o = MSIX + 2; o < MSIX + 12; o++)
		f->hw_wmask[o] = 0xff;
	fake_cap(f, VNDR, 0x09, 0);
	f->cfg[VNDR + 2] = 4;
	return f;
}

static struct pvpci_cs *bind_opts(struct fakedev *f, bool permissive, bool intx)
{
	struct pvpci_cs_opts o = { .permissive = permissive, .allow_interrupt_control = intx,
				   .log = rec_log };
	return cs_bind_with(f, &o);
}

static struct pvpci_cs *bind(struct fakedev *f)
{
	logbuf[0] = 0;
	return bind_opts(f, false, false);
}

/* The standard chain as the guest walks it, as offsets. */
static size_t guest_walk(struct pvpci_cs *cs, unsigned *out, size_t max)
{
	size_t n = 0;

	for (unsigned p = cs_rd(cs, 0x34, 1) & 0xfc; p && n < max; p = cs_rd(cs, p + 1, 1) & 0xfc)
		out[n++] = p;
	assert_true(n < max);
	return n;
}

static void test_valid(void **state)
{
	/* 16 entries at BAR 0 + 0, PBA at BAR 0 + 0x800. */
	struct fakedev *f = msix_dev(0x000f, 0x00000000, 0x00000800);
	struct pvpci_cs *cs = bind(f);
	struct cs_msix_geom g;
	unsigned walk[16];

	(void)state;
	assert_int_equal(guest_walk(cs, walk, 16), 4);
	assert_int_equal(walk[2], MSIX);
	assert_int_equal(pvpci_cs_cap(cs, 2)->len, 12);
	assert_string_equal(logbuf, "");
	assert_int_equal(cs_msix_geometry(cs, &g), 0);
	assert_int_equal(g.entries, 16);
	assert_int_equal(g.table_bir, 0);
	assert_int_equal(g.table_off, 0);
	assert_int_equal(g.pba_bir, 0);
	assert_int_equal(g.pba_off, 0x800);
	assert_int_equal(cs_rd(cs, CTRL, 2), 0x000f);
	assert_int_equal(cs_rd(cs, MSIX + 4, 4), 0x00000000);
	assert_int_equal(cs_rd(cs, MSIX + 8, 4), 0x00000800);
	pvpci_cs_free(cs);
	free(f);

	/* The table in the 64-bit BAR, exactly filling its end; the PBA at
	 * the end of BAR 0. */
	f = msix_dev(0x07ff, 0x000f8002, 0x00000f00);
	cs = bind(f);
	assert_true(pvpci_cs_cap(cs, 2)->visible);
	assert_int_equal(cs_msix_geometry(cs, &g), 0);
	assert_int_equal(g.entries, 2048);
	assert_int_equal(g.table_bir, 2);
	assert_int_equal(g.table_off, 0xf8000);
	assert_int_equal(g.pba_off, 0xf00);
	pvpci_cs_free(cs);
	free(f);

	/* Table and PBA side by side in one BAR: touching is not overlapping. */
	f = msix_dev(0x0003, 0x00000000, 0x00000040);
	cs = bind(f);
	assert_true(pvpci_cs_cap(cs, 2)->visible);
	pvpci_cs_free(cs);
	free(f);
}

static void test_validation_failures(void **state)
{
	static const struct {
		uint16_t ctrl;
		uint32_t table, pba;
		const char *why;
	} cases[] = {
		{ 0x000f, 0x00000001, 0x00000800, "table BIR 1 names an unused BAR" },
		{ 0x000f, 0x00000000, 0x00000805, "PBA BIR 5 names an unused BAR" },
		{ 0x000f, 0x00000006, 0x00000800, "table BIR 6 is reserved" },
		{ 0x000f, 0x00000000, 0x00000807, "PBA BIR 7 is reserved" },
		{ 0x000f, 0x00000003, 0x00000800, "table BIR 3 names the upper half of a 64-bit BAR" },
		{ 0x000f, 0x00000000, 0x00000004, "PBA BIR 4 names an I/O BAR" },
		/* 256 entries = 4K from 0x100 in a 4K BAR. */
		{ 0x00ff, 0x00000100, 0x00000002, "the table (256 entries at 0x100) runs past the end of BAR 0" },
		/* 2048 entries = 32K in a 4K BAR, from 0. */
		{ 0x07ff, 0x00000000, 0x00000002, "the table (2048 entries at 0x0) runs past the end of BAR 0" },
		/* The PBA of 65 entries is 16 bytes: from 0xff8 it does not fit. */
		{ 0x0040, 0x00000002, 0x00000ff8, "the PBA (at 0xff8) runs past the end of BAR 0" },
		{ 0x000f, 0x00000000, 0x00000080, "the table and the PBA overlap in BAR 0" },
		{ 0x000f, 0x00000800, 0x000008f8, "the table and the PBA overlap in BAR 0" },
		{ 0x0040, 0x00000100, 0x000000f8, "the table and the PBA overlap in BAR 0" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fakedev *f = msix_dev(cases[i].ctrl, cases[i].table, cases[i].pba);
		struct pvpci_cs *cs = bind(f);
		struct cs_msix_geom g = { .entries = 77 };
		unsigned walk[16];

		if (!strstr(logbuf, cases[i].why))
			fail_msg("case %zu: log does not say \"%s\": \"%s\"", i, cases[i].why, logbuf);
		assert_non_null(strstr(logbuf, "MSI-X capability at 0x54 hidden"));
		assert_false(pvpci_cs_cap(cs, 2)->visible);
		/* Relinked: MSI points past it to the vendor capability. */
		assert_int_equal(guest_walk(cs, walk, 16), 3);
		assert_int_equal(walk[1], MSI);
		assert_int_equal(walk[2], VNDR);
		assert_int_equal(cs_rd(cs, MSI + 1, 1), VNDR);
		for (unsigned o = MSIX; o < MSIX + 12; o += 4)
			assert_int_equal(cs_rd(cs, o, 4), 0);
		cs_wr(cs, MSIX, 4, 0xffffffff);
		cs_wr(cs, CTRL + 2, 4, 0xffffffff);
		assert_int_equal(f->nlog, 0);
		assert_int_equal(cs_msix_geometry(cs, &g), -ENODEV);
		assert_int_equal(g.entries, 77);
		assert_int_equal(cs_msix_set_enable(cs, true), -ENODEV);
		pvpci_cs_free(cs);
		free(f);
	}
}

/* The device changes its Table/PBA registers after bind: not believed. */
static void test_bind_time_values(void **state)
{
	struct fakedev *f = msix_dev(0x000f, 0x00000000, 0x00000800);
	struct pvpci_cs *cs = bind(f);
	struct cs_msix_geom g;

	(void)state;
	fake_put(f, MSIX + 4, 4, 0x00100003);
	fake_put(f, MSIX + 8, 4, 0xfffffff8);
	fake_put(f, CTRL, 2, 0x07ff);
	assert_int_equal(cs_rd(cs, MSIX + 4, 4), 0x00000000);
	assert_int_equal(cs_rd(cs, MSIX + 8, 4), 0x00000800);
	assert_int_equal(cs_rd(cs, CTRL, 2) & 0x7ff, 0x00f);
	assert_int_equal(cs_msix_geometry(cs, &g), 0);
	assert_int_equal(g.entries, 16);
	assert_int_equal(g.pba_off, 0x800);
	pvpci_cs_free(cs);
	free(f);
}

/* The host's driver left MSI-X on and masked; a new guest sees it off. */
static void test_guest_starts_disabled(void **state)
{
	struct fakedev *f = msix_dev(0xc00f, 0x00000000, 0x00000800);
	struct pvpci_cs *cs = bind(f);

	(void)state;
	assert_int_equal(cs_rd(cs, CTRL, 2), 0x000f);
	assert_int_equal(fake_get(f, CTRL, 2), 0xc00f);	/* hardware untouched at bind */
	pvpci_cs_free(cs);
	free(f);
}

static void test_control_and_writes(void **state)
{
	(void)state;
	for (unsigned perm = 0; perm < 2; perm++) {
		struct fakedev *f = msix_dev(0x000f, 0x00000000, 0x00000800);
		struct pvpci_cs *cs = bind_opts(f, perm, false);

		cs_wr(cs, CTRL, 2, 0xffff);
		/* Enable and Function Mask, virtual; size read-only; reserved 0. */
		assert_int_equal(cs_rd(cs, CTRL, 2), 0xc00f);
		assert_int_equal(fake_get(f, CTRL, 2), 0x000f);
		cs_wr(cs, MSIX + 4, 4, 0x12345678);
		cs_wr(cs, MSIX + 8, 4, 0xffffffff);
		cs_wr(cs, MSIX + 8, 1, 0x00);
		assert_int_equal(cs_rd(cs, MSIX + 4, 4), 0);
		assert_int_equal(cs_rd(cs, MSIX + 8, 4), 0x800);
		cs_wr(cs, CTRL + 1, 1, 0x40);
		assert_int_equal(cs_rd(cs, CTRL, 2), 0x400f);
		assert_int_equal(f->nlog, 0);
		pvpci_cs_free(cs);
		free(f);
	}
}

/*
 * Every write of all-ones and zeros at every size and offset from the
 * MSI capability to the end of the vendor-specific one after MSI-X, fresh
 * device each time, permissive or not: nothing of MSI or MSI-X reaches
 * the device.  The dwords at 0x50, 0x5c and 0x60 end one capability and
 * start the next.
 */
static void test_write_sweep(void **state)
{
	(void)state;
	for (unsigned perm = 0; perm < 2; perm++)
		for (unsigned pattern = 0; pattern < 2; pattern++)
			for (unsigned size = 1; size <= 4; size *= 2)
				for (unsigned off = MSI; off < VNDR + 4; off += size) {
					struct fakedev *f = msix_dev(0x000f, 0x00000000, 0x00000800);
					struct pvpci_cs *cs = bind_opts(f, perm, false);
					uint32_t v = pattern ? size_mask(size) : 0;

					cs_wr(cs, off, size, v);
					if (fake_writes_to(f, MSI, VNDR + 2 - MSI))
						fail_msg("write 0x%x size %u of 0x%x (permissive %u) reached the "
							 "device at 0x%x", off, size, v, perm, f->log[0].off);
					pvpci_cs_free(cs);
					free(f);
				}
}

static void test_op_path_and_interrupt_control(void **state)
{
	struct fakedev *f = msix_dev(0x000f, 0x00000000, 0x00000800);
	struct pvpci_cs *cs = bind(f);

	(void)state;
	cs_wr(cs, CTRL + 1, 1, 0x40);			/* the guest's Function Mask: virtual */
	assert_int_equal(cs_msix_set_enable(cs, true), 0);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(fake_get(f, CTRL, 2), 0x800f);	/* Enable only */
	assert_int_equal(cs_rd(cs, CTRL, 2), 0xc00f);
	assert_int_equal(cs_msix_set_enable(cs, true), 0);
	assert_int_equal(f->nlog, 1);			/* already on: no write */
	assert_int_equal(cs_msix_set_enable(cs, false), 0);
	assert_int_equal(fake_get(f, CTRL, 2), 0x000f);
	assert_int_equal(cs_rd(cs, CTRL, 2), 0x400f);
	/* Not while MSI is on. */
	fake_put(f, MSI + 2, 2, 0x0001);
	assert_int_equal(cs_msix_set_enable(cs, true), -EBUSY);
	assert_int_equal(fake_get(f, CTRL, 2), 0x000f);
	pvpci_cs_free(cs);
	free(f);

	/* With interrupt control, Enable and Function Mask reach the device. */
	f = msix_dev(0x000f, 0x00000000, 0x00000800);
	logbuf[0] = 0;
	cs = bind_opts(f, false, true);
	cs_wr(cs, CTRL, 2, 0xffff);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(fake_get(f, CTRL, 2), 0xc00f);
	cs_wr(cs, CTRL + 1, 1, 0x80);
	assert_int_equal(fake_get(f, CTRL, 2), 0x800f);
	cs_wr(cs, CTRL + 1, 1, 0x80);
	assert_int_equal(f->nlog, 2);
	cs_wr(cs, CTRL, 2, 0x0000);
	assert_int_equal(fake_get(f, CTRL, 2), 0x000f);
	/* Refused while MSI is on: the guest reads back the device's state. */
	fake_put(f, MSI + 2, 2, 0x0001);
	cs_wr(cs, CTRL + 1, 1, 0x80);
	assert_int_equal(fake_get(f, CTRL, 2), 0x000f);
	assert_int_equal(cs_rd(cs, CTRL, 2), 0x000f);
	assert_non_null(strstr(logbuf, "MSI is enabled"));
	pvpci_cs_free(cs);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_validation_failures),
		cmocka_unit_test(test_bind_time_values),
		cmocka_unit_test(test_guest_starts_disabled),
		cmocka_unit_test(test_control_and_writes),
		cmocka_unit_test(test_write_sweep),
		cmocka_unit_test(test_op_path_and_interrupt_control),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
