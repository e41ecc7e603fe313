/* Guest <-> host addresses: passthrough roots, vpci slots, the slot topology, @VSLOT, limits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "pvpci/topology.h"
#include "bdfs.h"

static char err[256];

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
	assert_string_equal(err, "0000:40:00.0: " PVPCI_TOPO_FULL_MSG " (its 32 slots are in use)");
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
	assert_int_equal(pvpci_topo_mode_parse("slot", &m), 0);
	assert_int_equal(m, PVPCI_TOPO_SLOT);
	assert_int_equal(pvpci_topo_mode_parse("slots", &m), -EINVAL);
	assert_int_equal(pvpci_topo_mode_parse("", &m), -EINVAL);
	assert_int_equal(pvpci_topo_mode_parse(NULL, &m), -EINVAL);
	assert_string_equal(pvpci_topo_mode_name(PVPCI_TOPO_VPCI), "vpci");
	assert_string_equal(pvpci_topo_mode_name(PVPCI_TOPO_SLOT), "slot");
	assert_string_equal(pvpci_topo_mode_name((enum pvpci_topo_mode)3), "unknown");
	assert_string_equal(PVPCI_TOPO_MODES, "passthrough|vpci|slot");
}

/* Each function alone at function 0, bus 0 then bus 1; lookups find only
 * what is there; both roots from the start. */
static void test_slot(void **state)
{
	struct pvpci_topo *t;
	struct pvpci_bdf g, host, guest;
	uint32_t roots[4];
	int d[8];
	void *dev;

	(void)state;
	assert_int_equal(pvpci_topo_new(PVPCI_TOPO_SLOT, &t), 0);
	assert_int_equal(pvpci_topo_mode(t), PVPCI_TOPO_SLOT);
	assert_int_equal(pvpci_topo_roots(t, roots, 4), 2);
	assert_int_equal(roots[0], 0x000);
	assert_int_equal(roots[1], 0x001);
	assert_int_equal(pvpci_topo_roots(t, roots, 1), 1);	/* max honoured */
	/* A multi-function device: each function its own slot, function 0. */
	g = add(t, "0000:00:1d.0", PVPCI_VSLOT_ANY, &d[0]);
	assert_int_equal(pvpci_bdf_cmp(&g, &(struct pvpci_bdf){ 0, 0, 0, 0 }), 0);
	g = add(t, "0000:00:1d.1", PVPCI_VSLOT_ANY, &d[1]);
	assert_int_equal(pvpci_bdf_cmp(&g, &(struct pvpci_bdf){ 0, 0, 1, 0 }), 0);
	g = add(t, "0001:06:01.7", PVPCI_VSLOT_ANY, &d[2]);
	assert_int_equal(pvpci_bdf_cmp(&g, &(struct pvpci_bdf){ 0, 0, 2, 0 }), 0);
	assert_ptr_equal(pvpci_topo_lookup(t, 0, 0, 0x00), &d[0]);
	assert_ptr_equal(pvpci_topo_lookup(t, 0, 0, 0x08), &d[1]);
	assert_ptr_equal(pvpci_topo_lookup(t, 0, 0, 0x10), &d[2]);
	assert_null(pvpci_topo_lookup(t, 0, 0, 0x01));	/* function 1 of slot 0: nobody */
	assert_null(pvpci_topo_lookup(t, 0, 0, 0x17));
	assert_null(pvpci_topo_lookup(t, 0, 1, 0x00));	/* bus 1: empty yet */
	assert_null(pvpci_topo_lookup(t, 1, 0, 0x00));
	assert_null(pvpci_topo_lookup(t, 0, 0x100, 0x00));
	/* A vslot is bus * 32 + slot. */
	g = add(t, "0000:07:00.0", 32 + 5, &d[3]);
	assert_int_equal(pvpci_bdf_cmp(&g, &(struct pvpci_bdf){ 0, 1, 5, 0 }), 0);
	assert_ptr_equal(pvpci_topo_lookup(t, 0, 1, 5 << 3), &d[3]);
	g = add(t, "0000:07:00.1", 0x1f, &d[4]);
	assert_int_equal(pvpci_bdf_cmp(&g, &(struct pvpci_bdf){ 0, 0, 0x1f, 0 }), 0);
	assert_int_equal(pvpci_topo_add(t, B("0000:08:00.0"), 37, &d[5], &g, err, sizeof(err)), -ENOSPC);
	assert_string_equal(err, "0000:08:00.0: virtual slot 05 of bus 01 is taken by another function");
	assert_int_equal(pvpci_topo_add(t, B("0000:08:00.0"), 64, &d[5], &g, err, sizeof(err)), -EINVAL);
	assert_int_equal(pvpci_topo_add(t, B("0000:08:00.0"), -2, &d[5], &g, err, sizeof(err)), -EINVAL);
	assert_int_equal(pvpci_topo_add(t, B("0000:00:1d.1"), PVPCI_VSLOT_ANY, &d[5], &g, err, sizeof(err)),
			 -EEXIST);
	assert_int_equal(pvpci_topo_roots(t, roots, 4), 2);
	/* Guest order: bus 0's slots, then bus 1's. */
	assert_int_equal(pvpci_topo_count(t), 5);
	assert_int_equal(pvpci_topo_get(t, 3, &host, &guest, &dev), 0);
	assert_int_equal(pvpci_bdf_cmp(&host, B("0000:07:00.1")), 0);
	assert_int_equal(pvpci_topo_get(t, 4, &host, &guest, &dev), 0);
	assert_int_equal(pvpci_bdf_cmp(&guest, &(struct pvpci_bdf){ 0, 1, 5, 0 }), 0);
	assert_ptr_equal(dev, &d[3]);
	assert_int_equal(pvpci_topo_guest_of(t, B("0000:00:1d.1"), &guest), 0);
	assert_int_equal(pvpci_devfn(&guest), 0x08);
	/* Where a function goes again: its bus and slot. */
	assert_int_equal(pvpci_topo_vslot_of(PVPCI_TOPO_SLOT, &(struct pvpci_bdf){ 0, 1, 5, 0 }), 37);
	assert_int_equal(pvpci_topo_vslot_of(PVPCI_TOPO_VPCI, &(struct pvpci_bdf){ 0, 0, 5, 3 }), 5);
	assert_int_equal(pvpci_topo_vslot_of(PVPCI_TOPO_PASSTHROUGH, &(struct pvpci_bdf){ 0, 0, 5, 3 }),
			 PVPCI_VSLOT_ANY);
	/* Removed: the hole is the next one's; nothing else moves. */
	assert_ptr_equal(pvpci_topo_remove(t, B("0000:00:1d.0")), &d[0]);
	assert_null(pvpci_topo_lookup(t, 0, 0, 0x00));
	assert_ptr_equal(pvpci_topo_lookup(t, 0, 0, 0x08), &d[1]);
	g = add(t, "0000:09:00.0", PVPCI_VSLOT_ANY, &d[6]);
	assert_int_equal(pvpci_bdf_cmp(&g, &(struct pvpci_bdf){ 0, 0, 0, 0 }), 0);
	pvpci_topo_free(t);
}

/* 64 functions fill both buses; the 65th gets pciback's message; a freed
 * slot on either bus is taken again. */
static void test_slot_full(void **state)
{
	struct pvpci_topo *t;
	struct pvpci_bdf g;
	char host[16];
	int d;

	(void)state;
	assert_int_equal(pvpci_topo_new(PVPCI_TOPO_SLOT, &t), 0);
	for (int i = 0; i < 64; i++) {
		snprintf(host, sizeof(host), "0000:%02x:%02x.%d", 1 + i / 32, (i / 8) % 4, i % 8);
		g = add(t, host, PVPCI_VSLOT_ANY, &d);
		assert_int_equal(g.bus, i / 32);
		assert_int_equal(g.dev, i % 32);
		assert_int_equal(g.fn, 0);
	}
	assert_int_equal(pvpci_topo_count(t), 64);
	assert_int_equal(pvpci_topo_add(t, B("0000:40:00.0"), PVPCI_VSLOT_ANY, &d, &g, err, sizeof(err)),
			 -ENOSPC);
	assert_string_equal(err, "0000:40:00.0: " PVPCI_TOPO_FULL_MSG
				 " (buses 00 and 01: their 64 slots are in use)");
	assert_int_equal(pvpci_topo_add(t, B("0000:40:00.0"), 3, &d, &g, err, sizeof(err)), -ENOSPC);
	/* Unlike vpci, a sibling function is no exception. */
	assert_int_equal(pvpci_topo_add(t, B("0000:01:00.0"), PVPCI_VSLOT_ANY, &d, &g, err, sizeof(err)),
			 -EEXIST);
	assert_int_equal(pvpci_topo_count(t), 64);
	/* "0000:02:01.2" is the 43rd: bus 1, slot 10. */
	assert_non_null(pvpci_topo_remove(t, B("0000:02:01.2")));
	g = add(t, "0000:40:00.0", PVPCI_VSLOT_ANY, &d);
	assert_int_equal(pvpci_bdf_cmp(&g, &(struct pvpci_bdf){ 0, 1, 10, 0 }), 0);
	assert_non_null(pvpci_topo_remove(t, B("0000:01:00.3")));
	assert_non_null(pvpci_topo_remove(t, B("0000:01:03.7")));
	g = add(t, "0000:41:00.0", PVPCI_VSLOT_ANY, &d);
	assert_int_equal(pvpci_bdf_cmp(&g, &(struct pvpci_bdf){ 0, 0, 3, 0 }), 0);
	g = add(t, "0000:42:00.0", PVPCI_VSLOT_ANY, &d);
	assert_int_equal(pvpci_bdf_cmp(&g, &(struct pvpci_bdf){ 0, 0, 31, 0 }), 0);
	assert_int_equal(pvpci_topo_add(t, B("0000:43:00.0"), PVPCI_VSLOT_ANY, &d, &g, err, sizeof(err)),
			 -ENOSPC);
	pvpci_topo_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_vpci_slots),
		cmocka_unit_test(test_vpci_full),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_slot),
		cmocka_unit_test(test_slot_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
