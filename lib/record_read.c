/*
 * Reading records (record.h): the parser, strict enough that a damaged or
 * cut record is said with its line rather than replayed as something it
 * is not, and lenient where a person edits (comments, blank lines, an op's
 * fields in any order, the ones the backend does not read left out).
 *
 * The text is untrusted (a record comes with a bug report): each line
 * other than a dump's is copied into a bounded, NUL-terminated buffer and
 * checked for control bytes before anything looks at it; every number has
 * a range; the whole is bounded by PVPCI_RECORD_MAX_BYTES.  Dumps go to
 * dump.c's parser, told where they start so that its messages count the
 * record's lines.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "pvpci/record.h"

#define MAX_TOKENS	64

struct rparser {
	char *errbuf;
	size_t errlen;
	unsigned lineno;
	struct pvpci_record *rec;
	size_t evcap, funccap, u16cap;
	bool in_events;
	bool have_start, have_backend, have_host;
	unsigned header_line;		/* of the first event, or of the end of the text */
	char *qtext;			/* the quirk lines, for the quirks parser */
	size_t qlen, qcap;
	unsigned *qline;		/* the record's line of each */
	size_t nq, qlcap;
	char line[PVPCI_RECORD_MAX_LINE + 1];	/* split into tok[] */
	char raw[PVPCI_RECORD_MAX_LINE + 1];	/* as read */
	char *tok[MAX_TOKENS];
	size_t ntok;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct rparser *p, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = pvpci_verrf_line(p->errbuf, p->errlen, -EINVAL, p->lineno, fmt, ap);
	va_end(ap);
	return err;
}

/* Room for one more of n elements of size sz in *arr (cap *cap). */
static int grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	size_t c;
	void *a;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 64;
	a = realloc(*arr, c * sz);
	if (!a)
		return -ENOMEM;
	*arr = a;
	*cap = c;
	return 0;
}

/* ---- numbers and words ---- */

/*
 * The whole of s as a number: decimal, or hex after "0x"; "-" in front
 * only when neg is given (then *neg says whether it was there).  Its
 * magnitude at most max.
 */
static bool number(const char *s, uint64_t max, bool *neg, uint64_t *ret)
{
	uint64_t v = 0;
	unsigned base = 10, digits = 0;

	if (neg) {
		*neg = *s == '-';
		s += *neg;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s; s++, digits++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return false;
		if (v > (max - d) / base)
			return false;
		v = v * base + d;
	}
	if (!digits)
		return false;
	*ret = v;
	return true;
}

static bool u32_of(const char *s, uint32_t max, uint32_t *ret)
{
	uint64_t v;

	if (!number(s, max, NULL, &v))
		return false;
	*ret = (uint32_t)v;
	return true;
}

static bool s32_of(const char *s, int32_t *ret)
{
	uint64_t v;
	bool neg;

	if (!number(s, (uint64_t)INT32_MAX + 1, &neg, &v) || (!neg && v > INT32_MAX))
		return false;
	*ret = neg ? (int32_t)(-(int64_t)v) : (int32_t)v;
	return true;
}

/* A hex number of 1 to 8 digits ending at stop (NUL or the char), or NULL. */
static const char *hex_field(const char *s, char stop, uint32_t *ret)
{
	uint32_t v = 0;
	int n = 0;

	for (; *s && *s != stop; s++, n++) {
		int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 :
			*s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : -1;

		if (d < 0 || n == 8)
			return NULL;
		v = v << 4 | (uint32_t)d;
	}
	if (!n || *s != stop)
		return NULL;
	*ret = v;
	return stop ? s + 1 : s;
}

/* An op's "D:B:S.F": every part as wide as the frontend wrote it. */
static bool op_dev(const char *s, uint32_t *dom, uint32_t *bus, uint32_t *devfn)
{
	uint32_t slot, fn;

	if (!(s = hex_field(s, ':', dom)) || !(s = hex_field(s, ':', bus)) ||
	    !(s = hex_field(s, '.', &slot)) || !hex_field(s, '\0', &fn) || slot > 0x1fffffff ||
	    fn > 7)
		return false;
	*devfn = slot << 3 | fn;
	return true;
}

/* "a,b,c": at most PVPCI_SH_INFO_MAX_VEC numbers of 16 bits, into the pool. */
static int u16_list(struct rparser *p, const char *key, const char *s, unsigned *ret_n,
		    size_t *ret_at)
{
	struct pvpci_record *rec = p->rec;
	char num[16];
	unsigned n = 0;

	*ret_at = rec->nu16;
	while (*s) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		uint32_t v;

		if (n == PVPCI_SH_INFO_MAX_VEC)
			return fail(p, "%s: more than %d", key, PVPCI_SH_INFO_MAX_VEC);
		if (len >= sizeof(num))
			return fail(p, "%s: '%.20s' is not a number of 16 bits", key, s);
		memcpy(num, s, len);
		num[len] = '\0';
		if (!u32_of(num, 0xffff, &v))
			return fail(p, "%s: '%s' is not a number of 16 bits", key, num);
		if (grow((void **)&rec->u16, &p->u16cap, rec->nu16, sizeof(*rec->u16)))
			return -ENOMEM;
		rec->u16[rec->nu16++] = (uint16_t)v;
		n++;
		s += len;
		if (comma && !*++s)
			return fail(p, "%s: a list ends in ','", key);
	}
	if (!n)
		return fail(p, "%s: an empty list", key);
	*ret_n = n;
	return 0;
}

static bool bdf_of(const char *s, struct pvpci_bdf *ret)
{
	return pvpci_bdf_parse(s, ret) == 0;
}

/* ---- key=value fields ---- */

struct field {
	const char *key;
	const char *val;	/* NULL: not given */
};

/*
 * The tokens tok[from, to) as key=value pairs of the keys in f (n of
 * them); each at most once, no other.
 */
static int fields(struct rparser *p, size_t from, size_t to, struct field *f, size_t n)
{
	for (size_t i = from; i < to; i++) {
		char *eq = strchr(p->tok[i], '=');
		size_t k;

		if (!eq)
			return fail(p, "'%.40s': expected KEY=VALUE", p->tok[i]);
		*eq = '\0';
		for (k = 0; k < n && strcmp(f[k].key, p->tok[i]); k++)
			;
		if (k == n)
			return fail(p, "unknown field '%.40s'", p->tok[i]);
		if (f[k].val)
			return fail(p, "field '%s' given twice", f[k].key);
		f[k].val = eq + 1;
	}
	return 0;
}

static int need(struct rparser *p, const struct field *f)
{
	return f->val ? 0 : fail(p, "no %s= field", f->key);
}

static int dom_field(struct rparser *p, const struct field *f, unsigned *ret)
{
	uint32_t v;

	if (need(p, f))
		return -EINVAL;
	if (!u32_of(f->val, 0xffff, &v))
		return fail(p, "dom=%.40s: expected a domain number (0-65535)", f->val);
	*ret = v;
	return 0;
}

static int bdf_field(struct rparser *p, const struct field *f, struct pvpci_bdf *ret)
{
	if (need(p, f))
		return -EINVAL;
	if (!bdf_of(f->val, ret))
		return fail(p, "%s=%.40s: expected a PCI address [DDDD:]BB:DD.F", f->key, f->val);
	return 0;
}

static int bool_field(struct rparser *p, const struct field *f, bool *ret)
{
	if (!f->val)
		return 0;
	if (strcmp(f->val, "0") && strcmp(f->val, "1"))
		return fail(p, "%s=%.40s: expected 0 or 1", f->key, f->val);
	*ret = f->val[0] == '1';
	return 0;
}

/* ---- lines ---- */

/* Split p->line into tokens at blanks. */
static int tokenize(struct rparser *p)
{
	char *s = p->line;

	p->ntok = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			return 0;
		if (p->ntok == MAX_TOKENS)
			return fail(p, "more than %d words", MAX_TOKENS);
		p->tok[p->ntok++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = '\0';
	}
}

/* [s, end) into p->line; a trailing \r goes. */
static int copy_line(struct rparser *p, const char *s, const char *end)
{
	size_t n = (size_t)(end - s);

	if (n && s[n - 1] == '\r')
		n--;
	if (n > PVPCI_RECORD_MAX_LINE)
		return fail(p, "longer than %d bytes", PVPCI_RECORD_MAX_LINE);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(p, "byte 0x%02x at column %zu is not text", c, i + 1);
	}
	memcpy(p->line, s, n);
	p->line[n] = '\0';
	memcpy(p->raw, s, n);
	p->raw[n] = '\0';
	return 0;
}

static bool blank_or_comment(const char *l)
{
	l += strspn(l, " \t");
	return !*l || *l == '#';
}

/* ---- the header ---- */

static int start_line(struct rparser *p)
{
	char *dot;
	uint64_t sec, ns;

	if (p->ntok != 2 || !(dot = strchr(p->tok[1], '.')) || strlen(dot + 1) != 9)
		return fail(p, "expected 'start SECONDS.NANOSECONDS'");
	*dot = '\0';
	if (strchr(p->tok[1], 'x') || strchr(dot + 1, 'x') || !number(p->tok[1], INT64_MAX, NULL, &sec) ||
	    !number(dot + 1, 999999999, NULL, &ns))
		return fail(p, "expected 'start SECONDS.NANOSECONDS'");
	p->rec->wall_sec = (int64_t)sec;
	p->rec->wall_nsec = (long)ns;
	p->have_start = true;
	return 0;
}

static int backend_line(struct rparser *p)
{
	struct field f[] = { { "mode", NULL }, { "permissive", NULL } };
	int r = fields(p, 1, p->ntok, f, 2);

	if (r)
		return r;
	if (need(p, &f[0]))
		return -EINVAL;
	if (pvpci_topo_mode_parse(f[0].val, &p->rec->mode) < 0)
		return fail(p, "mode=%.40s: expected " PVPCI_TOPO_MODES, f[0].val);
	r = bool_field(p, &f[1], &p->rec->permissive);
	if (r)
		return r;
	p->have_backend = true;
	return 0;
}

/* The rest of the line after its first word. */
static const char *rest(const struct rparser *p)
{
	const char *r = p->raw + strspn(p->raw, " \t");

	r += strcspn(r, " \t");
	return r + strspn(r, " \t");
}

/* The quirk's text after "quirk", for the quirks parser at the header's end. */
static int quirk_line(struct rparser *p)
{
	const char *q = rest(p);
	size_t n = strlen(q);

	if (grow((void **)&p->qline, &p->qlcap, p->nq, sizeof(*p->qline)))
		return -ENOMEM;
	while (p->qlen + n + 2 > p->qcap) {
		size_t c = p->qcap ? p->qcap * 2 : 1024;
		char *t = realloc(p->qtext, c);

		if (!t)
			return -ENOMEM;
		p->qtext = t;
		p->qcap = c;
	}
	memcpy(p->qtext + p->qlen, q, n);
	p->qlen += n;
	p->qtext[p->qlen++] = '\n';
	p->qline[p->nq++] = p->lineno;
	return 0;
}

/* The header is over (the first event, or the end of the text). */
static int header_end(struct rparser *p)
{
	char why[256] = "";
	unsigned at;
	int r;

	if (!p->have_start)
		return fail(p, "no 'start' line before the events");
	if (!p->have_backend)
		return fail(p, "no 'backend' line before the events");
	r = pvpci_quirks_parse(p->qtext ? p->qtext : "", p->qlen, &p->rec->quirks, why, sizeof(why));
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		/* "line N: ..." of the quirk lines: say the record's line. */
		if (sscanf(why, "line %u: ", &at) == 1 && at >= 1 && at <= p->nq) {
			p->lineno = p->qline[at - 1];
			return fail(p, "quirk: %s", strchr(why, ':') + 2);
		}
		return fail(p, "quirks: %s", why);
	}
	p->in_events = true;
	return 0;
}

/* ---- events ---- */

static int new_event(struct rparser *p, enum pvpci_rec_kind kind, uint64_t t,
		     struct pvpci_rec_event **ret)
{
	struct pvpci_record *rec = p->rec;

	if (grow((void **)&rec->ev, &p->evcap, rec->nev, sizeof(*rec->ev)))
		return -ENOMEM;
	*ret = &rec->ev[rec->nev++];
	memset(*ret, 0, sizeof(**ret));
	(*ret)->kind = kind;
	(*ret)->line = p->lineno;
	(*ret)->t_ns = t;
	return 0;
}

/* A "hidden=" or "quirks=" word: text without blanks, "-" when not given. */
static char *info_word(const struct field *f)
{
	return strdup(f->val ? f->val : "-");
}

/*
 * export / restart, then the dump: the lines from *s up to a blank one.
 * *s is moved past them.
 */
static int func_event(struct rparser *p, struct pvpci_rec_event *e, const char **s, const char *end)
{
	struct field f[] = { { "dom", NULL }, { "host", NULL }, { "guest", NULL },
			     { "permissive", NULL }, { "hidden", NULL }, { "quirks", NULL } };
	struct pvpci_record *rec = p->rec;
	struct pvpci_rec_func *fn;
	struct pvpci_dump d;
	const char *start = *s, *q = *s;
	unsigned first = p->lineno + 1, n = 0;
	char h[PVPCI_BDF_STRLEN];
	int r = fields(p, 2, p->ntok, f, 6);

	if (r)
		return r;
	if (grow((void **)&rec->funcs, &p->funccap, rec->nfuncs, sizeof(*rec->funcs)))
		return -ENOMEM;
	fn = &rec->funcs[rec->nfuncs];
	memset(fn, 0, sizeof(*fn));
	if ((r = dom_field(p, &f[0], &e->domid)) || (r = bdf_field(p, &f[1], &fn->host)) ||
	    (r = bdf_field(p, &f[2], &fn->guest)) || (r = bool_field(p, &f[3], &fn->permissive)))
		return r;
	fn->hidden = info_word(&f[4]);
	fn->quirks = info_word(&f[5]);
	rec->nfuncs++;		/* from here record_free frees its words */
	if (!fn->hidden || !fn->quirks)
		return -ENOMEM;
	e->u.func = rec->nfuncs - 1;

	/* The dump runs to a blank line (as lspci ends a function). */
	while (q < end) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		const char *le = nl ? nl : end;

		if (le == q || (le == q + 1 && *q == '\r'))
			break;
		n++;
		q = nl ? nl + 1 : end;
	}
	if (!n)
		return fail(p, "no config dump of %s follows", pvpci_bdf_format(&fn->host, h));
	r = pvpci_dump_parse_at(start, (size_t)(q - start), first, &d, p->errbuf, p->errlen);
	if (r < 0)
		return r;
	p->lineno = first;
	if (d.n != 1)
		r = fail(p, "the dump holds %zu functions; one expected", d.n);
	else if (pvpci_bdf_cmp(&d.devs[0].bdf, &fn->host))
		r = fail(p, "the dump is of %s, not of host=%s", pvpci_bdf_format(&d.devs[0].bdf, h),
			 f[1].val);
	else if ((d.devs[0].len != PVPCI_CFG_SIZE && d.devs[0].len != PVPCI_CFG_EXP_SIZE) ||
		 !d.devs[0].whole)
		r = fail(p, "the dump does not give every byte of 256 or 4096 of config space, as a "
			    "record has them (cut short?)");
	else
		fn->dump = d.devs[0];
	pvpci_dump_free(&d);
	if (r)
		return r;
	/* The blank line that ends it is the next one read. */
	p->lineno = first + n - 1;
	*s = q;
	return 0;
}

static int op_event(struct rparser *p, struct pvpci_rec_event *e)
{
	struct field in[] = { { "off", NULL }, { "size", NULL }, { "value", NULL }, { "info", NULL },
			      { "entries", NULL } };
	struct field out[] = { { "err", NULL }, { "value", NULL }, { "vectors", NULL } };
	struct field dom[] = { { "dom", NULL } };
	size_t arrow;
	int r;

	for (arrow = 2; arrow < p->ntok && strcmp(p->tok[arrow], "->"); arrow++)
		;
	if (arrow == p->ntok)
		return fail(p, "no '->' and answer after the op");
	if (arrow < 5)
		return fail(p, "expected 'op dom=D CMD DEV [FIELD=VALUE...] -> err=N value=N'");
	if ((r = fields(p, 2, 3, dom, 1)) || (r = dom_field(p, &dom[0], &e->domid)))
		return r;
	e->u.op.cmd = UINT32_MAX;
	for (uint32_t c = 0; pvpci_op_name(c); c++)
		if (!strcmp(pvpci_op_name(c), p->tok[3]))
			e->u.op.cmd = c;
	if (e->u.op.cmd == UINT32_MAX && !u32_of(p->tok[3], UINT32_MAX, &e->u.op.cmd))
		return fail(p, "'%.40s' is not an op (conf_read ... enable_multi_msi, or a number)",
			    p->tok[3]);
	if (!op_dev(p->tok[4], &e->u.op.domain, &e->u.op.bus, &e->u.op.devfn))
		return fail(p, "'%.40s': expected the op's DOMAIN:BUS:SLOT.FUNCTION (hex)", p->tok[4]);
	if ((r = fields(p, 5, arrow, in, 5)) || (r = fields(p, arrow + 1, p->ntok, out, 3)))
		return r;
	if (in[0].val && !s32_of(in[0].val, &e->u.op.offset))
		return fail(p, "off=%.40s: expected a 32-bit number", in[0].val);
	if (in[1].val && !s32_of(in[1].val, &e->u.op.size))
		return fail(p, "size=%.40s: expected a 32-bit number", in[1].val);
	if (in[2].val && !u32_of(in[2].val, UINT32_MAX, &e->u.op.value))
		return fail(p, "value=%.40s: expected a 32-bit number", in[2].val);
	if (in[3].val && !u32_of(in[3].val, UINT32_MAX, &e->u.op.info))
		return fail(p, "info=%.40s: expected a 32-bit number", in[3].val);
	if (in[4].val && (r = u16_list(p, "entries", in[4].val, &e->u.op.nent, &e->u.op.ent)))
		return r;
	if ((r = need(p, &out[0])) || (r = need(p, &out[1])))
		return r;
	if (!s32_of(out[0].val, &e->u.op.err))
		return fail(p, "err=%.40s: expected a 32-bit number", out[0].val);
	if (!u32_of(out[1].val, UINT32_MAX, &e->u.op.ans_value))
		return fail(p, "value=%.40s: expected a 32-bit number", out[1].val);
	if (out[2].val && (r = u16_list(p, "vectors", out[2].val, &e->u.op.nvec, &e->u.op.vec)))
		return r;
	return 0;
}

static int aer_cmd(struct rparser *p, const struct field *f, uint32_t *ret)
{
	static const uint32_t cmds[] = { PVPCI_XEN_PCI_OP_aer_detected, PVPCI_XEN_PCI_OP_aer_mmio,
					 PVPCI_XEN_PCI_OP_aer_slotreset, PVPCI_XEN_PCI_OP_aer_resume };

	if (need(p, f))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(f->val, pvpci_op_name(cmds[i]))) {
			*ret = cmds[i];
			return 0;
		}
	return fail(p, "cmd=%.40s: expected aer_detected, aer_mmio, aer_slotreset or aer_resume",
		    f->val);
}

static int aer_event(struct rparser *p, struct pvpci_rec_event *e, bool answer)
{
	struct field f[] = { { "dom", NULL }, { "host", NULL }, { "cmd", NULL },
			     { answer ? "result" : "state", NULL } };
	int r = fields(p, 2, p->ntok, f, 4);

	if (r || (r = dom_field(p, &f[0], &e->domid)) || (r = bdf_field(p, &f[1], &e->u.aer.host)) ||
	    (r = aer_cmd(p, &f[2], &e->u.aer.cmd)) || (r = need(p, &f[3])))
		return r;
	if (answer && !strcmp(f[3].val, "timeout"))
		e->u.aer.timeout = true;
	else if (!s32_of(f[3].val, &e->u.aer.val))
		return fail(p, "%s=%.40s: expected a number%s", f[3].key, f[3].val,
			    answer ? " or timeout" : "");
	return 0;
}

static int event_line(struct rparser *p, const char **s, const char *end)
{
	static const struct {
		const char *name;
		enum pvpci_rec_kind kind;
	} kinds[] = {
		{ "export", PVPCI_REC_EXPORT }, { "restart", PVPCI_REC_RESTART },
		{ "unexport", PVPCI_REC_UNEXPORT }, { "connect", PVPCI_REC_CONNECT },
		{ "disconnect", PVPCI_REC_DISCONNECT }, { "op", PVPCI_REC_OP },
		{ "aer", PVPCI_REC_AER }, { "aer-answer", PVPCI_REC_AER_ANSWER },
		{ "lost", PVPCI_REC_LOST },
	};
	struct pvpci_rec_event *e;
	uint64_t t;
	size_t k;
	int r;

	if (p->rec->ended)
		return fail(p, "an event after the end line");
	if (!number(p->tok[0], UINT64_MAX, NULL, &t))
		return fail(p, "'%.40s': expected the time (nanoseconds since the start)", p->tok[0]);
	if (p->ntok < 2)
		return fail(p, "no event after the time");
	if (!strcmp(p->tok[1], "end")) {
		if (p->ntok > 2)
			return fail(p, "'%.40s' after end", p->tok[2]);
		p->rec->ended = true;
		return 0;
	}
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && strcmp(kinds[k].name, p->tok[1]); k++)
		;
	if (k == sizeof(kinds) / sizeof(kinds[0]))
		return fail(p, "unknown event '%.40s'", p->tok[1]);
	r = new_event(p, kinds[k].kind, t, &e);
	if (r)
		return r;
	switch (e->kind) {
	case PVPCI_REC_EXPORT:
	case PVPCI_REC_RESTART:
		return func_event(p, e, s, end);
	case PVPCI_REC_UNEXPORT: {
		struct field f[] = { { "dom", NULL }, { "host", NULL } };

		if ((r = fields(p, 2, p->ntok, f, 2)) || (r = dom_field(p, &f[0], &e->domid)))
			return r;
		return bdf_field(p, &f[1], &e->u.host);
	}
	case PVPCI_REC_CONNECT:
	case PVPCI_REC_DISCONNECT: {
		struct field f[] = { { "dom", NULL } };

		if ((r = fields(p, 2, p->ntok, f, 1)))
			return r;
		return dom_field(p, &f[0], &e->domid);
	}
	case PVPCI_REC_OP:
		return op_event(p, e);
	case PVPCI_REC_AER:
	case PVPCI_REC_AER_ANSWER:
		return aer_event(p, e, e->kind == PVPCI_REC_AER_ANSWER);
	case PVPCI_REC_LOST: {
		struct field f[] = { { "events", NULL } };
		uint64_t n;

		if ((r = fields(p, 2, p->ntok, f, 1)) || (r = need(p, &f[0])))
			return r;
		if (!number(f[0].val, UINT32_MAX, NULL, &n))
			return fail(p, "events=%.40s: expected a count", f[0].val);
		e->u.lost = (unsigned long)n;
		return 0;
	}
	}
	return 0;
}

static int one_line(struct rparser *p, const char **s, const char *end)
{
	int r;

	if (blank_or_comment(p->line))
		return 0;
	r = tokenize(p);
	if (r)
		return r;
	if (p->tok[0][0] >= '0' && p->tok[0][0] <= '9') {
		if (!p->in_events && (r = header_end(p)))
			return r;
		return event_line(p, s, end);
	}
	if (p->in_events)
		return fail(p, "'%.40s': a header line among the events (or an event without its time)",
			    p->tok[0]);
	if (!strcmp(p->tok[0], "start"))
		return p->have_start ? fail(p, "a second 'start' line") : start_line(p);
	if (!strcmp(p->tok[0], "backend"))
		return p->have_backend ? fail(p, "a second 'backend' line") : backend_line(p);
	if (!strcmp(p->tok[0], "host")) {
		if (p->have_host)
			return fail(p, "a second 'host' line");
		snprintf(p->rec->host, sizeof(p->rec->host), "%s", rest(p));
		p->have_host = true;
		return 0;
	}
	if (!strcmp(p->tok[0], "quirk"))
		return quirk_line(p);
	return fail(p, "unknown line '%.40s'", p->tok[0]);
}

static int magic_line(struct rparser *p)
{
	uint64_t v;

	if (tokenize(p) || p->ntok != 2 || strcmp(p->tok[0], "pvpci-record"))
		return fail(p, "not a pvpci record (it starts 'pvpci-record %d')", PVPCI_RECORD_VERSION);
	if (!number(p->tok[1], UINT32_MAX, NULL, &v))
		return fail(p, "'%.40s' is not a version", p->tok[1]);
	if (v != PVPCI_RECORD_VERSION)
		return fail(p, "a record of version %llu; this pvpci reads version %d",
			    (unsigned long long)v, PVPCI_RECORD_VERSION);
	p->rec->version = (unsigned)v;
	return 0;
}

int pvpci_record_parse(const char *text, size_t len, struct pvpci_record **ret, char *errbuf,
		       size_t errlen)
{
	struct rparser *p;
	const char *s, *end;
	int r = 0;

	if (!ret || (!text && len))
		return -EINVAL;
	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (len > PVPCI_RECORD_MAX_BYTES)
		return pvpci_errf(errbuf, errlen, -E2BIG, "a record of %zu bytes is over the limit of %u",
				  len, PVPCI_RECORD_MAX_BYTES);
	p = calloc(1, sizeof(*p));
	if (!p || !(p->rec = calloc(1, sizeof(*p->rec)))) {
		free(p);
		return pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
	}
	p->errbuf = errbuf;
	p->errlen = errlen;
	s = text ? text : "";
	end = s + len;
	while (r == 0 && s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;

		p->lineno++;
		r = copy_line(p, s, le);
		s = nl ? nl + 1 : end;
		if (r == 0)
			r = p->lineno == 1 ? magic_line(p) : one_line(p, &s, end);
	}
	if (r == 0 && !p->lineno) {
		p->lineno = 1;
		r = fail(p, "empty: not a pvpci record");
	}
	if (r == 0 && !p->in_events) {
		p->lineno++;
		r = header_end(p);
	}
	p->rec->lines = p->lineno;
	if (r == -ENOMEM)
		pvpci_errf(errbuf, errlen, r, "line %u: out of memory", p->lineno);
	if (r == 0)
		*ret = p->rec;
	else
		pvpci_record_free(p->rec);
	free(p->qtext);
	free(p->qline);
	free(p);
	return r;
}

int pvpci_record_load(const char *path, struct pvpci_record **ret, char *errbuf, size_t errlen)
{
	char why[512] = "";
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int r;

	if (!f)
		return pvpci_errf(errbuf, errlen, -errno, "cannot open %s: %s", path, strerror(errno));
	for (;;) {
		size_t n;

		if (len == cap) {
			char *t;

			if (cap > PVPCI_RECORD_MAX_BYTES) {
				fclose(f);
				free(text);
				return pvpci_errf(errbuf, errlen, -E2BIG,
						  "%s: over the limit of %u bytes for a record", path,
						  PVPCI_RECORD_MAX_BYTES);
			}
			cap = cap ? cap * 2 : 1 << 16;
			t = realloc(text, cap);
			if (!t) {
				fclose(f);
				free(text);
				return pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
			}
			text = t;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	r = ferror(f) ? -EIO : 0;
	fclose(f);
	if (r == 0)
		r = pvpci_record_parse(text, len, ret, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "read error");
	free(text);
	if (r < 0)
		pvpci_errf(errbuf, errlen, r, "%s: %s", path, why);
	return r;
}

void pvpci_record_free(struct pvpci_record *rec)
{
	if (!rec)
		return;
	for (size_t i = 0; i < rec->nfuncs; i++) {
		free(rec->funcs[i].hidden);
		free(rec->funcs[i].quirks);
	}
	pvpci_quirks_free(rec->quirks);
	free(rec->funcs);
	free(rec->ev);
	free(rec->u16);
	free(rec);
}

void pvpci_rec_event_op(const struct pvpci_record *rec, const struct pvpci_rec_event *e,
			struct pvpci_op *ret_sent, struct pvpci_rec_answer *ret_answer)
{
	memset(ret_sent, 0, sizeof(*ret_sent));
	ret_sent->cmd = e->u.op.cmd;
	ret_sent->domain = e->u.op.domain;
	ret_sent->bus = e->u.op.bus;
	ret_sent->devfn = e->u.op.devfn;
	ret_sent->offset = e->u.op.offset;
	ret_sent->size = e->u.op.size;
	ret_sent->value = e->u.op.value;
	ret_sent->info = e->u.op.info;
	for (unsigned i = 0; i < e->u.op.nent; i++)
		ret_sent->msix_entries[i].entry = rec->u16[e->u.op.ent + i];
	ret_answer->err = e->u.op.err;
	ret_answer->value = e->u.op.ans_value;
	ret_answer->nvec = e->u.op.nvec;
	for (unsigned i = 0; i < e->u.op.nvec; i++)
		ret_answer->vectors[i] = rec->u16[e->u.op.vec + i];
}
