/*
 * The Xen interrupt allocator (lib/irq_xen.c) under the protocol's ops,
 * with the hypervisor faked (fakexen.h): MSI and each MSI-X table entry
 * get a pirq of the guest's domain, mapped for the host function (MSI-X
 * with the table's BAR address) before the capability's Enable goes on,
 * and unmapped, last first, after it goes off: on disable, on unexport
 * (a detach) and when the pciif goes (the guest's frontend gone).  A map
 * that fails takes back the ones that call mapped; multi-message MSI is
 * refused before Xen is asked; only pirqs it mapped are ever unmapped.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "pciiftest.h"
#include "fakexen.h"

#define TABLE	"0xfeb00000"	/* dev_a's BAR 0, where its MSI-X table is */

struct xenv {
	struct fake_hv h;
	struct pvpci_irq_xen *a;
	struct env *e;
};

/* At every map the capability is still off in hardware, at every unmap
 * it is off already: the device never signals into a pirq not mapped. */
static void hw_off(struct fake_hv *h, bool map)
{
	struct xenv *x = h->ctx;

	(void)map;
	assert_false(msi_on_in_hw(x->e->f[0]));
	assert_false(msix_on_in_hw(x->e->f[0]));
}

static struct xenv *xenv_new(enum pvpci_topo_mode mode, unsigned max)
{
	struct xenv *x = calloc(1, sizeof(*x));
	struct env_opts o = { .irq = &pvpci_irq_xen_ops };

	assert_non_null(x);
	fake_hv_init(&x->h);
	x->h.ctx = x;
	x->h.at = hw_off;
	assert_int_equal(pvpci_irq_xen_new(&x->h.hv, DOMID, max ? max : 64, &x->a), 0);
	o.irq_ctx = x->a;
	x->e = env_new(mode, &o);
	return x;
}

static void xenv_free(struct xenv *x)
{
	env_free(x->e);
	assert_int_equal(pvpci_irq_xen_in_use(x->a), 0);
	pvpci_irq_xen_free(x->a);
	assert_int_equal(x->h.mapped, 0);
	free(x);
}

static void msi(enum pvpci_topo_mode mode)
{
	struct xenv *x = xenv_new(mode, 0);
	struct pvpci_op op = run(x->e, 0, PVPCI_XEN_PCI_OP_enable_msi, 0, 0);

	assert_int_equal(op.err, PVPCI_ERR_success);
	assert_int_equal(op.value, FX_PIRQ0);	/* the guest binds the pirq */
	assert_string_equal(x->h.calls, "msi(7,0000:03:00.0,0,0)=50 ");
	assert_true(msi_on_in_hw(x->e->f[0]));
	assert_int_equal(pvpci_irq_xen_in_use(x->a), 1);
	x->h.calls[0] = 0;
	op = run(x->e, 0, PVPCI_XEN_PCI_OP_disable_msi, 0, 0);
	assert_int_equal(op.err, PVPCI_ERR_success);
	assert_false(msi_on_in_hw(x->e->f[0]));
	assert_string_equal(x->h.calls, "unmap(7,50) ");
	/* Disabled already: nothing more to give back. */
	op = run(x->e, 0, PVPCI_XEN_PCI_OP_disable_msi, 0, 0);
	assert_string_equal(x->h.calls, "unmap(7,50) ");
	xenv_free(x);
}
EVERY_MODE(msi)

/* Several messages of one MSI: refused before Xen is asked, hardware untouched. */
static void multi_msi(enum pvpci_topo_mode mode)
{
	struct xenv *x = xenv_new(mode, 0);
	struct pvpci_op op = run(x->e, 0, PVPCI_XEN_PCI_OP_enable_multi_msi, 0xdead, 4);

	assert_int_equal(op.err, PVPCI_ERR_op_failed);
	assert_int_equal(op.value, 0);
	assert_string_equal(x->h.calls, "");
	assert_false(msi_on_in_hw(x->e->f[0]));
	assert_true(logged(4, "0000:03:00.0: error enabling MSI for guest 7: err -95"));
	/* One message is still one MSI. */
	op = run(x->e, 0, PVPCI_XEN_PCI_OP_enable_multi_msi, 0xdead, 1);
	assert_int_equal(op.err, PVPCI_ERR_success);
	assert_int_equal(op.value, FX_PIRQ0);
	xenv_free(x);	/* the pciif's end gives it back */
}
EVERY_MODE(multi_msi)

static void msix_enable_disable(enum pvpci_topo_mode mode)
{
	static const uint16_t entries[] = { 2, 0, 5 };
	struct xenv *x = xenv_new(mode, 0);
	struct pvpci_op op = msix(x->e, 3, entries, 3);

	assert_int_equal(op.err, 0);
	assert_int_equal(op.value, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(op.msix_entries[i].vector, FX_PIRQ0 + i);
	assert_string_equal(x->h.calls, "msi(7,0000:03:00.0,2," TABLE ")=50 msi(7,0000:03:00.0,0," TABLE
					")=51 msi(7,0000:03:00.0,5," TABLE ")=52 ");
	assert_true(msix_on_in_hw(x->e->f[0]));
	x->h.calls[0] = 0;
	op = run(x->e, 0, PVPCI_XEN_PCI_OP_disable_msix, 0, 0);
	assert_int_equal(op.err, PVPCI_ERR_success);
	assert_string_equal(x->h.calls, "unmap(7,52) unmap(7,51) unmap(7,50) ");
	assert_false(msix_on_in_hw(x->e->f[0]));
	xenv_free(x);
}
EVERY_MODE(msix_enable_disable)

/* Xen refuses the second entry: the first is unmapped, the guest told
 * ENOSPC as Linux numbers it, the hardware untouched. */
static void msix_map_fails(enum pvpci_topo_mode mode)
{
	static const uint16_t entries[] = { 2, 0, 5 };
	struct xenv *x = xenv_new(mode, 0);
	struct pvpci_op op;

	x->h.fail_at = 2;
	x->h.fail_err = -ENOSPC;
	op = msix(x->e, 3, entries, 3);
	assert_int_equal(op.err, -L_ENOSPC);
	assert_string_equal(x->h.calls, "msi(7,0000:03:00.0,2," TABLE ")=50 msi(7,0000:03:00.0,0," TABLE
					")=-28 unmap(7,50) ");
	assert_false(msix_on_in_hw(x->e->f[0]));
	assert_int_equal(pvpci_irq_xen_in_use(x->a), 0);
	/* And then it works. */
	x->h.calls[0] = 0;
	op = msix(x->e, 1, entries, 1);
	assert_int_equal(op.err, 0);
	assert_int_equal(op.msix_entries[0].vector, FX_PIRQ0 + 1);
	xenv_free(x);
}
EVERY_MODE(msix_map_fails)

/* A pirq the page's 16-bit vector cannot carry: refused, given back. */
static void msix_pirq_too_big(enum pvpci_topo_mode mode)
{
	static const uint16_t entries[] = { 0, 1 };
	struct xenv *x = xenv_new(mode, 0);
	struct pvpci_op op;

	x->h.next_pirq = 0xffff;
	op = msix(x->e, 2, entries, 2);
	assert_int_equal(op.err, -L_ENOSPC);
	assert_int_equal(x->h.mapped, 0);
	assert_false(msix_on_in_hw(x->e->f[0]));
	xenv_free(x);
}
EVERY_MODE(msix_pirq_too_big)

/* Without the table's address Xen would take MSI-X for MSI: refused. */
static void no_table_address(struct fakedev *f)
{
	f->bars[0].addr = 0;
}

static void msix_no_table_base(enum pvpci_topo_mode mode)
{
	static const uint16_t entries[] = { 0 };
	struct xenv *x = calloc(1, sizeof(*x));
	struct env_opts o = { .irq = &pvpci_irq_xen_ops, .change_a = no_table_address };
	struct pvpci_op op;

	fake_hv_init(&x->h);
	assert_int_equal(pvpci_irq_xen_new(&x->h.hv, DOMID, 64, &x->a), 0);
	o.irq_ctx = x->a;
	x->e = env_new(mode, &o);
	op = msix(x->e, 1, entries, 1);
	assert_int_equal(op.err, -L_ENXIO);
	assert_string_equal(x->h.calls, "");
	xenv_free(x);
}
EVERY_MODE(msix_no_table_base)

/* A detach (unexport) and the guest's end (the pciif freed, as the
 * backend does when its frontend goes) turn the hardware off first, then
 * unmap. */
static void released_on_detach(enum pvpci_topo_mode mode)
{
	static const uint16_t entries[] = { 1, 3 };
	struct xenv *x = xenv_new(mode, 0);
	struct pvpci_op op = msix(x->e, 2, entries, 2);

	assert_int_equal(op.err, 0);
	x->h.calls[0] = 0;
	assert_int_equal(pvpci_pciif_unexport(x->e->p, &x->e->host[0]), 0);
	assert_string_equal(x->h.calls, "unmap(7,51) unmap(7,50) ");
	assert_false(msix_on_in_hw(x->e->f[0]));
	xenv_free(x);
}
EVERY_MODE(released_on_detach)

static void released_on_guest_end(enum pvpci_topo_mode mode)
{
	struct xenv *x = xenv_new(mode, 0);
	struct pvpci_op op = run(x->e, 0, PVPCI_XEN_PCI_OP_enable_msi, 0, 0);

	assert_int_equal(op.err, PVPCI_ERR_success);
	x->h.calls[0] = 0;
	pvpci_pciif_free(x->e->p);
	x->e->p = NULL;
	assert_string_equal(x->h.calls, "unmap(7,50) ");
	assert_false(msi_on_in_hw(x->e->f[0]));
	xenv_free(x);
}
EVERY_MODE(released_on_guest_end)

/* ---- the allocator alone ---- */

static void test_alone(void **state)
{
	static const struct pvpci_bdf host = { 0, 3, 0, 0 };
	static const uint16_t entries[] = { 0, 1, 2 };
	struct pvpci_irq_req req = { .host = &host, .msix = true, .n = 3, .entries = entries,
				     .table_base = 0xfeb00000 };
	struct fake_hv h;
	struct pvpci_irq_xen *a = (void *)1;
	uint32_t got[3], theirs = 7;

	(void)state;
	fake_hv_init(&h);
	assert_int_equal(pvpci_irq_xen_new(NULL, DOMID, 4, &a), -EINVAL);
	assert_int_equal(pvpci_irq_xen_new(&h.hv, DOMID, 0, &a), -EINVAL);
	assert_ptr_equal(a, (void *)1);
	assert_int_equal(pvpci_irq_xen_new(&h.hv, DOMID, 4, &a), 0);
	assert_int_equal(pvpci_irq_xen_ops.alloc(a, &req, got), 0);
	assert_int_equal(pvpci_irq_xen_in_use(a), 3);
	/* Only 1 of the 4 left. */
	req.n = 2;
	assert_int_equal(pvpci_irq_xen_ops.alloc(a, &req, got), -ENOSPC);
	req.n = 0;
	assert_int_equal(pvpci_irq_xen_ops.alloc(a, &req, got), -EINVAL);
	/* A number it did not map (the legacy interrupt's pirq, mapped by the
	 * toolstack) is never unmapped; nor one given back already. */
	h.calls[0] = 0;
	req.n = 1;
	pvpci_irq_xen_ops.release(a, &req, &theirs);
	pvpci_irq_xen_ops.release(a, &req, &got[1]);
	pvpci_irq_xen_ops.release(a, &req, &got[1]);
	assert_string_equal(h.calls, "unmap(7,51) ");
	/* Free unmaps what is left. */
	h.calls[0] = 0;
	pvpci_irq_xen_free(a);
	assert_int_equal(h.mapped, 0);
	assert_non_null(strstr(h.calls, "unmap(7,50)"));
	assert_non_null(strstr(h.calls, "unmap(7,52)"));
	pvpci_irq_xen_free(NULL);
}

/* Pirqs an earlier run mapped, taken over: nothing mapped for them, each
 * unmapped at its release or at free, only once; a number out already,
 * twice in one request or beyond the limit refused with nothing taken;
 * abandon leaves every one mapped, as a process's death does. */
static void test_adopt(void **state)
{
	static const struct pvpci_bdf host = { 0, 3, 0, 0 };
	struct pvpci_irq_req req = { .host = &host, .msix = true, .n = 2 };
	uint32_t theirs[2] = { 70, 71 }, dup[2] = { 72, 72 }, again[1] = { 71 }, got[1];
	struct fake_hv h;
	struct pvpci_irq_xen *a;

	(void)state;
	fake_hv_init(&h);
	assert_int_equal(pvpci_irq_xen_new(&h.hv, DOMID, 4, &a), 0);
	assert_int_equal(pvpci_irq_xen_ops.adopt(a, &req, theirs), 0);
	assert_string_equal(h.calls, "");
	assert_int_equal(pvpci_irq_xen_in_use(a), 2);
	assert_int_equal(pvpci_irq_xen_ops.adopt(a, &req, dup), -EEXIST);
	req.n = 1;
	assert_int_equal(pvpci_irq_xen_ops.adopt(a, &req, again), -EEXIST);
	req.n = 3;
	assert_int_equal(pvpci_irq_xen_ops.adopt(a, &req, (uint32_t[]){ 80, 81, 82 }), -ENOSPC);
	assert_int_equal(pvpci_irq_xen_in_use(a), 2);
	/* The one left is mapped as usual. */
	req = (struct pvpci_irq_req){ .host = &host, .n = 1 };
	assert_int_equal(pvpci_irq_xen_ops.alloc(a, &req, got), 0);
	req = (struct pvpci_irq_req){ .host = &host, .msix = true, .n = 2 };
	h.calls[0] = 0;
	h.mapped += 2;	/* the earlier run's, as Xen counts them */
	pvpci_irq_xen_ops.release(a, &req, theirs);
	pvpci_irq_xen_ops.release(a, &req, theirs);
	assert_string_equal(h.calls, "unmap(7,71) unmap(7,70) ");
	pvpci_irq_xen_free(a);
	assert_int_equal(h.mapped, 0);
	/* Abandoned: nothing unmapped. */
	assert_int_equal(pvpci_irq_xen_new(&h.hv, DOMID, 3, &a), 0);
	assert_int_equal(pvpci_irq_xen_ops.alloc(a, &(struct pvpci_irq_req){ .host = &host, .n = 1 }, got), 0);
	h.calls[0] = 0;
	pvpci_irq_xen_abandon(a);
	pvpci_irq_xen_abandon(NULL);
	assert_string_equal(h.calls, "");
	assert_int_equal(h.mapped, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msi),
		cmocka_unit_test(test_multi_msi),
		cmocka_unit_test(test_msix_enable_disable),
		cmocka_unit_test(test_msix_map_fails),
		cmocka_unit_test(test_msix_pirq_too_big),
		cmocka_unit_test(test_msix_no_table_base),
		cmocka_unit_test(test_released_on_detach),
		cmocka_unit_test(test_released_on_guest_end),
		cmocka_unit_test(test_alone),
		cmocka_unit_test(test_adopt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
