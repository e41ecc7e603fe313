/* See errmsg.h. */
#include <stdarg.h>
#include <stdio.h>

#include "errmsg.h"
#include "pvpci/ratelimit.h"

int pvpci_errf(char *errbuf, size_t errlen, int err, const char *fmt, ...)
{
	va_list ap;

	if (errbuf && errlen) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return err;
}

int pvpci_verrf_line(char *errbuf, size_t errlen, int err, unsigned line, const char *fmt,
		     va_list ap)
{
	int n;

	if (!errbuf || !errlen)
		return err;
	n = snprintf(errbuf, errlen, "line %u: ", line);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(errbuf + n, errlen - (size_t)n, fmt, ap);
	return err;
}

void pvpci_vlogf(pvpci_logcb log, void *ctx, int level, const struct pvpci_bdf *about,
		 const char *fmt, va_list ap)
{
	char msg[512], bdf[PVPCI_BDF_STRLEN];
	int n = 0;

	if (!log)
		return;
	if (about)
		n = snprintf(msg, sizeof(msg), "%s: ", pvpci_bdf_format(about, bdf));
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	log(ctx, level, msg);
}

void pvpci_logf(pvpci_logcb log, void *ctx, int level, const struct pvpci_bdf *about,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pvpci_vlogf(log, ctx, level, about, fmt, ap);
	va_end(ap);
}

void pvpci_vlogf_limited(pvpci_logcb log, void *ctx, struct pvpci_ratelimit *rl, int level,
			 const struct pvpci_bdf *about, const char *fmt, va_list ap)
{
	unsigned long missed = 0;

	if (!log || (rl && !pvpci_ratelimit_pass(rl, &missed)))
		return;
	if (missed)
		pvpci_logf(log, ctx, 4 /* LOG_WARNING */, NULL, "%s: %lu messages suppressed", rl->who,
			   missed);
	pvpci_vlogf(log, ctx, level, about, fmt, ap);
}

void pvpci_logf_limited(pvpci_logcb log, void *ctx, struct pvpci_ratelimit *rl, int level,
			const struct pvpci_bdf *about, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pvpci_vlogf_limited(log, ctx, rl, level, about, fmt, ap);
	va_end(ap);
}
