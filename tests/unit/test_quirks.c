/*
 * Quirks: both text forms, every malformed form with its line, limits,
 * matching by address and by IDs, what an applied quirk lets through,
 * refusing fields that overlap what the engine handles, all or nothing,
 * and how quirks and permissive mode meet.  Against the recording fake
 * device (vendor 1234, device 5678, subsystem 1af4:abcd, at 0000:03:00.0).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "pvpci/quirks.h"
#include "cs_internal.h"
#include "fakedev.h"

static struct pvpci_quirks *parse_ok(const char *text)
{
	struct pvpci_quirks *q = NULL;
	char err[256] = "";

	if (pvpci_quirks_parse(text, strlen(text), &q, err, sizeof(err)) != 0)
		fail_msg("parse of '%s' failed: %s", text, err);
	return q;
}

static struct pvpci_cs *bind(struct fakedev *f, bool permissive)
{
	struct pvpci_cs_opts o = { .permissive = permissive };
	struct pvpci_cs *cs = NULL;
	char err[256];

	assert_int_equal(pvpci_cs_new(&f->hd, &o, &cs, err, sizeof(err)), 0);
	f->nlog = 0;
	return cs;
}

/* Device-specific bytes 0x40-0xff writable in "hardware". */
static struct fakedev *dev(unsigned cfg_size)
{
	struct fakedev *f = fake_new(cfg_size);

	for (unsigned off = 0x40; off < cfg_size; off++)
		f->hw_wmask[off] = 0xff;
	return f;
}

static void test_parse_both_forms(void **state)
{
	static const char text[] =
		"# pciback's form, as echoed into /sys/bus/pci/drivers/pciback/quirks\n"
		"0000:03:00.0-40:1:ff\n"
		"03:00.0-0x44:0x2:0xffff   # domain optional, 0x allowed\r\n"
		"\n"
		"   \t  \n"
		"1234:5678 48:4:ffffffff 4c:2:0f0f\t50:1:0\n"
		"1234:5678:1af4:ABCD 0x54:4:0000FF00\n"
		"00000060:00000001:000000ff\n";	/* not a line: a malformed one follows */
	struct pvpci_quirks *q = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(pvpci_quirks_parse(text, strlen(text), &q, err, sizeof(err)), -EINVAL);
	assert_null(q);
	assert_string_equal(err, "line 8: '00000060:00000001:000000ff': expected VVVV:DDDD[:SVVV:SDDD] "
				 "(device IDs) or [DDDD:]BB:DD.F-REG:SIZE:MASK (pciback's form)");
	/* Without the last line it parses: 6 fields. */
	q = parse_ok("# pciback's form\n0000:03:00.0-40:1:ff\n03:00.0-0x44:0x2:0xffff # c\r\n\n \t \n"
		     "1234:5678 48:4:ffffffff 4c:2:0f0f\t50:1:0\n1234:5678:1af4:ABCD 0x54:4:0000FF00");
	assert_int_equal(pvpci_quirks_count(q), 6);
	{
		/* Each field written back as a line of its own form, which
		 * parses to the same field (what a record keeps). */
		static const char *const want[] = {
			"0000:03:00.0-40:1:ff", "0000:03:00.0-44:2:ffff", "1234:5678 48:4:ffffffff",
			"1234:5678 4c:2:f0f", "1234:5678 50:1:0", "1234:5678:1af4:abcd 54:4:ff00",
		};
		char buf[PVPCI_QUIRKS_FIELD_LEN], all[512] = "";
		struct pvpci_quirks *back;

		for (size_t i = 0; i < 6; i++) {
			assert_non_null(pvpci_quirks_field(q, i, buf, sizeof(buf)));
			assert_string_equal(buf, want[i]);
			strcat(all, buf);
			strcat(all, "\n");
		}
		assert_null(pvpci_quirks_field(q, 6, buf, sizeof(buf)));
		assert_null(pvpci_quirks_field(q, 0, buf, 8));
		assert_null(pvpci_quirks_field(NULL, 0, buf, sizeof(buf)));
		back = parse_ok(all);
		assert_int_equal(pvpci_quirks_count(back), 6);
		for (size_t i = 0; i < 6; i++)
			assert_string_equal(pvpci_quirks_field(back, i, buf, sizeof(buf)), want[i]);
		pvpci_quirks_free(back);
	}
	pvpci_quirks_free(q);

	/* Empty texts give an empty set. */
	q = parse_ok("");
	assert_int_equal(pvpci_quirks_count(q), 0);
	pvpci_quirks_free(q);
	q = parse_ok("# nothing\n\n");
	assert_int_equal(pvpci_quirks_count(q), 0);
	pvpci_quirks_free(q);
	pvpci_quirks_free(NULL);
}

static void test_malformed_lines(void **state)
{
	static const struct {
		const char *text;
		const char *err;	/* the whole message */
	} cases[] = {
		{ "8086", "line 1: '8086': expected VVVV:DDDD[:SVVV:SDDD] (device IDs) or [DDDD:]BB:DD.F-REG:SIZE:MASK (pciback's form)" },
		{ "# c\n\n8086:10d3:1 40:1:ff", "line 3: '8086:10d3:1': expected VVVV:DDDD[:SVVV:SDDD] (device IDs) or [DDDD:]BB:DD.F-REG:SIZE:MASK (pciback's form)" },
		{ "8086:10d3:1:2:3 40:1:ff", "line 1: '8086:10d3:1:2:3': expected VVVV:DDDD[:SVVV:SDDD] (device IDs) or [DDDD:]BB:DD.F-REG:SIZE:MASK (pciback's form)" },
		{ "8086:10d3: 40:1:ff", "line 1: '8086:10d3:': expected VVVV:DDDD[:SVVV:SDDD] (device IDs) or [DDDD:]BB:DD.F-REG:SIZE:MASK (pciback's form)" },
		{ "8086:10d3:1:2: 40:1:ff", "line 1: '8086:10d3:1:2:': expected VVVV:DDDD[:SVVV:SDDD] (device IDs) or [DDDD:]BB:DD.F-REG:SIZE:MASK (pciback's form)" },
		{ "80861:10d3 40:1:ff", "line 1: '80861:10d3': expected VVVV:DDDD[:SVVV:SDDD] (device IDs) or [DDDD:]BB:DD.F-REG:SIZE:MASK (pciback's form)" },
		{ "8086:g0d3 40:1:ff", "line 1: '8086:g0d3': expected VVVV:DDDD[:SVVV:SDDD] (device IDs) or [DDDD:]BB:DD.F-REG:SIZE:MASK (pciback's form)" },
		{ "\n8086:10d3   # no field", "line 2: no field after '8086:10d3' (expected REG:SIZE:MASK...)" },
		{ "8086:10d3 40:3:ff", "line 1: field '40:3:ff': size must be 1, 2 or 4" },
		{ "8086:10d3 40:0:ff", "line 1: field '40:0:ff': size must be 1, 2 or 4" },
		{ "8086:10d3 41:2:ffff", "line 1: field '41:2:ffff': offset 0x41 is not a multiple of the size 2" },
		{ "8086:10d3 1000:4:0", "line 1: field '1000:4:0': offset 0x1000 is past config space (0..0xfff)" },
		{ "8086:10d3 40:1:1ff", "line 1: field '40:1:1ff': mask 0x1ff is wider than 1 byte" },
		{ "8086:10d3 40:2:10000", "line 1: field '40:2:10000': mask 0x10000 is wider than 2 bytes" },
		{ "8086:10d3 40:1", "line 1: field '40:1': expected REG:SIZE:MASK (hex numbers, at most 8 digits)" },
		{ "8086:10d3 40:1:ff:1", "line 1: field '40:1:ff:1': expected REG:SIZE:MASK (hex numbers, at most 8 digits)" },
		{ "8086:10d3 40::ff", "line 1: field '40::ff': expected REG:SIZE:MASK (hex numbers, at most 8 digits)" },
		{ "8086:10d3 zz:1:ff", "line 1: field 'zz:1:ff': expected REG:SIZE:MASK (hex numbers, at most 8 digits)" },
		{ "8086:10d3 40:1:0x", "line 1: field '40:1:0x': expected REG:SIZE:MASK (hex numbers, at most 8 digits)" },
		{ "8086:10d3 40:1:fffffffff", "line 1: field '40:1:fffffffff': expected REG:SIZE:MASK (hex numbers, at most 8 digits)" },
		{ "8086:10d3 40:1:ff 44:4", "line 1: field '44:4': expected REG:SIZE:MASK (hex numbers, at most 8 digits)" },
		{ "00:19.0-e0:2", "line 1: field 'e0:2': expected REG:SIZE:MASK (hex numbers, at most 8 digits)" },
		{ "00:19.0-e1:2:ff", "line 1: field 'e1:2:ff': offset 0xe1 is not a multiple of the size 2" },
		{ "00:1f.8-e0:2:ff", "line 1: '00:1f.8' is not a PCI address ([DDDD:]BB:DD.F) before '-'" },
		{ "00:20.0-e0:2:ff", "line 1: '00:20.0' is not a PCI address ([DDDD:]BB:DD.F) before '-'" },
		{ "xyz-e0:2:ff", "line 1: 'xyz' is not a PCI address ([DDDD:]BB:DD.F) before '-'" },
		{ "-e0:2:ff", "line 1: '' is not a PCI address ([DDDD:]BB:DD.F) before '-'" },
		{ "00:19.0-e0:2:ff-1", "line 1: field 'e0:2:ff-1': expected REG:SIZE:MASK (hex numbers, at most 8 digits)" },
		{ "00:19.0-e0:2:ff e4:2:ff", "line 1: 'e4:2:ff' after the quirk: pciback's form has one field per line" },
		{ "8086:10d3 40:1:ff\n\x01", "line 2: byte 0x01 at column 1 is not printable text" },
		{ "8086:10d3 40:1:\xff", "line 1: byte 0xff at column 16 is not printable text" },
		{ "8086:10d3 40:2:ffff\n8086:10d3 41:1:ff",
		  "line 2: field 0x41 size 1 overlaps line 1's field 0x40 size 2 for the same device" },
		{ "03:00.0-40:4:0\n\n0000:03:00.0-42:2:0",
		  "line 3: field 0x42 size 2 overlaps line 1's field 0x40 size 4 for the same device" },
		{ "8086:10d3:1:2 40:1:ff 40:1:0",
		  "line 1: field 0x40 size 1 overlaps line 1's field 0x40 size 1 for the same device" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pvpci_quirks *q = (struct pvpci_quirks *)0x1;	/* must stay untouched */
		char err[256] = "";
		int r = pvpci_quirks_parse(cases[i].text, strlen(cases[i].text), &q, err, sizeof(err));

		if (r != -EINVAL || q != (struct pvpci_quirks *)0x1 || strcmp(err, cases[i].err))
			fail_msg("case %zu ('%s'): r %d, err '%s', want '%s'", i, cases[i].text, r, err,
				 cases[i].err);
	}
}

static void test_nul_and_long_lines(void **state)
{
	struct pvpci_quirks *q = NULL;
	char err[256] = "", *text;
	static const char nul[] = "8086:10d3 40:1:ff\n# x\n8086:10d3 44\0:1:ff\n";

	(void)state;
	assert_int_equal(pvpci_quirks_parse(nul, sizeof(nul) - 1, &q, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 3: byte 0x00 at column 13 is not printable text");

	/* A line of exactly the limit is read; one byte more is not. */
	text = malloc(PVPCI_QUIRKS_MAX_LINE + 2);
	memset(text, ' ', PVPCI_QUIRKS_MAX_LINE + 1);
	memcpy(text, "8086:10d3 40:1:ff", 17);
	assert_int_equal(pvpci_quirks_parse(text, PVPCI_QUIRKS_MAX_LINE, &q, err, sizeof(err)), 0);
	assert_int_equal(pvpci_quirks_count(q), 1);
	pvpci_quirks_free(q);
	q = NULL;
	assert_int_equal(pvpci_quirks_parse(text, PVPCI_QUIRKS_MAX_LINE + 1, &q, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "line 1: longer than 1024 bytes");
	assert_null(q);
	free(text);
}

static void test_limits(void **state)
{
	size_t len = PVPCI_QUIRKS_MAX_TEXT + 1, n = 0;
	struct pvpci_quirks *q = NULL;
	char *text = calloc(1, len + 1), err[256] = "";

	(void)state;
	assert_int_equal(pvpci_quirks_parse(text, len, &q, err, sizeof(err)), -E2BIG);
	assert_null(q);
	assert_non_null(strstr(err, "over the limit"));

	/* 4096 fields are fine, the 4097th is not: one device per line. */
	for (unsigned i = 0; i <= PVPCI_QUIRKS_MAX_FIELDS; i++)
		n += (size_t)sprintf(text + n, "%04x:%04x 40:1:ff\n", i >> 8, i & 0xff);
	assert_int_equal(pvpci_quirks_parse(text, n - 18, &q, err, sizeof(err)), 0);
	assert_int_equal(pvpci_quirks_count(q), PVPCI_QUIRKS_MAX_FIELDS);
	pvpci_quirks_free(q);
	q = NULL;
	assert_int_equal(pvpci_quirks_parse(text, n, &q, err, sizeof(err)), -E2BIG);
	assert_string_equal(err, "line 4097: more than 4096 fields");
	assert_null(q);

	/* No errbuf is fine too. */
	assert_int_equal(pvpci_quirks_parse("x", 1, &q, NULL, 0), -EINVAL);
	free(text);
}

static void test_matching(void **state)
{
	struct fakedev *f = dev(256);
	struct pvpci_cs *cs = bind(f, false);
	struct pvpci_quirks *q = parse_ok(
		"1234:5678 40:4:ffffffff\n"		/* IDs: matches */
		"1234:5678:1af4:abcd 44:2:ffff\n"	/* with subsystem: matches */
		"1234:5678:1af4:0000 48:1:ff\n"		/* other subsystem */
		"1234:9999 4c:1:ff\n"			/* other device */
		"4321:5678 4d:1:ff\n"			/* other vendor */
		"03:00.0-50:1:0f\n"			/* this address */
		"0000:04:00.0-54:1:ff\n"		/* another address */
		"0001:03:00.0-58:1:ff\n");		/* another domain */
	char err[256] = "";

	(void)state;
	assert_int_equal(pvpci_quirks_apply(q, cs, err, sizeof(err)), 3);
	assert_string_equal(pvpci_cs_reg_at(cs, 0x40)->name, "quirk");
	assert_int_equal(pvpci_cs_reg_at(cs, 0x40)->size, 4);
	assert_string_equal(pvpci_cs_reg_at(cs, 0x45)->name, "quirk");
	assert_int_equal(pvpci_cs_reg_at(cs, 0x50)->ro_mask, 0xf0);
	assert_string_equal(pvpci_reg_policy(pvpci_cs_reg_at(cs, 0x50)), "passthrough");
	for (unsigned off = 0x46; off < 0x100; off++)
		if (off != 0x50 && pvpci_cs_reg_at(cs, off))
			fail_msg("0x%x has a register", off);
	assert_int_equal(f->nlog, 0);	/* applying writes nothing */
	pvpci_quirks_free(q);

	/* Nothing matching adds nothing; an empty or absent set too. */
	q = parse_ok("ffff:ffff 60:1:ff\n");
	assert_int_equal(pvpci_quirks_apply(q, cs, err, sizeof(err)), 0);
	assert_null(pvpci_cs_reg_at(cs, 0x60));
	pvpci_quirks_free(q);
	assert_int_equal(pvpci_quirks_apply(NULL, cs, err, sizeof(err)), 0);
	pvpci_cs_free(cs);
	free(f);
}

static void test_applied_field(void **state)
{
	struct fakedev *f = dev(256);
	struct pvpci_cs *cs = bind(f, false);
	struct pvpci_quirks *q = parse_ok("1234:5678 50:1:0f 54:4:ffff0000 58:2:0\n");
	char err[256] = "";
	uint32_t v;

	(void)state;
	fake_put(f, 0x50, 1, 0xa5);
	fake_put(f, 0x54, 4, 0x12345678);
	fake_put(f, 0x58, 2, 0xbeef);
	assert_int_equal(pvpci_quirks_apply(q, cs, err, sizeof(err)), 3);
	/* Reads of the whole field come from the device. */
	assert_int_equal(pvpci_cs_read(cs, 0x54, 4, &v), 0);
	assert_int_equal(v, 0x12345678);
	/* Writes change the mask's bits only. */
	assert_int_equal(pvpci_cs_write(cs, 0x50, 1, 0x3c), 0);
	assert_int_equal(fake_get(f, 0x50, 1), 0xac);
	assert_int_equal(pvpci_cs_write(cs, 0x54, 4, 0xaaaaaaaa), 0);
	assert_int_equal(fake_get(f, 0x54, 4), 0xaaaa5678);
	/* A partial write of the field merges with the device's value. */
	assert_int_equal(pvpci_cs_write(cs, 0x56, 1, 0x11), 0);
	assert_int_equal(fake_get(f, 0x54, 4), 0xaa115678);
	/* Mask 0: read-only, nothing written. */
	f->nlog = 0;
	assert_int_equal(pvpci_cs_write(cs, 0x58, 2, 0x0000), 0);
	assert_int_equal(fake_get(f, 0x58, 2), 0xbeef);
	assert_int_equal(f->nlog, 0);
	assert_string_equal(pvpci_reg_policy(pvpci_cs_reg_at(cs, 0x58)), "read-only");
	/* A byte beside the quirks is not theirs: dropped (not permissive). */
	assert_int_equal(pvpci_cs_write(cs, 0x51, 1, 0xff), 0);
	assert_int_equal(fake_get(f, 0x51, 1), 0);
	pvpci_quirks_free(q);
	pvpci_cs_free(cs);
	free(f);
}

static void test_permissive_interplay(void **state)
{
	struct fakedev *f = dev(256);
	struct pvpci_cs *cs = bind(f, true);
	struct pvpci_quirks *q = parse_ok("1234:5678 50:2:00ff 58:1:0\n");
	char err[256] = "";

	(void)state;
	assert_int_equal(pvpci_quirks_apply(q, cs, err, sizeof(err)), 2);
	/* Permissive mode passes writes to bytes nothing handles... */
	assert_int_equal(pvpci_cs_write(cs, 0x52, 2, 0xffff), 0);
	assert_int_equal(fake_get(f, 0x52, 2), 0xffff);
	/* ...but does not widen a quirk: its mask holds, mask 0 stays read-only. */
	assert_int_equal(pvpci_cs_write(cs, 0x50, 2, 0xffff), 0);
	assert_int_equal(fake_get(f, 0x50, 2), 0x00ff);
	assert_int_equal(pvpci_cs_write(cs, 0x58, 1, 0xff), 0);
	assert_int_equal(fake_get(f, 0x58, 1), 0);
	/* A dword over a quirk and free bytes: each part by its own rule. */
	assert_int_equal(pvpci_cs_write(cs, 0x58, 4, 0xffffffff), 0);
	assert_int_equal(fake_get(f, 0x58, 4), 0xffffff00);
	pvpci_quirks_free(q);
	pvpci_cs_free(cs);
	free(f);
}

static void expect_refused(struct fakedev *f, const char *text, int err_want, const char *msg)
{
	struct pvpci_cs *cs = bind(f, false);
	struct pvpci_quirks *q = parse_ok(text);
	size_t nregs;
	char err[320] = "";
	int r;

	pvpci_cs_add_reg(cs, 0, &(struct pvpci_reg){ .name = "handler reg", .offset = 0xc0, .size = 4 });
	nregs = pvpci_cs_nregs(cs);
	r = pvpci_quirks_apply(q, cs, err, sizeof(err));
	if (r != err_want || strcmp(err, msg))
		fail_msg("'%s': r %d err '%s', want %d '%s'", text, r, err, err_want, msg);
	/* All or nothing: the table is as it was. */
	assert_int_equal(pvpci_cs_nregs(cs), nregs);
	assert_int_equal(f->nlog, 0);
	pvpci_quirks_free(q);
	pvpci_cs_free(cs);
}

static void test_refused_overlaps(void **state)
{
	struct fakedev *f = dev(256);

	(void)state;
	/* MSI (64-bit, per-vector masking: 0x18 bytes) at 0x40, MSI-X at 0x60,
	 * PCI-X (hidden) at 0x70, vendor-specific (visible) at 0x90. */
	fake_cap(f, 0x40, 0x05, 0x60);
	fake_put(f, 0x42, 2, 0x0180);
	fake_cap(f, 0x60, 0x11, 0x70);
	fake_put(f, 0x62, 2, 0x0003);
	fake_put(f, 0x64, 4, 0x00000000);	/* table in BAR 0 at 0 */
	fake_put(f, 0x68, 4, 0x00000800);	/* PBA in BAR 0 at 0x800 */
	fake_cap(f, 0x70, 0x07, 0x90);
	fake_cap(f, 0x90, 0x09, 0x00);
	f->cfg[0x92] = 8;

	expect_refused(f, "1234:5678 04:2:ffff", -EEXIST,
		       "line 1: field 0x4 size 2 is in the type 0 header, which the engine handles; "
		       "quirks only cover bytes nothing else handles");
	expect_refused(f, "1234:5678 3c:1:ff", -EEXIST,
		       "line 1: field 0x3c size 1 is in the type 0 header, which the engine handles; "
		       "quirks only cover bytes nothing else handles");
	expect_refused(f, "03:00.0-10:4:ffffffff", -EEXIST,
		       "line 1: field 0x10 size 4 is in the type 0 header, which the engine handles; "
		       "quirks only cover bytes nothing else handles");
	expect_refused(f, "1234:5678 44:4:ffffffff", -EEXIST,
		       "line 1: field 0x44 size 4 overlaps the MSI capability at 0x40, which the "
		       "engine handles; quirks only cover bytes nothing else handles");
	expect_refused(f, "1234:5678 54:4:ffffffff", -EEXIST,
		       "line 1: field 0x54 size 4 overlaps the MSI capability at 0x40, which the "
		       "engine handles; quirks only cover bytes nothing else handles");
	expect_refused(f, "1234:5678 62:2:ffff", -EEXIST,
		       "line 1: field 0x62 size 2 overlaps the MSI-X capability at 0x60, which the "
		       "engine handles; quirks only cover bytes nothing else handles");
	expect_refused(f, "1234:5678 70:1:ff", -EEXIST,
		       "line 1: field 0x70 size 1 overlaps 'hidden capability' (0x70 size 4), which "
		       "the engine handles; quirks only cover bytes nothing else handles");
	expect_refused(f, "1234:5678 90:2:ffff", -EEXIST,
		       "line 1: field 0x90 size 2 overlaps 'Capability ID' (0x90 size 1), which the "
		       "engine handles; quirks only cover bytes nothing else handles");
	expect_refused(f, "1234:5678 74:4:ffffffff", -EEXIST,
		       "line 1: field 0x74 size 4 overlaps 'hidden capability' (0x74 size 4), which "
		       "the engine handles; quirks only cover bytes nothing else handles");
	expect_refused(f, "1234:5678 c2:2:ffff", -EEXIST,
		       "line 1: field 0xc2 size 2 overlaps 'handler reg' (0xc0 size 4), which the "
		       "engine handles; quirks only cover bytes nothing else handles");
	/* All or nothing: a good field before a bad one is not added either. */
	expect_refused(f, "1234:5678 80:4:ffffffff\n1234:5678 c0:1:ff", -EEXIST,
		       "line 2: field 0xc0 size 1 overlaps 'handler reg' (0xc0 size 4), which the "
		       "engine handles; quirks only cover bytes nothing else handles");
	/* Two keys that both match this function may not share a byte. */
	expect_refused(f, "1234:5678 80:2:ffff\n\n03:00.0-81:1:ff", -EEXIST,
		       "line 3: field 0x81 size 1 overlaps line 1's field 0x80 size 2, which "
		       "matches this function too");
	expect_refused(f, "1234:5678 80:4:0\n1234:5678:1af4:abcd 80:1:ff", -EEXIST,
		       "line 2: field 0x80 size 1 overlaps line 1's field 0x80 size 4, which "
		       "matches this function too");
	/* Past a conventional function's 256 bytes. */
	expect_refused(f, "1234:5678 100:4:ffffffff", -EINVAL,
		       "line 1: field 0x100 size 4 is past the function's 256 bytes of config space");
	free(f);
}

static void test_free_bytes_of_extended_space(void **state)
{
	struct fakedev *f = dev(4096);
	struct pvpci_cs *cs = bind(f, false);
	struct pvpci_quirks *q = parse_ok("1234:5678 800:4:ffffffff ffc:4:1\n");
	char err[256] = "";

	(void)state;
	assert_int_equal(pvpci_quirks_apply(q, cs, err, sizeof(err)), 2);
	assert_int_equal(pvpci_cs_write(cs, 0xffc, 4, 0xffffffff), 0);
	assert_int_equal(fake_get(f, 0xffc, 4), 1);
	/* Applying the same set twice: the second finds its own fields. */
	assert_int_equal(pvpci_quirks_apply(q, cs, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "overlaps 'quirk' (0x800 size 4)"));
	pvpci_quirks_free(q);
	pvpci_cs_free(cs);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_both_forms),
		cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_nul_and_long_lines),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_applied_field),
		cmocka_unit_test(test_permissive_interplay),
		cmocka_unit_test(test_refused_overlaps),
		cmocka_unit_test(test_free_bytes_of_extended_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
