/*
 * Config dumps: reading the text lspci prints (and lspci -F reads) and raw
 * binary images, and writing one function back in that text.
 *
 * Owns the format only: no device access, no policy about what the bytes
 * mean beyond the BAR lines of -v.  The rules of what is accepted are in
 * include/pvpci/dump.h.  The input may be hostile (this parser is fuzzed):
 * every scan is bounded by the end of the line, nothing relies on a NUL,
 * and the number of functions and the size of the input are limited.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "pvpci/dump.h"
#include "textutil.h"

#define ROWS		(PVPCI_CFG_EXP_SIZE / 16)
#define MAX_PENDING	PVPCI_NUM_BARS

/* One "Memory at"/"I/O ports at" line of lspci -v, which has no BAR number. */
struct pending_base {
	struct pvpci_bar bar;
	bool size_known;
	bool virt;
};

struct parser {
	char *errbuf;
	size_t errlen;
	unsigned lineno;

	struct pvpci_dump_dev *devs;
	unsigned *hdr_line;		/* header line of each function, for messages */
	size_t n, cap;

	bool in_dev;			/* devs[n - 1] is open for hex and Region lines */
	unsigned end;			/* highest byte given + 1 */
	unsigned given;			/* bytes given */
	uint8_t rows[ROWS / 8];		/* rows given, to catch a row given twice */
	struct pending_base pending[MAX_PENDING];
	unsigned npending;
};

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = pvpci_verrf_line(p->errbuf, p->errlen, -EINVAL, p->lineno, fmt, ap);
	va_end(ap);
	return err;
}

/* Does [s, end) start with the pattern?  '#' stands for one hex digit. */
static bool match(const char *s, const char *end, const char *pat)
{
	for (; *pat; pat++, s++) {
		if (s >= end)
			return false;
		if (*pat == '#' ? pvpci_hexval(*s) < 0 : *s != *pat)
			return false;
	}
	return true;
}

static bool starts(const char *s, const char *end, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(end - s) >= n && !memcmp(s, word, n);
}

/* First occurrence of word in [s, end), or NULL. */
static const char *find(const char *s, const char *end, const char *word)
{
	for (; s < end; s++)
		if (starts(s, end, word))
			return s;
	return NULL;
}

/* Hex digits at *s (at most 16); advances *s.  false when there are none. */
static bool hexnum(const char **s, const char *end, uint64_t *ret)
{
	const char *q = *s;
	uint64_t v = 0;
	int n = 0;

	while (q < end && pvpci_hexval(*q) >= 0) {
		if (++n > 16)
			return false;
		v = v << 4 | (unsigned)pvpci_hexval(*q++);
	}
	if (!n)
		return false;
	*s = q;
	*ret = v;
	return true;
}

/* ---------------------------------------------------------------- devices */

static void dev_clear(struct parser *p)
{
	memset(p->rows, 0, sizeof(p->rows));
	p->end = 0;
	p->given = 0;
	p->npending = 0;
}

static int dev_start(struct parser *p, const struct pvpci_bdf *bdf, const char *desc, const char *dend)
{
	struct pvpci_dump_dev *d;
	size_t i, n;

	for (i = 0; i < p->n; i++)
		if (!pvpci_bdf_cmp(&p->devs[i].bdf, bdf)) {
			char b[PVPCI_BDF_STRLEN];

			return fail(p, "%s given twice (first at line %u)", pvpci_bdf_format(bdf, b),
				    p->hdr_line[i]);
		}
	if (p->n == PVPCI_DUMP_MAX_DEVS)
		return fail(p, "more than %u functions in one dump", PVPCI_DUMP_MAX_DEVS);
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct pvpci_dump_dev *nd;
		unsigned *nl;

		if (cap > PVPCI_DUMP_MAX_DEVS)
			cap = PVPCI_DUMP_MAX_DEVS;
		nd = realloc(p->devs, cap * sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		p->devs = nd;
		nl = realloc(p->hdr_line, cap * sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		p->hdr_line = nl;
		p->cap = cap;
	}
	d = &p->devs[p->n];
	memset(d, 0, sizeof(*d));
	memset(d->cfg, 0xff, sizeof(d->cfg));
	d->bdf = *bdf;

	/*
	 * The text after the address: control characters become spaces (as
	 * pvpci_dump_write writes them), then it is trimmed.
	 */
	while (desc < dend && ((unsigned char)*desc <= ' ' || *desc == 0x7f))
		desc++;
	n = (size_t)(dend - desc);
	if (n > sizeof(d->desc) - 1) {
		n = sizeof(d->desc) - 1;
		/* Do not leave half a UTF-8 sequence at the cut. */
		while (n && ((unsigned char)desc[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)desc[i];

		d->desc[i] = (char)(c < 0x20 || c == 0x7f ? ' ' : c);
	}
	while (n && d->desc[n - 1] == ' ')
		d->desc[--n] = 0;
	p->hdr_line[p->n] = p->lineno;
	p->n++;
	p->in_dev = true;
	dev_clear(p);
	return 0;
}

/*
 * lspci -v prints bases without their number: the k-th line is the k-th
 * BAR it chose to show, which is every BAR whose register is not 0 (or
 * all-ones), the upper half of a 64-bit one skipped.  A "[virtual]" line
 * stands for a register that reads 0.  When the lines and the registers
 * disagree, the rest stays unknown rather than guessed.
 */
static void map_pending(struct pvpci_dump_dev *d, const struct pending_base *pb, unsigned n)
{
	unsigned htype = d->cfg[0x0e] & 0x7f;
	unsigned nbars = htype == 0 ? 6 : htype == 1 ? 2 : htype == 2 ? 1 : 0;
	unsigned i = 0, k;

	for (k = 0; k < n; k++) {
		uint32_t v = 0;
		bool io = pb[k].bar.flags & PVPCI_BAR_IO;

		for (; i < nbars; i++) {
			v = (uint32_t)d->cfg[0x10 + 4 * i] | (uint32_t)d->cfg[0x11 + 4 * i] << 8 |
			    (uint32_t)d->cfg[0x12 + 4 * i] << 16 | (uint32_t)d->cfg[0x13 + 4 * i] << 24;
			if (v == 0xffffffff)
				v = 0;
			if (pb[k].virt ? v == 0 : v != 0)
				break;
		}
		if (i >= nbars)
			return;
		if (!pb[k].virt && (bool)(v & 1) != io)
			return;
		d->bars[i] = pb[k].bar;
		d->bar_sizes_known[i] = pb[k].size_known;
		d->bar_virtual[i] = pb[k].virt;
		i += (!io && (v & 6) == 4) ? 2 : 1;
	}
}

static int dev_finish(struct parser *p)
{
	struct pvpci_dump_dev *d;
	unsigned i;

	if (!p->in_dev)
		return 0;
	p->in_dev = false;
	d = &p->devs[p->n - 1];
	if (!p->end) {
		char b[PVPCI_BDF_STRLEN];

		p->lineno = p->hdr_line[p->n - 1];
		return fail(p, "%s has no hex dump (as lspci -x prints it)", pvpci_bdf_format(&d->bdf, b));
	}
	d->len = p->end <= 64 ? 64 : p->end <= PVPCI_CFG_SIZE ? PVPCI_CFG_SIZE : PVPCI_CFG_EXP_SIZE;
	d->whole = p->given == d->len;
	map_pending(d, p->pending, p->npending);
	for (i = 0; i + 1 < PVPCI_NUM_BARS; i++)
		if (d->bars[i].flags & PVPCI_BAR_MEM64) {
			d->bars[i + 1] = (struct pvpci_bar){ .flags = PVPCI_BAR_MEM64_HI };
			d->bar_sizes_known[i + 1] = true;
			d->bar_virtual[i + 1] = d->bar_virtual[i];
			i++;
		}
	return 0;
}

/* ------------------------------------------------------------------ lines */

/*
 * "BB:DD.F ", "DDDD:BB:DD.F " or "DDDDD:BB:DD.F " at the start of the line.
 * Returns 1 and fills *bdf and *rest when it is a header line, 0 when it is
 * not, or an error for one that is malformed past the pattern.
 */
static int header_line(struct parser *p, const char *s, const char *end, struct pvpci_bdf *bdf,
		       const char **rest)
{
	static const char *const pats[] = { "##:##.# ", "####:##:##.# ", "#####:##:##.# " };
	uint64_t dom = 0, bus, dev;
	const char *q = s;
	unsigned i;
	char fn;

	for (i = 0; i < 3; i++)
		if (match(s, end, pats[i]))
			break;
	if (i == 3)
		return 0;
	if (i > 0) {
		hexnum(&q, end, &dom);
		q++;
	}
	hexnum(&q, end, &bus);
	q++;
	hexnum(&q, end, &dev);
	q++;
	fn = *q;
	if (dom > 0xffff)
		return fail(p, "domain %llx does not fit in 16 bits", (unsigned long long)dom);
	if (dev > 0x1f)
		return fail(p, "device number %02llx is above 1f", (unsigned long long)dev);
	if (fn < '0' || fn > '7')
		return fail(p, "function '%c' is not 0 to 7", fn);
	bdf->domain = (uint16_t)dom;
	bdf->bus = (uint8_t)bus;
	bdf->dev = (uint8_t)dev;
	bdf->fn = (uint8_t)(fn - '0');
	*rest = q + 2;
	return 1;
}

/* "OO: " with 2 to 8 offset digits, as lspci -F recognises a hex line. */
static bool is_hex_line(const char *s, const char *end, unsigned *ret_digits)
{
	unsigned n = 0;

	while (s + n < end && n <= 8 && pvpci_hexval(s[n]) >= 0)
		n++;
	if (n < 2 || n > 8 || !match(s + n, end, ": "))
		return false;
	*ret_digits = n;
	return true;
}

static int hex_line(struct parser *p, const char *s, const char *end, unsigned digits)
{
	struct pvpci_dump_dev *d;
	const char *z = s;
	uint64_t off;
	unsigned nb = 0, row;

	if (!p->in_dev)
		return fail(p, "hex line outside a function (before any header line, or after the blank line that ended one)");
	d = &p->devs[p->n - 1];
	hexnum(&z, s + digits, &off);
	if (off >= PVPCI_CFG_EXP_SIZE)
		return fail(p, "offset %llx is past the 4096 bytes of config space", (unsigned long long)off);
	if (off % 16)
		return fail(p, "offset %llx is not a multiple of 16", (unsigned long long)off);
	row = (unsigned)off / 16;
	if (p->rows[row / 8] & (1u << (row % 8)))
		return fail(p, "offset %03x given twice", (unsigned)off);
	p->rows[row / 8] |= (uint8_t)(1u << (row % 8));

	z = s + digits + 2;
	while (z + 1 < end && pvpci_hexval(z[0]) >= 0 && pvpci_hexval(z[1]) >= 0 && (z + 2 == end || z[2] == ' ' || z[2] == '\t')) {
		if (nb == 16)
			return fail(p, "more than 16 bytes on the line of offset %03x", (unsigned)off);
		d->cfg[off + nb++] = (uint8_t)(pvpci_hexval(z[0]) << 4 | pvpci_hexval(z[1]));
		z += 2;
		if (z < end)
			z++;
	}
	while (z < end && (*z == ' ' || *z == '\t'))
		z++;
	if (z < end)
		return fail(p, "bad hex byte at column %u", (unsigned)(z - s) + 1);
	if (nb && off + nb > p->end)
		p->end = (unsigned)off + nb;
	p->given += nb;
	return 0;
}

/* "[size=N]" with N in bytes or with a K/M/G/T suffix, as lspci prints it. */
static bool parse_size(const char *s, const char *end, uint64_t *ret)
{
	const char *q = find(s, end, "[size=");
	uint64_t v = 0;
	unsigned shift = 0, digits = 0;

	if (!q)
		return false;
	q += 6;
	while (q < end && *q >= '0' && *q <= '9') {
		if (++digits > 19)
			return false;
		v = v * 10 + (uint64_t)(*q++ - '0');
	}
	if (!digits || q >= end)
		return false;
	switch (*q) {
	case 'K': shift = 10; q++; break;
	case 'M': shift = 20; q++; break;
	case 'G': shift = 30; q++; break;
	case 'T': shift = 40; q++; break;
	}
	if (q >= end || *q != ']' || !v || v > (UINT64_MAX >> shift))
		return false;
	*ret = v << shift;
	return true;
}

/*
 * The address after "at ": hex, or "<unassigned>", "<ignored>",
 * "<invalid-64bit-slot>" (address 0).  Advances *s past it.
 */
static bool parse_addr(const char **s, const char *end, uint64_t *ret)
{
	const char *q = *s;

	if (q < end && *q == '<') {
		while (q < end && *q != '>')
			q++;
		if (q == end)
			return false;
		*s = q + 1;
		*ret = 0;
		return true;
	}
	return hexnum(s, end, ret);
}

/*
 * A base or ROM line of -v/-vv.  Their lines are indented by one tab (or,
 * once pasted through mail, by up to 8 spaces); deeper lines belong to
 * capabilities and are not ours.  A line that does not read as one is
 * ignored, as lspci's other decoding is.
 */
/* A -v line's indent (a tab, or 1 to 8 spaces), skipped; NULL when the
 * line has none. */
static const char *indented(const char *s, const char *end)
{
	unsigned sp = 0;

	if (s < end && *s == '\t') {
		s++;
	} else {
		while (s < end && *s == ' ' && sp < 9)
			s++, sp++;
		if (!sp || sp > 8)
			return NULL;
	}
	return s == end || *s == ' ' || *s == '\t' ? NULL : s;
}

/* lspci -v's "Flags: ..., IRQ 16" or -vv's "Interrupt: pin A routed to
 * IRQ 16": the host's interrupt number for the function's INTx.  True
 * when the line was one of those. */
static bool irq_line(struct parser *p, const char *s, const char *end)
{
	const char *q;
	unsigned long v = 0;
	int n = 0;

	s = indented(s, end);
	if (!s || (!starts(s, end, "Flags: ") && !starts(s, end, "Interrupt: ")))
		return false;
	q = find(s, end, "IRQ ");
	if (!q)
		return true;
	for (q += 4; q < end && *q >= '0' && *q <= '9' && n < 9; q++, n++)
		v = v * 10 + (unsigned long)(*q - '0');
	if (n && n < 9 && (q == end || *q == ',' || *q == ' '))
		p->devs[p->n - 1].irq = (unsigned)v;
	return true;
}

static void region_line(struct parser *p, const char *s, const char *end)
{
	struct pvpci_dump_dev *d = &p->devs[p->n - 1];
	struct pending_base pb = { { 0, 0, 0 }, false, false };
	int idx = -1;
	bool rom = false;

	s = indented(s, end);
	if (!s)
		return;
	if (starts(s, end, "Region ")) {
		s += 7;
		if (s + 2 >= end || s[0] < '0' || s[0] > '5' || s[1] != ':' || s[2] != ' ')
			return;
		idx = s[0] - '0';
		s += 3;
	}
	if (starts(s, end, "[virtual] ")) {
		pb.virt = true;
		s += 10;
	}
	if (starts(s, end, "I/O ports at ")) {
		s += 13;
		pb.bar.flags = PVPCI_BAR_IO;
	} else if (starts(s, end, "Memory at ")) {
		s += 10;
	} else if (idx < 0 && starts(s, end, "Expansion ROM at ")) {
		s += 17;
		pb.bar.flags = PVPCI_BAR_ROM;
		rom = true;
	} else {
		return;
	}
	if (!parse_addr(&s, end, &pb.bar.addr))
		return;
	if (!(pb.bar.flags & (PVPCI_BAR_IO | PVPCI_BAR_ROM))) {
		const char *open = find(s, end, "("), *close;

		if (!open || !(close = find(open, end, ")")))
			return;
		if (starts(open + 1, close, "64-bit"))
			pb.bar.flags |= PVPCI_BAR_MEM64;
		if (find(open, close, ", prefetchable"))
			pb.bar.flags |= PVPCI_BAR_PREFETCH;
	}
	if (find(s, end, "[virtual]"))
		pb.virt = true;
	pb.size_known = parse_size(s, end, &pb.bar.size);
	if (rom)
		idx = PVPCI_ROM_BAR;
	if (idx >= 0) {
		d->bars[idx] = pb.bar;
		d->bar_sizes_known[idx] = pb.size_known;
		d->bar_virtual[idx] = pb.virt;
	} else if (p->npending < MAX_PENDING) {
		p->pending[p->npending++] = pb;
	}
}

static int one_line(struct parser *p, const char *s, const char *end)
{
	struct pvpci_bdf bdf;
	const char *rest = NULL;
	unsigned digits;
	int r;

	if (end > s && end[-1] == '\r')
		end--;
	if (s == end)
		return dev_finish(p);
	r = header_line(p, s, end, &bdf, &rest);
	if (r < 0)
		return r;
	if (r > 0) {
		r = dev_finish(p);
		if (r < 0)
			return r;
		return dev_start(p, &bdf, rest, end);
	}
	if (is_hex_line(s, end, &digits))
		return hex_line(p, s, end, digits);
	if (p->in_dev && !irq_line(p, s, end))
		region_line(p, s, end);
	return 0;
}

int pvpci_dump_parse(const char *text, size_t len, struct pvpci_dump *ret, char *errbuf, size_t errlen)
{
	return pvpci_dump_parse_at(text, len, 1, ret, errbuf, errlen);
}

int pvpci_dump_parse_at(const char *text, size_t len, unsigned first_line, struct pvpci_dump *ret,
			char *errbuf, size_t errlen)
{
	struct parser p = { .errbuf = errbuf, .errlen = errlen,
			    .lineno = first_line ? first_line - 1 : 0 };
	const char *s, *end, *nl;
	int r = 0;

	if (!ret || (!text && len))
		return -EINVAL;
	s = text ? text : "";
	end = s + len;
	if (errbuf && errlen)
		errbuf[0] = 0;
	if (len > PVPCI_DUMP_MAX_BYTES) {
		p.lineno++;
		return fail(&p, "dump of %zu bytes is over the limit of %u", len, PVPCI_DUMP_MAX_BYTES);
	}
	while (s < end) {
		p.lineno++;
		nl = memchr(s, '\n', (size_t)(end - s));
		r = one_line(&p, s, nl ? nl : end);
		if (r < 0)
			goto out;
		s = nl ? nl + 1 : end;
	}
	r = dev_finish(&p);
	if (r < 0)
		goto out;
	if (!p.n) {
		p.lineno = p.lineno > first_line ? p.lineno : first_line ? first_line : 1;
		r = fail(&p, "no PCI function found (expected the output of lspci -x)");
		goto out;
	}
	free(p.hdr_line);
	ret->devs = p.devs;
	ret->n = p.n;
	return 0;
out:
	if (r == -ENOMEM && errbuf && errlen)
		snprintf(errbuf, errlen, "line %u: out of memory", p.lineno);
	free(p.devs);
	free(p.hdr_line);
	return r;
}

/* ------------------------------------------------------------------ files */

static bool looks_binary(const unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] == 0 || (b[i] < 0x20 && !strchr("\t\n\v\f\r", b[i])))
			return true;
	return false;
}

static int from_binary(const unsigned char *b, size_t n, struct pvpci_dump *ret, char *errbuf, size_t errlen)
{
	struct pvpci_dump_dev *d;

	if (n != 64 && n != PVPCI_CFG_SIZE && n != PVPCI_CFG_EXP_SIZE) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen,
				 "not text, and %zu bytes is not a raw config image (64, 256 or 4096 bytes)", n);
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	memset(d->cfg, 0xff, sizeof(d->cfg));
	memcpy(d->cfg, b, n);
	d->len = (unsigned)n;
	ret->devs = d;
	ret->n = 1;
	return 0;
}

int pvpci_dump_parse_any(const void *buf, size_t len, struct pvpci_dump *ret, char *errbuf, size_t errlen)
{
	if (!ret || (!buf && len))
		return -EINVAL;
	if (len && looks_binary(buf, len))
		return from_binary(buf, len, ret, errbuf, errlen);
	return pvpci_dump_parse(buf, len, ret, errbuf, errlen);
}

int pvpci_dump_load(const char *path, struct pvpci_dump *ret, char *errbuf, size_t errlen)
{
	char why[PVPCI_ERRMSG_LEN] = "";
	unsigned char *buf = NULL;
	size_t n = 0, cap = 0, got;
	FILE *f;
	int r;

	if (!path || !ret)
		return -EINVAL;
	f = fopen(path, "rb");
	if (!f) {
		r = -errno;
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "cannot open %s: %s", path, strerror(-r));
		return r;
	}
	/* Read at most one byte past the limit: enough to know it is over. */
	for (;;) {
		if (n == cap) {
			unsigned char *nb;

			if (cap > PVPCI_DUMP_MAX_BYTES)
				break;
			cap = cap ? cap * 2 : 65536;
			if (cap > PVPCI_DUMP_MAX_BYTES)
				cap = PVPCI_DUMP_MAX_BYTES + 1;
			nb = realloc(buf, cap);
			if (!nb) {
				if (errbuf && errlen)
					snprintf(errbuf, errlen, "%s: out of memory", path);
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		errno = 0;
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		r = errno ? -errno : -EIO;
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "cannot read %s: %s", path, strerror(-r));
		goto out;
	}
	if (n > PVPCI_DUMP_MAX_BYTES) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s: larger than the limit of %u bytes", path, PVPCI_DUMP_MAX_BYTES);
		r = -EFBIG;
		goto out;
	}
	r = pvpci_dump_parse_any(buf, n, ret, why, sizeof(why));
	if (r < 0 && errbuf && errlen)
		snprintf(errbuf, errlen, "%s: %s", path, why);
out:
	free(buf);
	fclose(f);
	return r;
}

void pvpci_dump_free(struct pvpci_dump *d)
{
	if (!d)
		return;
	free(d->devs);
	d->devs = NULL;
	d->n = 0;
}

/* ---------------------------------------------------------------- writing */

/* As lspci's show_size, but only while the division is exact. */
static void fmt_size(uint64_t x, char *buf, size_t len)
{
	static const char suffix[] = " KMGT";
	unsigned i = 0;

	while (i < 4 && x >= 1024 && x % 1024 == 0) {
		x /= 1024;
		i++;
	}
	if (i)
		snprintf(buf, len, "%llu%c", (unsigned long long)x, suffix[i]);
	else
		snprintf(buf, len, "%llu", (unsigned long long)x);
}

static uint32_t cfg32(const uint8_t *cfg, unsigned len, unsigned off)
{
	if (off + 4 > len)
		return 0;
	return (uint32_t)cfg[off] | (uint32_t)cfg[off + 1] << 8 | (uint32_t)cfg[off + 2] << 16 |
	       (uint32_t)cfg[off + 3] << 24;
}

static void write_bars(FILE *f, const uint8_t *cfg, unsigned len, const struct pvpci_bar *bars)
{
	unsigned cmd = cfg32(cfg, len, 4) & 0xffff;
	unsigned htype = len > 0x0e ? cfg[0x0e] & 0x7f : 0xff;
	unsigned i, romoff = htype == 0 ? 0x30 : htype == 1 ? 0x38 : 0;
	const struct pvpci_bar *b;
	char size[32];

	for (i = 0; i < PVPCI_NUM_BARS; i++) {
		b = &bars[i];
		if (!b->size || (b->flags & (PVPCI_BAR_UNUSED | PVPCI_BAR_MEM64_HI | PVPCI_BAR_ROM)))
			continue;
		fmt_size(b->size, size, sizeof(size));
		fprintf(f, "\tRegion %u: ", i);
		if (b->flags & PVPCI_BAR_IO) {
			fprintf(f, "I/O ports at ");
			if (b->addr)
				fprintf(f, "%04llx", (unsigned long long)b->addr);
			else
				fprintf(f, "<unassigned>");
			fprintf(f, "%s [size=%s]\n", cmd & 1 ? "" : " [disabled]", size);
		} else {
			fprintf(f, "Memory at ");
			if (b->addr)
				fprintf(f, "%08llx", (unsigned long long)b->addr);
			else
				fprintf(f, "<unassigned>");
			fprintf(f, " (%s, %sprefetchable)%s [size=%s]\n",
				b->flags & PVPCI_BAR_MEM64 ? "64-bit" : "32-bit",
				b->flags & PVPCI_BAR_PREFETCH ? "" : "non-", cmd & 2 ? "" : " [disabled]", size);
		}
	}
	b = &bars[PVPCI_ROM_BAR];
	if (b->size && !(b->flags & PVPCI_BAR_UNUSED)) {
		fmt_size(b->size, size, sizeof(size));
		fprintf(f, "\tExpansion ROM at ");
		if (b->addr)
			fprintf(f, "%08llx", (unsigned long long)b->addr);
		else
			fprintf(f, "<unassigned>");
		if (romoff && !(cfg32(cfg, len, romoff) & 1))
			fprintf(f, " [disabled]");
		fprintf(f, " [size=%s]\n", size);
	}
}

int pvpci_dump_write(FILE *f, const struct pvpci_bdf *bdf, const char *desc, const uint8_t *cfg,
		     unsigned len, const struct pvpci_bar *bars)
{
	unsigned i;

	if (!f || !bdf || !cfg || !len || len % 16 || len > PVPCI_CFG_EXP_SIZE || bdf->dev > 0x1f ||
	    bdf->fn > 7)
		return -EINVAL;
	/* The space after the address is what makes lspci -F see a header. */
	fprintf(f, "%04x:%02x:%02x.%x ", bdf->domain, bdf->bus, bdf->dev, bdf->fn);
	for (; desc && *desc; desc++) {
		unsigned char c = (unsigned char)*desc;

		fputc(c < 0x20 || c == 0x7f ? ' ' : c, f);
	}
	fputc('\n', f);
	if (bars)
		write_bars(f, cfg, len, bars);
	for (i = 0; i < len; i++) {
		if (!(i & 15))
			fprintf(f, i < 0x100 ? "%02x:" : "%03x:", i);
		fprintf(f, " %02x", cfg[i]);
		if ((i & 15) == 15)
			fputc('\n', f);
	}
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}
