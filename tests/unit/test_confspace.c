/*
 * The engine's core: registration rules, each mask class, straddling
 * accesses, bad accesses and the policy for unhandled bytes, against a
 * recording fake device.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "cs_internal.h"
#include "fakedev.h"

struct env {
	struct fakedev *f;
	struct pvpci_cs *cs;
	unsigned warnings;
	char last[400];
};

static void log_cb(void *ctx, int level, const char *msg)
{
	struct env *e = ctx;

	if (level <= PVPCI_LOG_WARNING)
		e->warnings++;
	snprintf(e->last, sizeof(e->last), "%s", msg);
}

static struct env *env_new(unsigned cfg_size, bool permissive)
{
	struct env *e = calloc(1, sizeof(*e));
	struct pvpci_cs_opts o = { .permissive = permissive, .log = log_cb, .log_ctx = e };
	char err[256];

	e->f = fake_new(cfg_size);
	/* A RAM-like region for mask tests: 0x40-0x7f writable by hardware. */
	for (unsigned i = 0x40; i < 0x80; i++)
		e->f->hw_wmask[i] = 0xff;
	assert_int_equal(pvpci_cs_new(&e->f->hd, &o, &e->cs, err, sizeof(err)), 0);
	e->f->nlog = 0;
	return e;
}

static void env_free(struct env *e)
{
	pvpci_cs_free(e->cs);
	free(e->f);
	free(e);
}

static void test_registration_rules(void **state)
{
	struct env *e = env_new(256, false);
	struct pvpci_reg r = { .name = "t", .offset = 0x40, .size = 2 };

	(void)state;
	r.size = 3;
	assert_int_equal(pvpci_cs_add_reg(e->cs, 0, &r), -EINVAL);	/* size */
	r.size = 2;
	r.offset = 0x41;
	assert_int_equal(pvpci_cs_add_reg(e->cs, 0, &r), -EINVAL);	/* alignment */
	r.offset = 0xfe;
	r.size = 4;
	assert_int_equal(pvpci_cs_add_reg(e->cs, 0, &r), -EINVAL);	/* alignment */
	r.offset = 0x100;
	assert_int_equal(pvpci_cs_add_reg(e->cs, 0, &r), -EINVAL);	/* past the end */
	r.offset = 0x40;
	r.size = 2;
	r.ro_mask = 0x10000;
	assert_int_equal(pvpci_cs_add_reg(e->cs, 0, &r), -EINVAL);	/* mask outside */
	r.ro_mask = 0x1;
	r.rw1c_mask = 0x1;
	assert_int_equal(pvpci_cs_add_reg(e->cs, 0, &r), -EINVAL);	/* ro & rw1c */
	r.rw1c_mask = 0;
	r.rsvdp_mask = 0x2;
	r.rsvdz_mask = 0x2;
	assert_int_equal(pvpci_cs_add_reg(e->cs, 0, &r), -EINVAL);	/* rsvdp & rsvdz */
	r.rsvdz_mask = 0;
	r.emu_mask = 0x2;
	assert_int_equal(pvpci_cs_add_reg(e->cs, 0, &r), -EINVAL);	/* emu & rsvdp */
	r.emu_mask = 0x1;	/* emu may overlap ro */
	assert_int_equal(pvpci_cs_add_reg(e->cs, 0, &r), 0);
	r.offset = 0x40;
	r.size = 1;
	r.ro_mask = r.rsvdp_mask = r.emu_mask = 0;
	assert_int_equal(pvpci_cs_add_reg(e->cs, 0, &r), -EEXIST);	/* overlap */
	assert_int_equal(pvpci_cs_add_reg(e->cs, 0, &(struct pvpci_reg){ .size = 4 }), -EEXIST);

	/* A table is all or nothing. */
	{
		const struct pvpci_reg tbl[] = {
			{ .name = "a", .offset = 0x0, .size = 2 },
			{ .name = "b", .offset = 0x1, .size = 1 },
		};
		size_t n = pvpci_cs_nregs(e->cs);

		assert_int_equal(pvpci_cs_add_regs(e->cs, 0x50, tbl, 2), -EEXIST);
		assert_int_equal(pvpci_cs_nregs(e->cs), n);
		assert_null(pvpci_cs_reg_at(e->cs, 0x50));
	}
	/* Sorted, and del_range forgets what it touches. */
	for (size_t i = 1; i < pvpci_cs_nregs(e->cs); i++)
		assert_true(pvpci_cs_reg_by_index(e->cs, i - 1)->offset <
			    pvpci_cs_reg_by_index(e->cs, i)->offset);
	pvpci_cs_del_range(e->cs, 0x41, 1);
	assert_null(pvpci_cs_reg_at(e->cs, 0x40));
	env_free(e);
}

/* Each mask class on its own register, checking guest view and hardware. */
static void add(struct env *e, struct pvpci_reg r)
{
	assert_int_equal(pvpci_cs_add_reg(e->cs, 0, &r), 0);
}

static uint32_t rd(struct env *e, long off, long size)
{
	uint32_t v = 0xdeadbeef;

	assert_int_equal(pvpci_cs_read(e->cs, off, size, &v), 0);
	return v;
}

static void test_mask_ro(void **state)
{
	struct env *e = env_new(256, false);

	(void)state;
	fake_put(e->f, 0x40, 4, 0x11223344);
	add(e, (struct pvpci_reg){ .name = "ro", .offset = 0x40, .size = 4, .ro_mask = 0xffff0000 });
	assert_int_equal(pvpci_cs_write(e->cs, 0x40, 4, 0xaabbccdd), 0);
	assert_int_equal(fake_get(e->f, 0x40, 4), 0x1122ccdd);	/* RO half kept */
	assert_int_equal(e->f->nlog, 1);
	assert_int_equal(e->f->log[0].val, 0x1122ccdd);	/* hardware's own bits written back */
	assert_int_equal(rd(e, 0x40, 4), 0x1122ccdd);
	/* A register that is read-only through and through never reaches hardware. */
	add(e, (struct pvpci_reg){ .name = "all ro", .offset = 0x44, .size = 4, .ro_mask = 0xffffffff });
	e->f->nlog = 0;
	assert_int_equal(pvpci_cs_write(e->cs, 0x44, 4, 0xffffffff), 0);
	assert_int_equal(pvpci_cs_write(e->cs, 0x45, 1, 0xff), 0);
	assert_int_equal(e->f->nlog, 0);
	env_free(e);
}

static void test_mask_rw1c_hw(void **state)
{
	struct env *e = env_new(256, false);

	(void)state;
	for (unsigned i = 0x40; i < 0x42; i++)
		e->f->hw_rw1c[i] = 0xff;
	fake_put(e->f, 0x40, 2, 0x00f0);
	add(e, (struct pvpci_reg){ .name = "sta", .offset = 0x40, .size = 2, .rw1c_mask = 0x00f0,
				   .ro_mask = 0xff0f });
	assert_int_equal(rd(e, 0x40, 2), 0x00f0);	/* rw1c bits read normally */
	assert_int_equal(pvpci_cs_write(e->cs, 0x40, 2, 0x0030), 0);
	assert_int_equal(e->f->log[0].val & 0xf0, 0x30);	/* only the 1s written */
	assert_int_equal(rd(e, 0x40, 2), 0x00c0);
	/* A write of zeros clears nothing, even though hardware reads 1s there. */
	assert_int_equal(pvpci_cs_write(e->cs, 0x40, 2, 0x0000), 0);
	assert_int_equal(rd(e, 0x40, 2), 0x00c0);
	assert_int_equal(e->f->log[e->f->nlog - 1].val & 0xf0, 0);
	env_free(e);
}

static void test_mask_rw1c_partial(void **state)
{
	struct env *e = env_new(256, false);

	(void)state;
	/* rw1c in the high byte; a byte write to the low byte must not clear it. */
	for (unsigned i = 0x40; i < 0x44; i++)
		e->f->hw_rw1c[i] = 0xff;
	e->f->hw_wmask[0x40] = 0xff;
	e->f->hw_rw1c[0x40] = 0;
	fake_put(e->f, 0x40, 4, 0xff000000);
	add(e, (struct pvpci_reg){ .name = "ctl+sta", .offset = 0x40, .size = 4, .rw1c_mask = 0xff000000,
				   .ro_mask = 0x00ffff00 });
	assert_int_equal(pvpci_cs_write(e->cs, 0x40, 1, 0x5a), 0);
	assert_int_equal(fake_get(e->f, 0x40, 4), 0xff00005a);
	assert_int_equal(pvpci_cs_write(e->cs, 0x43, 1, 0x01), 0);
	assert_int_equal(fake_get(e->f, 0x40, 4), 0xfe00005a);
	env_free(e);
}

static void test_mask_rw1c_emulated(void **state)
{
	struct env *e = env_new(256, false);

	(void)state;
	add(e, (struct pvpci_reg){ .name = "vsta", .offset = 0x40, .size = 2, .rw1c_mask = 0x000f,
				   .ro_mask = 0xfff0, .emu_mask = 0xffff, .val = 0x0a0f });
	assert_int_equal(rd(e, 0x40, 2), 0x0a0f);
	assert_int_equal(pvpci_cs_write(e->cs, 0x40, 2, 0xffff & ~0x0004), 0);
	assert_int_equal(rd(e, 0x40, 2), 0x0a04);
	assert_int_equal(e->f->nlog, 0);	/* all virtual */
	env_free(e);
}

static void test_mask_rsvdp(void **state)
{
	struct env *e = env_new(256, false);

	(void)state;
	fake_put(e->f, 0x40, 2, 0xf00f);
	add(e, (struct pvpci_reg){ .name = "p", .offset = 0x40, .size = 2, .rsvdp_mask = 0xff00 });
	assert_int_equal(rd(e, 0x40, 2), 0x000f);	/* reads 0 */
	assert_int_equal(pvpci_cs_write(e->cs, 0x40, 2, 0x0ff0), 0);
	assert_int_equal(fake_get(e->f, 0x40, 2), 0xf0f0);	/* hardware's reserved bits kept */
	env_free(e);
}

static void test_mask_rsvdz(void **state)
{
	struct env *e = env_new(256, false);

	(void)state;
	fake_put(e->f, 0x40, 2, 0xf00f);
	add(e, (struct pvpci_reg){ .name = "z", .offset = 0x40, .size = 2, .rsvdz_mask = 0xff00 });
	assert_int_equal(rd(e, 0x40, 2), 0x000f);
	assert_int_equal(pvpci_cs_write(e->cs, 0x40, 2, 0xfff0), 0);
	assert_int_equal(e->f->log[0].val, 0x00f0);	/* reserved written as 0 */
	env_free(e);
}

static void test_mask_emulated(void **state)
{
	struct env *e = env_new(256, false);

	(void)state;
	fake_put(e->f, 0x40, 4, 0x12345678);
	add(e, (struct pvpci_reg){ .name = "half", .offset = 0x40, .size = 4, .emu_mask = 0x0000ffff,
				   .val = 0xbeef });
	assert_int_equal(rd(e, 0x40, 4), 0x1234beef);
	assert_int_equal(pvpci_cs_write(e->cs, 0x40, 4, 0xaaaa5555), 0);
	assert_int_equal(rd(e, 0x40, 4), 0xaaaa5555);
	/* Hardware got the passthrough half and kept its own emulated half. */
	assert_int_equal(fake_get(e->f, 0x40, 4), 0xaaaa5678);
	/* Writes inside the emulated half alone never reach hardware. */
	e->f->nlog = 0;
	assert_int_equal(pvpci_cs_write(e->cs, 0x40, 2, 0x1111), 0);
	assert_int_equal(pvpci_cs_write(e->cs, 0x41, 1, 0x22), 0);
	assert_int_equal(e->f->nlog, 0);
	assert_int_equal(rd(e, 0x40, 4), 0xaaaa2211);
	env_free(e);
}

static void test_mask_passthrough_partial(void **state)
{
	struct env *e = env_new(256, false);

	(void)state;
	fake_put(e->f, 0x40, 4, 0x11223344);
	add(e, (struct pvpci_reg){ .name = "rw", .offset = 0x40, .size = 4 });
	assert_int_equal(pvpci_cs_write(e->cs, 0x42, 1, 0xee), 0);
	assert_int_equal(fake_get(e->f, 0x40, 4), 0x11ee3344);	/* read-modify-write */
	assert_int_equal(e->f->log[0].size, 4);
	assert_int_equal(rd(e, 0x41, 1), 0x33);
	assert_int_equal(rd(e, 0x42, 2), 0x11ee);
	env_free(e);
}

/* A 4-byte write over Command and Status applies each register's policy. */
static void test_straddle_command_status(void **state)
{
	struct env *e = env_new(256, false);

	(void)state;
	fake_put(e->f, 0x06, 2, 0x8100);	/* detected parity + master data parity */
	e->f->nlog = 0;
	assert_int_equal(pvpci_cs_write(e->cs, 0x04, 4, 0x01000000 | 0x0006), 0);
	/* Status: only bit 8 cleared, bit 15 kept. */
	assert_int_equal(fake_get(e->f, 0x06, 2), 0x8000);
	/* Command: memory decode through the enable path, master set. */
	assert_int_equal(e->f->decode_calls, 1);
	assert_true(fake_get(e->f, 0x04, 2) & 0x4);
	assert_int_equal(rd(e, 0x04, 2), 0x0006);
	env_free(e);
}

/* A write over a register and unhandled bytes: each part by its policy. */
static void test_straddle_unhandled(void **state)
{
	struct env *e = env_new(256, false);

	(void)state;
	fake_put(e->f, 0x40, 4, 0x44332211);
	add(e, (struct pvpci_reg){ .name = "lo", .offset = 0x40, .size = 2 });
	assert_int_equal(pvpci_cs_write(e->cs, 0x40, 4, 0xddccbbaa), 0);
	assert_int_equal(fake_get(e->f, 0x40, 4), 0x4433bbaa);	/* strict: upper half dropped */
	assert_int_equal(e->warnings, 1);
	assert_non_null(strstr(e->last, "offset 0x40"));
	pvpci_cs_set_permissive(e->cs, true);
	assert_int_equal(pvpci_cs_write(e->cs, 0x40, 4, 0xddccbbaa), 0);
	assert_int_equal(fake_get(e->f, 0x40, 4), 0xddccbbaa);
	assert_int_equal(e->f->log[e->f->nlog - 1].off, 0x42);	/* one aligned 2-byte write */
	assert_int_equal(e->f->log[e->f->nlog - 1].size, 2);
	assert_int_equal(rd(e, 0x40, 4), 0xddccbbaa);
	env_free(e);
}

static void test_unhandled_policy(void **state)
{
	struct env *e = env_new(256, false);

	(void)state;
	fake_put(e->f, 0x60, 4, 0x01020304);
	assert_int_equal(rd(e, 0x60, 4), 0x01020304);	/* reads pass through */
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(pvpci_cs_write(e->cs, 0x60, 4, 0xffffffff), 0);
	assert_int_equal(fake_get(e->f, 0x60, 4), 0x01020304);
	assert_int_equal(e->f->nlog, 0);
	assert_int_equal(e->warnings, 1);	/* warned once, as pciback does */
	env_free(e);

	e = env_new(256, true);
	assert_int_equal(pvpci_cs_write(e->cs, 0x60, 4, 0xcafef00d), 0);
	assert_int_equal(e->f->nlog, 1);
	assert_int_equal(e->f->log[0].size, 4);	/* the guest's width */
	assert_int_equal(fake_get(e->f, 0x60, 4), 0xcafef00d);
	env_free(e);
}

/* A dword mixing registers and unhandled bytes costs one device read. */
static void test_one_device_read_per_access(void **state)
{
	struct env *e = env_new(256, false);
	unsigned long before;

	(void)state;
	fake_put(e->f, 0x40, 4, 0x44332211);
	add(e, (struct pvpci_reg){ .name = "id", .offset = 0x40, .size = 1, .ro_mask = 0xff });
	add(e, (struct pvpci_reg){ .name = "next", .offset = 0x41, .size = 1, .ro_mask = 0xff,
				   .emu_mask = 0xff, .val = 0x99 });
	before = e->f->hd.n_reads;
	assert_int_equal(rd(e, 0x40, 4), 0x44339911);
	assert_int_equal(e->f->hd.n_reads - before, 1);
	env_free(e);
}

static void test_bad_accesses(void **state)
{
	static const long sizes[] = { 0, 3, 5, 8, -1, 2147483647L, -2147483647L - 1 };
	static const long offs[] = { -1, -4, 0x100, 0x101, 0xfff, 0x1000, 2147483647L };
	struct env *e = env_new(256, false);
	unsigned long reads;
	uint32_t v = 0x5a5a5a5a;

	(void)state;
	reads = e->f->hd.n_reads;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(pvpci_cs_read(e->cs, 0, sizes[i], &v), PVPCI_ERR_invalid_offset);
		assert_int_equal(pvpci_cs_write(e->cs, 0, sizes[i], 0), PVPCI_ERR_invalid_offset);
	}
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		for (long s = 1; s <= 4; s *= 2) {
			assert_int_equal(pvpci_cs_read(e->cs, offs[i], s, &v), PVPCI_ERR_invalid_offset);
			assert_int_equal(pvpci_cs_write(e->cs, offs[i], s, 0), PVPCI_ERR_invalid_offset);
		}
	/* Misaligned. */
	assert_int_equal(pvpci_cs_read(e->cs, 0x41, 2, &v), PVPCI_ERR_invalid_offset);
	assert_int_equal(pvpci_cs_read(e->cs, 0x42, 4, &v), PVPCI_ERR_invalid_offset);
	assert_int_equal(pvpci_cs_write(e->cs, 0x03, 4, 0), PVPCI_ERR_invalid_offset);
	assert_int_equal(v, 0x5a5a5a5a);	/* output untouched */
	assert_int_equal(e->f->hd.n_reads, reads);
	assert_int_equal(e->f->nlog, 0);
	env_free(e);

	/* An extended device takes 0x100-0xfff and refuses 0x1000. */
	e = env_new(4096, false);
	assert_int_equal(pvpci_cs_read(e->cs, 0xffc, 4, &v), 0);
	assert_int_equal(pvpci_cs_read(e->cs, 0x1000, 1, &v), PVPCI_ERR_invalid_offset);
	env_free(e);
}

static void test_errors_table(void **state)
{
	(void)state;
	assert_string_equal(pvpci_err_name(-2), "XEN_PCI_ERR_invalid_offset");
	assert_string_equal(pvpci_err_name(0), "XEN_PCI_ERR_success");
	assert_string_equal(pvpci_err_name(-5), "XEN_PCI_ERR_op_failed");
	assert_string_equal(pvpci_err_name(7), "XEN_PCI_ERR_unknown");
	assert_string_equal(pvpci_err_str(-3), "access denied");
}

/* Handlers see the merged value: bytes not written hold the current one. */
static uint32_t seen_val, seen_mask;
static int record_write(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t val, uint32_t wmask)
{
	(void)cs;
	seen_val = val;
	seen_mask = wmask;
	r->val = val;
	return 0;
}

static void test_handler_merge(void **state)
{
	struct env *e = env_new(256, false);

	(void)state;
	add(e, (struct pvpci_reg){ .name = "h", .offset = 0x40, .size = 4, .emu_mask = 0xffffffff,
				   .ro_mask = 0x000000f0, .rw1c_mask = 0x0f000000,
				   .val = 0x0f0000f0, .write = record_write });
	assert_int_equal(pvpci_cs_write(e->cs, 0x41, 1, 0xab), 0);
	assert_int_equal(seen_mask, 0x0000ff00);
	/* ro bits current, written byte new, rw1c bits 0 where not written. */
	assert_int_equal(seen_val, 0x0000abf0);
	assert_int_equal(pvpci_cs_write(e->cs, 0x43, 1, 0x01), 0);
	assert_int_equal(seen_val & 0x0f000000, 0x01000000);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registration_rules),
		cmocka_unit_test(test_mask_ro),
		cmocka_unit_test(test_mask_rw1c_hw),
		cmocka_unit_test(test_mask_rw1c_partial),
		cmocka_unit_test(test_mask_rw1c_emulated),
		cmocka_unit_test(test_mask_rsvdp),
		cmocka_unit_test(test_mask_rsvdz),
		cmocka_unit_test(test_mask_emulated),
		cmocka_unit_test(test_mask_passthrough_partial),
		cmocka_unit_test(test_straddle_command_status),
		cmocka_unit_test(test_straddle_unhandled),
		cmocka_unit_test(test_unhandled_policy),
		cmocka_unit_test(test_one_device_read_per_access),
		cmocka_unit_test(test_bad_accesses),
		cmocka_unit_test(test_errors_table),
		cmocka_unit_test(test_handler_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
