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

#endif
