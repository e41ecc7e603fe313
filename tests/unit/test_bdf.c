/* BDF text: [DDDD:]BB:DD.F and pciback's (BDF)(BDF) lists. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pvpci/bdf.h"

static void test_parse_forms(void **state)
{
	struct pvpci_bdf b;
	char buf[PVPCI_BDF_STRLEN];

	(void)state;
	assert_int_equal(pvpci_bdf_parse("0000:00:1d.0", &b), 0);
	assert_string_equal(pvpci_bdf_format(&b, buf), "0000:00:1d.0");
	assert_int_equal(pvpci_bdf_parse("06:01.7", &b), 0);
	assert_int_equal(b.domain, 0);
	assert_int_equal(b.bus, 6);
	assert_int_equal(b.dev, 1);
	assert_int_equal(b.fn, 7);
	assert_int_equal(pvpci_devfn(&b), 0x0f);
	assert_int_equal(pvpci_bdf_parse("ffff:ff:1f.7", &b), 0);
	assert_string_equal(pvpci_bdf_format(&b, buf), "ffff:ff:1f.7");
	assert_int_equal(pvpci_bdf_parse("1:2:3.4", &b), 0);	/* short fields, as pciback takes */
	assert_int_equal(b.domain, 1);
	assert_int_equal(pvpci_bdf_parse("0A:1F.0", &b), 0);
	assert_int_equal(b.bus, 0x0a);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"", "00:00", "00:00.8", "00:20.0", "000:00:00.0x", "12345:00:00.0", "00:00.0 ",
		"100:00.0", "00:100.0", "g0:00.0", "00:00:00:00.0", ":00.0", "00:.0", "00:00.",
		"0000:000:00.0",
	};
	struct pvpci_bdf b = { 9, 9, 9, 1 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pvpci_bdf_parse(bad[i], &b) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
	}
	assert_int_equal(pvpci_bdf_parse(NULL, &b), -EINVAL);
	assert_int_equal(b.domain, 9);	/* untouched on failure */
}

static void test_hide_list(void **state)
{
	struct pvpci_bdf l[4];

	(void)state;
	assert_int_equal(pvpci_bdf_parse_list("(0000:00:1d.0)(06:01.1)", l, 4), 2);
	assert_int_equal(l[1].bus, 6);
	assert_int_equal(l[1].fn, 1);
	assert_int_equal(pvpci_bdf_parse_list(" (00:01.0) (00:02.0)\n", l, 4), 2);
	assert_int_equal(pvpci_bdf_parse_list("", l, 4), 0);
	assert_int_equal(pvpci_bdf_parse_list("(00:01.0", l, 4), -EINVAL);
	assert_int_equal(pvpci_bdf_parse_list("00:01.0", l, 4), -EINVAL);
	assert_int_equal(pvpci_bdf_parse_list("(00:01.0)x", l, 4), -EINVAL);
	assert_int_equal(pvpci_bdf_parse_list("(00:01.0)(00:02.0)", l, 1), -E2BIG);
}

static void test_order(void **state)
{
	struct pvpci_bdf a = { 0, 1, 2, 3 }, b = { 0, 1, 2, 4 }, c = { 1, 0, 0, 0 };

	(void)state;
	assert_true(pvpci_bdf_cmp(&a, &b) < 0);
	assert_true(pvpci_bdf_cmp(&b, &c) < 0);
	assert_int_equal(pvpci_bdf_cmp(&a, &a), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_hide_list),
		cmocka_unit_test(test_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
