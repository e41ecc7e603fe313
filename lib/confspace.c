/*
 * The engine's core: register table, O(1) dispatch by byte offset, the
 * mask arithmetic written once, splitting and merging of accesses that
 * straddle registers, and the policy for bytes no register covers (reads
 * pass through; writes are dropped unless the device is permissive).
 * The header and the capabilities register their descriptors here; they
 * never do mask arithmetic themselves.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_internal.h"
#include "errmsg.h"

static const struct {
	int err;
	const char *name;
	const char *text;
} err_table[] = {
#define PVPCI_ERR_ROW(name, val, text) { val, "XEN_PCI_ERR_" #name, text },
	PVPCI_ERRORS(PVPCI_ERR_ROW)
#undef PVPCI_ERR_ROW
};

const char *pvpci_err_name(int err)
{
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].err == err)
			return err_table[i].name;
	return "XEN_PCI_ERR_unknown";
}

const char *pvpci_err_str(int err)
{
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].err == err)
			return err_table[i].text;
	return "unknown error";
}

void pvpci_cs_log(struct pvpci_cs *cs, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pvpci_vlogf_limited(cs->opts.log, cs->opts.log_ctx, cs->opts.log_limit, level, &cs->hd->bdf,
			    fmt, ap);
	va_end(ap);
}

void pvpci_cs_verbose(struct pvpci_cs *cs, const char *fmt, ...)
{
	va_list ap;

	if (!cs->opts.verbose)
		return;
	va_start(ap, fmt);
	pvpci_vlogf(cs->opts.log, cs->opts.log_ctx, PVPCI_LOG_DEBUG, &cs->hd->bdf, fmt, ap);
	va_end(ap);
}

/* ---- registration ---- */

static int reg_valid(const struct pvpci_cs *cs, unsigned off, const struct pvpci_reg *r)
{
	uint32_t full;

	if (r->size != 1 && r->size != 2 && r->size != 4)
		return -EINVAL;
	if (off & (r->size - 1u) || off + r->size > cs->cfg_size)
		return -EINVAL;
	full = size_mask(r->size);
	if ((r->ro_mask | r->rw1c_mask | r->rsvdp_mask | r->rsvdz_mask | r->emu_mask) & ~full)
		return -EINVAL;
	if ((r->ro_mask & r->rw1c_mask) || (r->ro_mask & r->rsvdp_mask) || (r->ro_mask & r->rsvdz_mask) ||
	    (r->rw1c_mask & r->rsvdp_mask) || (r->rw1c_mask & r->rsvdz_mask) ||
	    (r->rsvdp_mask & r->rsvdz_mask) || (r->emu_mask & (r->rsvdp_mask | r->rsvdz_mask)))
		return -EINVAL;
	for (unsigned i = 0; i < r->size; i++)
		if (cs->map[off + i])
			return -EEXIST;
	return 0;
}

static void rebuild_map(struct pvpci_cs *cs)
{
	memset(cs->map, 0, sizeof(cs->map));
	for (size_t i = 0; i < cs->nregs; i++)
		for (unsigned b = 0; b < cs->regs[i].size; b++)
			cs->map[cs->regs[i].offset + b] = (uint16_t)(i + 1);
}

int pvpci_cs_add_regs(struct pvpci_cs *cs, unsigned base, const struct pvpci_reg *tbl, size_t n)
{
	size_t i, j;
	int r;

	/* Validate the whole table first, including overlaps inside it. */
	for (i = 0; i < n; i++) {
		r = reg_valid(cs, base + tbl[i].offset, &tbl[i]);
		if (r < 0)
			return r;
		for (j = 0; j < i; j++)
			if (base + tbl[j].offset < base + tbl[i].offset + tbl[i].size &&
			    base + tbl[i].offset < base + tbl[j].offset + tbl[j].size)
				return -EEXIST;
	}
	if (cs->nregs + n > cs->regs_cap) {
		size_t cap = cs->regs_cap ? cs->regs_cap : 64;
		struct pvpci_reg *p;

		while (cap < cs->nregs + n)
			cap *= 2;
		p = realloc(cs->regs, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		cs->regs = p;
		cs->regs_cap = cap;
	}
	for (i = 0; i < n; i++) {
		struct pvpci_reg nr = tbl[i];
		size_t at = cs->nregs;

		nr.offset = (uint16_t)(base + tbl[i].offset);
		/* Keep the array sorted so views and the map agree. */
		while (at > 0 && cs->regs[at - 1].offset > nr.offset)
			at--;
		memmove(&cs->regs[at + 1], &cs->regs[at], (cs->nregs - at) * sizeof(nr));
		cs->regs[at] = nr;
		cs->nregs++;
	}
	rebuild_map(cs);
	return 0;
}

int pvpci_cs_add_reg(struct pvpci_cs *cs, unsigned base, const struct pvpci_reg *r)
{
	return pvpci_cs_add_regs(cs, base, r, 1);
}

void pvpci_cs_del_range(struct pvpci_cs *cs, unsigned off, unsigned len)
{
	size_t i, k = 0;

	for (i = 0; i < cs->nregs; i++) {
		const struct pvpci_reg *r = &cs->regs[i];

		if (r->offset < off + len && off < (unsigned)r->offset + r->size)
			continue;
		cs->regs[k++] = *r;
	}
	cs->nregs = k;
	rebuild_map(cs);
}

struct pvpci_reg *pvpci_cs_reg_at(const struct pvpci_cs *cs, unsigned off)
{
	if (off >= cs->cfg_size || !cs->map[off])
		return NULL;
	return &cs->regs[cs->map[off] - 1];
}

size_t pvpci_cs_nregs(const struct pvpci_cs *cs)
{
	return cs->nregs;
}

const struct pvpci_reg *pvpci_cs_reg_by_index(const struct pvpci_cs *cs, size_t i)
{
	return i < cs->nregs ? &cs->regs[i] : NULL;
}

void pvpci_cs_virt_get(const struct pvpci_cs *cs, struct pvpci_cs_virt *ret)
{
	ret->n = 0;
	for (size_t i = 0; i < cs->nregs && ret->n < PVPCI_CS_VIRT_MAX; i++)
		if (cs->regs[i].emu_mask)
			ret->regs[ret->n++] = (struct pvpci_cs_virt_reg){ cs->regs[i].offset,
									  cs->regs[i].val & cs->regs[i].emu_mask };
	ret->sizing = 0;
	for (unsigned i = 0; i <= PVPCI_ROM_BAR; i++)
		ret->sizing |= (uint8_t)(cs->bar_sizing[i] << i);
	ret->rom_enable = cs->rom_enable;
}

int pvpci_cs_virt_set(struct pvpci_cs *cs, const struct pvpci_cs_virt *v)
{
	if (v->n > PVPCI_CS_VIRT_MAX || v->sizing >> (PVPCI_ROM_BAR + 1))
		return -EINVAL;
	for (size_t i = 0; i < v->n; i++) {
		const struct pvpci_reg *r = pvpci_cs_reg_at(cs, v->regs[i].off);

		if (!r || r->offset != v->regs[i].off || !r->emu_mask || (v->regs[i].val & ~r->emu_mask))
			return -EINVAL;
	}
	for (size_t i = 0; i < v->n; i++) {
		struct pvpci_reg *r = pvpci_cs_reg_at(cs, v->regs[i].off);

		r->val = (r->val & ~r->emu_mask) | v->regs[i].val;
	}
	for (unsigned i = 0; i <= PVPCI_ROM_BAR; i++)
		cs->bar_sizing[i] = !(cs->bars[i].flags & PVPCI_BAR_UNUSED) && (v->sizing >> i & 1);
	if (!(cs->bars[PVPCI_ROM_BAR].flags & PVPCI_BAR_UNUSED))
		cs->rom_enable = v->rom_enable;
	return 0;
}

const char *pvpci_reg_policy(const struct pvpci_reg *r)
{
	uint32_t full = size_mask(r->size);
	uint32_t w = full & ~(r->ro_mask | r->rw1c_mask | r->rsvdp_mask | r->rsvdz_mask);

	if (r->flags & PVPCI_REG_HIDDEN)
		return "hidden";
	if ((r->rsvdp_mask | r->rsvdz_mask) == full)
		return "reserved";
	if (r->emu_mask || r->read || r->write)
		return "emulated";
	if (w || r->rw1c_mask)
		return "passthrough";
	return "read-only";
}

/* ---- the mask arithmetic ---- */

static int hw_read(struct pvpci_cs *cs, unsigned off, unsigned size, uint32_t *ret)
{
	return pvpci_hostdev_read(cs->hd, off, size, ret) < 0 ? PVPCI_ERR_op_failed : 0;
}

static int hw_write(struct pvpci_cs *cs, unsigned off, unsigned size, uint32_t val)
{
	return pvpci_hostdev_write(cs->hd, off, size, val) < 0 ? PVPCI_ERR_op_failed : 0;
}

int pvpci_cs_reg_default_read(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t *ret_val)
{
	uint32_t full = size_mask(r->size), v = r->val & r->emu_mask, hw;
	int err;

	/* Only bits that come from hardware cost an access. */
	if (~r->emu_mask & ~(r->rsvdp_mask | r->rsvdz_mask) & full) {
		err = hw_read(cs, r->offset, r->size, &hw);
		if (err)
			return err;
		v |= hw & ~r->emu_mask;
	}
	*ret_val = v & full;
	return 0;
}

static int reg_read(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t *ret_val)
{
	uint32_t v;
	int err;

	err = r->read ? r->read(cs, r, &v) : pvpci_cs_reg_default_read(cs, r, &v);
	if (err)
		return err;
	*ret_val = v & ~(r->rsvdp_mask | r->rsvdz_mask) & size_mask(r->size);
	return 0;
}

int pvpci_cs_reg_apply(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t val, uint32_t wmask)
{
	uint32_t full = size_mask(r->size);
	uint32_t rw = full & ~(r->ro_mask | r->rw1c_mask | r->rsvdp_mask | r->rsvdz_mask);
	uint32_t to_hw = (rw | r->rw1c_mask) & ~r->emu_mask;	/* bits the guest may set in hardware */
	uint32_t keep, hw = 0;
	int err;

	/* Virtual bits: plain ones take the value, rw1c ones clear on 1. */
	r->val = (r->val & ~(rw & r->emu_mask)) | (val & rw & r->emu_mask);
	r->val &= ~(val & r->rw1c_mask & r->emu_mask & wmask);

	if (!(to_hw & wmask))
		return 0;	/* nothing of this write is the hardware's business */
	/* Hardware keeps its own value in every bit the guest does not own,
	 * except rw1c bits (a 1 written back would clear them) and RsvdZ. */
	keep = full & ~to_hw & ~r->rw1c_mask & ~r->rsvdz_mask;
	if (keep) {
		err = hw_read(cs, r->offset, r->size, &hw);
		if (err)
			return err;
	}
	/* val's rw1c bits are set only where the guest wrote 1 (reg_write). */
	return hw_write(cs, r->offset, r->size, (hw & keep) | (val & to_hw));
}

static int reg_write(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t g, uint32_t wmask)
{
	uint32_t full = size_mask(r->size);
	uint32_t rw = full & ~(r->ro_mask | r->rw1c_mask | r->rsvdp_mask | r->rsvdz_mask);
	/* Handlers see ro/rsvdp bits at their current value; the default
	 * path takes those from hardware itself and does not need them. */
	uint32_t from_cur = ((r->write ? r->ro_mask | r->rsvdp_mask : 0) | (rw & ~wmask)) & full;
	uint32_t cur = 0, val;
	int err;

	/* Merge with the current value only when some bit needs it, so a full
	 * write to a fully writable register costs no read. */
	if (from_cur) {
		err = r->read ? r->read(cs, r, &cur) : pvpci_cs_reg_default_read(cs, r, &cur);
		if (err)
			return err;
	}
	val = (cur & from_cur) | (g & rw & wmask) | (g & r->rw1c_mask & wmask);
	return r->write ? r->write(cs, r, val, wmask) : pvpci_cs_reg_apply(cs, r, val, wmask);
}

/* ---- guest accesses ---- */

int pvpci_cs_read(struct pvpci_cs *cs, long off, long size, uint32_t *ret_val)
{
	unsigned o = (unsigned)off, n = (unsigned)size, i;
	uint32_t out = 0, hw = 0, v;
	bool uncovered = false;
	int err;

	if (!pvpci_access_ok(off, size, cs->cfg_size))
		return PVPCI_ERR_invalid_offset;
	for (i = 0; i < n; i++)
		uncovered |= !cs->map[o + i];
	/* Bytes no register covers come from one hardware read of the whole
	 * access, as pciback does, so the device sees the guest's width. */
	if (uncovered) {
		err = hw_read(cs, o, n, &hw);
		if (err)
			return err;
	}
	for (i = 0; i < n;) {
		struct pvpci_reg *r = pvpci_cs_reg_at(cs, o + i);
		unsigned b;

		if (!r) {
			out |= hw & (0xffu << (8 * i));
			i++;
			continue;
		}
		if (uncovered && !r->read && r->offset >= o && r->offset + r->size <= o + n) {
			/* The access's own hardware read already holds this
			 * register's bits: one device access per guest access. */
			v = (hw >> (8 * (r->offset - o))) & size_mask(r->size);
			v = ((v & ~r->emu_mask) | (r->val & r->emu_mask)) &
			    ~(r->rsvdp_mask | r->rsvdz_mask);
		} else {
			err = reg_read(cs, r, &v);
			if (err)
				return err;
		}
		/* Copy the bytes of r that this access covers. */
		for (b = o + i - r->offset; b < r->size && i < n; b++, i++)
			out |= ((v >> (8 * b)) & 0xffu) << (8 * i);
	}
	*ret_val = out;
	return 0;
}

static int write_uncovered(struct pvpci_cs *cs, unsigned o, unsigned n, uint32_t val, uint32_t bytes)
{
	unsigned i = 0;
	int err;

	if (!cs->opts.permissive) {
		if (!cs->warned_write) {
			cs->warned_write = true;
			pvpci_cs_log(cs, PVPCI_LOG_WARNING,
				     "Driver tried to write to a read-only configuration space field at "
				     "offset 0x%x, size %u. This may be harmless, but if you have problems "
				     "with your device: 1) see the permissive option; 2) report problems "
				     "to the xen-devel mailing list along with details of your device "
				     "obtained from lspci.", o, n);
		}
		return 0;
	}
	if (!cs->warned_permissive) {
		cs->warned_permissive = true;
		pvpci_cs_log(cs, PVPCI_LOG_WARNING,
			     "permissive mode: passing a write to an unhandled field at offset 0x%x, "
			     "size %u to the device", o, n);
	}
	if (bytes == size_mask(n))
		return hw_write(cs, o, n, val);
	/* A run of unhandled bytes beside handled ones: the widest aligned
	 * pieces that stay inside the run. */
	while (i < n) {
		unsigned w;

		if (!(bytes >> (8 * i) & 0xff)) {
			i++;
			continue;
		}
		w = ((o + i) % 2 == 0 && i + 1 < n && (bytes >> (8 * (i + 1)) & 0xff)) ? 2 : 1;
		err = hw_write(cs, o + i, w, (val >> (8 * i)) & size_mask(w));
		if (err)
			return err;
		i += w;
	}
	return 0;
}

int pvpci_cs_write(struct pvpci_cs *cs, long off, long size, uint32_t val)
{
	unsigned o = (unsigned)off, n = (unsigned)size, i;
	uint32_t loose = 0;
	int err;

	if (!pvpci_access_ok(off, size, cs->cfg_size))
		return PVPCI_ERR_invalid_offset;
	for (i = 0; i < n;) {
		struct pvpci_reg *r = pvpci_cs_reg_at(cs, o + i);
		uint32_t g = 0, wmask = 0;
		unsigned b;

		if (!r) {
			loose |= 0xffu << (8 * i);
			i++;
			continue;
		}
		/* Gather this register's bytes of the access, in its own frame. */
		for (b = o + i - r->offset; b < r->size && i < n; b++, i++) {
			g |= ((val >> (8 * i)) & 0xffu) << (8 * b);
			wmask |= 0xffu << (8 * b);
		}
		err = reg_write(cs, r, g, wmask);
		if (err)
			return err;
	}
	return loose ? write_uncovered(cs, o, n, val, loose) : 0;
}

/* ---- life cycle ---- */

int pvpci_cs_new(struct pvpci_hostdev *hd, const struct pvpci_cs_opts *opts, struct pvpci_cs **ret,
		 char *errbuf, size_t errlen)
{
	struct pvpci_cs *cs;
	char bdf[PVPCI_BDF_STRLEN];
	int r;

	cs = calloc(1, sizeof(*cs));
	if (!cs)
		return -ENOMEM;
	cs->hd = hd;
	cs->cfg_size = hd->cfg_size;
	if (opts)
		cs->opts = *opts;
	pvpci_bdf_format(&hd->bdf, bdf);
	r = pvpci_hostdev_read_all(hd, cs->snap);
	if (r < 0) {
		snprintf(errbuf, errlen, "%s: cannot read config space: %s", bdf,
			 hd->errmsg[0] ? hd->errmsg : strerror(-r));
		goto fail;
	}
	if (cs->snap[0] == 0xff && cs->snap[1] == 0xff) {
		snprintf(errbuf, errlen, "%s: no device answers (vendor ID reads 0xffff)", bdf);
		r = -ENODEV;
		goto fail;
	}
	if ((cs->snap[0x0e] & 0x7f) != 0) {
		snprintf(errbuf, errlen,
			 "%s: header type %u is a %s: only endpoint functions (type 0) can be exported",
			 bdf, cs->snap[0x0e] & 0x7f,
			 (cs->snap[0x0e] & 0x7f) == 1 ? "PCI-to-PCI bridge" : "CardBus bridge");
		r = -EOPNOTSUPP;
		goto fail;
	}
	cs_caps_scan(cs);
	r = cs_header_register(cs);
	if (r >= 0)
		r = cs_caps_register(cs);
	if (r < 0) {
		snprintf(errbuf, errlen, "%s: building the register table failed: %s", bdf, strerror(-r));
		goto fail;
	}
	*ret = cs;
	return 0;
fail:
	pvpci_cs_free(cs);
	return r;
}

void cs_delay(struct pvpci_cs *cs, unsigned usecs)
{
	if (cs->opts.delay)
		cs->opts.delay(cs->opts.delay_ctx, usecs);
}

int cs_cap_find(const struct pvpci_cs *cs, bool ext, uint16_t id)
{
	for (size_t i = 0; i < cs->ncaps; i++)
		if (cs->caps[i].ext == ext && cs->caps[i].id == id)
			return (int)i;
	return -1;
}

void pvpci_cs_free(struct pvpci_cs *cs)
{
	if (!cs)
		return;
	for (size_t i = 0; i < CS_MAX_CAPS; i++)
		free(cs->cap_priv[i]);
	free(cs->regs);
	free(cs);
}

unsigned pvpci_cs_size(const struct pvpci_cs *cs)
{
	return cs->cfg_size;
}

struct pvpci_hostdev *pvpci_cs_hostdev(const struct pvpci_cs *cs)
{
	return cs->hd;
}

bool pvpci_cs_permissive(const struct pvpci_cs *cs)
{
	return cs->opts.permissive;
}

void pvpci_cs_set_permissive(struct pvpci_cs *cs, bool on)
{
	cs->opts.permissive = on;
}

const uint8_t *pvpci_cs_host_snapshot(const struct pvpci_cs *cs)
{
	return cs->snap;
}

size_t pvpci_cs_ncaps(const struct pvpci_cs *cs)
{
	return cs->ncaps;
}

const struct pvpci_cap *pvpci_cs_cap(const struct pvpci_cs *cs, size_t i)
{
	return i < cs->ncaps ? &cs->caps[i] : NULL;
}

const char *pvpci_cs_chain_note(const struct pvpci_cs *cs)
{
	return cs->chain_note;
}
