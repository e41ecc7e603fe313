/*
 * Saved states on disk: one file per function, DIR/<dddd:bb:dd.f>.state,
 * in the text form of saverestore.h.  Owns the directory, replacing a
 * file atomically (a temporary file in the same directory, fsync, rename,
 * fsync of the directory), so a crash at any point leaves the old state or
 * the new one, never a mix; and setting aside a corrupt file (renamed to
 * <name>.corrupt, kept for a human) so that it is never trusted and the
 * next save starts clean.  Knows nothing of what the registers mean.
 */
#ifndef PVPCI_STATEFILE_H
#define PVPCI_STATEFILE_H

#include <stddef.h>

#include "pvpci/api.h"
#include "pvpci/bdf.h"
#include "pvpci/saverestore.h"

#define PVPCI_STATE_DIR_DEFAULT	"/var/lib/pvpci"
#define PVPCI_STATE_DIR_ENV	"PVPCI_STATE_DIR"
#define PVPCI_STATEFILE_MAX	65536	/* bigger is corrupt: a state is ~1 KiB */

/* dir if not NULL, else $PVPCI_STATE_DIR if set and not empty, else the default. */
PVPCI_API const char *pvpci_statefile_dir(const char *dir);

/* DIR/<bdf>.state into buf; -ENAMETOOLONG when it does not fit. */
PVPCI_API int pvpci_statefile_path(const char *dir, const struct pvpci_bdf *bdf, char *buf,
				   size_t len);

/*
 * Write st as st->bdf's file, replacing any older one atomically.  The
 * directory is created (mode 0700) when missing; its parent must exist.
 * Returns 0 or a negative errno with errbuf saying what failed.
 */
PVPCI_API int pvpci_statefile_save(const char *dir, const struct pvpci_sr_state *st, char *errbuf,
				   size_t errlen);

/*
 * Read bdf's file into *ret.  -ENOENT when there is none; -EBADMSG when it
 * is corrupt (unparsable, bad checksum, over the size limit, or the state
 * of another address than its name says): it is then renamed to
 * <name>.corrupt and errbuf says so; -EPROTONOSUPPORT for a version this
 * pvpci does not read (left in place for the pvpci that wrote it).  *ret
 * is untouched on failure.
 */
PVPCI_API int pvpci_statefile_load(const char *dir, const struct pvpci_bdf *bdf,
				   struct pvpci_sr_state *ret, char *errbuf, size_t errlen);

/* Remove bdf's file; 0 when there was none. */
PVPCI_API int pvpci_statefile_remove(const char *dir, const struct pvpci_bdf *bdf, char *errbuf,
				     size_t errlen);

/*
 * The functions that have a file in dir (names <bdf>.state; anything else
 * is not looked at), sorted, at most max of them into ret; *ret_n is how
 * many there are.  A missing directory has none.  0 or a negative errno.
 */
PVPCI_API int pvpci_statefile_list(const char *dir, struct pvpci_bdf *ret, size_t max,
				   size_t *ret_n, char *errbuf, size_t errlen);

/*
 * Remove the temporary files of saves that died before their rename
 * (<bdf>.state.tmp.<pid> of a pid that no longer runs): a kill in the
 * middle of a save leaves one, torn or whole, which no load ever reads.
 * Those of a live process are another saver's, left alone.  Returns how
 * many were removed, or a negative errno.
 */
PVPCI_API int pvpci_statefile_sweep(const char *dir, char *errbuf, size_t errlen);

#endif
