/*
 * Advanced Error Reporting: error status registers RW1C to hardware; the
 * masks, severity and the capabilities/control enables are the guest's
 * virtual copies, permissive or not; logs read-only; root registers only
 * for root ports and event collectors; the length by version and TLP
 * prefix support.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "cstest.h"

#define AER	0x100

static struct pvpci_cs *bind(struct fakedev *f, bool permissive)
{
	struct pvpci_cs_opts o = { .permissive = permissive };
	return cs_bind_with(f, &o);
}

/*
 * A PCI Express function (capabilities register `flags`, Device
 * Capabilities 2 `devcap2`) with AER version `ver` at 0x100.  Hardware
 * lets every mask and control bit be written and clears the status bits
 * on 1, so that anything that got through would show; the root registers
 * and logs hold junk.
 */
static struct fakedev *aer_dev(unsigned flags, uint32_t devcap2, unsigned ver)
{
	struct fakedev *f = fake_new(PVPCI_CFG_EXP_SIZE);

	fake_cap(f, 0x40, 0x10, 0);
	fake_put(f, 0x42, 2, flags);
	fake_put(f, 0x64, 4, devcap2);
	fake_ext_cap(f, AER, 0x0001, ver, 0);
	fake_put(f, AER + 0x04, 4, 0x00104012);	/* UR, completion timeout, DLP; junk in bit 1 */
	fake_rw1c(f, AER + 0x04, 4, 0xfffffff0);
	fake_put(f, AER + 0x08, 4, 0x00400000);
	fake_put(f, AER + 0x0c, 4, 0x00462030);
	fake_put(f, AER + 0x10, 4, 0x00002041);
	fake_rw1c(f, AER + 0x10, 4, 0x0000f1c1);
	fake_put(f, AER + 0x14, 4, 0x00002000);
	fake_put(f, AER + 0x18, 4, 0x000000a3);	/* first error 3, ECRC gen and check capable */
	for (unsigned o = AER + 0x08; o < AER + 0x10; o++)
		f->hw_wmask[o] = 0xff;
	fake_wmask(f, AER + 0x14, 4, 0xffffffff);
	fake_wmask(f, AER + 0x18, 4, 0x00000540);
	for (unsigned o = AER + 0x1c; o < AER + 0x2c; o++) {
		f->cfg[o] = 0x3c;
		f->hw_wmask[o] = 0xff;
	}
	for (unsigned o = AER + 0x2c; o < AER + 0x38; o++) {
		f->cfg[o] = 0x77;
		f->hw_wmask[o] = 0xff;
	}
	for (unsigned o = AER + 0x38; o < AER + 0x48; o++)
		f->cfg[o] = 0x66;
	return f;
}

static void test_status_rw1c(void **state)
{
	struct fakedev *f = aer_dev(0x0002, 0, 1);
	struct pvpci_cs *cs = bind(f, false);

	(void)state;
	assert_int_equal(cs_rd(cs, AER + 0x04, 4), 0x00104010);	/* reserved bit reads 0 */
	cs_wr(cs, AER + 0x04, 4, 0x00004000);
	assert_int_equal(f->nlog, 1);
	/* A plain RW1C write: no read-modify-write that could clear others. */
	assert_int_equal(fake_count_write(f, AER + 0x04, 4, 0x00004000), 1);
	assert_int_equal(fake_get(f, AER + 0x04, 4), 0x00100012);
	/* The upper half alone clears only what it names. */
	cs_wr(cs, AER + 0x06, 2, 0x0010);
	assert_int_equal(fake_get(f, AER + 0x04, 4), 0x00000012);
	cs_wr(cs, AER + 0x04, 4, 0xffffffff);
	assert_int_equal(cs_rd(cs, AER + 0x04, 4), 0);

	f->nlog = 0;
	cs_wr(cs, AER + 0x10, 4, 0x00000041);
	assert_int_equal(fake_get(f, AER + 0x10, 4), 0x00002000);
	cs_wr(cs, AER + 0x10, 4, 0xffff0e3e);	/* reserved bits only */
	assert_int_equal(fake_get(f, AER + 0x10, 4), 0x00002000);
	cs_wr(cs, AER + 0x11, 1, 0x20);
	assert_int_equal(cs_rd(cs, AER + 0x10, 4), 0);
	for (size_t i = 0; i < f->nlog; i++)
		assert_int_equal(f->log[i].off, AER + 0x10);
	pvpci_cs_free(cs);
	free(f);
}

static void test_virtual_masks(void **state)
{
	(void)state;
	for (int permissive = 0; permissive < 2; permissive++) {
		struct fakedev *f = aer_dev(0x0002, 0, 1);
		struct pvpci_cs *cs = bind(f, permissive);
		uint8_t before[0x1c];

		memcpy(before, f->cfg + AER, sizeof(before));
		assert_int_equal(cs_rd(cs, AER + 0x08, 4), 0x00400000);
		assert_int_equal(cs_rd(cs, AER + 0x0c, 4), 0x00462030);
		assert_int_equal(cs_rd(cs, AER + 0x14, 4), 0x00002000);
		cs_wr(cs, AER + 0x08, 4, 0xffffffff);
		cs_wr(cs, AER + 0x0c, 4, 0x00000000);
		cs_wr(cs, AER + 0x14, 4, 0xffffffff);
		cs_wr(cs, AER + 0x18, 4, 0xffffffff);
		assert_int_equal(cs_rd(cs, AER + 0x08, 4), 0xfffffff0);
		assert_int_equal(cs_rd(cs, AER + 0x0c, 4), 0x00000000);
		assert_int_equal(cs_rd(cs, AER + 0x14, 4), 0x0000f1c1);
		/* ECRC generation and check enables are the guest's (capable);
		 * multiple header recording is not (not capable); the rest is
		 * the hardware's, live. */
		assert_int_equal(cs_rd(cs, AER + 0x18, 4), 0x000001e3);
		fake_put(f, AER + 0x18, 1, 0xa5);	/* a new first error */
		assert_int_equal(cs_rd(cs, AER + 0x18, 4), 0x000001e5);
		fake_put(f, AER + 0x18, 1, 0xa3);
		cs_wr(cs, AER + 0x19, 1, 0x00);
		assert_int_equal(cs_rd(cs, AER + 0x18, 4), 0x000000e3);
		/* Partial writes keep the rest of the copy. */
		cs_wr(cs, AER + 0x0a, 2, 0x0000);
		assert_int_equal(cs_rd(cs, AER + 0x08, 4), 0x0000fff0);
		assert_int_equal(f->nlog, 0);
		assert_memory_equal(f->cfg + AER, before, sizeof(before));
		pvpci_cs_free(cs);
		free(f);
	}
}

static void test_logs_and_root_registers(void **state)
{
	struct fakedev *f = aer_dev(0x0002, 0, 1);
	struct pvpci_cs *cs = bind(f, true);

	(void)state;
	assert_int_equal(cs_cap_at(cs, AER)->len, 0x38);
	for (unsigned o = 0x1c; o < 0x2c; o += 4) {
		assert_int_equal(cs_rd(cs, AER + o, 4), 0x3c3c3c3c);
		cs_wr(cs, AER + o, 4, 0);
	}
	/* An endpoint has no root registers: they read 0. */
	for (unsigned o = 0x2c; o < 0x38; o += 4) {
		assert_int_equal(cs_rd(cs, AER + o, 4), 0);
		cs_wr(cs, AER + o, 4, 0xffffffff);
	}
	assert_int_equal(f->nlog, 0);
	assert_string_equal(pvpci_reg_policy(pvpci_cs_reg_at(cs, AER + 0x2c)), "reserved");
	/* Version 1: no prefix log; what follows is not the capability's. */
	assert_null(pvpci_cs_reg_at(cs, AER + 0x38));
	assert_int_equal(cs_rd(cs, AER + 0x38, 4), 0x66666666);
	pvpci_cs_free(cs);
	free(f);

	/* A root complex event collector has them: read-only. */
	f = aer_dev(0x00a2, 0, 1);
	cs = bind(f, true);
	for (unsigned o = 0x2c; o < 0x38; o += 4) {
		assert_int_equal(cs_rd(cs, AER + o, 4), 0x77777777);
		cs_wr(cs, AER + o, 4, 0);
	}
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);
}

static void test_prefix_log(void **state)
{
	struct fakedev *f = aer_dev(0x0002, 0x00200000, 2);	/* v2, End-End TLP prefixes */
	struct pvpci_cs *cs = bind(f, true);

	(void)state;
	assert_int_equal(cs_cap_at(cs, AER)->len, 0x48);
	for (unsigned o = 0x38; o < 0x48; o += 4) {
		assert_non_null(pvpci_cs_reg_at(cs, AER + o));
		assert_int_equal(cs_rd(cs, AER + o, 4), 0x66666666);
		cs_wr(cs, AER + o, 4, 0);
	}
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);

	/* Version 2 without prefix support, and version 1 with it: 0x38. */
	f = aer_dev(0x0002, 0, 2);
	cs = bind(f, false);
	assert_int_equal(cs_cap_at(cs, AER)->len, 0x38);
	pvpci_cs_free(cs);
	free(f);
	f = aer_dev(0x0002, 0x00200000, 1);
	cs = bind(f, false);
	assert_int_equal(cs_cap_at(cs, AER)->len, 0x38);
	pvpci_cs_free(cs);
	free(f);
}

/* A capability right after a short AER: the AER is cut there, and a write
 * over the boundary dword belongs to the capability that follows. */
static void test_cut_by_next(void **state)
{
	struct fakedev *f = aer_dev(0x0002, 0, 1);
	struct pvpci_cs *cs;

	(void)state;
	fake_ext_cap(f, AER, 0x0001, 1, 0x120);
	fake_ext_cap(f, 0x120, 0x000b, 1, 0);
	fake_put(f, 0x124, 4, 0x01011234);	/* VSEC of 0x10 bytes */
	cs = bind(f, true);
	assert_int_equal(cs_cap_at(cs, AER)->len, 0x20);
	assert_int_equal(cs_cap_at(cs, 0x120)->len, 0x10);
	assert_int_equal(cs_rd(cs, 0x124, 4), 0x01011234);
	cs_wr(cs, 0x11c, 4, 0);	/* the first header log dword, read-only */
	cs_wr(cs, 0x120, 4, 0);	/* the VSEC header */
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_rw1c),
		cmocka_unit_test(test_virtual_masks),
		cmocka_unit_test(test_logs_and_root_registers),
		cmocka_unit_test(test_prefix_log),
		cmocka_unit_test(test_cut_by_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
