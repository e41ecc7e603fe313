/*
 * The local interrupt allocator behind struct pvpci_irq_ops: numbers of
 * the backend's own, base .. base + count - 1, for machines where no
 * hypervisor hands out pirqs.  Owns a bitmap of the numbers in use; the
 * lowest free number goes first so that the numbers a guest sees are
 * stable from one run to the next.  Not owned here: what a number is
 * bound to (the op code), Xen's pirqs.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "pvpci/pciif.h"

struct pvpci_irq_local {
	uint32_t base;
	unsigned count, in_use;
	uint64_t *map;			/* bit i: base + i is handed out */
};

static bool used(const struct pvpci_irq_local *a, unsigned i)
{
	return a->map[i / 64] >> (i % 64) & 1;
}

static void mark(struct pvpci_irq_local *a, unsigned i, bool on)
{
	uint64_t bit = (uint64_t)1 << (i % 64);

	a->map[i / 64] = on ? a->map[i / 64] | bit : a->map[i / 64] & ~bit;
}

int pvpci_irq_local_new(uint32_t base, unsigned count, struct pvpci_irq_local **ret)
{
	struct pvpci_irq_local *a;

	if (count == 0 || count - 1 > UINT32_MAX - base)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->map = calloc(count / 64 + 1, sizeof(*a->map));
	if (!a->map) {
		free(a);
		return -ENOMEM;
	}
	a->base = base;
	a->count = count;
	*ret = a;
	return 0;
}

void pvpci_irq_local_free(struct pvpci_irq_local *a)
{
	if (!a)
		return;
	free(a->map);
	free(a);
}

unsigned pvpci_irq_local_in_use(const struct pvpci_irq_local *a)
{
	return a->in_use;
}

/* Index of the lowest run of n free numbers, or count when there is none. */
static unsigned find_run(const struct pvpci_irq_local *a, unsigned n)
{
	unsigned run = 0;

	for (unsigned i = 0; i < a->count; i++) {
		run = used(a, i) ? 0 : run + 1;
		if (run == n)
			return i + 1 - n;
	}
	return a->count;
}

static int local_alloc(void *ctx, const struct pvpci_irq_req *req, uint32_t *ret)
{
	struct pvpci_irq_local *a = ctx;
	unsigned k = 0, n = req->n;
	bool contiguous = !req->msix;

	if (n == 0)
		return -EINVAL;
	if (n > a->count - a->in_use)
		return -ENOSPC;
	if (contiguous) {
		unsigned first = find_run(a, n);

		if (first == a->count)
			return -ENOSPC;
		for (unsigned i = 0; i < n; i++)
			ret[i] = a->base + first + i;
	} else {
		/* Enough are free (checked above): take the n lowest. */
		for (unsigned i = 0; k < n; i++)
			if (!used(a, i))
				ret[k++] = a->base + i;
	}
	for (unsigned i = 0; i < n; i++)
		mark(a, ret[i] - a->base, true);
	a->in_use += n;
	return 0;
}

static void local_release(void *ctx, const struct pvpci_irq_req *req, const uint32_t *irqs)
{
	struct pvpci_irq_local *a = ctx;

	for (unsigned i = 0; i < req->n; i++) {
		uint32_t idx = irqs[i] - a->base;

		/* Numbers that are not ours, or not out, are left alone: a
		 * double release must not free someone else's interrupt. */
		if (irqs[i] < a->base || idx >= a->count || !used(a, idx))
			continue;
		mark(a, idx, false);
		a->in_use--;
	}
}

static int local_adopt(void *ctx, const struct pvpci_irq_req *req, const uint32_t *irqs)
{
	struct pvpci_irq_local *a = ctx;

	for (unsigned i = 0; i < req->n; i++) {
		if (irqs[i] < a->base || irqs[i] - a->base >= a->count)
			return -ERANGE;
		if (used(a, irqs[i] - a->base))
			return -EEXIST;
		for (unsigned k = 0; k < i; k++)
			if (irqs[k] == irqs[i])
				return -EEXIST;
	}
	for (unsigned i = 0; i < req->n; i++)
		mark(a, irqs[i] - a->base, true);
	a->in_use += req->n;
	return 0;
}

const struct pvpci_irq_ops pvpci_irq_local_ops = {
	.alloc = local_alloc,
	.release = local_release,
	.adopt = local_adopt,
};
