/* Guest <-> host addresses: passthrough roots, vpci slots, @VSLOT, limits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "pvpci/topology.h"

static char err[256];

/* A parsed BDF that lives until eight more have been parsed. */
static const struct pvpci_bdf *B(const char *s)
{
	static struct pvpci_bdf ring[8];
	static unsigned next;
	struct pvpci_bdf *b = &ring[next++ % 8];

	assert_int_equal(pvpci_bdf_parse(s, b), 0);
	return b;
}

static struct pvpci_bdf add(struct pvpci_topo *t, const char *host, int vslot, void *dev)
{
	struct pvpci_bdf h = *B(host), g;

	err[0] = 0;
	assert_int_equal(pvpci_topo_add(t, &h, vslot, dev, &g, err, sizeof(err)), 0);
	return g;
}

static void test_passthrough(void **state)
{
	struct pvpci_topo *t;
	struct pvpci_bdf g, h;
	uint32_t roots[8];
	int a, b, c;

	(void)state;
	assert_int_equal(pvpci_topo_new(PVPCI_TOPO_PASSTHROUGH, &t), 0);
	g = add(t, "0000:06:01.0", PVPCI_VSLOT_ANY, &a);
	assert_int_equal(pvpci_bdf_cmp(&g, &(struct pvpci_bdf){ 0, 6, 1, 0 }), 0);
	add(t, "0000:06:02.1", PVPCI_VSLOT_ANY, &b);
	add(t, "0001:00:1d.0", PVPCI_VSLOT_ANY, &c);
	assert_ptr_equal(pvpci_topo_lookup(t, 0, 6, 0x08), &a);
	assert_ptr_equal(pvpci_topo_lookup(t, 0, 6, 0x11), &b);
	assert_ptr_equal(pvpci_topo_lookup(t, 1, 0, 0xe8), &c);
	assert_null(pvpci_topo_lookup(t, 0, 6, 0x10));
	assert_null(pvpci_topo_lookup(t, 0x10000, 6, 0x08));	/* no wrap onto domain 0 */
	assert_null(pvpci_topo_lookup(t, 0, 0x106, 0x08));
	assert_null(pvpci_topo_lookup(t, 0, 6, 0x108));
	assert_int_equal(pvpci_topo_roots(t, roots, 8), 2);
	assert_int_equal(roots[0], 0x0006);
	assert_int_equal(roots[1], 0x100);	/* domain 1, bus 0 */
	h = *B("0000:06:01.0");
	assert_int_equal(pvpci_topo_add(t, &h, PVPCI_VSLOT_ANY, &a, &g, err, sizeof(err)), -EEXIST);
	assert_int_equal(pvpci_topo_add(t, B("0000:07:00.0"), 3, &a, &g, err, sizeof(err)), -EINVAL);
	assert_ptr_equal(pvpci_topo_remove(t, &h), &a);
	assert_null(pvpci_topo_remove(t, &h));
	assert_null(pvpci_topo_lookup(t, 0, 6, 0x08));
	assert_int_equal(pvpci_topo_count(t), 2);
	pvpci_topo_free(t);
}

static void test_vpci_slots(void **state)
{
	struct pvpci_topo *t;
	struct pvpci_bdf g, host, guest;
	uint32_t roots[4];
	int d[8];
	void *dev;

	(void)state;
	assert_int_equal(pvpci_topo_new(PVPCI_TOPO_VPCI, &t), 0);
	assert_int_equal(pvpci_topo_roots(t, roots, 4), 1);	/* bus 0 exists while empty */
	assert_int_equal(roots[0], 0);
	g = add(t, "0000:06:01.0", PVPCI_VSLOT_ANY, &d[0]);
	assert_int_equal(pvpci_bdf_cmp(&g, &(struct pvpci_bdf){ 0, 0, 0, 0 }), 0);
	g = add(t, "0000:00:1d.0", PVPCI_VSLOT_ANY, &d[1]);
	assert_int_equal(g.dev, 1);
	/* Functions of one physical slot stay together, keeping their number. */
	g = add(t, "0000:06:01.3", PVPCI_VSLOT_ANY, &d[2]);
	assert_int_equal(g.dev, 0);
	assert_int_equal(g.fn, 3);
	g = add(t, "0000:00:1d.1", PVPCI_VSLOT_ANY, &d[3]);
	assert_int_equal(g.dev, 1);
	assert_int_equal(g.fn, 1);
	/* @VSLOT honoured. */
	g = add(t, "0000:08:00.0", 0x10, &d[4]);
	assert_int_equal(g.dev, 0x10);
	assert_ptr_equal(pvpci_topo_lookup(t, 0, 0, 0x10 << 3), &d[4]);
	assert_int_equal(pvpci_topo_add(t, B("0000:09:00.0"), 0x10, &d[5], &g, err, sizeof(err)),
			 -ENOSPC);
	assert_non_null(strstr(err, "taken"));
	assert_int_equal(pvpci_topo_add(t, B("0000:08:00.1"), 0x11, &d[5], &g, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(pvpci_topo_add(t, B("0000:09:00.0"), 32, &d[5], &g, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(pvpci_topo_roots(t, roots, 4), 1);
	/* Guest order. */
	assert_int_equal(pvpci_topo_get(t, 0, &host, &guest, &dev), 0);
	assert_int_equal(pvpci_bdf_cmp(&host, B("0000:06:01.0")), 0);
	assert_int_equal(pvpci_topo_get(t, 4, &host, &guest, &dev), 0);
	assert_int_equal(guest.dev, 0x10);
	assert_int_equal(pvpci_topo_guest_of(t, B("0000:00:1d.1"), &guest), 0);
	assert_int_equal(pvpci_devfn(&guest), 0x09);
	assert_int_equal(pvpci_topo_guest_of(t, B("0000:00:1d.2"), &guest), -ENOENT);
	pvpci_topo_free(t);
}

static void test_vpci_full(void **state)
{
	struct pvpci_topo *t;
	struct pvpci_bdf g;
	char host[16];
	int d;

	(void)state;
	assert_int_equal(pvpci_topo_new(PVPCI_TOPO_VPCI, &t), 0);
	for (int i = 0; i < 32; i++) {
		snprintf(host, sizeof(host), "0000:%02x:00.0", i + 1);
		g = add(t, host, PVPCI_VSLOT_ANY, &d);
		assert_int_equal(g.dev, i);
	}
	assert_int_equal(pvpci_topo_add(t, B("0000:40:00.0"), PVPCI_VSLOT_ANY, &d, &g, err, sizeof(err)),
			 -ENOSPC);
	assert_non_null(strstr(err, "no more space"));
	/* A function of a device already there still fits. */
	g = add(t, "0000:05:00.1", PVPCI_VSLOT_ANY, &d);
	assert_int_equal(g.dev, 4);
	/* Freed slots are reused, lowest first. */
	assert_non_null(pvpci_topo_remove(t, B("0000:03:00.0")));
	g = add(t, "0000:40:00.0", PVPCI_VSLOT_ANY, &d);
	assert_int_equal(g.dev, 2);
	pvpci_topo_free(t);
}

static void test_modes(void **state)
{
	enum pvpci_topo_mode m;

	(void)state;
	assert_int_equal(pvpci_topo_mode_parse("vpci", &m), 0);
	assert_int_equal(m, PVPCI_TOPO_VPCI);
	assert_int_equal(pvpci_topo_mode_parse("passthrough", &m), 0);
	assert_int_equal(m, PVPCI_TOPO_PASSTHROUGH);
	assert_int_equal(pvpci_topo_mode_parse("slot", &m), -EINVAL);
	assert_int_equal(pvpci_topo_mode_parse(NULL, &m), -EINVAL);
	assert_string_equal(pvpci_topo_mode_name(PVPCI_TOPO_VPCI), "vpci");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_vpci_slots),
		cmocka_unit_test(test_vpci_full),
		cmocka_unit_test(test_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
