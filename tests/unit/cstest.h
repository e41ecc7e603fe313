/*
 * What the engine's unit tests share: binding a fake device, reading and
 * writing as a guest (any error fails the test), finding a capability.
 * Header-only; include after cmocka.h.
 */
#ifndef PVPCI_TEST_CSTEST_H
#define PVPCI_TEST_CSTEST_H

#include "cs_internal.h"
#include "fakedev.h"

/* Bind f with o; the write and read logs start empty. */
static inline struct pvpci_cs *cs_bind_with(struct fakedev *f, const struct pvpci_cs_opts *o)
{
	struct pvpci_cs *cs = NULL;
	char err[256];

	if (pvpci_cs_new(&f->hd, o, &cs, err, sizeof(err)) != 0)
		fail_msg("bind: %s", err);
	f->nlog = f->nrlog = 0;
	return cs;
}

static inline uint32_t cs_rd(struct pvpci_cs *cs, long off, long size)
{
	uint32_t v = 0xdeadbeef;

	assert_int_equal(pvpci_cs_read(cs, off, size, &v), 0);
	return v;
}

static inline void cs_wr(struct pvpci_cs *cs, long off, long size, uint32_t val)
{
	assert_int_equal(pvpci_cs_write(cs, off, size, val), 0);
}

static inline const struct pvpci_cap *cs_cap_at(struct pvpci_cs *cs, unsigned off)
{
	for (size_t i = 0; i < pvpci_cs_ncaps(cs); i++)
		if (pvpci_cs_cap(cs, i)->offset == off)
			return pvpci_cs_cap(cs, i);
	fail_msg("no capability at 0x%x", off);
	return NULL;
}

#endif
