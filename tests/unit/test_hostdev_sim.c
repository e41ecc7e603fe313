/*
 * Unit tests of the sim host backend (lib/hostdev_sim.c) through the
 * generic interface of lib/hostdev.c: opening by spec, enumeration, reads
 * of every size, each write rule (read-only, RW1C, BAR and ROM sizing),
 * reset, the write log, and the errors a user sees.
 */
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
#include "pvpci/hostdev.h"
#include "pvpci/hostdev_sim.h"

#ifndef PVPCI_SHARED
#define PVPCI_SHARED "../shared"
#endif
#define FIXTURES PVPCI_SHARED "/fixtures/pciutils"

static char errbuf[PVPCI_ERRMSG_LEN];

/* -------------------------------------------------------------- helpers */

static uint32_t rd(struct pvpci_hostdev *d, unsigned off, unsigned size)
{
	uint32_t v = 0xdeadbeef;

	assert_int_equal(pvpci_hostdev_read(d, off, size, &v), 0);
	return v;
}

static void wr(struct pvpci_hostdev *d, unsigned off, unsigned size, uint32_t val)
{
	assert_int_equal(pvpci_hostdev_write(d, off, size, val), 0);
}

static void put32(uint8_t *cfg, unsigned off, uint32_t v)
{
	cfg[off] = (uint8_t)v;
	cfg[off + 1] = (uint8_t)(v >> 8);
	cfg[off + 2] = (uint8_t)(v >> 16);
	cfg[off + 3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *cfg, unsigned off, uint16_t v)
{
	cfg[off] = (uint8_t)v;
	cfg[off + 1] = (uint8_t)(v >> 8);
}

/*
 * An endpoint with every kind of register the rules know: I/O, 32-bit,
 * 64-bit, unused and size-less BARs, a ROM, PCIe and MSI capabilities, and
 * AER plus a serial-number capability in extended space.
 */
static uint8_t ep_cfg[PVPCI_CFG_EXP_SIZE];
static const struct pvpci_bar ep_bars[PVPCI_NUM_BARS + 1] = {
	{ 0xc060, 32, PVPCI_BAR_IO },
	{ 0xfebd6000, 4096, 0 },
	{ 0x200000000ull, 1ull << 30, PVPCI_BAR_MEM64 | PVPCI_BAR_PREFETCH },
	{ 0, 0, PVPCI_BAR_MEM64_HI },
	{ 0, 0, PVPCI_BAR_UNUSED },
	{ 0, 0, PVPCI_BAR_UNUSED },	/* BAR5 is used, but no Region line: size derived */
	{ 0xfeb80000, 256 << 10, PVPCI_BAR_ROM },
};

static void make_ep(uint8_t *cfg)
{
	unsigned i;

	memset(cfg, 0, PVPCI_CFG_EXP_SIZE);
	for (i = 0xc0; i < 0x100; i++)	/* device-specific bytes */
		cfg[i] = (uint8_t)i;
	put32(cfg, 0x00, 0x10c98086);
	put16(cfg, 0x04, 0x0007);
	put16(cfg, 0x06, 0x4110);		/* CapList, Signaled System Error, Parity */
	put32(cfg, 0x08, 0x02000001);
	cfg[0x0c] = 0x10;
	cfg[0x0e] = 0x80;			/* type 0, multi-function */
	put32(cfg, 0x10, 0x0000c061);
	put32(cfg, 0x14, 0xfebd6000);
	put32(cfg, 0x18, 0x0000000c);
	put32(cfg, 0x1c, 0x00000002);
	put32(cfg, 0x20, 0x00000000);
	put32(cfg, 0x24, 0xfe000000);
	put32(cfg, 0x2c, 0xa01f8086);
	put32(cfg, 0x30, 0xfeb80000);
	cfg[0x34] = 0x40;
	cfg[0x3c] = 0x0b;
	cfg[0x3d] = 0x01;
	/* PCIe at 0x40 -> MSI at 0x60 -> end */
	cfg[0x40] = 0x10;
	cfg[0x41] = 0x60;
	put16(cfg, 0x42, 0x0002);
	put32(cfg, 0x44, 0x10008fc2);
	put16(cfg, 0x48, 0x2810);
	put16(cfg, 0x4a, 0x0019);		/* CorrErr, UnsupReq, AuxPwr */
	put32(cfg, 0x4c, 0x00437c41);
	put16(cfg, 0x50, 0x0040);
	put16(cfg, 0x52, 0x1011);
	cfg[0x60] = 0x05;
	cfg[0x61] = 0x00;
	put16(cfg, 0x62, 0x0080);
	/* AER at 0x100 -> serial number at 0x140 -> end */
	put32(cfg, 0x100, 0x14010001);
	put32(cfg, 0x104, 0x00100000);
	put32(cfg, 0x108, 0x00400000);
	put32(cfg, 0x110, 0x00000041);
	put32(cfg, 0x140, 0x00010003);
	put32(cfg, 0x144, 0x12345678);
}

static char *dump_text(const uint8_t *cfg, unsigned len, const struct pvpci_bar *bars, size_t *ret_len,
		       const char *extra)
{
	struct pvpci_bdf bdf = { 0, 3, 0, 0 };
	char *buf = NULL;
	FILE *f = open_memstream(&buf, ret_len);

	assert_non_null(f);
	if (extra)
		fputs(extra, f);
	assert_int_equal(pvpci_dump_write(f, &bdf, "Ethernet controller: Intel 82576", cfg, len, bars), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static struct pvpci_host *host_from(const uint8_t *cfg, unsigned len, const struct pvpci_bar *bars)
{
	struct pvpci_host *h = NULL;
	size_t n;
	char *text = dump_text(cfg, len, bars, &n, NULL);

	if (pvpci_sim_host_from_text(text, n, &h, errbuf, sizeof(errbuf)) < 0)
		fail_msg("%s", errbuf);
	free(text);
	return h;
}

struct ep {
	struct pvpci_host *h;
	struct pvpci_hostdev *d;
};

static int ep_setup(void **state)
{
	static struct ep e;
	struct pvpci_bdf bdf = { 0, 3, 0, 0 };

	make_ep(ep_cfg);
	e.h = host_from(ep_cfg, PVPCI_CFG_EXP_SIZE, ep_bars);
	if (pvpci_hostdev_open(e.h, &bdf, &e.d) < 0)
		return -1;
	*state = &e;
	return 0;
}

static int ep_teardown(void **state)
{
	struct ep *e = *state;

	pvpci_hostdev_close(e->d);
	pvpci_host_close(e->h);
	return 0;
}

static struct pvpci_hostdev *ep_dev(void **state)
{
	return ((struct ep *)*state)->d;
}

static const char *fixture(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	if (access(path, R_OK) < 0) {
		print_message("# fixture %s missing: skipped\n", path);
		skip();
	}
	return path;
}

/* ------------------------------------------------------ spec, list, open */

static void test_open_by_spec(void **state)
{
	char spec[600];
	struct pvpci_host *h = NULL;
	struct pvpci_hostdev *d = NULL;
	struct pvpci_bdf list[4], bdf;
	struct pvpci_bar b;
	size_t n = 99;

	(void)state;
	snprintf(spec, sizeof(spec), "sim:%s", fixture("cap-vendor-virtio"));
	if (pvpci_host_open(spec, &h, errbuf, sizeof(errbuf)) < 0)
		fail_msg("%s", errbuf);
	assert_ptr_equal(h->ops, &pvpci_hostdev_sim_ops);

	/* Ascending, though the file has 00:09.0 first. */
	assert_int_equal(pvpci_host_list(h, list, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].dev, 4);
	assert_int_equal(list[1].dev, 9);
	/* Too small a buffer: filled as far as it goes, the count says more. */
	memset(list, 0, sizeof(list));
	assert_int_equal(pvpci_host_list(h, list, 1, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].dev, 4);
	assert_int_equal(list[1].dev, 0);
	assert_int_equal(pvpci_host_list(h, NULL, 0, &n), 0);
	assert_int_equal(n, 2);

	bdf = list[0];
	bdf.dev = 9;
	assert_int_equal(pvpci_hostdev_open(h, &bdf, &d), 0);
	assert_ptr_equal(d->host, h);
	assert_int_equal(pvpci_bdf_cmp(&d->bdf, &bdf), 0);
	assert_int_equal(d->cfg_size, 256);
	assert_string_equal(d->desc, "Ethernet controller: Red Hat, Inc Virtio network device");
	assert_int_equal(rd(d, 0, 4), 0x10001af4);
	assert_int_equal(pvpci_hostdev_bar_info(d, 0, &b), 0);
	assert_int_equal(b.addr, 0xc060);
	assert_int_equal(b.size, 32);
	assert_int_equal(b.flags, PVPCI_BAR_IO);
	assert_int_equal(pvpci_hostdev_bar_info(d, 1, &b), 0);
	assert_int_equal(b.size, 4096);
	assert_int_equal(pvpci_hostdev_bar_info(d, 2, &b), 0);
	assert_int_equal(b.size, 512 << 10);
	assert_int_equal(pvpci_hostdev_bar_info(d, 3, &b), 0);
	assert_int_equal(b.flags, PVPCI_BAR_UNUSED);
	assert_int_equal(pvpci_hostdev_bar_info(d, PVPCI_ROM_BAR, &b), 0);
	assert_int_equal(b.addr, 0xfeb80000);
	assert_int_equal(b.size, 256 << 10);
	assert_int_equal(b.flags, PVPCI_BAR_ROM);
	assert_int_equal(pvpci_hostdev_bar_info(d, 7, &b), -EINVAL);
	/* The I/O BAR sizes to 32, as the Region line says. */
	wr(d, 0x10, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x10, 4), 0xffffffe1);
	pvpci_hostdev_close(d);

	bdf.dev = 4;
	assert_int_equal(pvpci_hostdev_open(h, &bdf, &d), 0);
	assert_int_equal(pvpci_hostdev_bar_info(d, 2, &b), 0);
	assert_int_equal(b.addr, 0x200000000ull);
	assert_int_equal(b.size, 1ull << 30);
	assert_int_equal(b.flags, PVPCI_BAR_MEM64 | PVPCI_BAR_PREFETCH);
	assert_int_equal(pvpci_hostdev_bar_info(d, 3, &b), 0);
	assert_int_equal(b.flags, PVPCI_BAR_MEM64_HI | PVPCI_BAR_PREFETCH);
	pvpci_hostdev_close(d);
	pvpci_host_close(h);

	/* A -xxxx dump gives 4096 bytes of config space. */
	snprintf(spec, sizeof(spec), "sim:%s", fixture("tree-asus-p6t6"));
	assert_int_equal(pvpci_host_open(spec, &h, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(pvpci_host_list(h, NULL, 0, &n), 0);
	assert_int_equal(n, 53);
	assert_int_equal(pvpci_hostdev_open(h, &(struct pvpci_bdf){ 0, 0, 0, 0 }, &d), 0);
	assert_int_equal(d->cfg_size, 4096);
	assert_int_equal(rd(d, 0x100, 4), 0x15010001);
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

static void test_bad_specs(void **state)
{
	char path[] = "/tmp/pvpci-sim-XXXXXX", spec[64];
	struct pvpci_host *h = (void *)&h;
	int fd;

	(void)state;
	assert_int_equal(pvpci_host_open("sim", &h, errbuf, sizeof(errbuf)), -EINVAL);
	assert_string_equal(errbuf, "sim: sim needs a dump file: sim:PATH");
	assert_int_equal(pvpci_host_open("sim:", &h, errbuf, sizeof(errbuf)), -EINVAL);
	assert_int_equal(pvpci_host_open("sim:/nonexistent/x.dump", &h, errbuf, sizeof(errbuf)), -ENOENT);
	assert_string_equal(errbuf,
			    "sim:/nonexistent/x.dump: cannot open /nonexistent/x.dump: No such file or directory");
	assert_ptr_equal(h, &h);	/* untouched */

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "00:00.0 x\n00: 00\n10: 0g\n", 24), 24);
	close(fd);
	snprintf(spec, sizeof(spec), "sim:%s", path);
	assert_int_equal(pvpci_host_open(spec, &h, errbuf, sizeof(errbuf)), -EINVAL);
	assert_non_null(strstr(errbuf, ": line 3: bad hex byte"));
	assert_ptr_equal(h, &h);
	unlink(path);

	assert_int_equal(pvpci_sim_host_from_text("", 0, &h, errbuf, sizeof(errbuf)), -EINVAL);
	assert_string_equal(errbuf, "line 1: no PCI function found (expected the output of lspci -x)");
	assert_int_equal(pvpci_sim_host_from_text("x", 1, NULL, NULL, 0), -EINVAL);
	assert_ptr_equal(h, &h);
}

static void test_open_errors(void **state)
{
	struct pvpci_bdf bdf = { 0, 3, 0, 0 }, other = { 0, 3, 0, 1 };
	struct pvpci_hostdev *d = NULL, *d2 = (void *)&d2;
	struct pvpci_host *h;

	(void)state;
	make_ep(ep_cfg);
	h = host_from(ep_cfg, 256, NULL);
	assert_int_equal(pvpci_hostdev_open(h, &other, &d2), -ENODEV);
	assert_string_equal(pvpci_host_errmsg(h), "no function 0000:03:00.1 in <memory>");
	assert_ptr_equal(d2, &d2);
	assert_int_equal(pvpci_hostdev_open(h, &bdf, &d), 0);
	assert_int_equal(d->cfg_size, 256);
	/* One owner at a time. */
	assert_int_equal(pvpci_hostdev_open(h, &bdf, &d2), -EBUSY);
	assert_non_null(strstr(pvpci_host_errmsg(h), "already open"));
	pvpci_hostdev_close(d);
	assert_int_equal(pvpci_hostdev_open(h, &bdf, &d), 0);
	/* The host may go first; the device keeps it alive (ASan checks). */
	pvpci_host_close(h);
	assert_int_equal(rd(d, 0, 2), 0x8086);
	pvpci_hostdev_close(d);
	pvpci_hostdev_close(NULL);
	pvpci_host_close(NULL);
}

/* ------------------------------------------------------------------ reads */

static void test_reads_all_sizes(void **state)
{
	struct pvpci_hostdev *d = ep_dev(state);
	unsigned long reads = d->n_reads;
	unsigned off, size;

	assert_int_equal(d->cfg_size, 4096);
	assert_string_equal(d->desc, "Ethernet controller: Intel 82576");
	for (size = 1; size <= 4; size *= 2)
		for (off = 0; off < d->cfg_size; off += size) {
			uint32_t want = 0;
			unsigned i;

			for (i = 0; i < size; i++)
				want |= (uint32_t)ep_cfg[off + i] << (8 * i);
			if (rd(d, off, size) != want)
				fail_msg("read %u at %#x: %#x, want %#x", size, off, rd(d, off, size), want);
		}
	assert_true(d->n_reads > reads);
	assert_memory_equal(pvpci_sim_image(d), ep_cfg, 4096);
	/* Reading the image is not an access. */
	reads = d->n_reads;
	assert_non_null(pvpci_sim_image(d));
	assert_int_equal(d->n_reads, reads);
}

/* A -x dump: 64 bytes given, the rest of the 256 reads 0. */
static void test_short_dump_reads_zero(void **state)
{
	struct pvpci_host *h;
	struct pvpci_hostdev *d;

	(void)state;
	make_ep(ep_cfg);
	h = host_from(ep_cfg, 64, NULL);
	assert_int_equal(pvpci_hostdev_open(h, &(struct pvpci_bdf){ 0, 3, 0, 0 }, &d), 0);
	assert_int_equal(d->cfg_size, 256);
	assert_int_equal(rd(d, 0x00, 4), 0x10c98086);
	assert_int_equal(rd(d, 0x40, 4), 0);
	assert_int_equal(rd(d, 0xfc, 4), 0);
	/* Nothing there is fixed: it is written like RAM... */
	wr(d, 0x80, 4, 0x12345678);
	assert_int_equal(rd(d, 0x80, 4), 0x12345678);
	/* ...but for where the capability pointer points: an ID and a next. */
	wr(d, 0x40, 4, 0x12345678);
	assert_int_equal(rd(d, 0x40, 4), 0x12340000);
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

/* lib/hostdev.c refuses bad accesses before the sim sees them. */
static void test_wrapper_rejects(void **state)
{
	static const struct {
		unsigned off, size;
	} bad[] = { { 0, 0 }, { 0, 3 }, { 0, 8 }, { 1, 2 }, { 2, 4 }, { 3, 4 }, { 4096, 1 }, { 4094, 4 }, { 0xffffffff, 1 } };
	struct pvpci_hostdev *d = ep_dev(state);
	const struct pvpci_sim_write *log;
	unsigned long reads = d->n_reads, writes = d->n_writes;
	uint32_t v = 0x5a5a5a5a;
	size_t i;

	pvpci_sim_log_clear(d);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pvpci_hostdev_read(d, bad[i].off, bad[i].size, &v), -EINVAL);
		assert_int_equal(v, 0x5a5a5a5a);
		assert_non_null(strstr(pvpci_hostdev_errmsg(d), "bad config read"));
		assert_int_equal(pvpci_hostdev_write(d, bad[i].off, bad[i].size, 0), -EINVAL);
		assert_non_null(strstr(pvpci_hostdev_errmsg(d), "bad config write"));
	}
	assert_int_equal(d->n_reads, reads);
	assert_int_equal(d->n_writes, writes);
	assert_int_equal(pvpci_sim_log(d, &log), 0);
	assert_memory_equal(pvpci_sim_image(d), ep_cfg, 4096);
}

static void test_wrapper_rejects_past_256(void **state)
{
	struct pvpci_host *h;
	struct pvpci_hostdev *d;
	uint32_t v;

	(void)state;
	make_ep(ep_cfg);
	h = host_from(ep_cfg, 256, NULL);
	assert_int_equal(pvpci_hostdev_open(h, &(struct pvpci_bdf){ 0, 3, 0, 0 }, &d), 0);
	assert_int_equal(pvpci_hostdev_read(d, 0x100, 4, &v), -EINVAL);
	assert_int_equal(pvpci_hostdev_write(d, 0xfc, 4, 0), 0);
	assert_int_equal(pvpci_hostdev_write(d, 0x100, 1, 0), -EINVAL);
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

/* ---------------------------------------------------------- write rules */

static void test_read_only(void **state)
{
	static const struct {
		unsigned off, size;
	} ro[] = {
		{ 0x00, 4 }, { 0x08, 4 }, { 0x0e, 1 }, { 0x0f, 1 }, { 0x2c, 4 }, { 0x34, 1 }, { 0x3d, 1 },
		{ 0x3e, 2 }, { 0x40, 2 }, { 0x42, 2 }, { 0x44, 4 }, { 0x4c, 4 }, { 0x52, 2 },
		{ 0x60, 2 }, { 0x100, 4 }, { 0x140, 4 },
	};
	struct pvpci_hostdev *d = ep_dev(state);
	size_t i;

	for (i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		uint32_t before = rd(d, ro[i].off, ro[i].size);

		wr(d, ro[i].off, ro[i].size, 0xffffffff);
		if (rd(d, ro[i].off, ro[i].size) != before)
			fail_msg("%#x changed on all-ones", ro[i].off);
		wr(d, ro[i].off, ro[i].size, 0);
		if (rd(d, ro[i].off, ro[i].size) != before)
			fail_msg("%#x changed on zero", ro[i].off);
	}
	/* A 4-byte write over ID and next leaves the chain alone but writes
	 * the body it covers (MSI Message Control is RAM here). */
	wr(d, 0x60, 4, 0xabcd0000);
	assert_int_equal(rd(d, 0x60, 4), 0xabcd0005);
}

static void test_writable(void **state)
{
	static const unsigned rw[] = { 0x0c, 0x0d, 0x3c, 0x48, 0x50, 0x62, 0x108, 0x144, 0xc0, 0xff, 0x200, 0xfff };
	struct pvpci_hostdev *d = ep_dev(state);
	size_t i;

	for (i = 0; i < sizeof(rw) / sizeof(rw[0]); i++) {
		wr(d, rw[i], 1, 0xa5);
		assert_int_equal(rd(d, rw[i], 1), 0xa5);
		wr(d, rw[i], 1, 0x00);
		assert_int_equal(rd(d, rw[i], 1), 0x00);
	}
}

static void test_command_status(void **state)
{
	struct pvpci_hostdev *d = ep_dev(state);

	wr(d, 0x04, 2, 0xffff);
	assert_int_equal(rd(d, 0x04, 2), 0x07ff);	/* 11-15 reserved */
	wr(d, 0x04, 2, 0x0000);
	assert_int_equal(rd(d, 0x04, 2), 0x0000);

	assert_int_equal(rd(d, 0x06, 2), 0x4110);
	wr(d, 0x06, 2, 0x0000);				/* 0 clears nothing */
	assert_int_equal(rd(d, 0x06, 2), 0x4110);
	wr(d, 0x06, 2, 0x4000);
	assert_int_equal(rd(d, 0x06, 2), 0x0110);
	wr(d, 0x06, 2, 0x06ff);				/* RO bits do not move */
	assert_int_equal(rd(d, 0x06, 2), 0x0110);
	wr(d, 0x07, 1, 0x01);				/* byte write clears bit 8 */
	assert_int_equal(rd(d, 0x06, 2), 0x0010);

	/* A dword at 4 writes Command and clears Status errors at once. */
	pvpci_hostdev_reset(d);
	wr(d, 0x04, 4, 0xffff0006);
	assert_int_equal(rd(d, 0x04, 4), 0x00100006);

	/* The generic decode path is a Command RMW that reaches the sim. */
	assert_int_equal(pvpci_hostdev_set_decode(d, false), 0);
	assert_int_equal(rd(d, 0x04, 2), 0x0004);
	assert_int_equal(pvpci_hostdev_set_decode(d, true), 0);
	assert_int_equal(rd(d, 0x04, 2), 0x0007);
}

static void test_pcie_and_aer(void **state)
{
	struct pvpci_hostdev *d = ep_dev(state);

	/* Device Status: error bits RW1C, AuxPwr read-only. */
	assert_int_equal(rd(d, 0x4a, 2), 0x0019);
	wr(d, 0x4a, 2, 0x0001);
	assert_int_equal(rd(d, 0x4a, 2), 0x0018);
	wr(d, 0x4a, 2, 0xffff);
	assert_int_equal(rd(d, 0x4a, 2), 0x0010);
	/* DevCtl beside it stays writable, in the same dword write. */
	pvpci_hostdev_reset(d);
	wr(d, 0x48, 4, 0x00082000);
	assert_int_equal(rd(d, 0x48, 4), 0x00112000);
	/* Link Status read-only. */
	wr(d, 0x52, 2, 0xffff);
	assert_int_equal(rd(d, 0x52, 2), 0x1011);

	/* AER status registers RW1C, the mask between them RAM. */
	wr(d, 0x104, 4, 0x00000001);
	assert_int_equal(rd(d, 0x104, 4), 0x00100000);
	wr(d, 0x104, 4, 0x00100000);
	assert_int_equal(rd(d, 0x104, 4), 0);
	wr(d, 0x110, 2, 0x0001);
	assert_int_equal(rd(d, 0x110, 4), 0x40);
	wr(d, 0x108, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x108, 4), 0xffffffff);
}

static void test_bar_sizing(void **state)
{
	struct pvpci_hostdev *d = ep_dev(state);
	struct pvpci_bar b;

	/* I/O, 32 bytes: address bits 5 up, bit 0 says I/O. */
	wr(d, 0x10, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x10, 4), 0xffffffe1);
	wr(d, 0x10, 4, 0xc060);
	assert_int_equal(rd(d, 0x10, 4), 0xc061);

	/* 32-bit memory, 4K. */
	wr(d, 0x14, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x14, 4), 0xfffff000);
	wr(d, 0x14, 1, 0xff);			/* bits below the size stay 0 */
	assert_int_equal(rd(d, 0x14, 4), 0xfffff000);
	wr(d, 0x14, 4, 0xfebd6000);
	assert_int_equal(rd(d, 0x14, 4), 0xfebd6000);

	/* 64-bit prefetchable 1G: both halves. */
	wr(d, 0x18, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x18, 4), 0xc000000c);
	wr(d, 0x1c, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x1c, 4), 0xffffffff);
	wr(d, 0x18, 4, 0);
	wr(d, 0x1c, 4, 0x3);
	assert_int_equal(rd(d, 0x18, 4), 0x0000000c);
	assert_int_equal(rd(d, 0x1c, 4), 0x3);

	/* Unused: reads 0 whatever is written. */
	wr(d, 0x20, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x20, 4), 0);
	assert_int_equal(pvpci_hostdev_bar_info(d, 4, &b), 0);
	assert_int_equal(b.flags, PVPCI_BAR_UNUSED);
	assert_int_equal(b.size, 0);

	/* No Region line: sized by the alignment of fe000000, 32M. */
	wr(d, 0x24, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x24, 4), 0xfe000000);
	assert_int_equal(pvpci_hostdev_bar_info(d, 5, &b), 0);
	assert_int_equal(b.size, 32 << 20);
	assert_int_equal(b.addr, 0xfe000000);
	assert_int_equal(b.flags, 0);

	/* ROM, 256K: address bits 18 up and the enable bit. */
	wr(d, 0x30, 4, 0xfffffffe);
	assert_int_equal(rd(d, 0x30, 4), 0xfffc0000);
	wr(d, 0x30, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x30, 4), 0xfffc0001);
	wr(d, 0x30, 4, 0);
	assert_int_equal(rd(d, 0x30, 4), 0);

	/* bar_info keeps the host's view, not what was written since. */
	assert_int_equal(pvpci_hostdev_bar_info(d, 2, &b), 0);
	assert_int_equal(b.addr, 0x200000000ull);
	assert_int_equal(b.size, 1ull << 30);
	assert_int_equal(b.flags, PVPCI_BAR_MEM64 | PVPCI_BAR_PREFETCH);
	assert_int_equal(pvpci_hostdev_bar_info(d, 3, &b), 0);
	assert_int_equal(b.flags, PVPCI_BAR_MEM64_HI | PVPCI_BAR_PREFETCH);
	assert_int_equal(pvpci_hostdev_bar_info(d, PVPCI_ROM_BAR, &b), 0);
	assert_int_equal(b.addr, 0xfeb80000);
	assert_int_equal(b.size, 256 << 10);
}

/* Sizes without Region lines, and lines that disagree with the register. */
static void test_bar_default_sizes(void **state)
{
	static uint8_t cfg[PVPCI_CFG_EXP_SIZE];
	struct pvpci_bar bars[PVPCI_NUM_BARS + 1] = {
		{ 0, 0, PVPCI_BAR_UNUSED },
		{ 0x1000, 8192, 0 },			/* 8K at 0x1000: the register wins */
		{ 0, 4096, 0 },				/* unassigned, 32-bit, 4K */
		{ 0, 3, PVPCI_BAR_IO },			/* odd size rounds up */
		{ 0, 0, PVPCI_BAR_UNUSED },
		{ 0, 0, PVPCI_BAR_UNUSED },
		{ 0, 0, PVPCI_BAR_UNUSED },
	};
	struct pvpci_host *h;
	struct pvpci_hostdev *d;
	struct pvpci_bar b;

	(void)state;
	memset(cfg, 0, sizeof(cfg));
	put32(cfg, 0x00, 0x12341af4);
	put32(cfg, 0x10, 0x00000001);		/* I/O, address 0: 16 */
	put32(cfg, 0x14, 0x00001000);
	put32(cfg, 0x1c, 0x0000e005);		/* I/O 0xe004 with a size-3 line: 4 */
	put32(cfg, 0x20, 0x0000000c);		/* 64-bit, address 0: 4K */
	put32(cfg, 0x30, 0x00000001);		/* ROM, enabled, address 0: 4K */
	bars[3].addr = 0xe004;
	h = host_from(cfg, 256, bars);
	assert_int_equal(pvpci_hostdev_open(h, &(struct pvpci_bdf){ 0, 3, 0, 0 }, &d), 0);

	wr(d, 0x10, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x10, 4), 0xfffffff1);
	wr(d, 0x14, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x14, 4), 0xfffff000);
	assert_int_equal(pvpci_hostdev_bar_info(d, 1, &b), 0);
	assert_int_equal(b.size, 4096);
	wr(d, 0x18, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x18, 4), 0xfffff000);
	wr(d, 0x1c, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x1c, 4), 0xfffffffd);
	wr(d, 0x20, 4, 0xffffffff);
	wr(d, 0x24, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x20, 4), 0xfffff00c);
	assert_int_equal(rd(d, 0x24, 4), 0xffffffff);
	assert_int_equal(pvpci_hostdev_bar_info(d, 4, &b), 0);
	assert_int_equal(b.flags, PVPCI_BAR_MEM64 | PVPCI_BAR_PREFETCH);
	assert_int_equal(b.size, 4096);
	wr(d, 0x30, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x30, 4), 0xfffff001);
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

/* [virtual] regions (Enhanced Allocation): the register decodes nothing. */
static void test_virtual_bar(void **state)
{
	char spec[600];
	struct pvpci_host *h;
	struct pvpci_hostdev *d;
	struct pvpci_bar b;

	(void)state;
	snprintf(spec, sizeof(spec), "sim:%s", fixture("cap-ea-1"));
	assert_int_equal(pvpci_host_open(spec, &h, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(pvpci_hostdev_open(h, &(struct pvpci_bdf){ 2, 1, 0, 0 }, &d), 0);
	assert_int_equal(rd(d, 0x10, 4), 0);
	wr(d, 0x10, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x10, 4), 0);
	assert_int_equal(pvpci_hostdev_bar_info(d, 0, &b), 0);
	assert_int_equal(b.addr, 0x843000000000ull);
	assert_int_equal(b.size, 1ull << 30);
	assert_int_equal(pvpci_hostdev_bar_info(d, 4, &b), 0);
	assert_int_equal(b.size, 1ull << 20);
	assert_int_equal(pvpci_hostdev_bar_info(d, 1, &b), 0);
	assert_int_equal(b.flags, PVPCI_BAR_UNUSED);
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

/* A bridge: two BARs, the ROM at 0x38, Secondary Status RW1C. */
static void test_bridge(void **state)
{
	static uint8_t cfg[PVPCI_CFG_SIZE];
	struct pvpci_host *h;
	struct pvpci_hostdev *d;
	struct pvpci_bar b;

	(void)state;
	memset(cfg, 0, sizeof(cfg));
	put32(cfg, 0x00, 0x34088086);
	put32(cfg, 0x08, 0x06040012);
	cfg[0x0e] = 0x01;
	put32(cfg, 0x10, 0xfe000000);
	put32(cfg, 0x18, 0x00020100);		/* bus numbers: RAM */
	put16(cfg, 0x1c, 0x0101);		/* 32-bit I/O window type */
	put16(cfg, 0x1e, 0x2000);
	put32(cfg, 0x38, 0xfe100000);
	h = host_from(cfg, sizeof(cfg), NULL);
	assert_int_equal(pvpci_hostdev_open(h, &(struct pvpci_bdf){ 0, 3, 0, 0 }, &d), 0);
	wr(d, 0x10, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x10, 4), 0xfe000000);
	wr(d, 0x18, 4, 0x00050403);
	assert_int_equal(rd(d, 0x18, 4), 0x00050403);
	wr(d, 0x1c, 2, 0xffff);
	assert_int_equal(rd(d, 0x1c, 2), 0xf1f1);
	wr(d, 0x1e, 2, 0x2000);
	assert_int_equal(rd(d, 0x1e, 2), 0);
	wr(d, 0x38, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x38, 4), 0xfff00001);
	assert_int_equal(pvpci_hostdev_bar_info(d, 2, &b), 0);
	assert_int_equal(b.flags, PVPCI_BAR_UNUSED);
	assert_int_equal(pvpci_hostdev_bar_info(d, PVPCI_ROM_BAR, &b), 0);
	assert_int_equal(b.size, 1 << 20);
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

/* Looping capability chains in a dump must not hang the sim. */
static void test_looping_chains(void **state)
{
	static uint8_t cfg[PVPCI_CFG_EXP_SIZE];
	struct pvpci_host *h;
	struct pvpci_hostdev *d;

	(void)state;
	memset(cfg, 0, sizeof(cfg));
	put32(cfg, 0x00, 0x12341af4);
	put16(cfg, 0x06, 0x0010);
	cfg[0x34] = 0x40;
	cfg[0x40] = 0x10;			/* PCIe at 0x40 -> 0xfc -> 0x40 */
	cfg[0x41] = 0xfc;
	cfg[0xfc] = 0x10;			/* its rules past 0xff are not applied */
	cfg[0xfd] = 0x40;
	put32(cfg, 0x100, 0x10010001);		/* AER, next 0x100: itself */
	h = host_from(cfg, sizeof(cfg), NULL);
	assert_int_equal(pvpci_hostdev_open(h, &(struct pvpci_bdf){ 0, 3, 0, 0 }, &d), 0);
	wr(d, 0x40, 2, 0xffff);
	assert_int_equal(rd(d, 0x40, 2), 0xfc10);
	wr(d, 0xfc, 2, 0);
	assert_int_equal(rd(d, 0xfc, 2), 0x4010);
	wr(d, 0x104, 4, 0xffffffff);
	assert_int_equal(rd(d, 0x104, 4), 0);
	wr(d, 0x108, 4, 0xffffffff);		/* would be LnkCap of the cap at 0xfc */
	assert_int_equal(rd(d, 0x108, 4), 0xffffffff);
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

/* ------------------------------------------------------- reset and log */

static void test_reset(void **state)
{
	struct pvpci_hostdev *d = ep_dev(state);
	const struct pvpci_sim_write *log;
	size_t n;

	pvpci_sim_log_clear(d);
	assert_int_equal(pvpci_sim_resets(d), 0);
	wr(d, 0x04, 2, 0);
	wr(d, 0x14, 4, 0xffffffff);
	wr(d, 0x06, 2, 0xffff);
	wr(d, 0x200, 4, 0x11223344);
	assert_memory_not_equal(pvpci_sim_image(d), ep_cfg, 4096);
	assert_int_equal(pvpci_hostdev_reset(d), 0);
	assert_memory_equal(pvpci_sim_image(d), ep_cfg, 4096);
	assert_int_equal(pvpci_sim_resets(d), 1);
	assert_int_equal(pvpci_hostdev_reset(d), 0);
	assert_int_equal(pvpci_sim_resets(d), 2);
	/* Reset is not a config write: the log keeps what came before. */
	n = pvpci_sim_log(d, &log);
	assert_int_equal(n, 4);
}

static void test_log(void **state)
{
	struct pvpci_hostdev *d = ep_dev(state);
	const struct pvpci_sim_write *log = NULL;
	size_t n;

	pvpci_sim_log_clear(d);
	assert_int_equal(pvpci_sim_log(d, &log), 0);
	wr(d, 0x04, 2, 0x0000);
	wr(d, 0x14, 4, 0xffffffff);
	wr(d, 0x3c, 1, 0x05);
	(void)rd(d, 0x00, 4);			/* reads are not logged */
	n = pvpci_sim_log(d, &log);
	assert_int_equal(n, 3);
	assert_int_equal(log[0].off, 0x04);
	assert_int_equal(log[0].size, 2);
	assert_int_equal(log[0].val, 0);
	assert_int_equal(log[0].before, 0x0007);
	assert_int_equal(log[1].off, 0x14);
	assert_int_equal(log[1].size, 4);
	assert_int_equal(log[1].val, 0xffffffff);
	assert_int_equal(log[1].before, 0xfebd6000);
	assert_int_equal(log[2].off, 0x3c);
	assert_int_equal(log[2].before, 0x0b);
	/* Writes to read-only bits still reached the device: logged. */
	wr(d, 0x00, 4, 0);
	assert_int_equal(pvpci_sim_log(d, NULL), 4);
	pvpci_sim_log_clear(d);
	assert_int_equal(pvpci_sim_log(d, &log), 0);
	assert_int_equal(pvpci_sim_log_dropped(d), 0);
}

static void test_log_bounded(void **state)
{
	struct pvpci_hostdev *d = ep_dev(state);
	const struct pvpci_sim_write *log;
	unsigned i;
	size_t n;

	pvpci_sim_log_clear(d);
	for (i = 0; i < PVPCI_SIM_LOG_MAX + 10; i++)
		wr(d, 0x200, 4, i);
	n = pvpci_sim_log(d, &log);
	assert_int_equal(n, PVPCI_SIM_LOG_MAX / 2 + 10);
	assert_int_equal(pvpci_sim_log_dropped(d), PVPCI_SIM_LOG_MAX / 2);
	assert_int_equal(log[n - 1].val, PVPCI_SIM_LOG_MAX + 9);
	assert_int_equal(log[n - 1].before, PVPCI_SIM_LOG_MAX + 8);
	pvpci_sim_log_clear(d);
}

/* The test-facing calls are safe on anything that is not a sim device. */
static void test_not_a_sim_device(void **state)
{
	static const struct pvpci_hostdev_ops other = { .name = "other" };
	struct pvpci_hostdev fake = { .ops = &other };
	const struct pvpci_sim_write *log = (void *)&log;

	(void)state;
	assert_int_equal(pvpci_sim_log(&fake, &log), 0);
	assert_null(log);
	assert_int_equal(pvpci_sim_log(NULL, NULL), 0);
	pvpci_sim_log_clear(&fake);
	pvpci_sim_log_clear(NULL);
	assert_int_equal(pvpci_sim_resets(&fake), 0);
	assert_int_equal(pvpci_sim_log_dropped(NULL), 0);
	assert_null(pvpci_sim_image(&fake));
	assert_null(pvpci_sim_image(NULL));
}

/* A raw image given in memory is one function at 0000:00:00.0. */
static void test_raw_image_host(void **state)
{
	struct pvpci_host *h = NULL;
	struct pvpci_hostdev *d;
	struct pvpci_bdf bdf;
	size_t n;

	(void)state;
	make_ep(ep_cfg);
	assert_int_equal(pvpci_sim_host_from_text((const char *)ep_cfg, 4096, &h, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(pvpci_host_list(h, &bdf, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pvpci_bdf_cmp(&bdf, &(struct pvpci_bdf){ 0, 0, 0, 0 }), 0);
	assert_int_equal(pvpci_hostdev_open(h, &bdf, &d), 0);
	assert_int_equal(d->cfg_size, 4096);
	assert_string_equal(d->desc, "");
	assert_memory_equal(pvpci_sim_image(d), ep_cfg, 4096);
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

/* A host from a parsed dump takes it; replacing a function's dump changes
 * what the next open loads and what a reset of an open one goes back to,
 * not the masks it was opened with. */
static void test_from_dump_and_replace(void **state)
{
	static uint8_t img[PVPCI_CFG_EXP_SIZE];
	struct pvpci_host *h = NULL;
	struct pvpci_hostdev *d = NULL;
	struct pvpci_dump dump, other;
	struct pvpci_bdf bdf = { 0, 3, 0, 0 };
	size_t n;
	char *text;

	(void)state;
	make_ep(ep_cfg);
	text = dump_text(ep_cfg, PVPCI_CFG_EXP_SIZE, ep_bars, &n, NULL);
	assert_int_equal(pvpci_dump_parse(text, n, &dump, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(pvpci_dump_parse(text, n, &other, errbuf, sizeof(errbuf)), 0);
	free(text);
	assert_int_equal(pvpci_sim_host_from_dump(&dump, "record", &h, errbuf, sizeof(errbuf)), 0);
	assert_null(dump.devs);
	assert_int_equal(dump.n, 0);

	/* Open: the image as given; then the dump changes under it. */
	assert_int_equal(pvpci_hostdev_open(h, &bdf, &d), 0);
	memcpy(img, ep_cfg, sizeof(img));
	img[0x3c] = 0x0b;			/* interrupt line */
	img[0x200] = 0x5a;
	memcpy(other.devs[0].cfg, img, sizeof(img));
	assert_int_equal(pvpci_sim_host_replace(h, &other.devs[0]), 0);
	assert_memory_equal(pvpci_sim_image(d), ep_cfg, 4096);
	wr(d, 0x3c, 1, 0x22);
	assert_int_equal(pvpci_hostdev_reset(d), 0);
	assert_memory_equal(pvpci_sim_image(d), img, 4096);
	/* Its masks are the open's: the vendor ID stays read-only. */
	wr(d, 0x00, 2, 0x1234);
	assert_int_equal(rd(d, 0x00, 2), (uint32_t)ep_cfg[0] | (uint32_t)ep_cfg[1] << 8);
	pvpci_hostdev_close(d);
	/* The next open loads the new dump whole. */
	assert_int_equal(pvpci_hostdev_open(h, &bdf, &d), 0);
	assert_memory_equal(pvpci_sim_image(d), img, 4096);
	pvpci_hostdev_close(d);

	other.devs[0].bdf.dev = 4;
	assert_int_equal(pvpci_sim_host_replace(h, &other.devs[0]), -ENOENT);
	assert_int_equal(pvpci_sim_host_replace(h, NULL), -EINVAL);
	assert_int_equal(pvpci_sim_host_replace(NULL, &other.devs[0]), -EINVAL);
	pvpci_dump_free(&other);
	pvpci_host_close(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_by_spec),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test_setup_teardown(test_reads_all_sizes, ep_setup, ep_teardown),
		cmocka_unit_test(test_short_dump_reads_zero),
		cmocka_unit_test_setup_teardown(test_wrapper_rejects, ep_setup, ep_teardown),
		cmocka_unit_test(test_wrapper_rejects_past_256),
		cmocka_unit_test_setup_teardown(test_read_only, ep_setup, ep_teardown),
		cmocka_unit_test_setup_teardown(test_writable, ep_setup, ep_teardown),
		cmocka_unit_test_setup_teardown(test_command_status, ep_setup, ep_teardown),
		cmocka_unit_test_setup_teardown(test_pcie_and_aer, ep_setup, ep_teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing, ep_setup, ep_teardown),
		cmocka_unit_test(test_bar_default_sizes),
		cmocka_unit_test(test_virtual_bar),
		cmocka_unit_test(test_bridge),
		cmocka_unit_test(test_looping_chains),
		cmocka_unit_test_setup_teardown(test_reset, ep_setup, ep_teardown),
		cmocka_unit_test_setup_teardown(test_log, ep_setup, ep_teardown),
		cmocka_unit_test_setup_teardown(test_log_bounded, ep_setup, ep_teardown),
		cmocka_unit_test(test_not_a_sim_device),
		cmocka_unit_test(test_raw_image_host),
		cmocka_unit_test(test_from_dump_and_replace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
