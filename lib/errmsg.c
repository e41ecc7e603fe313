/* See errmsg.h. */
#include <stdarg.h>
#include <stdio.h>

#include "errmsg.h"

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
