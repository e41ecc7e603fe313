/*
 * The capability chains as the guest sees them.  Owns walking both chains
 * of the host snapshot with a loop guard (a visited set and a step limit:
 * a looping or wild chain is cut, never followed forever), the table of
 * capabilities that stay visible, and hiding the others by relinking:
 * each visible capability's next pointer, the header's Capabilities
 * Pointer and Status.CapList are emulated so that the guest's walk skips
 * what is hidden, and a hidden capability's bytes read 0.  When the
 * capability at 0x100 is hidden, a header with ID 0 stays there and
 * points on, because the extended chain must start at 0x100.
 *
 * Registers inside the visible capabilities belong to their handlers
 * (cs_cap_<name>.c); this file registers only ID and next-pointer bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_internal.h"

#define CAP_STEP_LIMIT_STD	48	/* (256 - 64) / 4 dword-aligned places */
#define CAP_STEP_LIMIT_EXT	960	/* (4096 - 256) / 4 */

struct cap_kind {
	uint16_t id;
	bool visible;
	uint16_t len;		/* bytes to hide when hidden; 0: just the header */
	const char *name;
	/* Optional, for visible kinds: check may hide a capability that fails
	 * validation (before anything is registered); init registers its body. */
	bool (*check)(struct pvpci_cs *cs, struct pvpci_cap *c);
	int (*init)(struct pvpci_cs *cs, struct pvpci_cap *c);
};

/*
 * What stays visible: the capabilities a passed-through function needs
 * and that this engine handles (or will handle: bodies without handlers
 * pass reads through and drop writes, like every unhandled byte).
 */
static const struct cap_kind std_kinds[] = {
	{ .id = 0x01, .visible = true, .len = 8, .name = "Power Management",
	  .check = cs_pm_check, .init = cs_pm_init },
	{ .id = 0x02, .visible = false, .len = 8, .name = "AGP" },
	{ .id = 0x03, .visible = true, .len = 8, .name = "Vital Product Data", .init = cs_vpd_init },
	{ .id = 0x04, .visible = false, .len = 4, .name = "Slot Identification" },
	{ .id = 0x05, .visible = true, .len = 0, .name = "MSI",
	  .check = cs_msi_check, .init = cs_msi_init },
	{ .id = 0x06, .visible = false, .len = 4, .name = "CompactPCI Hot Swap" },
	{ .id = 0x07, .visible = false, .len = 8, .name = "PCI-X" },
	{ .id = 0x08, .visible = false, .len = 0, .name = "HyperTransport" },
	{ .id = 0x09, .visible = true, .len = 0, .name = "Vendor Specific", .init = cs_vendor_init },
	{ .id = 0x0a, .visible = false, .len = 8, .name = "Debug port" },
	{ .id = 0x0b, .visible = false, .len = 4, .name = "CompactPCI Central Resource Control" },
	{ .id = 0x0c, .visible = false, .len = 0, .name = "PCI Hot-plug" },
	{ .id = 0x0d, .visible = false, .len = 8, .name = "Bridge Subsystem Vendor ID" },
	{ .id = 0x0e, .visible = false, .len = 0, .name = "AGP 8x" },
	{ .id = 0x0f, .visible = false, .len = 0, .name = "Secure Device" },
	{ .id = 0x10, .visible = true, .len = 0x3c, .name = "PCI Express", .init = cs_exp_init },
	{ .id = 0x11, .visible = true, .len = 12, .name = "MSI-X",
	  .check = cs_msix_check, .init = cs_msix_init },
	{ .id = 0x12, .visible = false, .len = 8, .name = "SATA Data/Index Configuration" },
	{ .id = 0x13, .visible = false, .len = 6, .name = "Advanced Features" },
	{ .id = 0x14, .visible = false, .len = 0, .name = "Enhanced Allocation" },
	{ .id = 0x15, .visible = false, .len = 0, .name = "Flattening Portal Bridge" },
};

static const struct cap_kind ext_kinds[] = {
	{ .id = 0x0001, .visible = true, .len = 0x38, .name = "Advanced Error Reporting",
	  .init = cs_aer_init },
	{ .id = 0x0002, .visible = false, .len = 0, .name = "Virtual Channel" },
	{ .id = 0x0003, .visible = false, .len = 12, .name = "Device Serial Number" },
	{ .id = 0x0004, .visible = false, .len = 16, .name = "Power Budgeting" },
	{ .id = 0x0005, .visible = false, .len = 0, .name = "Root Complex Link Declaration" },
	{ .id = 0x000b, .visible = true, .len = 0, .name = "Vendor Specific", .init = cs_vendor_init },
	{ .id = 0x000d, .visible = false, .len = 8, .name = "Access Control Services" },
	{ .id = 0x000e, .visible = false, .len = 8, .name = "Alternative Routing-ID Interpretation" },
	{ .id = 0x000f, .visible = false, .len = 8, .name = "Address Translation Services" },
	{ .id = 0x0010, .visible = false, .len = 0x40, .name = "Single Root I/O Virtualization" },
	{ .id = 0x0013, .visible = false, .len = 8, .name = "Page Request" },
	{ .id = 0x0015, .visible = false, .len = 0, .name = "Resizable BAR" },
	{ .id = 0x0017, .visible = false, .len = 8, .name = "TPH Requester" },
	{ .id = 0x0018, .visible = false, .len = 8, .name = "Latency Tolerance Reporting" },
	{ .id = 0x0019, .visible = false, .len = 12, .name = "Secondary PCI Express" },
	{ .id = 0x001b, .visible = false, .len = 8, .name = "Process Address Space ID" },
	{ .id = 0x001e, .visible = false, .len = 16, .name = "L1 PM Substates" },
	{ .id = 0x001f, .visible = false, .len = 12, .name = "Precision Time Measurement" },
	{ .id = 0x0023, .visible = true, .len = 0, .name = "Designated Vendor-Specific",
	  .init = cs_vendor_init },
	{ .id = 0x0025, .visible = false, .len = 0, .name = "Data Link Feature" },
	{ .id = 0x0026, .visible = false, .len = 0, .name = "Physical Layer 16.0 GT/s" },
};

static const struct cap_kind *find_kind(bool ext, uint16_t id)
{
	const struct cap_kind *t = ext ? ext_kinds : std_kinds;
	size_t n = ext ? sizeof(ext_kinds) / sizeof(ext_kinds[0])
		       : sizeof(std_kinds) / sizeof(std_kinds[0]);

	for (size_t i = 0; i < n; i++)
		if (t[i].id == id)
			return &t[i];
	return NULL;
}

static void note(struct pvpci_cs *cs, const char *fmt, unsigned a, unsigned b)
{
	if (!cs->chain_note[0])
		snprintf(cs->chain_note, sizeof(cs->chain_note), fmt, a, b);
}

static void add_cap(struct pvpci_cs *cs, bool ext, unsigned off, uint16_t id)
{
	const struct cap_kind *k = find_kind(ext, id);
	struct pvpci_cap *c;

	if (cs->ncaps == CS_MAX_CAPS)
		return;
	c = &cs->caps[cs->ncaps++];
	c->offset = (uint16_t)off;
	c->id = id;
	c->ext = ext;
	c->visible = k && k->visible;
	c->name = k ? k->name : "Unknown";
	c->len = k && k->len ? k->len : 4;
}

static void walk_std(struct pvpci_cs *cs)
{
	uint8_t visited[256 / 4] = { 0 };
	unsigned ptr, steps = 0;

	if (!(cs->snap[0x06] & 0x10))
		return;
	ptr = cs->snap[0x34] & 0xfc;
	while (ptr) {
		if (ptr < 0x40) {
			note(cs, "capability pointer 0x%x points into the header; chain cut after %u entries",
			     ptr, steps);
			return;
		}
		if (visited[ptr / 4] || ++steps > CAP_STEP_LIMIT_STD) {
			note(cs, "capability chain loops back to 0x%x; cut after %u entries", ptr, steps);
			return;
		}
		visited[ptr / 4] = 1;
		if (cs->snap[ptr] == 0xff && cs->snap[ptr + 1] == 0xff) {
			note(cs, "capability at 0x%x reads all-ones; chain cut after %u entries", ptr, steps);
			return;
		}
		add_cap(cs, false, ptr, cs->snap[ptr]);
		ptr = cs->snap[ptr + 1] & 0xfc;
	}
}

static void walk_ext(struct pvpci_cs *cs)
{
	uint8_t visited[PVPCI_CFG_EXP_SIZE / 4] = { 0 };
	unsigned off = 0x100, steps = 0;

	if (cs->cfg_size < PVPCI_CFG_EXP_SIZE)
		return;
	for (;;) {
		uint32_t h = cs_le(cs->snap + off, 4);

		if (h == 0 || h == 0xffffffffu)
			return;
		if (visited[off / 4] || ++steps > CAP_STEP_LIMIT_EXT) {
			note(cs, "extended capability chain loops back to 0x%x; cut after %u entries", off,
			     steps);
			return;
		}
		visited[off / 4] = 1;
		add_cap(cs, true, off, (uint16_t)(h & 0xffff));
		off = (h >> 20) & 0xffc;
		if (!off)
			return;
		if (off < 0x100) {
			note(cs, "extended capability pointer 0x%x points below 0x100; chain cut after %u entries",
			     off, steps);
			return;
		}
	}
}

void cs_caps_scan(struct pvpci_cs *cs)
{
	walk_std(cs);
	walk_ext(cs);
	for (size_t i = 0; i < cs->ncaps; i++) {
		struct pvpci_cap *c = &cs->caps[i];
		const struct cap_kind *k = find_kind(c->ext, c->id);

		if (c->visible && k->check && !k->check(cs, c))
			c->visible = false;
	}
	for (size_t i = 0; i < cs->ncaps; i++)
		if (!cs->caps[i].ext && cs->caps[i].visible) {
			cs->first_std = (uint8_t)cs->caps[i].offset;
			break;
		}
}

/* The next visible capability of the same chain after index i, or 0. */
static unsigned next_visible(const struct pvpci_cs *cs, size_t i)
{
	for (size_t j = i + 1; j < cs->ncaps; j++)
		if (cs->caps[j].ext == cs->caps[i].ext && cs->caps[j].visible)
			return cs->caps[j].offset;
	return 0;
}

/* Zero-reading, write-ignoring registers over the free bytes of a range. */
static int hide_range(struct pvpci_cs *cs, unsigned off, unsigned len)
{
	unsigned end = off + len;

	if (end > cs->cfg_size)
		end = cs->cfg_size;
	while (off < end) {
		unsigned size = (off % 4 == 0 && off + 4 <= end) ? 4 : (off % 2 == 0 && off + 2 <= end) ? 2 : 1;
		struct pvpci_reg r = {
			.name = "hidden capability", .offset = (uint16_t)off, .size = (uint8_t)size,
			.flags = PVPCI_REG_HIDDEN, .ro_mask = size_mask(size), .emu_mask = size_mask(size),
		};
		int err;

		for (unsigned b = 0; b < size; b++)
			if (cs->map[off + b]) {	/* another capability's byte: step over it */
				size = 1;
				r.size = 1;
				r.ro_mask = r.emu_mask = 0xff;
				break;
			}
		if (!cs->map[off]) {
			err = pvpci_cs_add_reg(cs, 0, &r);
			if (err < 0)
				return err;
		}
		off += size;
	}
	return 0;
}

int cs_caps_register(struct pvpci_cs *cs)
{
	bool first_ext_seen = false;
	int err = 0;
	size_t i;

	/* Visible ones first, so that hidden ranges never take their bytes. */
	for (i = 0; i < cs->ncaps && err >= 0; i++) {
		const struct pvpci_cap *c = &cs->caps[i];
		unsigned next = next_visible(cs, i);

		if (!c->visible)
			continue;
		if (c->ext) {
			struct pvpci_reg h = {
				.name = "Extended Capability Header", .offset = c->offset, .size = 4,
				.ro_mask = 0xffffffffu, .emu_mask = 0xfff00000u,
				.val = (uint32_t)next << 20,
			};
			err = pvpci_cs_add_reg(cs, 0, &h);
		} else {
			const struct pvpci_reg hdr[] = {
				{ .name = "Capability ID", .offset = 0, .size = 1, .ro_mask = 0xff },
				{ .name = "Next Capability Pointer", .offset = 1, .size = 1, .ro_mask = 0xff,
				  .emu_mask = 0xff, .val = next },
			};
			err = pvpci_cs_add_regs(cs, c->offset, hdr, 2);
		}
		if (err >= 0 && find_kind(c->ext, c->id)->init)
			err = find_kind(c->ext, c->id)->init(cs, &cs->caps[i]);
	}
	for (i = 0; i < cs->ncaps && err >= 0; i++) {
		const struct pvpci_cap *c = &cs->caps[i];

		if (c->ext && !first_ext_seen) {
			first_ext_seen = true;
			if (!c->visible && c->offset == 0x100) {
				/* The extended chain must start here: keep an ID 0
				 * header that points at the first visible one. */
				struct pvpci_reg h = {
					.name = "Extended Capability Header (hidden, relinked)",
					.offset = 0x100, .size = 4, .flags = PVPCI_REG_HIDDEN,
					.ro_mask = 0xffffffffu, .emu_mask = 0xffffffffu,
					.val = (uint32_t)next_visible(cs, i) << 20,
				};
				err = pvpci_cs_add_reg(cs, 0, &h);
				if (err >= 0)
					err = hide_range(cs, 0x104, c->len > 4 ? c->len - 4u : 0);
				continue;
			}
		}
		if (!c->visible)
			err = hide_range(cs, c->offset, c->len);
	}
	return err < 0 ? err : 0;
}

int cs_cap_commit(struct pvpci_cs *cs, struct pvpci_cap *c, const struct pvpci_reg *tbl, size_t n,
		  unsigned len, void *priv)
{
	size_t idx = (size_t)(c - cs->caps);
	int err;

	err = pvpci_cs_add_regs(cs, c->offset, tbl, cs_regs_within(tbl, n, len));
	if (err < 0) {
		free(priv);
		return err;
	}
	c->len = (uint16_t)len;
	free(cs->cap_priv[idx]);
	cs->cap_priv[idx] = priv;
	return 0;
}
