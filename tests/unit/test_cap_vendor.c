/*
 * Vendor-specific capabilities (standard 0x09, VSEC 0x000b, DVSEC 0x0023):
 * visible; headers read-only always; the body read-only unless the device
 * is permissive, then each write reaches hardware at the guest's offset
 * and width; length from the capability's own field, cut at the next
 * capability or the end of the space.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "cstest.h"

static struct pvpci_cs *bind(struct fakedev *f, bool permissive)
{
	struct pvpci_cs_opts o = { .permissive = permissive };
	return cs_bind_with(f, &o);
}

/* A standard vendor capability of 0x10 bytes at 0x40; hardware lets every
 * body byte (and, to catch leaks, the header) be written. */
static struct fakedev *std_dev(void)
{
	struct fakedev *f = fake_new(PVPCI_CFG_SIZE);

	fake_cap(f, 0x40, 0x09, 0);
	f->cfg[0x42] = 0x10;
	for (unsigned o = 0x43; o < 0x50; o++)
		f->cfg[o] = (uint8_t)o;
	for (unsigned o = 0x40; o < 0x50; o++)
		f->hw_wmask[o] = 0xff;
	return f;
}

static void test_std_read_only(void **state)
{
	struct fakedev *f = std_dev();
	struct pvpci_cs *cs = bind(f, false);
	uint8_t before[0x10];

	(void)state;
	assert_true(cs_cap_at(cs, 0x40)->visible);
	assert_int_equal(cs_cap_at(cs, 0x40)->len, 0x10);
	assert_int_equal(cs_rd(cs, 0x40, 4), 0x43100009);
	memcpy(before, f->cfg + 0x40, sizeof(before));
	for (unsigned size = 1; size <= 4; size *= 2)
		for (unsigned o = 0x40; o < 0x50; o += size) {
			cs_wr(cs, o, size, 0xffffffff);
			cs_wr(cs, o, size, 0);
		}
	assert_int_equal(f->nlog, 0);
	assert_memory_equal(f->cfg + 0x40, before, sizeof(before));
	/* Reads are the hardware's, as it changes. */
	f->cfg[0x47] = 0x99;
	assert_int_equal(cs_rd(cs, 0x44, 4), 0x99464544);
	assert_int_equal(cs_rd(cs, 0x47, 1), 0x99);
	pvpci_cs_free(cs);
	free(f);
}

static void test_std_permissive(void **state)
{
	struct fakedev *f = std_dev();
	struct pvpci_cs *cs = bind(f, true);

	(void)state;
	/* The guest's offset and width, nothing merged around them. */
	cs_wr(cs, 0x44, 4, 0xa1a2a3a4);
	cs_wr(cs, 0x4a, 2, 0xb1b2);
	cs_wr(cs, 0x4d, 1, 0xc1);
	assert_int_equal(f->nlog, 3);
	assert_int_equal(fake_count_write(f, 0x44, 4, 0xa1a2a3a4), 1);
	assert_int_equal(fake_count_write(f, 0x4a, 2, 0xb1b2), 1);
	assert_int_equal(fake_count_write(f, 0x4d, 1, 0xc1), 1);
	assert_int_equal(cs_rd(cs, 0x44, 4), 0xa1a2a3a4);
	/* The header dword: ID, next and length stay; byte 0x43 is body. */
	f->nlog = 0;
	cs_wr(cs, 0x40, 4, 0xeeffffff);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(fake_count_write(f, 0x43, 1, 0xee), 1);
	assert_int_equal(fake_get(f, 0x40, 3), 0x100009);
	/* Permissive switched off at run time. */
	pvpci_cs_set_permissive(cs, false);
	f->nlog = 0;
	cs_wr(cs, 0x44, 4, 0);
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);
}

static void test_std_length(void **state)
{
	struct fakedev *f = fake_new(PVPCI_CFG_SIZE);
	struct pvpci_cs *cs;

	(void)state;
	/* Too short to hold its own length: the three header bytes. */
	fake_cap(f, 0x40, 0x09, 0x60);
	f->cfg[0x42] = 0;
	/* Longer than the room before the next capability: cut there. */
	fake_cap(f, 0x60, 0x09, 0xf0);
	f->cfg[0x62] = 0xff;
	/* Past the end of the conventional space: cut there. */
	fake_cap(f, 0xf0, 0x09, 0);
	f->cfg[0xf2] = 0x40;
	cs = bind(f, false);
	assert_int_equal(cs_cap_at(cs, 0x40)->len, 3);
	assert_int_equal(cs_cap_at(cs, 0x60)->len, 0x90);
	assert_int_equal(cs_cap_at(cs, 0xf0)->len, 0x10);
	assert_int_equal(cs_rd(cs, 0x62, 1), 0xff);
	pvpci_cs_free(cs);
	free(f);
}

/* VSEC at 0x100 with an AER capability after it. */
static struct fakedev *vsec_dev(unsigned len)
{
	struct fakedev *f = fake_new(PVPCI_CFG_EXP_SIZE);

	fake_ext_cap(f, 0x100, 0x000b, 1, 0x140);
	fake_put(f, 0x104, 4, (uint32_t)len << 20 | 1u << 16 | 0x1234);
	for (unsigned o = 0x108; o < 0x140; o++) {
		f->cfg[o] = (uint8_t)o;
		f->hw_wmask[o] = 0xff;
	}
	fake_wmask(f, 0x104, 4, 0xffffffff);
	fake_ext_cap(f, 0x140, 0x0001, 1, 0);
	return f;
}

static void test_vsec(void **state)
{
	struct fakedev *f = vsec_dev(0x24);
	struct pvpci_cs *cs = bind(f, false);

	(void)state;
	assert_true(cs_cap_at(cs, 0x100)->visible);
	assert_int_equal(cs_cap_at(cs, 0x100)->len, 0x24);
	assert_int_equal(cs_rd(cs, 0x104, 4), 0x02411234);
	assert_int_equal(cs_rd(cs, 0x108, 4), 0x0b0a0908);
	cs_wr(cs, 0x104, 4, 0);
	cs_wr(cs, 0x108, 4, 0);
	cs_wr(cs, 0x120, 2, 0);
	assert_int_equal(f->nlog, 0);
	pvpci_cs_set_permissive(cs, true);
	cs_wr(cs, 0x104, 4, 0);
	assert_int_equal(f->nlog, 0);
	cs_wr(cs, 0x108, 4, 0x01020304);
	cs_wr(cs, 0x122, 1, 0x55);
	assert_int_equal(fake_count_write(f, 0x108, 4, 0x01020304), 1);
	assert_int_equal(fake_count_write(f, 0x122, 1, 0x55), 1);
	assert_int_equal(f->nlog, 2);
	pvpci_cs_free(cs);
	free(f);

	/* A length that runs into the next capability is cut there; one too
	 * short for its own header is the header. */
	f = vsec_dev(0xfff);
	cs = bind(f, false);
	assert_int_equal(cs_cap_at(cs, 0x100)->len, 0x40);
	pvpci_cs_free(cs);
	free(f);
	f = vsec_dev(0);
	cs = bind(f, false);
	assert_int_equal(cs_cap_at(cs, 0x100)->len, 8);
	pvpci_cs_free(cs);
	free(f);
}

/* A VSEC of 10 bytes ends in the middle of a dword: a dword write there
 * runs from the capability's last bytes into bytes past it, and reaches
 * hardware whole on a permissive device only. */
static void test_vsec_straddle(void **state)
{
	struct fakedev *f = vsec_dev(0x0a);
	struct pvpci_cs *cs = bind(f, false);

	(void)state;
	assert_int_equal(cs_cap_at(cs, 0x100)->len, 0x0a);
	cs_wr(cs, 0x108, 4, 0xcafef00d);
	assert_int_equal(f->nlog, 0);
	pvpci_cs_set_permissive(cs, true);
	cs_wr(cs, 0x108, 4, 0xcafef00d);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(fake_count_write(f, 0x108, 4, 0xcafef00d), 1);
	/* The next capability's header takes nothing, permissive or not. */
	f->nlog = 0;
	cs_wr(cs, 0x140, 4, 0);
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);
}

static void test_dvsec(void **state)
{
	struct fakedev *f = fake_new(PVPCI_CFG_EXP_SIZE);
	struct pvpci_cs *cs;

	(void)state;
	fake_ext_cap(f, 0x100, 0x0023, 1, 0);
	fake_put(f, 0x104, 4, 0x10u << 20 | 1u << 16 | 0x1e98);
	fake_put(f, 0x108, 4, 0xabcd0002);
	for (unsigned o = 0x104; o < 0x110; o++)
		f->hw_wmask[o] = 0xff;
	cs = bind(f, true);
	assert_true(cs_cap_at(cs, 0x100)->visible);
	assert_int_equal(cs_cap_at(cs, 0x100)->len, 0x10);
	assert_int_equal(cs_rd(cs, 0x108, 2), 0x0002);
	/* Header 2 with the first body word: only the body reaches hardware. */
	cs_wr(cs, 0x108, 4, 0x55aa7777);
	cs_wr(cs, 0x104, 4, 0);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(fake_count_write(f, 0x10a, 2, 0x55aa), 1);
	assert_int_equal(cs_rd(cs, 0x108, 4), 0x55aa0002);
	pvpci_cs_set_permissive(cs, false);
	cs_wr(cs, 0x10c, 4, 0x12345678);
	assert_int_equal(f->nlog, 1);
	pvpci_cs_free(cs);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_std_read_only),
		cmocka_unit_test(test_std_permissive),
		cmocka_unit_test(test_std_length),
		cmocka_unit_test(test_vsec),
		cmocka_unit_test(test_vsec_straddle),
		cmocka_unit_test(test_dvsec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
