/*
 * The type 0 header: every access size at every offset, and each field's
 * policy (IDs, Command per XSA-120, Status, BARs, ROM, interrupt line,
 * BIST, reserved bytes, bridges refused), against a recording fake device.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "cstest.h"

static struct pvpci_cs *bind(struct fakedev *f, bool permissive, bool intx)
{
	struct pvpci_cs_opts o = { .permissive = permissive, .allow_interrupt_control = intx };
	return cs_bind_with(f, &o);
}

/* What the guest must see of the fake device's header, byte by byte. */
static void expected_header(const struct fakedev *f, uint8_t *exp)
{
	memcpy(exp, f->cfg, 64);
	memset(exp + 0x35, 0, 7);	/* reserved */
	exp[0x34] = 0;			/* no capabilities */
	exp[0x06] &= (uint8_t)~0x10;
	/* Unused BARs read 0. */
	memset(exp + 0x14, 0, 4);
	memset(exp + 0x24, 0, 4);
}

static void test_every_read_of_the_header(void **state)
{
	struct fakedev *f = fake_new(256);
	struct pvpci_cs *cs;
	uint8_t exp[64];

	(void)state;
	fake_put(f, 0x24, 4, 0x12345678);	/* junk in an unused BAR */
	cs = bind(f, false, false);
	expected_header(f, exp);
	for (unsigned size = 1; size <= 4; size *= 2)
		for (unsigned off = 0; off < 64; off += size) {
			uint32_t want = cs_le(exp + off, size);

			if (cs_rd(cs, off, size) != want)
				fail_msg("read 0x%02x size %u: got 0x%x want 0x%x", off, size, cs_rd(cs, off, size),
					 want);
		}
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);
}

/*
 * Writes of all-ones and of zeros at every size and offset, each on a
 * fresh device: hardware changes only where strict policy lets it.
 */
static bool change_allowed(unsigned off, uint8_t before, uint8_t after)
{
	uint8_t changed = before ^ after;

	if (!changed)
		return true;
	switch (off) {
	case 0x04:	/* decode through the enable path, master, MWI */
		return !(changed & ~(0x01 | 0x02 | 0x04 | 0x10));
	case 0x07:	/* Status RW1C bits only ever clear */
		return !(changed & ~0xf9) && !(after & changed);
	case 0x0c:	/* cache line size */
	case 0x0d:	/* latency timer */
		return true;
	default:
		return false;
	}
}

static void test_every_write_of_the_header(void **state)
{
	(void)state;
	for (unsigned pattern = 0; pattern < 2; pattern++)
		for (unsigned size = 1; size <= 4; size *= 2)
			for (unsigned off = 0; off < 64; off += size) {
				struct fakedev *f = fake_new(256);
				struct pvpci_cs *cs;
				uint8_t before[64];
				uint32_t v = pattern ? 0xffffffffu : 0;

				fake_put(f, 0x04, 2, 0x0006);
				fake_put(f, 0x06, 2, 0xf900);
				memcpy(before, f->cfg, 64);
				cs = bind(f, false, false);
				assert_int_equal(pvpci_cs_write(cs, off, size, v & size_mask(size)), 0);
				for (unsigned b = 0; b < 64; b++)
					if (!change_allowed(b, before[b], f->cfg[b]))
						fail_msg("write 0x%x size %u of 0x%x changed hardware byte 0x%02x: "
							 "0x%02x -> 0x%02x", off, size, v & size_mask(size), b,
							 before[b], f->cfg[b]);
				pvpci_cs_free(cs);
				free(f);
			}
}

static void test_ids_read_only(void **state)
{
	struct fakedev *f = fake_new(256);
	struct pvpci_cs *cs = bind(f, true, false);

	(void)state;
	/* Even in permissive mode, registers keep their policy. */
	assert_int_equal(pvpci_cs_write(cs, 0x00, 4, 0xffffffff), 0);
	assert_int_equal(pvpci_cs_write(cs, 0x08, 4, 0xffffffff), 0);
	assert_int_equal(pvpci_cs_write(cs, 0x2c, 4, 0xffffffff), 0);
	assert_int_equal(pvpci_cs_write(cs, 0x0e, 1, 0xff), 0);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(cs_rd(cs, 0, 4), 0x56781234);
	assert_int_equal(cs_rd(cs, 0x08, 4), 0x02000001);
	pvpci_cs_free(cs);
	free(f);
}

static void test_command_strict(void **state)
{
	struct fakedev *f = fake_new(256);
	struct pvpci_cs *cs = bind(f, false, false);

	(void)state;
	assert_int_equal(pvpci_cs_write(cs, 0x04, 2, 0xffff), 0);
	assert_int_equal(f->decode_calls, 1);	/* decode through the enable path */
	assert_true(f->decode);
	/* Master and MWI reach hardware; SERR, parity, INTx disable do not. */
	assert_int_equal(fake_get(f, 0x04, 2), 0x0001 | 0x0002 | 0x0004 | 0x0010);
	/* The guest reads its own value except for the bits hardware owns. */
	assert_int_equal(cs_rd(cs, 0x04, 2), 0x07ff & ~(0x0008 | 0x0020 | 0x0080 | 0x0200));
	/* A second enable is not another enable. */
	assert_int_equal(pvpci_cs_write(cs, 0x04, 2, 0x0002), 0);
	assert_int_equal(f->decode_calls, 1);
	assert_int_equal(fake_get(f, 0x04, 2) & 0x4, 0);	/* master cleared */
	assert_int_equal(pvpci_cs_write(cs, 0x04, 2, 0x0000), 0);
	assert_int_equal(f->decode_calls, 2);
	assert_false(f->decode);
	assert_int_equal(fake_get(f, 0x04, 2), 0);
	/* Reserved bits read 0. */
	assert_int_equal(pvpci_cs_write(cs, 0x05, 1, 0xf8), 0);
	assert_int_equal(cs_rd(cs, 0x04, 2) & 0xf800, 0);
	pvpci_cs_free(cs);
	free(f);
}

static void test_command_permissive_and_intx(void **state)
{
	struct fakedev *f = fake_new(256);
	struct pvpci_cs *cs = bind(f, true, false);

	(void)state;
	assert_int_equal(pvpci_cs_write(cs, 0x04, 2, 0x07ff), 0);
	/* Permissive: the guest bits reach hardware, and still not SERR/parity/INTx. */
	assert_int_equal(fake_get(f, 0x04, 2), 0x0003 | 0x02bc);
	pvpci_cs_free(cs);
	free(f);

	f = fake_new(256);
	cs = bind(f, false, true);
	assert_int_equal(pvpci_cs_write(cs, 0x05, 1, 0x04), 0);
	assert_int_equal(fake_get(f, 0x04, 2), 0x0400);	/* interrupt control allowed */
	assert_int_equal(pvpci_cs_write(cs, 0x05, 1, 0x00), 0);
	assert_int_equal(fake_get(f, 0x04, 2), 0x0000);
	pvpci_cs_free(cs);
	free(f);
}

static void test_status(void **state)
{
	struct fakedev *f = fake_new(256);
	struct pvpci_cs *cs;

	(void)state;
	fake_put(f, 0x06, 2, 0xc010);	/* cap list set, but the only capability is hidden */
	f->cfg[0x34] = 0x40;
	f->cfg[0x40] = 0x07;		/* PCI-X: not kept */
	cs = bind(f, false, false);
	assert_int_equal(cs_rd(cs, 0x06, 2), 0xc000);
	assert_int_equal(cs_rd(cs, 0x34, 1), 0);
	assert_int_equal(pvpci_cs_write(cs, 0x06, 2, 0x4010), 0);
	assert_int_equal(fake_get(f, 0x06, 2), 0x8010);
	assert_int_equal(cs_rd(cs, 0x06, 2), 0x8000);
	pvpci_cs_free(cs);
	free(f);
}

static void size_bar(struct pvpci_cs *cs, unsigned off, uint32_t orig, uint32_t len)
{
	assert_int_equal(cs_rd(cs, off, 4), orig);
	assert_int_equal(pvpci_cs_write(cs, off, 4, 0xffffffff), 0);
	assert_int_equal(cs_rd(cs, off, 4), len);
	assert_int_equal(pvpci_cs_write(cs, off, 4, orig), 0);
	assert_int_equal(cs_rd(cs, off, 4), orig);
	assert_int_equal(pvpci_cs_write(cs, off, 4, 0x12345670), 0);	/* elsewhere: not moved */
	assert_int_equal(cs_rd(cs, off, 4), orig);
}

static void test_bars(void **state)
{
	struct fakedev *f = fake_new(256);
	struct pvpci_cs *cs = bind(f, false, false);
	uint8_t before[64];

	(void)state;
	memcpy(before, f->cfg, 64);
	size_bar(cs, 0x10, 0xfeb00000, 0xfffff000);	/* 32-bit 4K */
	size_bar(cs, 0x14, 0, 0);			/* unused */
	size_bar(cs, 0x18, 0x0000000c, 0xfff0000c);	/* 64-bit 1M, low */
	size_bar(cs, 0x1c, 0x00000002, 0xffffffff);	/* 64-bit, high */
	size_bar(cs, 0x20, 0x0000c001, 0xffffffe1);	/* I/O 32 */
	size_bar(cs, 0x24, 0, 0);
	/* Byte writes never size a BAR and never move it. */
	for (unsigned b = 0; b < 4; b++)
		assert_int_equal(pvpci_cs_write(cs, 0x10 + b, 1, 0xff), 0);
	assert_int_equal(cs_rd(cs, 0x10, 4), 0xfeb00000);
	assert_memory_equal(before, f->cfg, 64);
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);
}

static void test_bar_restore(void **state)
{
	struct fakedev *f = fake_new(256);
	struct pvpci_cs *cs = bind(f, false, false);

	(void)state;
	fake_put(f, 0x10, 4, 0);	/* hardware lost its BAR (a reset, say) */
	assert_int_equal(pvpci_cs_write(cs, 0x10, 4, 0xfe000000), 0);
	assert_int_equal(f->nlog, 0);	/* another value: nothing */
	assert_int_equal(pvpci_cs_write(cs, 0x10, 4, 0xfeb00000), 0);
	assert_int_equal(f->nlog, 1);	/* the original: put back */
	assert_int_equal(fake_get(f, 0x10, 4), 0xfeb00000);
	assert_int_equal(pvpci_cs_write(cs, 0x10, 4, 0xfeb00000), 0);
	assert_int_equal(f->nlog, 1);	/* already there: nothing */
	pvpci_cs_free(cs);
	free(f);
}

static void test_rom(void **state)
{
	struct fakedev *f = fake_new(256);
	struct pvpci_cs *cs = bind(f, false, false);

	(void)state;
	assert_int_equal(cs_rd(cs, 0x30, 4), 0xfe000000);
	assert_int_equal(pvpci_cs_write(cs, 0x30, 4, 0xfffff800), 0);
	assert_int_equal(cs_rd(cs, 0x30, 4), 0xffff0000);
	assert_int_equal(pvpci_cs_write(cs, 0x30, 4, 0xfe000001), 0);
	/* The guest sees its enable bit; the hardware never does. */
	assert_int_equal(cs_rd(cs, 0x30, 4), 0xfe000001);
	assert_int_equal(fake_get(f, 0x30, 4), 0xfe000000);
	assert_int_equal(pvpci_cs_write(cs, 0x30, 1, 0x01), 0);
	assert_int_equal(fake_get(f, 0x30, 4), 0xfe000000);
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);
}

/* Found by fuzz_ops: a ROM register holding an address the host does not
 * stand by (no ROM in bar_info) was "put back" to 0 by a guest's write. */
static void test_rom_absent_takes_no_write(void **state)
{
	struct fakedev *f = fake_new(256);
	struct pvpci_cs *cs;

	(void)state;
	f->bars[PVPCI_ROM_BAR] = (struct pvpci_bar){ .flags = PVPCI_BAR_UNUSED };
	cs = bind(f, false, false);
	assert_int_equal(cs_rd(cs, 0x30, 4), 0);
	for (uint32_t v = 0; v < 2; v++) {
		assert_int_equal(pvpci_cs_write(cs, 0x30, 1, v), 0);
		assert_int_equal(pvpci_cs_write(cs, 0x30, 4, v ? 0xfffff801 : 0), 0);
		assert_int_equal(cs_rd(cs, 0x30, 4), 0);
	}
	assert_int_equal(fake_get(f, 0x30, 4), 0xfe000000);
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);
}

static void test_interrupt_line_and_bist(void **state)
{
	struct fakedev *f = fake_new(256);
	struct pvpci_cs *cs;

	(void)state;
	f->cfg[0x0f] = 0x80;	/* BIST capable */
	f->hw_wmask[0x0f] = 0x40;
	cs = bind(f, false, false);
	assert_int_equal(cs_rd(cs, 0x3c, 2), 0x010b);
	assert_int_equal(pvpci_cs_write(cs, 0x3c, 1, 0x05), 0);
	assert_int_equal(cs_rd(cs, 0x3c, 1), 0x0b);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(pvpci_cs_write(cs, 0x0f, 1, 0xff), 0);
	assert_int_equal(f->cfg[0x0f], 0xc0);	/* only Start BIST */
	pvpci_cs_free(cs);
	free(f);

	f = fake_new(256);
	f->hw_wmask[0x0f] = 0xff;
	cs = bind(f, false, false);
	assert_int_equal(pvpci_cs_write(cs, 0x0f, 1, 0xff), 0);
	assert_int_equal(f->cfg[0x0f], 0);	/* not capable: nothing */
	pvpci_cs_free(cs);
	free(f);
}

/* Where the host knows the function's irq (sysfs `irq`), Interrupt Line
 * reads it, as pciback's dev->irq: the pirq the guest is given on Xen,
 * not the 8259 line firmware left in the register. */
static int intx_20(struct pvpci_host *h, const struct pvpci_bdf *bdf, struct pvpci_intx *ret)
{
	(void)h;
	(void)bdf;
	*ret = (struct pvpci_intx){ .pin = 1, .irq = 20 };
	return 0;
}

static void test_interrupt_line_host_irq(void **state)
{
	static const struct pvpci_hostdev_ops host_ops = { .name = "fake", .host_intx = intx_20 };
	struct pvpci_host host = { .ops = &host_ops };
	struct fakedev *f = fake_new(256);
	struct pvpci_cs *cs;

	(void)state;
	f->hd.host = &host;
	cs = bind(f, false, false);
	assert_int_equal(cs_rd(cs, 0x3c, 2), 0x0114);
	assert_int_equal(pvpci_cs_write(cs, 0x3c, 1, 0x05), 0);
	assert_int_equal(cs_rd(cs, 0x3c, 1), 0x14);
	assert_int_equal(f->cfg[0x3c], 0x0b);
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);
}

static void test_bridges_refused(void **state)
{
	(void)state;
	for (uint8_t type = 1; type <= 2; type++) {
		struct fakedev *f = fake_new(256);
		struct pvpci_cs *cs = NULL;
		char err[256] = "";

		f->cfg[0x0e] = (uint8_t)(0x80 | type);
		assert_int_equal(pvpci_cs_new(&f->hd, NULL, &cs, err, sizeof(err)), -EOPNOTSUPP);
		assert_null(cs);
		assert_non_null(strstr(err, "bridge"));
		assert_non_null(strstr(err, "0000:03:00.0"));
		free(f);
	}
	/* Nothing there: all-ones vendor. */
	{
		struct fakedev *f = fake_new(256);
		struct pvpci_cs *cs = NULL;
		char err[256] = "";

		fake_put(f, 0, 4, 0xffffffff);
		assert_int_equal(pvpci_cs_new(&f->hd, NULL, &cs, err, sizeof(err)), -ENODEV);
		free(f);
	}
}

static void test_policy_words(void **state)
{
	struct fakedev *f = fake_new(256);
	struct pvpci_cs *cs = bind(f, false, false);

	(void)state;
	assert_string_equal(pvpci_reg_policy(pvpci_cs_reg_at(cs, 0x00)), "read-only");
	assert_string_equal(pvpci_reg_policy(pvpci_cs_reg_at(cs, 0x04)), "emulated");
	assert_string_equal(pvpci_reg_policy(pvpci_cs_reg_at(cs, 0x06)), "emulated");
	assert_string_equal(pvpci_reg_policy(pvpci_cs_reg_at(cs, 0x0c)), "passthrough");
	assert_string_equal(pvpci_reg_policy(pvpci_cs_reg_at(cs, 0x10)), "emulated");
	pvpci_cs_free(cs);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_read_of_the_header),
		cmocka_unit_test(test_every_write_of_the_header),
		cmocka_unit_test(test_ids_read_only),
		cmocka_unit_test(test_command_strict),
		cmocka_unit_test(test_command_permissive_and_intx),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_bars),
		cmocka_unit_test(test_bar_restore),
		cmocka_unit_test(test_rom),
		cmocka_unit_test(test_rom_absent_takes_no_write),
		cmocka_unit_test(test_interrupt_line_and_bist),
		cmocka_unit_test(test_interrupt_line_host_irq),
		cmocka_unit_test(test_bridges_refused),
		cmocka_unit_test(test_policy_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
