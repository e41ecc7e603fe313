/*
 * The JSON writer of lib/json.h: a growing buffer, a stack of open
 * containers and one sticky error.  Owns syntax and escaping; knows
 * nothing of PCI.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct pvpci_json {
	char *buf;
	size_t len, cap;
	int err;			/* the first error, sticky */
	unsigned flags;
	unsigned depth;			/* containers open */
	char open[PVPCI_JSON_MAX_DEPTH];	/* '{' or '[' of each */
	bool empty[PVPCI_JSON_MAX_DEPTH];	/* nothing in it yet */
	bool done;			/* the top-level value is written */
};

int pvpci_json_new(unsigned flags, struct pvpci_json **ret)
{
	struct pvpci_json *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->flags = flags;
	*ret = j;
	return 0;
}

void pvpci_json_free(struct pvpci_json *j)
{
	if (!j)
		return;
	free(j->buf);
	free(j);
}

static void fail(struct pvpci_json *j, int err)
{
	if (!j->err)
		j->err = err;
}

/* Room for n more bytes and the final NUL. */
static bool reserve(struct pvpci_json *j, size_t n)
{
	size_t cap = j->cap ? j->cap : 256;
	char *p;

	if (j->err)
		return false;
	if (j->len + n + 1 <= j->cap)
		return true;
	while (cap < j->len + n + 1) {
		if (cap > SIZE_MAX / 2) {
			fail(j, -ENOMEM);
			return false;
		}
		cap *= 2;
	}
	p = realloc(j->buf, cap);
	if (!p) {
		fail(j, -ENOMEM);
		return false;
	}
	j->buf = p;
	j->cap = cap;
	return true;
}

static void put(struct pvpci_json *j, const char *s, size_t n)
{
	if (!reserve(j, n))
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

static void puts_(struct pvpci_json *j, const char *s)
{
	put(j, s, strlen(s));
}

static void newline(struct pvpci_json *j)
{
	static const char spaces[] = "                                ";

	if (!(j->flags & PVPCI_JSON_PRETTY))
		return;
	put(j, "\n", 1);
	for (unsigned d = 0; d < j->depth; d++)
		put(j, spaces, 2);
}

static const char hexdig[] = "0123456789abcdef";

/* The length of the well-formed UTF-8 sequence at p (at most n bytes), or
 * the negated length of its maximal ill-formed subpart (at least 1). */
static int utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	int len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return -1;	/* a continuation byte, C0, C1, F5-FF */
	/* The second byte's range rules out overlongs, surrogates and
	 * code points above U+10FFFF (Unicode table 3-7). */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= n || p[i] < lo || p[i] > hi)
			return -i;
		lo = 0x80;
		hi = 0xbf;
	}
	return len;
}

static void put_string(struct pvpci_json *j, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	put(j, "\"", 1);
	while (i < n && !j->err) {
		size_t run = i;
		int k;

		/* Copy what needs no escape in one go. */
		while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
			run++;
		put(j, s + i, run - i);
		i = run;
		if (i == n)
			break;
		switch (p[i]) {
		case '"': puts_(j, "\\\""); i++; continue;
		case '\\': puts_(j, "\\\\"); i++; continue;
		case '\b': puts_(j, "\\b"); i++; continue;
		case '\f': puts_(j, "\\f"); i++; continue;
		case '\n': puts_(j, "\\n"); i++; continue;
		case '\r': puts_(j, "\\r"); i++; continue;
		case '\t': puts_(j, "\\t"); i++; continue;
		}
		if (p[i] < 0x80) {	/* other controls and DEL */
			char e[7] = { '\\', 'u', '0', '0', hexdig[p[i] >> 4], hexdig[p[i] & 15], 0 };

			puts_(j, e);
			i++;
			continue;
		}
		k = utf8_seq(p + i, n - i);
		if (k < 0) {
			puts_(j, "\\ufffd");
			i += (size_t)-k;
		} else if (k == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 && (p[i + 2] & 0xfe) == 0xa8) {
			puts_(j, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
			i += 3;
		} else {
			put(j, s + i, (size_t)k);
			i += (size_t)k;
		}
	}
	put(j, "\"", 1);
}

/* Before a value or container: the separator and the key, checked. */
static bool begin_value(struct pvpci_json *j, const char *key)
{
	if (j->err)
		return false;
	if (j->depth == 0) {
		if (j->done || key) {
			fail(j, -EINVAL);
			return false;
		}
		return true;
	}
	if ((j->open[j->depth - 1] == '{') != (key != NULL)) {
		fail(j, -EINVAL);
		return false;
	}
	if (!j->empty[j->depth - 1])
		put(j, ",", 1);
	j->empty[j->depth - 1] = false;
	newline(j);
	if (key) {
		put_string(j, key, strlen(key));
		puts_(j, j->flags & PVPCI_JSON_PRETTY ? ": " : ":");
	}
	return !j->err;
}

static void end_value(struct pvpci_json *j)
{
	if (j->depth == 0)
		j->done = true;
}

static void begin(struct pvpci_json *j, const char *key, char c)
{
	if (!begin_value(j, key))
		return;
	if (j->depth == PVPCI_JSON_MAX_DEPTH) {
		fail(j, -E2BIG);
		return;
	}
	put(j, &c, 1);
	j->open[j->depth] = c;
	j->empty[j->depth] = true;
	j->depth++;
}

static void end(struct pvpci_json *j, char c)
{
	if (j->err)
		return;
	if (j->depth == 0 || j->open[j->depth - 1] != c) {
		fail(j, -EINVAL);
		return;
	}
	j->depth--;
	if (!j->empty[j->depth])
		newline(j);
	put(j, c == '{' ? "}" : "]", 1);
	end_value(j);
}

void pvpci_json_begin_object(struct pvpci_json *j, const char *key)
{
	begin(j, key, '{');
}

void pvpci_json_end_object(struct pvpci_json *j)
{
	end(j, '{');
}

void pvpci_json_begin_array(struct pvpci_json *j, const char *key)
{
	begin(j, key, '[');
}

void pvpci_json_end_array(struct pvpci_json *j)
{
	end(j, '[');
}

static void scalar(struct pvpci_json *j, const char *key, const char *text)
{
	if (!begin_value(j, key))
		return;
	puts_(j, text);
	end_value(j);
}

void pvpci_json_string_len(struct pvpci_json *j, const char *key, const char *s, size_t len)
{
	if (!begin_value(j, key))
		return;
	put_string(j, s, len);
	end_value(j);
}

void pvpci_json_string(struct pvpci_json *j, const char *key, const char *s)
{
	if (s)
		pvpci_json_string_len(j, key, s, strlen(s));
	else
		scalar(j, key, "null");
}

void pvpci_json_hex(struct pvpci_json *j, const char *key, const uint8_t *p, size_t n)
{
	if (!begin_value(j, key))
		return;
	if (n > SIZE_MAX / 2 - 2) {
		fail(j, -ENOMEM);
		return;
	}
	if (!reserve(j, 2 * n + 2))
		return;
	j->buf[j->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		j->buf[j->len++] = hexdig[p[i] >> 4];
		j->buf[j->len++] = hexdig[p[i] & 15];
	}
	j->buf[j->len++] = '"';
	end_value(j);
}

/* Integers only: printf's %d and %u never group digits or take a locale's
 * decimal point, so the text is JSON in any locale. */
void pvpci_json_int(struct pvpci_json *j, const char *key, int64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRId64, v);
	scalar(j, key, b);
}

void pvpci_json_uint(struct pvpci_json *j, const char *key, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRIu64, v);
	scalar(j, key, b);
}

void pvpci_json_bool(struct pvpci_json *j, const char *key, bool v)
{
	scalar(j, key, v ? "true" : "false");
}

void pvpci_json_null(struct pvpci_json *j, const char *key)
{
	scalar(j, key, "null");
}

int pvpci_json_finish(struct pvpci_json *j, const char **ret_text, size_t *ret_len)
{
	if (!j->err && (!j->done || j->depth))
		fail(j, -EINVAL);
	if (j->err || !reserve(j, 0))
		return j->err;
	j->buf[j->len] = '\0';
	*ret_text = j->buf;
	if (ret_len)
		*ret_len = j->len;
	return 0;
}
