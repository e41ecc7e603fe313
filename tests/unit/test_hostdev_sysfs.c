/*
 * The sysfs backend, on a fake tree (every write lands there) and, read
 * only, on this machine's own functions under /sys: they are real hardware
 * and this test never opens them with writes enabled.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pvpci/hostdev.h"
#include "fake_sysfs.h"

#define D_BRIDGE	"0000:00:00.0"
#define D_NET		"0000:00:03.0"
#define D_STUB		"0000:00:04.0"
#define D_NORESET	"0000:00:05.0"
#define D_SHORT		"0000:00:06.0"
#define D_FREE		"0000:01:00.0"
#define D_VFIO		"0000:02:00.0"

static const char free_resource[] =
	"0x000000c000000000 0x000000c00fffffff 0x000000000014220c\n"	/* 64-bit prefetchable */
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"	/* its upper half */
	"0x000000000000e000 0x000000000000e01f 0x0000000000040101\n"	/* I/O */
	"0x00000000fd000000 0x00000000fd003fff 0x0000000000040200\n"	/* 32-bit memory */
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"	/* unused */
	"0x00000000fc000000 0x00000000fc000fff 0x0000000000000000\n"	/* flags 0: unused */
	"0x00000000fb000000 0x00000000fb01ffff 0x0000000000046200\n";	/* ROM */

/* Created out of order so that the listing has to sort. */
static const struct fake_dev fake_devs[] = {
	{ D_FREE, 4096, 0x030000, NULL, free_resource, 0 },
	{ D_NET, 256, 0x020000, "virtio-pci", NULL, 0 },
	{ D_BRIDGE, 256, 0x060000, NULL, NULL, 0 },
	{ D_VFIO, 256, 0x0c0330, "vfio-pci", NULL, 0 },
	{ D_STUB, 4096, 0x010802, "pci-stub", NULL, 0 },
	{ D_NORESET, 256, 0x020000, NULL, NULL, 1 },
	{ D_SHORT, 64, 0x020000, NULL, NULL, 0 },
};
#define N_FAKE (sizeof(fake_devs) / sizeof(fake_devs[0]))

struct fixture {
	char root[64];
	char spec_ro[128];	/* sysfs:ROOT */
	char spec_rw[128];	/* sysfs:ROOT,writes=1 */
};

static const struct fake_dev *fake_find(const char *bdf)
{
	unsigned i;

	for (i = 0; i < N_FAKE; i++)
		if (!strcmp(fake_devs[i].bdf, bdf))
			return &fake_devs[i];
	return NULL;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[256];
	unsigned i;

	if (!f)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/pvpci-sysfs-XXXXXX");
	if (!mkdtemp(f->root) || fake_mkdirs(f->root) < 0)
		goto fail;
	for (i = 0; i < N_FAKE; i++)
		if (fake_add_dev(f->root, &fake_devs[i]) < 0)
			goto fail;
	/* Entries that are not functions must not be listed. */
	snprintf(path, sizeof(path), "%s/bus/pci/devices/not-a-bdf", f->root);
	if (mkdir(path, 0755) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/00:1f.0", f->root);
	if (mkdir(path, 0755) < 0)
		goto fail;
	snprintf(f->spec_ro, sizeof(f->spec_ro), "sysfs:%s", f->root);
	snprintf(f->spec_rw, sizeof(f->spec_rw), "sysfs:%s,writes=1", f->root);
	*state = f;
	return 0;
fail:
	fake_rm_tree(f->root);
	free(f);
	return -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fake_rm_tree(f->root);
	free(f);
	return 0;
}

static struct pvpci_host *host_open(const char *spec)
{
	struct pvpci_host *h = NULL;
	char err[PVPCI_ERRMSG_LEN] = "";
	int r;

	r = pvpci_host_open(spec, &h, err, sizeof(err));
	if (r < 0)
		fail_msg("pvpci_host_open(%s): %d %s", spec, r, err);
	return h;
}

static struct pvpci_hostdev *dev_open(struct pvpci_host *h, const char *bdf)
{
	struct pvpci_hostdev *d = NULL;
	struct pvpci_bdf b;
	int r;

	assert_int_equal(pvpci_bdf_parse(bdf, &b), 0);
	r = pvpci_hostdev_open(h, &b, &d);
	if (r < 0)
		fail_msg("pvpci_hostdev_open(%s): %d %s", bdf, r, pvpci_host_errmsg(h));
	return d;
}

static void read_config(const struct fixture *f, const char *bdf, uint8_t *buf, size_t len)
{
	char path[256];

	assert_true(fake_read_file(fake_path(path, sizeof(path), f->root, bdf, "config"), buf,
				   len) >= 0);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' does not say '%s'", hay, needle);
}

static void test_list(void **state)
{
	static const char *const want[] = {
		D_BRIDGE, D_NET, D_STUB, D_NORESET, D_SHORT, D_FREE, D_VFIO,
	};
	struct fixture *f = *state;
	struct pvpci_host *h = host_open(f->spec_ro);
	struct pvpci_bdf got[16];
	char s[PVPCI_BDF_STRLEN];
	size_t n = 99, i;

	assert_int_equal(pvpci_host_list(h, got, 16, &n), 0);
	assert_int_equal(n, N_FAKE);
	for (i = 0; i < n; i++)
		assert_string_equal(pvpci_bdf_format(&got[i], s), want[i]);

	n = 99;
	assert_int_equal(pvpci_host_list(h, got, 3, &n), -E2BIG);
	assert_int_equal(n, 99);
	assert_contains(pvpci_host_errmsg(h), "more than");
	pvpci_host_close(h);
}

static void test_cfg_size(void **state)
{
	struct fixture *f = *state;
	struct pvpci_host *h = host_open(f->spec_ro);
	struct pvpci_hostdev *d;

	d = dev_open(h, D_NET);
	assert_int_equal(d->cfg_size, 256);
	pvpci_hostdev_close(d);
	d = dev_open(h, D_STUB);
	assert_int_equal(d->cfg_size, 4096);
	assert_string_equal(d->desc, "");
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

/* Every size at every aligned offset, against the bytes of the file. */
static void test_read_every_size(void **state)
{
	struct fixture *f = *state;
	struct pvpci_host *h = host_open(f->spec_ro);
	const char *bdfs[] = { D_NET, D_FREE };
	unsigned k, off, size, i;

	for (k = 0; k < 2; k++) {
		const struct fake_dev *fd = fake_find(bdfs[k]);
		struct pvpci_hostdev *d = dev_open(h, bdfs[k]);
		uint8_t all[PVPCI_CFG_EXP_SIZE];

		for (size = 1; size <= 4; size *= 2) {
			for (off = 0; off < d->cfg_size; off += size) {
				uint32_t v = 0xdeadbeef, want = 0;

				for (i = 0; i < size; i++)
					want |= (uint32_t)fake_cfg_byte(fd, off + i) << (8 * i);
				assert_int_equal(pvpci_hostdev_read(d, off, size, &v), 0);
				assert_int_equal(v, want);
			}
		}
		assert_int_equal(pvpci_hostdev_read_all(d, all), 0);
		for (off = 0; off < d->cfg_size; off++)
			assert_int_equal(all[off], fake_cfg_byte(fd, off));
		pvpci_hostdev_close(d);
	}
	pvpci_host_close(h);
}

static void test_read_vendor_device(void **state)
{
	struct fixture *f = *state;
	struct pvpci_host *h = host_open(f->spec_ro);
	struct pvpci_hostdev *d = dev_open(h, D_NET);
	uint32_t v = 0;

	assert_int_equal(pvpci_hostdev_read(d, 0, 2, &v), 0);
	assert_int_equal(v, 0x1af4);
	assert_int_equal(pvpci_hostdev_read(d, 2, 2, &v), 0);
	assert_int_equal(v, 0x1041);
	assert_int_equal(pvpci_hostdev_read(d, 0, 4, &v), 0);
	assert_int_equal(v, 0x10411af4);
	assert_int_equal(pvpci_hostdev_read(d, 0x08, 4, &v), 0);
	assert_int_equal(v >> 8, 0x020000);
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

static void test_short_read(void **state)
{
	struct fixture *f = *state;
	struct pvpci_host *h = host_open(f->spec_ro);
	struct pvpci_hostdev *d = dev_open(h, D_SHORT);
	uint32_t v = 0x12345678;

	assert_int_equal(d->cfg_size, 256);
	assert_int_equal(pvpci_hostdev_read(d, 0x3c, 4, &v), 0);
	v = 0x12345678;
	assert_int_equal(pvpci_hostdev_read(d, 0x80, 4, &v), -EIO);
	assert_int_equal(v, 0x12345678);
	assert_contains(pvpci_hostdev_errmsg(d), "short config read at 0x80");
	assert_contains(pvpci_hostdev_errmsg(d), D_SHORT);
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

static void test_write_refused_without_writes(void **state)
{
	struct fixture *f = *state;
	const char *bdfs[] = { D_STUB, D_FREE, D_NET };
	uint8_t before[4096], after[4096];
	struct pvpci_host *h;
	unsigned k;

	/* writes=0 said out loud is the same as saying nothing. */
	h = host_open(f->spec_ro);
	for (k = 0; k < 3; k++) {
		struct pvpci_hostdev *d = dev_open(h, bdfs[k]);

		read_config(f, bdfs[k], before, sizeof(before));
		assert_int_equal(pvpci_hostdev_write(d, 0x04, 2, 0x0006), -EPERM);
		assert_contains(pvpci_hostdev_errmsg(d), "writes are not enabled");
		assert_contains(pvpci_hostdev_errmsg(d), "writes=1");
		read_config(f, bdfs[k], after, sizeof(after));
		assert_memory_equal(before, after, d->cfg_size);
		pvpci_hostdev_close(d);
	}
	pvpci_host_close(h);
}

static void test_write_refused_bound(void **state)
{
	struct fixture *f = *state;
	struct pvpci_host *h = host_open(f->spec_rw);
	struct pvpci_hostdev *d = dev_open(h, D_NET);
	uint8_t before[256], after[256];

	read_config(f, D_NET, before, sizeof(before));
	assert_int_equal(pvpci_hostdev_write(d, 0x04, 2, 0x0006), -EPERM);
	assert_contains(pvpci_hostdev_errmsg(d), D_NET " is bound to virtio-pci");
	assert_contains(pvpci_hostdev_errmsg(d), "pci-stub, vfio-pci or xen-pciback");
	assert_int_equal(pvpci_hostdev_write(d, 0x3c, 1, 0x0b), -EPERM);
	read_config(f, D_NET, after, sizeof(after));
	assert_memory_equal(before, after, sizeof(before));
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

static void test_write_refused_bridge(void **state)
{
	struct fixture *f = *state;
	struct pvpci_host *h = host_open(f->spec_rw);
	struct pvpci_hostdev *d = dev_open(h, D_BRIDGE);
	uint8_t before[256], after[256];

	read_config(f, D_BRIDGE, before, sizeof(before));
	assert_int_equal(pvpci_hostdev_write(d, 0x04, 2, 0x0006), -EPERM);
	assert_contains(pvpci_hostdev_errmsg(d), "bridge");
	assert_int_equal(pvpci_hostdev_reset(d), -EPERM);
	assert_int_equal(pvpci_hostdev_set_decode(d, true), -EPERM);
	read_config(f, D_BRIDGE, after, sizeof(after));
	assert_memory_equal(before, after, sizeof(before));
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

/* Writes land in the file, byte for byte, little-endian, and read back. */
static void check_writes_land(const struct fixture *f, struct pvpci_hostdev *d, const char *bdf)
{
	const struct fake_dev *fd = fake_find(bdf);
	uint8_t before[4096], after[4096];
	uint32_t v;
	unsigned i;

	read_config(f, bdf, before, sizeof(before));
	assert_int_equal(pvpci_hostdev_write(d, 0x40, 4, 0x11223344), 0);
	assert_int_equal(pvpci_hostdev_write(d, 0x46, 2, 0xa55a), 0);
	assert_int_equal(pvpci_hostdev_write(d, 0x4b, 1, 0xee), 0);
	read_config(f, bdf, after, sizeof(after));
	for (i = 0; i < d->cfg_size; i++) {
		uint8_t want = before[i];

		switch (i) {
		case 0x40: want = 0x44; break;
		case 0x41: want = 0x33; break;
		case 0x42: want = 0x22; break;
		case 0x43: want = 0x11; break;
		case 0x46: want = 0x5a; break;
		case 0x47: want = 0xa5; break;
		case 0x4b: want = 0xee; break;
		}
		if (after[i] != want)
			fail_msg("%s config[0x%x] = 0x%02x, want 0x%02x", bdf, i, after[i], want);
	}
	assert_int_equal(pvpci_hostdev_read(d, 0x40, 4, &v), 0);
	assert_int_equal(v, 0x11223344);
	assert_int_equal(pvpci_hostdev_read(d, 0x44, 4, &v), 0);
	assert_int_equal(v, 0xa55a0000u | fake_cfg_byte(fd, 0x45) << 8 | fake_cfg_byte(fd, 0x44));
	assert_int_equal(pvpci_hostdev_read(d, 0x4b, 1, &v), 0);
	assert_int_equal(v, 0xee);
}

static void test_write_accepted_stub_and_unbound(void **state)
{
	struct fixture *f = *state;
	struct pvpci_host *h = host_open(f->spec_rw);
	const char *bdfs[] = { D_STUB, D_VFIO, D_FREE };
	unsigned k;

	for (k = 0; k < 3; k++) {
		struct pvpci_hostdev *d = dev_open(h, bdfs[k]);

		check_writes_land(f, d, bdfs[k]);
		pvpci_hostdev_close(d);
	}
	pvpci_host_close(h);
}

/* Any stub name counts, pciback's own included. */
static void test_write_accepted_pciback(void **state)
{
	struct fixture *f = *state;
	struct pvpci_host *h = host_open(f->spec_rw);
	struct pvpci_hostdev *d;

	assert_int_equal(fake_set_driver(f->root, D_FREE, "pciback"), 0);
	d = dev_open(h, D_FREE);
	check_writes_land(f, d, D_FREE);
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

/* The binding is checked again on every write: rebinding to a real driver
 * after the first write (config already open O_RDWR) still stops them. */
static void test_write_rebind_rechecked(void **state)
{
	struct fixture *f = *state;
	struct pvpci_host *h = host_open(f->spec_rw);
	struct pvpci_hostdev *d = dev_open(h, D_STUB);
	uint8_t before[4096], after[4096];

	assert_int_equal(pvpci_hostdev_write(d, 0x40, 1, 0x01), 0);
	assert_int_equal(fake_set_driver(f->root, D_STUB, "nvme"), 0);
	read_config(f, D_STUB, before, sizeof(before));
	assert_int_equal(pvpci_hostdev_write(d, 0x40, 1, 0x02), -EPERM);
	assert_contains(pvpci_hostdev_errmsg(d), "bound to nvme");
	assert_int_equal(pvpci_hostdev_reset(d), -EPERM);
	read_config(f, D_STUB, after, sizeof(after));
	assert_memory_equal(before, after, sizeof(before));

	/* And an unbind makes it writable again. */
	assert_int_equal(fake_set_driver(f->root, D_STUB, NULL), 0);
	assert_int_equal(pvpci_hostdev_write(d, 0x40, 1, 0x03), 0);
	read_config(f, D_STUB, after, sizeof(after));
	assert_int_equal(after[0x40], 0x03);
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

static void attr_text(const struct fixture *f, const char *bdf, const char *attr, char *buf,
		      size_t len)
{
	char path[256];
	long n;

	n = fake_read_file(fake_path(path, sizeof(path), f->root, bdf, attr), buf, len - 1);
	assert_true(n >= 0);
	buf[n] = 0;
}

static void test_reset(void **state)
{
	struct fixture *f = *state;
	struct pvpci_host *ro = host_open(f->spec_ro), *rw = host_open(f->spec_rw);
	struct pvpci_hostdev *d;
	char text[16];

	d = dev_open(ro, D_STUB);
	assert_int_equal(pvpci_hostdev_reset(d), -EPERM);
	assert_contains(pvpci_hostdev_errmsg(d), "writes are not enabled");
	attr_text(f, D_STUB, "reset", text, sizeof(text));
	assert_string_equal(text, "");
	pvpci_hostdev_close(d);

	d = dev_open(rw, D_NET);
	assert_int_equal(pvpci_hostdev_reset(d), -EPERM);
	assert_contains(pvpci_hostdev_errmsg(d), "bound to virtio-pci");
	attr_text(f, D_NET, "reset", text, sizeof(text));
	assert_string_equal(text, "");
	pvpci_hostdev_close(d);

	d = dev_open(rw, D_STUB);
	assert_int_equal(pvpci_hostdev_reset(d), 0);
	attr_text(f, D_STUB, "reset", text, sizeof(text));
	assert_string_equal(text, "1");
	pvpci_hostdev_close(d);

	d = dev_open(rw, D_NORESET);
	assert_int_equal(pvpci_hostdev_reset(d), -EOPNOTSUPP);
	assert_contains(pvpci_hostdev_errmsg(d), "no reset");
	pvpci_hostdev_close(d);

	pvpci_host_close(ro);
	pvpci_host_close(rw);
}

static void test_set_decode(void **state)
{
	struct fixture *f = *state;
	struct pvpci_host *ro = host_open(f->spec_ro), *rw = host_open(f->spec_rw);
	struct pvpci_hostdev *d;
	char text[16];

	d = dev_open(ro, D_FREE);
	assert_int_equal(pvpci_hostdev_set_decode(d, true), -EPERM);
	assert_contains(pvpci_hostdev_errmsg(d), "writes are not enabled");
	pvpci_hostdev_close(d);

	d = dev_open(rw, D_NET);
	assert_int_equal(pvpci_hostdev_set_decode(d, true), -EPERM);
	assert_contains(pvpci_hostdev_errmsg(d), "bound to virtio-pci");
	attr_text(f, D_NET, "enable", text, sizeof(text));
	assert_string_equal(text, "0\n");
	pvpci_hostdev_close(d);

	d = dev_open(rw, D_FREE);
	assert_int_equal(pvpci_hostdev_set_decode(d, true), 0);
	attr_text(f, D_FREE, "enable", text, sizeof(text));
	assert_string_equal(text, "1\n");	/* "1" over "0\n": no truncation, as in sysfs */
	assert_int_equal(pvpci_hostdev_set_decode(d, false), 0);
	attr_text(f, D_FREE, "enable", text, sizeof(text));
	assert_string_equal(text, "0\n");
	/* Decoding goes through `enable`, not through Command. */
	assert_int_equal(d->n_writes, 0);
	pvpci_hostdev_close(d);

	pvpci_host_close(ro);
	pvpci_host_close(rw);
}

static void test_bar_info(void **state)
{
	struct fixture *f = *state;
	struct pvpci_host *h = host_open(f->spec_ro);
	struct pvpci_hostdev *d = dev_open(h, D_FREE);
	struct pvpci_bar b;

	assert_int_equal(pvpci_hostdev_bar_info(d, 0, &b), 0);
	assert_int_equal(b.addr, 0xc000000000ull);
	assert_int_equal(b.size, 0x10000000ull);
	assert_int_equal(b.flags, PVPCI_BAR_MEM64 | PVPCI_BAR_PREFETCH);

	assert_int_equal(pvpci_hostdev_bar_info(d, 1, &b), 0);
	assert_int_equal(b.flags, PVPCI_BAR_MEM64_HI);
	assert_int_equal(b.size, 0);

	assert_int_equal(pvpci_hostdev_bar_info(d, 2, &b), 0);
	assert_int_equal(b.addr, 0xe000);
	assert_int_equal(b.size, 0x20);
	assert_int_equal(b.flags, PVPCI_BAR_IO);

	assert_int_equal(pvpci_hostdev_bar_info(d, 3, &b), 0);
	assert_int_equal(b.addr, 0xfd000000);
	assert_int_equal(b.size, 0x4000);
	assert_int_equal(b.flags, 0);

	assert_int_equal(pvpci_hostdev_bar_info(d, 4, &b), 0);
	assert_int_equal(b.flags, PVPCI_BAR_UNUSED);
	assert_int_equal(b.size, 0);

	assert_int_equal(pvpci_hostdev_bar_info(d, 5, &b), 0);
	assert_int_equal(b.flags, PVPCI_BAR_UNUSED);
	assert_int_equal(b.size, 0);

	assert_int_equal(pvpci_hostdev_bar_info(d, PVPCI_ROM_BAR, &b), 0);
	assert_int_equal(b.addr, 0xfb000000);
	assert_int_equal(b.size, 0x20000);
	assert_true(b.flags & PVPCI_BAR_ROM);
	assert_false(b.flags & (PVPCI_BAR_UNUSED | PVPCI_BAR_IO | PVPCI_BAR_MEM64));

	b.addr = 42;
	assert_int_equal(pvpci_hostdev_bar_info(d, 7, &b), -EINVAL);
	assert_int_equal(b.addr, 42);
	pvpci_hostdev_close(d);

	/* The default resource: one 32-bit BAR, the rest and the ROM unused. */
	d = dev_open(h, D_NET);
	assert_int_equal(pvpci_hostdev_bar_info(d, 0, &b), 0);
	assert_int_equal(b.size, 0x1000);
	assert_int_equal(b.flags, 0);
	assert_int_equal(pvpci_hostdev_bar_info(d, 1, &b), 0);
	assert_int_equal(b.flags, PVPCI_BAR_UNUSED);
	assert_int_equal(pvpci_hostdev_bar_info(d, PVPCI_ROM_BAR, &b), 0);
	assert_int_equal(b.flags, PVPCI_BAR_UNUSED | PVPCI_BAR_ROM);
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

static void test_bar_info_bad_resource(void **state)
{
	struct fixture *f = *state;
	struct pvpci_host *h = host_open(f->spec_ro);
	struct pvpci_hostdev *d = dev_open(h, D_NET);
	struct pvpci_bar b = { .addr = 42 };
	char path[256];

	fake_path(path, sizeof(path), f->root, D_NET, "resource");
	assert_int_equal(fake_write_file(path, "0x1000 0x1fff 0x200\ngarbage\n", 28), 0);
	assert_int_equal(pvpci_hostdev_bar_info(d, 0, &b), 0);
	assert_int_equal(b.size, 0x1000);
	b.addr = 42;
	assert_int_equal(pvpci_hostdev_bar_info(d, 1, &b), -EBADMSG);
	assert_int_equal(pvpci_hostdev_bar_info(d, 5, &b), -ENOENT);
	assert_int_equal(b.addr, 42);
	assert_contains(pvpci_hostdev_errmsg(d), "resource");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(pvpci_hostdev_bar_info(d, 0, &b), -ENOENT);
	assert_contains(pvpci_hostdev_errmsg(d), "cannot open resource");
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

static void test_bad_root(void **state)
{
	struct fixture *f = *state;
	struct pvpci_host *h = (struct pvpci_host *)0x1;
	char err[PVPCI_ERRMSG_LEN] = "", spec[160];

	snprintf(spec, sizeof(spec), "sysfs:%s/nowhere", f->root);
	assert_int_equal(pvpci_host_open(spec, &h, err, sizeof(err)), -ENOENT);
	assert_ptr_equal(h, (struct pvpci_host *)0x1);
	assert_contains(err, "nowhere/bus/pci/devices");
	assert_contains(err, "No such file or directory");

	snprintf(spec, sizeof(spec), "sysfs:%s,writes=2", f->root);
	assert_int_equal(pvpci_host_open(spec, &h, err, sizeof(err)), -EINVAL);
	assert_contains(err, "unknown sysfs option 'writes=2'");
	snprintf(spec, sizeof(spec), "sysfs:%s,bogus", f->root);
	assert_int_equal(pvpci_host_open(spec, &h, err, sizeof(err)), -EINVAL);
	assert_contains(err, "'bogus'");
	assert_ptr_equal(h, (struct pvpci_host *)0x1);

	/* Options in any order, the last writes= winning. */
	snprintf(spec, sizeof(spec), "sysfs:%s,writes=1,writes=0", f->root);
	h = host_open(spec);
	{
		struct pvpci_hostdev *d = dev_open(h, D_STUB);

		assert_int_equal(pvpci_hostdev_write(d, 0x40, 1, 0), -EPERM);
		pvpci_hostdev_close(d);
	}
	pvpci_host_close(h);
}

static void test_missing_device(void **state)
{
	struct fixture *f = *state;
	struct pvpci_host *h = host_open(f->spec_ro);
	struct pvpci_hostdev *d = (struct pvpci_hostdev *)0x1;
	struct pvpci_bdf b;
	char path[256];

	assert_int_equal(pvpci_bdf_parse("0000:00:1f.0", &b), 0);
	assert_int_equal(pvpci_hostdev_open(h, &b, &d), -ENOENT);
	assert_ptr_equal(d, (struct pvpci_hostdev *)0x1);
	assert_contains(pvpci_host_errmsg(h), "no PCI function 0000:00:1f.0");

	/* A function directory without config. */
	assert_int_equal(pvpci_bdf_parse(D_NET, &b), 0);
	assert_int_equal(unlink(fake_path(path, sizeof(path), f->root, D_NET, "config")), 0);
	assert_int_equal(pvpci_hostdev_open(h, &b, &d), -ENOENT);
	assert_contains(pvpci_host_errmsg(h), D_NET "/config");
	pvpci_host_close(h);
}

static void test_permission_denied(void **state)
{
	struct fixture *f = *state;
	struct pvpci_host *h;
	struct pvpci_hostdev *d = NULL;
	struct pvpci_bdf b;
	char path[256];

	h = host_open(f->spec_ro);
	assert_int_equal(chmod(fake_path(path, sizeof(path), f->root, D_NET, "config"), 0), 0);
	assert_int_equal(pvpci_bdf_parse(D_NET, &b), 0);
	assert_int_equal(pvpci_hostdev_open(h, &b, &d), -EACCES);
	assert_contains(pvpci_host_errmsg(h), "Permission denied");
	pvpci_host_close(h);
}

static void test_null_close(void **state)
{
	(void)state;
	pvpci_hostdev_close(NULL);
	pvpci_host_close(NULL);
}

/* ---- This machine's own functions: reads only. ---- */

#define REAL_DEVICES "/sys/bus/pci/devices"

/* Every fd of ours on the file `config` resolves to: how many, all read-only? */
static void check_config_fds_readonly(const char *config, unsigned *ret_n)
{
	char real[PATH_MAX], link[300], target[PATH_MAX], info[512];
	struct dirent *de;
	unsigned n = 0;
	DIR *dir;

	assert_non_null(realpath(config, real));
	dir = opendir("/proc/self/fd");
	assert_non_null(dir);
	while ((de = readdir(dir))) {
		ssize_t len;
		long got;
		char *flags;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = 0;
		if (strcmp(target, real))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fdinfo/%s", de->d_name);
		got = fake_read_file(link, info, sizeof(info) - 1);
		assert_true(got > 0);
		info[got] = 0;
		flags = strstr(info, "flags:");
		assert_non_null(flags);
		if ((strtoul(flags + 6, NULL, 8) & O_ACCMODE) != O_RDONLY)
			fail_msg("%s is open for writing (%s)", real, flags);
		n++;
	}
	closedir(dir);
	*ret_n = n;
}

static unsigned long sysfs_hex(const char *bdf, const char *attr)
{
	char path[256], text[32];
	long n;

	snprintf(path, sizeof(path), REAL_DEVICES "/%s/%s", bdf, attr);
	n = fake_read_file(path, text, sizeof(text) - 1);
	assert_true(n > 0);
	text[n] = 0;
	return strtoul(text, NULL, 16);
}

/* The Status register (0x06) can change on its own; everything else of a
 * function nobody writes to stays put while we only read. */
static void assert_config_same(const char *bdf, const uint8_t *a, const uint8_t *b, long len)
{
	long i;

	for (i = 0; i < len; i++)
		if (i != 6 && i != 7 && a[i] != b[i])
			fail_msg("%s config[0x%lx] changed: 0x%02x -> 0x%02x", bdf, i, a[i], b[i]);
}

static void test_real_devices_read_only(void **state)
{
	struct pvpci_bdf list[256];
	struct pvpci_host *h;
	size_t n = 0, i, in_dir = 0;
	struct dirent *de;
	DIR *dir;

	(void)state;
	dir = opendir(REAL_DEVICES);
	assert_non_null(dir);
	while ((de = readdir(dir)))
		in_dir += de->d_name[0] != '.';
	closedir(dir);

	/* Plain "sysfs": never writes=1 here, whatever the devices are bound to. */
	h = host_open("sysfs");
	assert_int_equal(pvpci_host_list(h, list, 256, &n), 0);
	assert_int_equal(n, in_dir);
	for (i = 1; i < n; i++)
		assert_true(pvpci_bdf_cmp(&list[i - 1], &list[i]) < 0);

	for (i = 0; i < n; i++) {
		char name[PVPCI_BDF_STRLEN], path[256];
		uint8_t before[4096], after[4096], all[4096];
		struct pvpci_hostdev *d;
		struct stat st;
		long nb, na;
		unsigned nfd;
		uint32_t v;

		pvpci_bdf_format(&list[i], name);
		snprintf(path, sizeof(path), REAL_DEVICES "/%s/config", name);
		nb = fake_read_file(path, before, sizeof(before));
		assert_true(nb >= 64);

		/* Unprivileged reads stop at 64 bytes; the size is the file's. */
		assert_int_equal(stat(path, &st), 0);
		d = dev_open(h, name);
		assert_int_equal(d->cfg_size, st.st_size > 256 ? 4096 : 256);
		assert_int_equal(pvpci_hostdev_read(d, 0, 2, &v), 0);
		assert_int_equal(v, sysfs_hex(name, "vendor"));
		assert_int_equal(pvpci_hostdev_read(d, 2, 2, &v), 0);
		assert_int_equal(v, sysfs_hex(name, "device"));
		assert_int_equal(pvpci_hostdev_read(d, 8, 4, &v), 0);
		assert_int_equal(v >> 8, sysfs_hex(name, "class"));
		if (geteuid() == 0) {
			assert_int_equal(pvpci_hostdev_read_all(d, all), 0);
			assert_config_same(name, before, all, nb < d->cfg_size ? nb : d->cfg_size);
		} else {
			/* Linux stops unprivileged readers at 64 bytes: say so. */
			assert_int_equal(pvpci_hostdev_read(d, 0x40, 4, &v), -EIO);
			assert_contains(pvpci_hostdev_errmsg(d), "needs root");
		}

		check_config_fds_readonly(path, &nfd);
		assert_int_equal(nfd, 1);

		/* Vendor ID, the value it holds: read-only in hardware, so even a
		 * write that got through by a bug here would change nothing. */
		assert_int_equal(pvpci_hostdev_read(d, 0, 2, &v), 0);
		assert_int_equal(pvpci_hostdev_write(d, 0, 2, v), -EPERM);
		assert_contains(pvpci_hostdev_errmsg(d), "writes are not enabled");
		/* No reset or enable here, not even to see them refused: if a bug
		 * let one through, it would hit the machine's own disk or network.
		 * The fake tree covers their refusals. */

		check_config_fds_readonly(path, &nfd);
		assert_int_equal(nfd, 1);
		pvpci_hostdev_close(d);
		check_config_fds_readonly(path, &nfd);
		assert_int_equal(nfd, 0);

		na = fake_read_file(path, after, sizeof(after));
		assert_int_equal(na, nb);
		assert_config_same(name, before, after, nb);
	}
	pvpci_host_close(h);
}

/* "sysfs:,writes=0": an empty ROOT with options means /sys. */
static void test_real_empty_root_option(void **state)
{
	struct pvpci_bdf a[256], b[256];
	struct pvpci_host *h1, *h2;
	size_t n1 = 0, n2 = 0;

	(void)state;
	h1 = host_open("sysfs");
	h2 = host_open("sysfs:,writes=0");
	assert_int_equal(pvpci_host_list(h1, a, 256, &n1), 0);
	assert_int_equal(pvpci_host_list(h2, b, 256, &n2), 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(a, b, n1 * sizeof(a[0]));
	pvpci_host_close(h1);
	pvpci_host_close(h2);
}

/* Whether this machine shows any PCI function at all. */
static bool have_real_devices(void)
{
	struct dirent *de;
	bool any = false;
	DIR *dir;

	dir = opendir(REAL_DEVICES);
	if (!dir)
		return false;
	while (!any && (de = readdir(dir)))
		any = de->d_name[0] != '.';
	closedir(dir);
	return any;
}

#define FAKE_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/*
 * Tests that cannot run here are left out with a TAP comment rather than
 * skip()ped: cmocka reports a skip as "not ok # SKIP", which meson counts
 * as a failure.
 */
int main(void)
{
	const struct CMUnitTest always[] = {
		FAKE_TEST(test_list),
		FAKE_TEST(test_cfg_size),
		FAKE_TEST(test_read_every_size),
		FAKE_TEST(test_read_vendor_device),
		FAKE_TEST(test_short_read),
		FAKE_TEST(test_write_refused_without_writes),
		FAKE_TEST(test_write_refused_bound),
		FAKE_TEST(test_write_refused_bridge),
		FAKE_TEST(test_write_accepted_stub_and_unbound),
		FAKE_TEST(test_write_accepted_pciback),
		FAKE_TEST(test_write_rebind_rechecked),
		FAKE_TEST(test_reset),
		FAKE_TEST(test_set_decode),
		FAKE_TEST(test_bar_info),
		FAKE_TEST(test_bar_info_bad_resource),
		FAKE_TEST(test_bad_root),
		FAKE_TEST(test_missing_device),
		cmocka_unit_test(test_null_close),
	};
	const struct CMUnitTest unprivileged = FAKE_TEST(test_permission_denied);
	const struct CMUnitTest real[] = {
		cmocka_unit_test(test_real_devices_read_only),
		cmocka_unit_test(test_real_empty_root_option),
	};
	struct CMUnitTest tests[sizeof(always) / sizeof(always[0]) + 1 + sizeof(real) / sizeof(real[0])];
	size_t n = 0, i;

	for (i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		tests[n++] = always[i];
	if (geteuid() != 0)
		tests[n++] = unprivileged;
	else
		printf("# skipped test_permission_denied: root reads through any mode bits\n");
	if (have_real_devices()) {
		for (i = 0; i < sizeof(real) / sizeof(real[0]); i++)
			tests[n++] = real[i];
	} else {
		printf("# skipped the tests on this machine's devices: " REAL_DEVICES
		       " is empty or absent\n");
	}
	fflush(stdout);
	return _cmocka_run_group_tests("test_hostdev_sysfs", tests, n, NULL, NULL);
}
