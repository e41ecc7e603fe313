/*
 * Unit tests of lib/dump.c: the real lspci dumps of pciutils' test suite
 * all parse, the BAR lines give sizes, every error names its line, raw
 * images load, and what we write reads back through our parser and
 * through the real `lspci -F` unchanged.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pvpci/dump.h"

#ifndef PVPCI_SHARED
#define PVPCI_SHARED "../shared"
#endif
#define FIXTURES PVPCI_SHARED "/fixtures/pciutils"

static char errbuf[PVPCI_ERRMSG_LEN];

static int parse(const char *text, struct pvpci_dump *d)
{
	errbuf[0] = 0;
	return pvpci_dump_parse(text, strlen(text), d, errbuf, sizeof(errbuf));
}

/* Skips (and says why) when the shared fixtures are not there. */
static void load_fixture(const char *name, struct pvpci_dump *d)
{
	char path[512];
	int r;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	if (access(path, R_OK) < 0) {
		print_message("# fixture %s missing: skipped\n", path);
		skip();
	}
	r = pvpci_dump_load(path, d, errbuf, sizeof(errbuf));
	if (r < 0)
		fail_msg("%s: %s", path, errbuf);
}

static uint16_t cfg16(const struct pvpci_dump_dev *d, unsigned off)
{
	return (uint16_t)(d->cfg[off] | d->cfg[off + 1] << 8);
}

static void assert_bar(const struct pvpci_dump_dev *d, unsigned i, uint64_t addr, uint64_t size, unsigned flags)
{
	assert_true(d->bar_sizes_known[i]);
	assert_int_equal(d->bars[i].addr, addr);
	assert_int_equal(d->bars[i].size, size);
	assert_int_equal(d->bars[i].flags, flags);
}

/* ------------------------------------------------------------- fixtures */

static void test_all_fixtures_parse(void **state)
{
	static const struct {
		const char *name;
		size_t n;
	} counts[] = {
		{ "broken-ecaps", 1 }, { "cap-aer-log", 1 }, { "cap-ea-1", 1 }, { "cap-exp-dev2", 1 },
		{ "cap-pcie-2", 1 }, { "cap-rebar", 1 }, { "cap-vendor-virtio", 2 }, { "tree-asus-p6t6", 53 },
	};
	struct dirent *e;
	unsigned seen = 0;
	DIR *dir;

	(void)state;
	dir = opendir(FIXTURES);
	if (!dir) {
		print_message("# %s missing: skipped\n", FIXTURES);
		skip();
	}
	while ((e = readdir(dir))) {
		struct pvpci_dump d;
		char path[512];
		size_t i;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", FIXTURES, e->d_name);
		if (pvpci_dump_load(path, &d, errbuf, sizeof(errbuf)) < 0)
			fail_msg("%s: %s", path, errbuf);
		assert_true(d.n >= 1);
		for (i = 0; i < d.n; i++) {
			assert_true(d.devs[i].len == 64 || d.devs[i].len == 256 || d.devs[i].len == 4096);
			assert_int_not_equal(cfg16(&d.devs[i], 0), 0xffff);
		}
		for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
			if (!strcmp(counts[i].name, e->d_name))
				assert_int_equal(d.n, counts[i].n);
		pvpci_dump_free(&d);
		assert_null(d.devs);
		assert_int_equal(d.n, 0);
		seen++;
	}
	closedir(dir);
	assert_true(seen >= 8);
}

static void test_virtio(void **state)
{
	struct pvpci_dump d;
	const struct pvpci_dump_dev *a, *b;

	(void)state;
	load_fixture("cap-vendor-virtio", &d);
	assert_int_equal(d.n, 2);
	a = &d.devs[0];
	b = &d.devs[1];

	assert_int_equal(a->bdf.domain, 0);
	assert_int_equal(a->bdf.bus, 0);
	assert_int_equal(a->bdf.dev, 9);
	assert_int_equal(a->bdf.fn, 0);
	assert_string_equal(a->desc, "Ethernet controller: Red Hat, Inc Virtio network device");
	assert_int_equal(a->len, 256);
	assert_true(a->whole);
	assert_int_equal(cfg16(a, 0), 0x1af4);
	assert_int_equal(cfg16(a, 2), 0x1000);
	assert_int_equal(a->cfg[0xff], 0);
	assert_int_equal(a->cfg[0x100], 0xff);	/* not given */
	assert_bar(a, 0, 0xc060, 32, PVPCI_BAR_IO);
	assert_bar(a, 1, 0xfebd6000, 4096, 0);
	assert_bar(a, 2, 0xfea00000, 512 * 1024, 0);
	assert_false(a->bar_sizes_known[3]);
	assert_false(a->bar_sizes_known[4]);
	assert_false(a->bar_sizes_known[5]);
	assert_bar(a, PVPCI_ROM_BAR, 0xfeb80000, 256 * 1024, PVPCI_BAR_ROM);
	assert_false(a->bar_virtual[0]);

	assert_int_equal(b->bdf.dev, 4);
	assert_string_equal(b->desc, "Mass storage controller: Red Hat, Inc. Virtio file system (rev 01)");
	assert_int_equal(cfg16(b, 0), 0x1af4);
	assert_int_equal(cfg16(b, 2), 0x105a);
	assert_bar(b, 0, 0xa0008000, 16 * 1024, 0);
	assert_false(b->bar_sizes_known[1]);
	assert_bar(b, 2, 0x200000000ull, 1ull << 30, PVPCI_BAR_MEM64 | PVPCI_BAR_PREFETCH);
	assert_bar(b, 3, 0, 0, PVPCI_BAR_MEM64_HI);
	assert_false(b->bar_sizes_known[PVPCI_ROM_BAR]);
	pvpci_dump_free(&d);
}

static void test_virtual_regions_and_domain(void **state)
{
	struct pvpci_dump d;
	const struct pvpci_dump_dev *a;

	(void)state;
	load_fixture("cap-ea-1", &d);
	a = &d.devs[0];
	assert_int_equal(a->bdf.domain, 2);
	assert_int_equal(a->bdf.bus, 1);
	assert_int_equal(a->len, 4096);
	assert_bar(a, 0, 0x843000000000ull, 1ull << 30, 0);
	assert_true(a->bar_virtual[0]);
	assert_bar(a, 4, 0x843060000000ull, 1ull << 20, 0);
	assert_true(a->bar_virtual[4]);
	assert_false(a->bar_virtual[1]);
	pvpci_dump_free(&d);

	load_fixture("tree-asus-p6t6", &d);
	assert_int_equal(d.devs[0].len, 4096);
	assert_true(d.devs[0].whole);
	assert_int_equal(d.devs[0].cfg[0x100], 0x01);
	assert_int_equal(d.devs[0].cfg[0xfff], 0x00);
	pvpci_dump_free(&d);
}

/* ----------------------------------------------------------- small texts */

static const char hdr64[] =
	"00: 86 80 05 34 07 00 10 00 12 00 00 02 00 00 00 00\n"
	"10: 61 c0 00 00 00 60 bd fe 0c 00 00 c0 02 00 00 00\n"
	"20: 00 00 00 00 00 00 00 00 00 00 00 00 43 10 6b 83\n"
	"30: 00 00 b8 fe 40 00 00 00 00 00 00 00 0a 01 00 00\n";

static void test_x_form_64_bytes(void **state)
{
	struct pvpci_dump d;
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text), "01:02.3 Ethernet controller: Intel\n%s", hdr64);
	assert_int_equal(parse(text, &d), 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.devs[0].bdf.bus, 1);
	assert_int_equal(d.devs[0].bdf.dev, 2);
	assert_int_equal(d.devs[0].bdf.fn, 3);
	assert_int_equal(d.devs[0].len, 64);
	assert_true(d.devs[0].whole);
	assert_int_equal(d.devs[0].cfg[0x3d], 0x01);
	assert_int_equal(d.devs[0].cfg[0x40], 0xff);
	pvpci_dump_free(&d);
}

static void test_three_digit_offsets_and_partial(void **state)
{
	struct pvpci_dump d;
	char text[2048];

	(void)state;
	/* Rows 000-030, then 100 and ff0 only: 4096 long, the gaps 0xff. */
	snprintf(text, sizeof(text),
		 "0000:00:00.0 Host bridge\n%s"
		 "100: 01 00 01 15 00 00 00 00 00 00 00 00 30 20 06 00\n"
		 "ff0: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n",
		 hdr64);
	assert_int_equal(parse(text, &d), 0);
	assert_int_equal(d.devs[0].len, 4096);
	assert_false(d.devs[0].whole);	/* rows missing: a reader may not trust them */
	assert_int_equal(d.devs[0].cfg[0x100], 0x01);
	assert_int_equal(d.devs[0].cfg[0x103], 0x15);
	assert_int_equal(d.devs[0].cfg[0xfff], 0x0f);
	assert_int_equal(d.devs[0].cfg[0x80], 0xff);
	pvpci_dump_free(&d);

	/* 0x80 bytes round up to 256. */
	snprintf(text, sizeof(text), "00:00.0 x\n%s40: 00\n70: 01 02\n", hdr64);
	assert_int_equal(parse(text, &d), 0);
	assert_int_equal(d.devs[0].len, 256);
	assert_false(d.devs[0].whole);
	assert_int_equal(d.devs[0].cfg[0x71], 0x02);
	assert_int_equal(d.devs[0].cfg[0x72], 0xff);
	pvpci_dump_free(&d);
}

/* What editors and mail do to files: CRLF, no final newline, long lines, spaces. */
static void test_tolerated_forms(void **state)
{
	struct pvpci_dump d;
	char text[4096], longdesc[600];

	(void)state;
	memset(longdesc, 'x', sizeof(longdesc) - 1);
	longdesc[sizeof(longdesc) - 1] = 0;
	snprintf(text, sizeof(text),
		 "Some prose before the dump.\r\n"
		 "00:09.0 %s\r\n"
		 "        Region 0: I/O ports at c060 [size=32]\r\n"
		 "\t\tRegion 1: Memory at 1000 (32-bit, non-prefetchable) [size=4K]\r\n"
		 "00: f4 1a 00 10 07 05 10 00 00 00 00 02 00 00 00 00 \r\n"
		 "10: 61 c0 00 00\t\r\n"
		 "\r\n"
		 "   \n"
		 "00:0a.0 second\t\n"
		 "00: f4 1a 00 10\n"
		 "\n"
		 /* DEL is a control character too, trimmed where it leads
		  * (fuzz_dump: it became a space the writer wrote and the
		  * reader then trimmed, so the text did not read back). */
		 "00:0b.0 \x7f\x7f third\x7f\n"
		 "00: f4 1a 00 10",
		 longdesc);
	assert_int_equal(parse(text, &d), 0);
	assert_int_equal(d.n, 3);
	assert_int_equal(strlen(d.devs[0].desc), 127);
	assert_bar(&d.devs[0], 0, 0xc060, 32, PVPCI_BAR_IO);
	assert_false(d.devs[0].bar_sizes_known[1]);	/* two tabs deep: a capability's line */
	assert_int_equal(d.devs[0].cfg[0x10], 0x61);
	assert_int_equal(d.devs[0].cfg[0x14], 0xff);
	assert_string_equal(d.devs[1].desc, "second");
	assert_int_equal(d.devs[1].cfg[3], 0x10);
	assert_string_equal(d.devs[2].desc, "third");
	pvpci_dump_free(&d);
}

/* lspci -v prints bases without their number; they map to the BARs shown. */
static void test_unnumbered_bases(void **state)
{
	static const char text[] =
		"00:02.0 VGA compatible controller: Intel\n"
		"\tFlags: bus master, fast devsel, latency 0, IRQ 31\n"
		"\tMemory at d4000000 (64-bit, non-prefetchable) [size=4M]\n"
		"\tMemory at c0000000 (64-bit, prefetchable) [size=256M]\n"
		"\tI/O ports at 4000 [size=64]\n"
		"\t[virtual] Expansion ROM at 000c0000 [disabled] [size=128K]\n"
		"\tMemory behind bridge: 00000000-000fffff\n"
		"00: 86 80 66 01 07 04 90 00 09 00 00 03 00 00 00 00\n"
		"10: 04 00 00 d4 00 00 00 00 0c 00 00 c0 00 00 00 00\n"
		"20: 01 40 00 00 00 00 00 00 00 00 00 00 3c 10 ab 17\n"
		"30: 00 00 00 00 90 00 00 00 00 00 00 00 0b 01 00 00\n";
	struct pvpci_dump d;
	const struct pvpci_dump_dev *a;

	(void)state;
	assert_int_equal(parse(text, &d), 0);
	a = &d.devs[0];
	assert_bar(a, 0, 0xd4000000, 4 << 20, PVPCI_BAR_MEM64);
	assert_bar(a, 1, 0, 0, PVPCI_BAR_MEM64_HI);
	assert_bar(a, 2, 0xc0000000, 256 << 20, PVPCI_BAR_MEM64 | PVPCI_BAR_PREFETCH);
	assert_bar(a, 3, 0, 0, PVPCI_BAR_MEM64_HI);
	assert_bar(a, 4, 0x4000, 64, PVPCI_BAR_IO);
	assert_false(a->bar_sizes_known[5]);
	assert_bar(a, PVPCI_ROM_BAR, 0xc0000, 128 << 10, PVPCI_BAR_ROM);
	assert_true(a->bar_virtual[PVPCI_ROM_BAR]);
	pvpci_dump_free(&d);
}

static void test_region_variants(void **state)
{
	static const char text[] =
		"00:1f.2 x\n"
		"\tRegion 0: I/O ports at <unassigned> [disabled] [size=8]\n"
		"\tRegion 1: Memory at <ignored> (low-1M, non-prefetchable) [disabled] [size=2T]\n"
		"\tRegion 2: Memory at 1000 (32-bit, prefetchable)\n"
		"\tRegion 3: Memory at 2000 (32-bit, prefetchable) [size=99999999999999999999T]\n"
		"\tRegion 4: Memory at 3000 (32-bit, prefetchable) [size=1536]\n"
		"\tRegion 9: Memory at 3000 (32-bit, prefetchable) [size=1K]\n"
		"\tExpansion ROM at 30000000 [virtual] [disabled] [size=64K]\n"
		"00: 86 80 66 01 07 04 90 00 09 00 00 03 00 00 00 00\n";
	struct pvpci_dump d;
	const struct pvpci_dump_dev *a;

	(void)state;
	assert_int_equal(parse(text, &d), 0);
	a = &d.devs[0];
	assert_bar(a, 0, 0, 8, PVPCI_BAR_IO);
	assert_bar(a, 1, 0, 2ull << 40, 0);
	assert_false(a->bar_sizes_known[2]);		/* no [size=] */
	assert_int_equal(a->bars[2].addr, 0x1000);
	assert_int_equal(a->bars[2].flags, PVPCI_BAR_PREFETCH);
	assert_false(a->bar_sizes_known[3]);		/* absurd size ignored */
	assert_bar(a, 4, 0x3000, 1536, PVPCI_BAR_PREFETCH);
	assert_false(a->bar_sizes_known[5]);
	assert_bar(a, PVPCI_ROM_BAR, 0x30000000, 64 << 10, PVPCI_BAR_ROM);
	assert_true(a->bar_virtual[PVPCI_ROM_BAR]);
	pvpci_dump_free(&d);
}

/* lspci -v's and -vv's IRQ: the host's interrupt number for the INTx. */
static void test_irq_lines(void **state)
{
	static const char text[] =
		"00:01.0 a\n"
		"\tFlags: bus master, fast devsel, latency 0, IRQ 16\n"
		"00: 86 80 66 01 07 04 90 00 09 00 00 03 00 00 00 00\n"
		"\n"
		"00:02.0 b\n"
		"\tInterrupt: pin A routed to IRQ 130\n"
		"00: 86 80 66 01 07 04 90 00 09 00 00 03 00 00 00 00\n"
		"\n"
		"00:03.0 c\n"
		"        Flags: fast devsel, IRQ 11, IOMMU group 5\n"
		"00: 86 80 66 01 07 04 90 00 09 00 00 03 00 00 00 00\n"
		"\n"
		"00:04.0 no IRQ said, or said wrong\n"
		"\tFlags: fast devsel\n"
		"\tInterrupt: pin A routed to IRQ x7\n"
		"\tFlags: IRQ 12x\n"
		"\tFlags: IRQ 1234567890\n"
		"\tSubsystem: IRQ 5\n"
		"\t\tFlags: IRQ 6\n"
		"00: 86 80 66 01 07 04 90 00 09 00 00 03 00 00 00 00\n";
	static const unsigned want[] = { 16, 130, 11, 0 };
	struct pvpci_dump d;

	(void)state;
	assert_int_equal(parse(text, &d), 0);
	assert_int_equal(d.n, 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(d.devs[i].irq, want[i]);
	pvpci_dump_free(&d);
}

/* ---------------------------------------------------------------- errors */

static void test_errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{ "00: 00 01\n", "line 1: hex line outside a function" },
		{ "00:00.0 a\n00: 00\n\n10: 00\n", "line 4: hex line outside a function" },
		{ "00:00.0 a\n00: zz\n", "line 2: bad hex byte at column 5" },
		{ "00:00.0 a\n00: 00 1\n", "line 2: bad hex byte at column 8" },
		{ "00:00.0 a\n00: 00  01\n", "line 2: bad hex byte at column 9" },
		{ "00:00.0 a\n00: 000\n", "line 2: bad hex byte at column 5" },
		{ "00:00.0 a\n08: 00\n", "line 2: offset 8 is not a multiple of 16" },
		{ "00:00.0 a\n1000: 00\n", "line 2: offset 1000 is past the 4096 bytes" },
		{ "00:00.0 a\nffffffff: 00\n", "line 2: offset ffffffff is past the 4096 bytes" },
		{ "00:00.0 a\n00: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10\n",
		  "line 2: more than 16 bytes on the line of offset 000" },
		{ "00:00.0 a\n00: 00\n00: 01\n", "line 3: offset 000 given twice" },
		{ "00:00.0 a\n00: 00\n\n0000:00:00.0 b\n00: 00\n",
		  "line 4: 0000:00:00.0 given twice (first at line 1)" },
		{ "00:00.0 a\n\tRegion 0: I/O ports at c060 [size=32]\n\n", "line 1: 0000:00:00.0 has no hex dump" },
		{ "00:00.0 a\n00: 00\n00:01.0 b\n", "line 3: 0000:00:01.0 has no hex dump" },
		{ "00:20.0 a\n00: 00\n", "line 1: device number 20 is above 1f" },
		{ "00:00.8 a\n00: 00\n", "line 1: function '8' is not 0 to 7" },
		{ "00:00.a a\n00: 00\n", "line 1: function 'a' is not 0 to 7" },
		{ "10000:00:00.0 a\n00: 00\n", "line 1: domain 10000 does not fit in 16 bits" },
		{ "", "line 1: no PCI function found" },
		{ "hello\n\n00:00.0\n", "line 3: no PCI function found" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pvpci_dump d = { (void *)&d, 12345 };

		if (parse(cases[i].text, &d) != -EINVAL)
			fail_msg("case %zu parsed: %s", i, cases[i].text);
		if (strncmp(errbuf, cases[i].msg, strlen(cases[i].msg)))
			fail_msg("case %zu: got '%s', want '%s'", i, errbuf, cases[i].msg);
		/* Output untouched on failure. */
		assert_ptr_equal(d.devs, &d);
		assert_int_equal(d.n, 12345);
		/* And no errbuf is fine too. */
		assert_int_equal(pvpci_dump_parse(cases[i].text, strlen(cases[i].text), &d, NULL, 0), -EINVAL);
	}
	/* Text from a larger file counts its lines from where it starts. */
	assert_int_equal(pvpci_dump_parse_at("00:00.0 a\n08: 00\n", 18, 40, &(struct pvpci_dump){ 0 },
					     errbuf, sizeof(errbuf)), -EINVAL);
	assert_string_equal(errbuf, "line 41: offset 8 is not a multiple of 16");
	assert_int_equal(pvpci_dump_parse_at("", 0, 40, &(struct pvpci_dump){ 0 }, errbuf, sizeof(errbuf)),
			 -EINVAL);
	assert_string_equal(errbuf, "line 40: no PCI function found (expected the output of lspci -x)");
	assert_int_equal(pvpci_dump_parse(NULL, 3, &(struct pvpci_dump){ 0 }, NULL, 0), -EINVAL);
	assert_int_equal(pvpci_dump_parse("x", 1, NULL, NULL, 0), -EINVAL);
}

/* A 5-digit domain that fits is what lspci -F reads too. */
static void test_five_digit_domain(void **state)
{
	struct pvpci_dump d;

	(void)state;
	assert_int_equal(parse("0ffff:00:1f.7 a\n00: 00\n", &d), 0);
	assert_int_equal(d.devs[0].bdf.domain, 0xffff);
	assert_int_equal(d.devs[0].bdf.dev, 0x1f);
	assert_int_equal(d.devs[0].bdf.fn, 7);
	pvpci_dump_free(&d);
}

static void test_device_limit(void **state)
{
	size_t cap = (PVPCI_DUMP_MAX_DEVS + 1) * 32, len = 0;
	char *text = malloc(cap);
	struct pvpci_dump d;
	unsigned i;

	(void)state;
	assert_non_null(text);
	for (i = 0; i <= PVPCI_DUMP_MAX_DEVS; i++)
		len += (size_t)snprintf(text + len, cap - len, "%04x:%02x:%02x.%u x\n00: 00\n", i >> 8, i & 0xff,
					0, 0);
	assert_int_equal(pvpci_dump_parse(text, len, &d, errbuf, sizeof(errbuf)), -EINVAL);
	assert_string_equal(errbuf, "line 8193: more than 4096 functions in one dump");
	/* Exactly the limit is fine. */
	len = (size_t)(strstr(text, "\n0010:00:00.0 x") - text) + 1;
	assert_int_equal(pvpci_dump_parse(text, len, &d, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(d.n, PVPCI_DUMP_MAX_DEVS);
	pvpci_dump_free(&d);
	free(text);
}

/* Garbage never crashes (ASan watches) and never half-succeeds. */
static void test_garbage(void **state)
{
	static const char alphabet[] = "0123456789abcdefABCDEF:. \t\n\r[]<>=KMGTRegion I/O Memory at size";
	uint32_t seed = 12345;
	char buf[600];
	unsigned it, i;

	(void)state;
	for (it = 0; it < 20000; it++) {
		struct pvpci_dump d;
		size_t n;

		seed = seed * 1103515245 + 12345;
		n = (seed >> 8) % sizeof(buf);
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			buf[i] = (it & 1) ? (char)(seed >> 16) : alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		if (it % 7 == 0 && n > 20)
			memcpy(buf, "00:00.0 x\n00: 00 11\n", 20);
		if (pvpci_dump_parse_any(buf, n, &d, errbuf, sizeof(errbuf)) == 0) {
			assert_true(d.n >= 1);
			pvpci_dump_free(&d);
		} else {
			assert_true(errbuf[0]);
		}
	}
}

/* --------------------------------------------------------- binary images */

static void write_file(const char *path, const void *buf, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void test_binary_images(void **state)
{
	static const unsigned sizes[] = { 64, 256, 4096 };
	char path[] = "/tmp/pvpci-dump-XXXXXX";
	uint8_t img[4096];
	struct pvpci_dump d;
	unsigned i, j;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	for (j = 0; j < sizeof(img); j++)
		img[j] = (uint8_t)(j * 7);
	for (i = 0; i < 3; i++) {
		write_file(path, img, sizes[i]);
		assert_int_equal(pvpci_dump_load(path, &d, errbuf, sizeof(errbuf)), 0);
		assert_int_equal(d.n, 1);
		assert_int_equal(d.devs[0].len, sizes[i]);
		assert_int_equal(pvpci_bdf_cmp(&d.devs[0].bdf, &(struct pvpci_bdf){ 0, 0, 0, 0 }), 0);
		assert_string_equal(d.devs[0].desc, "");
		assert_memory_equal(d.devs[0].cfg, img, sizes[i]);
		if (sizes[i] < 4096)
			assert_int_equal(d.devs[0].cfg[sizes[i]], 0xff);
		pvpci_dump_free(&d);
	}
	write_file(path, img, 100);
	assert_int_equal(pvpci_dump_load(path, &d, errbuf, sizeof(errbuf)), -EINVAL);
	assert_non_null(strstr(errbuf, "100 bytes is not a raw config image"));
	assert_int_equal(strncmp(errbuf, path, strlen(path)), 0);

	/* Text with a parse error names the file and the line. */
	write_file(path, "00:00.0 x\n00: zz\n", 17);
	assert_int_equal(pvpci_dump_load(path, &d, errbuf, sizeof(errbuf)), -EINVAL);
	assert_non_null(strstr(errbuf, ": line 2: bad hex byte"));
	unlink(path);

	assert_int_equal(pvpci_dump_load("/nonexistent/dump", &d, errbuf, sizeof(errbuf)), -ENOENT);
	assert_string_equal(errbuf, "cannot open /nonexistent/dump: No such file or directory");
	assert_int_equal(pvpci_dump_load("/tmp", &d, errbuf, sizeof(errbuf)), -EISDIR);

	/* The same from memory. */
	assert_int_equal(pvpci_dump_parse_any(img, 256, &d, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(d.devs[0].len, 256);
	pvpci_dump_free(&d);
	pvpci_dump_free(NULL);
}

/* ---------------------------------------------------------------- writing */

static void fill_cfg(uint8_t *cfg, unsigned seed)
{
	unsigned i;

	for (i = 0; i < PVPCI_CFG_EXP_SIZE; i++)
		cfg[i] = (uint8_t)(i * 31 + seed);
	cfg[0x04] = 0x06;	/* Mem on, I/O off: "[disabled]" on the I/O line */
	cfg[0x0e] = 0x00;
	cfg[0x30] = 0x00;	/* ROM disabled */
}

static char *write_to_mem(const struct pvpci_bdf *bdf, const char *desc, const uint8_t *cfg, unsigned len,
			  const struct pvpci_bar *bars, size_t *ret_len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, ret_len);

	assert_non_null(f);
	assert_int_equal(pvpci_dump_write(f, bdf, desc, cfg, len, bars), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_write_parse_round_trip(void **state)
{
	static const unsigned lens[] = { 64, 256, 4096 };
	struct pvpci_bar bars[PVPCI_NUM_BARS + 1] = {
		{ 0xc060, 32, PVPCI_BAR_IO },
		{ 0xfebd6000, 4096, 0 },
		{ 0x200000000ull, 1ull << 30, PVPCI_BAR_MEM64 | PVPCI_BAR_PREFETCH },
		{ 0, 0, PVPCI_BAR_MEM64_HI },
		{ 0, 0, PVPCI_BAR_UNUSED },
		{ 0x3000, 1536, 0 },
		{ 0xfeb80000, 256 << 10, PVPCI_BAR_ROM },
	};
	struct pvpci_bdf bdf = { 0x1234, 0xab, 0x1f, 7 };
	static uint8_t cfg[PVPCI_CFG_EXP_SIZE];
	unsigned i, k;

	(void)state;
	for (k = 0; k < 3; k++) {
		struct pvpci_dump d;
		size_t len;
		char *text;

		fill_cfg(cfg, k);
		text = write_to_mem(&bdf, "Ethernet controller: \x01odd\tdesc", cfg, lens[k], bars, &len);
		assert_non_null(strstr(text, "1234:ab:1f.7 Ethernet controller:  odd desc\n"));
		assert_non_null(strstr(text, "\tRegion 0: I/O ports at c060 [disabled] [size=32]\n"));
		assert_non_null(strstr(text, "\tRegion 1: Memory at febd6000 (32-bit, non-prefetchable) [size=4K]\n"));
		assert_non_null(strstr(text, "\tRegion 2: Memory at 200000000 (64-bit, prefetchable) [size=1G]\n"));
		assert_null(strstr(text, "Region 3"));
		assert_null(strstr(text, "Region 4"));
		assert_non_null(strstr(text, "\tRegion 5: Memory at 00003000 (32-bit, non-prefetchable) [size=1536]\n"));
		assert_non_null(strstr(text, "\tExpansion ROM at feb80000 [disabled] [size=256K]\n"));
		if (lens[k] == 4096)
			assert_non_null(strstr(text, "\nff0: "));
		assert_int_equal(text[len - 1], '\n');
		assert_int_equal(text[len - 2], '\n');

		assert_int_equal(pvpci_dump_parse(text, len, &d, errbuf, sizeof(errbuf)), 0);
		assert_int_equal(d.n, 1);
		assert_int_equal(pvpci_bdf_cmp(&d.devs[0].bdf, &bdf), 0);
		assert_string_equal(d.devs[0].desc, "Ethernet controller:  odd desc");
		assert_int_equal(d.devs[0].len, lens[k]);
		assert_memory_equal(d.devs[0].cfg, cfg, lens[k]);
		for (i = 0; i <= PVPCI_ROM_BAR; i++) {
			if (bars[i].flags & PVPCI_BAR_UNUSED) {
				assert_false(d.devs[0].bar_sizes_known[i]);
				continue;
			}
			assert_bar(&d.devs[0], i, bars[i].addr, bars[i].size, bars[i].flags);
		}
		pvpci_dump_free(&d);
		free(text);
	}
}

static void test_write_bad_args(void **state)
{
	static uint8_t cfg[PVPCI_CFG_EXP_SIZE];
	struct pvpci_bdf bdf = { 0, 0, 0, 0 }, bad = { 0, 0, 0x20, 0 };
	FILE *f = fopen("/dev/null", "w");

	(void)state;
	assert_non_null(f);
	assert_int_equal(pvpci_dump_write(f, &bdf, "", cfg, 0, NULL), -EINVAL);
	assert_int_equal(pvpci_dump_write(f, &bdf, "", cfg, 65, NULL), -EINVAL);
	assert_int_equal(pvpci_dump_write(f, &bdf, "", cfg, 8192, NULL), -EINVAL);
	assert_int_equal(pvpci_dump_write(f, &bad, "", cfg, 64, NULL), -EINVAL);
	assert_int_equal(pvpci_dump_write(NULL, &bdf, "", cfg, 64, NULL), -EINVAL);
	assert_int_equal(pvpci_dump_write(f, &bdf, NULL, cfg, 64, NULL), 0);
	fclose(f);
}

/* ------------------------------------------------------- the real lspci */

static bool have_lspci(void)
{
	return system("command -v lspci >/dev/null 2>&1") == 0;
}

/* The hex lines of a text, in order, joined. */
static char *hex_lines(const char *text)
{
	size_t cap = strlen(text) + 1, n = 0;
	char *out = malloc(cap);
	const char *s = text;

	assert_non_null(out);
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) + 1 : strlen(s);
		const char *c = s;

		while (c < s + len && strchr("0123456789abcdef", *c) && *c)
			c++;
		if (c - s >= 2 && c < s + len && *c == ':' && c[1] == ' ') {
			memcpy(out + n, s, len);
			n += len;
		}
		s += len;
	}
	out[n] = 0;
	return out;
}

static char *run_lspci(const char *path)
{
	char cmd[600], *out = NULL;
	size_t len = 0;
	FILE *p, *m;
	int c;

	snprintf(cmd, sizeof(cmd), "lspci -F '%s' -xxxx 2>&1", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	m = open_memstream(&out, &len);
	assert_non_null(m);
	while ((c = fgetc(p)) != EOF)
		fputc(c, m);
	fclose(m);
	assert_int_equal(pclose(p), 0);
	return out;
}

static void test_lspci_reads_what_we_write(void **state)
{
	char path[] = "/tmp/pvpci-lspci-XXXXXX";
	struct pvpci_dump d;
	char *ours, *theirs, *a, *b;
	size_t i, len;
	FILE *f;
	int fd;

	(void)state;
	if (!have_lspci()) {
		print_message("# lspci not installed: skipped\n");
		skip();
	}
	load_fixture("tree-asus-p6t6", &d);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	/* lspci prints in BDF order; the fixture is in that order already. */
	for (i = 0; i < d.n; i++) {
		if (i)
			assert_true(pvpci_bdf_cmp(&d.devs[i - 1].bdf, &d.devs[i].bdf) < 0);
		assert_int_equal(pvpci_dump_write(f, &d.devs[i].bdf, d.devs[i].desc, d.devs[i].cfg, d.devs[i].len,
						  d.devs[i].bars),
				 0);
	}
	assert_int_equal(fclose(f), 0);

	theirs = run_lspci(path);
	b = hex_lines(theirs);
	f = open_memstream(&ours, &len);
	for (i = 0; i < d.n; i++)
		pvpci_dump_write(f, &d.devs[i].bdf, d.devs[i].desc, d.devs[i].cfg, d.devs[i].len, NULL);
	fclose(f);
	a = hex_lines(ours);
	assert_true(strlen(a) > 53 * 16 * 48);
	assert_string_equal(a, b);
	free(a);
	free(b);
	free(ours);
	free(theirs);
	pvpci_dump_free(&d);

	/* And the 64-byte form, and a virtio pair with Region lines. */
	load_fixture("cap-vendor-virtio", &d);
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = d.n; i-- > 0;)	/* 00:04.0 before 00:09.0 */
		pvpci_dump_write(f, &d.devs[i].bdf, d.devs[i].desc, d.devs[i].cfg, i ? 64 : 256, d.devs[i].bars);
	fclose(f);
	theirs = run_lspci(path);
	b = hex_lines(theirs);
	f = open_memstream(&ours, &len);
	for (i = d.n; i-- > 0;)
		pvpci_dump_write(f, &d.devs[i].bdf, d.devs[i].desc, d.devs[i].cfg, i ? 64 : 256, NULL);
	fclose(f);
	a = hex_lines(ours);
	assert_string_equal(a, b);
	assert_non_null(strstr(theirs, "00:04.0 "));
	free(a);
	free(b);
	free(ours);
	free(theirs);
	pvpci_dump_free(&d);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_fixtures_parse),
		cmocka_unit_test(test_virtio),
		cmocka_unit_test(test_virtual_regions_and_domain),
		cmocka_unit_test(test_x_form_64_bytes),
		cmocka_unit_test(test_three_digit_offsets_and_partial),
		cmocka_unit_test(test_tolerated_forms),
		cmocka_unit_test(test_unnumbered_bases),
		cmocka_unit_test(test_region_variants),
		cmocka_unit_test(test_irq_lines),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_five_digit_domain),
		cmocka_unit_test(test_device_limit),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_binary_images),
		cmocka_unit_test(test_write_parse_round_trip),
		cmocka_unit_test(test_write_bad_args),
		cmocka_unit_test(test_lspci_reads_what_we_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
