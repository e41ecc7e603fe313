/*
 * The MSI-X capability (ID 0x11) as a guest sees it.  Owns validating
 * where the function says its table and PBA are, keeping that geometry,
 * the capability's register table, and the one path by which MSI-X Enable
 * reaches hardware.
 *
 * The geometry is read from the bind-time snapshot once and checked
 * against the BARs the host reports: each BIR must name a memory BAR that
 * exists and has a size (not the upper half of a 64-bit one), the table
 * (16 bytes an entry) and the PBA (8 bytes per 64 entries) must lie inside
 * their BARs and must not overlap.  A function that fails is bound with
 * MSI-X hidden and a warning saying why: the op code would otherwise map
 * and program memory the function never decodes.  Table Offset/BIR and
 * PBA Offset/BIR read the validated values forever and take no write: a
 * device that changes them later is not believed (XSA-337).
 *
 * Message Control: Table Size is read-only; Enable and Function Mask are
 * virtual.  They reach hardware only through cs_msix_set_enable() (the
 * XEN_PCI_OP_enable_msix path) or, with allow_interrupt_control, by a
 * guest write.
 *
 * Not owned here: the table's and PBA's contents (BAR memory, not config
 * space), binding vectors.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cs_internal.h"

#define MSIX_CTRL		2
#define MSIX_TABLE		4
#define MSIX_PBA		8
#define MSIX_LEN		12

#define MSIX_CTRL_SIZE		0x07ff	/* N - 1 */
#define MSIX_CTRL_RSVD		0x3800
#define MSIX_CTRL_MASKALL	0x4000
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_BIR		0x7u
#define MSIX_ENTRY_SIZE		16

#define MSI_CTRL_ENABLE		0x0001	/* to keep MSI and MSI-X exclusive */

struct msix_state {
	struct cs_msix_geom g;
	uint32_t table_reg, pba_reg;	/* the registers as validated */
	uint16_t ctrl;			/* absolute offset of Message Control */
	bool warned;
};

static struct msix_state *msix_state(const struct pvpci_cs *cs)
{
	int i = cs_cap_find(cs, false, 0x11);

	if (i < 0 || !cs->caps[i].visible)
		return NULL;
	return cs->cap_priv[i];
}

int cs_msix_geometry(const struct pvpci_cs *cs, struct cs_msix_geom *ret)
{
	const struct msix_state *x = msix_state(cs);

	if (!x)
		return -ENODEV;
	*ret = x->g;
	return 0;
}

/* Why BAR bir cannot hold an MSI-X structure, or NULL; *ret its size. */
static const char *bar_problem(struct pvpci_cs *cs, unsigned bir, uint64_t *ret_size)
{
	struct pvpci_bar b, lo;

	if (bir >= PVPCI_NUM_BARS)
		return "is reserved";
	if (pvpci_hostdev_bar_info(cs->hd, bir, &b) < 0)
		return "names a BAR the host cannot describe";
	/* As the header does: a 64-bit BAR's upper half is known by its lower
	 * half, whatever the backend says of it. */
	if ((b.flags & PVPCI_BAR_MEM64_HI) ||
	    (bir > 0 && pvpci_hostdev_bar_info(cs->hd, bir - 1, &lo) >= 0 &&
	     (lo.flags & PVPCI_BAR_MEM64) && !(lo.flags & PVPCI_BAR_UNUSED)))
		return "names the upper half of a 64-bit BAR";
	if ((b.flags & PVPCI_BAR_UNUSED) || !b.size)
		return "names an unused BAR";
	if (b.flags & PVPCI_BAR_IO)
		return "names an I/O BAR";
	*ret_size = b.size;
	return NULL;
}

/* Warn why the capability is hidden; false, for check to return. */
__attribute__((format(printf, 3, 4)))
static bool hide(struct pvpci_cs *cs, const struct pvpci_cap *c, const char *fmt, ...)
{
	char why[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pvpci_cs_log(cs, PVPCI_LOG_WARNING, "MSI-X capability at 0x%x hidden: %s", c->offset, why);
	return false;
}

bool cs_msix_check(struct pvpci_cs *cs, struct pvpci_cap *c)
{
	unsigned idx = (unsigned)(c - cs->caps), room = cs_cap_room(cs, c);
	const uint8_t *p = cs->snap + c->offset;
	uint32_t table = cs_le(p + MSIX_TABLE, 4), pba = cs_le(p + MSIX_PBA, 4);
	unsigned entries = (cs_le(p + MSIX_CTRL, 2) & MSIX_CTRL_SIZE) + 1;
	uint64_t tlen = (uint64_t)entries * MSIX_ENTRY_SIZE, plen = (entries + 63u) / 64 * 8;
	uint64_t tsize = 0, psize = 0, toff = table & ~MSIX_BIR, poff = pba & ~MSIX_BIR;
	unsigned tbir = table & MSIX_BIR, pbir = pba & MSIX_BIR;
	struct msix_state *x;
	const char *why;

	if (cs_cap_find(cs, false, c->id) != (int)idx)
		return hide(cs, c, "the function has one at 0x%x already",
			    cs->caps[cs_cap_find(cs, false, c->id)].offset);
	if (room < MSIX_LEN) {
		c->len = (uint16_t)room;
		return hide(cs, c, "its %u bytes do not fit before 0x%x", MSIX_LEN, c->offset + room);
	}
	why = bar_problem(cs, tbir, &tsize);
	if (why)
		return hide(cs, c, "table BIR %u %s", tbir, why);
	why = bar_problem(cs, pbir, &psize);
	if (why)
		return hide(cs, c, "PBA BIR %u %s", pbir, why);
	if (toff + tlen > tsize)
		return hide(cs, c, "the table (%u entries at 0x%" PRIx64 ") runs past the end of BAR %u "
			    "(0x%" PRIx64 " bytes)", entries, toff, tbir, tsize);
	if (poff + plen > psize)
		return hide(cs, c, "the PBA (at 0x%" PRIx64 ") runs past the end of BAR %u (0x%" PRIx64 " bytes)",
			    poff, pbir, psize);
	if (tbir == pbir && toff < poff + plen && poff < toff + tlen)
		return hide(cs, c, "the table and the PBA overlap in BAR %u", tbir);
	x = calloc(1, sizeof(*x));
	if (!x)
		return hide(cs, c, "out of memory");
	x->g = (struct cs_msix_geom){
		.entries = entries, .table_bir = tbir, .pba_bir = pbir,
		.table_off = (uint32_t)toff, .pba_off = (uint32_t)poff,
	};
	x->table_reg = table;
	x->pba_reg = pba;
	x->ctrl = (uint16_t)(c->offset + MSIX_CTRL);
	c->len = MSIX_LEN;
	free(cs->cap_priv[idx]);
	cs->cap_priv[idx] = x;
	return true;
}

static bool msi_enabled_in_hw(struct pvpci_cs *cs)
{
	int i = cs_cap_find(cs, false, 0x05);
	uint32_t v;

	return i >= 0 && pvpci_hostdev_read(cs->hd, cs->caps[i].offset + 2u, 2, &v) >= 0 &&
	       (v & MSI_CTRL_ENABLE);
}

/* Put the bits of bits in hardware as they are in want; the guest's
 * Message Control follows. */
static int msix_hw_set(struct pvpci_cs *cs, struct msix_state *x, uint32_t bits, uint32_t want)
{
	struct pvpci_reg *r = pvpci_cs_reg_at(cs, x->ctrl);
	uint32_t hw, nhw;
	int err;

	if ((want & bits & MSIX_CTRL_ENABLE) && msi_enabled_in_hw(cs))
		return -EBUSY;
	err = pvpci_hostdev_read(cs->hd, x->ctrl, 2, &hw);
	if (err < 0)
		return err;
	nhw = (hw & ~bits) | (want & bits);
	if (nhw != hw) {
		err = pvpci_hostdev_write(cs->hd, x->ctrl, 2, nhw);
		if (err < 0)
			return err;
	}
	if (r)
		r->val = (r->val & ~bits) | (want & bits);
	return 0;
}

int cs_msix_set_enable(struct pvpci_cs *cs, bool on)
{
	struct msix_state *x = msix_state(cs);

	if (!x)
		return -ENODEV;
	return msix_hw_set(cs, x, MSIX_CTRL_ENABLE, on ? MSIX_CTRL_ENABLE : 0);
}

static int msix_ctrl_write(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t val, uint32_t wmask)
{
	struct msix_state *x = r->data;
	uint32_t old = r->val, both = MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL;
	int err;

	err = pvpci_cs_reg_apply(cs, r, val, wmask);	/* every writable bit is virtual */
	if (err || !cs->opts.allow_interrupt_control || !((old ^ r->val) & both))
		return err;
	err = msix_hw_set(cs, x, both, r->val);
	if (err < 0) {
		/* The guest reads back what hardware does; no error reaches it. */
		bool on = r->val & MSIX_CTRL_ENABLE;

		r->val = (r->val & ~both) | (old & both);
		if (!x->warned) {
			x->warned = true;
			pvpci_cs_log(cs, PVPCI_LOG_WARNING, "guest's MSI-X %s not done: %s",
				     on ? "enable" : "control change",
				     err == -EBUSY ? "MSI is enabled" : "host access failed");
		}
	}
	return 0;
}

/* Called only for a capability cs_msix_check passed, so its state is there. */
int cs_msix_init(struct pvpci_cs *cs, struct pvpci_cap *c)
{
	struct msix_state *x = cs->cap_priv[c - cs->caps];
	uint32_t ctrl = cs_le(cs->snap + x->ctrl, 2);
	const struct pvpci_reg body[] = {
		{ .name = "MSI-X: Message Control", .offset = MSIX_CTRL, .size = 2,
		  .ro_mask = MSIX_CTRL_SIZE, .rsvdp_mask = MSIX_CTRL_RSVD,
		  .emu_mask = MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL | MSIX_CTRL_SIZE,
		  /* Off and unmasked for a new guest, whatever the host's
		  * driver left: nothing is bound until it asks. */
		  .val = ctrl & MSIX_CTRL_SIZE, .write = msix_ctrl_write, .data = x },
		{ .name = "MSI-X: Table Offset/BIR", .offset = MSIX_TABLE, .size = 4,
		  .ro_mask = 0xffffffffu, .emu_mask = 0xffffffffu, .val = x->table_reg },
		{ .name = "MSI-X: PBA Offset/BIR", .offset = MSIX_PBA, .size = 4,
		  .ro_mask = 0xffffffffu, .emu_mask = 0xffffffffu, .val = x->pba_reg },
	};

	return pvpci_cs_add_regs(cs, c->offset, body, sizeof(body) / sizeof(body[0]));
}
