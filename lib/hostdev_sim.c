/*
 * The `sim` host backend: functions simulated from a config dump, which
 * answer reads and writes the way hardware does, and record every write so
 * that tests can see what reached the "device".
 *
 * Owns: loading the dump into a host, the per-function image, the register
 * table that says which bits are read-only or write-1-to-clear (the
 * "rules" below, the one place where that is decided), BAR sizing, reset
 * and the write log.  Does not own: access validation (lib/hostdev.c
 * checks size, alignment and range before we are called), parsing (dump.c),
 * or anything a guest sees (confspace).  The behaviour is documented for
 * users in include/pvpci/hostdev_sim.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvpci/dump.h"
#include "pvpci/hostdev.h"
#include "pvpci/hostdev_sim.h"

struct sim_host {
	struct pvpci_host head;
	struct pvpci_dump dump;		/* sorted by BDF */
	bool *busy;			/* per function: open now */
	char *name;			/* the path, for messages */
	unsigned refs;			/* the host handle, plus one per open device */
};

struct sim_dev {
	struct pvpci_hostdev head;
	struct sim_host *h;
	size_t idx;
	uint8_t init[PVPCI_CFG_EXP_SIZE];	/* as loaded: what reset returns to */
	uint8_t cfg[PVPCI_CFG_EXP_SIZE];	/* as it is now */
	uint8_t ro[PVPCI_CFG_EXP_SIZE];		/* bits a write leaves alone */
	uint8_t w1c[PVPCI_CFG_EXP_SIZE];	/* bits a 1 clears */
	struct pvpci_bar bars[PVPCI_NUM_BARS + 1];
	struct pvpci_sim_write *log;
	size_t nlog, logcap;
	unsigned long dropped;
	unsigned resets;
};

static struct sim_dev *to_sim(const struct pvpci_hostdev *d)
{
	if (!d || d->ops != &pvpci_hostdev_sim_ops)
		return NULL;
	return (struct sim_dev *)d;
}

static uint32_t rd32(const uint8_t *b, unsigned off)
{
	return (uint32_t)b[off] | (uint32_t)b[off + 1] << 8 | (uint32_t)b[off + 2] << 16 |
	       (uint32_t)b[off + 3] << 24;
}

/* ------------------------------------------------------------------ rules */

/*
 * One register's fixed behaviour: bits in ro keep their value whatever is
 * written, bits in w1c are cleared by writing 1 and kept by writing 0, the
 * rest is written as given.  Offsets are relative to the header or to the
 * capability the rule belongs to.
 */
struct sim_rule {
	uint16_t off;
	uint8_t size;
	uint32_t ro;
	uint32_t w1c;
};

#define RO_ALL		0xffffffffu
#define STATUS_W1C	0xf900u		/* parity, target/master aborts, SERR */

static const struct sim_rule hdr_common[] = {
	{ 0x00, 4, RO_ALL, 0 },			/* vendor and device ID */
	{ 0x04, 2, 0xf800, 0 },			/* Command: 11-15 reserved */
	{ 0x06, 2, (uint16_t)~STATUS_W1C, STATUS_W1C },	/* Status */
	{ 0x08, 4, RO_ALL, 0 },			/* revision, class code */
	{ 0x0e, 1, RO_ALL, 0 },			/* header type */
	{ 0x0f, 1, RO_ALL, 0 },			/* BIST: nothing here to start a self test */
	{ 0x3d, 1, RO_ALL, 0 },			/* interrupt pin */
};

static const struct sim_rule hdr_type0[] = {
	{ 0x28, 4, RO_ALL, 0 },			/* CardBus CIS pointer */
	{ 0x2c, 4, RO_ALL, 0 },			/* subsystem vendor and ID */
	{ 0x34, 4, RO_ALL, 0 },			/* capability pointer, reserved */
	{ 0x38, 4, RO_ALL, 0 },			/* reserved */
	{ 0x3e, 2, RO_ALL, 0 },			/* Min_Gnt, Max_Lat */
};

static const struct sim_rule hdr_type1[] = {
	{ 0x1c, 2, 0x0f0f, 0 },			/* I/O base/limit: addressing nibbles */
	{ 0x1e, 2, (uint16_t)~STATUS_W1C, STATUS_W1C },	/* Secondary Status */
	{ 0x20, 4, 0x000f000f, 0 },		/* memory base/limit: reserved nibbles */
	{ 0x24, 4, 0x000f000f, 0 },		/* prefetchable base/limit: type nibbles */
	{ 0x34, 4, RO_ALL, 0 },			/* capability pointer, reserved */
};

static const struct sim_rule hdr_type2[] = {
	{ 0x14, 1, RO_ALL, 0 },			/* capability pointer */
	{ 0x16, 2, (uint16_t)~STATUS_W1C, STATUS_W1C },	/* Secondary Status */
	{ 0x40, 4, RO_ALL, 0 },			/* subsystem vendor and ID */
};

static const struct sim_rule cap_exp[] = {	/* PCI Express, ID 0x10 */
	{ 0x02, 2, RO_ALL, 0 },			/* PCIe Capabilities */
	{ 0x04, 4, RO_ALL, 0 },			/* Device Capabilities */
	{ 0x0a, 2, 0xfff0, 0x000f },		/* Device Status: error bits RW1C */
	{ 0x0c, 4, RO_ALL, 0 },			/* Link Capabilities */
	{ 0x12, 2, RO_ALL, 0 },			/* Link Status */
};

static const struct sim_rule ecap_aer[] = {	/* Advanced Error Reporting, ID 0x0001 */
	{ 0x04, 4, 0, RO_ALL },			/* Uncorrectable Error Status */
	{ 0x10, 4, 0, RO_ALL },			/* Correctable Error Status */
};

#define RULES(t) t, sizeof(t) / sizeof(t[0])

static const struct {
	const struct sim_rule *r;
	size_t n;
} hdr_rules[3] = { { RULES(hdr_type0) }, { RULES(hdr_type1) }, { RULES(hdr_type2) } };

static const struct {
	bool ext;
	uint16_t id;
	const struct sim_rule *r;
	size_t n;
} cap_rules[] = {
	{ false, 0x10, RULES(cap_exp) },
	{ true, 0x0001, RULES(ecap_aer) },
};

/*
 * Set the masks of size bytes at off.  Bytes at or past limit are skipped:
 * a capability near the end of its space must not reach into the next one.
 */
static void set_masks_in(struct sim_dev *s, unsigned off, unsigned size, uint32_t ro, uint32_t w1c,
			 unsigned limit)
{
	unsigned i;

	ro &= ~w1c;
	for (i = 0; i < size; i++) {
		if (off + i >= limit || off + i >= s->head.cfg_size)
			return;
		s->ro[off + i] = (uint8_t)(ro >> (8 * i));
		s->w1c[off + i] = (uint8_t)(w1c >> (8 * i));
	}
}

static void set_masks(struct sim_dev *s, unsigned off, unsigned size, uint32_t ro, uint32_t w1c)
{
	set_masks_in(s, off, size, ro, w1c, PVPCI_CFG_EXP_SIZE);
}

static void apply_rules(struct sim_dev *s, unsigned base, const struct sim_rule *r, size_t n, unsigned limit)
{
	size_t i;

	for (i = 0; i < n; i++)
		set_masks_in(s, base + r[i].off, r[i].size, r[i].ro, r[i].w1c, limit);
}

static void apply_cap_rules(struct sim_dev *s, unsigned base, bool ext, unsigned id)
{
	size_t i;

	for (i = 0; i < sizeof(cap_rules) / sizeof(cap_rules[0]); i++)
		if (cap_rules[i].ext == ext && cap_rules[i].id == id)
			apply_rules(s, base, cap_rules[i].r, cap_rules[i].n,
				    ext ? PVPCI_CFG_EXP_SIZE : PVPCI_CFG_SIZE);
}

/*
 * The chains are walked on the loaded image (their links are read-only, so
 * writes cannot change them) with a visited set: a looping or garbage chain
 * in a dump must not hang us.
 */
static void walk_caps(struct sim_dev *s, unsigned ptr_off)
{
	bool seen[PVPCI_CFG_SIZE / 4] = { false };
	unsigned ptr;

	if (!(rd32(s->init, 0x04) >> 16 & 0x10))	/* Status.CapList */
		return;
	for (ptr = s->init[ptr_off] & 0xfc; ptr >= 0x40 && !seen[ptr / 4]; ptr = s->init[ptr + 1] & 0xfc) {
		seen[ptr / 4] = true;
		set_masks(s, ptr, 2, RO_ALL, 0);	/* ID and next */
		apply_cap_rules(s, ptr, false, s->init[ptr]);
	}
}

static void walk_ext_caps(struct sim_dev *s)
{
	bool seen[(PVPCI_CFG_EXP_SIZE - PVPCI_CFG_SIZE) / 4] = { false };
	unsigned off = PVPCI_CFG_SIZE;
	uint32_t hdr;

	if (s->head.cfg_size < PVPCI_CFG_EXP_SIZE)
		return;
	while (off >= PVPCI_CFG_SIZE && !seen[(off - PVPCI_CFG_SIZE) / 4]) {
		hdr = rd32(s->init, off);
		if (hdr == 0 || hdr == 0xffffffff)
			return;
		seen[(off - PVPCI_CFG_SIZE) / 4] = true;
		set_masks(s, off, 4, RO_ALL, 0);	/* ID, version, next */
		apply_cap_rules(s, off, true, hdr & 0xffff);
		off = hdr >> 20 & 0xffc;
	}
}

/* ------------------------------------------------------------------- BARs */

/* The power of two at or above x; 0 for 0 and for what does not fit. */
static uint64_t pow2_ceil(uint64_t x)
{
	uint64_t p = 1;

	if (!x)
		return 0;
	while (p < x) {
		if (p >> 63)
			return 0;
		p <<= 1;
	}
	return p;
}

/*
 * The decoding size of BAR idx whose address (as the dump has it) is addr:
 * the Region line's when it fits the register, else the natural alignment
 * of the address, else dflt.  See hostdev_sim.h for why.
 */
static uint64_t bar_size(const struct pvpci_dump_dev *dd, unsigned idx, uint64_t addr, uint64_t min,
			 uint64_t dflt, uint64_t max)
{
	uint64_t s = 0;

	if (dd->bar_sizes_known[idx] && dd->bars[idx].size) {
		s = pow2_ceil(dd->bars[idx].size);
		if (s && s < min)
			s = min;
		if (s > max || (addr & (s - 1)))
			s = 0;
	}
	if (!s)
		s = addr ? addr & -addr : dflt;
	if (s < min)
		s = min;
	return s > max ? max : s;
}

/* The register decodes nothing: it keeps the dump's value (0 when unused). */
static void bar_fixed(struct sim_dev *s, unsigned off)
{
	set_masks(s, off, 4, RO_ALL, 0);
}

static void setup_bars(struct sim_dev *s, const struct pvpci_dump_dev *dd)
{
	unsigned htype = s->init[0x0e] & 0x7f;
	unsigned nbars = htype == 0 ? 6 : htype == 1 ? 2 : htype == 2 ? 1 : 0;
	unsigned romoff = htype == 0 ? 0x30 : htype == 1 ? 0x38 : 0;
	unsigned i, off;

	for (i = 0; i <= PVPCI_ROM_BAR; i++)
		s->bars[i] = (struct pvpci_bar){ .flags = PVPCI_BAR_UNUSED };

	for (i = 0; i < nbars; i++) {
		uint32_t lo, pref, type;
		uint64_t addr, size;
		bool io;

		off = 0x10 + 4 * i;
		lo = rd32(s->init, off);
		if (dd->bar_virtual[i]) {
			bar_fixed(s, off);
			s->bars[i] = dd->bars[i];
			s->bars[i].size = pow2_ceil(dd->bars[i].size);
			if ((dd->bars[i].flags & PVPCI_BAR_MEM64) && i + 1 < nbars) {
				bar_fixed(s, off + 4);
				s->bars[i + 1] = dd->bars[i + 1];
				i++;
			}
			continue;
		}
		if (!lo && !dd->bar_sizes_known[i]) {
			bar_fixed(s, off);
			continue;
		}
		if (lo) {
			io = lo & 1;
			type = lo >> 1 & 3;
			pref = lo & 8;
		} else {	/* an unassigned BAR: its type from the line */
			io = dd->bars[i].flags & PVPCI_BAR_IO;
			type = dd->bars[i].flags & PVPCI_BAR_MEM64 ? 2 : 0;
			pref = dd->bars[i].flags & PVPCI_BAR_PREFETCH;
		}
		if (io) {
			addr = lo & ~3u;
			size = bar_size(dd, i, addr, 4, 16, 1ull << 31);
			set_masks(s, off, 4, (uint32_t)(size - 1) | 3, 0);
			s->bars[i] = (struct pvpci_bar){ addr, size, PVPCI_BAR_IO };
		} else if (type == 2 && i + 1 < nbars) {
			addr = (lo & ~0xfu) | (uint64_t)rd32(s->init, off + 4) << 32;
			size = bar_size(dd, i, addr, 16, 4096, 1ull << 63);
			set_masks(s, off, 4, (uint32_t)(size - 1) | 0xf, 0);
			set_masks(s, off + 4, 4, (uint32_t)((size - 1) >> 32), 0);
			s->bars[i] = (struct pvpci_bar){ addr, size, PVPCI_BAR_MEM64 | (pref ? PVPCI_BAR_PREFETCH : 0) };
			s->bars[i + 1] = (struct pvpci_bar){ 0, 0, PVPCI_BAR_MEM64_HI | (pref ? PVPCI_BAR_PREFETCH : 0) };
			i++;
		} else {
			addr = lo & ~0xfu;
			size = bar_size(dd, i, addr, 16, 4096, 1ull << 31);
			set_masks(s, off, 4, (uint32_t)(size - 1) | 0xf, 0);
			s->bars[i] = (struct pvpci_bar){ addr, size, pref ? PVPCI_BAR_PREFETCH : 0 };
		}
	}

	if (!romoff)
		return;
	{
		uint32_t v = rd32(s->init, romoff);
		uint64_t addr = v & 0xfffff800u, size;

		if (dd->bar_virtual[PVPCI_ROM_BAR]) {
			bar_fixed(s, romoff);
			s->bars[PVPCI_ROM_BAR] = dd->bars[PVPCI_ROM_BAR];
			s->bars[PVPCI_ROM_BAR].size = pow2_ceil(dd->bars[PVPCI_ROM_BAR].size);
			s->bars[PVPCI_ROM_BAR].flags = PVPCI_BAR_ROM;
		} else if (!v && !dd->bar_sizes_known[PVPCI_ROM_BAR]) {
			bar_fixed(s, romoff);
		} else {
			/* Address bits below the size and the reserved bits 1-10
			 * are fixed; the enable bit is the device's to take. */
			size = bar_size(dd, PVPCI_ROM_BAR, addr, 2048, 4096, 1ull << 31);
			set_masks(s, romoff, 4, ((uint32_t)(size - 1) | 0x7ff) & ~1u, 0);
			s->bars[PVPCI_ROM_BAR] = (struct pvpci_bar){ addr, size, PVPCI_BAR_ROM };
		}
	}
}

/*
 * Every mask of the device, from its loaded image: the header's rules, the
 * BARs, then the capabilities' (later ones win where they overlap, so the
 * more specific rule decides).
 */
static void build_masks(struct sim_dev *s, const struct pvpci_dump_dev *dd)
{
	unsigned htype = s->init[0x0e] & 0x7f;

	apply_rules(s, 0, hdr_common, sizeof(hdr_common) / sizeof(hdr_common[0]), PVPCI_CFG_SIZE);
	if (htype < 3)
		apply_rules(s, 0, hdr_rules[htype].r, hdr_rules[htype].n, PVPCI_CFG_SIZE);
	setup_bars(s, dd);
	walk_caps(s, htype == 2 ? 0x14 : 0x34);
	walk_ext_caps(s);
}

/* ------------------------------------------------------------------ hosts */

static void host_unref(struct sim_host *h)
{
	if (--h->refs)
		return;
	pvpci_dump_free(&h->dump);
	free(h->busy);
	free(h->name);
	free(h);
}

static int cmp_dev(const void *a, const void *b)
{
	return pvpci_bdf_cmp(&((const struct pvpci_dump_dev *)a)->bdf, &((const struct pvpci_dump_dev *)b)->bdf);
}

/* Takes the dump (freed on failure too). */
static int host_new(struct pvpci_dump *dump, const char *name, struct pvpci_host **ret, char *errbuf,
		    size_t errlen)
{
	struct sim_host *h = calloc(1, sizeof(*h));

	if (h) {
		h->busy = calloc(dump->n, sizeof(*h->busy));
		h->name = strdup(name);
	}
	if (!h || !h->busy || !h->name) {
		if (h) {
			free(h->busy);
			free(h->name);
		}
		free(h);
		pvpci_dump_free(dump);
		snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	qsort(dump->devs, dump->n, sizeof(*dump->devs), cmp_dev);
	h->dump = *dump;
	h->refs = 1;
	h->head.ops = &pvpci_hostdev_sim_ops;
	*ret = &h->head;
	return 0;
}

static int sim_host_open(const char *arg, struct pvpci_host **ret, char *errbuf, size_t errlen)
{
	struct pvpci_dump dump;
	int r;

	if (!arg || !*arg) {
		snprintf(errbuf, errlen, "sim needs a dump file: sim:PATH");
		return -EINVAL;
	}
	r = pvpci_dump_load(arg, &dump, errbuf, errlen);
	if (r < 0)
		return r;
	return host_new(&dump, arg, ret, errbuf, errlen);
}

int pvpci_sim_host_from_dump(struct pvpci_dump *dump, const char *name, struct pvpci_host **ret,
			     char *errbuf, size_t errlen)
{
	char why[PVPCI_ERRMSG_LEN] = "";
	int r;

	if (!dump || !ret)
		return -EINVAL;
	r = host_new(dump, name ? name : "<memory>", ret, why, sizeof(why));
	*dump = (struct pvpci_dump){ 0 };
	if (r < 0 && errbuf && errlen)
		snprintf(errbuf, errlen, "%s", why);
	return r;
}

int pvpci_sim_host_replace(struct pvpci_host *hh, const struct pvpci_dump_dev *dd)
{
	struct sim_host *h = (struct sim_host *)hh;

	if (!hh || hh->ops != &pvpci_hostdev_sim_ops || !dd)
		return -EINVAL;
	for (size_t i = 0; i < h->dump.n; i++)
		if (!pvpci_bdf_cmp(&h->dump.devs[i].bdf, &dd->bdf)) {
			h->dump.devs[i] = *dd;
			return 0;
		}
	return -ENOENT;
}

int pvpci_sim_host_from_text(const char *text, size_t len, struct pvpci_host **ret, char *errbuf,
			     size_t errlen)
{
	char why[PVPCI_ERRMSG_LEN] = "";
	struct pvpci_dump dump;
	int r;

	if (!ret)
		return -EINVAL;
	r = pvpci_dump_parse_any(text, len, &dump, why, sizeof(why));
	if (r >= 0)
		r = host_new(&dump, "<memory>", ret, why, sizeof(why));
	if (r < 0 && errbuf && errlen)
		snprintf(errbuf, errlen, "%s", why);
	return r;
}

static int sim_host_list(struct pvpci_host *hh, struct pvpci_bdf *ret, size_t max, size_t *ret_n)
{
	struct sim_host *h = (struct sim_host *)hh;
	size_t i;

	if (!ret_n || (max && !ret))
		return -EINVAL;
	/* Like snprintf: fills what fits and says how many there are. */
	for (i = 0; i < h->dump.n && i < max; i++)
		ret[i] = h->dump.devs[i].bdf;
	*ret_n = h->dump.n;
	return 0;
}

static void sim_host_close(struct pvpci_host *hh)
{
	host_unref((struct sim_host *)hh);
}

/* The dump's function at bdf, or NULL. */
static const struct pvpci_dump_dev *dump_dev(const struct sim_host *h, const struct pvpci_bdf *bdf,
					     size_t *ret_idx)
{
	for (size_t idx = 0; idx < h->dump.n; idx++)
		if (!pvpci_bdf_cmp(&h->dump.devs[idx].bdf, bdf)) {
			if (ret_idx)
				*ret_idx = idx;
			return &h->dump.devs[idx];
		}
	return NULL;
}

/* As the dump has it: Interrupt Pin, and the IRQ lspci -v printed, else
 * the Interrupt Line the firmware wrote (0 and 0xff: none). */
static int sim_host_intx(struct pvpci_host *hh, const struct pvpci_bdf *bdf, struct pvpci_intx *ret)
{
	struct sim_host *h = (struct sim_host *)hh;
	const struct pvpci_dump_dev *dd = dump_dev(h, bdf, NULL);
	char b[PVPCI_BDF_STRLEN];
	unsigned line;

	if (!dd) {
		pvpci_host_set_err(hh, "no function %s in %s", pvpci_bdf_format(bdf, b), h->name);
		return -ENODEV;
	}
	line = dd->len > 0x3c ? dd->cfg[0x3c] : 0;
	ret->pin = dd->len > 0x3d ? dd->cfg[0x3d] : 0;	/* 5 and up: reserved, yet not "none" */
	ret->irq = dd->irq ? dd->irq : line == 0xff ? 0 : line;
	return 0;
}

/* ---------------------------------------------------------------- devices */

/* The image a dump gives: past what it gave, registers read 0 as
 * unimplemented ones do. */
static void load_image(uint8_t *img, const struct pvpci_dump_dev *dd)
{
	memset(img, 0, PVPCI_CFG_EXP_SIZE);
	memcpy(img, dd->cfg, dd->len < PVPCI_CFG_EXP_SIZE ? dd->len : PVPCI_CFG_EXP_SIZE);
}

static int sim_open(struct pvpci_host *hh, const struct pvpci_bdf *bdf, struct pvpci_hostdev **ret)
{
	struct sim_host *h = (struct sim_host *)hh;
	char b[PVPCI_BDF_STRLEN];
	const struct pvpci_dump_dev *dd;
	struct sim_dev *s;
	size_t idx;

	if (!bdf || !ret)
		return -EINVAL;
	dd = dump_dev(h, bdf, &idx);
	if (!dd) {
		pvpci_host_set_err(hh, "no function %s in %s", pvpci_bdf_format(bdf, b), h->name);
		return -ENODEV;
	}
	if (h->busy[idx]) {
		pvpci_host_set_err(hh, "%s is already open (a sim function has one owner)",
				   pvpci_bdf_format(bdf, b));
		return -EBUSY;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		pvpci_host_set_err(hh, "out of memory");
		return -ENOMEM;
	}
	s->h = h;
	s->idx = idx;
	s->head.cfg_size = dd->len > PVPCI_CFG_SIZE ? PVPCI_CFG_EXP_SIZE : PVPCI_CFG_SIZE;
	snprintf(s->head.desc, sizeof(s->head.desc), "%s", dd->desc);
	load_image(s->init, dd);
	build_masks(s, dd);
	memcpy(s->cfg, s->init, sizeof(s->cfg));
	h->busy[idx] = true;
	h->refs++;
	*ret = &s->head;
	return 0;
}

static void sim_close(struct pvpci_hostdev *d)
{
	struct sim_dev *s = (struct sim_dev *)d;

	s->h->busy[s->idx] = false;
	host_unref(s->h);
	free(s->log);
	free(s);
}

static int sim_read(struct pvpci_hostdev *d, unsigned off, unsigned size, uint32_t *ret_val)
{
	struct sim_dev *s = (struct sim_dev *)d;
	uint32_t v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		v |= (uint32_t)s->cfg[off + i] << (8 * i);
	*ret_val = v;
	return 0;
}

static void log_write(struct sim_dev *s, const struct pvpci_sim_write *w)
{
	if (s->nlog == PVPCI_SIM_LOG_MAX) {
		/* Keep the latest half: the writes a failing test wants to see. */
		memmove(s->log, s->log + PVPCI_SIM_LOG_MAX / 2, PVPCI_SIM_LOG_MAX / 2 * sizeof(*s->log));
		s->nlog = PVPCI_SIM_LOG_MAX / 2;
		s->dropped += PVPCI_SIM_LOG_MAX / 2;
	}
	if (s->nlog == s->logcap) {
		size_t cap = s->logcap ? s->logcap * 2 : 64;
		struct pvpci_sim_write *n = realloc(s->log, cap * sizeof(*n));

		if (!n) {	/* the write itself still happens, as on hardware */
			s->dropped++;
			return;
		}
		s->log = n;
		s->logcap = cap;
	}
	s->log[s->nlog++] = *w;
}

static int sim_write(struct pvpci_hostdev *d, unsigned off, unsigned size, uint32_t val)
{
	struct sim_dev *s = (struct sim_dev *)d;
	struct pvpci_sim_write w = { off, size, val, 0 };
	unsigned i;

	sim_read(d, off, size, &w.before);
	log_write(s, &w);
	for (i = 0; i < size; i++) {
		uint8_t o = s->cfg[off + i], v = (uint8_t)(val >> (8 * i));
		uint8_t ro = s->ro[off + i], w1c = s->w1c[off + i];

		s->cfg[off + i] = (uint8_t)((o & ro) | (v & ~ro & ~w1c) | (o & w1c & ~v));
	}
	return 0;
}

static int sim_reset(struct pvpci_hostdev *d)
{
	struct sim_dev *s = (struct sim_dev *)d;

	/* The host's dump of the function, which pvpci_sim_host_replace may
	 * have changed since the open. */
	load_image(s->cfg, &s->h->dump.devs[s->idx]);
	s->resets++;
	return 0;
}

static int sim_bar_info(struct pvpci_hostdev *d, unsigned bar, struct pvpci_bar *ret)
{
	struct sim_dev *s = (struct sim_dev *)d;

	if (bar > PVPCI_ROM_BAR || !ret)
		return -EINVAL;
	*ret = s->bars[bar];
	return 0;
}

const struct pvpci_hostdev_ops pvpci_hostdev_sim_ops = {
	.name = "sim",
	.help = "sim:PATH  functions simulated from a config dump (lspci -x/-xxx/-xxxx text, or a raw image)",
	.host_open = sim_host_open,
	.host_list = sim_host_list,
	.host_close = sim_host_close,
	.host_intx = sim_host_intx,
	.open = sim_open,
	.read = sim_read,
	.write = sim_write,
	.reset = sim_reset,
	.bar_info = sim_bar_info,
	.set_decode = NULL,	/* the generic Command RMW is what hardware sees */
	.close = sim_close,
};

/* ------------------------------------------------------- for tests, tools */

size_t pvpci_sim_log(struct pvpci_hostdev *d, const struct pvpci_sim_write **ret)
{
	struct sim_dev *s = to_sim(d);

	if (ret)
		*ret = s ? s->log : NULL;
	return s ? s->nlog : 0;
}

void pvpci_sim_log_clear(struct pvpci_hostdev *d)
{
	struct sim_dev *s = to_sim(d);

	if (s) {
		s->nlog = 0;
		s->dropped = 0;
	}
}

unsigned long pvpci_sim_log_dropped(const struct pvpci_hostdev *d)
{
	struct sim_dev *s = to_sim(d);

	return s ? s->dropped : 0;
}

unsigned pvpci_sim_resets(const struct pvpci_hostdev *d)
{
	struct sim_dev *s = to_sim(d);

	return s ? s->resets : 0;
}

const uint8_t *pvpci_sim_image(const struct pvpci_hostdev *d)
{
	struct sim_dev *s = to_sim(d);

	return s ? s->cfg : NULL;
}
