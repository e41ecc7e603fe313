/*
 * The backend's side of the PV PCI protocol, in both topologies: every
 * op with good and bad arguments and every error code, the MSI / MSI-X
 * rules (exclusive, no re-enable, disable without enable, memory decode,
 * entries), interrupts given back on disable, unexport and free; serve()
 * touching nothing of the page but err, value and the vectors, working on
 * its own copy while a "frontend" rewrites the op; the AER handshake with
 * bad and rewritten answers.  Against recording fake devices.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "pciiftest.h"

/* ---- config access ---- */

static void conf_rw(enum pvpci_topo_mode mode)
{
	struct env *e = env_new(mode, NULL);
	struct pvpci_op op;

	for (int i = 0; i < 2; i++) {
		op = conf(e, i, PVPCI_XEN_PCI_OP_conf_read, 0, 4, 0);
		assert_int_equal(op.err, PVPCI_ERR_success);
		assert_int_equal(op.value, 0x56781234);
		op = conf(e, i, PVPCI_XEN_PCI_OP_conf_read, 2, 2, 0);
		assert_int_equal(op.err, PVPCI_ERR_success);
		assert_int_equal(op.value, 0x5678);
		op = conf(e, i, PVPCI_XEN_PCI_OP_conf_write, 0x0c, 1, 0x10);
		assert_int_equal(op.err, PVPCI_ERR_success);
		assert_int_equal(fake_count_write(e->f[i], 0x0c, 1, 0x10), 1);
		assert_int_equal(fake_get(e->f[i], 0x0c, 1), 0x10);
		op = conf(e, i, PVPCI_XEN_PCI_OP_conf_read, 0x0c, 1, 0);
		assert_int_equal(op.value, 0x10);
	}
	/* A's capability pointer as the guest sees it. */
	assert_int_equal(conf(e, 0, PVPCI_XEN_PCI_OP_conf_read, 0x34, 1, 0).value, PM);

	/* Bad offsets and sizes: invalid_offset, value 0, nothing touched. */
	static const int32_t bad[][2] = {
		{ -4, 4 }, { 2, 4 }, { 1, 2 }, { 0, 3 }, { 0, 0 }, { 0, 8 }, { 0, -1 },
		{ 256, 1 }, { 254, 4 }, { 0x7ffffffc, 4 }, { INT32_MIN, 4 },
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		for (int i = 0; i < 2; i++) {
			size_t r0 = e->f[i]->hd.n_reads;

			op = conf(e, i, PVPCI_XEN_PCI_OP_conf_read, bad[k][0], bad[k][1], 0x1234);
			assert_int_equal(op.err, PVPCI_ERR_invalid_offset);
			assert_int_equal(op.value, 0);
			op = conf(e, i, PVPCI_XEN_PCI_OP_conf_write, bad[k][0], bad[k][1], 0xffffffff);
			assert_int_equal(op.err, PVPCI_ERR_invalid_offset);
			assert_int_equal(e->f[i]->hd.n_reads, r0);
		}
	assert_int_equal(e->f[0]->nlog, 1);
	assert_int_equal(e->f[1]->nlog, 1);
	env_free(e);
}
EVERY_MODE(conf_rw)

static void not_found(enum pvpci_topo_mode mode)
{
	struct env *e = env_new(mode, NULL);
	struct pvpci_bdf other = { 0, 9, 9, 0 }, hostaddr = e->host[0];
	static const uint32_t cmds[] = { 0, 1, 2, 3, 4, 5, 6, 10, 99 };
	struct pvpci_op op;

	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
		op = op_at(&other, cmds[k]);
		pvpci_pciif_do_op(e->p, &op);
		assert_int_equal(op.err, PVPCI_ERR_dev_not_found);
		assert_int_equal(op.value, 0x5a5a5a5a);
	}
	/* Wider than an address: not wrapped onto a device. */
	op = op_at(&e->guest[0], PVPCI_XEN_PCI_OP_conf_read);
	op.domain += 0x10000;
	pvpci_pciif_do_op(e->p, &op);
	assert_int_equal(op.err, PVPCI_ERR_dev_not_found);
	op = op_at(&e->guest[0], PVPCI_XEN_PCI_OP_conf_read);
	op.devfn += 0x100;
	pvpci_pciif_do_op(e->p, &op);
	assert_int_equal(op.err, PVPCI_ERR_dev_not_found);
	op = op_at(&e->guest[0], PVPCI_XEN_PCI_OP_conf_read);
	op.bus += 0x100;
	pvpci_pciif_do_op(e->p, &op);
	assert_int_equal(op.err, PVPCI_ERR_dev_not_found);
	/* slot: B (host function 1) is function 0 of its slot; function 1
	 * there, and bus 1, are nobody's. */
	if (mode == PVPCI_TOPO_SLOT) {
		static const struct pvpci_bdf empty[] = { { 0, 0, 0, 1 }, { 0, 0, 5, 1 }, { 0, 1, 0, 0 } };

		for (size_t k = 0; k < sizeof(empty) / sizeof(empty[0]); k++) {
			op = op_at(&empty[k], PVPCI_XEN_PCI_OP_conf_read);
			op.offset = 0;
			op.size = 4;
			pvpci_pciif_do_op(e->p, &op);
			assert_int_equal(op.err, PVPCI_ERR_dev_not_found);
		}
	}
	/* vpci, slot: the host's address means nothing to the guest. */
	op = op_at(&hostaddr, PVPCI_XEN_PCI_OP_conf_read);
	op.offset = 0;
	op.size = 4;
	pvpci_pciif_do_op(e->p, &op);
	assert_int_equal(op.err, mode != PVPCI_TOPO_PASSTHROUGH ? PVPCI_ERR_dev_not_found : PVPCI_ERR_success);
	/* Unexported: gone. */
	assert_int_equal(pvpci_pciif_unexport(e->p, &e->host[1]), 0);
	assert_int_equal(pvpci_pciif_unexport(e->p, &e->host[1]), -ENOENT);
	op = conf(e, 1, PVPCI_XEN_PCI_OP_conf_read, 0, 4, 0);
	assert_int_equal(op.err, PVPCI_ERR_dev_not_found);
	env_free(e);
}
EVERY_MODE(not_found)

static void not_implemented(enum pvpci_topo_mode mode)
{
	struct env *e = env_new(mode, NULL);
	/* The aer_* commands run the other way; 11 and up do not exist. */
	static const uint32_t cmds[] = { 6, 7, 8, 9, 11, 12, 0x80000000u, 0xffffffffu };

	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
		struct pvpci_op op = run(e, 0, cmds[k], 0x1234, 3);

		assert_int_equal(op.err, PVPCI_ERR_not_implemented);
		assert_int_equal(op.value, 0x1234);
	}
	assert_int_equal(e->f[0]->nlog, 0);
	assert_int_equal(in_use(e), 0);
	env_free(e);
}
EVERY_MODE(not_implemented)

/* ---- MSI ---- */

/* Disable on A with cmd: success, value 0 (no legacy interrupt), every
 * number back, hardware off; then again, when there is nothing to
 * disable: the same answer and no device access at all. */
static void disable_twice(struct env *e, uint32_t cmd, bool (*on_in_hw)(const struct fakedev *))
{
	for (int k = 0; k < 2; k++) {
		struct pvpci_op op;

		e->f[0]->nlog = 0;
		op = run(e, 0, cmd, 0xdead, 0);
		assert_int_equal(op.err, PVPCI_ERR_success);
		assert_int_equal(op.value, 0);
		assert_int_equal(in_use(e), 0);
		assert_false(on_in_hw(e->f[0]));
		if (k)
			assert_int_equal(e->f[0]->nlog, 0);
	}
}

static void msi(enum pvpci_topo_mode mode)
{
	struct env *e = env_new(mode, NULL);
	struct pvpci_op op;

	op = run(e, 0, PVPCI_XEN_PCI_OP_enable_msi, 0xdead, 0);
	assert_int_equal(op.err, PVPCI_ERR_success);
	assert_int_equal(op.value, IRQ0);
	assert_int_equal(in_use(e), 1);
	assert_true(msi_on_in_hw(e->f[0]));
	assert_int_equal(fake_get(e->f[0], MSI + 2, 2) & 0x70, 0);	/* one vector */
	/* The guest reads it back on. */
	assert_int_equal(conf(e, 0, PVPCI_XEN_PCI_OP_conf_read, MSI + 2, 2, 0).value & 1, 1);

	/* Again: refused, value 0, nothing more handed out. */
	op = run(e, 0, PVPCI_XEN_PCI_OP_enable_msi, 0xdead, 0);
	assert_int_equal(op.err, PVPCI_ERR_op_failed);
	assert_int_equal(op.value, 0);
	assert_int_equal(in_use(e), 1);
	assert_true(logged(4, "0000:03:00.0: error enabling MSI for guest 7: err -114"));
	op = run(e, 0, PVPCI_XEN_PCI_OP_enable_multi_msi, 0xdead, 2);
	assert_int_equal(op.err, PVPCI_ERR_op_failed);
	assert_int_equal(op.value, 0);
	assert_int_equal(in_use(e), 1);

	disable_twice(e, PVPCI_XEN_PCI_OP_disable_msi, msi_on_in_hw);
	assert_int_equal(conf(e, 0, PVPCI_XEN_PCI_OP_conf_read, MSI + 2, 2, 0).value & 1, 0);

	/* Re-enable after disable: the lowest number again. */
	op = run(e, 0, PVPCI_XEN_PCI_OP_enable_msi, 0, 0);
	assert_int_equal(op.err, PVPCI_ERR_success);
	assert_int_equal(op.value, IRQ0);

	/* B has no MSI capability: refused (ENODEV), its number given back. */
	op = run(e, 1, PVPCI_XEN_PCI_OP_enable_msi, 0xdead, 0);
	assert_int_equal(op.err, PVPCI_ERR_op_failed);
	assert_int_equal(op.value, 0);
	assert_int_equal(in_use(e), 1);
	assert_int_equal(e->f[1]->nlog, 0);
	assert_true(logged(4, "0000:02:05.1: error enabling MSI for guest 7: err -19"));
	op = run(e, 1, PVPCI_XEN_PCI_OP_disable_msi, 0xdead, 0);
	assert_int_equal(op.err, PVPCI_ERR_success);
	env_free(e);	/* frees with MSI on: in_use back to 0 (checked there) */
}
EVERY_MODE(msi)

static void multi_msi(enum pvpci_topo_mode mode)
{
	struct env *e = env_new(mode, NULL);
	uint32_t hole[3], mid = IRQ0 + 1;
	struct pvpci_op op;

	/* 100..102 out, 101 back: no run of 2 below 103. */
	assert_int_equal(pvpci_irq_local_ops.alloc(e->irq, &(struct pvpci_irq_req){ .host = &e->host[1], .n = 3 },
						   hole), 0);
	pvpci_irq_local_ops.release(e->irq, &(struct pvpci_irq_req){ .host = &e->host[1], .n = 1 }, &mid);

	static const uint32_t bad[] = { 0, 33, 0xffffffffu, 16 /* more than MMC's 8 */ };
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		op = run(e, 0, PVPCI_XEN_PCI_OP_enable_multi_msi, 0xdead, bad[k]);
		assert_int_equal(op.err, PVPCI_ERR_op_failed);
		assert_int_equal(op.value, 0);
		assert_int_equal(in_use(e), 2);
		assert_false(msi_on_in_hw(e->f[0]));
	}
	assert_int_equal(e->f[0]->nlog, 0);

	op = run(e, 0, PVPCI_XEN_PCI_OP_enable_multi_msi, 0xdead, 3);
	assert_int_equal(op.err, PVPCI_ERR_success);
	assert_int_equal(op.value, IRQ0 + 3);	/* 103, 104, 105 */
	assert_int_equal(in_use(e), 5);
	assert_true(msi_on_in_hw(e->f[0]));
	assert_int_equal(fake_get(e->f[0], MSI + 2, 2) & 0x70, 0x20);	/* 3 rounds up to 4 */
	op = run(e, 0, PVPCI_XEN_PCI_OP_enable_multi_msi, 0xdead, 1);
	assert_int_equal(op.err, PVPCI_ERR_op_failed);
	op = run(e, 0, PVPCI_XEN_PCI_OP_enable_msix, 1, 0);
	assert_int_equal(op.err, -L_ENXIO);
	op = run(e, 0, PVPCI_XEN_PCI_OP_disable_msi, 0, 0);
	assert_int_equal(op.err, PVPCI_ERR_success);
	assert_int_equal(in_use(e), 2);

	/* All 8 the function is capable of, above the lone 101. */
	op = run(e, 0, PVPCI_XEN_PCI_OP_enable_multi_msi, 0xdead, 8);
	assert_int_equal(op.err, PVPCI_ERR_success);
	assert_int_equal(op.value, IRQ0 + 3);
	assert_int_equal(fake_get(e->f[0], MSI + 2, 2) & 0x70, 0x30);
	assert_int_equal(in_use(e), 10);
	op = run(e, 0, PVPCI_XEN_PCI_OP_disable_msi, 0, 0);
	assert_int_equal(in_use(e), 2);

	/* Not enough numbers left for a run: refused, hardware untouched. */
	{
		struct env_opts o = { .nirq = 2 };
		struct env *s = env_new(mode, &o);

		op = run(s, 0, PVPCI_XEN_PCI_OP_enable_multi_msi, 0xdead, 4);
		assert_int_equal(op.err, PVPCI_ERR_op_failed);
		assert_int_equal(op.value, 0);
		assert_int_equal(s->f[0]->nlog, 0);
		assert_true(logged(4, "0000:03:00.0: error enabling MSI for guest 7: err -28"));
		op = run(s, 0, PVPCI_XEN_PCI_OP_enable_multi_msi, 0xdead, 2);
		assert_int_equal(op.err, PVPCI_ERR_success);
		assert_int_equal(op.value, IRQ0);
		env_free(s);
	}
	pvpci_irq_local_ops.release(e->irq, &(struct pvpci_irq_req){ .host = &e->host[1], .n = 3 }, hole);
	env_free(e);
}
EVERY_MODE(multi_msi)

/* ---- MSI-X ---- */

static void msix_ok(enum pvpci_topo_mode mode)
{
	struct env *e = env_new(mode, NULL);
	static const uint16_t ent[] = { 5, 0, 15 };
	struct pvpci_op op;

	op = msix(e, 3, ent, 3);
	assert_int_equal(op.err, 0);
	assert_int_equal(op.value, 0);
	assert_int_equal(op.msix_entries[0].vector, IRQ0);
	assert_int_equal(op.msix_entries[1].vector, IRQ0 + 1);
	assert_int_equal(op.msix_entries[2].vector, IRQ0 + 2);
	assert_int_equal(op.msix_entries[0].entry, 5);		/* entries as sent */
	assert_int_equal(op.msix_entries[3].vector, 0x5a5a);	/* past nvec: untouched */
	assert_int_equal(in_use(e), 3);
	assert_true(msix_on_in_hw(e->f[0]));
	assert_int_equal(conf(e, 0, PVPCI_XEN_PCI_OP_conf_read, MSIX + 2, 2, 0).value, 0x800f);

	/* Again: EALREADY, value as sent. */
	op = msix(e, 2, ent, 2);
	assert_int_equal(op.err, -L_EALREADY);
	assert_int_equal(op.value, 2);
	assert_int_equal(op.msix_entries[0].vector, 0x5a5a);
	assert_int_equal(in_use(e), 3);
	/* MSI while MSI-X is on: refused. */
	assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_enable_msi, 0, 0).err, PVPCI_ERR_op_failed);
	assert_int_equal(in_use(e), 3);

	disable_twice(e, PVPCI_XEN_PCI_OP_disable_msix, msix_on_in_hw);

	/* The whole table. */
	uint16_t all[16];
	for (uint16_t k = 0; k < 16; k++)
		all[k] = (uint16_t)(15 - k);
	op = msix(e, 16, all, 16);
	assert_int_equal(op.err, 0);
	assert_int_equal(op.msix_entries[15].vector, IRQ0 + 15);
	assert_int_equal(in_use(e), 16);
	/* Unexport gives everything back and turns MSI-X off. */
	assert_int_equal(pvpci_pciif_unexport(e->p, &e->host[0]), 0);
	assert_int_equal(in_use(e), 0);
	assert_false(msix_on_in_hw(e->f[0]));
	assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_disable_msix, 0, 0).err, PVPCI_ERR_dev_not_found);
	env_free(e);
}
EVERY_MODE(msix_ok)

static void msix_refused(enum pvpci_topo_mode mode)
{
	struct env *e = env_new(mode, NULL);
	static const uint16_t ent[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	static const uint16_t dup[] = { 3, 7, 3 }, out[] = { 0, 16 }, far[] = { 0xffff };
	struct pvpci_op op;

	/* Checked before anything else: value stays as sent. */
	op = msix(e, 129, ent, 17);
	assert_int_equal(op.err, -L_EINVAL);
	assert_int_equal(op.value, 129);
	op = msix(e, 0xffffffffu, ent, 1);
	assert_int_equal(op.err, -L_EINVAL);
	assert_int_equal(op.value, 0xffffffffu);
	hw_memory(e->f[0], false);
	op = msix(e, 1, ent, 1);
	assert_int_equal(op.err, -L_ENXIO);
	assert_int_equal(op.value, 1);
	/* The guest's own Command does not count, only the hardware's. */
	assert_int_equal(conf(e, 0, PVPCI_XEN_PCI_OP_conf_write, 4, 2, 0x0006).err, 0);
	hw_memory(e->f[0], false);
	op = msix(e, 1, ent, 1);
	assert_int_equal(op.err, -L_ENXIO);
	hw_memory(e->f[0], true);
	e->f[0]->nlog = 0;

	/* What the PCI core checks: value becomes the error. */
	op = msix(e, 0, ent, 0);
	assert_int_equal(op.err, -L_ERANGE);
	assert_int_equal(op.value, (uint32_t)-L_ERANGE);
	op = msix(e, 17, ent, 17);			/* more than the table's 16 */
	assert_int_equal(op.err, -L_EINVAL);
	assert_int_equal(op.value, (uint32_t)-L_EINVAL);
	op = msix(e, 2, out, 2);			/* entry 16 of 16 */
	assert_int_equal(op.err, -L_EINVAL);
	op = msix(e, 1, far, 1);
	assert_int_equal(op.err, -L_EINVAL);
	op = msix(e, 3, dup, 3);
	assert_int_equal(op.err, -L_EINVAL);
	assert_int_equal(op.value, (uint32_t)-L_EINVAL);
	assert_int_equal(op.msix_entries[0].vector, 0x5a5a);
	assert_int_equal(in_use(e), 0);
	assert_int_equal(e->f[0]->nlog, 0);
	assert_false(msix_on_in_hw(e->f[0]));
	assert_true(logged(4, "0000:03:00.0: error enabling MSI-X for guest 7: err -22"));

	/* B has no MSI-X. */
	op = run(e, 1, PVPCI_XEN_PCI_OP_enable_msix, 1, 0);
	assert_int_equal(op.err, -L_EINVAL);
	assert_int_equal(op.value, (uint32_t)-L_EINVAL);
	assert_int_equal(e->f[1]->nlog, 0);

	/* MSI on through the op: ENXIO, value as sent. */
	assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_enable_msi, 0, 0).err, 0);
	op = msix(e, 2, ent, 2);
	assert_int_equal(op.err, -L_ENXIO);
	assert_int_equal(op.value, 2);
	assert_int_equal(in_use(e), 1);
	assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_disable_msi, 0, 0).err, 0);

	/* MSI on in hardware behind the ops' back: the engine refuses (EBUSY)
	 * and the numbers come back. */
	fake_put(e->f[0], MSI + 2, 2, fake_get(e->f[0], MSI + 2, 2) | 1);
	op = msix(e, 2, ent, 2);
	assert_int_equal(op.err, -L_EBUSY);
	assert_int_equal(op.value, (uint32_t)-L_EBUSY);
	assert_int_equal(in_use(e), 0);
	assert_false(msix_on_in_hw(e->f[0]));
	env_free(e);

	/* Out of numbers: ENOSPC, hardware untouched. */
	struct env_opts o = { .nirq = 2 };
	e = env_new(mode, &o);
	op = msix(e, 3, ent, 3);
	assert_int_equal(op.err, -L_ENOSPC);
	assert_int_equal(op.value, (uint32_t)-L_ENOSPC);
	assert_int_equal(in_use(e), 0);
	assert_int_equal(e->f[0]->nlog, 0);
	op = msix(e, 2, ent, 2);
	assert_int_equal(op.err, 0);
	env_free(e);

	/* Numbers wider than the page's 16-bit vector: refused, given back. */
	{
		struct pvpci_irq_local *wide;
		struct pvpci_pciif_cfg cfg = { .mode = mode, .domid = DOMID, .irq = &pvpci_irq_local_ops,
					       .log = rec_log };
		struct fakedev *f = dev_a();
		struct pvpci_cs_opts co = { 0 };
		struct pvpci_cs *cs = cs_bind_with(f, &co);
		struct pvpci_pciif *p;
		struct pvpci_bdf g;

		hw_memory(f, true);
		assert_int_equal(pvpci_irq_local_new(0xfffe, 8, &wide), 0);
		cfg.irq_ctx = wide;
		assert_int_equal(pvpci_pciif_new(&cfg, &p), 0);
		assert_int_equal(pvpci_pciif_export(p, &f->hd.bdf, PVPCI_VSLOT_ANY, cs, &g, NULL, 0), 0);
		op = op_at(&g, PVPCI_XEN_PCI_OP_enable_msix);
		op.value = 3;
		for (uint16_t k = 0; k < 3; k++)
			op.msix_entries[k].entry = k;
		pvpci_pciif_do_op(p, &op);
		assert_int_equal(op.err, -L_ENOSPC);
		assert_int_equal(pvpci_irq_local_in_use(wide), 0);
		op.value = 2;
		pvpci_pciif_do_op(p, &op);
		assert_int_equal(op.err, 0);
		assert_int_equal(op.msix_entries[1].vector, 0xffff);
		pvpci_pciif_free(p);
		assert_int_equal(pvpci_irq_local_in_use(wide), 0);
		assert_false(msix_on_in_hw(f));
		pvpci_irq_local_free(wide);
		pvpci_cs_free(cs);
		free(f);
	}
}
EVERY_MODE(msix_refused)

static void no_irq_ops(enum pvpci_topo_mode mode)
{
	struct env_opts o = { .no_irq = true };
	struct env *e = env_new(mode, &o);
	static const uint16_t ent[] = { 0 };
	struct pvpci_op op;

	op = run(e, 0, PVPCI_XEN_PCI_OP_enable_msi, 0xdead, 0);
	assert_int_equal(op.err, PVPCI_ERR_op_failed);
	assert_int_equal(op.value, 0);
	op = run(e, 0, PVPCI_XEN_PCI_OP_enable_multi_msi, 0xdead, 2);
	assert_int_equal(op.err, PVPCI_ERR_op_failed);
	op = msix(e, 1, ent, 1);
	assert_int_equal(op.err, PVPCI_ERR_op_failed);	/* -EIO: the same number */
	assert_int_equal(op.err, -L_EIO);
	assert_int_equal(e->f[0]->nlog, 0);
	assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_disable_msix, 0, 0).err, 0);
	env_free(e);
}
EVERY_MODE(no_irq_ops)

static void free_releases(enum pvpci_topo_mode mode)
{
	struct env *e = env_new(mode, NULL);
	struct fakedev *f = e->f[0];

	assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_enable_multi_msi, 0, 4).err, 0);
	assert_int_equal(in_use(e), 4);
	pvpci_pciif_free(e->p);
	e->p = NULL;
	assert_int_equal(in_use(e), 0);
	assert_false(msi_on_in_hw(f));
	env_free(e);
}
EVERY_MODE(free_releases)

/* ---- verbose ---- */

static void verbose_log(enum pvpci_topo_mode mode)
{
	struct env_opts o = { .verbose = true };
	struct env *e = env_new(mode, &o);
	static const uint16_t ent[] = { 4, 9 };

	conf(e, 0, PVPCI_XEN_PCI_OP_conf_read, 0, 4, 0);
	assert_true(logged(7, "0000:03:00.0: read 4 bytes at 0x0 = 56781234"));
	conf(e, 0, PVPCI_XEN_PCI_OP_conf_write, 4, 2, 7);
	assert_true(logged(7, "0000:03:00.0: write request 2 bytes at 0x4 = 7"));
	conf(e, 1, PVPCI_XEN_PCI_OP_conf_read, 2, 4, 0);
	assert_true(logged(7, "0000:02:05.1: read 4 bytes at 0x2 = 0"));
	run(e, 0, PVPCI_XEN_PCI_OP_enable_msi, 0, 0);
	assert_true(logged(7, "0000:03:00.0: enable MSI"));
	assert_true(logged(7, "0000:03:00.0: MSI: 100"));
	run(e, 0, PVPCI_XEN_PCI_OP_disable_msi, 0, 0);
	assert_true(logged(7, "0000:03:00.0: disable MSI"));
	assert_true(logged(7, "0000:03:00.0: MSI: 0"));
	run(e, 0, PVPCI_XEN_PCI_OP_enable_multi_msi, 0, 2);
	assert_true(logged(7, "0000:03:00.0: enable MSI (2 vectors)"));
	run(e, 0, PVPCI_XEN_PCI_OP_disable_msi, 0, 0);
	hw_memory(e->f[0], true);
	msix(e, 2, ent, 2);
	assert_true(logged(7, "0000:03:00.0: enable MSI-X"));
	assert_true(logged(7, "0000:03:00.0: MSI-X[0]: 100"));
	assert_true(logged(7, "0000:03:00.0: MSI-X[1]: 101"));
	run(e, 0, PVPCI_XEN_PCI_OP_disable_msix, 0, 0);
	assert_true(logged(7, "0000:03:00.0: disable MSI-X"));
	assert_true(logged(7, "0000:03:00.0: MSI-X: 0"));
	env_free(e);

	/* Not verbose: no debug line, failures still warned. */
	e = env_new(mode, NULL);
	conf(e, 0, PVPCI_XEN_PCI_OP_conf_read, 0, 4, 0);
	run(e, 1, PVPCI_XEN_PCI_OP_enable_msi, 0, 0);
	assert_null(strstr(logbuf, "7 "));
	assert_true(logged(4, "0000:02:05.1: error enabling MSI for guest 7: err -19"));
	env_free(e);
}
EVERY_MODE(verbose_log)

/* ---- serve ---- */

static void serve(enum pvpci_topo_mode mode)
{
	struct env *e = env_new(mode, NULL);
	uint8_t *pg = page_new(), *want = malloc(PAGE);
	struct pvpci_sharedinfo *sh = (void *)pg, *w = (void *)want;

	/* Flag clear: nothing happens, not a byte changes. */
	sh_op(sh, &e->guest[0], PVPCI_XEN_PCI_OP_conf_write, 0x0c, 1, 0x20);
	sh->flags = ~(uint32_t)PVPCI_XEN_PCIF_active;
	memcpy(want, pg, PAGE);
	assert_int_equal(pvpci_pciif_serve(e->p, sh), 0);
	assert_memory_equal(pg, want, PAGE);
	assert_int_equal(e->f[0]->nlog, 0);

	/* A read: err and value written, the flag cleared, the rest as it was
	 * (other flag bits included). */
	sh_op(sh, &e->guest[0], PVPCI_XEN_PCI_OP_conf_read, 0, 4, 0x99);
	sh->flags = 0xa5a5a5a5u | PVPCI_XEN_PCIF_active;
	memcpy(want, pg, PAGE);
	w->op.err = 0;
	w->op.value = 0x56781234;
	w->flags &= ~(uint32_t)PVPCI_XEN_PCIF_active;
	assert_int_equal(pvpci_pciif_serve(e->p, sh), 1);
	assert_memory_equal(pg, want, PAGE);
	assert_int_equal(pvpci_pciif_serve(e->p, sh), 0);

	/* A bad read. */
	sh_op(sh, &e->guest[1], PVPCI_XEN_PCI_OP_conf_read, 3, 2, 0x99);
	sh->flags |= PVPCI_XEN_PCIF_active;
	memcpy(want, pg, PAGE);
	w->op.err = PVPCI_ERR_invalid_offset;
	w->op.value = 0;
	w->flags &= ~(uint32_t)PVPCI_XEN_PCIF_active;
	assert_int_equal(pvpci_pciif_serve(e->p, sh), 1);
	assert_memory_equal(pg, want, PAGE);

	/* enable_msix: vectors of the nvec entries, nothing past them, and
	 * the entries as the frontend wrote them. */
	sh_op(sh, &e->guest[0], PVPCI_XEN_PCI_OP_enable_msix, 0, 0, 2);
	sh->op.msix_entries[0].entry = 9;
	sh->op.msix_entries[1].entry = 2;
	sh->flags |= PVPCI_XEN_PCIF_active;
	memcpy(want, pg, PAGE);
	w->op.err = 0;
	w->op.value = 0;
	w->op.msix_entries[0].vector = IRQ0;
	w->op.msix_entries[1].vector = IRQ0 + 1;
	w->flags &= ~(uint32_t)PVPCI_XEN_PCIF_active;
	assert_int_equal(pvpci_pciif_serve(e->p, sh), 1);
	assert_memory_equal(pg, want, PAGE);

	/* A failed one writes no vector. */
	sh->op.value = 2;
	sh->flags |= PVPCI_XEN_PCIF_active;
	sh->op.msix_entries[0].vector = 0x1111;
	memcpy(want, pg, PAGE);
	w->op.err = -L_EALREADY;
	w->op.value = 2;
	w->flags &= ~(uint32_t)PVPCI_XEN_PCIF_active;
	assert_int_equal(pvpci_pciif_serve(e->p, sh), 1);
	assert_memory_equal(pg, want, PAGE);
	assert_int_equal(run(e, 0, PVPCI_XEN_PCI_OP_disable_msix, 0, 0).err, 0);
	sh->op.value = 3;
	sh->op.msix_entries[2].entry = 9;	/* a duplicate */
	sh->flags |= PVPCI_XEN_PCIF_active;
	memcpy(want, pg, PAGE);
	w->op.err = -L_EINVAL;
	w->op.value = (uint32_t)-L_EINVAL;
	w->flags &= ~(uint32_t)PVPCI_XEN_PCIF_active;
	assert_int_equal(pvpci_pciif_serve(e->p, sh), 1);
	assert_memory_equal(pg, want, PAGE);

	/* Unknown device and command. */
	sh_op(sh, &(struct pvpci_bdf){ 0, 0x42, 0, 0 }, PVPCI_XEN_PCI_OP_conf_read, 0, 4, 0x77);
	sh->flags |= PVPCI_XEN_PCIF_active;
	memcpy(want, pg, PAGE);
	w->op.err = PVPCI_ERR_dev_not_found;
	w->flags &= ~(uint32_t)PVPCI_XEN_PCIF_active;
	assert_int_equal(pvpci_pciif_serve(e->p, sh), 1);
	assert_memory_equal(pg, want, PAGE);
	sh_op(sh, &e->guest[0], PVPCI_XEN_PCI_OP_aer_detected, 0, 4, 0x77);
	sh->flags |= PVPCI_XEN_PCIF_active;
	memcpy(want, pg, PAGE);
	w->op.err = PVPCI_ERR_not_implemented;
	w->flags &= ~(uint32_t)PVPCI_XEN_PCIF_active;
	assert_int_equal(pvpci_pciif_serve(e->p, sh), 1);
	assert_memory_equal(pg, want, PAGE);

	free(want);
	free(pg);
	env_free(e);
}
EVERY_MODE(serve)

/* ---- a frontend that rewrites the op while the backend works ---- */

static struct pvpci_bdf rewrite_to;

static void rewrite_conf(struct pvpci_sharedinfo *sh)
{
	sh->op.cmd = PVPCI_XEN_PCI_OP_conf_write;
	sh->op.offset = 0x0c;
	sh->op.size = 1;
	sh->op.value = 0xff;
	sh->op.devfn = pvpci_devfn(&rewrite_to);
	sh->op.bus = rewrite_to.bus;
}

static void rewrite_msix(struct pvpci_sharedinfo *sh)
{
	sh->op.cmd = PVPCI_XEN_PCI_OP_enable_msi;
	sh->op.value = 128;
	for (unsigned k = 0; k < 128; k++)
		sh->op.msix_entries[k].entry = 0;
}

static void (*rewrite_fn)(struct pvpci_sharedinfo *sh);

static void rewrite_hook(struct fakedev *f, bool write, unsigned off, unsigned size)
{
	(void)write;
	(void)off;
	(void)size;
	rewrite_fn(f->hook_ctx);
}

/* Serve the op in sh while each access to A runs fn on the page. */
static void serve_rewritten(struct env *e, struct pvpci_sharedinfo *sh,
			    void (*fn)(struct pvpci_sharedinfo *sh))
{
	struct fakedev *f = e->f[0];

	sh->flags = PVPCI_XEN_PCIF_active;
	f->nrlog = 0;
	f->on_access = rewrite_hook;
	f->hook_ctx = sh;
	rewrite_fn = fn;
	assert_int_equal(pvpci_pciif_serve(e->p, sh), 1);
	f->on_access = NULL;
	assert_true(f->nrlog >= 1);	/* the rewrite did happen mid-op */
}

static void rewriting_frontend(enum pvpci_topo_mode mode)
{
	struct env *e = env_new(mode, NULL);
	uint8_t *pg = page_new();
	struct pvpci_sharedinfo *sh = (void *)pg;

	/* A read of Vendor/Device whose device access rewrites the op into a
	 * write of B's cache line size. */
	rewrite_to = e->guest[1];
	sh_op(sh, &e->guest[0], PVPCI_XEN_PCI_OP_conf_read, 0, 4, 0);
	serve_rewritten(e, sh, rewrite_conf);
	for (size_t k = 0; k < e->f[0]->nrlog; k++)
		assert_true(e->f[0]->rlog[k].off + e->f[0]->rlog[k].size <= 4);
	assert_int_equal(sh->op.err, 0);
	assert_int_equal(sh->op.value, 0x56781234);
	assert_int_equal(sh->flags, 0);
	assert_int_equal(e->f[0]->nlog, 0);
	assert_int_equal(e->f[1]->nlog, 0);
	/* What the frontend wrote stays (only err and value are ours). */
	assert_int_equal(sh->op.cmd, PVPCI_XEN_PCI_OP_conf_write);
	assert_int_equal(sh->op.offset, 0x0c);

	/* enable_msix of 2 entries, rewritten during the Command read into
	 * 128 duplicate entries: the original 2 are what counts, and only
	 * their vectors are written. */
	memset(pg, 0xa5, PAGE);
	sh_op(sh, &e->guest[0], PVPCI_XEN_PCI_OP_enable_msix, 0, 0, 2);
	sh->op.msix_entries[0].entry = 3;
	sh->op.msix_entries[1].entry = 4;
	serve_rewritten(e, sh, rewrite_msix);
	assert_int_equal(sh->op.err, 0);
	assert_int_equal(sh->op.value, 0);
	assert_int_equal(sh->op.msix_entries[0].vector, IRQ0);
	assert_int_equal(sh->op.msix_entries[1].vector, IRQ0 + 1);
	for (unsigned k = 2; k < 128; k++)
		assert_int_equal(sh->op.msix_entries[k].vector, 0xa5a5);
	assert_int_equal(in_use(e), 2);
	assert_true(msix_on_in_hw(e->f[0]));
	assert_false(msi_on_in_hw(e->f[0]));
	free(pg);
	env_free(e);
}
EVERY_MODE(rewriting_frontend)

/* ---- AER ---- */

/* The frontend's side: answer with res, scribbling over the rest. */
static void fe_answer(struct pvpci_sharedinfo *sh, int32_t res)
{
	sh->aer_op.cmd = PVPCI_XEN_PCI_OP_aer_slotreset;
	sh->aer_op.domain = 0x1234;
	sh->aer_op.bus = 0x99;
	sh->aer_op.devfn = 0x77;
	sh->aer_op.err = res;
	sh->flags &= ~(uint32_t)PVPCI_XEN_PCIB_active;
}

static void aer(enum pvpci_topo_mode mode)
{
	struct env *e = env_new(mode, NULL);
	uint8_t *pg = page_new(), *want = malloc(PAGE);
	struct pvpci_sharedinfo *sh = (void *)pg, *w = (void *)want;
	struct pvpci_bdf nobody = { 0, 9, 9, 0 };
	int32_t res = 0x4242;

	/* No handler announced: refused, nothing written. */
	sh->flags = 0;
	memcpy(want, pg, PAGE);
	assert_int_equal(pvpci_pciif_aer_post(e->p, sh, &e->host[0], PVPCI_XEN_PCI_OP_aer_detected,
					      PVPCI_PCI_CHANNEL_IO_FROZEN), -EOPNOTSUPP);
	assert_memory_equal(pg, want, PAGE);
	assert_true(logged(4, "0000:03:00.0: guest 7 has no AER handler for aer_detected"));

	sh->flags = PVPCI_XEN_PCIB_AERHANDLER;
	memcpy(want, pg, PAGE);
	assert_int_equal(pvpci_pciif_aer_post(e->p, sh, &nobody, PVPCI_XEN_PCI_OP_aer_detected, 2),
			 -ENOENT);
	assert_int_equal(pvpci_pciif_aer_post(e->p, sh, &e->host[0], PVPCI_XEN_PCI_OP_conf_read, 2),
			 -EINVAL);
	assert_int_equal(pvpci_pciif_aer_post(e->p, sh, &e->host[0], PVPCI_XEN_PCI_OP_enable_multi_msi,
					      2), -EINVAL);
	assert_memory_equal(pg, want, PAGE);
	assert_int_equal(pvpci_pciif_aer_poll(e->p, sh, &res), 0);	/* nothing posted */

	/* Posted: the guest's address of the function, the flag set. */
	assert_int_equal(pvpci_pciif_aer_post(e->p, sh, &e->host[0], PVPCI_XEN_PCI_OP_aer_detected,
					      PVPCI_PCI_CHANNEL_IO_FROZEN), 0);
	w->aer_op = (struct pvpci_aer_op){ PVPCI_XEN_PCI_OP_aer_detected, PVPCI_PCI_CHANNEL_IO_FROZEN,
					   e->guest[0].domain, e->guest[0].bus,
					   pvpci_devfn(&e->guest[0]) };
	w->flags |= PVPCI_XEN_PCIB_active;
	assert_memory_equal(pg, want, PAGE);
	assert_int_equal(pvpci_pciif_aer_post(e->p, sh, &e->host[1], PVPCI_XEN_PCI_OP_aer_detected, 2),
			 -EBUSY);
	assert_int_equal(pvpci_pciif_aer_poll(e->p, sh, &res), 0);
	assert_int_equal(res, 0x4242);

	/* Answered CAN_RECOVER, with cmd rewritten to slot_reset (where it
	 * would not make sense): judged by what was posted. */
	fe_answer(sh, PVPCI_PCI_ERS_RESULT_CAN_RECOVER);
	assert_int_equal(pvpci_pciif_aer_poll(e->p, sh, &res), 1);
	assert_int_equal(res, PVPCI_PCI_ERS_RESULT_CAN_RECOVER);
	assert_int_equal(pvpci_pciif_aer_poll(e->p, sh, &res), 0);

	/* The other way round: mmio posted, rewritten to detected, answered
	 * CAN_RECOVER (fine for detected, not for mmio): DISCONNECT. */
	assert_int_equal(pvpci_pciif_aer_post(e->p, sh, &e->host[1], PVPCI_XEN_PCI_OP_aer_mmio, 0), 0);
	assert_int_equal(sh->aer_op.devfn, pvpci_devfn(&e->guest[1]));
	fe_answer(sh, PVPCI_PCI_ERS_RESULT_CAN_RECOVER);
	sh->aer_op.cmd = PVPCI_XEN_PCI_OP_aer_detected;
	logbuf[0] = 0;
	assert_int_equal(pvpci_pciif_aer_poll(e->p, sh, &res), 1);
	assert_int_equal(res, PVPCI_PCI_ERS_RESULT_DISCONNECT);
	assert_true(logged(4, "0000:02:05.1: guest 7 answered aer_mmio with 2: taken as DISCONNECT"));

	/* Cancel: the flag cleared, NONE left, and the next post goes. */
	assert_int_equal(pvpci_pciif_aer_post(e->p, sh, &e->host[0], PVPCI_XEN_PCI_OP_aer_resume, 0), 0);
	memcpy(want, pg, PAGE);
	w->flags &= ~(uint32_t)PVPCI_XEN_PCIB_active;
	w->aer_op.err = PVPCI_PCI_ERS_RESULT_NONE;
	pvpci_pciif_aer_cancel(e->p, sh);
	assert_memory_equal(pg, want, PAGE);
	assert_int_equal(pvpci_pciif_aer_poll(e->p, sh, &res), 0);
	pvpci_pciif_aer_cancel(e->p, sh);	/* nothing in flight: nothing done */
	assert_memory_equal(pg, want, PAGE);
	assert_true(logged(4, "0000:03:00.0: guest 7 did not answer aer_resume in time"));
	assert_int_equal(pvpci_pciif_aer_post(e->p, sh, &e->host[0], PVPCI_XEN_PCI_OP_aer_resume, 0), 0);
	fe_answer(sh, PVPCI_PCI_ERS_RESULT_RECOVERED);
	assert_int_equal(pvpci_pciif_aer_poll(e->p, sh, &res), 1);
	assert_int_equal(res, PVPCI_PCI_ERS_RESULT_RECOVERED);

	/* Unexporting the function of a request in flight drops the request:
	 * its frontend is gone, and the next one must not be refused -EBUSY. */
	assert_int_equal(pvpci_pciif_aer_post(e->p, sh, &e->host[0], PVPCI_XEN_PCI_OP_aer_detected, 2), 0);
	assert_int_equal(pvpci_pciif_unexport(e->p, &e->host[1]), 0);
	assert_int_equal(pvpci_pciif_aer_post(e->p, sh, &e->host[0], PVPCI_XEN_PCI_OP_aer_detected, 2),
			 -EBUSY);	/* another function's going changes nothing */
	assert_int_equal(pvpci_pciif_unexport(e->p, &e->host[0]), 0);
	assert_int_equal(pvpci_pciif_aer_poll(e->p, sh, &res), 0);
	assert_int_equal(pvpci_pciif_export(e->p, &e->host[0], PVPCI_VSLOT_ANY, e->cs[0], NULL, NULL, 0),
			 0);
	assert_int_equal(pvpci_pciif_aer_post(e->p, sh, &e->host[0], PVPCI_XEN_PCI_OP_aer_detected, 2), 0);
	fe_answer(sh, PVPCI_PCI_ERS_RESULT_RECOVERED);
	assert_int_equal(pvpci_pciif_aer_poll(e->p, sh, &res), 1);

	/* The handler flag goes away: refused again. */
	sh->flags = 0;
	assert_int_equal(pvpci_pciif_aer_post(e->p, sh, &e->host[0], PVPCI_XEN_PCI_OP_aer_slotreset, 0),
			 -EOPNOTSUPP);
	assert_int_equal(sh->flags, 0);
	free(want);
	free(pg);
	env_free(e);
}
EVERY_MODE(aer)

/* Every command against every answer, and answers outside 1..6. */
static void test_aer_answers(void **state)
{
	static const uint32_t cmds[] = { PVPCI_XEN_PCI_OP_aer_detected, PVPCI_XEN_PCI_OP_aer_resume,
					 PVPCI_XEN_PCI_OP_aer_mmio, PVPCI_XEN_PCI_OP_aer_slotreset };
	/* [cmd][result 1..6]: taken as is (1) or as DISCONNECT (0). */
	static const bool ok[4][7] = {
		{ 0, 1, 1, 1, 1, 0, 1 },	/* detected: NONE CAN_RECOVER NEED_RESET DISCONNECT NO_AER */
		{ 0, 1, 0, 0, 0, 1, 1 },	/* resume: NONE RECOVERED NO_AER */
		{ 0, 1, 0, 1, 1, 1, 1 },	/* mmio: NONE NEED_RESET DISCONNECT RECOVERED NO_AER */
		{ 0, 1, 0, 0, 1, 1, 1 },	/* slot_reset: NONE DISCONNECT RECOVERED NO_AER */
	};
	static const int32_t outside[] = { 0, 7, -1, INT32_MIN, INT32_MAX, 0x101 };
	struct env *e = env_new(PVPCI_TOPO_VPCI, NULL);
	struct pvpci_sharedinfo *sh = calloc(1, sizeof(*sh));
	int32_t res;

	(void)state;
	for (size_t c = 0; c < 4; c++) {
		for (int32_t r = 1; r <= 6; r++) {
			sh->flags = PVPCI_XEN_PCIB_AERHANDLER;
			assert_int_equal(pvpci_pciif_aer_post(e->p, sh, &e->host[0], cmds[c], 1), 0);
			fe_answer(sh, r);
			assert_int_equal(pvpci_pciif_aer_poll(e->p, sh, &res), 1);
			assert_int_equal(res, ok[c][r] ? r : PVPCI_PCI_ERS_RESULT_DISCONNECT);
		}
		for (size_t k = 0; k < sizeof(outside) / sizeof(outside[0]); k++) {
			sh->flags = PVPCI_XEN_PCIB_AERHANDLER;
			assert_int_equal(pvpci_pciif_aer_post(e->p, sh, &e->host[0], cmds[c], 1), 0);
			fe_answer(sh, outside[k]);
			logbuf[0] = 0;
			assert_int_equal(pvpci_pciif_aer_poll(e->p, sh, &res), 1);
			assert_int_equal(res, PVPCI_PCI_ERS_RESULT_DISCONNECT);
			assert_non_null(strstr(logbuf, "taken as DISCONNECT"));
		}
	}
	free(sh);
	env_free(e);
}

/* ---- life ---- */

static void test_life(void **state)
{
	struct pvpci_pciif_cfg cfg = { .mode = (enum pvpci_topo_mode)7 };
	struct pvpci_pciif *p = (void *)0x1;
	struct fakedev *f = dev_b();
	struct pvpci_cs_opts co = { 0 };
	struct pvpci_cs *cs = cs_bind_with(f, &co);
	struct pvpci_bdf g;
	char err[128] = "";

	(void)state;
	assert_int_equal(pvpci_pciif_new(NULL, &p), -EINVAL);
	assert_int_equal(pvpci_pciif_new(&cfg, &p), -EINVAL);
	assert_ptr_equal(p, (void *)0x1);
	pvpci_pciif_free(NULL);

	cfg.mode = PVPCI_TOPO_PASSTHROUGH;
	assert_int_equal(pvpci_pciif_new(&cfg, &p), 0);
	assert_int_equal(pvpci_pciif_export(p, &f->hd.bdf, PVPCI_VSLOT_ANY, NULL, &g, err, sizeof(err)),
			 -EINVAL);
	assert_string_not_equal(err, "");
	assert_int_equal(pvpci_pciif_export(p, &f->hd.bdf, 3, cs, &g, err, sizeof(err)), -EINVAL);
	assert_int_equal(pvpci_pciif_export(p, &f->hd.bdf, PVPCI_VSLOT_ANY, cs, &g, err, sizeof(err)), 0);
	assert_int_equal(pvpci_pciif_export(p, &f->hd.bdf, PVPCI_VSLOT_ANY, cs, &g, err, sizeof(err)),
			 -EEXIST);
	assert_int_equal(pvpci_topo_count(pvpci_pciif_topo(p)), 1);
	/* No MSI on B, nothing to give back; free with it still exported. */
	pvpci_pciif_free(p);
	pvpci_cs_free(cs);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_life),
		cmocka_unit_test(test_conf_rw),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_not_implemented),
		cmocka_unit_test(test_msi),
		cmocka_unit_test(test_multi_msi),
		cmocka_unit_test(test_msix_ok),
		cmocka_unit_test(test_msix_refused),
		cmocka_unit_test(test_no_irq_ops),
		cmocka_unit_test(test_free_releases),
		cmocka_unit_test(test_verbose_log),
		cmocka_unit_test(test_serve),
		cmocka_unit_test(test_rewriting_frontend),
		cmocka_unit_test(test_aer),
		cmocka_unit_test(test_aer_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
