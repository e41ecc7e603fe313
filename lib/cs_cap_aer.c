/*
 * The Advanced Error Reporting extended capability (ID 0x0001) as a guest
 * sees it.  Owns the register table of its body and its length.  The host
 * handles errors (its AER driver, and pciback's aer_op handshake tells
 * the guest); the guest may look at them, acknowledge them and tune its
 * own view, but never changes how the device reports to the host:
 *  - Uncorrectable and Correctable Error Status: RW1C to hardware, so a
 *    guest driver can acknowledge what it handled; reserved bits read 0
 *    and are written 0.
 *  - Uncorrectable Error Mask and Severity, Correctable Error Mask: the
 *    guest writes a virtual copy that starts at the host's value at bind;
 *    nothing reaches hardware (these decide what the host's root port is
 *    told, and how loudly).  Reserved bits are read-only.
 *  - Advanced Error Capabilities and Control: the ECRC generation / check
 *    and multiple header recording enables are a virtual copy, writable
 *    only where the matching "capable" bit is set; the rest (First Error
 *    Pointer, the capable bits) is read live from hardware, read-only.
 *  - Header Log and TLP Prefix Log: read-only.
 *  - Root Error Command, Root Error Status and Error Source Identification
 *    exist only for root ports and root complex event collectors, and are
 *    read-only there (the host owns root error handling).  For any other
 *    function they are reserved: read 0, take no write.
 * Length: 0x38.  A version 2 (or later) capability of a function that
 * supports End-End TLP Prefixes (Device Capabilities 2 of its PCI Express
 * capability) also has the 16-byte TLP Prefix Log: 0x48.  Cut at the next
 * capability header or the end of the config space.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "cs_internal.h"

#define AER_UNCOR_STATUS	0x04
#define AER_UNCOR_MASK		0x08
#define AER_UNCOR_SEVER		0x0c
#define AER_COR_STATUS		0x10
#define AER_COR_MASK		0x14
#define AER_CAP			0x18
#define AER_HEADER_LOG		0x1c
#define AER_ROOT_COMMAND	0x2c
#define AER_ROOT_STATUS		0x30
#define AER_ERR_SRC		0x34
#define AER_PREFIX_LOG		0x38
#define AER_LEN			0x38
#define AER_LEN_PREFIX		0x48

/* Bits 31:4 are defined uncorrectable errors (bit 0 is undefined, 3:1
 * reserved); the correctable ones are scattered. */
#define UNCOR_BITS	0xfffffff0u
#define COR_BITS	0x0000f1c1u

#define CAP_ECRC_GEN_CAP	0x0020
#define CAP_ECRC_GEN_EN		0x0040
#define CAP_ECRC_CHK_CAP	0x0080
#define CAP_ECRC_CHK_EN		0x0100
#define CAP_MHR_CAP		0x0200
#define CAP_MHR_EN		0x0400
#define CAP_ENABLES		(CAP_ECRC_GEN_EN | CAP_ECRC_CHK_EN | CAP_MHR_EN)

/* From the PCI Express capability. */
#define EXP_FLAGS		0x02
#define EXP_DEVCAP2		0x24
#define EXP_TYPE_ROOT_PORT	0x4
#define EXP_TYPE_RC_EC		0xa
#define DEVCAP2_E2E_PREFIX	0x00200000u

struct aer_state {
	uint16_t base;
	uint32_t uncor_mask, uncor_sever, cor_mask, cap;	/* virtual values at bind */
};

static void set_val(struct pvpci_cs *cs, unsigned off, uint32_t val)
{
	struct pvpci_reg *r = pvpci_cs_reg_at(cs, off);

	if (r && r->offset == off && r->emu_mask)
		r->val = val;
}

void cs_aer_reset_virtual(struct pvpci_cs *cs)
{
	int i = cs_cap_find(cs, true, 0x0001);
	const struct aer_state *st;

	if (i < 0 || !cs->caps[i].visible || !cs->cap_priv[i])
		return;
	st = cs->cap_priv[i];
	set_val(cs, st->base + AER_UNCOR_MASK, st->uncor_mask);
	set_val(cs, st->base + AER_UNCOR_SEVER, st->uncor_sever);
	set_val(cs, st->base + AER_COR_MASK, st->cor_mask);
	set_val(cs, st->base + AER_CAP, st->cap);
}

int cs_aer_init(struct pvpci_cs *cs, struct pvpci_cap *c)
{
	const uint8_t *p = cs->snap + c->offset;
	int e = cs_cap_find(cs, false, 0x10);
	const uint8_t *exp = e >= 0 ? cs->snap + cs->caps[e].offset : NULL;
	unsigned ver = (cs_le(p, 4) >> 16) & 0xf;
	unsigned exp_ver = exp ? exp[EXP_FLAGS] & 0xf : 0, type = exp ? exp[EXP_FLAGS] >> 4 : 0;
	bool root = type == EXP_TYPE_ROOT_PORT || type == EXP_TYPE_RC_EC;
	bool prefix = ver >= 2 && exp_ver >= 2 && (cs_le(exp + EXP_DEVCAP2, 4) & DEVCAP2_E2E_PREFIX);
	uint32_t cap = cs_le(p + AER_CAP, 4);
	/* An enable without its capability is RsvdP: the guest cannot set it. */
	uint32_t cap_w = (cap & CAP_ECRC_GEN_CAP ? CAP_ECRC_GEN_EN : 0) |
			 (cap & CAP_ECRC_CHK_CAP ? CAP_ECRC_CHK_EN : 0) | (cap & CAP_MHR_CAP ? CAP_MHR_EN : 0);
	uint32_t root_ro = root ? 0xffffffffu : 0, root_rsvd = root ? 0 : 0xffffffffu;
	struct aer_state virt = {
		.base = c->offset, .uncor_mask = cs_le(p + AER_UNCOR_MASK, 4),
		.uncor_sever = cs_le(p + AER_UNCOR_SEVER, 4), .cor_mask = cs_le(p + AER_COR_MASK, 4),
		.cap = cap & CAP_ENABLES,
	};
	const struct pvpci_reg body[] = {
		{ .name = "AER: Uncorrectable Error Status", .offset = AER_UNCOR_STATUS, .size = 4,
		  .rw1c_mask = UNCOR_BITS, .rsvdz_mask = ~UNCOR_BITS },
		{ .name = "AER: Uncorrectable Error Mask", .offset = AER_UNCOR_MASK, .size = 4,
		  .ro_mask = ~UNCOR_BITS, .emu_mask = 0xffffffffu,
		  .val = virt.uncor_mask },
		{ .name = "AER: Uncorrectable Error Severity", .offset = AER_UNCOR_SEVER, .size = 4,
		  .ro_mask = ~UNCOR_BITS, .emu_mask = 0xffffffffu,
		  .val = virt.uncor_sever },
		{ .name = "AER: Correctable Error Status", .offset = AER_COR_STATUS, .size = 4,
		  .rw1c_mask = COR_BITS, .rsvdz_mask = ~COR_BITS },
		{ .name = "AER: Correctable Error Mask", .offset = AER_COR_MASK, .size = 4,
		  .ro_mask = ~COR_BITS, .emu_mask = 0xffffffffu, .val = virt.cor_mask },
		{ .name = "AER: Capabilities and Control", .offset = AER_CAP, .size = 4,
		  .ro_mask = ~cap_w, .emu_mask = CAP_ENABLES, .val = virt.cap },
		{ .name = "AER: Header Log 0", .offset = AER_HEADER_LOG, .size = 4, .ro_mask = 0xffffffffu },
		{ .name = "AER: Header Log 1", .offset = AER_HEADER_LOG + 4, .size = 4, .ro_mask = 0xffffffffu },
		{ .name = "AER: Header Log 2", .offset = AER_HEADER_LOG + 8, .size = 4, .ro_mask = 0xffffffffu },
		{ .name = "AER: Header Log 3", .offset = AER_HEADER_LOG + 12, .size = 4, .ro_mask = 0xffffffffu },
		{ .name = "AER: Root Error Command", .offset = AER_ROOT_COMMAND, .size = 4,
		  .ro_mask = root_ro, .rsvdp_mask = root_rsvd },
		{ .name = "AER: Root Error Status", .offset = AER_ROOT_STATUS, .size = 4,
		  .ro_mask = root_ro, .rsvdp_mask = root_rsvd },
		{ .name = "AER: Error Source Identification", .offset = AER_ERR_SRC, .size = 4,
		  .ro_mask = root_ro, .rsvdp_mask = root_rsvd },
		{ .name = "AER: TLP Prefix Log 0", .offset = AER_PREFIX_LOG, .size = 4, .ro_mask = 0xffffffffu },
		{ .name = "AER: TLP Prefix Log 1", .offset = AER_PREFIX_LOG + 4, .size = 4, .ro_mask = 0xffffffffu },
		{ .name = "AER: TLP Prefix Log 2", .offset = AER_PREFIX_LOG + 8, .size = 4, .ro_mask = 0xffffffffu },
		{ .name = "AER: TLP Prefix Log 3", .offset = AER_PREFIX_LOG + 12, .size = 4,
		  .ro_mask = 0xffffffffu },
	};
	unsigned len = prefix ? AER_LEN_PREFIX : AER_LEN, room = cs_cap_room(cs, c);
	struct aer_state *st;

	if (len > room) {
		pvpci_cs_log(cs, PVPCI_LOG_WARNING,
			     "AER capability at 0x%x: its %u bytes do not fit before 0x%x; cut", c->offset, len,
			     c->offset + room);
		len = room;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	*st = virt;
	return cs_cap_commit(cs, c, body, sizeof(body) / sizeof(body[0]), len, st);
}
