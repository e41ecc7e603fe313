/*
 * The PCI Express capability (ID 0x10) as a guest sees it.  Owns the
 * register table of its body, the layout by capability version and
 * device/port type, and Function Level Reset.
 *
 * Who owns what, field by field.  Linux pciback has no handler here (a
 * guest write to any of it is dropped unless the device is permissive,
 * then all of it reaches hardware); QEMU's xen_pt emulates all four
 * control registers and lets nothing through.  We follow QEMU for what
 * the guest reads back, and pciback's permissive mode only for the bits
 * that concern this function alone:
 *
 *  Device Control: every bit is a virtual copy, starting at the host's
 *   value at bind.  The host keeps what it programmed:
 *   - Max_Payload_Size: a fabric-wide setting the host chose for the
 *     whole hierarchy; a function with a larger one than its port drops
 *     TLPs.  Never reaches hardware.
 *   - Phantom Functions Enable: the function would issue requests with
 *     the requester IDs of other function numbers, which the IOMMU
 *     attributes to other functions.  Never reaches hardware.
 *   - Relaxed Ordering and Extended Tag: both depend on what the root
 *     complex handles; the host clears them below ones that break (Linux's
 *     no-relaxed-ordering and no-ext-tags quirks).  Never reach hardware.
 *   - No Snoop: DMA coherency is the hypervisor's business (snoop control
 *     of the IOMMU, cache attributes of the guest).  Never reaches hardware.
 *   - Aux Power PM Enable: read-only, as in QEMU; aux power is the host's.
 *   - Error reporting enables (correctable, non-fatal, fatal, unsupported
 *     request) and Max_Read_Request_Size: virtual; in permissive mode they
 *     also reach hardware, as pciback's permissive mode would let them.
 *     They change only what this function reports and how it reads.
 *   - Initiate FLR (when Device Capabilities says FLR capable; otherwise
 *     the bit is read-only): a function reset through the host device and
 *     the spec's 100 ms wait; the bit reads 0.  The host's reset restores
 *     what the host had programmed, and the guest's virtual copies here and
 *     in AER go back to their values at bind, as after a reset.
 *  Device Status: the four error bits are RW1C to hardware; the rest is
 *   read-only.
 *  Link Control and Link Control 2: virtual copies, never written to
 *   hardware, even in permissive mode: the link is shared with the host's
 *   port above (ASPM, common clock, retraining, target speed), and Link
 *   Control 2 holds the electrical test modes (Enter Compliance, Transmit
 *   Margin) that can take the link down.  The bits QEMU lets a guest change
 *   are writable; the rest are read-only.
 *  Link Status: Link Bandwidth Management Status and Link Autonomous
 *   Bandwidth Status (bits 14, 15) are RW1C to hardware; the rest is
 *   read-only.
 *  Device Control 2: a virtual copy; only the Completion Timeout value and
 *   Completion Timeout Disable are writable (as in QEMU), and in permissive
 *   mode they reach hardware.  LTR, OBFF, AtomicOp, IDO and 10-bit tags
 *   need the path to the root to agree: read-only at the host's value.
 *  Capability registers (PCI Express Capabilities, Device/Link
 *  Capabilities 1 and 2) and the other status registers: read-only.
 *  Slot and Root registers: only for ports with a slot and for root
 *   ports and root complex event collectors, and then read-only (the
 *   host owns hot-plug and the root's error and PME handling).  Elsewhere
 *   the spec hardwires them to 0: they read 0 without a hardware access
 *   and take no write ("reserved"), so junk a device has there never shows.
 *  Link registers of a function without a link (root complex integrated
 *   endpoints and event collectors): reserved in the same way.
 *
 * Length: a version 2 structure has every register (0x3c bytes).  A
 * version 1 structure ends after the last register its type has: 0x0c
 * without a link, 0x14 for endpoints, 0x1c with a slot, 0x24 with root
 * registers; the bytes after it are not ours.  Version 0 (seen on some
 * virtual functions whose capability register is all zeros) is taken as
 * version 1.  The structure is cut at the next capability or at 0x100.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "cs_internal.h"

#define EXP_FLAGS	0x02
#define EXP_DEVCAP	0x04
#define EXP_DEVCTL	0x08
#define EXP_DEVSTA	0x0a
#define EXP_LNKCAP	0x0c
#define EXP_LNKCTL	0x10
#define EXP_LNKSTA	0x12
#define EXP_SLTCAP	0x14
#define EXP_SLTCTL	0x18
#define EXP_SLTSTA	0x1a
#define EXP_RTCTL	0x1c
#define EXP_RTCAP	0x1e
#define EXP_RTSTA	0x20
#define EXP_DEVCAP2	0x24
#define EXP_DEVCTL2	0x28
#define EXP_DEVSTA2	0x2a
#define EXP_LNKCAP2	0x2c
#define EXP_LNKCTL2	0x30
#define EXP_LNKSTA2	0x32
#define EXP_SLTCAP2	0x34
#define EXP_SLTCTL2	0x38
#define EXP_SLTSTA2	0x3a
#define EXP_V2_LEN	0x3c

#define FLAGS_VERS	0x000f
#define FLAGS_TYPE	0x00f0
#define FLAGS_SLOT	0x0100

enum {
	TYPE_ENDPOINT = 0x0,
	TYPE_LEG_END = 0x1,
	TYPE_ROOT_PORT = 0x4,
	TYPE_UPSTREAM = 0x5,
	TYPE_DOWNSTREAM = 0x6,
	TYPE_RC_END = 0x9,
	TYPE_RC_EC = 0xa,
};

#define DEVCAP_FLR	0x10000000u

#define DEVCTL_CERE	0x0001
#define DEVCTL_NFERE	0x0002
#define DEVCTL_FERE	0x0004
#define DEVCTL_URRE	0x0008
#define DEVCTL_RELAX_EN	0x0010
#define DEVCTL_PAYLOAD	0x00e0
#define DEVCTL_EXT_TAG	0x0100
#define DEVCTL_PHANTOM	0x0200
#define DEVCTL_AUX_PME	0x0400
#define DEVCTL_NOSNOOP	0x0800
#define DEVCTL_READRQ	0x7000
#define DEVCTL_FLR	0x8000
/* What a permissive device's guest may set in hardware. */
#define DEVCTL_PERMISSIVE_HW	(DEVCTL_CERE | DEVCTL_NFERE | DEVCTL_FERE | DEVCTL_URRE | DEVCTL_READRQ)

#define DEVSTA_RW1C	0x000f	/* correctable, non-fatal, fatal, unsupported request detected */
#define LNKSTA_RW1C	0xc000	/* link bandwidth management, link autonomous bandwidth */

/* ASPM, RCB, common clock, extended synch, clock PM, HW autonomous width
 * disable: what QEMU lets a guest change in its copy. */
#define LNKCTL_GUEST	0x03cb
/* Completion Timeout Value and Disable. */
#define DEVCTL2_GUEST	0x001f
/* All but Selectable De-emphasis (bit 6) and bits 15:13, as in QEMU. */
#define LNKCTL2_GUEST	0x1fbf

/* PCIe base spec: wait 100 ms after initiating FLR before the function
 * must answer again. */
#define FLR_DELAY_US	100000

struct exp_state {
	uint16_t base;
	uint16_t devctl, lnkctl, devctl2, lnkctl2;	/* virtual values at bind */
};

/* Write only the bits in `bits` of r through to hardware, and of those
 * only the ones in the bytes the guest wrote (the others hold the virtual
 * copy, which may differ from the hardware, after an FLR say), the other
 * bits of the hardware register kept as they are: the core's own
 * arithmetic, on a copy of r that owns exactly those bits. */
static int write_through(struct pvpci_cs *cs, const struct pvpci_reg *r, uint32_t bits, uint32_t val,
			 uint32_t wmask)
{
	struct pvpci_reg t = {
		.name = r->name, .offset = r->offset, .size = r->size,
		.ro_mask = size_mask(r->size) & ~(bits & wmask),
	};

	return pvpci_cs_reg_apply(cs, &t, val, wmask);
}

static void set_val(struct pvpci_cs *cs, unsigned off, uint32_t val)
{
	struct pvpci_reg *r = pvpci_cs_reg_at(cs, off);

	if (r && r->offset == off && r->emu_mask)
		r->val = val;
}

static int exp_flr(struct pvpci_cs *cs, const struct exp_state *st)
{
	pvpci_cs_log(cs, PVPCI_LOG_INFO, "guest initiated a function level reset");
	if (pvpci_hostdev_reset(cs->hd) < 0) {
		pvpci_cs_log(cs, PVPCI_LOG_WARNING, "function level reset failed: %s",
			     pvpci_hostdev_errmsg(cs->hd));
		return PVPCI_ERR_op_failed;
	}
	cs_delay(cs, FLR_DELAY_US);
	set_val(cs, st->base + EXP_DEVCTL, st->devctl);
	set_val(cs, st->base + EXP_LNKCTL, st->lnkctl);
	set_val(cs, st->base + EXP_DEVCTL2, st->devctl2);
	set_val(cs, st->base + EXP_LNKCTL2, st->lnkctl2);
	cs_aer_reset_virtual(cs);
	return 0;
}

static int devctl_write(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t val, uint32_t wmask)
{
	/* The bit is read-only (and so 0 here) unless the function can FLR. */
	bool flr = (wmask & DEVCTL_FLR) && (val & DEVCTL_FLR);
	int err;

	err = pvpci_cs_reg_apply(cs, r, val & ~DEVCTL_FLR, wmask);
	if (!err && cs->opts.permissive)
		err = write_through(cs, r, DEVCTL_PERMISSIVE_HW, val, wmask);
	if (err || !flr)
		return err;
	return exp_flr(cs, r->data);
}

static int devctl2_write(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t val, uint32_t wmask)
{
	int err = pvpci_cs_reg_apply(cs, r, val, wmask);

	if (!err && cs->opts.permissive)
		err = write_through(cs, r, DEVCTL2_GUEST, val, wmask);
	return err;
}

/* Which optional group a register belongs to, by its offset. */
enum { PART_ALWAYS, PART_LINK, PART_SLOT, PART_ROOT };

static int part_of(unsigned off)
{
	if ((off >= EXP_LNKCAP && off < EXP_SLTCAP) || (off >= EXP_LNKCAP2 && off < EXP_SLTCAP2))
		return PART_LINK;
	if ((off >= EXP_SLTCAP && off < EXP_RTCTL) || off >= EXP_SLTCAP2)
		return PART_SLOT;
	if (off >= EXP_RTCTL && off < EXP_DEVCAP2)
		return PART_ROOT;
	return PART_ALWAYS;
}

/* A register the function does not implement: reads 0, takes no write. */
static void make_reserved(struct pvpci_reg *r)
{
	*r = (struct pvpci_reg){
		.name = r->name, .offset = r->offset, .size = r->size,
		.rsvdp_mask = size_mask(r->size),
	};
}

int cs_exp_init(struct pvpci_cs *cs, struct pvpci_cap *c)
{
	const uint8_t *p = cs->snap + c->offset;
	unsigned flags = cs_le(p + EXP_FLAGS, 2);
	unsigned ver = flags & FLAGS_VERS, type = (flags & FLAGS_TYPE) >> 4;
	bool link = type != TYPE_RC_END && type != TYPE_RC_EC;
	bool slot = (type == TYPE_ROOT_PORT || type == TYPE_DOWNSTREAM) && (flags & FLAGS_SLOT);
	bool root = type == TYPE_ROOT_PORT || type == TYPE_RC_EC;
	bool flr = cs_le(p + EXP_DEVCAP, 4) & DEVCAP_FLR;
	struct pvpci_reg t[] = {
		{ .name = "PCI Express: Capabilities", .offset = EXP_FLAGS, .size = 2, .ro_mask = 0xffff },
		{ .name = "PCI Express: Device Capabilities", .offset = EXP_DEVCAP, .size = 4,
		  .ro_mask = 0xffffffffu },
		{ .name = "PCI Express: Device Control", .offset = EXP_DEVCTL, .size = 2,
		  .ro_mask = DEVCTL_AUX_PME | (flr ? 0 : DEVCTL_FLR), .emu_mask = 0xffff,
		  .val = cs_le(p + EXP_DEVCTL, 2) & ~DEVCTL_FLR, .write = devctl_write },
		{ .name = "PCI Express: Device Status", .offset = EXP_DEVSTA, .size = 2,
		  .rw1c_mask = DEVSTA_RW1C, .ro_mask = 0xffff & ~DEVSTA_RW1C },
		{ .name = "PCI Express: Link Capabilities", .offset = EXP_LNKCAP, .size = 4,
		  .ro_mask = 0xffffffffu },
		{ .name = "PCI Express: Link Control", .offset = EXP_LNKCTL, .size = 2,
		  .ro_mask = 0xffff & ~LNKCTL_GUEST, .emu_mask = 0xffff, .val = cs_le(p + EXP_LNKCTL, 2) },
		{ .name = "PCI Express: Link Status", .offset = EXP_LNKSTA, .size = 2,
		  .rw1c_mask = LNKSTA_RW1C, .ro_mask = 0xffff & ~LNKSTA_RW1C },
		{ .name = "PCI Express: Slot Capabilities", .offset = EXP_SLTCAP, .size = 4,
		  .ro_mask = 0xffffffffu },
		{ .name = "PCI Express: Slot Control", .offset = EXP_SLTCTL, .size = 2, .ro_mask = 0xffff },
		{ .name = "PCI Express: Slot Status", .offset = EXP_SLTSTA, .size = 2, .ro_mask = 0xffff },
		{ .name = "PCI Express: Root Control", .offset = EXP_RTCTL, .size = 2, .ro_mask = 0xffff },
		{ .name = "PCI Express: Root Capabilities", .offset = EXP_RTCAP, .size = 2, .ro_mask = 0xffff },
		{ .name = "PCI Express: Root Status", .offset = EXP_RTSTA, .size = 4, .ro_mask = 0xffffffffu },
		{ .name = "PCI Express: Device Capabilities 2", .offset = EXP_DEVCAP2, .size = 4,
		  .ro_mask = 0xffffffffu },
		{ .name = "PCI Express: Device Control 2", .offset = EXP_DEVCTL2, .size = 2,
		  .ro_mask = 0xffff & ~DEVCTL2_GUEST, .emu_mask = 0xffff, .val = cs_le(p + EXP_DEVCTL2, 2),
		  .write = devctl2_write },
		{ .name = "PCI Express: Device Status 2", .offset = EXP_DEVSTA2, .size = 2, .ro_mask = 0xffff },
		{ .name = "PCI Express: Link Capabilities 2", .offset = EXP_LNKCAP2, .size = 4,
		  .ro_mask = 0xffffffffu },
		{ .name = "PCI Express: Link Control 2", .offset = EXP_LNKCTL2, .size = 2,
		  .ro_mask = 0xffff & ~LNKCTL2_GUEST, .emu_mask = 0xffff, .val = cs_le(p + EXP_LNKCTL2, 2) },
		{ .name = "PCI Express: Link Status 2", .offset = EXP_LNKSTA2, .size = 2, .ro_mask = 0xffff },
		{ .name = "PCI Express: Slot Capabilities 2", .offset = EXP_SLTCAP2, .size = 4,
		  .ro_mask = 0xffffffffu },
		{ .name = "PCI Express: Slot Control 2", .offset = EXP_SLTCTL2, .size = 2, .ro_mask = 0xffff },
		{ .name = "PCI Express: Slot Status 2", .offset = EXP_SLTSTA2, .size = 2, .ro_mask = 0xffff },
	};
	size_t nt = sizeof(t) / sizeof(t[0]), i;
	unsigned len, room = cs_cap_room(cs, c);
	struct exp_state *st;

	if (ver >= 2)
		len = EXP_V2_LEN;
	else
		len = root ? EXP_DEVCAP2 : slot ? EXP_RTCTL : link ? EXP_SLTCAP : EXP_LNKCAP;
	if (len > room) {
		pvpci_cs_log(cs, PVPCI_LOG_WARNING,
			     "PCI Express capability at 0x%x: its %u bytes do not fit before 0x%x; cut",
			     c->offset, len, c->offset + room);
		len = room;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->base = c->offset;
	for (i = 0; i < nt; i++) {
		int part = part_of(t[i].offset);

		if ((part == PART_LINK && !link) || (part == PART_SLOT && !slot) ||
		    (part == PART_ROOT && !root))
			make_reserved(&t[i]);
		if (t[i].write)
			t[i].data = st;
		/* What an FLR puts back. */
		if (t[i].offset == EXP_DEVCTL)
			st->devctl = (uint16_t)t[i].val;
		else if (t[i].offset == EXP_LNKCTL)
			st->lnkctl = (uint16_t)t[i].val;
		else if (t[i].offset == EXP_DEVCTL2)
			st->devctl2 = (uint16_t)t[i].val;
		else if (t[i].offset == EXP_LNKCTL2)
			st->lnkctl2 = (uint16_t)t[i].val;
	}
	return cs_cap_commit(cs, c, t, nt, len, st);
}
