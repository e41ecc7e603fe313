/*
 * Vital Product Data: the read protocol reaches hardware (address write
 * with F clear, poll F, read data); a write request (address with F set)
 * is refused with XEN_PCI_ERR_access_denied, permissive or not, and
 * nothing reaches hardware; data writes are dropped.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "cstest.h"

#define VPD	0x50

static unsigned nwarn;

static void count_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level == PVPCI_LOG_WARNING && strstr(msg, "Vital Product Data"))
		nwarn++;
}

static struct pvpci_cs *bind(struct fakedev *f, bool permissive)
{
	struct pvpci_cs_opts o = { .permissive = permissive, .log = count_log };
	struct pvpci_cs *cs = cs_bind_with(f, &o);

	nwarn = 0;
	return cs;
}

/* VPD at 0x50, then a vendor-specific capability at 0x58.  The address
 * register takes all 16 bits (a write with F clear clears it; one with F
 * set would start a VPD write); the data register is writable, so a data
 * write that got through would show. */
static struct fakedev *vpd_dev(void)
{
	struct fakedev *f = fake_new(PVPCI_CFG_SIZE);

	fake_cap(f, VPD, 0x03, 0x58);
	fake_put(f, VPD + 4, 4, 0x11111111);
	fake_cap(f, 0x58, 0x09, 0);
	f->cfg[0x5a] = 4;
	fake_wmask(f, VPD + 2, 2, 0xffff);
	fake_wmask(f, VPD + 4, 4, 0xffffffff);
	return f;
}

/* What the device does when a read it was asked for completes. */
static void complete_read(struct fakedev *f, uint32_t data)
{
	fake_put(f, VPD + 2, 2, fake_get(f, VPD + 2, 2) | 0x8000);
	fake_put(f, VPD + 4, 4, data);
}

static void test_read_flow(void **state)
{
	struct fakedev *f = vpd_dev();
	struct pvpci_cs *cs = bind(f, false);

	(void)state;
	assert_int_equal(cs_rd(cs, VPD, 2), 0x5803);
	cs_wr(cs, VPD + 2, 2, 0x0010);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(fake_count_write(f, VPD + 2, 2, 0x0010), 1);
	assert_int_equal(cs_rd(cs, VPD + 2, 2), 0x0010);	/* F clear: not yet */
	complete_read(f, 0x44332211);
	assert_int_equal(cs_rd(cs, VPD + 2, 2), 0x8010);
	assert_int_equal(cs_rd(cs, VPD + 4, 4), 0x44332211);
	assert_int_equal(cs_rd(cs, VPD + 5, 1), 0x22);
	assert_int_equal(cs_rd(cs, VPD + 6, 2), 0x4433);

	/* The next address as part of a dword write over the header: only
	 * the address register reaches hardware. */
	f->nlog = 0;
	cs_wr(cs, VPD, 4, 0x0014ffff);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(fake_count_write(f, VPD + 2, 2, 0x0014), 1);
	assert_int_equal(cs_rd(cs, VPD + 2, 2), 0x0014);
	assert_int_equal(pvpci_cs_cap(cs, 0)->len, 8);
	assert_int_equal(nwarn, 0);
	pvpci_cs_free(cs);
	free(f);
}

/* A write of the low address byte alone, after a read completed (F set in
 * hardware): merging that F back in would start a VPD write. */
static void test_partial_address_write(void **state)
{
	struct fakedev *f = vpd_dev();
	struct pvpci_cs *cs = bind(f, false);

	(void)state;
	fake_put(f, VPD + 2, 2, 0x8110);
	cs_wr(cs, VPD + 2, 1, 0x20);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(fake_count_write(f, VPD + 2, 2, 0x0120), 1);
	pvpci_cs_free(cs);
	free(f);
}

static void test_write_refused(void **state)
{
	(void)state;
	for (int permissive = 0; permissive < 2; permissive++) {
		struct fakedev *f = vpd_dev();
		struct pvpci_cs *cs = bind(f, permissive);

		/* The data half of a VPD write: dropped. */
		cs_wr(cs, VPD + 4, 4, 0xdeadbeef);
		cs_wr(cs, VPD + 6, 2, 0xbeef);
		assert_int_equal(fake_get(f, VPD + 4, 4), 0x11111111);
		/* The address half, at every width that covers F. */
		assert_int_equal(pvpci_cs_write(cs, VPD + 2, 2, 0x8010), PVPCI_ERR_access_denied);
		assert_int_equal(pvpci_cs_write(cs, VPD + 3, 1, 0x80), PVPCI_ERR_access_denied);
		assert_int_equal(pvpci_cs_write(cs, VPD, 4, 0x80100000), PVPCI_ERR_access_denied);
		assert_int_equal(f->nlog, 0);
		assert_int_equal(fake_get(f, VPD + 2, 2), 0x0000);
		/* Reported once, not once per attempt. */
		assert_int_equal(nwarn, 1);
		/* Reading still works afterwards. */
		cs_wr(cs, VPD + 2, 2, 0x0004);
		assert_int_equal(fake_count_write(f, VPD + 2, 2, 0x0004), 1);
		pvpci_cs_free(cs);
		free(f);
	}
}

/* The data register's dword and the vendor capability after it: a write
 * to the capability that follows is the vendor file's business (read-only
 * unless permissive), and the VPD data stays untouched either way. */
static void test_neighbours(void **state)
{
	struct fakedev *f = vpd_dev();
	struct pvpci_cs *cs = bind(f, true);

	(void)state;
	cs_wr(cs, VPD + 4, 4, 0x12345678);
	cs_wr(cs, 0x58, 4, 0xffffffff);
	assert_int_equal(f->nlog, 1);	/* byte 0x5b of the vendor capability */
	assert_int_equal(fake_count_write(f, 0x5b, 1, 0xff), 1);
	assert_int_equal(fake_get(f, VPD + 4, 4), 0x11111111);
	pvpci_cs_free(cs);
	free(f);
}

/* Cut by the end of the conventional space: only what fits is ours. */
static void test_cut(void **state)
{
	struct fakedev *f = fake_new(PVPCI_CFG_SIZE);
	struct pvpci_cs *cs;

	(void)state;
	fake_cap(f, 0xfc, 0x03, 0);
	cs = bind(f, false);
	assert_int_equal(pvpci_cs_cap(cs, 0)->len, 4);
	assert_non_null(pvpci_cs_reg_at(cs, 0xfe));
	assert_int_equal(pvpci_cs_write(cs, 0xfe, 2, 0x8000), PVPCI_ERR_access_denied);
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_flow),
		cmocka_unit_test(test_partial_address_write),
		cmocka_unit_test(test_write_refused),
		cmocka_unit_test(test_neighbours),
		cmocka_unit_test(test_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
