/*
 * Capability chains: walking with a loop guard, hiding by relinking, the
 * header kept at 0x100, hidden bytes reading 0, on synthetic chains in a
 * recording fake device.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "cstest.h"

static struct pvpci_cs *bind(struct fakedev *f)
{
	struct pvpci_cs *cs = NULL;
	char err[256];

	assert_int_equal(pvpci_cs_new(&f->hd, NULL, &cs, err, sizeof(err)), 0);
	f->nlog = 0;
	return cs;
}

/* Walk the standard chain as a guest (and lspci) would; ids into out. */
static size_t guest_walk_std(struct pvpci_cs *cs, unsigned *out, size_t max)
{
	size_t n = 0;
	unsigned p;

	if (!(cs_rd(cs, 0x06, 2) & 0x10))
		return 0;
	for (p = cs_rd(cs, 0x34, 1) & 0xfc; p && n < max; p = cs_rd(cs, p + 1, 1) & 0xfc)
		out[n++] = p << 8 | cs_rd(cs, p, 1);
	assert_true(n < max);	/* it ended */
	return n;
}

static size_t guest_walk_ext(struct pvpci_cs *cs, unsigned *out, size_t max)
{
	size_t n = 0;
	unsigned p = 0x100;

	while (n < max) {
		uint32_t h = cs_rd(cs, p, 4);

		if (!h)
			break;
		out[n++] = p << 16 | (h & 0xffff);
		p = h >> 20;
		if (!p)
			break;
	}
	assert_true(n < max);
	return n;
}

static void test_relink_hides(void **state)
{
	struct fakedev *f = fake_new(256);
	struct pvpci_cs *cs;
	unsigned ids[64];

	(void)state;
	f->cfg[0x34] = 0x40;
	f->cfg[0x06] |= 0x10;
	fake_put(f, 0x40, 2, 0x4801);	/* PM -> 0x48 */
	fake_put(f, 0x48, 2, 0x5007);	/* PCI-X (hidden) -> 0x50 */
	fake_put(f, 0x4a, 4, 0xaabbccdd);
	fake_put(f, 0x50, 2, 0x6011);	/* MSI-X -> 0x60 */
	fake_put(f, 0x58, 4, 0x00000800);	/* its PBA apart from the table (BIR 0) */
	fake_put(f, 0x60, 2, 0x0012);	/* SATA (hidden) -> end */
	for (unsigned i = 0x40; i < 0x70; i++)
		f->hw_wmask[i] = 0xff;
	cs = bind(f);
	assert_int_equal(guest_walk_std(cs, ids, 64), 2);
	assert_int_equal(ids[0], 0x4001);
	assert_int_equal(ids[1], 0x5011);
	assert_int_equal(cs_rd(cs, 0x41, 1), 0x50);
	assert_int_equal(cs_rd(cs, 0x51, 1), 0x00);
	/* The hidden capability's bytes read 0 and take no write. */
	for (unsigned o = 0x48; o < 0x50; o++)
		assert_int_equal(cs_rd(cs, o, 1), 0);
	assert_int_equal(pvpci_cs_write(cs, 0x48, 4, 0xffffffff), 0);
	assert_int_equal(pvpci_cs_write(cs, 0x60, 4, 0xffffffff), 0);
	assert_int_equal(f->nlog, 0);
	/* ID and next pointer writes never reach hardware either. */
	assert_int_equal(pvpci_cs_write(cs, 0x40, 2, 0xffff), 0);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(pvpci_cs_ncaps(cs), 4);
	assert_false(pvpci_cs_cap(cs, 1)->visible);
	assert_string_equal(pvpci_cs_cap(cs, 1)->name, "PCI-X");
	assert_string_equal(pvpci_cs_chain_note(cs), "");
	pvpci_cs_free(cs);
	free(f);
}

static void test_first_hidden(void **state)
{
	struct fakedev *f = fake_new(256);
	struct pvpci_cs *cs;
	unsigned ids[64];

	(void)state;
	f->cfg[0x34] = 0x48;
	f->cfg[0x06] |= 0x10;
	fake_put(f, 0x48, 2, 0x5013);	/* AF (hidden) -> 0x50 */
	fake_put(f, 0x50, 2, 0x0005);	/* MSI */
	cs = bind(f);
	assert_int_equal(cs_rd(cs, 0x34, 1), 0x50);
	assert_int_equal(guest_walk_std(cs, ids, 64), 1);
	assert_int_equal(ids[0], 0x5005);
	pvpci_cs_free(cs);
	free(f);
}

static void test_loop_cut(void **state)
{
	struct fakedev *f = fake_new(256);
	struct pvpci_cs *cs;
	unsigned ids[64];

	(void)state;
	f->cfg[0x34] = 0x40;
	f->cfg[0x06] |= 0x10;
	fake_put(f, 0x40, 2, 0x5001);
	fake_put(f, 0x50, 2, 0x4005);	/* back to 0x40 */
	cs = bind(f);
	assert_int_equal(pvpci_cs_ncaps(cs), 2);
	assert_non_null(strstr(pvpci_cs_chain_note(cs), "loops"));
	assert_int_equal(guest_walk_std(cs, ids, 64), 2);
	assert_int_equal(cs_rd(cs, 0x51, 1), 0);	/* the loop is closed off */
	pvpci_cs_free(cs);
	free(f);

	/* A self loop on a hidden capability. */
	f = fake_new(256);
	f->cfg[0x34] = 0x40;
	f->cfg[0x06] |= 0x10;
	fake_put(f, 0x40, 2, 0x4007);
	cs = bind(f);
	assert_int_equal(cs_rd(cs, 0x34, 1), 0);
	assert_int_equal(cs_rd(cs, 0x06, 2) & 0x10, 0);
	pvpci_cs_free(cs);
	free(f);
}

static void test_wild_pointers(void **state)
{
	struct fakedev *f = fake_new(256);
	struct pvpci_cs *cs;
	unsigned ids[64];

	(void)state;
	f->cfg[0x34] = 0x40;
	f->cfg[0x06] |= 0x10;
	fake_put(f, 0x40, 2, 0x1001);	/* into the header */
	cs = bind(f);
	assert_non_null(strstr(pvpci_cs_chain_note(cs), "header"));
	assert_int_equal(guest_walk_std(cs, ids, 64), 1);
	assert_int_equal(cs_rd(cs, 0x41, 1), 0);
	pvpci_cs_free(cs);
	free(f);

	f = fake_new(256);
	f->cfg[0x34] = 0x40;
	f->cfg[0x06] |= 0x10;
	memset(f->cfg + 0x40, 0xff, 0xc0);	/* what a vanished device reads */
	cs = bind(f);
	assert_non_null(strstr(pvpci_cs_chain_note(cs), "all-ones"));
	assert_int_equal(guest_walk_std(cs, ids, 64), 0);
	pvpci_cs_free(cs);
	free(f);

	/* Low pointer bits are reserved and ignored, as the spec says. */
	f = fake_new(256);
	f->cfg[0x34] = 0x43;
	f->cfg[0x06] |= 0x10;
	fake_put(f, 0x40, 2, 0x0001);
	cs = bind(f);
	assert_int_equal(cs_rd(cs, 0x34, 1), 0x40);
	pvpci_cs_free(cs);
	free(f);
}

static void test_ext_relink(void **state)
{
	struct fakedev *f = fake_new(4096);
	struct pvpci_cs *cs;
	unsigned ids[64];

	(void)state;
	fake_put(f, 0x100, 4, 0x14010003);	/* DSN (hidden) -> 0x140 */
	fake_put(f, 0x104, 4, 0x11111111);
	fake_put(f, 0x140, 4, 0x18020001);	/* AER v2 -> 0x180 */
	fake_put(f, 0x180, 4, 0x1c010018);	/* LTR (hidden) -> 0x1c0 */
	fake_put(f, 0x1c0, 4, 0x0001000b);	/* vendor specific, end */
	cs = bind(f);
	assert_int_equal(guest_walk_ext(cs, ids, 64), 3);
	assert_int_equal(ids[0], 0x1000000);	/* ID 0 header kept at 0x100 */
	assert_int_equal(ids[1], 0x1400001);
	assert_int_equal(ids[2], 0x1c0000b);
	assert_int_equal(cs_rd(cs, 0x100, 4), 0x14000000);
	assert_int_equal(cs_rd(cs, 0x104, 4), 0);
	assert_int_equal(cs_rd(cs, 0x140, 4), 0x1c020001);
	assert_int_equal(cs_rd(cs, 0x180, 4), 0);
	pvpci_cs_free(cs);
	free(f);
}

static void test_ext_loop_and_none(void **state)
{
	struct fakedev *f = fake_new(4096);
	struct pvpci_cs *cs;
	unsigned ids[64];

	(void)state;
	fake_put(f, 0x100, 4, 0x10010001);	/* AER pointing at itself */
	cs = bind(f);
	assert_non_null(strstr(pvpci_cs_chain_note(cs), "loops"));
	assert_int_equal(guest_walk_ext(cs, ids, 64), 1);
	assert_int_equal(cs_rd(cs, 0x100, 4), 0x00010001);
	pvpci_cs_free(cs);
	free(f);

	f = fake_new(4096);
	fake_put(f, 0x100, 4, 0x0a010003);	/* DSN -> below 0x100 */
	cs = bind(f);
	assert_non_null(strstr(pvpci_cs_chain_note(cs), "below 0x100"));
	assert_int_equal(cs_rd(cs, 0x100, 4), 0);	/* nothing visible: no chain */
	pvpci_cs_free(cs);
	free(f);

	/* A conventional device has no extended chain to walk. */
	f = fake_new(256);
	fake_put(f, 0xfc, 4, 0x12345678);
	cs = bind(f);
	assert_int_equal(pvpci_cs_ncaps(cs), 0);
	pvpci_cs_free(cs);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relink_hides),
		cmocka_unit_test(test_first_hidden),
		cmocka_unit_test(test_loop_cut),
		cmocka_unit_test(test_wild_pointers),
		cmocka_unit_test(test_ext_relink),
		cmocka_unit_test(test_ext_loop_and_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
