/*
 * The file moves the state directory's files share (statefile.c owns
 * them): a file replaced whole by a rename, and a file read whole up to
 * a limit.  Private to the library.
 */
#ifndef PVPCI_FILEIO_H
#define PVPCI_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

/*
 * path replaced by text[0..n): written to path.tmp.<pid> (a leftover of
 * a killed process of the same pid is taken over), synced when durable,
 * renamed over path.  0, or a negative errno with errbuf saying which
 * step failed (the temporary file removed).
 */
int pvpci_file_replace(const char *path, const char *text, size_t n, bool durable, char *errbuf,
		       size_t errlen);
/* Up to max + 1 bytes of fd into *ret (malloc'd; the caller frees it):
 * *ret_len > max says the file is over the limit.  0 or a negative errno. */
int pvpci_file_read(int fd, size_t max, char **ret, size_t *ret_len);

#endif
