/*
 * Vendor-specific capabilities as a guest sees them: the standard one
 * (ID 0x09), the extended one (VSEC, 0x000b) and the designated one
 * (DVSEC, 0x0023).  They stay visible (drivers look for them) and are
 * read-only unless the device is permissive, as in pciback, where nothing
 * handles them.  Owns their length and the register table of their
 * headers:
 *  - the length: the capability's own length field (standard: the byte at
 *    +2; VSEC and DVSEC: bits 31:20 of the dword at +4), at least the
 *    headers, and cut at the next capability header or at the end of the
 *    capability's space;
 *  - the headers that say what the body is (standard: the length byte;
 *    VSEC: ID/revision/length; DVSEC: vendor/revision/length and DVSEC
 *    ID): read-only, permissive or not, since the engine trusts them.
 * The body deliberately has no registers: the core's policy for bytes no
 * register covers is exactly the one wanted (reads from hardware; writes
 * dropped, or passed to hardware on a permissive device), and it keeps the
 * guest's access width both ways.  Vendor registers are the ones where
 * width matters: a read-to-clear or write-1-to-clear byte beside the one
 * the guest touched would be hit by a wider access or a read-modify-write.
 * It also leaves the body free for a quirk that lets one field through.
 */
#include <stdint.h>

#include "cs_internal.h"

#define VNDR_LEN_BYTE	2	/* standard: length of the whole capability */
#define VSEC_HDR	4	/* VSEC and DVSEC: length in bits 31:20 */
#define DVSEC_HDR2	8	/* DVSEC ID */
#define STD_MIN		3	/* ID, next, length */
#define VSEC_MIN	8
#define DVSEC_MIN	10

int cs_vendor_init(struct pvpci_cs *cs, struct pvpci_cap *c)
{
	const uint8_t *p = cs->snap + c->offset;
	unsigned room = cs_cap_room(cs, c), len, min;
	struct pvpci_reg hdr[2];
	size_t n;
	int err;

	if (!c->ext) {
		hdr[0] = (struct pvpci_reg){ .name = "Vendor Specific: Length", .offset = VNDR_LEN_BYTE,
					     .size = 1, .ro_mask = 0xff };
		n = 1;
		len = p[VNDR_LEN_BYTE];
		min = STD_MIN;
	} else if (c->id == 0x000b) {
		hdr[0] = (struct pvpci_reg){ .name = "Vendor-Specific Extended: Header", .offset = VSEC_HDR,
					     .size = 4, .ro_mask = 0xffffffffu };
		n = 1;
		len = cs_le(p + VSEC_HDR, 4) >> 20;
		min = VSEC_MIN;
	} else {
		hdr[0] = (struct pvpci_reg){ .name = "DVSEC: Header 1", .offset = VSEC_HDR, .size = 4,
					     .ro_mask = 0xffffffffu };
		hdr[1] = (struct pvpci_reg){ .name = "DVSEC: Header 2", .offset = DVSEC_HDR2, .size = 2,
					     .ro_mask = 0xffff };
		n = 2;
		len = cs_le(p + VSEC_HDR, 4) >> 20;
		min = DVSEC_MIN;
	}
	if (len < min)
		len = min;
	/* Devices older than PCI 3.0 have no length byte: a cut is routine. */
	if (len > room) {
		pvpci_cs_log(cs, PVPCI_LOG_DEBUG,
			     "%s capability at 0x%x: its %u bytes do not fit before 0x%x; cut",
			     c->name, c->offset, len, c->offset + room);
		len = room;
	}
	n = cs_regs_within(hdr, n, len);
	err = pvpci_cs_add_regs(cs, c->offset, hdr, n);
	if (err < 0)
		return err;
	c->len = (uint16_t)len;
	return 0;
}
