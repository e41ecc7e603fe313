/*
 * The life of an exported function on a device whose writes persist (a
 * fake sysfs tree, as real hardware keeps what is written): saved at
 * bind, restored at guest start and stop and at unbind, found and
 * restored by the next run after a crash, D0 before the reset.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_sysfs.h"
#include "pvpci/device.h"
#include "pvpci/statefile.h"

#define BDF "0000:03:00.0"

struct env {
	char root[64], state[96], spec[128], config[256];
	struct pvpci_host *h;
	struct pvpci_bdf bdf;
	uint8_t image[4096];
};

static void put(uint8_t *p, unsigned off, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_file(struct env *e, unsigned off, unsigned size)
{
	uint8_t buf[4096];
	uint32_t v = 0;

	assert_int_equal(fake_read_file(e->config, buf, sizeof(buf)), 4096);
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)buf[off + i] << (8 * i);
	return v;
}

static void put_file(struct env *e, unsigned off, unsigned size, uint32_t v)
{
	uint8_t buf[4096];

	assert_int_equal(fake_read_file(e->config, buf, sizeof(buf)), 4096);
	put(buf, off, size, v);
	assert_int_equal(fake_write_file(e->config, buf, sizeof(buf)), 0);
}

/* An endpoint with PM (0x40), PCIe v2 (0x50) and AER (0x100). */
static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct fake_dev fd = { .bdf = BDF, .cfg_len = 4096, .class_code = 0x020000 };
	char err[512];

	snprintf(e->root, sizeof(e->root), "/tmp/pvpci-device.XXXXXX");
	assert_non_null(mkdtemp(e->root));
	assert_int_equal(fake_mkdirs(e->root), 0);
	assert_int_equal(fake_add_dev(e->root, &fd), 0);
	snprintf(e->state, sizeof(e->state), "%s/state", e->root);
	snprintf(e->config, sizeof(e->config), "%s/devices/pci0000:00/%s/config", e->root, BDF);
	put(e->image, 0x00, 4, 0x56781234);
	put(e->image, 0x04, 2, 0x0146);		/* mem, master, parity, SERR */
	put(e->image, 0x06, 2, 0x0010);
	put(e->image, 0x08, 4, 0x02000001);
	put(e->image, 0x0c, 2, 0x2010);		/* cache line 0x10, latency 0x20 */
	put(e->image, 0x10, 4, 0xfe000000);
	put(e->image, 0x34, 1, 0x40);
	put(e->image, 0x40, 4, 0x00035001);	/* PM -> 0x50 */
	put(e->image, 0x44, 2, 0x0008);		/* D0, No_Soft_Reset */
	put(e->image, 0x50, 4, 0x00020010);	/* PCIe v2 endpoint, end */
	put(e->image, 0x54, 4, 0x10008000);	/* DevCap: FLR */
	put(e->image, 0x58, 2, 0x2810);		/* DevCtl */
	put(e->image, 0x60, 2, 0x0040);		/* LnkCtl */
	put(e->image, 0x78, 2, 0x0005);		/* DevCtl2 */
	put(e->image, 0x80, 2, 0x0002);		/* LnkCtl2 */
	put(e->image, 0x100, 4, 0x00020001);	/* AER v2, end */
	put(e->image, 0x108, 4, 0x00400000);	/* uncorrectable mask */
	put(e->image, 0x10c, 4, 0x00062030);	/* severity */
	put(e->image, 0x114, 4, 0x00002000);	/* correctable mask */
	put(e->image, 0x118, 4, 0x000000a0);	/* capabilities and control */
	assert_int_equal(fake_write_file(e->config, e->image, sizeof(e->image)), 0);
	snprintf(e->spec, sizeof(e->spec), "sysfs:%s,writes=1", e->root);
	assert_int_equal(pvpci_host_open(e->spec, &e->h, err, sizeof(err)), 0);
	assert_int_equal(pvpci_bdf_parse(BDF, &e->bdf), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	pvpci_host_close(e->h);
	fake_rm_tree(e->root);
	free(e);
	return 0;
}

static struct pvpci_device *bind(struct env *e, bool *restored)
{
	struct pvpci_device_opts o = {
		.state_dir = e->state, .reset = PVPCI_SR_RESET_IF_AVAILABLE,
		.cs = { .permissive = true, .allow_interrupt_control = true },
	};
	struct pvpci_device *d = NULL;
	char err[512] = "";

	if (pvpci_device_bind(e->h, &e->bdf, &o, &d, restored, err, sizeof(err)) < 0)
		fail_msg("bind: %s", err);
	return d;
}

/* What a guest and a driver leave: every register of the saved set changed
 * in the device itself. */
static void scribble(struct env *e)
{
	put_file(e, 0x04, 2, 0x0007);
	put_file(e, 0x0c, 2, 0xff08);
	put_file(e, 0x10, 4, 0x12345000);
	put_file(e, 0x58, 2, 0x5f1f);
	put_file(e, 0x60, 2, 0x0003);
	put_file(e, 0x78, 2, 0x0400);
	put_file(e, 0x80, 2, 0x0023);
	put_file(e, 0x108, 4, 0xffffffff);
	put_file(e, 0x10c, 4, 0);
	put_file(e, 0x114, 4, 0xffffffff);
	put_file(e, 0x118, 4, 0x000001e0);	/* ECRC enables on; capable bits are RO */
}

/* The saved set is back as it was at bind. */
static void assert_restored(struct env *e)
{
	assert_int_equal(get_file(e, 0x04, 2) & 0x0140, 0x0140);	/* SERR, parity */
	assert_int_equal(get_file(e, 0x0c, 2), 0x2010);
	assert_int_equal(get_file(e, 0x10, 4), 0xfe000000);
	assert_int_equal(get_file(e, 0x58, 2), 0x2810);
	assert_int_equal(get_file(e, 0x60, 2) & ~0x20u, 0x0040);
	assert_int_equal(get_file(e, 0x78, 2), 0x0005);
	assert_int_equal(get_file(e, 0x80, 2), 0x0002);
	assert_int_equal(get_file(e, 0x108, 4), 0x00400000);
	assert_int_equal(get_file(e, 0x10c, 4), 0x00062030);
	assert_int_equal(get_file(e, 0x114, 4), 0x00002000);
	assert_int_equal(get_file(e, 0x118, 4) & 0x540, 0);	/* ECRC/multi-header enables off */
}

static void test_bind_saves_and_unbind_restores(void **state)
{
	struct env *e = *state;
	struct pvpci_device *d;
	struct pvpci_sr_state st;
	bool restored = true;
	char err[512];
	uint32_t v;

	d = bind(e, &restored);
	assert_false(restored);
	assert_int_equal(pvpci_statefile_load(e->state, &e->bdf, &st, err, sizeof(err)), 0);
	assert_true(st.nregs >= 15);
	assert_int_equal(pvpci_cs_read(pvpci_device_cs(d), 0, 4, &v), 0);
	assert_int_equal(v, 0x56781234);
	scribble(e);
	assert_int_equal(pvpci_device_unbind(d, err, sizeof(err)), 0);
	assert_restored(e);
	assert_int_equal(pvpci_statefile_load(e->state, &e->bdf, &st, err, sizeof(err)), -ENOENT);
}

static void test_guest_start_and_stop_restore(void **state)
{
	struct env *e = *state;
	struct pvpci_device *d = bind(e, NULL);
	char err[512];
	uint32_t v;

	/* A guest's virtual Command value does not survive into the next guest. */
	assert_int_equal(pvpci_cs_write(pvpci_device_cs(d), 0x04, 2, 0x0000), 0);
	assert_int_equal(pvpci_cs_read(pvpci_device_cs(d), 0x04, 2, &v), 0);
	assert_int_equal(v & 0x0140, 0);
	scribble(e);
	assert_int_equal(pvpci_device_guest_start(d, err, sizeof(err)), 0);
	assert_restored(e);
	assert_int_equal(pvpci_cs_read(pvpci_device_cs(d), 0x04, 2, &v), 0);
	assert_int_equal(v & 0x0140, 0x0140);
	/* Shutdown from D3hot: D0 first, then reset and restore. */
	scribble(e);
	put_file(e, 0x44, 2, 0x000b);
	assert_int_equal(pvpci_device_guest_stop(d, err, sizeof(err)), 0);
	assert_int_equal(get_file(e, 0x44, 2) & 3, 0);
	assert_restored(e);
	assert_int_equal(pvpci_device_unbind(d, err, sizeof(err)), 0);
}

/* A run dies holding the device; the next run finds the state and restores. */
static void test_crash_then_restart(void **state)
{
	struct env *e = *state;
	struct pvpci_device *d = bind(e, NULL);
	struct pvpci_sr_state st;
	bool restored = false;
	char err[512];

	scribble(e);
	pvpci_device_abandon(d);	/* kill -9: nothing given back */
	d = bind(e, &restored);
	assert_true(restored);
	assert_restored(e);
	/* The saved state is still the first run's, not what the guest left. */
	assert_int_equal(pvpci_statefile_load(e->state, &e->bdf, &st, err, sizeof(err)), 0);
	for (unsigned i = 0; i < st.nregs; i++)
		if (st.regs[i].off == 0x10)
			assert_int_equal(st.regs[i].val, 0xfe000000);
	assert_int_equal(pvpci_device_unbind(d, err, sizeof(err)), 0);
}

static char warned[1024];

static void warn_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= PVPCI_LOG_WARNING)
		snprintf(warned + strlen(warned), sizeof(warned) - strlen(warned), "%s\n", msg);
}

/* A corrupt state file is set aside, said, and the device saved afresh. */
static void test_corrupt_state_set_aside(void **state)
{
	struct env *e = *state;
	struct pvpci_device_opts o = { .state_dir = e->state, .cs = { .log = warn_log } };
	struct pvpci_device *d = NULL;
	char path[512], aside[600], err[512], want[1300];
	bool restored = true;

	assert_int_equal(mkdir(e->state, 0700), 0);
	assert_int_equal(pvpci_statefile_path(e->state, &e->bdf, path, sizeof(path)), 0);
	assert_int_equal(fake_write_file(path, "pvpci-saved-state 1\nnonsense\n", 29), 0);
	warned[0] = 0;
	assert_int_equal(pvpci_device_bind(e->h, &e->bdf, &o, &d, &restored, err, sizeof(err)), 0);
	assert_false(restored);
	snprintf(aside, sizeof(aside), "%s.corrupt", path);
	assert_int_equal(access(aside, F_OK), 0);
	snprintf(want, sizeof(want), "%s is corrupt (", path);
	assert_non_null(strstr(warned, want));
	snprintf(want, sizeof(want), "); set aside as %s, not used; saving " BDF " afresh\n", aside);
	assert_non_null(strstr(warned, want));
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(pvpci_device_unbind(d, err, sizeof(err)), 0);
}

/* Writes refused by the host: bind still works (saving reads only), and
 * unbind says why it could not give the device back, keeping the file. */
static void test_read_only_host(void **state)
{
	struct env *e = *state;
	struct pvpci_host *ro = NULL;
	struct pvpci_device_opts o = { .state_dir = e->state };
	struct pvpci_device *d = NULL;
	struct pvpci_sr_state st;
	char spec[160], err[512] = "";

	snprintf(spec, sizeof(spec), "sysfs:%s", e->root);
	assert_int_equal(pvpci_host_open(spec, &ro, err, sizeof(err)), 0);
	assert_int_equal(pvpci_device_bind(ro, &e->bdf, &o, &d, NULL, err, sizeof(err)), 0);
	assert_true(pvpci_device_unbind(d, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "writes"));
	assert_int_equal(pvpci_statefile_load(e->state, &e->bdf, &st, err, sizeof(err)), 0);
	pvpci_host_close(ro);
}

/* A bind refused after its save (a quirk over a register the engine
 * handles) leaves no state file: the next bind would restore it as an
 * earlier run's. */
static void test_refused_bind_leaves_nothing(void **state)
{
	static const char q[] = "0000:03:00.0-40:4:ffffffff\n";	/* over PM */
	struct env *e = *state;
	struct pvpci_quirks *quirks = NULL;
	struct pvpci_device_opts o = { .state_dir = e->state };
	struct pvpci_device *d = NULL;
	struct pvpci_sr_state st;
	char err[512] = "";

	assert_int_equal(pvpci_quirks_parse(q, sizeof(q) - 1, &quirks, err, sizeof(err)), 0);
	o.quirks = quirks;
	assert_int_equal(pvpci_device_bind(e->h, &e->bdf, &o, &d, NULL, err, sizeof(err)), -EEXIST);
	assert_null(d);
	assert_non_null(strstr(err, "overlaps"));
	assert_int_equal(pvpci_statefile_load(e->state, &e->bdf, &st, err, sizeof(err)), -ENOENT);
	pvpci_quirks_free(quirks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind_saves_and_unbind_restores, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_start_and_stop_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_then_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_state_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_bind_leaves_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
