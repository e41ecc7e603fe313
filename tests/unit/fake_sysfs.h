/*
 * A fake sysfs tree for tests of the sysfs and shadow backends: the shape
 * of ROOT/bus/pci/devices/<bdf> -> ROOT/devices/pci0000:00/<bdf>, with
 * config, resource, driver, reset and enable, under a mkdtemp directory.
 * Every test that writes does it here, never under /sys.  Header-only
 * (static inline) so that each test binary takes what it uses.
 */
#ifndef PVPCI_TEST_FAKE_SYSFS_H
#define PVPCI_TEST_FAKE_SYSFS_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fake_dev {
	const char *bdf;		/* "dddd:bb:dd.f" */
	unsigned cfg_len;		/* bytes of config; 256, 4096 or short */
	uint32_t class_code;		/* 24-bit class code at 0x09 */
	const char *driver;		/* NULL: no driver link */
	const char *resource;		/* NULL: the default one-BAR resource */
	int no_reset;			/* no reset file */
};

/* The byte the fake config holds at off before anyone writes it. */
static inline uint8_t fake_cfg_byte(const struct fake_dev *fd, unsigned off)
{
	switch (off) {
	case 0x00: return 0xf4;	/* vendor 0x1af4 */
	case 0x01: return 0x1a;
	case 0x02: return 0x41;	/* device 0x1041 */
	case 0x03: return 0x10;
	case 0x09: return (uint8_t)fd->class_code;
	case 0x0a: return (uint8_t)(fd->class_code >> 8);
	case 0x0b: return (uint8_t)(fd->class_code >> 16);
	default: return (uint8_t)(off * 7 + (off >> 8) + 0x5a);
	}
}

static inline int fake_write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -1;
	if (len && fwrite(buf, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f) ? -1 : 0;
}

/* The whole of path into buf (at most len bytes); bytes read or -1. */
static inline long fake_read_file(const char *path, void *buf, size_t len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len, f);
	fclose(f);
	return (long)n;
}

static inline int fake_mkdirs(const char *root)
{
	static const char *const dirs[] = {
		"bus", "bus/pci", "bus/pci/devices", "bus/pci/drivers",
		"bus/pci/drivers/virtio-pci", "bus/pci/drivers/pci-stub",
		"bus/pci/drivers/vfio-pci", "devices", "devices/pci0000:00", NULL,
	};
	char path[4096];
	unsigned i;

	for (i = 0; dirs[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		if (mkdir(path, 0755) < 0)
			return -1;
	}
	return 0;
}

/* Point dev's driver link at drivers/<driver>, or remove it (NULL). */
static inline int fake_set_driver(const char *root, const char *bdf, const char *driver)
{
	char link[4096], target[512];

	snprintf(link, sizeof(link), "%s/devices/pci0000:00/%s/driver", root, bdf);
	if (unlink(link) < 0 && errno != ENOENT)
		return -1;
	if (!driver)
		return 0;
	snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
	return symlink(target, link);
}

static inline int fake_add_dev(const char *root, const struct fake_dev *fd)
{
	static const char def_resource[] =
		"0x00000000fe000000 0x00000000fe000fff 0x0000000000040200\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n";
	const char *res = fd->resource ? fd->resource : def_resource;
	char dir[4096], path[4200], target[512];
	uint8_t *cfg;
	unsigned i;
	int r;

	snprintf(dir, sizeof(dir), "%s/devices/pci0000:00/%s", root, fd->bdf);
	if (mkdir(dir, 0755) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", root, fd->bdf);
	snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", fd->bdf);
	if (symlink(target, path) < 0)
		return -1;
	cfg = malloc(fd->cfg_len ? fd->cfg_len : 1);
	if (!cfg)
		return -1;
	for (i = 0; i < fd->cfg_len; i++)
		cfg[i] = fake_cfg_byte(fd, i);
	snprintf(path, sizeof(path), "%s/config", dir);
	r = fake_write_file(path, cfg, fd->cfg_len);
	free(cfg);
	if (r < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/resource", dir);
	if (fake_write_file(path, res, strlen(res)) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/enable", dir);
	if (fake_write_file(path, "0\n", 2) < 0)
		return -1;
	if (!fd->no_reset) {
		snprintf(path, sizeof(path), "%s/reset", dir);
		if (fake_write_file(path, "", 0) < 0)
			return -1;
	}
	return fake_set_driver(root, fd->bdf, fd->driver);
}

/* Path of one of dev's files, in a static buffer per call site's needs. */
static inline char *fake_path(char *buf, size_t len, const char *root, const char *bdf,
			      const char *file)
{
	snprintf(buf, len, "%s/devices/pci0000:00/%s/%s", root, bdf, file);
	return buf;
}

static inline int fake_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void fake_rm_tree(const char *root)
{
	if (root && *root)
		nftw(root, fake_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
