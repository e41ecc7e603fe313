/*
 * A guest's view of one function, kept beside its saved state (see
 * guestview.h): the text and the file.  Knows nothing of what the
 * registers mean; the engine (pvpci_cs_virt_*) and pciif
 * (pvpci_pciif_intr_*) give and take the contents.
 *
 *   pvpci-guest 1
 *   bdf 0000:03:00.0
 *   reg 0x004 0x0146          an emulated register's virtual bits
 *   sizing 0x01               BARs reading their size (bit 6: the ROM)
 *   rom 0                     the ROM's enable bit, as the guest wrote it
 *   intr msix 3 32 33 34      or "intr msi 1 40", or "intr none"
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"
#include "fileio.h"
#include "guestview.h"
#include "pvpci/statefile.h"

#define MAGIC	"pvpci-guest 1"

int pvpci_guestview_format(const struct pvpci_guestview *v, char *buf, size_t len)
{
	char bdf[PVPCI_BDF_STRLEN];
	size_t n = 0;
	int k;

#define PUT(...)                                                   \
	do {                                                       \
		k = snprintf(buf + n, len > n ? len - n : 0, __VA_ARGS__); \
		if (k < 0 || (size_t)k >= (len > n ? len - n : 0)) \
			return -ENOSPC;                            \
		n += (size_t)k;                                    \
	} while (0)
	PUT("%s\nbdf %s\n", MAGIC, pvpci_bdf_format(&v->bdf, bdf));
	for (size_t i = 0; i < v->virt.n && i < PVPCI_CS_VIRT_MAX; i++)
		PUT("reg 0x%03x 0x%" PRIx32 "\n", v->virt.regs[i].off, v->virt.regs[i].val);
	PUT("sizing 0x%02x\nrom %d\n", v->virt.sizing, v->virt.rom_enable);
	if (!v->intr.msi && !v->intr.msix) {
		PUT("intr none\n");
	} else {
		PUT("intr %s %u", v->intr.msix ? "msix" : "msi", v->intr.n);
		for (unsigned i = 0; i < v->intr.n && i < PVPCI_SH_INFO_MAX_VEC; i++)
			PUT(" %" PRIu32, v->intr.irqs[i]);
		PUT("\n");
	}
#undef PUT
	return (int)n;
}

/* One unsigned number of at most max, and where it ended. */
static bool num(const char **p, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	while (**p == ' ')
		(*p)++;
	if (**p < '0' || **p > '9')
		return false;
	errno = 0;
	v = strtoul(*p, &end, 0);
	if (errno || v > max)
		return false;
	*p = end;
	*ret = v;
	return true;
}

static int parse_line(const char *l, struct pvpci_guestview *v, unsigned *seen)
{
	unsigned long a, b;
	const char *p;

	if (!strncmp(l, "bdf ", 4)) {
		*seen |= 1;
		return pvpci_bdf_parse(l + 4, &v->bdf) < 0 ? -1 : 0;
	}
	if (!strncmp(l, "reg ", 4)) {
		p = l + 4;
		if (v->virt.n >= PVPCI_CS_VIRT_MAX || !num(&p, 0xfff, &a) || !num(&p, 0xffffffffu, &b) || *p)
			return -1;
		v->virt.regs[v->virt.n++] = (struct pvpci_cs_virt_reg){ (uint16_t)a, (uint32_t)b };
		return 0;
	}
	if (!strncmp(l, "sizing ", 7)) {
		p = l + 7;
		*seen |= 2;
		if (!num(&p, 0x7f, &a) || *p)
			return -1;
		v->virt.sizing = (uint8_t)a;
		return 0;
	}
	if (!strncmp(l, "rom ", 4)) {
		p = l + 4;
		*seen |= 4;
		if (!num(&p, 1, &a) || *p)
			return -1;
		v->virt.rom_enable = a;
		return 0;
	}
	if (!strcmp(l, "intr none")) {
		*seen |= 8;
		return 0;
	}
	if (!strncmp(l, "intr msi ", 9) || !strncmp(l, "intr msix ", 10)) {
		v->intr.msix = l[8] == 'x';
		v->intr.msi = !v->intr.msix;
		p = l + (v->intr.msix ? 10 : 9);
		*seen |= 8;
		if (!num(&p, PVPCI_SH_INFO_MAX_VEC, &a) || !a)
			return -1;
		v->intr.n = (unsigned)a;
		for (unsigned i = 0; i < v->intr.n; i++) {
			if (!num(&p, 0xffffffffu, &b))
				return -1;
			v->intr.irqs[i] = (uint32_t)b;
		}
		return *p ? -1 : 0;
	}
	return -1;
}

int pvpci_guestview_parse(const char *text, struct pvpci_guestview *ret, char *errbuf, size_t errlen)
{
	struct pvpci_guestview *v = calloc(1, sizeof(*v));
	const char *l = text;
	unsigned seen = 0, line = 1;

	if (!v)
		return -ENOMEM;
	if (strncmp(l, MAGIC "\n", sizeof(MAGIC))) {
		free(v);
		return pvpci_errf(errbuf, errlen, -EBADMSG, "not a guest view (line 1)");
	}
	for (l += sizeof(MAGIC); *l; line++) {
		const char *nl = strchr(l, '\n');
		char one[2048];
		size_t n = nl ? (size_t)(nl - l) : strlen(l);

		if (!nl || n >= sizeof(one) || (memcpy(one, l, n), one[n] = '\0', parse_line(one, v, &seen))) {
			free(v);
			return pvpci_errf(errbuf, errlen, -EBADMSG, "line %u is not one of a guest view", line + 1);
		}
		l = nl + 1;
	}
	if (seen != 15) {
		free(v);
		return pvpci_errf(errbuf, errlen, -EBADMSG, "a guest view cut short");
	}
	*ret = *v;
	free(v);
	return 0;
}

static int view_path(const char *dir, const struct pvpci_bdf *bdf, char *buf, size_t len)
{
	char name[PVPCI_BDF_STRLEN];
	int n = snprintf(buf, len, "%s/%s.guest", pvpci_statefile_dir(dir), pvpci_bdf_format(bdf, name));

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int pvpci_guestview_save(const char *dir, const struct pvpci_guestview *v, char *errbuf, size_t errlen)
{
	char path[PATH_MAX], *text = malloc(PVPCI_GUESTVIEW_MAX);
	int n, r;

	if (!text)
		return pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
	n = pvpci_guestview_format(v, text, PVPCI_GUESTVIEW_MAX);
	r = n < 0 ? pvpci_errf(errbuf, errlen, n, "a guest view too long to keep")
		  : view_path(dir, &v->bdf, path, sizeof(path));
	if (r == -ENAMETOOLONG)
		pvpci_errf(errbuf, errlen, r, "state directory path '%s' is too long", dir);
	/* Not synced: a host that goes down takes the guest with it. */
	if (r >= 0)
		r = pvpci_file_replace(path, text, (size_t)n, false, errbuf, errlen);
	free(text);
	return r;
}

int pvpci_guestview_load(const char *dir, const struct pvpci_bdf *bdf, struct pvpci_guestview *ret,
			 char *errbuf, size_t errlen)
{
	struct pvpci_guestview *v;
	char path[PATH_MAX], *buf = NULL, b1[PVPCI_BDF_STRLEN];
	size_t len = 0;
	int fd, r = view_path(dir, bdf, path, sizeof(path));

	if (r < 0)
		return pvpci_errf(errbuf, errlen, r, "state directory path '%s' is too long", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return pvpci_errf(errbuf, errlen, -errno, "%s: %s", path, strerror(errno));
	r = pvpci_file_read(fd, PVPCI_GUESTVIEW_MAX, &buf, &len);
	close(fd);
	if (r < 0)
		return pvpci_errf(errbuf, errlen, r, "cannot read %s: %s", path, strerror(-r));
	if (len > PVPCI_GUESTVIEW_MAX || memchr(buf, '\0', len)) {
		free(buf);
		return pvpci_errf(errbuf, errlen, -EBADMSG, "%s is not a guest view", path);
	}
	buf[len] = '\0';
	v = malloc(sizeof(*v));
	r = v ? pvpci_guestview_parse(buf, v, errbuf, errlen) : -ENOMEM;
	free(buf);
	if (r == 0 && pvpci_bdf_cmp(&v->bdf, bdf))
		r = pvpci_errf(errbuf, errlen, -EBADMSG, "%s holds the view of %s", path,
			       pvpci_bdf_format(&v->bdf, b1));
	if (r == 0)
		*ret = *v;
	free(v);
	return r;
}

int pvpci_guestview_remove(const char *dir, const struct pvpci_bdf *bdf)
{
	char path[PATH_MAX];
	int r = view_path(dir, bdf, path, sizeof(path));

	if (r < 0)
		return r;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}
