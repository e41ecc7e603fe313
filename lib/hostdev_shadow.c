/*
 * The shadow host backend: "shadow:SPEC" wraps any other host so that a
 * device can be driven as if writable while nothing reaches it.  Owns the
 * per-device overlay (the bytes written so far, and which ones) and the
 * ownership of the inner host and devices.  It does not model a device:
 * a written byte reads back as written, RO bits and BAR sizing included;
 * making that guest-correct is confspace's job, above.
 *
 * Ownership: a shadow host owns the inner host it opened and closes it in
 * host_close; a shadow device owns its inner device and closes it in close.
 * As for every host, its devices must be closed before the host is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvpci/hostdev.h"

struct shadow_host {
	struct pvpci_host head;		/* first: the wrapper casts */
	struct pvpci_host *inner;	/* owned */
};

struct shadow_dev {
	struct pvpci_hostdev head;	/* first: the wrapper casts */
	struct pvpci_hostdev *inner;	/* owned */
	unsigned n_overlaid;		/* bytes set in mask, so reads skip it while 0 */
	uint8_t val[PVPCI_CFG_EXP_SIZE];
	uint8_t mask[PVPCI_CFG_EXP_SIZE];	/* 1: val holds the byte */
};

static struct shadow_host *to_host(struct pvpci_host *h)
{
	return (struct shadow_host *)h;
}

static struct shadow_dev *to_dev(struct pvpci_hostdev *d)
{
	return (struct shadow_dev *)d;
}

static int shadow_host_open(const char *arg, struct pvpci_host **ret, char *errbuf, size_t errlen)
{
	struct shadow_host *sh;
	int r;

	if (!arg || !*arg) {
		snprintf(errbuf, errlen, "shadow needs a host to wrap (shadow:sysfs, shadow:sim:PATH)");
		return -EINVAL;
	}
	sh = calloc(1, sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	/* The inner spec's own message already names it and says why. */
	r = pvpci_host_open(arg, &sh->inner, errbuf, errlen);
	if (r < 0) {
		free(sh);
		return r;
	}
	*ret = &sh->head;
	return 0;
}

static void shadow_host_close(struct pvpci_host *h)
{
	struct shadow_host *sh = to_host(h);

	pvpci_host_close(sh->inner);
	free(sh);
}

static int shadow_host_intx(struct pvpci_host *h, const struct pvpci_bdf *bdf, struct pvpci_intx *ret)
{
	struct shadow_host *sh = to_host(h);
	int r = pvpci_host_intx(sh->inner, bdf, ret);

	if (r < 0)
		pvpci_host_set_err(h, "%s", pvpci_host_errmsg(sh->inner));
	return r;
}

static int shadow_host_list(struct pvpci_host *h, struct pvpci_bdf *ret, size_t max, size_t *ret_n)
{
	struct shadow_host *sh = to_host(h);
	int r;

	r = pvpci_host_list(sh->inner, ret, max, ret_n);
	if (r < 0)
		pvpci_host_set_err(h, "%s", pvpci_host_errmsg(sh->inner));
	return r;
}

static int shadow_open(struct pvpci_host *h, const struct pvpci_bdf *bdf, struct pvpci_hostdev **ret)
{
	struct shadow_host *sh = to_host(h);
	struct shadow_dev *sd;
	int r;

	sd = calloc(1, sizeof(*sd));
	if (!sd)
		return -ENOMEM;
	r = pvpci_hostdev_open(sh->inner, bdf, &sd->inner);
	if (r < 0) {
		pvpci_host_set_err(h, "%s", pvpci_host_errmsg(sh->inner));
		free(sd);
		return r;
	}
	sd->head.cfg_size = sd->inner->cfg_size;
	memcpy(sd->head.desc, sd->inner->desc, sizeof(sd->head.desc));
	*ret = &sd->head;
	return 0;
}

static void shadow_close(struct pvpci_hostdev *d)
{
	struct shadow_dev *sd = to_dev(d);

	pvpci_hostdev_close(sd->inner);
	free(sd);
}

static int shadow_read(struct pvpci_hostdev *d, unsigned off, unsigned size, uint32_t *ret_val)
{
	struct shadow_dev *sd = to_dev(d);
	unsigned i, mine = 0;
	uint32_t v = 0;
	int r;

	for (i = 0; i < size; i++)
		mine += sd->mask[off + i];
	/* Only go to the device for bytes the overlay does not hold: a fully
	 * written register costs no host access (sysfs reads are ~20 us). */
	if (mine < size) {
		r = pvpci_hostdev_read(sd->inner, off, size, &v);
		if (r < 0) {
			pvpci_hostdev_set_err(d, "%s", pvpci_hostdev_errmsg(sd->inner));
			return r;
		}
	}
	if (sd->n_overlaid) {
		for (i = 0; i < size; i++) {
			if (!sd->mask[off + i])
				continue;
			v &= ~(0xffu << (8 * i));
			v |= (uint32_t)sd->val[off + i] << (8 * i);
		}
	}
	*ret_val = v;
	return 0;
}

static int shadow_write(struct pvpci_hostdev *d, unsigned off, unsigned size, uint32_t val)
{
	struct shadow_dev *sd = to_dev(d);
	unsigned i;

	for (i = 0; i < size; i++) {
		sd->n_overlaid += !sd->mask[off + i];
		sd->mask[off + i] = 1;
		sd->val[off + i] = (uint8_t)(val >> (8 * i));
	}
	return 0;
}

/* A reset returns the shadow to what the device says; the device itself is
 * not reset, since nothing was ever written to it. */
static int shadow_reset(struct pvpci_hostdev *d)
{
	struct shadow_dev *sd = to_dev(d);

	memset(sd->mask, 0, sizeof(sd->mask));
	sd->n_overlaid = 0;
	return 0;
}

static int shadow_bar_info(struct pvpci_hostdev *d, unsigned bar, struct pvpci_bar *ret)
{
	struct shadow_dev *sd = to_dev(d);
	int r;

	r = pvpci_hostdev_bar_info(sd->inner, bar, ret);
	if (r < 0)
		pvpci_hostdev_set_err(d, "%s", pvpci_hostdev_errmsg(sd->inner));
	return r;
}

const struct pvpci_hostdev_ops pvpci_hostdev_shadow_ops = {
	.name = "shadow",
	.help = "shadow:SPEC  the host SPEC names, with writes kept in memory: "
		"they read back but never reach a device",
	.host_open = shadow_host_open,
	.host_list = shadow_host_list,
	.host_close = shadow_host_close,
	.host_intx = shadow_host_intx,
	.open = shadow_open,
	.read = shadow_read,
	.write = shadow_write,
	.reset = shadow_reset,
	.bar_info = shadow_bar_info,
	/* NULL: the generic path read-modify-writes Command, i.e. the overlay. */
	.set_decode = NULL,
	.close = shadow_close,
};
