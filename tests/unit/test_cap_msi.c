/*
 * The MSI capability: each of the four layouts (32/64-bit address, with
 * or without per-vector masking) with its length, every field virtual and
 * nothing written reaching the device (also in permissive mode and over
 * the capability right after it), Multiple Message Enable clamped, Enable
 * through the op path or a guest write with interrupt control, and a
 * capability that does not fit hidden, against a recording fake.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "cstest.h"

#define MSI	0x50
#define CTRL	(MSI + 2)

static char logbuf[4096];

static void rec_log(void *ctx, int level, const char *msg)
{
	size_t n = strlen(logbuf);

	(void)ctx;
	(void)level;
	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
}

struct layout {
	bool is64, pvm;
	unsigned len, data, mask;	/* length, Data and Mask Bits offsets */
};

static const struct layout layouts[] = {
	{ false, false, 0x0c, 0x08, 0 },
	{ true, false, 0x10, 0x0c, 0 },
	{ false, true, 0x14, 0x08, 0x0c },
	{ true, true, 0x18, 0x0c, 0x10 },
};

/*
 * MSI at 0x50 with the host's values in every field (as a host driver
 * left them), and a vendor-specific capability right after its last byte.
 * Every byte of the MSI capability is writable in "hardware", so any write
 * that reached it would show.
 */
static struct fakedev *msi_dev(const struct layout *l, uint16_t mmc_bits)
{
	struct fakedev *f = fake_new(256);
	uint16_t ctrl = mmc_bits | (l->is64 ? 0x0080 : 0) | (l->pvm ? 0x0100 : 0);

	fake_cap(f, MSI, 0x05, (uint8_t)(MSI + l->len));
	fake_put(f, CTRL, 2, ctrl);
	fake_put(f, MSI + 4, 4, 0xfee0100c);
	if (l->is64)
		fake_put(f, MSI + 8, 4, 0x00000001);
	fake_put(f, MSI + l->data, 2, 0x4041);
	if (l->pvm) {
		fake_put(f, MSI + l->mask, 4, 0x00000003);
		fake_put(f, MSI + l->mask + 4, 4, 0x00000001);
	}
	for (unsigned o = MSI + 2; o < MSI + l->len; o++)
		f->hw_wmask[o] = 0xff;
	fake_wmask(f, CTRL, 2, 0x0071);
	fake_cap(f, MSI + l->len, 0x09, 0);
	f->cfg[MSI + l->len + 2] = 4;
	return f;
}

static struct pvpci_cs *bind_opts(struct fakedev *f, bool permissive, bool intx)
{
	struct pvpci_cs_opts o = { .permissive = permissive, .allow_interrupt_control = intx,
				   .log = rec_log };
	struct pvpci_cs *cs = NULL;
	char err[256];

	logbuf[0] = 0;
	assert_int_equal(pvpci_cs_new(&f->hd, &o, &cs, err, sizeof(err)), 0);
	f->nlog = 0;
	return cs;
}

static struct pvpci_cs *bind(struct fakedev *f)
{
	return bind_opts(f, false, false);
}

static void test_layouts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		for (unsigned perm = 0; perm < 2; perm++) {
			const struct layout *l = &layouts[i];
			struct fakedev *f = msi_dev(l, 0x0004);	/* 4 vectors capable */
			struct pvpci_cs *cs = bind_opts(f, perm, false);
			uint16_t ctrl = (uint16_t)fake_get(f, CTRL, 2);

			assert_int_equal(pvpci_cs_ncaps(cs), 2);
			assert_true(pvpci_cs_cap(cs, 0)->visible);
			assert_int_equal(pvpci_cs_cap(cs, 0)->len, l->len);
			assert_int_equal(cs_rd(cs, MSI + 1, 1), MSI + l->len);
			/* Control as the host has it; address, data, mask, pending
			 * are the guest's own and start at 0. */
			assert_int_equal(cs_rd(cs, CTRL, 2), ctrl);
			for (unsigned o = 4; o < l->len; o += 4)
				assert_int_equal(cs_rd(cs, MSI + o, 4), 0);

			/* Every field, all ones. */
			cs_wr(cs, MSI, 4, 0xffffffff);
			for (unsigned o = 4; o < l->len; o += 4)
				cs_wr(cs, MSI + o, 4, 0xffffffff);
			assert_int_equal(f->nlog, 0);
			/* Enable, MME clamped to 4 vectors; capability bits kept. */
			assert_int_equal(cs_rd(cs, CTRL, 2), ctrl | 0x0021);
			assert_int_equal(cs_rd(cs, MSI + 4, 4), 0xfffffffc);
			if (l->is64)
				assert_int_equal(cs_rd(cs, MSI + 8, 4), 0xffffffff);
			assert_int_equal(cs_rd(cs, MSI + l->data, 2), 0xffff);
			assert_int_equal(cs_rd(cs, MSI + l->data + 2, 2), 0);	/* no extended data */
			if (l->pvm) {
				assert_int_equal(cs_rd(cs, MSI + l->mask, 4), 0xf);	/* 4 vectors */
				assert_int_equal(cs_rd(cs, MSI + l->mask + 4, 4), 0);
				cs_wr(cs, MSI + l->mask, 2, 0x0005);
				assert_int_equal(cs_rd(cs, MSI + l->mask, 4), 0x5);
			}
			/* And back to zero, by bytes and words. */
			for (unsigned o = 4; o < l->len; o++)
				cs_wr(cs, MSI + o, 1, 0);
			cs_wr(cs, CTRL, 2, 0);
			assert_int_equal(cs_rd(cs, CTRL, 2), ctrl & ~0x0071);
			for (unsigned o = 4; o < l->len; o += 2)
				assert_int_equal(cs_rd(cs, MSI + o, 2), 0);
			assert_int_equal(f->nlog, 0);
			/* The device kept what the host had. */
			assert_int_equal(fake_get(f, MSI + 4, 4), 0xfee0100c);
			assert_int_equal(fake_get(f, MSI + l->data, 2), 0x4041);
			/* The next capability is still there, right after. */
			assert_int_equal(cs_rd(cs, MSI + l->len, 2), 0x0009);
			pvpci_cs_free(cs);
			free(f);
		}
}

/*
 * Every write of all-ones and zeros at every size and offset of the MSI
 * capability and the dword after it (the next capability), on a fresh
 * device each time, permissive or not: nothing reaches the device in the
 * MSI capability or the next one's header.
 * Aligned accesses cannot cross the dword-aligned boundary between the
 * two, so the dword ending MSI and the one starting the next are both
 * covered, at every width.
 */
static void test_write_sweep(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		for (unsigned perm = 0; perm < 2; perm++)
			for (unsigned pattern = 0; pattern < 2; pattern++)
				for (unsigned size = 1; size <= 4; size *= 2)
					for (unsigned off = MSI; off < MSI + layouts[i].len + 4; off += size) {
						struct fakedev *f = msi_dev(&layouts[i], 0x000a);
						struct pvpci_cs *cs = bind_opts(f, perm, false);
						uint32_t v = pattern ? size_mask(size) : 0;

						cs_wr(cs, off, size, v);
						/* The next capability's body is no one's: in
						 * permissive mode its bytes take writes. */
						if (fake_writes_to(f, MSI, layouts[i].len + 2))
							fail_msg("layout %zu: write 0x%x size %u of 0x%x (permissive %u) "
								 "reached the device at 0x%x", i, off, size, v, perm,
								 f->log[0].off);
						pvpci_cs_free(cs);
						free(f);
					}
}

/* The host's driver left MSI on with 4 vectors; a new guest sees it off. */
static void test_guest_starts_disabled(void **state)
{
	struct fakedev *f = msi_dev(&layouts[3], 0x0004);
	struct pvpci_cs *cs;

	(void)state;
	fake_put(f, CTRL, 2, fake_get(f, CTRL, 2) | 0x0021);
	cs = bind(f);
	assert_int_equal(cs_rd(cs, CTRL, 2) & 0x0071, 0);
	assert_int_equal(cs_rd(cs, CTRL, 2) & 0x000e, 0x0004);	/* capability kept */
	assert_int_equal(fake_get(f, CTRL, 2) & 0x0021, 0x0021);	/* hardware untouched */
	pvpci_cs_free(cs);
	free(f);
}

static void test_mme_clamped(void **state)
{
	static const struct {
		uint16_t mmc_bits, write, want;
	} cases[] = {
		{ 0x0000, 0x0070, 0x0000 },	/* 1 vector: MME stays 0 */
		{ 0x0004, 0x0070, 0x0024 },	/* 4: MME 2 at most */
		{ 0x0004, 0x0010, 0x0014 },	/* 2 of 4: as asked */
		{ 0x000a, 0x0070, 0x005a },	/* 32 */
		{ 0x000e, 0x0070, 0x005e },	/* reserved MMC 7: 32 at most */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fakedev *f = msi_dev(&layouts[3], cases[i].mmc_bits);
		struct pvpci_cs *cs = bind(f);

		cs_wr(cs, CTRL, 2, cases[i].write);
		assert_int_equal(cs_rd(cs, CTRL, 2) & 0x7f, cases[i].want);
		assert_int_equal(f->nlog, 0);
		pvpci_cs_free(cs);
		free(f);
	}
}

static void test_reserved_mask_bits(void **state)
{
	struct fakedev *f = msi_dev(&layouts[2], 0x0000);	/* 1 vector */
	struct pvpci_cs *cs = bind(f);

	(void)state;
	cs_wr(cs, MSI + 0x0c, 4, 0xffffffff);
	assert_int_equal(cs_rd(cs, MSI + 0x0c, 4), 1);
	pvpci_cs_free(cs);
	free(f);

	f = msi_dev(&layouts[2], 0x000a);			/* 32 vectors */
	cs = bind(f);
	cs_wr(cs, MSI + 0x0c, 4, 0xffffffff);
	assert_int_equal(cs_rd(cs, MSI + 0x0c, 4), 0xffffffff);
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);
}

/* An MSI-X capability at 0x70 with its Enable bit as given. */
static void add_msix(struct fakedev *f, const struct layout *l, bool enabled)
{
	f->cfg[MSI + l->len + 1] = 0x70;
	fake_cap(f, 0x70, 0x11, 0);
	fake_put(f, 0x72, 2, enabled ? 0x8000 : 0);
	fake_put(f, 0x74, 4, 0x0);
	fake_put(f, 0x78, 4, 0x800);
}

static void test_op_path(void **state)
{
	struct fakedev *f = msi_dev(&layouts[1], 0x0004);
	struct pvpci_cs *cs = bind(f);

	(void)state;
	assert_int_equal(cs_msi_set_enable(cs, true, 1), 0);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(fake_get(f, CTRL, 2), 0x0085);
	assert_int_equal(cs_rd(cs, CTRL, 2), 0x0085);
	/* 3 vectors take 4: MME 2. */
	assert_int_equal(cs_msi_set_enable(cs, true, 3), 0);
	assert_int_equal(fake_get(f, CTRL, 2), 0x00a5);
	assert_int_equal(cs_rd(cs, CTRL, 2), 0x00a5);
	assert_int_equal(cs_msi_set_enable(cs, true, 8), -ERANGE);
	assert_int_equal(cs_msi_set_enable(cs, true, 0), -EINVAL);
	assert_int_equal(cs_msi_set_enable(cs, true, 33), -EINVAL);
	assert_int_equal(fake_get(f, CTRL, 2), 0x00a5);
	assert_int_equal(cs_msi_set_enable(cs, false, 0), 0);
	assert_int_equal(fake_get(f, CTRL, 2) & 1, 0);
	assert_int_equal(cs_rd(cs, CTRL, 2) & 1, 0);
	/* Without interrupt control a guest's Enable stays virtual. */
	f->nlog = 0;
	cs_wr(cs, CTRL, 2, 0x0001);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(cs_rd(cs, CTRL, 2) & 1, 1);
	pvpci_cs_free(cs);
	free(f);

	/* Not with MSI-X on. */
	f = msi_dev(&layouts[1], 0x0004);
	add_msix(f, &layouts[1], true);
	cs = bind(f);
	assert_int_equal(cs_msi_set_enable(cs, true, 1), -EBUSY);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(cs_msi_set_enable(cs, false, 0), 0);
	pvpci_cs_free(cs);
	free(f);

	/* No MSI capability at all. */
	f = fake_new(256);
	cs = bind(f);
	assert_int_equal(cs_msi_set_enable(cs, true, 1), -ENODEV);
	pvpci_cs_free(cs);
	free(f);
}

static void test_interrupt_control(void **state)
{
	struct fakedev *f = msi_dev(&layouts[0], 0x0004);
	struct pvpci_cs *cs = bind_opts(f, false, true);

	(void)state;
	cs_wr(cs, CTRL, 2, 0x0071);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(f->log[0].off, CTRL);
	assert_int_equal(fake_get(f, CTRL, 2), 0x0025);
	assert_int_equal(cs_rd(cs, CTRL, 2), 0x0025);
	/* Address and data stay virtual even so. */
	cs_wr(cs, MSI + 4, 4, 0xfee00000);
	cs_wr(cs, MSI + 8, 2, 0x1234);
	assert_int_equal(f->nlog, 1);
	cs_wr(cs, CTRL, 1, 0x20);
	assert_int_equal(f->nlog, 2);
	assert_int_equal(fake_get(f, CTRL, 2) & 1, 0);
	/* Unchanged bits: no write. */
	cs_wr(cs, CTRL, 1, 0x20);
	assert_int_equal(f->nlog, 2);
	pvpci_cs_free(cs);
	free(f);

	/* Refused while MSI-X is on: the guest reads Enable back as 0. */
	f = msi_dev(&layouts[0], 0x0004);
	add_msix(f, &layouts[0], true);
	cs = bind_opts(f, false, true);
	cs_wr(cs, CTRL, 2, 0x0001);
	assert_int_equal(fake_writes_to(f, CTRL, 2), 0);
	assert_int_equal(cs_rd(cs, CTRL, 2) & 1, 0);
	assert_non_null(strstr(logbuf, "MSI-X is enabled"));
	pvpci_cs_free(cs);
	free(f);
}

static void test_no_room_hidden(void **state)
{
	struct fakedev *f = msi_dev(&layouts[3], 0);
	struct pvpci_cs *cs;

	(void)state;
	/* A capability header inside the 24 bytes of a 64-bit masking MSI. */
	f->cfg[MSI + 1] = 0x60;
	fake_cap(f, 0x60, 0x09, 0);
	cs = bind(f);
	assert_false(pvpci_cs_cap(cs, 0)->visible);
	assert_non_null(strstr(logbuf, "do not fit before 0x60"));
	assert_int_equal(cs_rd(cs, 0x34, 1), 0x60);
	assert_int_equal(cs_rd(cs, MSI, 4), 0);
	assert_int_equal(cs_rd(cs, 0x60, 1), 0x09);
	assert_int_equal(cs_msi_set_enable(cs, true, 1), -ENODEV);
	cs_wr(cs, CTRL, 2, 1);
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);

	/* Past the end of the conventional space. */
	f = fake_new(4096);
	fake_cap(f, 0xf0, 0x05, 0);
	fake_put(f, 0xf2, 2, 0x0180);
	cs = bind(f);
	assert_false(pvpci_cs_cap(cs, 0)->visible);
	assert_int_equal(cs_rd(cs, 0x34, 1), 0);
	assert_int_equal(cs_rd(cs, 0x100, 4), 0);
	pvpci_cs_free(cs);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_write_sweep),
		cmocka_unit_test(test_guest_starts_disabled),
		cmocka_unit_test(test_mme_clamped),
		cmocka_unit_test(test_reserved_mask_bits),
		cmocka_unit_test(test_op_path),
		cmocka_unit_test(test_interrupt_control),
		cmocka_unit_test(test_no_room_hidden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
