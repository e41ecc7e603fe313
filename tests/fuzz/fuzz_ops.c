/*
 * Fuzz target: the PV PCI ops (pvpci_pciif_do_op and pvpci_pciif_serve)
 * on one exported function, a recording fake device (tests/unit/fakedev.h)
 * that the input also builds: it picks one of four devices and patches
 * its config bytes and BAR sizes, so capability chains, MSI / MSI-X
 * geometry and every register the engine trusts at bind are the input's
 * too.  Then a sequence of ops, with the device changing its own bytes
 * between them when the input says so.
 *
 * The invariant, checked at every write that reaches the device: no write
 * reaches the device outside the policy's writable bits.  Concretely, for
 * each byte of a device write, the bits it changes (a bit written with
 * another value than the device holds, or a 1 written to a bit the device
 * clears on 1) must be allowed by what is going on:
 *  - conf_write at [off, off + size): only bytes of the guest's access, and
 *    there, for the register covering the byte (pvpci_cs_reg_at), its
 *    pass-through bits ((writable | rw1c) & ~emulated) and RsvdZ bits
 *    written 0 (those also in the other bytes of a register the access
 *    touches: software writes RsvdZ as 0; and VPD Address's F, written 0
 *    by a write of its low byte, which starts a VPD read); for a byte no
 *    register covers, anything when the function is permissive, nothing
 *    otherwise.  Besides those, only the documented paths of the
 *    handlers: Command's Bus Master and MWI (INTx Disable with
 *    allow_interrupt_control, cs_header.c's guest bits when permissive);
 *    a BAR or the ROM only written whole with the value it had at bind
 *    (by a guest write of any of its bytes); PM Control/Status's
 *    PowerState; PCI Express Device Control and Device Control 2 the bits
 *    cs_cap_exp.c lets through when permissive; MSI and MSI-X Message
 *    Control's Enable and Multiple Message Enable / Function Mask with
 *    allow_interrupt_control.  VPD Address is never written with F set
 *    (a VPD write), changed or not.
 *  - enable_msi, enable_multi_msi, disable_msi: MSI Message Control's Enable
 *    and Multiple Message Enable only; enable_msix, disable_msix: MSI-X
 *    Message Control's Enable only; unexporting: both Enables.
 *  - conf_read, any other command, a function not exported, binding: none.
 *  - MSI Enable is never set while MSI-X Enable is set, nor the reverse.
 *  - Decoding changes (set_decode) only in a conf_write of Command's low
 *    byte; a reset only in a conf_write of PCI Express Device Control's
 *    high byte (FLR).
 * The register table is not trusted alone: a list made at bind from the
 * spec's layouts (never[]) takes away, whatever the table says, every bit
 * of the ID, class, header type, subsystem, capability pointer and
 * interrupt registers, of Command (but for the handler's bits above), of
 * the BARs and the ROM (but for the put-back), of each capability's ID and
 * next pointer and each extended capability's header, of visible MSI's
 * Message Control, address, data, mask and pending bits and MSI-X's
 * Message Control and Table/PBA Offset (but for the Enables above), of
 * PCI Express Link Control and Link Control 2, and of AER's masks and
 * severity.  So a mistake in the table shows too.
 * Also checked: the err of each op is one the protocol has; bytes of
 * reserved registers and of hidden capabilities read 0; serve() changes
 * nothing on the page but err, value, the active flag and, after a
 * successful enable_msix, the vectors it set; enable_msix hands out
 * distinct vectors; every interrupt is given back when the pciif is freed.
 *
 * Input: byte 0 picks the device (bits 0-1) and options: permissive (2),
 * allow_interrupt_control (3), passthrough topology (4; else slot (7) or
 * vpci), the quirk of quirks_text (5), verbose (6).  Byte 1: the number of patches, 3 bytes
 * each (u16 where, u8 value: where < 0x1000 is a config byte, where %
 * cfg_size; above, BAR (where >> 4) % 7 is described anew from value).
 * Then ops to the end of the input, each a byte (enum op_kind, bit 7:
 * through serve() and a shared page) and its arguments.  FUZZ_TRACE=1 in
 * the environment prints each op, its answer and the device writes.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>

#include "../unit/fakedev.h"
#include "fuzz_input.h"
#include "pvpci/confspace.h"
#include "pvpci/dump.h"
#include "pvpci/pciif.h"
#include "pvpci/quirks.h"

/* Fields the invariant names, by the register names of the views. */
#define CMD_GUEST_BITS	0x02bcu	/* cs_header.c's CMD_GUEST */
#define DEVCTL_PERM_HW	0x700fu	/* cs_cap_exp.c's DEVCTL_PERMISSIVE_HW */
#define DEVCTL2_GUEST	0x001fu
#define VPD_F		0x8000u

enum ctx { CTX_NONE, CTX_CONF_READ, CTX_CONF_WRITE, CTX_MSI, CTX_MSIX, CTX_UNEXPORT, CTX_OTHER };
static const char *const ctx_names[] = {
	"binding", "conf_read", "conf_write", "an MSI op", "an MSI-X op", "unexport", "another op",
};

static bool trace;	/* FUZZ_TRACE=1: each op, its answer and the writes it made */

static struct {
	enum ctx ctx;
	unsigned goff, gsize;		/* the guest's access in a conf_write */
	struct fakedev *f;
	struct pvpci_cs *cs;
	bool permissive, aic;
} st;

#define NTEMPLATES 4
static struct fakedev *templates[NTEMPLATES];
static struct pvpci_quirks *quirks;
static const char quirks_text[] =
	"# fields nothing else covers on the templates\n"
	"1234:5678 e0:2:ff0f c8:1:f0\n"
	"1af4:1041 b0:4:0000ffff\n";

static uint32_t size_mask(unsigned size)
{
	return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* The dword the host had at off when the function was bound. */
static uint32_t snap32(unsigned off)
{
	const uint8_t *s = pvpci_cs_host_snapshot(st.cs) + off;

	return (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
}

static bool named(const struct pvpci_reg *r, const char *name)
{
	return r && !strcmp(r->name, name);
}

/* The first capability with this ID, visible or not, as the engine looks
 * for the other kind of message interrupt; 0 when there is none. */
static unsigned cap_at(uint16_t id)
{
	for (size_t i = 0; i < pvpci_cs_ncaps(st.cs); i++) {
		const struct pvpci_cap *c = pvpci_cs_cap(st.cs, i);

		if (!c->ext && c->id == id)
			return c->offset;
	}
	return 0;
}

/* Bits of byte b (relative to r) that a message-interrupt op may change. */
static uint8_t msg_ctrl_bits(const struct pvpci_reg *r, unsigned b, uint32_t msi, uint32_t msix)
{
	uint32_t m = named(r, "MSI: Message Control") ? msi : named(r, "MSI-X: Message Control") ? msix : 0;

	return r ? (uint8_t)(m >> (8 * (b - r->offset))) : 0;
}

/* Bits no guest write may change, whatever the register table says. */
static uint8_t never[PVPCI_CFG_EXP_SIZE];

static void never_set(unsigned off, unsigned len)
{
	for (unsigned i = off; i < off + len && i < PVPCI_CFG_EXP_SIZE; i++)
		never[i] = 0xff;
}

/* [off, off + len) relative to capability c, where it lies inside what the
 * engine gave the capability (c->len): fuzzed chains overlap. */
static void never_in_cap(const struct pvpci_cap *c, unsigned off, unsigned len)
{
	if (off + len <= c->len)
		never_set(c->offset + off, len);
}

static void make_never(void)
{
	const uint8_t *snap = pvpci_cs_host_snapshot(st.cs);

	memset(never, 0, sizeof(never));
	never_set(0x00, 4);	/* Vendor, Device ID */
	never_set(0x04, 2);	/* Command: the handler's bits come back as extras */
	never_set(0x08, 4);	/* Revision, class */
	never_set(0x0e, 1);	/* Header Type */
	never_set(0x10, 24);	/* BARs */
	never_set(0x2c, 4);	/* Subsystem IDs */
	never_set(0x30, 5);	/* ROM, Capabilities Pointer */
	never_set(0x3c, 2);	/* Interrupt Line and Pin */
	for (size_t i = 0; i < pvpci_cs_ncaps(st.cs); i++) {
		const struct pvpci_cap *c = pvpci_cs_cap(st.cs, i);

		never_set(c->offset, c->ext ? 4 : 2);
		if (!c->visible)
			continue;
		if (!c->ext && c->id == 0x05) {
			unsigned ctrl = snap[c->offset + 2] | snap[c->offset + 3] << 8;
			unsigned data = ctrl & 0x80 ? 0x0c : 0x08;

			never_in_cap(c, 2, data);	/* Control, address, data */
			if (ctrl & 0x100)
				never_in_cap(c, data + 4, 8);	/* mask, pending */
		} else if (!c->ext && c->id == 0x11) {
			never_in_cap(c, 2, 10);		/* Control, Table and PBA Offset */
		} else if (!c->ext && c->id == 0x10) {
			never_in_cap(c, 0x10, 2);	/* Link Control */
			never_in_cap(c, 0x30, 2);	/* Link Control 2 */
		} else if (c->ext && c->id == 0x0001) {
			never_in_cap(c, 0x08, 8);	/* Uncorrectable Mask, Severity */
			never_in_cap(c, 0x14, 4);	/* Correctable Mask */
		}
	}
}

/* Bits of config byte b that this device write may change; nb the value
 * written there. */
static uint8_t allowed(unsigned b, uint8_t nb, unsigned woff, unsigned wsize, uint32_t wval)
{
	const struct pvpci_reg *r = pvpci_cs_reg_at(st.cs, b);
	uint32_t full, pass, zero, extra = 0;
	unsigned sh;
	bool in;

	switch (st.ctx) {
	case CTX_MSI:
		return msg_ctrl_bits(r, b, 0x0071, 0);
	case CTX_MSIX:
		return msg_ctrl_bits(r, b, 0, 0x8000);
	case CTX_UNEXPORT:
		return msg_ctrl_bits(r, b, 0x0001, 0x8000);
	case CTX_CONF_WRITE:
		break;
	default:
		return 0;
	}
	/* The put-back: the whole BAR with its value at bind, by any write that
	 * touches it (the core merges a partial write as pciback does). */
	if (r && (!strncmp(r->name, "BAR ", 4) || named(r, "Expansion ROM")) && woff == r->offset &&
	    wsize == 4 && wval == snap32(r->offset) && st.goff < r->offset + 4u &&
	    r->offset < st.goff + st.gsize)
		return 0xff;
	in = st.goff <= b && b < st.goff + st.gsize;
	if (!r)
		return in && st.permissive ? (uint8_t)~never[b] : 0;
	sh = 8 * (b - r->offset);
	full = size_mask(r->size);
	pass = ((full & ~(r->ro_mask | r->rw1c_mask | r->rsvdp_mask | r->rsvdz_mask)) | r->rw1c_mask) &
	       ~r->emu_mask;
	zero = r->rsvdz_mask & ~((uint32_t)nb << sh) & ~((uint32_t)never[b] << sh);
	/* Outside the guest's bytes, in a register it wrote: RsvdZ bits written
	 * 0, as software must, and VPD Address's F written 0 (cs_cap_vpd.c: a
	 * write of the low byte starts a read); nothing else. */
	if (!in) {
		if (st.goff >= r->offset + r->size || r->offset >= st.goff + st.gsize)
			return 0;
		if (named(r, "VPD: Address"))
			zero |= VPD_F & ~((uint32_t)nb << sh);
		return (uint8_t)(zero >> sh);
	}
	pass = (pass | zero) & ~((uint32_t)never[b] << sh);
	if (named(r, "Command"))
		extra = 0x0014 | (st.aic ? 0x0400 : 0) | (st.permissive ? CMD_GUEST_BITS : 0);
	else if (named(r, "PM: Control/Status"))
		extra = 0x0003;
	else if (named(r, "PCI Express: Device Control") && st.permissive)
		extra = DEVCTL_PERM_HW;
	else if (named(r, "PCI Express: Device Control 2") && st.permissive)
		extra = DEVCTL2_GUEST;
	else if (named(r, "MSI: Message Control") && st.aic)
		extra = 0x0071;
	else if (named(r, "MSI-X: Message Control") && st.aic)
		extra = 0xc000;
	return (uint8_t)((pass | extra) >> sh);
}

static void check_exclusive(unsigned off, unsigned size, uint32_t val)
{
	unsigned msi = cap_at(0x05), msix = cap_at(0x11);

	/* Enable is bit 0 of MSI's Message Control, bit 15 of MSI-X's. */
	if (msi && off <= msi + 2u && msi + 2u < off + size && (val >> (8 * (msi + 2 - off)) & 1) &&
	    !(st.f->cfg[msi + 2] & 1) && msix && (st.f->cfg[msix + 3] & 0x80))
		fuzz_fail("%s: MSI enabled while MSI-X is", ctx_names[st.ctx]);
	if (msix && off <= msix + 3u && msix + 3u < off + size &&
	    (val >> (8 * (msix + 3 - off)) & 0x80) && !(st.f->cfg[msix + 3] & 0x80) && msi &&
	    (st.f->cfg[msi + 2] & 1))
		fuzz_fail("%s: MSI-X enabled while MSI is", ctx_names[st.ctx]);
}

static int check_write(struct pvpci_hostdev *d, unsigned off, unsigned size, uint32_t val)
{
	for (unsigned i = 0; i < size; i++) {
		unsigned b = off + i;
		uint8_t nb = (uint8_t)(val >> (8 * i)), cur = st.f->cfg[b], c = st.f->hw_rw1c[b];
		uint8_t changed = (uint8_t)(((cur ^ nb) & ~c) | (nb & c));
		uint8_t bad = (uint8_t)(changed & ~allowed(b, nb, off, size, val));
		const struct pvpci_reg *r = pvpci_cs_reg_at(st.cs, b);

		if (bad)
			fuzz_fail("%s (guest access 0x%x size %u): device write 0x%x size %u value 0x%x "
				  "changes bits 0x%02x of byte 0x%x (%s), which it may not",
				  ctx_names[st.ctx], st.goff, st.gsize, off, size, val, bad, b,
				  r ? r->name : "no register");
		if (named(r, "VPD: Address") && b == r->offset + 1u && (nb & (VPD_F >> 8)))
			fuzz_fail("%s: VPD Address written with F set (a VPD write): 0x%x size %u value 0x%x",
				  ctx_names[st.ctx], off, size, val);
	}
	check_exclusive(off, size, val);
	if (trace)
		fprintf(stderr, "  device write 0x%x size %u value 0x%x\n", off, size, val);
	return fake_write(d, off, size, val);
}

/* The guest's conf_write covers config byte b. */
static bool guest_wrote(unsigned b)
{
	return st.ctx == CTX_CONF_WRITE && st.goff <= b && b < st.goff + st.gsize;
}

static int check_set_decode(struct pvpci_hostdev *d, bool on)
{
	if (!guest_wrote(0x04))
		fuzz_fail("%s: decoding turned %s", ctx_names[st.ctx], on ? "on" : "off");
	return fake_set_decode(d, on);
}

static int check_reset(struct pvpci_hostdev *d)
{
	for (unsigned b = st.goff; b < st.goff + st.gsize; b++) {
		const struct pvpci_reg *r = pvpci_cs_reg_at(st.cs, b);

		if (guest_wrote(b) && named(r, "PCI Express: Device Control") && b == r->offset + 1u)
			return fake_reset(d);
	}
	fuzz_fail("%s: the function was reset", ctx_names[st.ctx]);
}

static const struct pvpci_hostdev_ops check_ops = {
	.name = "fuzz",
	.read = fake_read,
	.write = check_write,
	.reset = check_reset,
	.bar_info = fake_bar_info,
	.set_decode = check_set_decode,
};

/* ---- the devices ---- */

/* A device as fakedev.h's endpoint (fake_new) with these bytes put in:
 * offset, size, value.  Capability headers are ID | next << 8. */
struct poke {
	uint16_t off;
	uint8_t size;
	uint32_t val;
};

static struct fakedev *tmpl(unsigned cfg_size, const struct poke *p, size_t n)
{
	struct fakedev *f = fake_new(cfg_size);

	f->cfg[0x06] |= 0x10;	/* Capabilities List */
	for (size_t i = 0; i < n; i++)
		fake_put(f, p[i].off, p[i].size, p[i].val);
	return f;
}

#define TMPL(size, pokes) tmpl(size, pokes, sizeof(pokes) / sizeof(pokes[0]))

/*
 * A: PCI Express with every kind the engine handles: PM (D1, D2), MSI
 * (64-bit, per-vector masking, 8 vectors), PCI Express v2 endpoint (FLR),
 * MSI-X (8 entries in BAR 0), VPD, vendor-specific, a hidden SATA
 * capability; AER, a hidden serial number, VSEC, DVSEC.
 */
static const struct poke tmpl_a[] = {
	{ 0x34, 1, 0x40 },
	{ 0x40, 2, 0x4801 }, { 0x42, 2, 0x0603 },				/* PM */
	{ 0x48, 2, 0x6005 }, { 0x4a, 2, 0x0186 },				/* MSI */
	{ 0x60, 2, 0xa010 }, { 0x62, 2, 0x0002 }, { 0x64, 4, 0x10008001 },	/* PCI Express */
	{ 0x68, 2, 0x2810 }, { 0x6c, 4, 0x00400c11 }, { 0x84, 4, 0x0000081f },
	{ 0xa0, 2, 0xb011 }, { 0xa2, 2, 0x0007 }, { 0xa8, 4, 0x00000800 },	/* MSI-X */
	{ 0xb0, 2, 0xb803 },							/* VPD */
	{ 0xb8, 2, 0xd009 }, { 0xba, 1, 0x10 },					/* vendor */
	{ 0xd0, 2, 0x0012 },							/* SATA */
	{ 0x100, 4, 0x14820001 }, { 0x108, 4, 0x00400000 },			/* AER */
	{ 0x10c, 4, 0x00462030 }, { 0x114, 4, 0x00002000 }, { 0x118, 4, 0x000000a0 },
	{ 0x148, 4, 0x15810003 },						/* serial number */
	{ 0x158, 4, 0x1801000b }, { 0x15c, 4, 0x02010001 },			/* VSEC */
	{ 0x180, 4, 0x00010023 }, { 0x184, 4, 0x01011234 },			/* DVSEC */
};

/*
 * B: conventional (256 bytes): MSI (32-bit, one vector), MSI-X (2048
 * entries in the 64-bit BAR 2), PM without D1/D2, and a chain that loops
 * back to MSI.
 */
static const struct poke tmpl_b[] = {
	{ 0x34, 1, 0x40 },
	{ 0x40, 2, 0x5005 },							/* MSI */
	{ 0x50, 2, 0x6011 }, { 0x52, 2, 0x07ff }, { 0x54, 4, 0x00001002 },	/* MSI-X */
	{ 0x58, 4, 0x00009002 },
	{ 0x60, 2, 0x6801 }, { 0x62, 2, 0x0003 },				/* PM */
	{ 0x68, 2, 0x4009 }, { 0x6a, 1, 0x08 },					/* vendor, loops */
};

/*
 * D: a PCI Express v1 root port's layout on an endpoint header (slot and
 * root registers), AER with its root registers, MSI with masking and 32
 * vectors, PM.
 */
static const struct poke tmpl_d[] = {
	{ 0x34, 1, 0x40 },
	{ 0x40, 2, 0x8010 }, { 0x42, 2, 0x0141 },				/* PCI Express */
	{ 0x80, 2, 0x9805 }, { 0x82, 2, 0x010a },				/* MSI */
	{ 0x98, 2, 0x0001 }, { 0x9a, 2, 0xc803 }, { 0x9c, 2, 0x0103 },		/* PM */
	{ 0x100, 4, 0x00010001 }, { 0x104, 4, 0x00001000 }, { 0x110, 4, 0x00000041 },	/* AER */
};

/* C: a capture of this machine's virtio network function. */
static struct fakedev *tmpl_fixture(const char *path)
{
	struct fakedev *f = fake_new(PVPCI_CFG_SIZE);
	struct pvpci_dump d;
	char err[256];

	if (pvpci_dump_load(path, &d, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_ops: %s\n", err);
		abort();
	}
	memcpy(f->cfg, d.devs[0].cfg, sizeof(f->cfg));
	f->hd.cfg_size = d.devs[0].len > PVPCI_CFG_SIZE ? PVPCI_CFG_EXP_SIZE : PVPCI_CFG_SIZE;
	for (unsigned i = 0; i <= PVPCI_ROM_BAR; i++)
		f->bars[i] = d.devs[0].bar_sizes_known[i] && d.devs[0].bars[i].size ?
			     d.devs[0].bars[i] : (struct pvpci_bar){ .flags = PVPCI_BAR_UNUSED };
	if (d.devs[0].bars[0].flags & PVPCI_BAR_MEM64)
		f->bars[1] = (struct pvpci_bar){ .flags = PVPCI_BAR_MEM64_HI };
	pvpci_dump_free(&d);
	return f;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	trace = getenv("FUZZ_TRACE");
	templates[0] = TMPL(PVPCI_CFG_EXP_SIZE, tmpl_a);
	templates[1] = TMPL(PVPCI_CFG_SIZE, tmpl_b);
	templates[2] = tmpl_fixture(PVPCI_SRC "/fixtures/virtio-net.lspci");
	templates[3] = TMPL(PVPCI_CFG_EXP_SIZE, tmpl_d);
	if (pvpci_quirks_parse(quirks_text, strlen(quirks_text), &quirks, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_ops: quirks: %s\n", err);
		abort();
	}
	return 0;
}

/* A BAR described anew from one byte: unused (0), else a power-of-two size
 * of 16 bytes to 8 GiB and the kind from the high bits. */
static struct pvpci_bar bar_from(unsigned i, uint8_t v)
{
	static const unsigned kinds[4] = { 0, PVPCI_BAR_IO, PVPCI_BAR_MEM64 | PVPCI_BAR_PREFETCH,
					   PVPCI_BAR_MEM64_HI };
	struct pvpci_bar b = { .addr = 0xfe000000u, .size = (uint64_t)16 << (v & 0x1f),
			       .flags = kinds[v >> 6] };

	if (!v)
		return (struct pvpci_bar){ .flags = PVPCI_BAR_UNUSED };
	if (i == PVPCI_ROM_BAR)
		b.flags = PVPCI_BAR_ROM;
	return b;
}

static struct fakedev *make_device(struct fin *in, unsigned which)
{
	const struct fakedev *t = templates[which];
	struct fakedev *f = calloc(1, sizeof(*f));
	unsigned npatch = fin_u8(in);

	f->hd = t->hd;
	f->hd.ops = &check_ops;
	memcpy(f->cfg, t->cfg, sizeof(f->cfg));
	memcpy(f->bars, t->bars, sizeof(f->bars));
	memset(f->hw_wmask, 0xff, sizeof(f->hw_wmask));
	for (unsigned i = 0; i < npatch; i++) {
		unsigned where = fin_u16(in);
		uint8_t v = fin_u8(in);

		if (where < 0x1000)
			f->cfg[where % f->hd.cfg_size] = v;
		else
			f->bars[(where >> 4) % 7] = bar_from((where >> 4) % 7, v);
	}
	return f;
}

/* The device clears on 1 what the engine's registers say it does. */
static void rw1c_from_table(void)
{
	for (size_t i = 0; i < pvpci_cs_nregs(st.cs); i++) {
		const struct pvpci_reg *r = pvpci_cs_reg_by_index(st.cs, i);
		uint32_t m = r->rw1c_mask & ~r->emu_mask;

		for (unsigned b = 0; b < r->size; b++)
			st.f->hw_rw1c[r->offset + b] = (uint8_t)(m >> (8 * b));
	}
}

/* ---- the ops ---- */

static void discard_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

static int32_t dec_offset(struct fin *in)
{
	uint16_t v = fin_u16(in);

	return (v & 0xf000) == 0xf000 ? (int32_t)fin_u32(in) : (int32_t)(v & 0x1fff);
}

static int32_t dec_size(struct fin *in)
{
	static const int32_t odd[8] = { 0, 3, 5, 8, -1, INT_MAX, INT_MIN, 16 };
	uint8_t v = fin_u8(in);

	return v < 0x60 ? (int32_t)(1u << (v % 3)) : odd[v & 7];
}

static uint32_t dec_count(struct fin *in)
{
	uint8_t v = fin_u8(in);

	return v == 0xff ? fin_u32(in) : v;
}

enum op_kind { K_READ, K_WRITE, K_MSI, K_MULTI_MSI, K_NO_MSI, K_MSIX, K_NO_MSIX, K_CMD, K_ELSEWHERE,
	       K_DEVICE, K_REEXPORT, K_PERMISSIVE, K_NKINDS };

static void check_reserved_read(const struct pvpci_op *op)
{
	for (unsigned i = 0; i < (unsigned)op->size; i++) {
		const struct pvpci_reg *r = pvpci_cs_reg_at(st.cs, (unsigned)op->offset + i);
		uint32_t full;

		if (!r)
			continue;
		full = size_mask(r->size);
		if (((r->rsvdp_mask | r->rsvdz_mask) == full || named(r, "hidden capability")) &&
		    (op->value >> (8 * i) & 0xff))
			fuzz_fail("conf_read 0x%x size %d = 0x%x: byte 0x%x of '%s' does not read 0",
				  (unsigned)op->offset, op->size, op->value, (unsigned)op->offset + i, r->name);
	}
}

static void check_answer(const struct pvpci_op *op, uint32_t nvec)
{
	static const int32_t msix_errs[] = { 0, -5, -6, -12, -16, -19, -22, -28, -34, -114 };
	bool ok = false;

	if (op->cmd == PVPCI_XEN_PCI_OP_enable_msix && op->err != PVPCI_ERR_dev_not_found) {
		for (size_t i = 0; i < sizeof(msix_errs) / sizeof(msix_errs[0]); i++)
			ok |= op->err == msix_errs[i];
	} else {
		ok = op->err <= 0 && op->err >= PVPCI_ERR_op_failed;
	}
	if (!ok)
		fuzz_fail("%s answered err %d", pvpci_op_name(op->cmd) ? pvpci_op_name(op->cmd) : "?",
			  op->err);
	if (op->cmd == PVPCI_XEN_PCI_OP_conf_read && op->err == 0)
		check_reserved_read(op);
	if (op->cmd == PVPCI_XEN_PCI_OP_enable_msix && op->err == 0)
		for (uint32_t i = 0; i < nvec; i++)
			for (uint32_t j = 0; j < i; j++)
				if (op->msix_entries[i].vector == op->msix_entries[j].vector)
					fuzz_fail("enable_msix gave vector %u twice",
						  op->msix_entries[i].vector);
}

/* Through the shared page: serve() may change err, value, the active flag
 * and (a successful enable_msix) the first nvec vectors, nothing else. */
static void serve_op(struct pvpci_pciif *p, struct pvpci_op *op, uint32_t extra_flags)
{
	struct pvpci_sharedinfo sh, before;
	uint32_t nvec = op->value;

	memset(&sh, 0xa5, sizeof(sh));
	sh.flags = PVPCI_XEN_PCIF_active | (extra_flags & ~PVPCI_XEN_PCIF_active);
	memcpy(&sh.op, op, offsetof(struct pvpci_op, msix_entries) +
	       sizeof(op->msix_entries[0]) * (nvec < PVPCI_SH_INFO_MAX_VEC ? nvec : PVPCI_SH_INFO_MAX_VEC));
	before = sh;
	if (pvpci_pciif_serve(p, &sh) != 1)
		fuzz_fail("serve() did not answer an active op");
	if (sh.flags != (before.flags & ~PVPCI_XEN_PCIF_active))
		fuzz_fail("serve() left flags 0x%x (were 0x%x)", sh.flags, before.flags);
	before.flags = sh.flags;
	before.op.err = sh.op.err;
	before.op.value = sh.op.value;
	if (sh.op.cmd == PVPCI_XEN_PCI_OP_enable_msix && sh.op.err == 0)
		for (uint32_t i = 0; i < nvec && i < PVPCI_SH_INFO_MAX_VEC; i++)
			before.op.msix_entries[i].vector = sh.op.msix_entries[i].vector;
	if (memcmp(&before, &sh, sizeof(sh)))
		fuzz_fail("serve() changed the page beyond err, value and the vectors");
	memcpy(op, &sh.op, sizeof(*op));
}

static enum ctx ctx_of(uint32_t cmd)
{
	switch (cmd) {
	case PVPCI_XEN_PCI_OP_conf_read: return CTX_CONF_READ;
	case PVPCI_XEN_PCI_OP_conf_write: return CTX_CONF_WRITE;
	case PVPCI_XEN_PCI_OP_enable_msi:
	case PVPCI_XEN_PCI_OP_enable_multi_msi:
	case PVPCI_XEN_PCI_OP_disable_msi: return CTX_MSI;
	case PVPCI_XEN_PCI_OP_enable_msix:
	case PVPCI_XEN_PCI_OP_disable_msix: return CTX_MSIX;
	default: return CTX_OTHER;
	}
}

static void run_op(struct pvpci_pciif *p, struct pvpci_op *op, bool via_serve, uint32_t flags,
		   bool exported)
{
	uint32_t nvec = op->value;

	st.ctx = exported ? ctx_of(op->cmd) : CTX_OTHER;
	st.goff = (unsigned)op->offset;
	st.gsize = op->size > 0 && op->size <= 4 ? (unsigned)op->size : 0;
	if (via_serve)
		serve_op(p, op, flags);
	else
		pvpci_pciif_do_op(p, op);
	st.ctx = CTX_NONE;
	st.gsize = 0;
	if (trace)
		fprintf(stderr, "%s%s off 0x%x size %d value_in 0x%x info %u -> err %d value 0x%x\n",
			via_serve ? "serve " : "", pvpci_op_name(op->cmd) ? pvpci_op_name(op->cmd) : "?",
			(unsigned)op->offset, op->size, nvec, op->info, op->err, op->value);
	if (!exported && op->err != PVPCI_ERR_dev_not_found)
		fuzz_fail("an op on a function not exported answered %d", op->err);
	check_answer(op, nvec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size, 0 };
	uint8_t opt = fin_u8(&in);
	struct pvpci_cs_opts copts = { .permissive = opt & 0x04, .allow_interrupt_control = opt & 0x08,
				       .log = discard_log };
	struct pvpci_irq_local *irq = NULL;
	struct pvpci_pciif_cfg pcfg = { .mode = opt & 0x10 ? PVPCI_TOPO_PASSTHROUGH
						: opt & 0x80 ? PVPCI_TOPO_SLOT : PVPCI_TOPO_VPCI,
					.domid = 1, .irq = &pvpci_irq_local_ops, .verbose = opt & 0x40,
					.log = discard_log };
	struct pvpci_pciif *p = NULL;
	struct pvpci_bdf guest;
	char err[256];
	bool exported;

	memset(&st, 0, sizeof(st));
	st.f = make_device(&in, opt % NTEMPLATES);
	st.permissive = copts.permissive;
	st.aic = copts.allow_interrupt_control;
	if (pvpci_cs_new(&st.f->hd, &copts, &st.cs, err, sizeof(err)) < 0) {
		if (trace)
			fprintf(stderr, "not bound: %s\n", err);
		goto out;
	}
	rw1c_from_table();
	make_never();
	if (opt & 0x20)
		pvpci_quirks_apply(quirks, st.cs, err, sizeof(err));
	if (pvpci_irq_local_new(100, 64, &irq) < 0)
		abort();
	pcfg.irq_ctx = irq;
	if (pvpci_pciif_new(&pcfg, &p) < 0 ||
	    pvpci_pciif_export(p, &st.f->hd.bdf, PVPCI_VSLOT_ANY, st.cs, &guest, err, sizeof(err)) < 0)
		abort();
	exported = true;

	while (fin_left(&in)) {
		uint8_t k = fin_u8(&in);
		struct pvpci_op op = { .domain = guest.domain, .bus = guest.bus,
				       .devfn = pvpci_devfn(&guest) };
		bool via_serve = k & 0x80, here = exported;
		uint32_t flags = 0;

		switch ((enum op_kind)((k & 0x7f) % K_NKINDS)) {
		case K_READ:
			op.cmd = PVPCI_XEN_PCI_OP_conf_read;
			op.offset = dec_offset(&in);
			op.size = dec_size(&in);
			break;
		case K_WRITE:
			op.cmd = PVPCI_XEN_PCI_OP_conf_write;
			op.offset = dec_offset(&in);
			op.size = dec_size(&in);
			op.value = fin_u32(&in);
			break;
		case K_MSI:
			op.cmd = PVPCI_XEN_PCI_OP_enable_msi;
			break;
		case K_MULTI_MSI:
			op.cmd = PVPCI_XEN_PCI_OP_enable_multi_msi;
			op.info = dec_count(&in);
			break;
		case K_NO_MSI:
			op.cmd = PVPCI_XEN_PCI_OP_disable_msi;
			break;
		case K_MSIX:
			op.cmd = PVPCI_XEN_PCI_OP_enable_msix;
			op.value = dec_count(&in);
			for (uint32_t i = 0; i < op.value && i < PVPCI_SH_INFO_MAX_VEC; i++) {
				uint8_t e = fin_u8(&in);

				op.msix_entries[i].entry = e == 0xff ? fin_u16(&in) : e;
			}
			break;
		case K_NO_MSIX:
			op.cmd = PVPCI_XEN_PCI_OP_disable_msix;
			break;
		case K_CMD:
			op.cmd = dec_count(&in);
			op.info = fin_u8(&in);
			flags = fin_u8(&in);
			break;
		case K_ELSEWHERE:
			op.cmd = fin_u8(&in) % 8;
			op.domain = fin_u8(&in);
			op.bus = fin_u8(&in);
			op.devfn = fin_u16(&in);
			op.offset = fin_u8(&in);
			op.size = 4;
			here = exported && op.domain == guest.domain && op.bus == guest.bus &&
			       op.devfn == pvpci_devfn(&guest);
			break;
		case K_DEVICE: {
			unsigned where = fin_u16(&in) % st.f->hd.cfg_size;

			st.f->cfg[where] = fin_u8(&in);
			continue;
		}
		case K_REEXPORT:
			st.ctx = CTX_UNEXPORT;
			if (exported && pvpci_pciif_unexport(p, &st.f->hd.bdf) < 0)
				fuzz_fail("unexport of an exported function failed");
			st.ctx = CTX_NONE;
			exported = !exported || (fin_u8(&in) & 1);
			if (exported && pvpci_pciif_export(p, &st.f->hd.bdf, PVPCI_VSLOT_ANY, st.cs, &guest,
							   err, sizeof(err)) < 0)
				fuzz_fail("export again failed: %s", err);
			continue;
		case K_PERMISSIVE:
			st.permissive = !st.permissive;
			pvpci_cs_set_permissive(st.cs, st.permissive);
			continue;
		case K_NKINDS:
			break;
		}
		run_op(p, &op, via_serve, flags, here);
	}
	st.ctx = CTX_UNEXPORT;
	pvpci_pciif_free(p);
	st.ctx = CTX_NONE;
	if (pvpci_irq_local_in_use(irq))
		fuzz_fail("%u interrupts not given back", pvpci_irq_local_in_use(irq));
out:
	pvpci_irq_local_free(irq);
	pvpci_cs_free(st.cs);
	free(st.f);
	return 0;
}
