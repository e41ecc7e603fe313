/*
 * The shadow backend over a fake-sysfs device opened without writes: every
 * write is kept in the overlay, reads merge it byte by byte, and the file
 * under it never changes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pvpci/hostdev.h"
#include "fake_sysfs.h"

#define D_DEV	"0000:00:04.0"
#define D_BIG	"0000:00:05.0"

static const struct fake_dev fake_devs[] = {
	/* Bound to a real driver: were a write to leak through, sysfs would
	 * refuse it anyway, and the file comparison would still catch it. */
	{ D_DEV, 256, 0x020000, "virtio-pci", NULL, 0 },
	{ D_BIG, 4096, 0x010802, NULL, NULL, 1 },
};

struct fixture {
	char root[64];
	char spec[128];
	uint8_t image[4096];	/* config of D_DEV as created */
	struct pvpci_host *h;
	struct pvpci_hostdev *d;
};

static void read_config(const struct fixture *f, const char *bdf, uint8_t *buf, size_t len)
{
	char path[256];

	assert_true(fake_read_file(fake_path(path, sizeof(path), f->root, bdf, "config"), buf,
				   len) >= 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[PVPCI_ERRMSG_LEN] = "";
	struct pvpci_bdf b;
	unsigned i;

	if (!f)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/pvpci-shadow-XXXXXX");
	if (!mkdtemp(f->root) || fake_mkdirs(f->root) < 0)
		goto fail;
	for (i = 0; i < 2; i++)
		if (fake_add_dev(f->root, &fake_devs[i]) < 0)
			goto fail;
	for (i = 0; i < 256; i++)
		f->image[i] = fake_cfg_byte(&fake_devs[0], i);
	snprintf(f->spec, sizeof(f->spec), "shadow:sysfs:%s", f->root);
	if (pvpci_host_open(f->spec, &f->h, err, sizeof(err)) < 0) {
		print_error("%s\n", err);
		goto fail;
	}
	if (pvpci_bdf_parse(D_DEV, &b) < 0 || pvpci_hostdev_open(f->h, &b, &f->d) < 0)
		goto fail;
	*state = f;
	return 0;
fail:
	pvpci_host_close(f->h);
	fake_rm_tree(f->root);
	free(f);
	return -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	uint8_t now[256];

	/* Whatever a test did, nothing reached the inner device. */
	read_config(f, D_DEV, now, sizeof(now));
	assert_memory_equal(now, f->image, sizeof(now));
	pvpci_hostdev_close(f->d);
	pvpci_host_close(f->h);
	fake_rm_tree(f->root);
	free(f);
	return 0;
}

static uint32_t rd(struct pvpci_hostdev *d, unsigned off, unsigned size)
{
	uint32_t v = 0xdeadbeef;

	assert_int_equal(pvpci_hostdev_read(d, off, size, &v), 0);
	return v;
}

static uint32_t image_val(const struct fixture *f, unsigned off, unsigned size)
{
	uint32_t v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		v |= (uint32_t)f->image[off + i] << (8 * i);
	return v;
}

static void test_reads_pass_through(void **state)
{
	struct fixture *f = *state;
	unsigned off, size;

	assert_int_equal(f->d->cfg_size, 256);
	assert_string_equal(f->d->ops->name, "shadow");
	for (size = 1; size <= 4; size *= 2)
		for (off = 0; off < 256; off += size)
			assert_int_equal(rd(f->d, off, size), image_val(f, off, size));
}

static void test_writes_seen_not_passed(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pvpci_hostdev_write(f->d, 0x04, 2, 0x0407), 0);
	assert_int_equal(pvpci_hostdev_write(f->d, 0x40, 4, 0xcafef00d), 0);
	assert_int_equal(pvpci_hostdev_write(f->d, 0x3c, 1, 0x0b), 0);
	assert_int_equal(rd(f->d, 0x04, 2), 0x0407);
	assert_int_equal(rd(f->d, 0x40, 4), 0xcafef00d);
	assert_int_equal(rd(f->d, 0x3c, 1), 0x0b);
	/* Later writes win. */
	assert_int_equal(pvpci_hostdev_write(f->d, 0x40, 2, 0x1234), 0);
	assert_int_equal(rd(f->d, 0x40, 4), 0xcafe1234);
	/* The teardown checks the file. */
}

/* A 1-byte write inside a 4-byte read: one byte from the overlay, three
 * from the device; and the other way round. */
static void test_partial_overlay(void **state)
{
	struct fixture *f = *state;
	uint32_t dev = image_val(f, 0x48, 4);

	assert_int_equal(pvpci_hostdev_write(f->d, 0x49, 1, 0xab), 0);
	assert_int_equal(rd(f->d, 0x48, 4), (dev & 0xffff00ffu) | 0xab00u);
	assert_int_equal(rd(f->d, 0x48, 2), ((dev & 0xffff00ffu) | 0xab00u) & 0xffff);
	assert_int_equal(rd(f->d, 0x4a, 2), dev >> 16);
	assert_int_equal(rd(f->d, 0x49, 1), 0xab);
	assert_int_equal(rd(f->d, 0x48, 1), dev & 0xff);

	/* Bytes 0x4c..0x4f: two overlaid through a word, one through a byte. */
	dev = image_val(f, 0x4c, 4);
	assert_int_equal(pvpci_hostdev_write(f->d, 0x4e, 2, 0x5566), 0);
	assert_int_equal(pvpci_hostdev_write(f->d, 0x4c, 1, 0x77), 0);
	assert_int_equal(rd(f->d, 0x4c, 4), 0x55660000u | (dev & 0xff00u) | 0x77u);
}

/* Bytes the overlay holds whole need no device access: with the device's
 * config emptied under it, a fully written dword still reads, a partly
 * written one fails with the inner device's reason. */
static void test_fully_overlaid_skips_device(void **state)
{
	struct fixture *f = *state;
	char path[256];
	uint32_t v = 0x42;

	assert_int_equal(pvpci_hostdev_write(f->d, 0x50, 4, 0x01020304), 0);
	assert_int_equal(pvpci_hostdev_write(f->d, 0x54, 2, 0x0506), 0);
	fake_path(path, sizeof(path), f->root, D_DEV, "config");
	assert_int_equal(truncate(path, 0), 0);

	assert_int_equal(rd(f->d, 0x50, 4), 0x01020304);
	assert_int_equal(rd(f->d, 0x52, 2), 0x0102);
	assert_int_equal(rd(f->d, 0x54, 2), 0x0506);
	assert_int_equal(pvpci_hostdev_read(f->d, 0x54, 4, &v), -EIO);
	assert_int_equal(v, 0x42);
	assert_non_null(strstr(pvpci_hostdev_errmsg(f->d), "short config read"));

	assert_int_equal(fake_write_file(path, f->image, 256), 0);
}

static void test_reset_clears_overlay(void **state)
{
	struct fixture *f = *state;
	unsigned off;

	for (off = 0; off < 256; off += 4)
		assert_int_equal(pvpci_hostdev_write(f->d, off, 4, ~image_val(f, off, 4)), 0);
	for (off = 0; off < 256; off += 4)
		assert_int_equal(rd(f->d, off, 4), ~image_val(f, off, 4));
	assert_int_equal(pvpci_hostdev_reset(f->d), 0);
	for (off = 0; off < 256; off += 4)
		assert_int_equal(rd(f->d, off, 4), image_val(f, off, 4));
	/* And the inner device was not reset: its reset file is untouched. */
	{
		char path[256], text[8];
		long n = fake_read_file(fake_path(path, sizeof(path), f->root, D_DEV, "reset"), text,
					sizeof(text));

		assert_int_equal(n, 0);
	}
}

/* set_decode goes the generic way: Command, in the overlay. */
static void test_set_decode_in_overlay(void **state)
{
	struct fixture *f = *state;
	uint32_t cmd = image_val(f, 0x04, 2);
	char path[256], text[8];
	long n;

	assert_int_equal(pvpci_hostdev_set_decode(f->d, false), 0);
	assert_int_equal(rd(f->d, 0x04, 2), cmd & ~3u);
	assert_int_equal(pvpci_hostdev_set_decode(f->d, true), 0);
	/* The default resource has one memory BAR. */
	assert_int_equal(rd(f->d, 0x04, 2), (cmd & ~3u) | 2u);
	n = fake_read_file(fake_path(path, sizeof(path), f->root, D_DEV, "enable"), text,
			   sizeof(text));
	assert_int_equal(n, 2);
	assert_memory_equal(text, "0\n", 2);
}

static void test_bar_info_and_list_pass_through(void **state)
{
	struct fixture *f = *state;
	struct pvpci_bdf list[8];
	struct pvpci_bar b;
	char s[PVPCI_BDF_STRLEN];
	size_t n = 0;

	assert_int_equal(pvpci_hostdev_bar_info(f->d, 0, &b), 0);
	assert_int_equal(b.addr, 0xfe000000);
	assert_int_equal(b.size, 0x1000);
	assert_int_equal(b.flags, 0);
	assert_int_equal(pvpci_hostdev_bar_info(f->d, 1, &b), 0);
	assert_int_equal(b.flags, PVPCI_BAR_UNUSED);

	assert_int_equal(pvpci_host_list(f->h, list, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(pvpci_bdf_format(&list[0], s), D_DEV);
	assert_string_equal(pvpci_bdf_format(&list[1], s), D_BIG);
	n = 42;
	assert_int_equal(pvpci_host_list(f->h, list, 1, &n), -E2BIG);
	assert_int_equal(n, 42);
	assert_true(strlen(pvpci_host_errmsg(f->h)) > 0);
}

static void test_extended_space(void **state)
{
	struct fixture *f = *state;
	struct pvpci_hostdev *d = NULL;
	struct pvpci_bdf b;

	assert_int_equal(pvpci_bdf_parse(D_BIG, &b), 0);
	assert_int_equal(pvpci_hostdev_open(f->h, &b, &d), 0);
	assert_int_equal(d->cfg_size, 4096);
	assert_int_equal(pvpci_hostdev_write(d, 0xffc, 4, 0x89abcdef), 0);
	assert_int_equal(rd(d, 0xffc, 4), 0x89abcdef);
	assert_int_equal(rd(d, 0xffe, 1), 0xab);
	assert_int_equal(pvpci_hostdev_write(d, 0x1000, 1, 0), -EINVAL);
	/* The inner device has no reset file; the shadow's reset still works. */
	assert_int_equal(pvpci_hostdev_reset(d), 0);
	assert_int_equal(rd(d, 0xffc, 1), fake_cfg_byte(&fake_devs[1], 0xffc));
	pvpci_hostdev_close(d);
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	struct pvpci_host *h = (struct pvpci_host *)0x1;
	struct pvpci_hostdev *d = (struct pvpci_hostdev *)0x1;
	char err[PVPCI_ERRMSG_LEN] = "", spec[160];
	struct pvpci_bdf b;

	assert_int_equal(pvpci_host_open("shadow", &h, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "shadow needs a host"));
	assert_int_equal(pvpci_host_open("shadow:", &h, err, sizeof(err)), -EINVAL);
	assert_int_equal(pvpci_host_open("shadow:nosuch:x", &h, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown host backend"));
	snprintf(spec, sizeof(spec), "shadow:sysfs:%s/nowhere", f->root);
	assert_int_equal(pvpci_host_open(spec, &h, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "nowhere/bus/pci/devices"));
	assert_ptr_equal(h, (struct pvpci_host *)0x1);

	/* A missing device: the inner host's message, on the shadow host. */
	assert_int_equal(pvpci_bdf_parse("0000:00:1f.0", &b), 0);
	assert_int_equal(pvpci_hostdev_open(f->h, &b, &d), -ENOENT);
	assert_ptr_equal(d, (struct pvpci_hostdev *)0x1);
	assert_non_null(strstr(pvpci_host_errmsg(f->h), "no PCI function 0000:00:1f.0"));
}

/* A shadow of a shadow is still a shadow. */
static void test_nested(void **state)
{
	struct fixture *f = *state;
	char err[PVPCI_ERRMSG_LEN] = "", spec[160];
	struct pvpci_host *h = NULL;
	struct pvpci_hostdev *d = NULL;
	struct pvpci_bdf b;

	snprintf(spec, sizeof(spec), "shadow:%s", f->spec);
	assert_int_equal(pvpci_host_open(spec, &h, err, sizeof(err)), 0);
	assert_int_equal(pvpci_bdf_parse(D_DEV, &b), 0);
	assert_int_equal(pvpci_hostdev_open(h, &b, &d), 0);
	assert_int_equal(pvpci_hostdev_write(d, 0x40, 4, 0x0badcafe), 0);
	assert_int_equal(rd(d, 0x40, 4), 0x0badcafe);
	pvpci_hostdev_close(d);
	pvpci_host_close(h);
}

static void test_null_close(void **state)
{
	(void)state;
	pvpci_hostdev_close(NULL);
	pvpci_host_close(NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_reads_pass_through),
		T(test_writes_seen_not_passed),
		T(test_partial_overlay),
		T(test_fully_overlaid_skips_device),
		T(test_reset_clears_overlay),
		T(test_set_decode_in_overlay),
		T(test_bar_info_and_list_pass_through),
		T(test_extended_space),
		T(test_errors),
		T(test_nested),
		cmocka_unit_test(test_null_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
