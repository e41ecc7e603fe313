/*
 * Seizing a function for a stub driver through sysfs and giving it back
 * (toolstack.h), as libxl's pci-assignable-add / -remove do with pciback,
 * and reading what a guest is given on Xen to reach it (its resources and
 * legacy interrupt, as libxl's attach reads them):
 * unbind it from its driver, remembering which (the canonical path, as
 * libxl's driver_path), then driver_override and bind to pci-stub; back:
 * unbind from the stub, clear driver_override, bind to the driver it came
 * from.  Only the files of driver binding are touched,
 * ROOT/bus/pci/devices/BDF/{driver,driver_override,class} and
 * ROOT/bus/pci/drivers/DRIVER/{bind,unbind}: never config space, never a
 * file created.
 *
 * The safety rule (DESIGN.md): a bridge is never seized; under the real
 * /sys a function a driver of this machine holds (its disk, its network)
 * is taken only when the caller forces it.  Tests run on a fake ROOT.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "pvpci/toolstack.h"

#define STUB	"pci-stub"

/* Drivers that hold a device for someone else (hostdev_sysfs.c has the same list). */
static const char *const stubs[] = { "pci-stub", "vfio-pci", "pciback", "xen-pciback", NULL };

static bool is_stub(const char *drv)
{
	for (const char *const *s = stubs; *s; s++)
		if (!strcmp(drv, *s))
			return true;
	return false;
}

/* One write of s to an existing file, as `echo -n s > path`. */
static int put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC), e;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	e = n < 0 ? -errno : (size_t)n != strlen(s) ? -EIO : 0;
	if (close(fd) < 0 && !e)
		e = -errno;
	return e;
}

struct fn {
	char bdf[PVPCI_BDF_STRLEN];
	char dir[PATH_MAX];		/* ROOT/bus/pci/devices/BDF */
	char drv_path[PATH_MAX];	/* canonical path of its driver, "" when none */
	const char *drv;		/* its basename */
};

/* The function's directory and driver; -ENOENT when it is not there. */
static int lookup(const struct pvpci_ts_host *h, const struct pvpci_bdf *bdf, struct fn *f, char *errbuf,
		  size_t errlen)
{
	char link[PATH_MAX + 16];
	struct stat st;

	pvpci_bdf_format(bdf, f->bdf);
	snprintf(f->dir, sizeof(f->dir), "%s/bus/pci/devices/%s", h->root, f->bdf);
	if (lstat(f->dir, &st) < 0)
		return pvpci_errf(errbuf, errlen, -errno, "%s: %s", f->dir, strerror(errno));
	snprintf(link, sizeof(link), "%s/driver", f->dir);
	f->drv_path[0] = 0;
	f->drv = "";
	if (lstat(link, &st) == 0) {
		if (!realpath(link, f->drv_path))
			return pvpci_errf(errbuf, errlen, -errno, "%s: %s", link, strerror(errno));
		f->drv = strrchr(f->drv_path, '/') + 1;
	} else if (errno != ENOENT) {
		return pvpci_errf(errbuf, errlen, -errno, "%s: %s", link, strerror(errno));
	}
	return 0;
}

/* The real /sys, where a wrong unbind takes this machine's own devices. */
static bool real_sys(const struct pvpci_ts_host *h)
{
	char rp[PATH_MAX];

	return realpath(h->root, rp) && !strcmp(rp, "/sys");
}

/* Write the function's address to DRIVER_DIR/file. */
static int drv_write(const char *drv_dir, const char *file, const struct fn *f, char *errbuf, size_t errlen)
{
	char path[PATH_MAX + 16];
	int r;

	snprintf(path, sizeof(path), "%s/%s", drv_dir, file);
	r = put(path, f->bdf);
	return r ? pvpci_errf(errbuf, errlen, r, "writing %s to %s: %s", f->bdf, path, strerror(-r)) : 0;
}

static int set_override(const struct fn *f, const char *drv, char *errbuf, size_t errlen)
{
	char path[PATH_MAX + 24];
	int r;

	snprintf(path, sizeof(path), "%s/driver_override", f->dir);
	r = put(path, drv);
	return r ? pvpci_errf(errbuf, errlen, r, "%s: %s", path, strerror(-r)) : 0;
}

int pvpci_ts_sysfs_seize(const struct pvpci_ts_host *h, const struct pvpci_bdf *bdf,
			 char *ret_driver_path, size_t len, char *errbuf, size_t errlen)
{
	char path[PATH_MAX + 24], stub[PATH_MAX], cls[32] = "";
	struct fn f;
	FILE *fp;
	int r;

	r = lookup(h, bdf, &f, errbuf, errlen);
	if (r)
		return r;
	/* A bridge carries other functions: pciback refuses it too. */
	snprintf(path, sizeof(path), "%s/class", f.dir);
	fp = fopen(path, "re");
	if (!fp || !fgets(cls, sizeof(cls), fp)) {
		r = -(errno ? errno : EIO);
		if (fp)
			fclose(fp);
		return pvpci_errf(errbuf, errlen, r, "%s: cannot tell whether it is a bridge: %s", path,
				  strerror(-r));
	}
	fclose(fp);
	if ((strtoul(cls, NULL, 16) >> 16) == 0x06)
		return pvpci_errf(errbuf, errlen, -EPERM, "%s is a bridge (class %.8s): never seized", f.bdf, cls);
	if (is_stub(f.drv)) {
		ret_driver_path[0] = 0;	/* held for a guest already */
		return 0;
	}
	if (f.drv_path[0] && real_sys(h) && !h->force)
		return pvpci_errf(errbuf, errlen, -EPERM,
				  "%s is bound to %s, a driver of this machine: seizing it takes the device away from this machine (--force to do it anyway)",
				  f.bdf, f.drv);
	snprintf(stub, sizeof(stub), "%s/bus/pci/drivers/" STUB, h->root);
	if (access(stub, F_OK) < 0)
		return pvpci_errf(errbuf, errlen, -ENODEV, "%s: %s (modprobe pci-stub)", stub, strerror(errno));
	snprintf(path, sizeof(path), "%s/driver_override", f.dir);
	if (access(path, W_OK) < 0)
		return pvpci_errf(errbuf, errlen, -errno, "%s: %s (Linux 3.16 or later has it)", path,
				  strerror(errno));
	if (strlen(f.drv_path) >= len)
		return pvpci_errf(errbuf, errlen, -ENAMETOOLONG, "%s: too long", f.drv_path);
	if (f.drv_path[0]) {
		r = drv_write(f.drv_path, "unbind", &f, errbuf, errlen);
		if (r)
			return r;
	}
	r = set_override(&f, STUB, errbuf, errlen);
	if (!r)
		r = drv_write(stub, "bind", &f, errbuf, errlen);
	if (r) {
		/* Back where it was, as far as we can. */
		set_override(&f, "\n", NULL, 0);
		if (f.drv_path[0])
			drv_write(f.drv_path, "bind", &f, NULL, 0);
		return r;
	}
	strcpy(ret_driver_path, f.drv_path);
	return 0;
}

int pvpci_ts_sysfs_release(const struct pvpci_ts_host *h, const struct pvpci_bdf *bdf,
			   const char *rebind_to, char *errbuf, size_t errlen)
{
	char path[PATH_MAX + 24], rp[PATH_MAX], drivers[PATH_MAX + 24];
	struct fn f;
	int r;

	r = lookup(h, bdf, &f, errbuf, errlen);
	if (r)
		return r;
	if (f.drv_path[0] && !is_stub(f.drv))
		return 0;	/* some driver took it back already: it is not ours to move */
	if (f.drv_path[0]) {
		r = drv_write(f.drv_path, "unbind", &f, errbuf, errlen);
		if (r)
			return r;
	}
	snprintf(path, sizeof(path), "%s/driver_override", f.dir);
	if (access(path, F_OK) == 0) {
		r = set_override(&f, "\n", errbuf, errlen);
		if (r)
			return r;
	}
	if (!rebind_to || !rebind_to[0])
		return 0;
	/* Only a driver of this root: the store is no reason to write anywhere else. */
	if (!realpath(h->root, rp))
		return pvpci_errf(errbuf, errlen, -errno, "%s: %s", h->root, strerror(errno));
	snprintf(drivers, sizeof(drivers), "%s/bus/pci/drivers/", rp);
	if (strncmp(rebind_to, drivers, strlen(drivers)) || strchr(rebind_to + strlen(drivers), '/') ||
	    strstr(rebind_to, "/.."))
		return pvpci_errf(errbuf, errlen, -EPERM, "%s: not a driver under %s: not rebound", rebind_to,
				  drivers);
	return drv_write(rebind_to, "bind", &f, errbuf, errlen);
}

/* ---- what a guest is given to reach a function ---- */

#define IORESOURCE_IO	0x100	/* Linux's, as `resource` prints it */

/* Whether the function's capability list has MSI-X, from the first 256
 * bytes of its config file (what root reads); false when they cannot be
 * read whole. */
static bool has_msix(const char *root, const char *name)
{
	char path[PATH_MAX];
	uint8_t cfg[256];
	unsigned p, hops = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/config", root, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = pread(fd, cfg, sizeof(cfg), 0);
	close(fd);
	if (n != (ssize_t)sizeof(cfg) || !(cfg[0x06] & 0x10))	/* Status: Capabilities List */
		return false;
	for (p = cfg[0x34] & 0xfc; p >= 0x40 && hops++ < 48; p = cfg[p + 1] & 0xfc)
		if (cfg[p] == 0x11)
			return true;
	return false;
}

int pvpci_ts_sysfs_resources(const char *root, const struct pvpci_bdf *bdf, struct pvpci_ts_resources *ret,
			     char *errbuf, size_t errlen)
{
	struct pvpci_ts_resources res = { .n = 0 };
	char path[PATH_MAX], name[PVPCI_BDF_STRLEN], line[128];
	FILE *f;
	int r;

	pvpci_bdf_format(bdf, name);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/resource", root, name);
	f = fopen(path, "re");
	if (!f)
		return pvpci_errf(errbuf, errlen, -errno, "%s: %s", path, strerror(errno));
	for (unsigned i = 0; i < PVPCI_TS_RESOURCES; i++) {
		uint64_t start, end, flags;

		if (!fgets(line, sizeof(line), f) ||
		    sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNx64, &start, &end, &flags) != 3 || end < start) {
			fclose(f);
			return pvpci_errf(errbuf, errlen, -EBADMSG, "%s: line %u is not \"start end flags\"", path,
					  i + 1);
		}
		if (!start)
			continue;	/* not implemented, or not placed */
		res.r[res.n].start = start;
		res.r[res.n].end = end;
		res.r[res.n].io = flags & IORESOURCE_IO;
		res.n++;
	}
	fclose(f);
	/* No irq file, or 0: no legacy interrupt. */
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/irq", root, name);
	f = fopen(path, "re");
	if (f) {
		r = fscanf(f, "%u", &res.irq) == 1 ? 0 : -EBADMSG;
		fclose(f);
		if (r)
			return pvpci_errf(errbuf, errlen, r, "%s: not a number", path);
	} else if (errno != ENOENT) {
		return pvpci_errf(errbuf, errlen, -errno, "%s: %s", path, strerror(errno));
	}
	res.msix = has_msix(root, name);
	*ret = res;
	return 0;
}
