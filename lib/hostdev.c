/*
 * The generic half of host devices: choosing a backend from a spec,
 * validating every access before a backend sees it, and error texts.
 * The backends themselves live in hostdev_<name>.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvpci/hostdev.h"

extern const struct pvpci_hostdev_ops pvpci_hostdev_sim_ops;
extern const struct pvpci_hostdev_ops pvpci_hostdev_sysfs_ops;
extern const struct pvpci_hostdev_ops pvpci_hostdev_shadow_ops;





const struct pvpci_hostdev_ops *const pvpci_hostdev_backends[] = {
	&pvpci_hostdev_sim_ops,
	&pvpci_hostdev_sysfs_ops,
	&pvpci_hostdev_shadow_ops,
	NULL,
};

int pvpci_host_open(const char *spec, struct pvpci_host **ret, char *errbuf, size_t errlen)
{
	const struct pvpci_hostdev_ops *const *b;
	const char *colon;
	size_t namelen;
	struct pvpci_host *h = NULL;
	int r;

	if (!spec || !*spec) {
		if (errbuf)
			snprintf(errbuf, errlen, "empty host spec");
		return -EINVAL;
	}
	colon = strchr(spec, ':');
	namelen = colon ? (size_t)(colon - spec) : strlen(spec);
	for (b = pvpci_hostdev_backends; *b; b++) {
		if (strlen((*b)->name) != namelen || strncmp((*b)->name, spec, namelen))
			continue;
		char why[PVPCI_ERRMSG_LEN] = "";

		r = (*b)->host_open(colon ? colon + 1 : NULL, &h, why, sizeof(why));
		if (r < 0) {
			if (errbuf)
				snprintf(errbuf, errlen, "%s: %s", spec, why[0] ? why : strerror(-r));
			return r;
		}
		h->ops = *b;
		*ret = h;
		return 0;
	}
	if (errbuf)
		snprintf(errbuf, errlen, "unknown host backend in '%s' (sim:PATH, sysfs[:ROOT], shadow:SPEC)",
			 spec);
	return -EINVAL;
}

void pvpci_host_close(struct pvpci_host *h)
{
	if (h)
		h->ops->host_close(h);
}

int pvpci_host_list(struct pvpci_host *h, struct pvpci_bdf *ret, size_t max, size_t *ret_n)
{
	return h->ops->host_list(h, ret, max, ret_n);
}

const char *pvpci_host_errmsg(const struct pvpci_host *h)
{
	return h->errmsg;
}

int pvpci_hostdev_open(struct pvpci_host *h, const struct pvpci_bdf *bdf, struct pvpci_hostdev **ret)
{
	struct pvpci_hostdev *d = NULL;
	int r;

	h->errmsg[0] = 0;
	r = h->ops->open(h, bdf, &d);
	if (r < 0)
		return r;
	d->ops = h->ops;
	d->host = h;
	d->bdf = *bdf;
	*ret = d;
	return 0;
}

void pvpci_hostdev_close(struct pvpci_hostdev *d)
{
	if (d)
		d->ops->close(d);
}

int pvpci_hostdev_read(struct pvpci_hostdev *d, unsigned off, unsigned size, uint32_t *ret_val)
{
	if (!pvpci_access_ok(off, size, d->cfg_size)) {
		pvpci_hostdev_set_err(d, "bad config read at 0x%x size %u", off, size);
		return -EINVAL;
	}
	d->n_reads++;
	return d->ops->read(d, off, size, ret_val);
}

int pvpci_hostdev_write(struct pvpci_hostdev *d, unsigned off, unsigned size, uint32_t val)
{
	if (!pvpci_access_ok(off, size, d->cfg_size)) {
		pvpci_hostdev_set_err(d, "bad config write at 0x%x size %u", off, size);
		return -EINVAL;
	}
	d->n_writes++;
	return d->ops->write(d, off, size, val);
}

int pvpci_hostdev_reset(struct pvpci_hostdev *d)
{
	if (!d->ops->reset) {
		pvpci_hostdev_set_err(d, "%s devices offer no reset", d->ops->name);
		return -EOPNOTSUPP;
	}
	return d->ops->reset(d);
}

int pvpci_hostdev_bar_info(struct pvpci_hostdev *d, unsigned bar, struct pvpci_bar *ret)
{
	if (bar > PVPCI_ROM_BAR)
		return -EINVAL;
	return d->ops->bar_info(d, bar, ret);
}

int pvpci_hostdev_set_decode(struct pvpci_hostdev *d, bool on)
{
	uint32_t cmd, want = 0;
	struct pvpci_bar b;
	unsigned i;
	int r;

	if (d->ops->set_decode)
		return d->ops->set_decode(d, on);
	/* Decode what the device has, as pci_enable_device does. */
	for (i = 0; i < PVPCI_NUM_BARS; i++) {
		if (pvpci_hostdev_bar_info(d, i, &b) < 0 || (b.flags & PVPCI_BAR_UNUSED))
			continue;
		want |= (b.flags & PVPCI_BAR_IO) ? 0x1 : 0x2;
	}
	r = pvpci_hostdev_read(d, 0x04, 2, &cmd);
	if (r < 0)
		return r;
	if (on)
		cmd |= want;
	else
		cmd &= ~0x3u;
	return pvpci_hostdev_write(d, 0x04, 2, cmd);
}

int pvpci_hostdev_read_all(struct pvpci_hostdev *d, uint8_t *buf)
{
	unsigned off;
	uint32_t v;
	int r;

	for (off = 0; off < d->cfg_size; off += 4) {
		r = pvpci_hostdev_read(d, off, 4, &v);
		if (r < 0)
			return r;
		buf[off] = (uint8_t)v;
		buf[off + 1] = (uint8_t)(v >> 8);
		buf[off + 2] = (uint8_t)(v >> 16);
		buf[off + 3] = (uint8_t)(v >> 24);
	}
	return 0;
}

const char *pvpci_hostdev_errmsg(const struct pvpci_hostdev *d)
{
	return d->errmsg;
}

void pvpci_host_set_err(struct pvpci_host *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->errmsg, sizeof(h->errmsg), fmt, ap);
	va_end(ap);
}

void pvpci_hostdev_set_err(struct pvpci_hostdev *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->errmsg, sizeof(d->errmsg), fmt, ap);
	va_end(ap);
}
