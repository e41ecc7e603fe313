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

/*
 * The one way the library logs: "BDF: message" (about may be NULL) to the
 * caller's callback at a syslog level; nothing when log is NULL.
 */
typedef void (*pvpci_logcb)(void *ctx, int level, const char *msg);
void pvpci_vlogf(pvpci_logcb log, void *ctx, int level, const struct pvpci_bdf *about,
		 const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
void pvpci_logf(pvpci_logcb log, void *ctx, int level, const struct pvpci_bdf *about,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
