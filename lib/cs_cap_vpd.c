/*
 * The Vital Product Data capability (ID 0x03) as a guest sees it: reading
 * VPD works, writing it does not, as in Linux pciback.  Owns the register
 * table of its body:
 *  - VPD Address (+2): a write with the F flag (bit 15) clear starts a
 *    read and reaches hardware; the guest then polls F and reads Data,
 *    both straight from hardware.  A write that sets F asks the device to
 *    write VPD (EEPROM contents a host may rely on): it is refused with
 *    XEN_PCI_ERR_access_denied and nothing reaches hardware.  A write that
 *    does not cover F (the low byte alone) reaches hardware with F clear:
 *    merging in the F a finished read left set would start a VPD write
 *    the guest never asked for.
 *  - VPD Data (+4): reads pass through; writes are dropped silently, as
 *    pciback has no write for it.  Data is only written as the first half
 *    of a VPD write, and the address write that would commit it is the
 *    one refused (and reported).
 * Not owned here: the VPD contents, and the read protocol's timing (the
 *  guest polls, we never wait).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "cs_internal.h"

#define VPD_ADDR	2
#define VPD_DATA	4
#define VPD_LEN		8
#define VPD_ADDR_F	0x8000

struct vpd_state {
	bool warned;	/* the refusal is reported once per function */
};

static int vpd_addr_write(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t val, uint32_t wmask)
{
	struct vpd_state *st = r->data;

	if ((wmask & VPD_ADDR_F) && (val & VPD_ADDR_F)) {
		if (!st->warned) {
			st->warned = true;
			pvpci_cs_log(cs, PVPCI_LOG_WARNING,
				     "guest tried to write Vital Product Data (address 0x%x): refused",
				     val & ~VPD_ADDR_F);
		}
		return PVPCI_ERR_access_denied;
	}
	return pvpci_cs_reg_apply(cs, r, val & ~VPD_ADDR_F, wmask);
}

int cs_vpd_init(struct pvpci_cs *cs, struct pvpci_cap *c)
{
	struct pvpci_reg body[] = {
		{ .name = "VPD: Address", .offset = VPD_ADDR, .size = 2, .write = vpd_addr_write },
		{ .name = "VPD: Data", .offset = VPD_DATA, .size = 4, .ro_mask = 0xffffffffu },
	};
	unsigned len = cs_cap_room(cs, c);
	struct vpd_state *st;

	if (len > VPD_LEN)
		len = VPD_LEN;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	body[0].data = st;
	return cs_cap_commit(cs, c, body, sizeof(body) / sizeof(body[0]), len, st);
}
