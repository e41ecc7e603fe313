/*
 * The store's names and permissions as text: which paths are valid, what a
 * relative path means for a domain, which watches an event reaches, and
 * the "n0"/"r1"/"w2"/"b3" permission strings.  No state; private to lib/.
 */
#ifndef PVPCI_STORE_PATH_H
#define PVPCI_STORE_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "store_wire.h"

/* One entry of a node's permission list; the first names the owner and
 * what every domain not listed after it may do. */
struct store_perm {
	unsigned id;
	unsigned perms;		/* STORE_PERM_* */
};

#define STORE_PERM_NONE		0x00
#define STORE_PERM_READ		0x01
#define STORE_PERM_WRITE	0x02
#define STORE_PERM_OWNER	0x08	/* not on the wire: the owner's and dom0's right to set perms */

/* Room for any path that can be valid, and its nul. */
#define STORE_PATH_BUF		(STORE_ABS_PATH_MAX + 1)

/*
 * A request's path as the store names it: absolute and special (@...)
 * paths as they are, a relative one below /local/domain/<domid>.
 * -EINVAL when the result would be longer than any valid path.
 */
int store_path_canonical(const char *path, unsigned domid, char buf[STORE_PATH_BUF]);

/*
 * A node's name as xenstored takes it: starts with '/', letters, digits
 * and -/_@ only, no "//", no trailing '/' except "/" itself, at most
 * STORE_ABS_PATH_MAX bytes and at most STORE_REL_PATH_MAX below
 * /local/domain/<N>/ (or in all, elsewhere).
 */
bool store_path_valid(const char *path);
/* @introduceDomain and the like: watchable, never a node. */
bool store_path_special(const char *path);

/* child is parent, or below it; everything is below "/". */
bool store_path_is_child(const char *child, const char *parent);
/* Bytes of path's parent's name: "/a/b" -> 2 ("/a"), "/a" -> 1 ("/"). */
size_t store_path_parent_len(const char *path);
/* The last component: "b" of "/a/b". */
const char *store_path_basename(const char *path);
/*
 * What a domain that watched a relative path is told: path without the
 * "/local/domain/<domid>/" before it ("" for the domain's own node).
 * Paths not below the domain's own come back whole.
 */
const char *store_path_relative(const char *path, unsigned domid);

/* "/local/domain/<domid>" into buf (at least 24 bytes). */
void store_domain_path(unsigned domid, char *buf, size_t len);

/* A decimal number of at most max: digits only, no sign or space.
 * -EINVAL otherwise. */
int store_parse_num(const char *s, unsigned long max, unsigned long *ret);

/* The nul-terminated strings in a payload; bytes after the last nul do
 * not count. */
size_t store_count_strings(const char *buf, size_t len);

/*
 * n permission strings ("r5", "n0": one of n r w b, then a decimal domid
 * of at most 65535) starting at s into out.  -EINVAL for any other text.
 */
int store_perms_parse(const char *s, size_t n, struct store_perm *out);
/* "b5" for { 5, READ|WRITE }; returns the bytes written without the nul
 * (buf holds at least 8). */
size_t store_perm_format(const struct store_perm *p, char *buf, size_t len);

#endif
