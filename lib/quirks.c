/*
 * Quirks: parsing the two text forms of include/pvpci/quirks.h, matching
 * them to a function and adding their fields to the engine as
 * pass-through registers.  Owns the refusal of fields that would overlap
 * what the engine handles; it does not own the mask arithmetic (the core
 * applies ro_mask to a quirk as to every register).
 *
 * The parser reads untrusted text: every line is copied into a bounded,
 * NUL-terminated buffer before anything looks at it, every byte must be
 * printable ASCII or blank, and each number has a digit limit, so no
 * input can run a scan off its end or overflow a value.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_internal.h"
#include "errmsg.h"
#include "pvpci/quirks.h"
#include "textutil.h"

#define CAP_ID_MSI	0x05
#define CAP_ID_MSIX	0x11
#define MSIX_CAP_LEN	12

struct quirk_field {
	unsigned line;
	bool by_bdf;		/* pciback's form: keyed by address */
	bool has_sub;
	struct pvpci_bdf bdf;
	uint16_t vendor, device, subvendor, subdevice;
	uint16_t reg;
	uint8_t size;
	uint32_t mask;
};

struct pvpci_quirks {
	struct quirk_field *f;
	size_t n, cap;
};

/*
 * A hex number of 1..maxdigits digits, "0x" allowed in front.  Returns the
 * characters consumed (the caller checks what follows) or -1.
 */
static int hexnum(const char *s, int maxdigits, uint32_t *ret)
{
	uint32_t v = 0;
	int i = 0, n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		i = 2;
	while (pvpci_hexval(s[i]) >= 0) {
		if (++n > maxdigits)
			return -1;
		v = v << 4 | (uint32_t)pvpci_hexval(s[i++]);
	}
	if (n == 0)
		return -1;
	*ret = v;
	return i;
}

static int fail(char *errbuf, size_t errlen, unsigned line, int err, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(char *errbuf, size_t errlen, unsigned line, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = pvpci_verrf_line(errbuf, errlen, err, line, fmt, ap);
	va_end(ap);
	return err;
}

/* "REG:SIZE:MASK" into f's field part. */
static int parse_field(const char *tok, unsigned line, struct quirk_field *f, char *errbuf,
		       size_t errlen)
{
	uint32_t reg, size, mask;
	int a, b, c;

	a = hexnum(tok, 8, &reg);
	if (a >= 0 && tok[a] != ':')
		a = -1;
	b = a < 0 ? -1 : hexnum(tok + a + 1, 8, &size);
	if (b >= 0 && tok[a + 1 + b] != ':')
		b = -1;
	c = b < 0 ? -1 : hexnum(tok + a + 1 + b + 1, 8, &mask);
	if (c >= 0 && tok[a + 1 + b + 1 + c])
		c = -1;
	if (c < 0)
		return fail(errbuf, errlen, line, -EINVAL,
			    "field '%.40s': expected REG:SIZE:MASK (hex numbers, at most 8 digits)", tok);
	if (size != 1 && size != 2 && size != 4)
		return fail(errbuf, errlen, line, -EINVAL, "field '%.40s': size must be 1, 2 or 4", tok);
	if (reg > 0xfff)
		return fail(errbuf, errlen, line, -EINVAL,
			    "field '%.40s': offset 0x%x is past config space (0..0xfff)", tok, reg);
	if (reg % size)
		return fail(errbuf, errlen, line, -EINVAL,
			    "field '%.40s': offset 0x%x is not a multiple of the size %u", tok, reg, size);
	if (size < 4 && mask >> (8 * size))
		return fail(errbuf, errlen, line, -EINVAL,
			    "field '%.40s': mask 0x%x is wider than %u byte%s", tok, mask, size,
			    size == 1 ? "" : "s");
	f->reg = (uint16_t)reg;
	f->size = (uint8_t)size;
	f->mask = mask;
	return 0;
}

/* "VVVV:DDDD[:SVVV:SDDD]" into f's key. */
static int parse_ids(const char *tok, unsigned line, struct quirk_field *f, char *errbuf,
		     size_t errlen)
{
	uint32_t id[4];
	const char *p = tok;
	bool bad = false;
	int i = 0, n;

	while (!bad) {
		n = hexnum(p, 4, &id[i]);
		if (n < 0) {
			bad = true;
			break;
		}
		p += n;
		i++;
		if (!*p)
			break;
		bad = *p != ':' || i == 4;
		p++;
	}
	if (bad || (i != 2 && i != 4))
		return fail(errbuf, errlen, line, -EINVAL,
			    "'%.40s': expected VVVV:DDDD[:SVVV:SDDD] (device IDs) or "
			    "[DDDD:]BB:DD.F-REG:SIZE:MASK (pciback's form)", tok);
	f->vendor = (uint16_t)id[0];
	f->device = (uint16_t)id[1];
	f->has_sub = i == 4;
	if (f->has_sub) {
		f->subvendor = (uint16_t)id[2];
		f->subdevice = (uint16_t)id[3];
	}
	return 0;
}

static bool same_key(const struct quirk_field *a, const struct quirk_field *b)
{
	if (a->by_bdf != b->by_bdf)
		return false;
	if (a->by_bdf)
		return pvpci_bdf_cmp(&a->bdf, &b->bdf) == 0;
	return a->vendor == b->vendor && a->device == b->device && a->has_sub == b->has_sub &&
	       (!a->has_sub || (a->subvendor == b->subvendor && a->subdevice == b->subdevice));
}

static bool fields_overlap(const struct quirk_field *a, const struct quirk_field *b)
{
	return a->reg < b->reg + b->size && b->reg < a->reg + a->size;
}

static int add_field(struct pvpci_quirks *q, const struct quirk_field *f, char *errbuf,
		     size_t errlen)
{
	/* A file that says two things of one field of one device is a mistake
	 * better caught here, with both lines, than when a device binds. */
	for (size_t i = 0; i < q->n; i++)
		if (same_key(&q->f[i], f) && fields_overlap(&q->f[i], f))
			return fail(errbuf, errlen, f->line, -EINVAL,
				    "field 0x%x size %u overlaps line %u's field 0x%x size %u for the same device",
				    f->reg, f->size, q->f[i].line, q->f[i].reg, q->f[i].size);
	if (q->n == PVPCI_QUIRKS_MAX_FIELDS)
		return fail(errbuf, errlen, f->line, -E2BIG, "more than %u fields",
			    PVPCI_QUIRKS_MAX_FIELDS);
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		struct quirk_field *p = realloc(q->f, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		q->f = p;
		q->cap = cap;
	}
	q->f[q->n++] = *f;
	return 0;
}

/* Split line (NUL-terminated, comment already cut) into at most max tokens. */
static size_t tokenize(char *line, char **tok, size_t max)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || n == max)
			return n;
		tok[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (*p)
			*p++ = 0;
	}
}

static int parse_line(struct pvpci_quirks *q, char *line, unsigned lineno, char *errbuf,
		      size_t errlen)
{
	/* A line of MAX_LINE bytes cannot hold more tokens than this. */
	char *tok[PVPCI_QUIRKS_MAX_LINE / 2 + 1];
	struct quirk_field f = { .line = lineno };
	char *hash = strchr(line, '#');
	size_t n, i;
	int r;

	if (hash)
		*hash = 0;
	n = tokenize(line, tok, sizeof(tok) / sizeof(tok[0]));
	if (n == 0)
		return 0;
	if (strchr(tok[0], '-')) {
		const char *end;

		*strchr(tok[0], '-') = 0;
		if (pvpci_bdf_parse_prefix(tok[0], &f.bdf, &end) < 0 || *end)
			return fail(errbuf, errlen, lineno, -EINVAL,
				    "'%.40s' is not a PCI address ([DDDD:]BB:DD.F) before '-'", tok[0]);
		f.by_bdf = true;
		r = parse_field(tok[0] + strlen(tok[0]) + 1, lineno, &f, errbuf, errlen);
		if (r < 0)
			return r;
		if (n > 1)
			return fail(errbuf, errlen, lineno, -EINVAL,
				    "'%.40s' after the quirk: pciback's form has one field per line",
				    tok[1]);
		return add_field(q, &f, errbuf, errlen);
	}
	r = parse_ids(tok[0], lineno, &f, errbuf, errlen);
	if (r < 0)
		return r;
	if (n == 1)
		return fail(errbuf, errlen, lineno, -EINVAL,
			    "no field after '%.40s' (expected REG:SIZE:MASK...)", tok[0]);
	for (i = 1; i < n; i++) {
		r = parse_field(tok[i], lineno, &f, errbuf, errlen);
		if (r >= 0)
			r = add_field(q, &f, errbuf, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

int pvpci_quirks_parse(const char *text, size_t len, struct pvpci_quirks **ret, char *errbuf,
		       size_t errlen)
{
	char line[PVPCI_QUIRKS_MAX_LINE + 1];
	struct pvpci_quirks *q;
	unsigned lineno = 0;
	size_t pos = 0;
	int r = 0;

	if (len > PVPCI_QUIRKS_MAX_TEXT) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "quirks text of %zu bytes is over the limit of %u",
				 len, PVPCI_QUIRKS_MAX_TEXT);
		return -E2BIG;
	}
	if (len && !text)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	while (pos < len && r >= 0) {
		size_t n = 0;

		lineno++;
		while (pos < len && text[pos] != '\n') {
			unsigned char c = (unsigned char)text[pos];

			if ((c < 0x20 && c != '\t' && c != '\r') || c > 0x7e) {
				r = fail(errbuf, errlen, lineno, -EINVAL,
					 "byte 0x%02x at column %zu is not printable text", c, n + 1);
				break;
			}
			if (n == PVPCI_QUIRKS_MAX_LINE) {
				r = fail(errbuf, errlen, lineno, -EINVAL, "longer than %u bytes",
					 PVPCI_QUIRKS_MAX_LINE);
				break;
			}
			line[n++] = (char)c;
			pos++;
		}
		if (r < 0)
			break;
		pos++;	/* the newline, or past the end */
		line[n] = 0;
		r = parse_line(q, line, lineno, errbuf, errlen);
	}
	if (r < 0) {
		pvpci_quirks_free(q);
		return r;
	}
	*ret = q;
	return 0;
}

int pvpci_quirks_load(const char *path, struct pvpci_quirks **ret, char *errbuf, size_t errlen)
{
	char why[256] = "", *text = NULL;
	FILE *f = fopen(path, "re");
	size_t len = 0;
	int r;

	if (!f)
		return pvpci_errf(errbuf, errlen, -errno, "%s: %s", path, strerror(errno));
	/* One byte more than the limit: a longer file is said, not cut. */
	text = malloc(PVPCI_QUIRKS_MAX_TEXT + 1);
	if (text)
		len = fread(text, 1, PVPCI_QUIRKS_MAX_TEXT + 1, f);
	r = !text ? -ENOMEM : ferror(f) ? -EIO : 0;
	fclose(f);
	if (r == 0)
		r = pvpci_quirks_parse(text, len, ret, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", strerror(-r));
	free(text);
	return r < 0 ? pvpci_errf(errbuf, errlen, r, "%s: %s", path, why) : 0;
}

void pvpci_quirks_free(struct pvpci_quirks *q)
{
	if (!q)
		return;
	free(q->f);
	free(q);
}

size_t pvpci_quirks_count(const struct pvpci_quirks *q)
{
	return q ? q->n : 0;
}

const char *pvpci_quirks_field(const struct pvpci_quirks *q, size_t i, char *buf, size_t len)
{
	const struct quirk_field *f;
	int n;

	if (!q || i >= q->n || !buf || !len)
		return NULL;
	f = &q->f[i];
	if (f->by_bdf)
		n = snprintf(buf, len, "%04x:%02x:%02x.%x-%x:%x:%x", f->bdf.domain, f->bdf.bus,
			     f->bdf.dev, f->bdf.fn, f->reg, f->size, f->mask);
	else if (f->has_sub)
		n = snprintf(buf, len, "%04x:%04x:%04x:%04x %x:%x:%x", f->vendor, f->device,
			     f->subvendor, f->subdevice, f->reg, f->size, f->mask);
	else
		n = snprintf(buf, len, "%04x:%04x %x:%x:%x", f->vendor, f->device, f->reg, f->size,
			     f->mask);
	return n >= 0 && (size_t)n < len ? buf : NULL;
}

/* ---- applying ---- */

struct dev_ids {
	struct pvpci_bdf bdf;
	uint16_t vendor, device, subvendor, subdevice;
};

static bool matches(const struct quirk_field *f, const struct dev_ids *d)
{
	if (f->by_bdf)
		return pvpci_bdf_cmp(&f->bdf, &d->bdf) == 0;
	return f->vendor == d->vendor && f->device == d->device &&
	       (!f->has_sub || (f->subvendor == d->subvendor && f->subdevice == d->subdevice));
}

/* Bytes of the MSI capability at off, as its Message Control sizes it. */
static unsigned msi_len(const uint8_t *snap, unsigned off)
{
	uint32_t ctl = cs_le(snap + off + 2, 2);

	return 10 + (ctl & 0x80 ? 4 : 0) + (ctl & 0x100 ? 10 : 0);
}

/*
 * Why f may not be added to cs, in errbuf, or 0.  The header and the MSI
 * and MSI-X structures are refused by range whether or not a handler has
 * registered them yet: the promise is that a quirk never widens what
 * their handling lets through, and that must not hang on the order in
 * which handlers come to exist.
 */
static int check_field(struct pvpci_cs *cs, const struct quirk_field *f, char *errbuf,
		       size_t errlen)
{
	const uint8_t *snap = pvpci_cs_host_snapshot(cs);
	unsigned end = (unsigned)f->reg + f->size;
	static const struct {
		uint16_t id;
		const char *name;
	} guarded[] = { { CAP_ID_MSI, "MSI" }, { CAP_ID_MSIX, "MSI-X" } };

	if (end > pvpci_cs_size(cs))
		return fail(errbuf, errlen, f->line, -EINVAL,
			    "field 0x%x size %u is past the function's %u bytes of config space",
			    f->reg, f->size, pvpci_cs_size(cs));
	if (f->reg < 0x40)
		return fail(errbuf, errlen, f->line, -EEXIST,
			    "field 0x%x size %u is in the type 0 header, which the engine handles; "
			    "quirks only cover bytes nothing else handles", f->reg, f->size);
	for (size_t g = 0; g < sizeof(guarded) / sizeof(guarded[0]); g++) {
		int i = cs_cap_find(cs, false, guarded[g].id);
		unsigned start, len;

		if (i < 0)
			continue;
		start = pvpci_cs_cap(cs, (size_t)i)->offset;
		len = guarded[g].id == CAP_ID_MSI ? msi_len(snap, start) : MSIX_CAP_LEN;
		if (f->reg < start + len && start < end)
			return fail(errbuf, errlen, f->line, -EEXIST,
				    "field 0x%x size %u overlaps the %s capability at 0x%x, which the "
				    "engine handles; quirks only cover bytes nothing else handles",
				    f->reg, f->size, guarded[g].name, start);
	}
	for (unsigned b = f->reg; b < end; b++) {
		const struct pvpci_reg *r = pvpci_cs_reg_at(cs, b);

		if (r)
			return fail(errbuf, errlen, f->line, -EEXIST,
				    "field 0x%x size %u overlaps '%s' (0x%x size %u), which the engine "
				    "handles; quirks only cover bytes nothing else handles",
				    f->reg, f->size, r->name, r->offset, r->size);
	}
	return 0;
}

int pvpci_quirks_apply(const struct pvpci_quirks *q, struct pvpci_cs *cs, char *errbuf,
		       size_t errlen)
{
	const uint8_t *snap = pvpci_cs_host_snapshot(cs);
	const struct quirk_field **hit;
	struct dev_ids d = {
		.bdf = pvpci_cs_hostdev(cs)->bdf,
		.vendor = (uint16_t)cs_le(snap + 0x00, 2),
		.device = (uint16_t)cs_le(snap + 0x02, 2),
		.subvendor = (uint16_t)cs_le(snap + 0x2c, 2),
		.subdevice = (uint16_t)cs_le(snap + 0x2e, 2),
	};
	size_t n = 0, i, j;
	int r = 0;

	if (!q || !q->n)
		return 0;
	hit = malloc(q->n * sizeof(*hit));
	if (!hit)
		return -ENOMEM;
	/* Check everything before adding anything: all or nothing. */
	for (i = 0; i < q->n && r >= 0; i++) {
		const struct quirk_field *f = &q->f[i];

		if (!matches(f, &d))
			continue;
		r = check_field(cs, f, errbuf, errlen);
		for (j = 0; j < n && r >= 0; j++)
			if (fields_overlap(hit[j], f))
				r = fail(errbuf, errlen, f->line, -EEXIST,
					 "field 0x%x size %u overlaps line %u's field 0x%x size %u, "
					 "which matches this function too",
					 f->reg, f->size, hit[j]->line, hit[j]->reg, hit[j]->size);
		if (r >= 0)
			hit[n++] = f;
	}
	for (i = 0; i < n && r >= 0; i++) {
		const struct quirk_field *f = hit[i];
		struct pvpci_reg reg = {
			.name = "quirk", .offset = f->reg, .size = f->size,
			.ro_mask = size_mask(f->size) & ~f->mask,
		};

		r = pvpci_cs_add_reg(cs, 0, &reg);
		if (r < 0) {
			fail(errbuf, errlen, f->line, r, "field 0x%x size %u could not be added: %s",
			     f->reg, f->size, strerror(-r));
			while (i--)
				pvpci_cs_del_range(cs, hit[i]->reg, hit[i]->size);
			break;
		}
	}
	if (r >= 0)
		for (i = 0; i < n; i++)
			pvpci_cs_log(cs, PVPCI_LOG_INFO,
				     "quirk (line %u): 0x%x size %u passes guest writes of mask 0x%x",
				     hit[i]->line, hit[i]->reg, hit[i]->size, hit[i]->mask);
	free(hit);
	return r < 0 ? r : (int)n;
}
