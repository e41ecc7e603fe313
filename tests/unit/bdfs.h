/*
 * B("00:03.0"): a parsed BDF for unit tests, living until eight more have
 * been parsed, so that one call can take several.  Header-only, as the
 * other test helpers; include after cmocka.h and pvpci/bdf.h.
 */
#ifndef PVPCI_TEST_BDFS_H
#define PVPCI_TEST_BDFS_H

static inline const struct pvpci_bdf *B(const char *s)
{
	static struct pvpci_bdf ring[8];
	static unsigned next;
	struct pvpci_bdf *b = &ring[next++ % 8];

	assert_int_equal(pvpci_bdf_parse(s, b), 0);
	return b;
}

#endif
