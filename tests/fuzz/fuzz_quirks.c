/*
 * Fuzz target: the operator's text forms of the PCI side: the quirks
 * parser (include/pvpci/quirks.h) with what it does to a function, and
 * pciback's hide= list (pvpci_bdf_parse_list in include/pvpci/bdf.h).
 * The whole input goes to both.
 *
 * Quirks invariants: a failure leaves *ret untouched and names the line;
 * a success holds at most PVPCI_QUIRKS_MAX_FIELDS fields, and applying it
 * to two functions (fakedev.h's endpoint at 0000:03:00.0, IDs 1234:5678
 * with PM, MSI and MSI-X; and a PCI Express one with extended space)
 * either adds exactly its count of registers, all named "quirk", all at
 * 0x40 or above and outside MSI and MSI-X, each passing to hardware
 * exactly its mask, with every register that was there before unchanged;
 * or, when it fails, leaves the register table exactly as it was.
 *
 * Hide-list invariants: the count is at most the room given; each entry
 * has a device 0-1f and a function 0-7; the entries written back as
 * "(DDDD:BB:DD.F)..." parse to the same list; -E2BIG only when the text
 * has more entries than the room (a larger room takes them, or finds a
 * syntax error past them).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "../unit/fakedev.h"
#include "fuzz_input.h"
#include "pvpci/confspace.h"
#include "pvpci/quirks.h"

#define HIDE_ROOM 8

static struct fakedev *devs[2];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	devs[0] = fake_new(PVPCI_CFG_SIZE);
	fake_cap(devs[0], 0x40, 0x01, 0x48);
	fake_cap(devs[0], 0x48, 0x05, 0x60);
	fake_put(devs[0], 0x4a, 2, 0x0180);
	fake_cap(devs[0], 0x60, 0x11, 0x70);
	fake_put(devs[0], 0x64, 4, 0x00000000);
	fake_put(devs[0], 0x68, 4, 0x00000800);
	fake_cap(devs[0], 0x70, 0x09, 0x00);
	devs[0]->cfg[0x72] = 0x20;
	devs[1] = fake_new(PVPCI_CFG_EXP_SIZE);
	devs[1]->hd.bdf = (struct pvpci_bdf){ 1, 0x80, 0x1f, 7 };
	fake_put(devs[1], 0x00, 4, 0x10d38086);
	fake_put(devs[1], 0x2c, 4, 0xa01f8086);
	fake_cap(devs[1], 0x40, 0x10, 0x00);
	fake_put(devs[1], 0x42, 2, 0x0002);
	fake_ext_cap(devs[1], 0x100, 0x0001, 1, 0x200);
	fake_ext_cap(devs[1], 0x200, 0x000b, 1, 0x000);
	fake_put(devs[1], 0x204, 4, 0x01000001);
	return 0;
}

/* The table as pvpci_cs_reg_by_index gives it, copied. */
static size_t table(struct pvpci_cs *cs, struct pvpci_reg *out, size_t max)
{
	size_t n = pvpci_cs_nregs(cs);

	for (size_t i = 0; i < n && i < max; i++)
		out[i] = *pvpci_cs_reg_by_index(cs, i);
	return n;
}

static bool same_reg(const struct pvpci_reg *a, const struct pvpci_reg *b)
{
	return a->offset == b->offset && a->size == b->size && a->flags == b->flags &&
	       a->ro_mask == b->ro_mask && a->rw1c_mask == b->rw1c_mask &&
	       a->rsvdp_mask == b->rsvdp_mask && a->rsvdz_mask == b->rsvdz_mask &&
	       a->emu_mask == b->emu_mask && a->read == b->read && a->write == b->write &&
	       !strcmp(a->name, b->name);
}

/* Bytes of the first capability with this ID (the length quirks.c
 * guards: MSI as its Message Control sizes it, MSI-X 12). */
static bool in_cap(struct pvpci_cs *cs, uint16_t id, const struct pvpci_reg *r)
{
	const uint8_t *snap = pvpci_cs_host_snapshot(cs);

	for (size_t i = 0; i < pvpci_cs_ncaps(cs); i++) {
		const struct pvpci_cap *c = pvpci_cs_cap(cs, i);
		unsigned len;

		if (c->ext || c->id != id)
			continue;
		len = id == 0x11 ? 12 : 10 + (snap[c->offset + 2] & 0x80 ? 4 : 0) +
					(snap[c->offset + 3] & 0x01 ? 10 : 0);
		return r->offset < c->offset + len && c->offset < r->offset + r->size;
	}
	return false;
}

static void apply(const struct pvpci_quirks *q, unsigned which)
{
	static struct pvpci_reg before[PVPCI_CFG_EXP_SIZE], after[PVPCI_CFG_EXP_SIZE];
	struct pvpci_cs *cs;
	size_t nb, na, k = 0;
	char err[256] = "";
	int r;

	if (pvpci_cs_new(&devs[which]->hd, NULL, &cs, err, sizeof(err)) < 0)
		fuzz_fail("binding the test function: %s", err);
	nb = table(cs, before, PVPCI_CFG_EXP_SIZE);
	r = pvpci_quirks_apply(q, cs, err, sizeof(err));
	na = table(cs, after, PVPCI_CFG_EXP_SIZE);
	if (r < 0) {
		if (r != -EEXIST && r != -EINVAL && r != -ENOMEM)
			fuzz_fail("apply: error %d", r);
		if (strncmp(err, "line ", 5))
			fuzz_fail("apply failed without naming the line: '%s'", err);
		if (na != nb)
			fuzz_fail("a failed apply left %zu registers of %zu", na, nb);
		for (size_t i = 0; i < nb; i++)
			if (!same_reg(&before[i], &after[i]))
				fuzz_fail("a failed apply changed '%s' at 0x%x", before[i].name,
					  before[i].offset);
		pvpci_cs_free(cs);
		return;
	}
	if (na != nb + (size_t)r)
		fuzz_fail("apply said %d fields, the table grew by %zu", r, na - nb);
	for (size_t i = 0; i < na; i++) {
		const struct pvpci_reg *a = &after[i];

		if (!strcmp(a->name, "quirk")) {
			if (a->offset < 0x40 || in_cap(cs, 0x05, a) || in_cap(cs, 0x11, a))
				fuzz_fail("a quirk at 0x%x size %u is in the header, MSI or MSI-X",
					  a->offset, a->size);
			/* Plain pass-through: its bits are ro or the guest's, nothing else. */
			if (a->read || a->write || a->rw1c_mask | a->rsvdp_mask | a->rsvdz_mask | a->emu_mask)
				fuzz_fail("a quirk at 0x%x is more than a pass-through field", a->offset);
			continue;
		}
		if (k >= nb || !same_reg(&before[k], a))
			fuzz_fail("applying quirks changed the register '%s' at 0x%x", a->name, a->offset);
		k++;
	}
	if (k != nb)
		fuzz_fail("applying quirks lost registers");
	pvpci_cs_free(cs);
}

static void quirks(const uint8_t *data, size_t size)
{
	struct pvpci_quirks *q = (struct pvpci_quirks *)&q;
	char err[256] = "";
	int r = pvpci_quirks_parse((const char *)data, size, &q, err, sizeof(err));

	if (r < 0) {
		if (q != (struct pvpci_quirks *)&q)
			fuzz_fail("a failed parse changed its result");
		if (r != -EINVAL && r != -E2BIG && r != -ENOMEM)
			fuzz_fail("parse: error %d", r);
		if (r == -EINVAL && strncmp(err, "line ", 5))
			fuzz_fail("parse failed without naming the line: '%s'", err);
		return;
	}
	if (pvpci_quirks_count(q) > PVPCI_QUIRKS_MAX_FIELDS)
		fuzz_fail("%zu fields", pvpci_quirks_count(q));
	apply(q, 0);
	apply(q, 1);
	pvpci_quirks_free(q);
}

static void hide_list(const uint8_t *data, size_t size)
{
	struct pvpci_bdf a[HIDE_ROOM], b[HIDE_ROOM];
	char *s = malloc(size + 1), back[HIDE_ROOM * (PVPCI_BDF_STRLEN + 2) + 1] = "";
	int n, m;

	memcpy(s, data, size);
	s[size] = '\0';
	n = pvpci_bdf_parse_list(s, a, HIDE_ROOM);
	if (n == -E2BIG) {
		/* An entry takes 7 bytes at least: "(0:0.0)".  With room for all
		 * of them, more entries than the first room, or a syntax error
		 * past them. */
		struct pvpci_bdf *big = malloc((size / 7 + 1) * sizeof(*big));
		int all = pvpci_bdf_parse_list(s, big, size / 7 + 1);

		if (all == -E2BIG || (all >= 0 && all <= HIDE_ROOM))
			fuzz_fail("-E2BIG for a list of %d", all);
		free(big);
	} else if (n != -EINVAL && (n < 0 || n > HIDE_ROOM)) {
		fuzz_fail("parse_list returned %d", n);
	}
	free(s);
	if (n < 0)
		return;
	for (int i = 0; i < n; i++) {
		char one[PVPCI_BDF_STRLEN];

		if (a[i].dev > 0x1f || a[i].fn > 7)
			fuzz_fail("entry %d: device %x function %x", i, a[i].dev, a[i].fn);
		strcat(back, "(");
		strcat(back, pvpci_bdf_format(&a[i], one));
		strcat(back, ")");
	}
	m = pvpci_bdf_parse_list(back, b, HIDE_ROOM);
	if (m != n)
		fuzz_fail("'%s' read back as %d entries, not %d", back, m, n);
	for (int i = 0; i < n; i++)
		if (pvpci_bdf_cmp(&a[i], &b[i]))
			fuzz_fail("'%s': entry %d read back differs", back, i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	quirks(data, size);
	hide_list(data, size);
	return 0;
}
