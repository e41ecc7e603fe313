/*
 * The MSI capability (ID 0x05) as a guest sees it.  Owns the register
 * table for the four layouts (32- or 64-bit address, with or without
 * per-vector masking), the capability's length for each, and the one
 * path by which MSI Enable and Multiple Message Enable reach hardware.
 *
 * Everything a guest writes here is virtual: Message Control, address,
 * data, mask and pending read back what the guest wrote (pending: 0) and
 * never reach the device.  The interrupt the device really raises is set
 * up by the host when the guest asks through XEN_PCI_OP_enable_msi, whose
 * code calls cs_msi_set_enable().  Only with allow_interrupt_control (a
 * device model that owns the function's interrupts) does a guest write of
 * Enable or Multiple Message Enable go to hardware, through that same path.
 * Multiple Message Enable never exceeds Multiple Message Capable.
 *
 * Not owned here: binding vectors to the guest (the op code), INTx.
 */
#include <errno.h>
#include <stdlib.h>

#include "cs_internal.h"

#define MSI_CTRL		2
#define MSI_ADDR_LO		4
#define MSI_CTRL_ENABLE		0x0001
#define MSI_CTRL_MMC		0x000e
#define MSI_CTRL_MME		0x0070
#define MSI_CTRL_64BIT		0x0080
#define MSI_CTRL_PVM		0x0100
/* 15:9, including Extended Message Data Capable/Enable: the guest is not
 * offered extended data (it would be one more field to virtualize). */
#define MSI_CTRL_RSVD		0xfe00
#define MSI_CTRL_MME_SHIFT	4
#define MSI_MAX_LOG2		5	/* 32 vectors; MMC 6 and 7 are reserved */

#define MSIX_CTRL_ENABLE	0x8000	/* to keep MSI and MSI-X exclusive */

struct msi_state {
	uint16_t ctrl;		/* absolute offset of Message Control */
	bool is64, pvm;
	unsigned mmc;		/* log2 of the vectors the function is capable of */
	bool warned;		/* one warning for a refused guest enable */
};

/* Layout offsets, relative to the capability. */
static unsigned data_off(const struct msi_state *m)
{
	return m->is64 ? 0x0c : 0x08;
}

static unsigned mask_off(const struct msi_state *m)
{
	return m->is64 ? 0x10 : 0x0c;
}

static unsigned msi_len(const struct msi_state *m)
{
	/* Data is followed by 2 bytes (Extended Message Data, or reserved)
	 * that belong to the capability too. */
	return m->pvm ? mask_off(m) + 8 : data_off(m) + 4;
}

static struct msi_state *msi_state(const struct pvpci_cs *cs)
{
	int i = cs_cap_find(cs, false, 0x05);

	if (i < 0 || !cs->caps[i].visible)
		return NULL;
	return cs->cap_priv[i];
}

/* Is the other kind of message interrupt enabled in hardware? */
static bool msix_enabled_in_hw(struct pvpci_cs *cs)
{
	int i = cs_cap_find(cs, false, 0x11);
	uint32_t v;

	return i >= 0 && pvpci_hostdev_read(cs->hd, cs->caps[i].offset + 2u, 2, &v) >= 0 &&
	       (v & MSIX_CTRL_ENABLE);
}

/*
 * Enable (with mme as log2 of the vectors) or disable in hardware, and
 * make the guest's Message Control say so.
 */
static int msi_hw_set(struct pvpci_cs *cs, struct msi_state *m, bool on, unsigned mme)
{
	struct pvpci_reg *r = pvpci_cs_reg_at(cs, m->ctrl);
	uint32_t hw, nhw;
	int err;

	if (on && msix_enabled_in_hw(cs))
		return -EBUSY;
	err = pvpci_hostdev_read(cs->hd, m->ctrl, 2, &hw);
	if (err < 0)
		return err;
	nhw = hw & ~(uint32_t)MSI_CTRL_ENABLE;
	if (on)
		nhw = (nhw & ~(uint32_t)MSI_CTRL_MME) | MSI_CTRL_ENABLE | mme << MSI_CTRL_MME_SHIFT;
	if (nhw != hw) {
		err = pvpci_hostdev_write(cs->hd, m->ctrl, 2, nhw);
		if (err < 0)
			return err;
	}
	if (r) {
		r->val &= ~(uint32_t)MSI_CTRL_ENABLE;
		if (on)
			r->val = (r->val & ~(uint32_t)MSI_CTRL_MME) | MSI_CTRL_ENABLE | mme << MSI_CTRL_MME_SHIFT;
	}
	return 0;
}

int cs_msi_set_enable(struct pvpci_cs *cs, bool on, unsigned nvec)
{
	struct msi_state *m = msi_state(cs);
	unsigned mme = 0;

	if (!m)
		return -ENODEV;
	if (on) {
		if (nvec == 0 || nvec > 1u << MSI_MAX_LOG2)
			return -EINVAL;
		while (1u << mme < nvec)
			mme++;
		if (mme > m->mmc)
			return -ERANGE;
	}
	return msi_hw_set(cs, m, on, mme);
}

static int msi_ctrl_write(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t val, uint32_t wmask)
{
	struct msi_state *m = r->data;
	uint32_t old = r->val;
	unsigned mme = (val & MSI_CTRL_MME) >> MSI_CTRL_MME_SHIFT;
	bool on;
	int err;

	/* A guest asking for more vectors than there are gets what there are. */
	if (mme > m->mmc)
		mme = m->mmc;
	val = (val & ~(uint32_t)MSI_CTRL_MME) | mme << MSI_CTRL_MME_SHIFT;
	err = pvpci_cs_reg_apply(cs, r, val, wmask);	/* every writable bit is virtual */
	if (err || !cs->opts.allow_interrupt_control ||
	    !((old ^ r->val) & (MSI_CTRL_ENABLE | MSI_CTRL_MME)))
		return err;
	on = r->val & MSI_CTRL_ENABLE;
	err = msi_hw_set(cs, m, on, mme);
	if (err < 0) {
		/* The guest reads back what hardware does; no error reaches it. */
		r->val = (r->val & ~(uint32_t)MSI_CTRL_ENABLE) | (old & MSI_CTRL_ENABLE);
		if (!m->warned) {
			m->warned = true;
			pvpci_cs_log(cs, PVPCI_LOG_WARNING, "guest's MSI %s not done: %s",
				     on ? "enable" : "disable",
				     err == -EBUSY ? "MSI-X is enabled" : "host access failed");
		}
	}
	return 0;
}

bool cs_msi_check(struct pvpci_cs *cs, struct pvpci_cap *c)
{
	uint32_t ctrl = cs_le(cs->snap + c->offset + MSI_CTRL, 2);
	unsigned room = cs_cap_room(cs, c), idx = (unsigned)(c - cs->caps);
	struct msi_state *m;

	if (cs_cap_find(cs, false, c->id) != (int)idx) {
		pvpci_cs_log(cs, PVPCI_LOG_WARNING, "second MSI capability at 0x%x hidden", c->offset);
		return false;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		pvpci_cs_log(cs, PVPCI_LOG_WARNING, "MSI capability at 0x%x hidden: out of memory",
			     c->offset);
		return false;
	}
	m->ctrl = (uint16_t)(c->offset + MSI_CTRL);
	m->is64 = ctrl & MSI_CTRL_64BIT;
	m->pvm = ctrl & MSI_CTRL_PVM;
	m->mmc = (ctrl & MSI_CTRL_MMC) >> 1;
	if (m->mmc > MSI_MAX_LOG2)
		m->mmc = MSI_MAX_LOG2;
	if (room < msi_len(m)) {
		pvpci_cs_log(cs, PVPCI_LOG_WARNING,
			     "MSI capability at 0x%x hidden: its %u bytes do not fit before 0x%x",
			     c->offset, msi_len(m), c->offset + room);
		c->len = (uint16_t)room;
		free(m);
		return false;
	}
	c->len = (uint16_t)msi_len(m);
	free(cs->cap_priv[idx]);
	cs->cap_priv[idx] = m;
	return true;
}

/* Called only for a capability cs_msi_check passed, so its state is there. */
int cs_msi_init(struct pvpci_cs *cs, struct pvpci_cap *c)
{
	struct msi_state *m = cs->cap_priv[c - cs->caps];
	uint32_t ctrl = cs_le(cs->snap + m->ctrl, 2);
	/* Mask bits of vectors the function does not have are reserved. */
	uint32_t vec_mask = m->mmc == MSI_MAX_LOG2 ? 0xffffffffu : (1u << (1u << m->mmc)) - 1;
	const struct pvpci_reg ctl = {
		.name = "MSI: Message Control", .offset = MSI_CTRL, .size = 2,
		.ro_mask = MSI_CTRL_MMC | MSI_CTRL_64BIT | MSI_CTRL_PVM, .rsvdp_mask = MSI_CTRL_RSVD,
		/* A guest starts with MSI off, whatever the host's driver left:
		 * nothing is bound for it until it asks through the op. */
		.emu_mask = 0xffff & ~MSI_CTRL_RSVD,
		.val = ctrl & ~(MSI_CTRL_RSVD | MSI_CTRL_ENABLE | MSI_CTRL_MME),
		.write = msi_ctrl_write, .data = m,
	};
	const struct pvpci_reg addr_lo = {
		.name = "MSI: Message Address", .offset = MSI_ADDR_LO, .size = 4,
		.ro_mask = 0x3, .emu_mask = 0xffffffffu,	/* dword aligned: 1:0 read 0 */
	};
	const struct pvpci_reg addr_hi = {
		.name = "MSI: Message Upper Address", .offset = 0x08, .size = 4,
		.emu_mask = 0xffffffffu,
	};
	const struct pvpci_reg data[] = {
		{ .name = "MSI: Message Data", .offset = (uint16_t)data_off(m), .size = 2,
		  .emu_mask = 0xffff },
		{ .name = "MSI: Extended Message Data (reserved)", .offset = (uint16_t)(data_off(m) + 2),
		  .size = 2, .rsvdp_mask = 0xffff },
	};
	const struct pvpci_reg masking[] = {
		{ .name = "MSI: Mask Bits", .offset = (uint16_t)mask_off(m), .size = 4,
		  .ro_mask = ~vec_mask, .emu_mask = 0xffffffffu },
		{ .name = "MSI: Pending Bits", .offset = (uint16_t)(mask_off(m) + 4), .size = 4,
		  .ro_mask = 0xffffffffu, .emu_mask = 0xffffffffu },
	};
	int err;

	err = pvpci_cs_add_reg(cs, c->offset, &ctl);
	if (err >= 0)
		err = pvpci_cs_add_reg(cs, c->offset, &addr_lo);
	if (err >= 0 && m->is64)
		err = pvpci_cs_add_reg(cs, c->offset, &addr_hi);
	if (err >= 0)
		err = pvpci_cs_add_regs(cs, c->offset, data, 2);
	if (err >= 0 && m->pvm)
		err = pvpci_cs_add_regs(cs, c->offset, masking, 2);
	return err;
}
