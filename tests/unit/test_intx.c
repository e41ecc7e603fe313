/*
 * Shared legacy interrupts: what the sim and sysfs hosts say of a
 * function's INTx (pin, irq), which other functions share its line
 * (lib/intx.c), and the backend refusing to export such a function unless
 * told to accept the risk, then saying so in a warning.  Functions with
 * pin 0 (MSI only) share nothing, whatever their Interrupt Line says.
 * The sysfs cases run on a fake tree under /tmp, never /sys.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_sysfs.h"
#include "fixture.h"
#include "pvpci/backend.h"
#include "pvpci/hostdev.h"
#include "pvpci/hostdev_sim.h"
#include "bdfs.h"

#ifndef PVPCI_SRC
#define PVPCI_SRC "."
#endif

static char err[1024];

/*
 * The sim host: copies of virtio-net's dump (MSI-X capable), each with its
 * own Interrupt Line and Pin and, for some, lspci -v's IRQ:
 *   01.0  INTA, line 11, "IRQ 16"   -> 16
 *   02.0  INTA, line 16             -> 16
 *   03.0  pin 0, line 16            -> MSI only: shares nothing
 *   04.0  INTB, line 11             -> 11, alone
 *   05.0  INTA, line 0xff           -> no irq known
 *   06.0  INTD, "IRQ 16" (-vv form) -> 16
 */
static const struct {
	const char *addr;
	unsigned line, pin;
	const char *vline;
} funcs[] = {
	{ "0000:00:01.0", 11, 1, "\tFlags: bus master, fast devsel, latency 0, IRQ 16\n" },
	{ "0000:00:02.0", 16, 1, "" },
	{ "0000:00:03.0", 16, 0, "" },
	{ "0000:00:04.0", 11, 2, "" },
	{ "0000:00:05.0", 0xff, 1, "" },
	{ "0000:00:06.0", 0, 4, "\tInterrupt: pin D routed to IRQ 16\n" },
};
#define NFUNCS (sizeof(funcs) / sizeof(funcs[0]))

static struct pvpci_host *sim_host(void)
{
	static char out[1 << 18];
	char *body, *l30;
	struct pvpci_host *h;
	size_t n = 0;

	body = strchr(fixture_first("virtio-net.lspci"), '\n') + 1;	/* the Region lines and the hex */
	l30 = strstr(body, "\n30: ") + 1;
	for (size_t i = 0; i < NFUNCS; i++) {
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s x\n%s%.*s", funcs[i].addr, funcs[i].vline,
				      (int)(l30 - body), body);
		/* the 0x30 line with this function's Interrupt Line and Pin */
		n += (size_t)snprintf(out + n, sizeof(out) - n,
				      "30: 00 00 00 00 40 00 00 00 00 00 00 00 %02x %02x 00 00\n%s\n", funcs[i].line,
				      funcs[i].pin, strchr(l30, '\n') + 1);
	}
	assert_int_equal(pvpci_sim_host_from_text(out, n, &h, err, sizeof(err)), 0);
	return h;
}

static void test_sim(void **state)
{
	static const struct pvpci_intx want[NFUNCS] = { { 1, 16 }, { 1, 16 }, { 0, 16 }, { 2, 11 }, { 1, 0 }, { 4, 16 } };
	struct pvpci_host *h = sim_host();
	struct pvpci_hostdev *d;
	struct pvpci_bdf with[4];
	struct pvpci_intx in = { 77, 77 };
	size_t n = 99;

	(void)state;
	for (size_t i = 0; i < NFUNCS; i++) {
		assert_int_equal(pvpci_host_intx(h, B(funcs[i].addr), &in), 0);
		assert_int_equal(in.pin, want[i].pin);
		assert_int_equal(in.irq, want[i].irq);
	}
	/* An open function (another owner holds it) is asked all the same. */
	assert_int_equal(pvpci_hostdev_open(h, B("0000:00:02.0"), &d), 0);
	assert_int_equal(pvpci_host_intx_sharers(h, B("0000:00:01.0"), &in, with, 4, &n), 0);
	assert_int_equal(in.irq, 16);
	assert_int_equal(n, 2);
	assert_int_equal(pvpci_bdf_cmp(&with[0], B("0000:00:02.0")), 0);
	assert_int_equal(pvpci_bdf_cmp(&with[1], B("0000:00:06.0")), 0);
	pvpci_hostdev_close(d);
	/* At most max written; the count says how many. */
	assert_int_equal(pvpci_host_intx_sharers(h, B("0000:00:06.0"), NULL, with, 1, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pvpci_bdf_cmp(&with[0], B("0000:00:01.0")), 0);
	/* Pin 0: MSI only, shares nothing though its line says 16; alone on
	 * its line; no irq known. */
	assert_int_equal(pvpci_host_intx_sharers(h, B("0000:00:03.0"), NULL, with, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pvpci_host_intx_sharers(h, B("0000:00:04.0"), NULL, with, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pvpci_host_intx_sharers(h, B("0000:00:05.0"), NULL, NULL, 0, &n), 0);
	assert_int_equal(n, 0);
	/* No such function: -ENODEV, *ret untouched. */
	in = (struct pvpci_intx){ 77, 77 };
	assert_int_equal(pvpci_host_intx(h, B("0000:00:09.0"), &in), -ENODEV);
	assert_int_equal(in.pin, 77);
	assert_non_null(strstr(pvpci_host_errmsg(h), "no function 0000:00:09.0"));
	n = 99;
	assert_int_equal(pvpci_host_intx_sharers(h, B("0000:00:09.0"), NULL, with, 4, &n), -ENODEV);
	assert_int_equal(n, 99);
	pvpci_host_close(h);
}

/* A shadow host asks the host it wraps. */
static void test_shadow(void **state)
{
	struct pvpci_host *h;
	struct pvpci_intx in;
	char spec[600];

	(void)state;
	snprintf(spec, sizeof(spec), "shadow:sim:%s/fixtures/virtio-net.lspci",
		 getenv("PVPCI_SRC") && *getenv("PVPCI_SRC") ? getenv("PVPCI_SRC") : PVPCI_SRC);
	assert_int_equal(pvpci_host_open(spec, &h, err, sizeof(err)), 0);
	assert_int_equal(pvpci_host_intx(h, B("0000:00:03.0"), &in), 0);
	assert_int_equal(in.pin, 0);	/* the fixture's virtio-net: MSI-X only */
	assert_int_equal(pvpci_host_intx(h, B("0000:00:04.0"), &in), -ENODEV);
	pvpci_host_close(h);
}

/* ---- sysfs: a fake tree ---- */

static void set_intx(const char *root, const char *bdf, unsigned pin, const char *irq)
{
	char path[4096];
	uint8_t b = (uint8_t)pin;
	FILE *f;

	f = fopen(fake_path(path, sizeof(path), root, bdf, "config"), "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0x3d, SEEK_SET), 0);
	assert_int_equal(fwrite(&b, 1, 1, f), 1);
	assert_int_equal(fclose(f), 0);
	if (irq)
		assert_int_equal(fake_write_file(fake_path(path, sizeof(path), root, bdf, "irq"), irq, strlen(irq)), 0);
}

static void test_sysfs(void **state)
{
	static const char *const bdfs[] = { "0000:00:01.0", "0000:00:02.0", "0000:00:03.0", "0000:00:04.0",
					    "0000:00:05.0" };
	char root[] = "/tmp/pvpci-intx-XXXXXX", spec[64];
	struct pvpci_host *h;
	struct pvpci_bdf with[4];
	struct pvpci_intx in;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_int_equal(fake_mkdirs(root), 0);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(fake_add_dev(root, &(struct fake_dev){ .bdf = bdfs[i], .cfg_len = 256,
									.class_code = 0x020000 }), 0);
	set_intx(root, bdfs[0], 1, "19\n");
	set_intx(root, bdfs[1], 2, "19\n");
	set_intx(root, bdfs[2], 0, "19\n");	/* MSI only */
	set_intx(root, bdfs[3], 1, "20\n");
	set_intx(root, bdfs[4], 1, NULL);	/* no irq file */
	snprintf(spec, sizeof(spec), "sysfs:%s", root);
	assert_int_equal(pvpci_host_open(spec, &h, err, sizeof(err)), 0);
	assert_int_equal(pvpci_host_intx(h, B(bdfs[1]), &in), 0);
	assert_int_equal(in.pin, 2);
	assert_int_equal(in.irq, 19);
	/* One without an irq file cannot say: skipped as a sharer, an error
	 * when asked of itself. */
	assert_int_equal(pvpci_host_intx_sharers(h, B(bdfs[0]), &in, with, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pvpci_bdf_cmp(&with[0], B(bdfs[1])), 0);
	assert_int_equal(pvpci_host_intx_sharers(h, B(bdfs[2]), &in, with, 4, &n), 0);
	assert_int_equal(in.pin, 0);
	assert_int_equal(n, 0);
	assert_int_equal(pvpci_host_intx_sharers(h, B(bdfs[3]), &in, with, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pvpci_host_intx(h, B(bdfs[4]), &in), -ENOENT);
	assert_non_null(strstr(pvpci_host_errmsg(h), "/0000:00:05.0/irq"));
	set_intx(root, bdfs[4], 1, "nineteen\n");
	assert_int_equal(pvpci_host_intx(h, B(bdfs[4]), &in), -EINVAL);
	assert_non_null(strstr(pvpci_host_errmsg(h), "not a number"));
	assert_int_equal(pvpci_host_intx(h, B("0000:00:09.0"), &in), -ENODEV);
	pvpci_host_close(h);
	fake_rm_tree(root);
}

/* ---- the backend ---- */

struct env {
	char dir[64], state[96];
	struct pvpci_backend *b;
	struct pvpci_host *host;
	char log[1 << 14];
};

static void env_log(void *ctx, int level, const char *msg)
{
	struct env *e = ctx;
	size_t n = strlen(e->log);

	snprintf(e->log + n, sizeof(e->log) - n, "%d %s\n", level, msg);
}

static struct env *env_new(bool allow_all)
{
	struct env *e = calloc(1, sizeof(*e));
	struct pvpci_backend_cfg bc = { .mode = PVPCI_TOPO_VPCI, .log = env_log, .allow_shared_intx = allow_all };

	snprintf(e->dir, sizeof(e->dir), "/tmp/pvpci-intx-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->state, sizeof(e->state), "%s/state", e->dir);
	assert_int_equal(mkdir(e->state, 0700), 0);
	e->host = sim_host();
	bc.host = e->host;
	bc.dev.state_dir = e->state;
	bc.log_ctx = e;
	assert_int_equal(pvpci_backend_new(&bc, &e->b, err, sizeof(err)), 0);
	return e;
}

static void env_free(struct env *e)
{
	pvpci_backend_free(e->b);
	pvpci_host_close(e->host);
	assert_int_equal(rmdir(e->state), 0);	/* every function released */
	assert_int_equal(rmdir(e->dir), 0);
	free(e);
}

static size_t nexports(struct env *e)
{
	return pvpci_backend_exports(e->b, 1, NULL, 0);
}

static void test_backend(void **state)
{
	struct env *e = env_new(false);
	struct pvpci_bdf g;

	(void)state;
	err[0] = 0;
	assert_int_equal(pvpci_backend_export(e->b, 1, B("0000:00:01.0"), PVPCI_VSLOT_ANY, 0, &g, err, sizeof(err)),
			 -EPERM);
	assert_string_equal(err, "0000:00:01.0: its legacy interrupt (INTx, IRQ 16) is shared with 0000:00:02.0, "
				 "0000:00:06.0: Xen does not security-support passing through a device that shares "
				 "resources with another (SUPPORT.md); to accept the risk, attach it with "
				 "allow_shared_intx=1 or run pvpcid --allow-shared-intx");
	assert_int_equal(nexports(e), 0);
	assert_null(strstr(e->log, "restored"));	/* never bound: nothing saved, nothing restored */
	assert_int_equal(pvpci_backend_export(e->b, 1, B("0000:00:06.0"), PVPCI_VSLOT_ANY, PVPCI_EXPORT_PERMISSIVE,
					      &g, err, sizeof(err)), -EPERM);
	/* Accepted: exported, and a warning says what was accepted. */
	assert_int_equal(pvpci_backend_export(e->b, 1, B("0000:00:01.0"), PVPCI_VSLOT_ANY, PVPCI_EXPORT_SHARED_INTX,
					      &g, err, sizeof(err)), 0);
	assert_non_null(strstr(e->log, "4 0000:00:01.0: its legacy interrupt (INTx, IRQ 16) is shared with "
				       "0000:00:02.0, 0000:00:06.0: exported anyway (allow_shared_intx), which Xen "
				       "does not security-support\n"));
	/* Pin 0 (MSI-X only), alone on its line, no irq known: no word. */
	e->log[0] = 0;
	assert_int_equal(pvpci_backend_export(e->b, 1, B("0000:00:03.0"), PVPCI_VSLOT_ANY, 0, &g, err, sizeof(err)), 0);
	assert_int_equal(pvpci_backend_export(e->b, 1, B("0000:00:04.0"), PVPCI_VSLOT_ANY, 0, &g, err, sizeof(err)), 0);
	assert_int_equal(pvpci_backend_export(e->b, 1, B("0000:00:05.0"), PVPCI_VSLOT_ANY, 0, &g, err, sizeof(err)), 0);
	assert_null(strstr(e->log, "legacy interrupt"));
	assert_int_equal(nexports(e), 4);
	env_free(e);

	/* The daemon's --allow-shared-intx: every function. */
	e = env_new(true);
	assert_int_equal(pvpci_backend_export(e->b, 2, B("0000:00:02.0"), PVPCI_VSLOT_ANY, 0, &g, err, sizeof(err)), 0);
	assert_non_null(strstr(e->log, "4 0000:00:02.0: its legacy interrupt (INTx, IRQ 16) is shared with "
				       "0000:00:01.0, 0000:00:06.0: exported anyway"));
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sim),
		cmocka_unit_test(test_shadow),
		cmocka_unit_test(test_sysfs),
		cmocka_unit_test(test_backend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
