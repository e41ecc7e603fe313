/*
 * Saying why: the library never prints, it writes a message into the
 * caller's buffer and returns the error.  Private to lib/.
 */
#ifndef PVPCI_ERRMSG_H
#define PVPCI_ERRMSG_H

#include <stddef.h>

/* vsnprintf into errbuf (when given), then return err. */
int pvpci_errf(char *errbuf, size_t errlen, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
