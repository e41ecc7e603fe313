/*
 * What a restarted backend needs to give a guest the view it had: the
 * guest view's text and file (lib/guestview.c), the engine's virtual
 * state taken and put back (pvpci_cs_virt_get / _set) and a function's
 * message interrupts taken over by another pciif (pvpci_pciif_intr_get /
 * _adopt).  Checked: the text reads back as written and nothing else
 * reads as a view; a file replaced whole, another function's refused,
 * no temporary file left; a fresh engine given the virtual state answers
 * every dword of the config space as the engine it came from, and a
 * state of another layout changes nothing; interrupts adopted are the
 * guest's to disable (the hardware's Enable off, the numbers given back),
 * and what cannot be adopted is refused with nothing taken.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "guestview.h"
#include "pciiftest.h"

static struct pvpci_guestview *view_new(void)
{
	struct pvpci_guestview *v = calloc(1, sizeof(*v));

	assert_non_null(v);
	v->bdf = (struct pvpci_bdf){ 0, 3, 0, 0 };
	v->virt.n = 2;
	v->virt.regs[0] = (struct pvpci_cs_virt_reg){ 0x004, 0x0146 };
	v->virt.regs[1] = (struct pvpci_cs_virt_reg){ 0x052, 0x8000 };
	v->virt.sizing = 0x41;
	v->virt.rom_enable = true;
	v->intr.msix = true;
	v->intr.n = 3;
	v->intr.irqs[0] = 32;
	v->intr.irqs[1] = 33;
	v->intr.irqs[2] = 4095;
	return v;
}

static void assert_same(const struct pvpci_guestview *a, const struct pvpci_guestview *b)
{
	assert_int_equal(pvpci_bdf_cmp(&a->bdf, &b->bdf), 0);
	assert_int_equal(a->virt.n, b->virt.n);
	for (size_t i = 0; i < a->virt.n; i++) {
		assert_int_equal(a->virt.regs[i].off, b->virt.regs[i].off);
		assert_int_equal(a->virt.regs[i].val, b->virt.regs[i].val);
	}
	assert_int_equal(a->virt.sizing, b->virt.sizing);
	assert_int_equal(a->virt.rom_enable, b->virt.rom_enable);
	assert_int_equal(a->intr.msi, b->intr.msi);
	assert_int_equal(a->intr.msix, b->intr.msix);
	assert_int_equal(a->intr.n, b->intr.n);
	assert_memory_equal(a->intr.irqs, b->intr.irqs, a->intr.n * sizeof(a->intr.irqs[0]));
}

static void test_text(void **state)
{
	struct pvpci_guestview *v = view_new(), *w = calloc(1, sizeof(*w));
	char text[4096], err[256];

	(void)state;
	assert_non_null(w);
	assert_true(pvpci_guestview_format(v, text, sizeof(text)) > 0);
	assert_string_equal(text, "pvpci-guest 1\nbdf 0000:03:00.0\nreg 0x004 0x146\nreg 0x052 0x8000\n"
				  "sizing 0x41\nrom 1\nintr msix 3 32 33 4095\n");
	assert_int_equal(pvpci_guestview_parse(text, w, err, sizeof(err)), 0);
	assert_same(v, w);
	assert_int_equal(pvpci_guestview_format(v, text, 40), -ENOSPC);
	v->intr = (struct pvpci_pciif_intr){ 0 };
	assert_true(pvpci_guestview_format(v, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "\nintr none\n"));
	assert_int_equal(pvpci_guestview_parse(text, w, err, sizeof(err)), 0);
	assert_same(v, w);
	free(v);
	free(w);
}

static void test_not_a_view(void **state)
{
	static const char *const bad[] = {
		"",
		"pvpci-guest 2\nbdf 0000:03:00.0\nsizing 0x00\nrom 0\nintr none\n",
		"pvpci-guest 1\nbdf 0000:03:00.0\nsizing 0x00\nrom 0\n",			/* cut short */
		"pvpci-guest 1\nbdf 0000:03:00.0\nsizing 0x00\nrom 0\nintr none",		/* no newline */
		"pvpci-guest 1\nbdf 0000:03:00.0\nsizing 0x80\nrom 0\nintr none\n",		/* no BAR 7 */
		"pvpci-guest 1\nbdf 0000:03:00.0\nsizing 0x00\nrom 2\nintr none\n",
		"pvpci-guest 1\nbdf 0000:03:00.0\nreg 0x1000 0\nsizing 0x00\nrom 0\nintr none\n",
		"pvpci-guest 1\nbdf 0000:03:00.0\nreg 0x004 0x100000000\nsizing 0x00\nrom 0\nintr none\n",
		"pvpci-guest 1\nbdf 0000:03:00.0\nsizing 0x00\nrom 0\nintr msi 0\n",
		"pvpci-guest 1\nbdf 0000:03:00.0\nsizing 0x00\nrom 0\nintr msi 2 32\n",
		"pvpci-guest 1\nbdf 0000:03:00.0\nsizing 0x00\nrom 0\nintr msi 1 32 33\n",
		"pvpci-guest 1\nbdf 0000:03:00.0\nsizing 0x00\nrom 0\nintr msix 129 1\n",
		"pvpci-guest 1\nbdf 0000:03:00.0\nsizing 0x00\nrom 0\nintr msi -1\n",
		"pvpci-guest 1\nbdf nothing\nsizing 0x00\nrom 0\nintr none\n",
		"pvpci-guest 1\nbdf 0000:03:00.0\nsizing 0x00\nrom 0\nintr none\nmore\n",
	};
	struct pvpci_guestview *w = calloc(1, sizeof(*w));
	char err[256];

	(void)state;
	assert_non_null(w);
	w->virt.n = 77;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (pvpci_guestview_parse(bad[i], w, err, sizeof(err)) != -EBADMSG)
			fail_msg("taken as a view: %s", bad[i]);
		assert_true(err[0] != '\0');
		assert_int_equal(w->virt.n, 77);	/* untouched */
	}
	free(w);
}

static void test_files(void **state)
{
	struct pvpci_guestview *v = view_new(), *w = calloc(1, sizeof(*w));
	char dir[] = "/tmp/pvpci-gv-XXXXXX", path[128], other[128], err[256];
	struct dirent *de;
	DIR *d;
	int n = 0;

	(void)state;
	assert_non_null(w);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(pvpci_guestview_load(dir, &v->bdf, w, err, sizeof(err)), -ENOENT);
	assert_int_equal(pvpci_guestview_save(dir, v, err, sizeof(err)), 0);
	v->intr.n = 1;
	assert_int_equal(pvpci_guestview_save(dir, v, err, sizeof(err)), 0);	/* replaced */
	assert_int_equal(pvpci_guestview_load(dir, &v->bdf, w, err, sizeof(err)), 0);
	assert_same(v, w);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 1);	/* no temporary file */
	/* Another function's view under this one's name. */
	snprintf(path, sizeof(path), "%s/0000:03:00.0.guest", dir);
	snprintf(other, sizeof(other), "%s/0000:04:00.0.guest", dir);
	assert_int_equal(rename(path, other), 0);
	assert_int_equal(pvpci_guestview_load(dir, &(struct pvpci_bdf){ 0, 4, 0, 0 }, w, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "holds the view of 0000:03:00.0"));
	assert_int_equal(pvpci_guestview_remove(dir, &(struct pvpci_bdf){ 0, 4, 0, 0 }), 0);
	assert_int_equal(pvpci_guestview_remove(dir, &(struct pvpci_bdf){ 0, 4, 0, 0 }), 0);
	assert_int_equal(rmdir(dir), 0);
	free(v);
	free(w);
}

/* Every dword of both engines' config space, the same. */
static void assert_same_view(struct pvpci_cs *a, struct pvpci_cs *b)
{
	for (unsigned off = 0; off < pvpci_cs_size(a); off += 4) {
		uint32_t va = 1, vb = 2;

		assert_int_equal(pvpci_cs_read(a, off, 4, &va), pvpci_cs_read(b, off, 4, &vb));
		if (va != vb)
			fail_msg("at 0x%03x: 0x%08x, then 0x%08x", off, va, vb);
	}
}

static void test_cs_virt(void **state)
{
	struct env *e = env_new(PVPCI_TOPO_VPCI, NULL);
	struct pvpci_cs_virt *v = calloc(1, sizeof(*v)), *bad = calloc(1, sizeof(*bad));
	struct pvpci_cs *fresh;
	uint32_t cmd, now;

	(void)state;
	assert_non_null(v);
	assert_non_null(bad);
	/* Virtual bits: Command's Parity Error Response and SERR (not the
	 * guest's in hardware), BAR 0 being sized, MSI's Enable. */
	cmd = cs_rd(e->cs[0], 4, 2);
	cs_wr(e->cs[0], 4, 2, cmd | 0x0140);
	cs_wr(e->cs[0], 0x10, 4, 0xffffffff);
	assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_enable_msi, 0, 0).err, 0);
	pvpci_cs_virt_get(e->cs[0], v);
	assert_true(v->n > 0);
	assert_int_equal(v->sizing, 0x01);
	fresh = cs_bind_with(e->f[0], NULL);
	now = cs_rd(fresh, 4, 2);
	assert_int_not_equal(now, cs_rd(e->cs[0], 4, 2));
	/* Another layout: nothing changes. */
	*bad = *v;
	bad->regs[bad->n++] = (struct pvpci_cs_virt_reg){ 0x0fe, 1 };
	assert_int_equal(pvpci_cs_virt_set(fresh, bad), -EINVAL);
	*bad = *v;
	bad->regs[0].val = 0xffffffffu;	/* Command: bits beyond its emulated ones */
	assert_int_equal(pvpci_cs_virt_set(fresh, bad), -EINVAL);
	assert_int_equal(cs_rd(fresh, 4, 2), now);
	assert_int_equal(pvpci_cs_virt_set(fresh, v), 0);
	assert_same_view(e->cs[0], fresh);
	pvpci_cs_free(fresh);
	assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_disable_msi, 0, 0).err, 0);
	env_free(e);
	free(v);
	free(bad);
}

static void test_intr_adopt(void **state)
{
	struct env *e = env_new(PVPCI_TOPO_VPCI, NULL);
	struct pvpci_pciif_cfg cfg = { .mode = PVPCI_TOPO_VPCI, .domid = DOMID, .irq = &pvpci_irq_local_ops };
	struct pvpci_pciif_intr in, got;
	struct pvpci_irq_local *a2;
	struct pvpci_pciif *p2;
	struct pvpci_bdf g;
	struct pvpci_op op;
	char err[256];

	(void)state;
	op = run(e, 0, PVPCI_XEN_PCI_OP_enable_msi, 0, 0);
	assert_int_equal(op.err, 0);
	assert_int_equal(pvpci_pciif_intr_get(e->p, &e->host[0], &in), 0);
	assert_true(in.msi);
	assert_false(in.msix);
	assert_int_equal(in.n, 1);
	assert_int_equal(in.irqs[0], op.value);
	assert_int_equal(pvpci_pciif_intr_get(e->p, &e->host[1], &got), 0);
	assert_false(got.msi || got.msix);
	assert_int_equal(pvpci_pciif_intr_get(e->p, &(struct pvpci_bdf){ 0, 9, 0, 0 }, &got), -ENOENT);
	/* Another backend's pciif takes A over, the hardware as it is. */
	assert_int_equal(pvpci_irq_local_new(IRQ0, 64, &a2), 0);
	cfg.irq_ctx = a2;
	assert_int_equal(pvpci_pciif_new(&cfg, &p2), 0);
	assert_int_equal(pvpci_pciif_export(p2, &e->host[0], 5, e->cs[0], &g, err, sizeof(err)), 0);
	got = in;
	got.msix = true;
	assert_int_equal(pvpci_pciif_intr_adopt(p2, &e->host[0], &got), -EINVAL);
	got = in;
	got.n = 0;
	assert_int_equal(pvpci_pciif_intr_adopt(p2, &e->host[0], &got), -EINVAL);
	assert_int_equal(pvpci_irq_local_in_use(a2), 0);
	assert_int_equal(pvpci_pciif_intr_adopt(p2, &e->host[0], &(struct pvpci_pciif_intr){ 0 }), 0);
	assert_int_equal(pvpci_pciif_intr_adopt(p2, &e->host[0], &in), 0);
	assert_int_equal(pvpci_irq_local_in_use(a2), 1);
	assert_int_equal(pvpci_pciif_intr_adopt(p2, &e->host[0], &in), -EBUSY);
	assert_int_equal(pvpci_pciif_intr_get(p2, &e->host[0], &got), 0);
	assert_true(got.msi);
	assert_int_equal(got.irqs[0], in.irqs[0]);
	/* Its guest disables it there: off in hardware, the number given back. */
	op = op_at(&g, PVPCI_XEN_PCI_OP_disable_msi);
	pvpci_pciif_do_op(p2, &op);
	assert_int_equal(op.err, 0);
	assert_false(msi_on_in_hw(e->f[0]));
	assert_int_equal(pvpci_irq_local_in_use(a2), 0);
	pvpci_pciif_free(p2);
	pvpci_irq_local_free(a2);
	/* The first pciif's own number goes with it (env_free checks). */
	assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_disable_msi, 0, 0).err, 0);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_not_a_view),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_cs_virt),
		cmocka_unit_test(test_intr_adopt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
