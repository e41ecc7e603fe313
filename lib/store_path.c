/* The store's paths and permission strings (store_path.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store_path.h"

#define DOMAIN_PREFIX "/local/domain/"

int store_path_canonical(const char *path, unsigned domid, char buf[STORE_PATH_BUF])
{
	int n;

	if (path[0] == '/' || path[0] == '@')
		n = snprintf(buf, STORE_PATH_BUF, "%s", path);
	else
		n = snprintf(buf, STORE_PATH_BUF, DOMAIN_PREFIX "%u/%s", domid, path);
	return n < 0 || n >= STORE_PATH_BUF ? -EINVAL : 0;
}

/* Bytes of "/local/domain/<N>/" at the start of path (N of 1-5 digits, as
 * xenstored reads it), else 0. */
static size_t domain_prefix_len(const char *path)
{
	size_t i = strlen(DOMAIN_PREFIX), d = 0;

	if (strncmp(path, DOMAIN_PREFIX, i))
		return 0;
	while (path[i + d] >= '0' && path[i + d] <= '9' && d < 6)
		d++;
	if (d == 0 || d > 5 || path[i + d] != '/')
		return 0;
	return i + d + 1;
}

bool store_path_valid(const char *path)
{
	static const char ok[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-/_@";
	size_t len = strlen(path);

	if (path[0] != '/' || len > STORE_ABS_PATH_MAX)
		return false;
	if (len > 1 && path[len - 1] == '/')
		return false;
	if (strstr(path, "//"))
		return false;
	if (len - domain_prefix_len(path) > STORE_REL_PATH_MAX)
		return false;
	return strspn(path, ok) == len;
}

bool store_path_special(const char *path)
{
	return path[0] == '@';
}

bool store_path_is_child(const char *child, const char *parent)
{
	size_t len = strlen(parent);

	if (!strcmp(parent, "/"))
		return child[0] == '/';
	return !strncmp(child, parent, len) && (child[len] == '/' || child[len] == '\0');
}

size_t store_path_parent_len(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash != path ? (size_t)(slash - path) : 1;
}

const char *store_path_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

const char *store_path_relative(const char *path, unsigned domid)
{
	char base[32];
	size_t n;

	store_domain_path(domid, base, sizeof(base));
	n = strlen(base);
	if (strncmp(path, base, n))
		return path;
	if (path[n] == '/')
		return path + n + 1;
	return path[n] ? path : path + n;
}

void store_domain_path(unsigned domid, char *buf, size_t len)
{
	snprintf(buf, len, DOMAIN_PREFIX "%u", domid);
}

size_t store_count_strings(const char *buf, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\0';
	return n;
}

int store_parse_num(const char *s, unsigned long max, unsigned long *ret)
{
	unsigned long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return -EINVAL;
	}
	*ret = v;
	return 0;
}

int store_perms_parse(const char *s, size_t n, struct store_perm *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned long id;

		switch (s[0]) {
		case 'n': out[i].perms = STORE_PERM_NONE; break;
		case 'r': out[i].perms = STORE_PERM_READ; break;
		case 'w': out[i].perms = STORE_PERM_WRITE; break;
		case 'b': out[i].perms = STORE_PERM_READ | STORE_PERM_WRITE; break;
		default: return -EINVAL;
		}
		if (store_parse_num(s + 1, 0xffff, &id) < 0)
			return -EINVAL;
		out[i].id = (unsigned)id;
		s += strlen(s) + 1;
	}
	return 0;
}

size_t store_perm_format(const struct store_perm *p, char *buf, size_t len)
{
	static const char type[4] = { 'n', 'r', 'w', 'b' };
	int n = snprintf(buf, len, "%c%u",
			 type[p->perms & (STORE_PERM_READ | STORE_PERM_WRITE)], p->id);

	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}
