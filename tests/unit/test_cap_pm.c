/*
 * The Power Management capability: PMC read-only with PME support hidden,
 * PowerState transitions carried out on the device with the spec's waits,
 * D1/D2 only when supported, PME_En never on, PME_Status and Data_Select
 * the only bits a guest write passes, reads after D3hot, and writes over
 * the capability and the one right after it, against a recording fake.
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
#define PMC	(PM + 2)
#define PMCSR	(PM + 4)
#define NEXT	0x48	/* an MSI capability right after it */

static unsigned delays[16], ndelays;
static char logbuf[4096];

static void rec_delay(void *ctx, unsigned usecs)
{
	(void)ctx;
	if (ndelays < 16)
		delays[ndelays++] = usecs;
}

static void rec_log(void *ctx, int level, const char *msg)
{
	size_t n = strlen(logbuf);

	(void)ctx;
	(void)level;
	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
}

/* PM at 0x40 then a 32-bit MSI without masking at 0x48, end of chain. */
static struct fakedev *pm_dev(uint16_t pmc, uint16_t pmcsr)
{
	struct fakedev *f = fake_new(256);

	fake_cap(f, PM, 0x01, NEXT);
	fake_put(f, PMC, 2, pmc);
	fake_put(f, PMCSR, 2, pmcsr);
	f->cfg[PM + 7] = 0x5a;				/* Data */
	fake_wmask(f, PMCSR, 2, 0x1f03);		/* PowerState, PME_En, Data_Select */
	f->hw_rw1c[PMCSR + 1] = 0x80;			/* PME_Status */
	fake_cap(f, NEXT, 0x05, 0);
	fake_put(f, NEXT + 4, 4, 0xfee00000);
	for (unsigned o = NEXT + 2; o < NEXT + 12; o++)
		f->hw_wmask[o] = 0xff;
	return f;
}

static struct pvpci_cs *bind(struct fakedev *f, bool permissive)
{
	struct pvpci_cs_opts o = { .permissive = permissive, .log = rec_log, .delay = rec_delay };
	struct pvpci_cs *cs = cs_bind_with(f, &o);

	ndelays = 0;
	logbuf[0] = 0;
	return cs;
}

static void test_pmc(void **state)
{
	struct fakedev *f = pm_dev(0xfe03, 0x0008);
	struct pvpci_cs *cs = bind(f, true);

	(void)state;
	assert_true(pvpci_cs_cap(cs, 0)->visible);
	assert_int_equal(pvpci_cs_cap(cs, 0)->len, 8);
	/* PME_Support hidden; D1/D2 support and the version shown. */
	assert_int_equal(cs_rd(cs, PMC, 2), 0x0603);
	assert_int_equal(cs_rd(cs, PM, 4), 0x06034801);
	cs_wr(cs, PMC, 2, 0xffff);
	cs_wr(cs, PMC, 2, 0x0000);
	cs_wr(cs, PM, 4, 0xffffffff);	/* ID, next and PMC in one: permissive or not */
	assert_int_equal(f->nlog, 0);
	assert_int_equal(cs_rd(cs, PMC, 2), 0x0603);
	/* BSE and Data are read-only, read from the device. */
	assert_int_equal(cs_rd(cs, PM + 7, 1), 0x5a);
	cs_wr(cs, PM + 6, 2, 0xffff);
	assert_int_equal(f->nlog, 0);
	pvpci_cs_free(cs);
	free(f);
}

static void test_d0_d3hot_d0(void **state)
{
	struct fakedev *f = pm_dev(0x0003, 0x0008);	/* No_Soft_Reset */
	struct pvpci_cs *cs = bind(f, false);

	(void)state;
	assert_int_equal(cs_rd(cs, PMCSR, 2), 0x0008);
	cs_wr(cs, PMCSR, 2, 0x0003);
	/* One write, of the PowerState bits, then the 10 ms the spec asks. */
	assert_int_equal(f->nlog, 1);
	assert_int_equal(f->log[0].off, PMCSR);
	assert_int_equal(f->log[0].size, 2);
	assert_int_equal(f->log[0].val, 0x0003 | 0x0008);
	assert_int_equal(ndelays, 1);
	assert_int_equal(delays[0], 10000);
	assert_int_equal(fake_get(f, PMCSR, 2) & 3, 3);
	assert_int_equal(cs_rd(cs, PMCSR, 2), 0x000b);

	/* In D3hot config reads still answer, everywhere. */
	assert_int_equal(cs_rd(cs, 0x00, 4), 0x56781234);
	assert_int_equal(cs_rd(cs, 0x08, 4), 0x02000001);
	assert_int_equal(cs_rd(cs, 0x34, 1), PM);
	assert_int_equal(cs_rd(cs, PM, 2), 0x4801);
	assert_int_equal(cs_rd(cs, NEXT, 2), 0x0005);
	assert_int_equal(cs_rd(cs, PM + 7, 1), 0x5a);
	/* Asking for D3hot again is no transition. */
	cs_wr(cs, PMCSR, 1, 0x03);
	assert_int_equal(f->nlog, 1);

	cs_wr(cs, PMCSR, 2, 0x0000);
	assert_int_equal(f->nlog, 2);
	assert_int_equal(f->log[1].val, 0x0008);
	assert_int_equal(ndelays, 2);
	assert_int_equal(delays[1], 10000);
	assert_int_equal(cs_rd(cs, PMCSR, 2), 0x0008);
	assert_null(strstr(logbuf, "No_Soft_Reset"));
	pvpci_cs_free(cs);
	free(f);
}

static void test_soft_reset_noted(void **state)
{
	struct fakedev *f = pm_dev(0x0003, 0x0000);	/* resets on D3hot -> D0 */
	struct pvpci_cs *cs = bind(f, false);

	(void)state;
	cs_wr(cs, PMCSR, 1, 3);
	assert_null(strstr(logbuf, "No_Soft_Reset"));
	cs_wr(cs, PMCSR, 1, 0);
	assert_non_null(strstr(logbuf, "without No_Soft_Reset"));
	assert_int_equal(f->nlog, 2);
	pvpci_cs_free(cs);
	free(f);
}

static void test_d1_d2(void **state)
{
	struct fakedev *f = pm_dev(0x0003, 0x0000);	/* neither D1 nor D2 */
	struct pvpci_cs *cs = bind(f, false);

	(void)state;
	cs_wr(cs, PMCSR, 2, 0x0001);
	cs_wr(cs, PMCSR, 2, 0x0002);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(ndelays, 0);
	assert_int_equal(cs_rd(cs, PMCSR, 2) & 3, 0);
	pvpci_cs_free(cs);
	free(f);

	f = pm_dev(0x0603, 0x0000);			/* both supported */
	cs = bind(f, false);
	cs_wr(cs, PMCSR, 1, 1);				/* D0 -> D1: no wait */
	assert_int_equal(f->nlog, 1);
	assert_int_equal(ndelays, 0);
	assert_int_equal(cs_rd(cs, PMCSR, 1) & 3, 1);
	cs_wr(cs, PMCSR, 1, 2);				/* D1 -> D2: 200 us */
	assert_int_equal(f->nlog, 2);
	assert_int_equal(ndelays, 1);
	assert_int_equal(delays[0], 200);
	cs_wr(cs, PMCSR, 1, 1);				/* D2 -> D1: only deeper, ignored */
	assert_int_equal(f->nlog, 2);
	assert_int_equal(cs_rd(cs, PMCSR, 1) & 3, 2);
	cs_wr(cs, PMCSR, 1, 3);				/* D2 -> D3hot */
	assert_int_equal(delays[1], 10000);
	cs_wr(cs, PMCSR, 1, 2);				/* D3hot -> D2: ignored */
	assert_int_equal(f->nlog, 3);
	assert_int_equal(cs_rd(cs, PMCSR, 1) & 3, 3);
	cs_wr(cs, PMCSR, 1, 0);
	assert_int_equal(f->nlog, 4);
	assert_int_equal(ndelays, 3);
	assert_int_equal(delays[2], 10000);
	assert_int_equal(fake_get(f, PMCSR, 2) & 3, 0);
	pvpci_cs_free(cs);
	free(f);
}

static void test_refused(void **state)
{
	struct fakedev *f = pm_dev(0x0003, 0x0000);
	struct pvpci_cs *cs;

	(void)state;
	fake_wmask(f, PMCSR, 2, 0x1f00);	/* a device stuck in D0 */
	cs = bind(f, false);
	cs_wr(cs, PMCSR, 2, 0x0003);
	assert_int_equal(f->nlog, 1);
	assert_non_null(strstr(logbuf, "refused"));
	/* The guest sees where the device really is. */
	assert_int_equal(cs_rd(cs, PMCSR, 2) & 3, 0);
	pvpci_cs_free(cs);
	free(f);
}

static void test_pme_and_data_select(void **state)
{
	struct fakedev *f = pm_dev(0xfe03, 0xe000);	/* PME_Status set, Data_Scale 3 */
	struct pvpci_cs *cs = bind(f, false);

	(void)state;
	assert_int_equal(cs_rd(cs, PMCSR, 2), 0xe000);
	/* PME_En: reads 0 whatever is written, and is never written. */
	cs_wr(cs, PMCSR, 2, 0x0100);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(cs_rd(cs, PMCSR, 2) & 0x0100, 0);
	/* Reserved bits read 0 and cost no write. */
	cs_wr(cs, PMCSR, 1, 0xf4);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(cs_rd(cs, PMCSR, 2) & 0x00f4, 0);
	/* Data_Select reaches the device; PME_Status written 0 stays set. */
	cs_wr(cs, PMCSR, 2, 0x0a00);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(f->log[0].val & 0x8000, 0);
	assert_int_equal(fake_get(f, PMCSR, 2), 0xea00);
	assert_int_equal(cs_rd(cs, PMCSR, 2), 0xea00);
	/* Writing the same Data_Select again is not worth a write. */
	cs_wr(cs, PMCSR, 2, 0x0a00);
	assert_int_equal(f->nlog, 1);
	/* PME_Status: a 1 clears it on the device. */
	cs_wr(cs, PMCSR + 1, 1, 0x8a);
	assert_int_equal(f->nlog, 2);
	assert_int_equal(fake_get(f, PMCSR, 2), 0x6a00);
	assert_int_equal(cs_rd(cs, PMCSR, 2), 0x6a00);
	pvpci_cs_free(cs);
	free(f);

	/* PME_En on in hardware (the host's): hidden, and kept as it is. */
	f = pm_dev(0xfe03, 0x0100);
	cs = bind(f, false);
	assert_int_equal(cs_rd(cs, PMCSR, 2), 0x0000);
	cs_wr(cs, PMCSR, 2, 0x0200);
	assert_int_equal(fake_get(f, PMCSR, 2), 0x0300);
	cs_wr(cs, PMCSR, 2, 0x0000);
	assert_int_equal(fake_get(f, PMCSR, 2), 0x0100);
	pvpci_cs_free(cs);
	free(f);
}

/* D3hot plus Data_Select in one write: Data_Select first, then the
 * transition; D0 plus Data_Select: the transition first. */
static void test_order_of_writes(void **state)
{
	struct fakedev *f = pm_dev(0x0003, 0x0008);
	struct pvpci_cs *cs = bind(f, false);

	(void)state;
	cs_wr(cs, PMCSR, 2, 0x0403);
	assert_int_equal(f->nlog, 2);
	assert_int_equal(f->log[0].val, 0x0408);
	assert_int_equal(f->log[1].val, 0x040b);
	cs_wr(cs, PMCSR, 2, 0x0600);
	assert_int_equal(f->nlog, 4);
	assert_int_equal(f->log[2].val, 0x0408);
	assert_int_equal(f->log[3].val, 0x0608);
	assert_int_equal(cs_rd(cs, PMCSR, 2), 0x0608);
	pvpci_cs_free(cs);
	free(f);
}

/*
 * Every write of all-ones and zeros at every size and offset of the PM
 * capability and the MSI capability right after it, on a fresh device each
 * time, permissive or not: on the device only PowerState, Data_Select and
 * PME_Status (cleared, never set) change, nothing of the MSI capability is
 * written.  Aligned accesses cannot cross a dword-aligned capability
 * boundary; the dword at PM + 4 ends one capability and the one at 0x48
 * starts the next.
 */
static void test_write_sweep(void **state)
{
	(void)state;
	for (unsigned perm = 0; perm < 2; perm++)
		for (unsigned pattern = 0; pattern < 2; pattern++)
			for (unsigned size = 1; size <= 4; size *= 2)
				for (unsigned off = PM; off < NEXT + 12; off += size) {
					struct fakedev *f = pm_dev(0x0603, 0x8008);
					uint32_t v = pattern ? size_mask(size) : 0;
					struct pvpci_cs *cs = bind(f, perm);
					uint8_t before[256];

					memcpy(before, f->cfg, sizeof(before));
					cs_wr(cs, off, size, v);
					for (unsigned b = PM; b < NEXT + 12; b++) {
						uint8_t ch = before[b] ^ f->cfg[b];
						uint8_t ok = b == PMCSR ? 0x03 : b == PMCSR + 1 ? 0x1e : 0;

						if (b == PMCSR + 1 && (ch & 0x80) && !(f->cfg[b] & 0x80))
							ch &= 0x7f;	/* PME_Status cleared */
						if (ch & ~ok)
							fail_msg("write 0x%x size %u of 0x%x (permissive %u) changed "
								 "byte 0x%x: 0x%02x -> 0x%02x", off, size, v, perm, b,
								 before[b], f->cfg[b]);
					}
					assert_int_equal(fake_writes_to(f, 0, PMCSR), 0);
					assert_int_equal(fake_writes_to(f, PMCSR + 2, 256 - PMCSR - 2), 0);
					pvpci_cs_free(cs);
					free(f);
				}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pmc),
		cmocka_unit_test(test_d0_d3hot_d0),
		cmocka_unit_test(test_soft_reset_noted),
		cmocka_unit_test(test_d1_d2),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_pme_and_data_select),
		cmocka_unit_test(test_order_of_writes),
		cmocka_unit_test(test_write_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
