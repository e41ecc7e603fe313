/*
 * Guest <-> host addresses for the passthrough, virtual-bus and slot
 * topologies (see topology.h).  A small sorted array: at most 256 entries,
 * looked up once per op, so a binary search on the guest address is
 * plenty.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvpci/topology.h"

struct entry {
	struct pvpci_bdf host, guest;
	void *dev;
};

struct pvpci_topo {
	enum pvpci_topo_mode mode;
	struct entry e[PVPCI_TOPO_MAX_DEVS];
	size_t n;
};

static const char *const mode_names[] = {
	[PVPCI_TOPO_PASSTHROUGH] = "passthrough",
	[PVPCI_TOPO_VPCI] = "vpci",
	[PVPCI_TOPO_SLOT] = "slot",
};

int pvpci_topo_mode_parse(const char *s, enum pvpci_topo_mode *ret)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (s && !strcmp(s, mode_names[i])) {
			*ret = (enum pvpci_topo_mode)i;
			return 0;
		}
	return -EINVAL;
}

const char *pvpci_topo_mode_name(enum pvpci_topo_mode m)
{
	return (size_t)m < sizeof(mode_names) / sizeof(mode_names[0]) ? mode_names[m] : "unknown";
}

int pvpci_topo_new(enum pvpci_topo_mode mode, struct pvpci_topo **ret)
{
	struct pvpci_topo *t;

	if ((size_t)mode >= sizeof(mode_names) / sizeof(mode_names[0]))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->mode = mode;
	*ret = t;
	return 0;
}

void pvpci_topo_free(struct pvpci_topo *t)
{
	free(t);
}

enum pvpci_topo_mode pvpci_topo_mode(const struct pvpci_topo *t)
{
	return t->mode;
}

static unsigned long key(const struct pvpci_bdf *b)
{
	return (unsigned long)b->domain << 16 | (unsigned)b->bus << 8 | pvpci_devfn(b);
}

static const struct entry *find_host(const struct pvpci_topo *t, const struct pvpci_bdf *host)
{
	for (size_t i = 0; i < t->n; i++)
		if (!pvpci_bdf_cmp(&t->e[i].host, host))
			return &t->e[i];
	return NULL;
}

/* The virtual slot that holds other functions of host's physical slot. */
static int slot_of_sibling(const struct pvpci_topo *t, const struct pvpci_bdf *host)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].host.domain == host->domain && t->e[i].host.bus == host->bus &&
		    t->e[i].host.dev == host->dev)
			return t->e[i].guest.dev;
	return -1;
}

static bool slot_used(const struct pvpci_topo *t, unsigned bus, unsigned slot)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].guest.bus == bus && t->e[i].guest.dev == slot)
			return true;
	return false;
}

static int place_vpci(const struct pvpci_topo *t, const struct pvpci_bdf *host, int vslot,
		      struct pvpci_bdf *g, char *errbuf, size_t errlen)
{
	char hb[PVPCI_BDF_STRLEN];
	int sib = slot_of_sibling(t, host);
	unsigned slot;

	pvpci_bdf_format(host, hb);
	if (vslot != PVPCI_VSLOT_ANY && (vslot < 0 || vslot > 31)) {
		snprintf(errbuf, errlen, "%s: virtual slot %d is not 0-31", hb, vslot);
		return -EINVAL;
	}
	if (sib >= 0) {
		/* Functions of one device stay together, whatever was asked. */
		if (vslot != PVPCI_VSLOT_ANY && vslot != sib) {
			snprintf(errbuf, errlen,
				 "%s: other functions of its slot are in virtual slot %02x, not %02x", hb, sib,
				 vslot);
			return -EINVAL;
		}
		slot = (unsigned)sib;
	} else if (vslot != PVPCI_VSLOT_ANY) {
		if (slot_used(t, 0, (unsigned)vslot)) {
			snprintf(errbuf, errlen, "%s: virtual slot %02x is taken by another device", hb, vslot);
			return -ENOSPC;
		}
		slot = (unsigned)vslot;
	} else {
		for (slot = 0; slot < 32 && slot_used(t, 0, slot); slot++)
			;
		if (slot == 32) {
			snprintf(errbuf, errlen, "%s: " PVPCI_TOPO_FULL_MSG " (its 32 slots are in use)", hb);
			return -ENOSPC;
		}
	}
	*g = (struct pvpci_bdf){ .domain = 0, .bus = 0, .dev = (uint8_t)slot, .fn = host->fn };
	return 0;
}

/*
 * pciback's slot.c: each function alone at function 0 of the first free
 * slot, bus 0 before bus 1; a function freed leaves a hole the next one
 * fills, and nothing else moves.  (slot.c itself published only root 0
 * and wrote every vdev on bus 0, so pcifront never found what went to bus
 * 1; here the guest address says the bus, and both roots are published.)
 */
static int place_slot(const struct pvpci_topo *t, const struct pvpci_bdf *host, int vslot,
		      struct pvpci_bdf *g, char *errbuf, size_t errlen)
{
	const unsigned nslots = PVPCI_TOPO_SLOT_BUSES * 32;
	char hb[PVPCI_BDF_STRLEN];
	unsigned s;

	pvpci_bdf_format(host, hb);
	if (vslot != PVPCI_VSLOT_ANY) {
		if (vslot < 0 || (unsigned)vslot >= nslots) {
			snprintf(errbuf, errlen, "%s: virtual slot %d is not 0-%u (bus * 32 + slot)", hb, vslot,
				 nslots - 1);
			return -EINVAL;
		}
		s = (unsigned)vslot;
		if (slot_used(t, s / 32, s % 32)) {
			snprintf(errbuf, errlen, "%s: virtual slot %02x of bus %02x is taken by another function",
				 hb, s % 32, s / 32);
			return -ENOSPC;
		}
	} else {
		for (s = 0; s < nslots && slot_used(t, s / 32, s % 32); s++)
			;
		if (s == nslots) {
			snprintf(errbuf, errlen,
				 "%s: " PVPCI_TOPO_FULL_MSG " (buses 00 and 01: their %u slots are in use)", hb,
				 nslots);
			return -ENOSPC;
		}
	}
	*g = (struct pvpci_bdf){ .domain = 0, .bus = (uint8_t)(s / 32), .dev = (uint8_t)(s % 32), .fn = 0 };
	return 0;
}

int pvpci_topo_vslot_of(enum pvpci_topo_mode mode, const struct pvpci_bdf *guest)
{
	switch (mode) {
	case PVPCI_TOPO_VPCI:
		return guest->dev;
	case PVPCI_TOPO_SLOT:
		return guest->bus * 32 + guest->dev;
	default:
		return PVPCI_VSLOT_ANY;
	}
}

int pvpci_topo_add(struct pvpci_topo *t, const struct pvpci_bdf *host, int vslot, void *dev,
		   struct pvpci_bdf *ret_guest, char *errbuf, size_t errlen)
{
	char hb[PVPCI_BDF_STRLEN];
	struct pvpci_bdf g;
	size_t at;
	int r;

	pvpci_bdf_format(host, hb);
	if (find_host(t, host)) {
		snprintf(errbuf, errlen, "%s is already exported", hb);
		return -EEXIST;
	}
	if (t->n == PVPCI_TOPO_MAX_DEVS) {
		snprintf(errbuf, errlen, "%s: %d functions are exported already", hb, PVPCI_TOPO_MAX_DEVS);
		return -ENOSPC;
	}
	if (t->mode == PVPCI_TOPO_PASSTHROUGH) {
		if (vslot != PVPCI_VSLOT_ANY) {
			snprintf(errbuf, errlen, "%s: a virtual slot has no meaning in passthrough mode", hb);
			return -EINVAL;
		}
		g = *host;
	} else {
		r = t->mode == PVPCI_TOPO_SLOT ? place_slot(t, host, vslot, &g, errbuf, errlen)
					       : place_vpci(t, host, vslot, &g, errbuf, errlen);
		if (r < 0)
			return r;
	}
	/* Keep guest order so lookups can bisect. */
	for (at = t->n; at > 0 && key(&t->e[at - 1].guest) > key(&g); at--)
		t->e[at] = t->e[at - 1];
	t->e[at] = (struct entry){ *host, g, dev };
	t->n++;
	if (ret_guest)
		*ret_guest = g;
	return 0;
}

void *pvpci_topo_remove(struct pvpci_topo *t, const struct pvpci_bdf *host)
{
	const struct entry *e = find_host(t, host);
	size_t i;
	void *dev;

	if (!e)
		return NULL;
	dev = e->dev;
	i = (size_t)(e - t->e);
	memmove(&t->e[i], &t->e[i + 1], (t->n - i - 1) * sizeof(t->e[0]));
	t->n--;
	return dev;
}

void *pvpci_topo_lookup(const struct pvpci_topo *t, uint32_t domain, uint32_t bus, uint32_t devfn)
{
	unsigned long k;
	size_t lo = 0, hi = t->n;

	/* The protocol carries 32-bit fields; anything wider than the address
	 * space finds nothing rather than wrapping onto a real device. */
	if (domain > 0xffff || bus > 0xff || devfn > 0xff)
		return NULL;
	k = (unsigned long)domain << 16 | bus << 8 | devfn;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		unsigned long mk = key(&t->e[mid].guest);

		if (mk == k)
			return t->e[mid].dev;
		if (mk < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int pvpci_topo_guest_of(const struct pvpci_topo *t, const struct pvpci_bdf *host,
			struct pvpci_bdf *ret_guest)
{
	const struct entry *e = find_host(t, host);

	if (!e)
		return -ENOENT;
	*ret_guest = e->guest;
	return 0;
}

size_t pvpci_topo_count(const struct pvpci_topo *t)
{
	return t->n;
}

int pvpci_topo_get(const struct pvpci_topo *t, size_t i, struct pvpci_bdf *ret_host,
		   struct pvpci_bdf *ret_guest, void **ret_dev)
{
	if (i >= t->n)
		return -ENOENT;
	if (ret_host)
		*ret_host = t->e[i].host;
	if (ret_guest)
		*ret_guest = t->e[i].guest;
	if (ret_dev)
		*ret_dev = t->e[i].dev;
	return 0;
}

size_t pvpci_topo_roots(const struct pvpci_topo *t, uint32_t *ret, size_t max)
{
	size_t n = 0;

	if (t->mode == PVPCI_TOPO_SLOT) {
		/* Both buses, whatever is on them: a hot-added function may go
		 * to either, and the frontend scans what it was told at connect. */
		for (n = 0; n < PVPCI_TOPO_SLOT_BUSES && n < max; n++)
			ret[n] = (uint32_t)n;
		return n;
	}
	/* Guest order is (domain, bus) order: each new pair is a new root. */
	for (size_t i = 0; i < t->n; i++) {
		uint32_t r = (uint32_t)t->e[i].guest.domain << 8 | t->e[i].guest.bus;

		if (n && ret[n - 1] == r)
			continue;
		if (n == max)
			break;
		ret[n++] = r;
	}
	if (t->mode == PVPCI_TOPO_VPCI && n == 0 && max)
		ret[n++] = 0;	/* the virtual bus exists even while empty */
	return n;
}
