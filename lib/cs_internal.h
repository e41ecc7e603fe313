/*
 * Private to the engine: the cs object and the hooks between the core
 * (confspace.c), the type 0 header (cs_header.c) and the capability chain
 * (cs_caps.c).  Nothing outside lib/ includes this.
 */
#ifndef PVPCI_CS_INTERNAL_H
#define PVPCI_CS_INTERNAL_H

#include "pvpci/confspace.h"

#define CS_MAX_CAPS	96	/* 48 standard + room for extended; walks stop before */

struct pvpci_cs {
	struct pvpci_hostdev *hd;
	unsigned cfg_size;
	struct pvpci_cs_opts opts;
	bool warned_write;		/* the one-time warning for dropped writes */
	bool warned_permissive;

	/* Registers, kept sorted by offset; map[byte] = index + 1, 0 = none. */
	struct pvpci_reg *regs;
	size_t nregs, regs_cap;
	uint16_t map[PVPCI_CFG_EXP_SIZE];

	uint8_t snap[PVPCI_CFG_EXP_SIZE];	/* host config at bind */

	struct pvpci_cap caps[CS_MAX_CAPS];
	size_t ncaps;
	/* A capability handler's own state, by index in caps[]; freed with free()
	 * by pvpci_cs_free. */
	void *cap_priv[CS_MAX_CAPS];
	uint8_t first_std;		/* guest's Capabilities Pointer */
	char chain_note[160];

	/* Header state (cs_header.c). */
	struct pvpci_bar bars[PVPCI_NUM_BARS + 1];
	bool decode_on;			/* what we last asked of the enable path */
	uint32_t bar_orig[PVPCI_NUM_BARS + 1];
	uint32_t bar_len[PVPCI_NUM_BARS + 1];
	bool bar_sizing[PVPCI_NUM_BARS + 1];
	bool rom_enable;		/* the guest's ROM enable bit: never reaches hardware */
};

static inline uint32_t cs_le(const uint8_t *p, unsigned size)
{
	uint32_t v = 0;

	while (size--)
		v = v << 8 | p[size];
	return v;
}

static inline uint32_t size_mask(unsigned size)
{
	return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

/* Index of the first capability with this ID in caps[] (visible or not), or -1. */
int cs_cap_find(const struct pvpci_cs *cs, bool ext, uint16_t id);

/* Wait as the spec requires between steps (PM transitions, FLR) through the
 * caller's delay callback; the engine itself never sleeps. */
void cs_delay(struct pvpci_cs *cs, unsigned usecs);

/* Scan both chains of the snapshot and decide visibility (cs_caps.c). */
void cs_caps_scan(struct pvpci_cs *cs);
/* Register the chain as the guest sees it: ID/next, relinked pointers,
 * hidden bodies (cs_caps.c). */
int cs_caps_register(struct pvpci_cs *cs);
/* Register the type 0 header (cs_header.c). */
int cs_header_register(struct pvpci_cs *cs);

/*
 * Capability handlers (cs_cap_pm.c, cs_cap_msi.c, cs_cap_msix.c), hooked
 * into std_kinds[] of cs_caps.c.  check runs once the chains are scanned
 * and before anything is registered: it validates the host's capability,
 * sets c->len for its layout and returns false to hide it.  init registers
 * the capability's body (cs_caps.c registers its ID and next pointer).
 */
bool cs_pm_check(struct pvpci_cs *cs, struct pvpci_cap *c);
int cs_pm_init(struct pvpci_cs *cs, struct pvpci_cap *c);
/* Whether the function is in D0 now, as its PMCSR says (true without a
 * visible PM capability; false when PMCSR cannot be read).  For the ops
 * that need its BARs or its interrupts, which Linux refuses outside D0. */
bool cs_pm_in_d0(struct pvpci_cs *cs);
bool cs_msi_check(struct pvpci_cs *cs, struct pvpci_cap *c);
int cs_msi_init(struct pvpci_cs *cs, struct pvpci_cap *c);
bool cs_msix_check(struct pvpci_cs *cs, struct pvpci_cap *c);
int cs_msix_init(struct pvpci_cs *cs, struct pvpci_cap *c);

/*
 * For the PV ops (XEN_PCI_OP_enable_msi and friends): the only paths
 * besides a guest write with allow_interrupt_control that change MSI or
 * MSI-X Enable in hardware.  Both update what the guest reads back.
 * cs_msi_set_enable: on writes Enable with Multiple Message Enable for
 * nvec vectors (rounded up to a power of two); off clears Enable only.
 * cs_msix_set_enable: Enable only; Function Mask stays as it is.
 * Return 0, -ENODEV (no visible capability), -EINVAL (nvec 0 or > 32),
 * -ERANGE (more vectors than the function is capable of), -EBUSY (the
 * other of MSI / MSI-X is enabled in hardware) or the host access's
 * negative errno.
 */
int cs_msi_set_enable(struct pvpci_cs *cs, bool on, unsigned nvec);
int cs_msix_set_enable(struct pvpci_cs *cs, bool on);

/* MSI-X table and PBA as validated at bind (never re-read: XSA-337). */
struct cs_msix_geom {
	unsigned entries;		/* table size, 1..2048 */
	unsigned table_bir, pba_bir;	/* memory BARs, 0..5 */
	uint32_t table_off, pba_off;	/* byte offsets in those BARs */
};
/* 0, or -ENODEV when the function has no visible MSI-X; *ret untouched then. */
int cs_msix_geometry(const struct pvpci_cs *cs, struct cs_msix_geom *ret);

/*
 * Capability handlers (cs_cap_exp.c, cs_cap_vpd.c, cs_cap_vendor.c,
 * cs_cap_aer.c), hooked into std_kinds[] / ext_kinds[] of cs_caps.c: each
 * init registers the body of one visible capability and sets c->len.
 * cs_vendor_init serves the standard (0x09), extended (0x0b) and
 * designated (DVSEC, 0x23) vendor-specific kinds.
 */
int cs_exp_init(struct pvpci_cs *cs, struct pvpci_cap *c);
int cs_vpd_init(struct pvpci_cs *cs, struct pvpci_cap *c);
int cs_vendor_init(struct pvpci_cs *cs, struct pvpci_cap *c);
int cs_aer_init(struct pvpci_cs *cs, struct pvpci_cap *c);
/* After a function reset: AER's virtual registers go back to their values
 * at bind (the PCI Express FLR path calls it; no-op without AER). */
void cs_aer_reset_virtual(struct pvpci_cs *cs);

/* Bytes the capability at c may own, in either chain: up to the nearest
 * capability header above it, or the end of its space. */
static inline unsigned cs_cap_room(const struct pvpci_cs *cs, const struct pvpci_cap *c)
{
	unsigned end = c->ext ? cs->cfg_size : PVPCI_CFG_SIZE;

	for (size_t i = 0; i < cs->ncaps; i++)
		if (cs->caps[i].ext == c->ext && cs->caps[i].offset > c->offset && cs->caps[i].offset < end)
			end = cs->caps[i].offset;
	return end > c->offset ? end - c->offset : 0;
}

/*
 * The end of a handler's init: register the rows of tbl (sorted by
 * offset) that fit in len bytes at c, record len as c's length and take
 * priv as c's state.  priv is freed when registration fails.
 */
int cs_cap_commit(struct pvpci_cs *cs, struct pvpci_cap *c, const struct pvpci_reg *tbl, size_t n,
		  unsigned len, void *priv);

/* How many leading rows of a table sorted by offset fit in len bytes. */
static inline size_t cs_regs_within(const struct pvpci_reg *tbl, size_t n, unsigned len)
{
	size_t k = 0;

	while (k < n && tbl[k].offset + tbl[k].size <= len)
		k++;
	return k;
}

#endif
