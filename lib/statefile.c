/*
 * Saved states on disk (see include/pvpci/statefile.h): paths, atomic
 * replacement, bounded reading, setting corrupt files aside, listing, and
 * sweeping the temporary files of saves that died.  The text itself is
 * saverestore.c's; this file only moves it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pvpci/statefile.h"
#include "errmsg.h"
#include "fileio.h"

const char *pvpci_statefile_dir(const char *dir)
{
	const char *env;

	if (dir && *dir)
		return dir;
	env = getenv(PVPCI_STATE_DIR_ENV);
	return env && *env ? env : PVPCI_STATE_DIR_DEFAULT;
}

int pvpci_statefile_path(const char *dir, const struct pvpci_bdf *bdf, char *buf, size_t len)
{
	char name[PVPCI_BDF_STRLEN];
	int n;

	n = snprintf(buf, len, "%s/%s.state", pvpci_statefile_dir(dir), pvpci_bdf_format(bdf, name));
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The rename is durable only once the directory entry is on disk. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int pvpci_file_replace(const char *path, const char *text, size_t n, bool durable, char *errbuf,
		       size_t errlen)
{
	char tmp[PATH_MAX + 32];
	int fd = -1, r;

	/* Same directory, so the rename cannot cross file systems; the pid
	 * keeps two savers apart, O_EXCL refuses a planted file or link. */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	for (int tries = 0; tries < 2 && fd < 0; tries++) {
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		/* Left over by a process of this pid that was killed: ours now. */
		if (fd < 0 && errno == EEXIST && tries == 0)
			unlink(tmp);
		else if (fd < 0)
			break;
	}
	if (fd < 0)
		return pvpci_errf(errbuf, errlen, -errno, "cannot create %s: %s", tmp, strerror(errno));
	r = write_all(fd, text, n);
	if (r >= 0 && durable && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r >= 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return pvpci_errf(errbuf, errlen, r, "cannot write %s: %s", tmp, strerror(-r));
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
		return pvpci_errf(errbuf, errlen, r, "cannot rename %s to %s: %s", tmp, path, strerror(-r));
	}
	return 0;
}

int pvpci_file_read(int fd, size_t max, char **ret, size_t *ret_len)
{
	/* One byte more than the limit tells a file over it from one at it. */
	char *buf = malloc(max + 1);
	size_t len = 0;

	if (!buf)
		return -ENOMEM;
	while (len <= max) {
		ssize_t n = read(fd, buf + len, max + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;

			free(buf);
			return e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

int pvpci_statefile_save(const char *dir, const struct pvpci_sr_state *st, char *errbuf,
			 size_t errlen)
{
	char text[PVPCI_SR_TEXT_MAX], path[PATH_MAX];
	int n, r;

	dir = pvpci_statefile_dir(dir);
	n = pvpci_sr_format(st, text, sizeof(text));
	if (n < 0 || (size_t)n >= sizeof(text))
		return pvpci_errf(errbuf, errlen, -EINVAL, "the state to save is not a valid one");
	r = pvpci_statefile_path(dir, &st->bdf, path, sizeof(path));
	if (r < 0)
		return pvpci_errf(errbuf, errlen, r, "state directory path '%s' is too long", dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return pvpci_errf(errbuf, errlen, -errno, "cannot create state directory %s: %s", dir,
			   strerror(errno));
	r = pvpci_file_replace(path, text, (size_t)n, true, errbuf, errlen);
	if (r < 0)
		return r;
	r = sync_dir(dir);
	if (r < 0)
		return pvpci_errf(errbuf, errlen, r, "cannot sync state directory %s: %s", dir, strerror(-r));
	return 0;
}

/* Rename path to path.corrupt and say so after why. */
static int set_aside(const char *path, const char *why, char *errbuf, size_t errlen)
{
	char aside[PATH_MAX + 16];

	snprintf(aside, sizeof(aside), "%s.corrupt", path);
	if (rename(path, aside) < 0)
		return pvpci_errf(errbuf, errlen, -EBADMSG, "%s is corrupt (%s) and could not be set aside: %s",
			   path, why, strerror(errno));
	return pvpci_errf(errbuf, errlen, -EBADMSG, "%s is corrupt (%s); set aside as %s, not used", path,
		   why, aside);
}

int pvpci_statefile_load(const char *dir, const struct pvpci_bdf *bdf, struct pvpci_sr_state *ret,
			 char *errbuf, size_t errlen)
{
	char path[PATH_MAX], why[256] = "", sbdf[PVPCI_BDF_STRLEN], fbdf[PVPCI_BDF_STRLEN];
	struct pvpci_sr_state st;
	size_t len = 0;
	char *buf;
	int fd, r;

	dir = pvpci_statefile_dir(dir);
	r = pvpci_statefile_path(dir, bdf, path, sizeof(path));
	if (r < 0)
		return pvpci_errf(errbuf, errlen, r, "state directory path '%s' is too long", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT)
			return pvpci_errf(errbuf, errlen, r, "no saved state for %s in %s (save it first)",
				   pvpci_bdf_format(bdf, sbdf), dir);
		return pvpci_errf(errbuf, errlen, r, "cannot open %s: %s", path, strerror(-r));
	}
	r = pvpci_file_read(fd, PVPCI_STATEFILE_MAX, &buf, &len);
	close(fd);
	if (r < 0)
		return pvpci_errf(errbuf, errlen, r, "cannot read %s: %s", path, strerror(-r));
	if (len > PVPCI_STATEFILE_MAX) {
		free(buf);
		return set_aside(path, "larger than any saved state", errbuf, errlen);
	}
	r = pvpci_sr_parse(buf, len, &st, why, sizeof(why));
	free(buf);
	if (r == -EPROTONOSUPPORT)
		return pvpci_errf(errbuf, errlen, r, "%s: %s", path, why);
	if (r < 0)
		return set_aside(path, why, errbuf, errlen);
	/* A file renamed or copied from another function's name. */
	if (pvpci_bdf_cmp(&st.bdf, bdf)) {
		snprintf(why, sizeof(why), "it holds the state of %s", pvpci_bdf_format(&st.bdf, fbdf));
		return set_aside(path, why, errbuf, errlen);
	}
	*ret = st;
	return 0;
}

int pvpci_statefile_remove(const char *dir, const struct pvpci_bdf *bdf, char *errbuf,
			   size_t errlen)
{
	char path[PATH_MAX];
	int r;

	dir = pvpci_statefile_dir(dir);
	r = pvpci_statefile_path(dir, bdf, path, sizeof(path));
	if (r < 0)
		return pvpci_errf(errbuf, errlen, r, "state directory path '%s' is too long", dir);
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		return pvpci_errf(errbuf, errlen, -errno, "cannot remove %s: %s", path, strerror(errno));
	}
	/* Best effort: the file is gone either way; a crash may bring it back,
	 * which costs a restore of a state that was right anyway. */
	sync_dir(dir);
	return 0;
}

#define SUFFIX ".state"
#define TMP_INFIX ".state.tmp."
#define GUEST_TMP_INFIX ".guest.tmp."	/* guestview.c's, through pvpci_file_replace */

int pvpci_statefile_list(const char *dir, struct pvpci_bdf *ret, size_t max, size_t *ret_n,
			 char *errbuf, size_t errlen)
{
	struct dirent **ents;
	size_t n = 0;
	int k;

	dir = pvpci_statefile_dir(dir);
	k = scandir(dir, &ents, NULL, alphasort);
	if (k < 0) {
		if (errno == ENOENT) {
			*ret_n = 0;
			return 0;
		}
		return pvpci_errf(errbuf, errlen, -errno, "cannot list %s: %s", dir, strerror(errno));
	}
	for (int i = 0; i < k; i++) {
		const char *name = ents[i]->d_name;
		size_t len = strlen(name);
		char bdfs[PVPCI_BDF_STRLEN];
		struct pvpci_bdf b;

		/* Exactly <dddd:bb:dd.f>.state, the name save gives. */
		if (len == PVPCI_BDF_STRLEN - 1 + strlen(SUFFIX) && !strcmp(name + len - strlen(SUFFIX), SUFFIX)) {
			memcpy(bdfs, name, PVPCI_BDF_STRLEN - 1);
			bdfs[PVPCI_BDF_STRLEN - 1] = 0;
			if (pvpci_bdf_parse(bdfs, &b) == 0) {
				if (n < max)
					ret[n] = b;
				n++;
			}
		}
		free(ents[i]);
	}
	free(ents);
	*ret_n = n;
	return 0;
}

int pvpci_statefile_sweep(const char *dir, char *errbuf, size_t errlen)
{
	struct dirent *de;
	int removed = 0, fd, r = 0;
	DIR *d;

	dir = pvpci_statefile_dir(dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || !(d = fdopendir(fd))) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		return pvpci_errf(errbuf, errlen, r, "cannot list %s: %s", dir, strerror(-r));
	}
	while ((de = readdir(d))) {
		const char *tmp = strstr(de->d_name, TMP_INFIX);
		char *end;
		long pid;

		if (!tmp)
			tmp = strstr(de->d_name, GUEST_TMP_INFIX);

		if (!tmp)
			continue;
		errno = 0;
		pid = strtol(tmp + strlen(TMP_INFIX), &end, 10);
		if (errno || *end || end == tmp + strlen(TMP_INFIX) || pid <= 0 || pid > INT_MAX)
			continue;	/* not a name save gives */
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;	/* a live saver's (or one we may not see) */
		if (unlinkat(fd, de->d_name, 0) < 0) {
			if (errno != ENOENT && !r)
				r = pvpci_errf(errbuf, errlen, -errno, "cannot remove %s/%s: %s", dir,
					       de->d_name, strerror(errno));
			continue;
		}
		removed++;
	}
	if (removed)
		fsync(fd);
	closedir(d);
	return r < 0 ? r : removed;
}
