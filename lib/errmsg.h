/*
 * Saying why: the library never prints, it writes a message into the
 * caller's buffer and returns the error.  Private to lib/.
 */
#ifndef PVPCI_ERRMSG_H
#define PVPCI_ERRMSG_H

#include <stdarg.h>
#include <stddef.h>

#include "pvpci/bdf.h"

/* vsnprintf into errbuf (when given), then return err. */
int pvpci_errf(char *errbuf, size_t errlen, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The same with "line N: " in front: what the text parsers say. */
int pvpci_verrf_line(char *errbuf, size_t errlen, int err, unsigned line, const char *fmt,
		     va_list ap) __attribute__((format(printf, 5, 0)));

/*
 * The one way the library logs: "BDF: message" (about may be NULL) to the
 * caller's callback at a syslog level; nothing when log is NULL.
 */
typedef void (*pvpci_logcb)(void *ctx, int level, const char *msg);
void pvpci_vlogf(pvpci_logcb log, void *ctx, int level, const struct pvpci_bdf *about,
		 const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
void pvpci_logf(pvpci_logcb log, void *ctx, int level, const struct pvpci_bdf *about,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * The same through rl (pvpci/ratelimit.h; NULL: no limit): a message over
 * the source's limit is dropped, and the first one let through after some
 * were says "WHO: N messages suppressed" first.  For everything a guest or
 * a client can make the library say as often as it likes.
 */
struct pvpci_ratelimit;
void pvpci_vlogf_limited(pvpci_logcb log, void *ctx, struct pvpci_ratelimit *rl, int level,
			 const struct pvpci_bdf *about, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));
void pvpci_logf_limited(pvpci_logcb log, void *ctx, struct pvpci_ratelimit *rl, int level,
			const struct pvpci_bdf *about, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

#endif
