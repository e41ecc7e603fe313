/*
 * Save and restore of seed 000's register set, straight on the host
 * device: which registers (found on the function's own capability
 * chains), capturing them, the order of writing them back, D0 and reset
 * before that, and the checksummed text form.  No OS calls: the host
 * device does every access and lib/statefile.c does the files.
 *
 * The chains are walked here rather than through the engine because a
 * save or a restore has no guest and may happen with no cs at all (the
 * toolstack's `pvpci save` on a function nobody has bound); the walk has
 * the engine's loop guard, a visited set, so a looping chain ends.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pvpci/saverestore.h"
#include "textutil.h"
#include "errmsg.h"

#define PCI_STATUS_CAP_LIST	0x10
#define CMD_IO_MEM		0x0003
#define CMD_MASTER		0x0004
#define CMD_PARITY		0x0040
#define CMD_SERR		0x0100

#define CAP_ID_PM		0x01
#define CAP_ID_MSI		0x05
#define CAP_ID_EXP		0x10
#define CAP_ID_MSIX		0x11
#define EXT_CAP_ID_AER		0x0001

#define PM_CTRL			4	/* PMCSR, from the PM capability */
#define PM_STATE_MASK		0x0003
#define PM_PME_STATUS		0x8000	/* RW1C: left alone */

#define EXP_FLAGS		2
#define EXP_V2_END		0x34	/* bytes of a version 2 PCIe capability */
#define EXP_V1_END		0x14	/* through Link Status */
#define AER_END			0x1c

enum where { AT_HDR, AT_EXP, AT_EXP2, AT_AER };

/*
 * The set, in the order restore writes it.  Masks keep out the bits that
 * act rather than hold state (Initiate FLR, Retrain Link) and, in
 * Command and AER Capabilities and Control, the bits that are not the
 * seed's.
 */
static const struct sr_kind {
	const char *key;
	enum where where;
	uint16_t off;		/* from the header or the capability */
	uint8_t size;
	uint32_t mask;
} kinds[] = {
	{ "bar0", AT_HDR, 0x10, 4, 0xffffffffu },
	{ "bar1", AT_HDR, 0x14, 4, 0xffffffffu },
	{ "bar2", AT_HDR, 0x18, 4, 0xffffffffu },
	{ "bar3", AT_HDR, 0x1c, 4, 0xffffffffu },
	{ "bar4", AT_HDR, 0x20, 4, 0xffffffffu },
	{ "bar5", AT_HDR, 0x24, 4, 0xffffffffu },
	{ "rom", AT_HDR, 0x30, 4, 0xffffffffu },
	{ "cacheline", AT_HDR, 0x0c, 1, 0xff },
	{ "latency", AT_HDR, 0x0d, 1, 0xff },
	{ "devctl", AT_EXP, 0x08, 2, 0x7fff },		/* bit 15: Initiate FLR */
	{ "lnkctl", AT_EXP, 0x10, 2, 0xffdf },		/* bit 5: Retrain Link */
	{ "devctl2", AT_EXP2, 0x28, 2, 0xffff },
	{ "lnkctl2", AT_EXP2, 0x30, 2, 0xffff },
	{ "aer-uncor-mask", AT_AER, 0x08, 4, 0xffffffffu },
	{ "aer-uncor-sev", AT_AER, 0x0c, 4, 0xffffffffu },
	{ "aer-cor-mask", AT_AER, 0x14, 4, 0xffffffffu },
	{ "aer-capctl", AT_AER, 0x18, 4, 0x00000540u },	/* ECRC gen/check, MHR enables */
	{ "command", AT_HDR, 0x04, 2, CMD_SERR | CMD_PARITY },	/* last */
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))
_Static_assert(NKINDS <= PVPCI_SR_MAX_REGS, "the set must fit a state");

static void sr_log(const struct pvpci_sr_opts *o, struct pvpci_hostdev *hd, int level,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void sr_log(const struct pvpci_sr_opts *o, struct pvpci_hostdev *hd, int level,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pvpci_vlogf(o ? o->log : NULL, o ? o->log_ctx : NULL, level, &hd->bdf, fmt, ap);
	va_end(ap);
}

/* Host accesses that say where they failed. */
static int access_hd(struct pvpci_hostdev *hd, bool write, unsigned off, unsigned size, uint32_t *v,
		     char *errbuf, size_t errlen)
{
	char bdf[PVPCI_BDF_STRLEN];
	int r = write ? pvpci_hostdev_write(hd, off, size, *v) : pvpci_hostdev_read(hd, off, size, v);

	if (r < 0)
		return pvpci_errf(errbuf, errlen, r, "%s: config %s at 0x%x failed: %s",
				  pvpci_bdf_format(&hd->bdf, bdf), write ? "write" : "read", off,
				  hd->errmsg[0] ? hd->errmsg : strerror(-r));
	return 0;
}

static int rd(struct pvpci_hostdev *hd, unsigned off, unsigned size, uint32_t *v, char *errbuf,
	      size_t errlen)
{
	return access_hd(hd, false, off, size, v, errbuf, errlen);
}

static int wr(struct pvpci_hostdev *hd, unsigned off, unsigned size, uint32_t v, char *errbuf,
	      size_t errlen)
{
	return access_hd(hd, true, off, size, &v, errbuf, errlen);
}

/*
 * Offset of the first capability with this ID on the host's chain, or 0.
 * Each dword is visited once at most, so a looping chain ends.
 */
static int find_cap(struct pvpci_hostdev *hd, bool ext, unsigned id, unsigned *ret_off,
		    char *errbuf, size_t errlen)
{
	uint8_t seen[PVPCI_CFG_EXP_SIZE / 4] = { 0 };
	unsigned off;
	uint32_t v;
	int r;

	*ret_off = 0;
	if (!ext) {
		r = rd(hd, 0x06, 2, &v, errbuf, errlen);
		if (r < 0 || !(v & PCI_STATUS_CAP_LIST))
			return r;
		r = rd(hd, 0x34, 1, &v, errbuf, errlen);
		if (r < 0)
			return r;
		for (off = v & 0xfc; off >= 0x40 && !seen[off / 4]; off = (v >> 8) & 0xfc) {
			seen[off / 4] = 1;
			r = rd(hd, off, 2, &v, errbuf, errlen);
			if (r < 0)
				return r;
			if ((v & 0xff) == id) {
				*ret_off = off;
				return 0;
			}
		}
		return 0;
	}
	if (hd->cfg_size < PVPCI_CFG_EXP_SIZE)
		return 0;
	for (off = 0x100; off >= 0x100 && !seen[off / 4]; off = (v >> 20) & 0xffc) {
		seen[off / 4] = 1;
		r = rd(hd, off, 4, &v, errbuf, errlen);
		if (r < 0)
			return r;
		if (v == 0 || v == 0xffffffffu)
			return 0;
		if ((v & 0xffff) == id) {
			*ret_off = off;
			return 0;
		}
	}
	return 0;
}

/* The set as this function has it (values not read). */
static int layout(struct pvpci_hostdev *hd, struct pvpci_sr_reg *regs, unsigned *ret_n,
		  char *errbuf, size_t errlen)
{
	unsigned exp, aer, n = 0;
	bool have[AT_AER + 1] = { [AT_HDR] = true };
	uint32_t flags;
	int r;

	r = find_cap(hd, false, CAP_ID_EXP, &exp, errbuf, errlen);
	if (r >= 0)
		r = find_cap(hd, true, EXT_CAP_ID_AER, &aer, errbuf, errlen);
	if (r < 0)
		return r;
	/* A capability that would run past config space is a broken one:
	 * its registers are left out rather than guessed at. */
	if (exp && exp + EXP_V1_END <= hd->cfg_size) {
		r = rd(hd, exp + EXP_FLAGS, 2, &flags, errbuf, errlen);
		if (r < 0)
			return r;
		have[AT_EXP] = true;
		have[AT_EXP2] = (flags & 0xf) >= 2 && exp + EXP_V2_END <= hd->cfg_size;
	}
	have[AT_AER] = aer && aer + AER_END <= hd->cfg_size;
	for (size_t k = 0; k < NKINDS; k++) {
		const struct sr_kind *kd = &kinds[k];
		unsigned base = kd->where == AT_HDR ? 0 : kd->where == AT_AER ? aer : exp;

		if (!have[kd->where])
			continue;
		regs[n++] = (struct pvpci_sr_reg){
			.key = kd->key, .off = (uint16_t)(base + kd->off), .size = kd->size,
			.mask = kd->mask,
		};
	}
	*ret_n = n;
	return 0;
}

/* IDs of hd; -ENODEV when nothing answers, -EOPNOTSUPP for a bridge. */
static int read_ids(struct pvpci_hostdev *hd, uint16_t ids[4], char *errbuf, size_t errlen)
{
	char bdf[PVPCI_BDF_STRLEN];
	uint32_t id, sub, hdr;
	int r;

	pvpci_bdf_format(&hd->bdf, bdf);
	r = rd(hd, 0x00, 4, &id, errbuf, errlen);
	if (r >= 0)
		r = rd(hd, 0x2c, 4, &sub, errbuf, errlen);
	if (r >= 0)
		r = rd(hd, 0x0e, 1, &hdr, errbuf, errlen);
	if (r < 0)
		return r;
	if ((id & 0xffff) == 0xffff)
		return pvpci_errf(errbuf, errlen, -ENODEV, "%s: no device answers (vendor ID reads 0xffff)",
			   bdf);
	if (hdr & 0x7f)
		return pvpci_errf(errbuf, errlen, -EOPNOTSUPP,
			   "%s: header type %u: only endpoint functions (type 0) are saved and restored",
			   bdf, hdr & 0x7f);
	ids[0] = (uint16_t)id;
	ids[1] = (uint16_t)(id >> 16);
	ids[2] = (uint16_t)sub;
	ids[3] = (uint16_t)(sub >> 16);
	return 0;
}

int pvpci_sr_save(struct pvpci_hostdev *hd, struct pvpci_sr_state *ret, char *errbuf,
		  size_t errlen)
{
	struct pvpci_sr_state st = { .bdf = hd->bdf };
	uint16_t ids[4];
	int r;

	r = read_ids(hd, ids, errbuf, errlen);
	if (r >= 0)
		r = layout(hd, st.regs, &st.nregs, errbuf, errlen);
	for (unsigned i = 0; r >= 0 && i < st.nregs; i++)
		r = rd(hd, st.regs[i].off, st.regs[i].size, &st.regs[i].val, errbuf, errlen);
	if (r < 0)
		return r;
	st.vendor = ids[0];
	st.device = ids[1];
	st.subvendor = ids[2];
	st.subdevice = ids[3];
	*ret = st;
	return 0;
}

/* PCI PM 1.2, table 5-6: the wait after leaving each state for D0, in us. */
static const unsigned d0_delay_us[4] = { 0, 0, 200, 10000 };

int pvpci_sr_set_d0(struct pvpci_hostdev *hd, const struct pvpci_sr_opts *opts, unsigned *ret_from,
		    char *errbuf, size_t errlen)
{
	char bdf[PVPCI_BDF_STRLEN];
	unsigned pm, from;
	uint32_t pmcsr;
	int r;

	r = find_cap(hd, false, CAP_ID_PM, &pm, errbuf, errlen);
	if (r < 0)
		return r;
	if (!pm) {
		if (ret_from)
			*ret_from = 0;
		return 0;
	}
	r = rd(hd, pm + PM_CTRL, 2, &pmcsr, errbuf, errlen);
	if (r < 0)
		return r;
	from = pmcsr & PM_STATE_MASK;
	if (from) {
		/* PME_Status is RW1C: writing back the 1 we read would clear a
		 * wake event nobody has looked at yet. */
		r = wr(hd, pm + PM_CTRL, 2, pmcsr & ~(uint32_t)(PM_STATE_MASK | PM_PME_STATUS), errbuf,
		       errlen);
		if (r < 0)
			return r;
		if (opts && opts->delay && d0_delay_us[from])
			opts->delay(opts->delay_ctx, d0_delay_us[from]);
		r = rd(hd, pm + PM_CTRL, 2, &pmcsr, errbuf, errlen);
		if (r < 0)
			return r;
		if (pmcsr & PM_STATE_MASK)
			return pvpci_errf(errbuf, errlen, -EIO, "%s: stays in D%u after PMCSR was set to D0",
				   pvpci_bdf_format(&hd->bdf, bdf), pmcsr & PM_STATE_MASK);
		sr_log(opts, hd, PVPCI_LOG_INFO, "brought from D%u%s to D0", from,
		       from == 3 ? "hot" : "");
	}
	if (ret_from)
		*ret_from = from;
	return 0;
}

int pvpci_sr_reset(struct pvpci_hostdev *hd, const struct pvpci_sr_opts *opts, bool *ret_done,
		   char *errbuf, size_t errlen)
{
	enum pvpci_sr_reset mode = opts ? opts->reset : PVPCI_SR_RESET_REQUIRED;
	char bdf[PVPCI_BDF_STRLEN];
	int r;

	pvpci_bdf_format(&hd->bdf, bdf);
	if (ret_done)
		*ret_done = false;
	if (mode == PVPCI_SR_RESET_NONE)
		return 0;
	hd->errmsg[0] = 0;
	r = pvpci_hostdev_reset(hd);
	if (r == -EOPNOTSUPP) {
		if (mode == PVPCI_SR_RESET_REQUIRED)
			return pvpci_errf(errbuf, errlen, r,
				   "%s: no function reset is available (%s); refusing to go on "
				   "without one unless told to (no-reset-ok)",
				   bdf, hd->errmsg[0] ? hd->errmsg : "the host offers none");
		sr_log(opts, hd, PVPCI_LOG_WARNING,
		       "no function reset is available (%s); going on without one, as asked",
		       hd->errmsg[0] ? hd->errmsg : "the host offers none");
		return 0;
	}
	if (r < 0)
		return pvpci_errf(errbuf, errlen, r, "%s: reset failed: %s", bdf,
			   hd->errmsg[0] ? hd->errmsg : strerror(-r));
	if (ret_done)
		*ret_done = true;
	return 0;
}

static const struct sr_kind *kind_by_key(const char *key)
{
	for (size_t k = 0; k < NKINDS; k++)
		if (!strcmp(kinds[k].key, key))
			return &kinds[k];
	return NULL;
}

/* Is st the state of hd as it is now?  -ESTALE with the difference if not. */
static int check_owner(struct pvpci_hostdev *hd, const struct pvpci_sr_state *st, char *errbuf,
		       size_t errlen)
{
	struct pvpci_sr_reg now[PVPCI_SR_MAX_REGS];
	char bdf[PVPCI_BDF_STRLEN], sbdf[PVPCI_BDF_STRLEN];
	uint16_t ids[4];
	unsigned n, i;
	int r;

	pvpci_bdf_format(&hd->bdf, bdf);
	if (pvpci_bdf_cmp(&hd->bdf, &st->bdf))
		return pvpci_errf(errbuf, errlen, -ESTALE, "%s: the saved state is of %s, another function",
			   bdf, pvpci_bdf_format(&st->bdf, sbdf));
	r = read_ids(hd, ids, errbuf, errlen);
	if (r < 0)
		return r;
	if (ids[0] != st->vendor || ids[1] != st->device || ids[2] != st->subvendor ||
	    ids[3] != st->subdevice)
		return pvpci_errf(errbuf, errlen, -ESTALE,
			   "%s: the saved state is of a %04x:%04x (subsystem %04x:%04x), the function "
			   "is now a %04x:%04x (subsystem %04x:%04x); nothing written",
			   bdf, st->vendor, st->device, st->subvendor, st->subdevice, ids[0], ids[1],
			   ids[2], ids[3]);
	r = layout(hd, now, &n, errbuf, errlen);
	if (r < 0)
		return r;
	for (i = 0; i < n && i < st->nregs; i++)
		if (strcmp(now[i].key, st->regs[i].key) || now[i].off != st->regs[i].off ||
		    now[i].size != st->regs[i].size || now[i].mask != st->regs[i].mask)
			break;
	if (i < n || i < st->nregs)
		return pvpci_errf(errbuf, errlen, -ESTALE,
			   "%s: its registers are not laid out as in the saved state (%s at 0x%x saved, "
			   "%s at 0x%x now); nothing written", bdf,
			   i < st->nregs ? st->regs[i].key : "nothing", i < st->nregs ? st->regs[i].off : 0,
			   i < n ? now[i].key : "nothing", i < n ? now[i].off : 0);
	return 0;
}

/*
 * MSI and MSI-X off in hardware.  A guest's interrupts go with it (as
 * pciback's xen_pcibk_reset_device has it: "the guest could have been
 * abruptly killed without disabling MSI/MSI-X interrupts"), and so do
 * those of a backend killed under a guest, which no op will disable now
 * and whose successor's engine would take the function for quiet (MSI-X
 * refused for ever while MSI stays on).  A reset did it where there was one.
 */
static int interrupts_off(struct pvpci_hostdev *hd, const struct pvpci_sr_opts *opts, char *errbuf,
			  size_t errlen)
{
	static const struct {
		unsigned id;
		uint32_t enable;
		const char *name;
	} caps[] = { { CAP_ID_MSI, 0x0001, "MSI" }, { CAP_ID_MSIX, 0x8000, "MSI-X" } };

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		unsigned off;
		uint32_t ctrl;
		int r = find_cap(hd, false, caps[i].id, &off, errbuf, errlen);

		if (r >= 0 && off)
			r = rd(hd, off + 2, 2, &ctrl, errbuf, errlen);
		if (r < 0)
			return r;
		if (!off || !(ctrl & caps[i].enable))
			continue;
		r = wr(hd, off + 2, 2, ctrl & ~caps[i].enable, errbuf, errlen);
		if (r < 0)
			return r;
		sr_log(opts, hd, PVPCI_LOG_DEBUG, "%s was left enabled: disabled", caps[i].name);
	}
	return 0;
}

int pvpci_sr_restore(struct pvpci_hostdev *hd, const struct pvpci_sr_state *st,
		     const struct pvpci_sr_opts *opts, char *errbuf, size_t errlen)
{
	uint32_t cmd, cur, decode;
	unsigned from;
	bool reset;
	int r;

	r = check_owner(hd, st, errbuf, errlen);
	if (r >= 0)
		r = pvpci_sr_set_d0(hd, opts, &from, errbuf, errlen);
	if (r >= 0)
		r = pvpci_sr_reset(hd, opts, &reset, errbuf, errlen);
	/* A reset may leave a function in another state (a sim one returns
	 * to its image); registers written outside D0 may not stick. */
	if (r >= 0 && reset)
		r = pvpci_sr_set_d0(hd, opts, NULL, errbuf, errlen);
	if (r >= 0)
		r = interrupts_off(hd, opts, errbuf, errlen);
	if (r >= 0)
		r = rd(hd, 0x04, 2, &cmd, errbuf, errlen);
	if (r < 0)
		return r;
	/* BARs move with decode off, so the function never decodes a half
	 * written 64-bit address; decode comes back with Command, last. */
	decode = cmd & CMD_IO_MEM;
	if (decode) {
		r = wr(hd, 0x04, 2, cmd & ~(uint32_t)CMD_IO_MEM, errbuf, errlen);
		if (r < 0)
			return r;
	}
	for (unsigned i = 0; i < st->nregs; i++) {
		const struct pvpci_sr_reg *g = &st->regs[i];
		uint32_t full = g->size == 4 ? 0xffffffffu : (1u << (8 * g->size)) - 1;
		uint32_t v = g->val & g->mask;

		if ((g->mask & full) != full) {
			r = rd(hd, g->off, g->size, &cur, errbuf, errlen);
			if (r < 0)
				break;
			v |= cur & ~g->mask & full;
		}
		/* Bus mastering as it was saved, as pci_restore_state puts it:
		 * a reset need not clear it (a PM reset QEMU's e1000e ignores,
		 * an FLR a device ignores, --no-reset), and a function its
		 * guest left mastering must not go on to its next owner free
		 * to DMA.  The saved value holds the whole register. */
		if (!strcmp(g->key, "command"))
			v = (v & ~(uint32_t)CMD_MASTER) | (g->val & CMD_MASTER) | decode;
		r = wr(hd, g->off, g->size, v, errbuf, errlen);
		if (r < 0)
			break;
	}
	if (r < 0 && decode)	/* best effort: leave decode as it was */
		pvpci_hostdev_write(hd, 0x04, 2, cmd);
	if (r >= 0)
		sr_log(opts, hd, PVPCI_LOG_INFO, "restored %u registers%s", st->nregs,
		       reset ? " after a function reset" : "");
	return r;
}

/* ---- text form ---- */

int pvpci_sr_format(const struct pvpci_sr_state *st, char *buf, size_t len)
{
	char tmp[PVPCI_SR_TEXT_MAX], bdf[PVPCI_BDF_STRLEN];
	size_t n = 0;
	int w;

	if (st->nregs > PVPCI_SR_MAX_REGS)
		return -EINVAL;
#define PUT(...)                                                                   \
	do {                                                                       \
		w = snprintf(tmp + n, sizeof(tmp) - n, __VA_ARGS__);              \
		if (w < 0 || (size_t)w >= sizeof(tmp) - n)                         \
			return -EINVAL;                                            \
		n += (size_t)w;                                                    \
	} while (0)
	PUT("pvpci-saved-state %d\n", PVPCI_SR_VERSION);
	PUT("# written by pvpci save; checksummed: edits make it corrupt\n");
	PUT("bdf %s\n", pvpci_bdf_format(&st->bdf, bdf));
	PUT("ids %04x:%04x:%04x:%04x\n", st->vendor, st->device, st->subvendor, st->subdevice);
	for (unsigned i = 0; i < st->nregs; i++) {
		const struct pvpci_sr_reg *g = &st->regs[i];
		const struct sr_kind *kd = g->key ? kind_by_key(g->key) : NULL;

		/* Only what a parse accepts: format and parse are inverses. */
		if (!kd || g->size != kd->size || g->mask != kd->mask ||
		    (g->size < 4 && g->val >> (8 * g->size)))
			return -EINVAL;
		PUT("reg %s %03x %u %0*x %0*x\n", g->key, g->off, g->size, 2 * (int)g->size, g->mask,
		    2 * (int)g->size, g->val);
	}
	PUT("checksum crc32 %08x\n", pvpci_crc32(tmp, n));
#undef PUT
	if (len)
		snprintf(buf, len, "%s", tmp);
	return (int)n;
}

/* A whole token of 1..maxdigits lower- or upper-case hex digits, nothing else. */
static int hex_token(const char *s, int maxdigits, uint32_t *ret)
{
	uint32_t v = 0;
	int n = 0;

	for (; *s; s++, n++) {
		int d = pvpci_hexval(*s);

		if (d < 0 || n == maxdigits)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	if (!n)
		return -1;
	*ret = v;
	return 0;
}

/* Split a NUL-terminated line at single spaces into at most max tokens;
 * returns the count, or max + 1 when there are more. */
static size_t split(char *line, char **tok, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (*p) {
		if (n == max)
			return max + 1;
		tok[n++] = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = 0;
	}
	return n;
}

static int bad(char *errbuf, size_t errlen, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bad(char *errbuf, size_t errlen, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (errbuf && errlen) {
		n = snprintf(errbuf, errlen, "line %u: ", line);
		if (n >= 0 && (size_t)n < errlen) {
			va_start(ap, fmt);
			vsnprintf(errbuf + n, errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -EBADMSG;
}

static int parse_reg(char **tok, size_t nt, unsigned lineno, struct pvpci_sr_state *st,
		     char *errbuf, size_t errlen)
{
	const struct sr_kind *kd;
	uint32_t off, size, mask, val;
	unsigned min_off;

	if (nt != 6)
		return bad(errbuf, errlen, lineno, "expected 'reg KEY OFFSET SIZE MASK VALUE'");
	kd = kind_by_key(tok[1]);
	if (!kd)
		return bad(errbuf, errlen, lineno, "'%.32s' is not a register of the saved set", tok[1]);
	for (unsigned i = 0; i < st->nregs; i++)
		if (st->regs[i].key == kd->key)
			return bad(errbuf, errlen, lineno, "%s given twice", kd->key);
	if (hex_token(tok[2], 3, &off) < 0 || hex_token(tok[3], 1, &size) < 0 ||
	    hex_token(tok[4], 8, &mask) < 0 || hex_token(tok[5], 8, &val) < 0)
		return bad(errbuf, errlen, lineno, "%s: offset, size, mask and value must be hex numbers",
			   kd->key);
	if (size != kd->size || mask != kd->mask)
		return bad(errbuf, errlen, lineno, "%s: size %u mask 0x%x, expected size %u mask 0x%x",
			   kd->key, size, mask, kd->size, kd->mask);
	if (kd->size < 4 && val >> (8 * kd->size))
		return bad(errbuf, errlen, lineno, "%s: value 0x%x is wider than %u byte%s", kd->key, val,
			   kd->size, kd->size == 1 ? "" : "s");
	/* Capability registers can only be where a capability can be. */
	min_off = kd->where == AT_HDR ? kd->off : kd->where == AT_AER ? 0x100u + kd->off : 0x40u + kd->off;
	if ((kd->where == AT_HDR && off != kd->off) || off < min_off || off % kd->size ||
	    off + kd->size > PVPCI_CFG_EXP_SIZE)
		return bad(errbuf, errlen, lineno, "%s: offset 0x%x is not where it can be", kd->key, off);
	if (st->nregs == PVPCI_SR_MAX_REGS)
		return bad(errbuf, errlen, lineno, "more than %u registers", PVPCI_SR_MAX_REGS);
	st->regs[st->nregs++] = (struct pvpci_sr_reg){
		.key = kd->key, .off = (uint16_t)off, .size = kd->size, .mask = mask, .val = val,
	};
	return 0;
}

int pvpci_sr_parse(const char *text, size_t len, struct pvpci_sr_state *ret, char *errbuf,
		   size_t errlen)
{
	static const char magic[] = "pvpci-saved-state ";
	struct pvpci_sr_state st = { 0 };
	size_t pos = 0, start, sum_at = 0;
	char line[128], *tok[8];
	unsigned lineno = 0, stage = 0;	/* 0 magic, 1 bdf, 2 ids, 3 regs */
	uint32_t sum = 0;
	bool have_sum = false;
	int r;

	if (!text)
		len = 0;
	/* One pass over the lines, each copied bounded and NUL-terminated. */
	while (pos < len) {
		size_t n = 0;
		size_t nt;

		start = pos;
		lineno++;
		while (pos < len && text[pos] != '\n') {
			unsigned char c = (unsigned char)text[pos++];

			if (c < 0x20 || c > 0x7e)
				return bad(errbuf, errlen, lineno, "byte 0x%02x is not text", c);
			if (n == sizeof(line) - 1)
				return bad(errbuf, errlen, lineno, "longer than %zu bytes", sizeof(line) - 1);
			line[n++] = (char)c;
		}
		line[n] = 0;
		if (pos == len)
			return bad(errbuf, errlen, lineno, "does not end with a newline (truncated?)");
		pos++;
		if (have_sum)
			return bad(errbuf, errlen, lineno, "text after the checksum");
		if (stage == 0) {
			const char *ver = line + sizeof(magic) - 1;
			size_t vl = strlen(ver);

			if (strncmp(line, magic, sizeof(magic) - 1) || vl == 0 || vl > 4 ||
			    strspn(ver, "0123456789") != vl)
				return bad(errbuf, errlen, lineno, "not a pvpci saved state");
			if (strcmp(ver, "1")) {
				if (errbuf && errlen)
					snprintf(errbuf, errlen,
						 "saved state version %s is not one this pvpci reads (%d)",
						 ver, PVPCI_SR_VERSION);
				return -EPROTONOSUPPORT;
			}
			stage = 1;
			continue;
		}
		if (line[0] == '#')
			continue;
		nt = split(line, tok, sizeof(tok) / sizeof(tok[0]));
		if (nt == 0)
			return bad(errbuf, errlen, lineno, "empty line");
		if (!strcmp(tok[0], "checksum")) {
			/* Lower case only, as written: the checksum does not cover
			 * its own line, so it must have one spelling. */
			if (nt != 3 || strcmp(tok[1], "crc32") || strlen(tok[2]) != 8 ||
			    strspn(tok[2], "0123456789abcdef") != 8 || hex_token(tok[2], 8, &sum) < 0)
				return bad(errbuf, errlen, lineno, "expected 'checksum crc32 XXXXXXXX'");
			have_sum = true;
			sum_at = start;
			continue;
		}
		if (stage == 1) {
			if (nt != 2 || strcmp(tok[0], "bdf") || pvpci_bdf_parse(tok[1], &st.bdf) < 0)
				return bad(errbuf, errlen, lineno, "expected 'bdf DDDD:BB:DD.F'");
			stage = 2;
		} else if (stage == 2) {
			uint32_t id[4];
			char *p = nt == 2 ? tok[1] : NULL;
			int i;

			for (i = 0; p && i < 4; i++) {
				char *colon = strchr(p, ':');

				if (colon)
					*colon = 0;
				if ((i < 3) != (colon != NULL) || strlen(p) != 4 || hex_token(p, 4, &id[i]) < 0)
					break;
				p = colon ? colon + 1 : NULL;
			}
			if (nt != 2 || strcmp(tok[0], "ids") || i != 4)
				return bad(errbuf, errlen, lineno, "expected 'ids VVVV:DDDD:SVVV:SDDD'");
			st.vendor = (uint16_t)id[0];
			st.device = (uint16_t)id[1];
			st.subvendor = (uint16_t)id[2];
			st.subdevice = (uint16_t)id[3];
			stage = 3;
		} else {
			if (strcmp(tok[0], "reg"))
				return bad(errbuf, errlen, lineno, "'%.32s': expected 'reg' or 'checksum'",
					   tok[0]);
			r = parse_reg(tok, nt, lineno, &st, errbuf, errlen);
			if (r < 0)
				return r;
		}
	}
	if (!have_sum)
		return bad(errbuf, errlen, lineno + 1, "no checksum line (truncated?)");
	if (stage < 3 || st.nregs == 0)
		return bad(errbuf, errlen, lineno, "no registers (truncated?)");
	if (pvpci_crc32(text, sum_at) != sum)
		return bad(errbuf, errlen, lineno,
			   "checksum mismatch: the text was changed or damaged after it was written");
	*ret = st;
	return 0;
}
