/*
 * The sysfs host backend: real PCI functions of this machine through
 * ROOT/bus/pci/devices/<dddd:bb:dd.f>/{config,resource,driver,reset,enable}.
 * Owns opening those files, the little-endian assembly of config accesses,
 * parsing `resource` into BARs, and the rule that decides whether a write
 * may reach a real device.  It does not own what a write means (confspace
 * does) nor binding or unbinding drivers (the toolstack does).
 *
 * The write rule (DESIGN.md, "Safety rule for real hardware"): config
 * writes, resets and enable/disable reach a device only when the host was
 * opened with writes=1 AND the function is bound to no driver or to a stub
 * driver AND it is not a bridge.  `config` is opened O_RDONLY at open and
 * O_RDWR only on the first write that passes the rule, so a device nobody
 * asked to write stays unwritable by construction.  Anything else gets
 * -EPERM and a message saying why.
 *
 * ROOT defaults to /sys and exists so that tests can run on a fake tree.
 * A ROOT containing a comma cannot be named (the comma starts options).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pvpci/hostdev.h"

#define SYSFS_DEFAULT_ROOT	"/sys"
#define SYSFS_DEVICES		"bus/pci/devices"
#define SYSFS_RESOURCE_MAX	8192	/* 17 lines of 57 bytes at most in practice */

/* Linux's IORESOURCE_* bits as `resource` prints them. */
#define IORES_IO		0x00000100ull
#define IORES_MEM		0x00000200ull
#define IORES_PREFETCH		0x00002000ull
#define IORES_MEM_64		0x00100000ull

#define PCI_BASE_CLASS_BRIDGE	0x06

struct sysfs_host {
	struct pvpci_host head;		/* first: the wrapper casts */
	char *root;			/* as given, for messages */
	char *devdir;			/* ROOT/bus/pci/devices */
	int devdir_fd;			/* O_PATH directory */
	bool writes;
};

struct sysfs_dev {
	struct pvpci_hostdev head;	/* first: the wrapper casts */
	char name[PVPCI_BDF_STRLEN];
	int dir_fd;			/* O_PATH on the function's directory */
	int rd_fd;			/* config, O_RDONLY, from open to close */
	int rw_fd;			/* config, O_RDWR, -1 until a write passes the rule */
	int base_class;			/* config byte 0x0b at open, -1 when unreadable */
};

/* Drivers that exist to hold a device for someone else: writing under them
 * disturbs no host driver.  "pciback" is the name xen-pciback registers. */
static const char *const stub_drivers[] = {
	"pci-stub", "vfio-pci", "pciback", "xen-pciback", NULL,
};

static struct sysfs_host *to_host(struct pvpci_host *h)
{
	return (struct sysfs_host *)h;
}

static struct sysfs_dev *to_dev(struct pvpci_hostdev *d)
{
	return (struct sysfs_dev *)d;
}

static void host_free(struct sysfs_host *sh)
{
	if (!sh)
		return;
	if (sh->devdir_fd >= 0)
		close(sh->devdir_fd);
	free(sh->root);
	free(sh->devdir);
	free(sh);
}

/* "ROOT[,opt...]" with ROOT possibly empty; opts: writes=0|1. */
static int parse_spec(const char *arg, char **ret_root, bool *ret_writes, char *errbuf,
		      size_t errlen)
{
	const char *comma, *opt, *end;
	bool writes = false;
	char *root;

	if (!arg)
		arg = "";
	comma = strchr(arg, ',');
	if (comma == arg || !*arg)
		root = strdup(SYSFS_DEFAULT_ROOT);
	else
		root = comma ? strndup(arg, (size_t)(comma - arg)) : strdup(arg);
	if (!root)
		return -ENOMEM;
	for (opt = comma; opt; opt = end) {
		size_t len;

		opt++;
		end = strchr(opt, ',');
		len = end ? (size_t)(end - opt) : strlen(opt);
		if (len == 0)
			continue;
		if (len == 8 && !strncmp(opt, "writes=1", 8)) {
			writes = true;
		} else if (len == 8 && !strncmp(opt, "writes=0", 8)) {
			writes = false;
		} else {
			snprintf(errbuf, errlen, "unknown sysfs option '%.*s' (sysfs[:ROOT][,writes=0|1])",
				 (int)len, opt);
			free(root);
			return -EINVAL;
		}
	}
	*ret_root = root;
	*ret_writes = writes;
	return 0;
}

static int sysfs_host_open(const char *arg, struct pvpci_host **ret, char *errbuf, size_t errlen)
{
	struct sysfs_host *sh;
	int r;

	sh = calloc(1, sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	sh->devdir_fd = -1;
	r = parse_spec(arg, &sh->root, &sh->writes, errbuf, errlen);
	if (r < 0)
		goto fail;
	if (asprintf(&sh->devdir, "%s/%s", sh->root, SYSFS_DEVICES) < 0) {
		sh->devdir = NULL;
		r = -ENOMEM;
		goto fail;
	}
	sh->devdir_fd = open(sh->devdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (sh->devdir_fd < 0) {
		r = -errno;
		snprintf(errbuf, errlen, "cannot open %s: %s (is %s a sysfs tree?)", sh->devdir,
			 strerror(-r), sh->root);
		goto fail;
	}
	*ret = &sh->head;
	return 0;
fail:
	host_free(sh);
	return r;
}

static void sysfs_host_close(struct pvpci_host *h)
{
	host_free(to_host(h));
}

static int bdf_qsort_cmp(const void *a, const void *b)
{
	return pvpci_bdf_cmp(a, b);
}

static int sysfs_host_list(struct pvpci_host *h, struct pvpci_bdf *ret, size_t max, size_t *ret_n)
{
	struct sysfs_host *sh = to_host(h);
	struct pvpci_bdf *found = NULL, *grown;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dir;
	int fd, r = 0;

	/* The O_PATH fd cannot be read; open the same directory for reading. */
	fd = openat(sh->devdir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		pvpci_host_set_err(h, "cannot list %s: %s", sh->devdir, strerror(-r));
		return r;
	}
	while ((errno = 0, de = readdir(dir))) {
		struct pvpci_bdf b;

		/* Only the full form names a function here; anything else is not one. */
		if (strlen(de->d_name) != PVPCI_BDF_STRLEN - 1 || pvpci_bdf_parse(de->d_name, &b) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			grown = realloc(found, cap * sizeof(*found));
			if (!grown) {
				r = -ENOMEM;
				goto out;
			}
			found = grown;
		}
		found[n++] = b;
	}
	if (errno) {
		r = -errno;
		pvpci_host_set_err(h, "cannot list %s: %s", sh->devdir, strerror(-r));
		goto out;
	}
	if (n > max) {
		pvpci_host_set_err(h, "%s holds %zu functions, more than the %zu asked for",
				   sh->devdir, n, max);
		r = -E2BIG;
		goto out;
	}
	if (n)
		qsort(found, n, sizeof(*found), bdf_qsort_cmp);
	if (n)
		memcpy(ret, found, n * sizeof(*found));
	*ret_n = n;
out:
	free(found);
	closedir(dir);
	return r;
}

/* Its `irq` file (the kernel's number for its INTx; 0: none) and its
 * Interrupt Pin, both read without opening the function. */
static int sysfs_host_intx(struct pvpci_host *h, const struct pvpci_bdf *bdf, struct pvpci_intx *ret)
{
	struct sysfs_host *sh = to_host(h);
	char name[PVPCI_BDF_STRLEN], path[PVPCI_BDF_STRLEN + 16], text[32], *end;
	unsigned long irq;
	uint8_t pin;
	ssize_t n;
	int fd, r;

	pvpci_bdf_format(bdf, name);
	snprintf(path, sizeof(path), "%s/config", name);
	fd = openat(sh->devdir_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		pvpci_host_set_err(h, "cannot open %s/%s: %s", sh->devdir, path, strerror(-r));
		return r == -ENOENT ? -ENODEV : r;
	}
	n = pread(fd, &pin, 1, 0x3d);
	close(fd);
	if (n != 1) {
		pvpci_host_set_err(h, "cannot read the interrupt pin of %s", name);
		return -EIO;
	}
	snprintf(path, sizeof(path), "%s/irq", name);
	fd = openat(sh->devdir_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		pvpci_host_set_err(h, "cannot open %s/%s: %s", sh->devdir, path, strerror(-r));
		return r;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = 0;
	irq = strtoul(text, &end, 10);
	if (n <= 0 || end == text || (*end && *end != '\n') || irq > UINT_MAX) {
		pvpci_host_set_err(h, "%s/%s: not a number", sh->devdir, path);
		return -EINVAL;
	}
	ret->pin = pin;
	ret->irq = (unsigned)irq;
	return 0;
}

/*
 * Basename of the function's `driver` link into buf; "" when there is no
 * link (bound to nothing).  Any other failure is an error, so that a link
 * we cannot read is never mistaken for "no driver".
 */
static int read_driver(struct sysfs_dev *sd, char *buf, size_t len)
{
	char link[PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlinkat(sd->dir_fd, "driver", link, sizeof(link) - 1);
	if (n < 0) {
		if (errno == ENOENT) {
			buf[0] = 0;
			return 0;
		}
		return -errno;
	}
	link[n] = 0;
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	/* A name we would have to cut could be mistaken for another one. */
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	memcpy(buf, base, strlen(base) + 1);
	return 0;
}

static bool is_stub_driver(const char *drv)
{
	const char *const *s;

	for (s = stub_drivers; *s; s++)
		if (!strcmp(*s, drv))
			return true;
	return false;
}

/*
 * The write rule, checked before every write, reset and enable: the
 * binding can change between two calls (an operator rebinding the device to
 * its real driver), and a syscall is cheap next to writing to the wrong
 * device.  what names the operation for the message.
 */
static int check_writable(struct sysfs_dev *sd, const char *what)
{
	struct sysfs_host *sh = to_host(sd->head.host);
	struct pvpci_hostdev *d = &sd->head;
	char drv[NAME_MAX + 1];
	int r;

	if (!sh->writes) {
		pvpci_hostdev_set_err(d, "%s: %s refused: writes are not enabled (sysfs:%s,writes=1)",
				      sd->name, what, sh->root);
		return -EPERM;
	}
	if (sd->base_class < 0) {
		pvpci_hostdev_set_err(d, "%s: %s refused: its class could not be read at open",
				      sd->name, what);
		return -EPERM;
	}
	/* A bridge has no driver to unbind (host bridges never have one), so
	 * "no driver" says nothing of the operator's intent there; and writing
	 * it can cut off every device behind it, the host's own disk included. */
	if (sd->base_class == PCI_BASE_CLASS_BRIDGE) {
		pvpci_hostdev_set_err(d, "%s: %s refused: it is a bridge (class 0x06); writes go only to endpoint functions",
				      sd->name, what);
		return -EPERM;
	}
	r = read_driver(sd, drv, sizeof(drv));
	if (r < 0) {
		pvpci_hostdev_set_err(d, "%s: %s refused: cannot read its driver link: %s",
				      sd->name, what, strerror(-r));
		return -EPERM;
	}
	if (drv[0] && !is_stub_driver(drv)) {
		pvpci_hostdev_set_err(d, "%s is bound to %s: writes go only to a device bound to no driver or to pci-stub, vfio-pci or xen-pciback (%s refused)",
				      sd->name, drv, what);
		return -EPERM;
	}
	return 0;
}

static void dev_free(struct sysfs_dev *sd)
{
	if (!sd)
		return;
	if (sd->rw_fd >= 0)
		close(sd->rw_fd);
	if (sd->rd_fd >= 0)
		close(sd->rd_fd);
	if (sd->dir_fd >= 0)
		close(sd->dir_fd);
	free(sd);
}

static int sysfs_open(struct pvpci_host *h, const struct pvpci_bdf *bdf, struct pvpci_hostdev **ret)
{
	struct sysfs_host *sh = to_host(h);
	struct sysfs_dev *sd;
	struct stat st;
	uint8_t cls;
	ssize_t n;
	int r;

	sd = calloc(1, sizeof(*sd));
	if (!sd)
		return -ENOMEM;
	sd->dir_fd = sd->rd_fd = sd->rw_fd = -1;
	pvpci_bdf_format(bdf, sd->name);

	sd->dir_fd = openat(sh->devdir_fd, sd->name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (sd->dir_fd < 0) {
		r = -errno;
		if (r == -ENOENT)
			pvpci_host_set_err(h, "no PCI function %s under %s", sd->name, sh->devdir);
		else
			pvpci_host_set_err(h, "cannot open %s/%s: %s", sh->devdir, sd->name, strerror(-r));
		goto fail;
	}
	sd->rd_fd = openat(sd->dir_fd, "config", O_RDONLY | O_CLOEXEC);
	if (sd->rd_fd < 0) {
		r = -errno;
		pvpci_host_set_err(h, "cannot open %s/%s/config: %s", sh->devdir, sd->name,
				   strerror(-r));
		goto fail;
	}
	if (fstat(sd->rd_fd, &st) < 0) {
		r = -errno;
		pvpci_host_set_err(h, "cannot stat %s/%s/config: %s", sh->devdir, sd->name,
				   strerror(-r));
		goto fail;
	}
	/* sysfs sizes config at 4096 when the kernel can reach extended space. */
	sd->head.cfg_size = st.st_size > PVPCI_CFG_SIZE ? PVPCI_CFG_EXP_SIZE : PVPCI_CFG_SIZE;
	/* Cached for the write rule; the class of a function does not change. */
	n = pread(sd->rd_fd, &cls, 1, 0x0b);
	sd->base_class = n == 1 ? cls : -1;
	*ret = &sd->head;
	return 0;
fail:
	dev_free(sd);
	return r;
}

static void sysfs_close(struct pvpci_hostdev *d)
{
	dev_free(to_dev(d));
}

static int sysfs_read(struct pvpci_hostdev *d, unsigned off, unsigned size, uint32_t *ret_val)
{
	struct sysfs_dev *sd = to_dev(d);
	uint8_t b[4];
	uint32_t v = 0;
	ssize_t n;
	unsigned i;

	n = pread(sd->rd_fd, b, size, off);
	if (n < 0) {
		int r = -errno;

		pvpci_hostdev_set_err(d, "%s: config read at 0x%x: %s", sd->name, off, strerror(-r));
		return r;
	}
	if ((size_t)n != size) {
		/* Linux cuts unprivileged reads of config at 64 bytes. */
		pvpci_hostdev_set_err(d, "%s: short config read at 0x%x: %zd of %u bytes%s", sd->name,
				      off, n, size,
				      off >= 64 && geteuid() != 0 ? " (reading past 64 bytes needs root)" : "");
		return -EIO;
	}
	for (i = 0; i < size; i++)
		v |= (uint32_t)b[i] << (8 * i);
	*ret_val = v;
	return 0;
}

static int sysfs_write(struct pvpci_hostdev *d, unsigned off, unsigned size, uint32_t val)
{
	struct sysfs_dev *sd = to_dev(d);
	uint8_t b[4];
	ssize_t n;
	unsigned i;
	int r;

	r = check_writable(sd, "config write");
	if (r < 0)
		return r;
	if (sd->rw_fd < 0) {
		sd->rw_fd = openat(sd->dir_fd, "config", O_RDWR | O_CLOEXEC);
		if (sd->rw_fd < 0) {
			r = -errno;
			pvpci_hostdev_set_err(d, "%s: cannot open config for writing: %s", sd->name,
					      strerror(-r));
			return r;
		}
	}
	for (i = 0; i < size; i++)
		b[i] = (uint8_t)(val >> (8 * i));
	n = pwrite(sd->rw_fd, b, size, off);
	if (n < 0) {
		r = -errno;
		pvpci_hostdev_set_err(d, "%s: config write at 0x%x: %s", sd->name, off, strerror(-r));
		return r;
	}
	if ((size_t)n != size) {
		pvpci_hostdev_set_err(d, "%s: short config write at 0x%x: %zd of %u bytes", sd->name,
				      off, n, size);
		return -EIO;
	}
	return 0;
}

/* Write a short string to one of the function's control files. */
static int write_attr(struct sysfs_dev *sd, const char *attr, const char *text)
{
	struct pvpci_hostdev *d = &sd->head;
	size_t len = strlen(text);
	ssize_t n;
	int fd, r;

	fd = openat(sd->dir_fd, attr, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		pvpci_hostdev_set_err(d, "%s: cannot open %s: %s", sd->name, attr, strerror(-r));
		return r;
	}
	n = write(fd, text, len);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r < 0) {
		pvpci_hostdev_set_err(d, "%s: writing %s to %s: %s%s", sd->name, text, attr,
				      strerror(-r),
				      r == -EBUSY ? " (the kernel refuses while any driver is bound)" : "");
		return r;
	}
	if ((size_t)n != len) {
		pvpci_hostdev_set_err(d, "%s: short write to %s", sd->name, attr);
		return -EIO;
	}
	return 0;
}

/* -EOPNOTSUPP with a message when the function lacks attr. */
static int have_attr(struct sysfs_dev *sd, const char *attr, const char *what)
{
	int r;

	if (faccessat(sd->dir_fd, attr, F_OK, 0) == 0)
		return 0;
	r = -errno;
	if (r == -ENOENT) {
		pvpci_hostdev_set_err(&sd->head, "%s offers no %s (no %s file)", sd->name, what, attr);
		return -EOPNOTSUPP;
	}
	pvpci_hostdev_set_err(&sd->head, "%s: cannot reach %s: %s", sd->name, attr, strerror(-r));
	return r;
}

static int sysfs_reset(struct pvpci_hostdev *d)
{
	struct sysfs_dev *sd = to_dev(d);
	int r;

	r = have_attr(sd, "reset", "function reset");
	if (r < 0)
		return r;
	r = check_writable(sd, "reset");
	if (r < 0)
		return r;
	return write_attr(sd, "reset", "1");
}

static int sysfs_set_decode(struct pvpci_hostdev *d, bool on)
{
	struct sysfs_dev *sd = to_dev(d);
	int r;

	r = have_attr(sd, "enable", "enable/disable");
	if (r < 0)
		return r;
	r = check_writable(sd, on ? "enable" : "disable");
	if (r < 0)
		return r;
	return write_attr(sd, "enable", on ? "1" : "0");
}

/* The whole of `resource` into a NUL-terminated buffer the caller frees. */
static int read_resource(struct sysfs_dev *sd, char **ret)
{
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	fd = openat(sd->dir_fd, "resource", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		pvpci_hostdev_set_err(&sd->head, "%s: cannot open resource: %s", sd->name,
				      strerror(-r));
		return r;
	}
	buf = malloc(SYSFS_RESOURCE_MAX);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len < SYSFS_RESOURCE_MAX - 1) {
		n = read(fd, buf + len, SYSFS_RESOURCE_MAX - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			pvpci_hostdev_set_err(&sd->head, "%s: reading resource: %s", sd->name,
					      strerror(-r));
			free(buf);
			close(fd);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = 0;
	*ret = buf;
	return 0;
}

/* Line idx of resource: "start end flags", three hex numbers. */
static int resource_line(const char *text, unsigned idx, uint64_t *start, uint64_t *end,
			 uint64_t *flags)
{
	const char *p = text;
	unsigned i;

	for (i = 0; i < idx; i++) {
		p = strchr(p, '\n');
		if (!p)
			return -ENOENT;
		p++;
	}
	if (sscanf(p, "%" SCNx64 " %" SCNx64 " %" SCNx64, start, end, flags) != 3)
		return -EBADMSG;
	return 0;
}

static int sysfs_bar_info(struct pvpci_hostdev *d, unsigned bar, struct pvpci_bar *ret)
{
	struct sysfs_dev *sd = to_dev(d);
	uint64_t start, end, flags, ps, pe, pf;
	struct pvpci_bar b = { 0 };
	char *text = NULL;
	int r;

	r = read_resource(sd, &text);
	if (r < 0)
		return r;
	r = resource_line(text, bar, &start, &end, &flags);
	if (r < 0) {
		pvpci_hostdev_set_err(d, "%s: resource has no well-formed line %u", sd->name, bar);
		goto out;
	}
	/* Linux prints the upper half of a 64-bit BAR as an empty line; only
	 * the line before it says the pair is 64-bit. */
	if (bar > 0 && bar < PVPCI_NUM_BARS && resource_line(text, bar - 1, &ps, &pe, &pf) == 0 &&
	    (pf & IORES_MEM) && (pf & IORES_MEM_64) && !(ps == 0 && pe == 0)) {
		b.flags = PVPCI_BAR_MEM64_HI;
		goto done;
	}
	if (flags == 0 || (start == 0 && end == 0) || end < start) {
		b.flags = PVPCI_BAR_UNUSED;
	} else {
		b.addr = start;
		b.size = end - start + 1;
		if (flags & IORES_IO)
			b.flags |= PVPCI_BAR_IO;
		if ((flags & IORES_MEM) && (flags & IORES_MEM_64))
			b.flags |= PVPCI_BAR_MEM64;
		if (flags & IORES_PREFETCH)
			b.flags |= PVPCI_BAR_PREFETCH;
	}
	if (bar == PVPCI_ROM_BAR) {
		/* The ROM BAR is 32-bit whatever the resource says. */
		b.flags &= ~(unsigned)(PVPCI_BAR_MEM64 | PVPCI_BAR_IO);
		b.flags |= PVPCI_BAR_ROM;
	}
done:
	*ret = b;
out:
	free(text);
	return r;
}

const struct pvpci_hostdev_ops pvpci_hostdev_sysfs_ops = {
	.name = "sysfs",
	.help = "sysfs[:ROOT][,writes=1]  this machine's functions under ROOT/bus/pci/devices "
		"(ROOT /sys by default); read-only unless writes=1, and even then only "
		"to endpoints bound to no driver or to pci-stub, vfio-pci or xen-pciback",
	.host_open = sysfs_host_open,
	.host_list = sysfs_host_list,
	.host_close = sysfs_host_close,
	.host_intx = sysfs_host_intx,
	.open = sysfs_open,
	.read = sysfs_read,
	.write = sysfs_write,
	.reset = sysfs_reset,
	.bar_info = sysfs_bar_info,
	.set_decode = sysfs_set_decode,
	.close = sysfs_close,
};
