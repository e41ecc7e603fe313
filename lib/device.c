/*
 * The life of an exported function (see device.h): which of save, reset
 * and restore happens at which moment, and the engine rebuilt so that
 * every guest starts from a clean virtual state.  The register set and
 * its order are saverestore.c's; the files are statefile.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvpci/device.h"
#include "pvpci/statefile.h"
#include "errmsg.h"

struct pvpci_device {
	struct pvpci_hostdev *hd;
	struct pvpci_cs *cs;
	struct pvpci_device_opts o;
	struct pvpci_sr_state saved;
};

static struct pvpci_sr_opts sr_opts(const struct pvpci_device *d, enum pvpci_sr_reset reset)
{
	return (struct pvpci_sr_opts){
		.reset = reset,
		.log = d->o.cs.log, .log_ctx = d->o.cs.log_ctx,
		.delay = d->o.cs.delay, .delay_ctx = d->o.cs.delay_ctx,
	};
}

/* A fresh engine over the device as it is now, with the quirks. */
static int build_cs(struct pvpci_device *d, char *errbuf, size_t errlen)
{
	struct pvpci_cs *cs = NULL;
	int r;

	r = pvpci_cs_new(d->hd, &d->o.cs, &cs, errbuf, errlen);
	if (r < 0)
		return r;
	if (d->o.quirks) {
		r = pvpci_quirks_apply(d->o.quirks, cs, errbuf, errlen);
		if (r < 0) {
			pvpci_cs_free(cs);
			return r;
		}
	}
	pvpci_cs_free(d->cs);
	d->cs = cs;
	return 0;
}

int pvpci_device_bind(struct pvpci_host *h, const struct pvpci_bdf *bdf,
		      const struct pvpci_device_opts *o, struct pvpci_device **ret, bool *ret_restored,
		      char *errbuf, size_t errlen)
{
	const char *dir = pvpci_statefile_dir(o ? o->state_dir : NULL);
	struct pvpci_device *d;
	struct pvpci_sr_opts so;
	bool restored = false, saved = false;
	char bdfs[PVPCI_BDF_STRLEN];
	int r;

	pvpci_bdf_format(bdf, bdfs);
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (o)
		d->o = *o;
	d->o.state_dir = dir;
	r = pvpci_hostdev_open(h, bdf, &d->hd);
	if (r < 0) {
		snprintf(errbuf, errlen, "%s: %s", bdfs,
			 pvpci_host_errmsg(h)[0] ? pvpci_host_errmsg(h) : strerror(-r));
		free(d);
		return r;
	}
	r = pvpci_statefile_load(dir, bdf, &d->saved, errbuf, errlen);
	if (r == 0) {
		/* An earlier run saved this device and did not give it back:
		 * whatever a guest left in it goes, the saved state comes back. */
		so = sr_opts(d, PVPCI_SR_RESET_NONE);
		r = pvpci_sr_restore(d->hd, &d->saved, &so, errbuf, errlen);
		if (r < 0)
			goto fail;
		restored = true;
	} else if (r == -ENOENT || r == -EBADMSG) {
		/* Nothing saved, or a corrupt file (set aside): save afresh.
		 * A corrupt one is said: what a guest left in the device, if
		 * anything, is what is saved now. */
		if (r == -EBADMSG)
			pvpci_logf(d->o.cs.log, d->o.cs.log_ctx, PVPCI_LOG_WARNING, NULL, "%s; saving %s afresh",
				   errbuf ? errbuf : "its state file was corrupt (set aside)", bdfs);
		r = pvpci_sr_save(d->hd, &d->saved, errbuf, errlen);
		if (r >= 0)
			r = pvpci_statefile_save(dir, &d->saved, errbuf, errlen);
		if (r < 0)
			goto fail;
		saved = true;
	} else {
		goto fail;
	}
	r = build_cs(d, errbuf, errlen);
	if (r < 0) {
		/* Nothing was done to the device: what this bind saved goes,
		 * or the next would take it for an earlier run's. */
		if (saved)
			pvpci_statefile_remove(dir, bdf, NULL, 0);
		goto fail;
	}
	if (ret_restored)
		*ret_restored = restored;
	*ret = d;
	return 0;
fail:
	pvpci_hostdev_close(d->hd);
	free(d);
	return r;
}

int pvpci_device_adopt(struct pvpci_host *h, const struct pvpci_bdf *bdf,
		       const struct pvpci_device_opts *o, struct pvpci_device **ret, char *errbuf,
		       size_t errlen)
{
	struct pvpci_device *d = calloc(1, sizeof(*d));
	char bdfs[PVPCI_BDF_STRLEN];
	int r;

	if (!d)
		return -ENOMEM;
	if (o)
		d->o = *o;
	d->o.state_dir = pvpci_statefile_dir(o ? o->state_dir : NULL);
	r = pvpci_hostdev_open(h, bdf, &d->hd);
	if (r < 0) {
		snprintf(errbuf, errlen, "%s: %s", pvpci_bdf_format(bdf, bdfs),
			 pvpci_host_errmsg(h)[0] ? pvpci_host_errmsg(h) : strerror(-r));
		free(d);
		return r;
	}
	r = pvpci_statefile_load(d->o.state_dir, bdf, &d->saved, errbuf, errlen);
	if (r >= 0)
		r = build_cs(d, errbuf, errlen);
	if (r < 0) {
		pvpci_hostdev_close(d->hd);
		free(d);
		return r;
	}
	*ret = d;
	return 0;
}

int pvpci_device_guest_start(struct pvpci_device *d, char *errbuf, size_t errlen)
{
	struct pvpci_sr_opts so = sr_opts(d, PVPCI_SR_RESET_NONE);
	int r;

	r = pvpci_sr_restore(d->hd, &d->saved, &so, errbuf, errlen);
	return r < 0 ? r : build_cs(d, errbuf, errlen);
}

int pvpci_device_guest_stop(struct pvpci_device *d, char *errbuf, size_t errlen)
{
	/* pvpci_sr_restore brings the function to D0 before the reset and
	 * restores after it, the order seed 000 asks for. */
	struct pvpci_sr_opts so = sr_opts(d, d->o.reset);
	int r;

	r = pvpci_sr_restore(d->hd, &d->saved, &so, errbuf, errlen);
	return r < 0 ? r : build_cs(d, errbuf, errlen);
}

int pvpci_device_unbind(struct pvpci_device *d, char *errbuf, size_t errlen)
{
	struct pvpci_sr_opts so = sr_opts(d, PVPCI_SR_RESET_NONE);
	int r;

	r = pvpci_sr_restore(d->hd, &d->saved, &so, errbuf, errlen);
	/* Keep the file when the device could not be given back: the next
	 * bind will try again. */
	if (r >= 0)
		r = pvpci_statefile_remove(d->o.state_dir, &d->hd->bdf, errbuf, errlen);
	pvpci_device_abandon(d);
	return r;
}

void pvpci_device_abandon(struct pvpci_device *d)
{
	if (!d)
		return;
	pvpci_cs_free(d->cs);
	pvpci_hostdev_close(d->hd);
	free(d);
}

struct pvpci_cs *pvpci_device_cs(const struct pvpci_device *d)
{
	return d->cs;
}

struct pvpci_hostdev *pvpci_device_hostdev(const struct pvpci_device *d)
{
	return d->hd;
}

const struct pvpci_sr_state *pvpci_device_saved(const struct pvpci_device *d)
{
	return &d->saved;
}
