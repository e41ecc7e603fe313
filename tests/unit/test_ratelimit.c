/*
 * The rate limit on what guests and clients can make the library say
 * (ratelimit.h), on a clock the test turns by hand: the limiter alone, the
 * log line it adds, and the engine and the protocol logging through one
 * limiter per guest.  Nothing sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "errmsg.h"
#include "pciiftest.h"
#include "pvpci/ratelimit.h"

static long fake_now;

static long fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static const struct pvpci_ratelimit_cfg fake_cfg = { .burst = 3, .interval_ms = 1000,
						     .clock_ms = fake_clock };

/* n calls at the fake clock's now: how many passed; *missed the last
 * report of messages dropped before. */
static unsigned pass_n(struct pvpci_ratelimit *rl, unsigned n, unsigned long *missed)
{
	unsigned passed = 0;
	unsigned long m;

	*missed = 0;
	for (unsigned i = 0; i < n; i++) {
		passed += pvpci_ratelimit_pass(rl, &m);
		if (m)
			*missed = m;
	}
	return passed;
}

static void test_defaults(void **state)
{
	struct pvpci_ratelimit rl;

	(void)state;
	pvpci_ratelimit_init(&rl, NULL, "domain 3");
	assert_int_equal(rl.cfg.burst, 10);
	assert_int_equal(rl.cfg.interval_ms, 5000);
	assert_null(rl.cfg.clock_ms);
	assert_string_equal(rl.who, "domain 3");
	pvpci_ratelimit_init(&rl, &fake_cfg, NULL);
	assert_int_equal(rl.cfg.burst, 3);
	assert_string_equal(rl.who, "");
}

/* burst per interval, the count of the dropped ones with the first
 * message of a later interval, and never a report of nothing. */
static void test_burst_then_report(void **state)
{
	struct pvpci_ratelimit rl;
	unsigned long missed;

	(void)state;
	fake_now = 100000;
	pvpci_ratelimit_init(&rl, &fake_cfg, "x");
	assert_int_equal(pass_n(&rl, 3, &missed), 3);
	assert_int_equal(missed, 0);
	assert_int_equal(pass_n(&rl, 50, &missed), 0);
	fake_now += 999;		/* the interval's last millisecond */
	assert_int_equal(pass_n(&rl, 7, &missed), 0);
	fake_now += 1;			/* a new interval: 57 were dropped */
	assert_true(pvpci_ratelimit_pass(&rl, &missed));
	assert_int_equal(missed, 57);
	assert_int_equal(pass_n(&rl, 10, &missed), 2);
	assert_int_equal(missed, 0);	/* said once only */
	fake_now += 1000;
	assert_int_equal(pass_n(&rl, 1, &missed), 1);
	assert_int_equal(missed, 8);
	/* A quiet interval in between: nothing to report, the burst whole. */
	fake_now += 5000;
	assert_int_equal(pass_n(&rl, 3, &missed), 3);
	assert_int_equal(missed, 0);
	fake_now += 1000;
	assert_int_equal(pass_n(&rl, 2, &missed), 2);
	assert_int_equal(missed, 0);
}

/* The interval starts at the first message, not at init or at 0. */
static void test_interval_from_first(void **state)
{
	struct pvpci_ratelimit rl;
	unsigned long missed;

	(void)state;
	fake_now = -50;
	pvpci_ratelimit_init(&rl, &fake_cfg, "x");
	fake_now = 7;
	assert_int_equal(pass_n(&rl, 4, &missed), 3);
	fake_now = 1006;
	assert_int_equal(pass_n(&rl, 1, &missed), 0);
	fake_now = 1007;
	assert_int_equal(pass_n(&rl, 1, &missed), 1);
	assert_int_equal(missed, 2);
}

/* A clock that goes back does not silence the source until it catches up. */
static void test_clock_back(void **state)
{
	struct pvpci_ratelimit rl;
	unsigned long missed;

	(void)state;
	fake_now = 1000000;
	pvpci_ratelimit_init(&rl, &fake_cfg, "x");
	assert_int_equal(pass_n(&rl, 5, &missed), 3);
	fake_now = 10;
	assert_int_equal(pass_n(&rl, 5, &missed), 3);
	assert_int_equal(missed, 2);
}

static void test_unlimited(void **state)
{
	struct pvpci_ratelimit_cfg cfg = fake_cfg;
	struct pvpci_ratelimit rl;
	unsigned long missed;

	(void)state;
	cfg.interval_ms = -1;
	pvpci_ratelimit_init(&rl, &cfg, "x");
	assert_int_equal(pass_n(&rl, 1000, &missed), 1000);
	assert_int_equal(missed, 0);
}

static unsigned count_lines(const char *needle)
{
	unsigned n = 0;

	for (const char *s = logbuf; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/* The log line of the dropped ones, at warning level, names the source. */
static void test_log_lines(void **state)
{
	struct pvpci_ratelimit rl;
	const struct pvpci_bdf b = { 0, 3, 0, 0 };

	(void)state;
	logbuf[0] = '\0';
	fake_now = 0;
	pvpci_ratelimit_init(&rl, &fake_cfg, "domain 9");
	for (int i = 0; i < 20; i++)
		pvpci_logf_limited(rec_log, NULL, &rl, 6, &b, "message %d", i);
	assert_int_equal(count_lines("message"), 3);
	assert_true(logged(6, "0000:03:00.0: message 2"));
	fake_now = 1000;
	pvpci_logf_limited(rec_log, NULL, &rl, 6, NULL, "later");
	assert_string_equal(logbuf, "6 0000:03:00.0: message 0\n6 0000:03:00.0: message 1\n"
				    "6 0000:03:00.0: message 2\n4 domain 9: 17 messages suppressed\n"
				    "6 later\n");
	/* No limiter: everything goes.  No callback: the limiter is not
	 * used up by lines nobody sees. */
	logbuf[0] = '\0';
	for (int i = 0; i < 20; i++)
		pvpci_logf_limited(rec_log, NULL, NULL, 6, NULL, "message %d", i);
	assert_int_equal(count_lines("message"), 20);
	for (int i = 0; i < 20; i++)
		pvpci_logf_limited(NULL, NULL, &rl, 6, NULL, "message %d", i);
	logbuf[0] = '\0';
	pvpci_logf_limited(rec_log, NULL, &rl, 6, NULL, "still");
	assert_string_equal(logbuf, "6 still\n");
}

/* A guest that fails enable_msi at every op: pciback's
 * dev_warn_ratelimited.  The verbose lines, asked for, are not limited. */
static void guest_msi_flood(enum pvpci_topo_mode mode)
{
	struct pvpci_ratelimit rl;
	struct env_opts o = { .log_limit = &rl, .verbose = true };
	struct env *e;

	fake_now = 0;
	pvpci_ratelimit_init(&rl, &fake_cfg, "domain 7");
	e = env_new(mode, &o);
	for (int i = 0; i < 100; i++)
		assert_int_equal(run(e, 1, PVPCI_XEN_PCI_OP_enable_msi, 0, 0).err,
				 PVPCI_ERR_op_failed);
	assert_int_equal(count_lines("error enabling MSI for guest 7"), 3);
	assert_int_equal(count_lines("enable MSI\n"), 100);
	fake_now = 1000;
	assert_int_equal(run(e, 1, PVPCI_XEN_PCI_OP_enable_msi, 0, 0).err, PVPCI_ERR_op_failed);
	assert_true(logged(4, "domain 7: 97 messages suppressed"));
	assert_int_equal(count_lines("error enabling MSI for guest 7"), 4);
	env_free(e);
}
EVERY_MODE(guest_msi_flood)

/*
 * Each connection of a guest gets a fresh engine, which warns once of a
 * dropped write: a guest that reconnects in a loop would make it say so
 * each time.  One limiter across the engines bounds it.
 */
static void test_engine_per_guest(void **state)
{
	struct pvpci_ratelimit rl;
	struct pvpci_cs_opts co = { .log = rec_log, .log_limit = &rl };
	struct fakedev *f = dev_a();

	(void)state;
	logbuf[0] = '\0';
	fake_now = 0;
	pvpci_ratelimit_init(&rl, &fake_cfg, "domain 7");
	for (int i = 0; i < 20; i++) {
		struct pvpci_cs *cs = cs_bind_with(f, &co);

		cs_wr(cs, 0xa0, 4, 0x12345678);
		cs_wr(cs, 0xa4, 4, 0x12345678);
		pvpci_cs_free(cs);
	}
	assert_int_equal(fake_writes_to(f, 0xa0, 8), 0);
	assert_int_equal(count_lines("tried to write to a read-only configuration space field"), 3);
	co.log_limit = NULL;
	for (int i = 0; i < 5; i++) {
		struct pvpci_cs *cs = cs_bind_with(f, &co);

		cs_wr(cs, 0xa0, 4, 0x12345678);
		pvpci_cs_free(cs);
	}
	assert_int_equal(count_lines("tried to write to a read-only configuration space field"), 8);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_burst_then_report),
		cmocka_unit_test(test_interval_from_first),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_unlimited),
		cmocka_unit_test(test_log_lines),
		cmocka_unit_test(test_guest_msi_flood),
		cmocka_unit_test(test_engine_per_guest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
