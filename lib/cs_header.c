/*
 * The type 0 header as a guest sees it: register descriptors for every
 * field of 0x00-0x3f, and the three fields that need more than masks:
 *  - Command (XSA-120): the guest owns only the bits of PCI_COMMAND_GUEST
 *    below in hardware, and those only in permissive mode; memory and I/O
 *    decode change only through the host's enable path; bus master and
 *    MWI through their own set/clear; everything else the guest reads is
 *    the value it wrote last.
 *  - BARs and the expansion ROM: the guest sees the host's addresses and
 *    can size them; no write ever repoints the hardware.  A write of the
 *    original value puts it back if the hardware lost it.
 * The capability pointer and Status.CapList follow the chain that
 * cs_caps.c rebuilt.  Bridges never get here (pvpci_cs_new refuses them).
 */
#include <errno.h>
#include <stdint.h>

#include "cs_internal.h"

#define CMD_IO		0x0001
#define CMD_MEMORY	0x0002
#define CMD_MASTER	0x0004
#define CMD_SPECIAL	0x0008
#define CMD_INVALIDATE	0x0010
#define CMD_VGA_PALETTE	0x0020
#define CMD_WAIT	0x0080
#define CMD_FAST_BACK	0x0200
#define CMD_INTX_DISABLE 0x0400
#define CMD_DEFINED	0x07ff
/* Bits a guest may own in hardware, in permissive mode only. */
#define CMD_GUEST	(CMD_MASTER | CMD_SPECIAL | CMD_INVALIDATE | CMD_VGA_PALETTE | CMD_WAIT | \
			 CMD_FAST_BACK)

#define STATUS_CAP_LIST	0x0010
#define STATUS_RW1C	0xf900	/* parity, target/master aborts, SERR */

#define ROM_ADDR_MASK	0xfffff800u
#define ROM_ENABLE	0x1u

static int command_read(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t *ret_val)
{
	uint32_t hw;

	if (pvpci_hostdev_read(cs->hd, r->offset, 2, &hw) < 0)
		return PVPCI_ERR_op_failed;
	*ret_val = (hw & CMD_GUEST) | (r->val & ~CMD_GUEST);
	return 0;
}

static int command_write(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t val, uint32_t wmask)
{
	bool want_decode = val & (CMD_IO | CMD_MEMORY);
	uint32_t hw, nhw;

	(void)wmask;
	if (want_decode != cs->decode_on) {
		/* pciback's verbose_request words for each transition */
		pvpci_cs_verbose(cs, "%s", want_decode ? "enable" : "disable");
		if (pvpci_hostdev_set_decode(cs->hd, want_decode) < 0) {
			pvpci_cs_log(cs, PVPCI_LOG_WARNING, "cannot %s decoding: %s",
				     want_decode ? "enable" : "disable", pvpci_hostdev_errmsg(cs->hd));
			return PVPCI_ERR_op_failed;
		}
		cs->decode_on = want_decode;
	}
	if (pvpci_hostdev_read(cs->hd, r->offset, 2, &hw) < 0)
		return PVPCI_ERR_op_failed;
	nhw = hw;
	/* Bus master and MWI have their own paths in Linux; here both are a
	 * bit of the host's Command register, changed only when asked. */
	if ((val ^ hw) & CMD_MASTER) {
		pvpci_cs_verbose(cs, "%s bus master", val & CMD_MASTER ? "set" : "clear");
		nhw = (nhw & ~CMD_MASTER) | (val & CMD_MASTER);
	}
	if ((val ^ r->val) & CMD_INVALIDATE) {
		pvpci_cs_verbose(cs, "%s memory-write-invalidate", val & CMD_INVALIDATE ? "enable" : "disable");
		nhw = (nhw & ~CMD_INVALIDATE) | (val & CMD_INVALIDATE);
	}
	if (cs->opts.allow_interrupt_control && ((val ^ r->val) & CMD_INTX_DISABLE))
		nhw = (nhw & ~CMD_INTX_DISABLE) | (val & CMD_INTX_DISABLE);
	if (cs->opts.permissive)
		nhw = (nhw & ~CMD_GUEST) | (val & CMD_GUEST);
	r->val = val & CMD_DEFINED;
	if (nhw != hw && pvpci_hostdev_write(cs->hd, r->offset, 2, nhw) < 0)
		return PVPCI_ERR_op_failed;
	return 0;
}

static unsigned bar_index(const struct pvpci_reg *r)
{
	return (unsigned)(uintptr_t)r->data;
}

static int bar_read(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t *ret_val)
{
	unsigned i = bar_index(r);

	if (i == PVPCI_ROM_BAR)
		*ret_val = cs->bar_sizing[i] ? cs->bar_len[i] | cs->rom_enable
					     : (cs->bar_orig[i] & ~ROM_ENABLE) | cs->rom_enable;
	else
		*ret_val = cs->bar_sizing[i] ? cs->bar_len[i] : cs->bar_orig[i];
	return 0;
}

static int bar_write(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t val, uint32_t wmask)
{
	unsigned i = bar_index(r);
	uint32_t addr_mask = ~r->ro_mask, hw;

	(void)wmask;
	/* Nothing is there: nothing to size and nothing to put back, even
	 * when the register holds an address the host does not stand by. */
	if (cs->bars[i].flags & PVPCI_BAR_UNUSED)
		return 0;
	if (i == PVPCI_ROM_BAR) {
		addr_mask = ROM_ADDR_MASK;
		cs->rom_enable = val & ROM_ENABLE;
	}
	if ((val | ~addr_mask) == 0xffffffffu) {
		cs->bar_sizing[i] = true;
		return 0;
	}
	cs->bar_sizing[i] = false;
	/* Anything else only puts back what the host had, and only if the
	 * hardware lost it; the guest never moves a BAR. */
	if ((val & addr_mask) != (cs->bar_orig[i] & addr_mask))
		return 0;
	if (pvpci_hostdev_read(cs->hd, r->offset, 4, &hw) < 0)
		return PVPCI_ERR_op_failed;
	if ((hw & addr_mask) != (cs->bar_orig[i] & addr_mask) &&
	    pvpci_hostdev_write(cs->hd, r->offset, 4, cs->bar_orig[i]) < 0)
		return PVPCI_ERR_op_failed;
	return 0;
}

static const char *const bar_names[PVPCI_NUM_BARS + 1] = {
	"BAR 0", "BAR 1", "BAR 2", "BAR 3", "BAR 4", "BAR 5", "Expansion ROM",
};

static int register_bar(struct pvpci_cs *cs, unsigned i)
{
	unsigned off = i == PVPCI_ROM_BAR ? 0x30 : 0x10 + 4 * i;
	uint32_t orig = cs_le(cs->snap + off, 4);
	struct pvpci_bar *b = &cs->bars[i];
	struct pvpci_reg reg = {
		.name = bar_names[i], .offset = (uint16_t)off, .size = 4,
		.emu_mask = 0xffffffffu, .read = bar_read, .write = bar_write,
		.data = (void *)(uintptr_t)i,
	};
	uint64_t size;

	if (pvpci_hostdev_bar_info(cs->hd, i, b) < 0)
		*b = (struct pvpci_bar){ .flags = PVPCI_BAR_UNUSED };
	/* The upper half of a 64-bit BAR is known by its lower half, whatever
	 * the backend says of it; any other BAR without a size is unused. */
	if (i > 0 && i < PVPCI_ROM_BAR && (cs->bars[i - 1].flags & PVPCI_BAR_MEM64) &&
	    !(cs->bars[i - 1].flags & PVPCI_BAR_UNUSED))
		b->flags = PVPCI_BAR_MEM64_HI;
	else if (!b->size)
		b->flags |= PVPCI_BAR_UNUSED;
	size = b->size;
	if (b->flags & PVPCI_BAR_UNUSED) {
		/* Reads 0, sizes to 0, takes no write: nothing is there. */
		reg.ro_mask = 0xffffffffu;
		cs->bar_orig[i] = cs->bar_len[i] = 0;
	} else if (i == PVPCI_ROM_BAR) {
		reg.ro_mask = ~(ROM_ADDR_MASK | ROM_ENABLE);
		cs->bar_orig[i] = orig;
		cs->bar_len[i] = (uint32_t)~(size - 1) & ROM_ADDR_MASK;
		cs->rom_enable = orig & ROM_ENABLE;
	} else if (b->flags & PVPCI_BAR_MEM64_HI) {
		/* The size is the lower half's; this half sizes its top bits. */
		size = i > 0 ? cs->bars[i - 1].size : 0;
		cs->bar_orig[i] = orig;
		cs->bar_len[i] = size ? (uint32_t)(~(size - 1) >> 32) : 0;
	} else {
		uint32_t flags = orig & ((b->flags & PVPCI_BAR_IO) ? 0x3u : 0xfu);

		reg.ro_mask = (b->flags & PVPCI_BAR_IO) ? 0x3u : 0xfu;
		cs->bar_orig[i] = orig;
		cs->bar_len[i] = ((uint32_t)~(size - 1) & ~reg.ro_mask) | flags;
	}
	return pvpci_cs_add_reg(cs, 0, &reg);
}

/*
 * What a guest reads in Interrupt Line: as pciback, the number the host's
 * OS gave the function's interrupt (dev->irq; sysfs `irq`), which is the
 * pirq a toolstack maps for the guest on Xen (libxl reads the same file)
 * and the one Linux's pcifront guest binds.  The register itself holds
 * what firmware wrote for an 8259 (10 or 11 under QEMU's SeaBIOS, where
 * dom0 says 20-23): a guest binding that number gets no interrupt.  A
 * host that cannot tell shows the register.
 */
static uint8_t intx_line(struct pvpci_cs *cs)
{
	struct pvpci_intx intx;

	if (pvpci_host_intx(cs->hd->host, &cs->hd->bdf, &intx) < 0)
		return cs->snap[0x3c];
	return (uint8_t)intx.irq;
}

int cs_header_register(struct pvpci_cs *cs)
{
	uint32_t cmd = cs_le(cs->snap + 0x04, 2);
	bool bist_capable = cs->snap[0x0f] & 0x80;
	const struct pvpci_reg header[] = {
		{ .name = "Vendor ID", .offset = 0x00, .size = 2, .ro_mask = 0xffff },
		{ .name = "Device ID", .offset = 0x02, .size = 2, .ro_mask = 0xffff },
		{ .name = "Command", .offset = 0x04, .size = 2, .rsvdp_mask = 0xffff & ~CMD_DEFINED,
		  .emu_mask = CMD_DEFINED, .val = cmd & CMD_DEFINED,
		  .read = command_read, .write = command_write },
		{ .name = "Status", .offset = 0x06, .size = 2, .rw1c_mask = STATUS_RW1C,
		  .ro_mask = 0xffff & ~STATUS_RW1C, .emu_mask = STATUS_CAP_LIST,
		  .val = cs->first_std ? STATUS_CAP_LIST : 0 },
		{ .name = "Revision ID", .offset = 0x08, .size = 1, .ro_mask = 0xff },
		{ .name = "Programming Interface", .offset = 0x09, .size = 1, .ro_mask = 0xff },
		{ .name = "Class Code", .offset = 0x0a, .size = 2, .ro_mask = 0xffff },
		{ .name = "Cache Line Size", .offset = 0x0c, .size = 1 },
		{ .name = "Latency Timer", .offset = 0x0d, .size = 1 },
		{ .name = "Header Type", .offset = 0x0e, .size = 1, .ro_mask = 0xff },
		/* Only Start BIST, and only on a device that can. */
		{ .name = "BIST", .offset = 0x0f, .size = 1, .ro_mask = bist_capable ? 0xbf : 0xff },
		{ .name = "CardBus CIS Pointer", .offset = 0x28, .size = 4, .ro_mask = 0xffffffffu },
		{ .name = "Subsystem Vendor ID", .offset = 0x2c, .size = 2, .ro_mask = 0xffff },
		{ .name = "Subsystem ID", .offset = 0x2e, .size = 2, .ro_mask = 0xffff },
		{ .name = "Capabilities Pointer", .offset = 0x34, .size = 1, .ro_mask = 0xff,
		  .emu_mask = 0xff, .val = cs->first_std },
		{ .name = "Reserved", .offset = 0x35, .size = 1, .rsvdz_mask = 0xff },
		{ .name = "Reserved", .offset = 0x36, .size = 2, .rsvdz_mask = 0xffff },
		{ .name = "Reserved", .offset = 0x38, .size = 4, .rsvdz_mask = 0xffffffffu },
		/* The host's irq (intx_line); the guest cannot route anything
		 * by writing it. */
		{ .name = "Interrupt Line", .offset = 0x3c, .size = 1, .ro_mask = 0xff, .emu_mask = 0xff,
		  .val = intx_line(cs) },
		{ .name = "Interrupt Pin", .offset = 0x3d, .size = 1, .ro_mask = 0xff },
		{ .name = "Min_Gnt", .offset = 0x3e, .size = 1, .ro_mask = 0xff },
		{ .name = "Max_Lat", .offset = 0x3f, .size = 1, .ro_mask = 0xff },
	};
	int r;

	cs->decode_on = cmd & (CMD_IO | CMD_MEMORY);
	r = pvpci_cs_add_regs(cs, 0, header, sizeof(header) / sizeof(header[0]));
	for (unsigned i = 0; r >= 0 && i <= PVPCI_ROM_BAR; i++)
		r = register_bar(cs, i);
	return r;
}
