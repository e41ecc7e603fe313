/*
 * The Power Management capability (ID 0x01) as a guest sees it.  Owns the
 * register table of its body and the guest's path to a power state:
 *  - PMC is read-only; its PME_Support bits read 0, because PMEs are the
 *    host's to handle (a guest that believed in them would wait forever).
 *  - PMCSR.PowerState is the state the transition path last put the
 *    device in.  A guest write asking for another state is carried out on
 *    the host device (a write of the PowerState bits) followed by the wait
 *    the PCI PM spec requires before the next access; D1/D2 are taken only
 *    when PMC says the function supports them, and from a low-power state
 *    only D0 or a deeper state; any other request is ignored.  D3cold is
 *    not a PowerState value: config space cannot reach it.
 *  - PME_En reads 0 and is never written; PME_Status (RW1C) and
 *    Data_Select are the only bits a guest write passes to hardware.
 * Not owned here: restoring the config space a function loses on
 * D3hot -> D0 without No_Soft_Reset (save/restore does that; this file
 * only says it happened), and PME delivery.  Reads of the rest of the
 * config space do not depend on the power state: a function answers
 * config reads in D3hot.
 */
#include <stdint.h>

#include "cs_internal.h"

#define PM_PMC		2
#define PM_CTRL		4
#define PM_BSE		6	/* bridge support extensions: reserved for endpoints */
#define PM_DATA		7
#define PM_LEN		8

#define PMC_D1		0x0200
#define PMC_D2		0x0400
#define PMC_PME_MASK	0xf800

#define PMCSR_STATE		0x0003
#define PMCSR_NO_SOFT_RESET	0x0008
#define PMCSR_RSVD		0x00f4
#define PMCSR_PME_EN		0x0100
#define PMCSR_DATA_SEL		0x1e00
#define PMCSR_DATA_SCALE	0x6000
#define PMCSR_PME_STATUS	0x8000
/* What a guest write may pass to hardware (besides the transition). */
#define PMCSR_GUEST_HW		(PMCSR_DATA_SEL | PMCSR_PME_STATUS)

enum { D0, D1, D2, D3HOT };

/* PCI PM 1.2, table 5-6: recovery times before the next access. */
#define PM_D3HOT_DELAY_US	10000	/* to or from D3hot */
#define PM_D2_DELAY_US		200	/* to or from D2 */

static bool state_reachable(unsigned pmc, unsigned cur, unsigned want)
{
	if (want == cur)
		return false;
	switch (want) {
	case D0:
		return true;
	case D1:
		return (pmc & PMC_D1) && cur == D0;
	case D2:
		/* Only deeper from a low-power state, as Linux's PCI core does. */
		return (pmc & PMC_D2) && (cur == D0 || cur == D1);
	default:
		return true;	/* D3hot from D0, D1 or D2 */
	}
}

static unsigned transition_delay(unsigned from, unsigned to)
{
	if (from == D3HOT || to == D3HOT)
		return PM_D3HOT_DELAY_US;
	if (from == D2 || to == D2)
		return PM_D2_DELAY_US;
	return 0;
}

/*
 * Put the function in state to: one write of the PowerState bits (every
 * other bit as hardware has it, PME_Status written 0 so it is not
 * cleared), the spec's wait, then read back: the guest sees the state the
 * device is really in, also when it refused.
 */
static int pm_transition(struct pvpci_cs *cs, struct pvpci_reg *r, unsigned from, unsigned to)
{
	uint32_t hw, now;
	unsigned us = transition_delay(from, to);

	if (pvpci_hostdev_read(cs->hd, r->offset, 2, &hw) < 0)
		return PVPCI_ERR_op_failed;
	if (pvpci_hostdev_write(cs->hd, r->offset, 2, (hw & ~(PMCSR_STATE | PMCSR_PME_STATUS)) | to) < 0)
		return PVPCI_ERR_op_failed;
	if (us)
		cs_delay(cs, us);
	if (pvpci_hostdev_read(cs->hd, r->offset, 2, &now) < 0)
		return PVPCI_ERR_op_failed;
	if ((now & PMCSR_STATE) != to)
		pvpci_cs_log(cs, PVPCI_LOG_WARNING, "refused to change power state D%u -> D%u (stays in D%u)",
			     from, to, now & PMCSR_STATE);
	else if (from == D3HOT && to == D0 && !(hw & PMCSR_NO_SOFT_RESET))
		/* The function went through an internal reset: its BARs,
		 * Command and the rest are at their defaults now.  Putting them
		 * back is save/restore's job, not this register's. */
		pvpci_cs_log(cs, PVPCI_LOG_INFO,
			     "D3hot -> D0 without No_Soft_Reset: the function has reset its configuration");
	r->val = (r->val & ~PMCSR_STATE) | (now & PMCSR_STATE);
	return 0;
}

static int pmcsr_write(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t val, uint32_t wmask)
{
	unsigned pmc = cs_le(cs->snap + r->offset - PM_CTRL + PM_PMC, 2);
	unsigned cur = r->val & PMCSR_STATE, want = val & PMCSR_STATE;
	uint32_t hw;
	int err;

	if (!state_reachable(pmc, cur, want))
		want = cur;
	/* Going up, a function without No_Soft_Reset resets its registers:
	 * the guest's other bits go in after that, and before going down. */
	if (want < cur) {
		err = pm_transition(cs, r, cur, want);
		if (err)
			return err;
	}
	/* Only a change of Data_Select or a 1 to PME_Status is worth a write
	 * of its own; PowerState goes through the transition path. */
	if (pvpci_hostdev_read(cs->hd, r->offset, 2, &hw) < 0)
		return PVPCI_ERR_op_failed;
	if (!(val & PMCSR_PME_STATUS) && !((val ^ hw) & PMCSR_DATA_SEL))
		wmask &= ~(uint32_t)PMCSR_GUEST_HW;
	err = pvpci_cs_reg_apply(cs, r, (val & ~PMCSR_STATE) | (r->val & PMCSR_STATE), wmask);
	if (!err && want > cur)
		err = pm_transition(cs, r, cur, want);
	return err;
}

bool cs_pm_in_d0(struct pvpci_cs *cs)
{
	int i = cs_cap_find(cs, false, 0x01);
	uint32_t pmcsr;

	if (i < 0 || !cs->caps[i].visible)
		return true;
	/* The device's own word, not the state last asked for: a function
	 * may refuse or leave D0 by itself. */
	return pvpci_hostdev_read(cs->hd, cs->caps[i].offset + PM_CTRL, 2, &pmcsr) >= 0 &&
	       (pmcsr & PMCSR_STATE) == D0;
}

bool cs_pm_check(struct pvpci_cs *cs, struct pvpci_cap *c)
{
	unsigned room = cs_cap_room(cs, c);

	if (cs_cap_find(cs, false, c->id) != (int)(c - cs->caps)) {
		pvpci_cs_log(cs, PVPCI_LOG_WARNING, "second Power Management capability at 0x%x hidden",
			     c->offset);
		return false;
	}
	if (room < PM_LEN) {
		pvpci_cs_log(cs, PVPCI_LOG_WARNING,
			     "Power Management capability at 0x%x hidden: its %u bytes do not fit before 0x%x",
			     c->offset, PM_LEN, c->offset + room);
		c->len = (uint16_t)room;
		return false;
	}
	c->len = PM_LEN;
	return true;
}

int cs_pm_init(struct pvpci_cs *cs, struct pvpci_cap *c)
{
	uint32_t pmcsr = cs_le(cs->snap + c->offset + PM_CTRL, 2);
	const struct pvpci_reg body[] = {
		{ .name = "PM: Capabilities", .offset = PM_PMC, .size = 2, .ro_mask = 0xffff,
		  .emu_mask = PMC_PME_MASK, .val = 0 },
		{ .name = "PM: Control/Status", .offset = PM_CTRL, .size = 2,
		  .ro_mask = PMCSR_NO_SOFT_RESET | PMCSR_PME_EN | PMCSR_DATA_SCALE,
		  .rw1c_mask = PMCSR_PME_STATUS, .rsvdp_mask = PMCSR_RSVD,
		  .emu_mask = PMCSR_STATE | PMCSR_PME_EN, .val = pmcsr & PMCSR_STATE,
		  .write = pmcsr_write },
		{ .name = "PM: Bridge Support Extensions", .offset = PM_BSE, .size = 1, .ro_mask = 0xff },
		{ .name = "PM: Data", .offset = PM_DATA, .size = 1, .ro_mask = 0xff },
	};

	return pvpci_cs_add_regs(cs, c->offset, body, sizeof(body) / sizeof(body[0]));
}
