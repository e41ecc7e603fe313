/*
 * The toolstack library (include/pvpci/toolstack.h): xl's PCI spec and
 * host specs parsed; then against a real store (pvpci-stored's engine in a
 * thread, spoken to through libxenstore as the verbs do) with no backend
 * running, so that every wait times out: detach's renumbering key by key,
 * list, the assignable nodes, and an attach or detach that nobody answers
 * leaving the store exactly as it found it.  Last, seizing on a fake sysfs
 * tree: what it refuses, and that a refusal writes nothing.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>
#include <xenstore.h>

#include "pvpci/store.h"
#include "pvpci/toolstack.h"
#include "fake_sysfs.h"
#include "fakexen.h"

/* ---- xl's PCI spec ---- */

static void test_spec_ok(void **state)
{
	struct pvpci_pci_spec sp;
	char err[256];

	(void)state;
	assert_int_equal(pvpci_pci_spec_parse("00:03.0", &sp, err, sizeof(err)), 0);
	assert_int_equal(sp.bdf.domain, 0);
	assert_int_equal(sp.bdf.bus, 0);
	assert_int_equal(sp.bdf.dev, 3);
	assert_int_equal(sp.bdf.fn, 0);
	assert_int_equal(sp.vdevfn, 0);
	assert_false(sp.permissive || sp.msitranslate || sp.power_mgmt || sp.seize || sp.rdm_relaxed ||
		     sp.allow_shared_intx);

	assert_int_equal(pvpci_pci_spec_parse("0001:0a:1f.7@5", &sp, err, sizeof(err)), 0);
	assert_int_equal(sp.bdf.domain, 1);
	assert_int_equal(sp.bdf.bus, 0xa);
	assert_int_equal(sp.bdf.dev, 0x1f);
	assert_int_equal(sp.bdf.fn, 7);
	assert_int_equal(sp.vdevfn, 0x28);	/* libxl: VSLOT << 3 */

	assert_int_equal(pvpci_pci_spec_parse("00:03.0@1f,permissive=1,msitranslate=1,power_mgmt=1,seize=1,rdm_policy=relaxed",
					      &sp, err, sizeof(err)),
			 0);
	assert_int_equal(sp.vdevfn, 0xf8);
	assert_true(sp.permissive && sp.msitranslate && sp.power_mgmt && sp.seize && sp.rdm_relaxed);

	assert_int_equal(pvpci_pci_spec_parse("00:03.0,permissive=1,permissive=0,rdm_policy=strict", &sp, err,
					      sizeof(err)),
			 0);
	assert_false(sp.permissive);
	assert_false(sp.rdm_relaxed);

	assert_int_equal(pvpci_pci_spec_parse("00:03.0,allow_shared_intx=1", &sp, err, sizeof(err)), 0);
	assert_true(sp.allow_shared_intx);
	assert_false(sp.permissive);
	assert_int_equal(pvpci_pci_spec_parse("00:03.0,allow_shared_intx=0", &sp, err, sizeof(err)), 0);
	assert_false(sp.allow_shared_intx);
}

static void test_spec_bad(void **state)
{
	static const char *const bad[] = {
		"", "00:03", "00:03.*", "00:03.0@", "00:03.0@20", "00:03.0@g", "00:03.0,",
		"00:03.0,permissive", "00:03.0,permissive=2", "00:03.0,permissive=11", "00:03.0,foo=1",
		"00:03.0,rdm_policy=lax", "00:03.0x", "00:03.0@5x", "00:03.0,seize=1,", "00:20.0", "00:03.8",
		"00:03.0,allow_shared_intx=yes", "00:03.0,allow_shared_int=1", "00:03.0,shared_intx=1",
	};
	struct pvpci_pci_spec sp, before;
	char err[256];

	(void)state;
	memset(&sp, 0x5a, sizeof(sp));
	before = sp;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		if (pvpci_pci_spec_parse(bad[i], &sp, err, sizeof(err)) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(err[0] != 0);
		assert_memory_equal(&sp, &before, sizeof(sp));
	}
	assert_int_equal(pvpci_pci_spec_parse("00:03.*", &sp, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "wildcard"));
	assert_int_equal(pvpci_pci_spec_parse("00:03.0,foo=1", &sp, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown option"));
}

static void test_host_spec(void **state)
{
	struct pvpci_ts_host h;
	char err[256];

	(void)state;
	assert_int_equal(pvpci_ts_host_parse(NULL, &h, err, sizeof(err)), 0);
	assert_false(h.sysfs);
	assert_int_equal(pvpci_ts_host_parse("none", &h, err, sizeof(err)), 0);
	assert_false(h.sysfs);
	assert_int_equal(pvpci_ts_host_parse("sim:fixtures/virtio-net.lspci", &h, err, sizeof(err)), 0);
	assert_false(h.sysfs);
	assert_int_equal(pvpci_ts_host_parse("sysfs", &h, err, sizeof(err)), 0);
	assert_true(h.sysfs);
	assert_string_equal(h.root, "/sys");
	assert_int_equal(pvpci_ts_host_parse("sysfs:", &h, err, sizeof(err)), 0);
	assert_string_equal(h.root, "/sys");
	assert_int_equal(pvpci_ts_host_parse("sysfs:/tmp/fake", &h, err, sizeof(err)), 0);
	assert_string_equal(h.root, "/tmp/fake");
	assert_false(h.force);
	assert_int_equal(pvpci_ts_host_parse("sysfs:/tmp/x,writes=1", &h, err, sizeof(err)), -EINVAL);
	assert_int_equal(pvpci_ts_host_parse("shadow:sysfs", &h, err, sizeof(err)), -EINVAL);
}

/* ---- a store in a thread ---- */

struct fx {
	char dir[64], sock[96];
	struct pvpci_store *s;
	pthread_t thr;
	atomic_bool stop;
	struct xs_handle *xs;
};

static void *serve(void *arg)
{
	struct fx *f = arg;

	while (!atomic_load(&f->stop))
		if (pvpci_store_run(f->s, 20) < 0)
			break;
	return NULL;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pvpci_store_cfg cfg = { 0 };
	char err[256];

	assert_non_null(f);
	strcpy(f->dir, "/tmp/pvpci-ts-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/sock", f->dir);
	cfg.socket_path = f->sock;
	if (pvpci_store_new(&cfg, &f->s, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(pthread_create(&f->thr, NULL, serve, f), 0);
	setenv("XENSTORED_PATH", f->sock, 1);
	f->xs = xs_open(0);
	assert_non_null(f->xs);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	xs_close(f->xs);
	atomic_store(&f->stop, true);
	pthread_join(f->thr, NULL);
	pvpci_store_free(f->s);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void put(struct fx *f, const char *path, const char *val)
{
	if (!xs_write(f->xs, XBT_NULL, path, val, (unsigned)strlen(val)))
		fail_msg("write %s: %s", path, strerror(errno));
}

/* path's value, "(none)" when absent; into a static buffer. */
static const char *get(struct fx *f, const char *path)
{
	static char buf[256];
	unsigned len;
	char *v = xs_read(f->xs, XBT_NULL, path, &len);

	snprintf(buf, sizeof(buf), "%s", v ? v : "(none)");
	free(v);
	return buf;
}

/* Every node below path with its value and permissions, one per line. */
static void dump(struct fx *f, FILE *out, const char *path)
{
	unsigned n = 0, np = 0, len;
	char **kids = xs_directory(f->xs, XBT_NULL, path, &n);
	struct xs_permissions *p = xs_get_permissions(f->xs, XBT_NULL, path, &np);
	char *v = xs_read(f->xs, XBT_NULL, path, &len);

	fprintf(out, "%s=%s", path, v ? v : "");
	for (unsigned i = 0; p && i < np; i++)
		fprintf(out, " %u:%d", p[i].id, p[i].perms);
	fputc('\n', out);
	free(v);
	free(p);
	for (unsigned i = 0; kids && i < n; i++) {
		char sub[512];

		snprintf(sub, sizeof(sub), "%s/%s", strcmp(path, "/") ? path : "", kids[i]);
		dump(f, out, sub);
	}
	free(kids);
}

static char *tree(struct fx *f)
{
	char *s = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&s, &len);

	dump(f, out, "/");
	fclose(out);
	return s;
}

/* The statements leave what snap (a malloc'd string: tree(f), written(s))
 * shows as they found it. */
#define UNCHANGED(snap, ...)                             \
	do {                                             \
		char *before_ = snap, *after_;           \
		__VA_ARGS__;                             \
		after_ = snap;                           \
		assert_string_equal(before_, after_);    \
		free(after_);                            \
		free(before_);                           \
	} while (0)

#define BE "/local/domain/0/backend/pci/7/0"

/* A device of domain 7 with n entries, Connected, as an attach leaves it;
 * entry i is function 00:0i.0, optional keys on some entries only. */
static void make_dev(struct fx *f, int n)
{
	char path[128], val[64];

	put(f, BE "/frontend", "/local/domain/7/device/pci/0");
	put(f, BE "/state", "4");
	snprintf(val, sizeof(val), "%d", n);
	put(f, BE "/num_devs", val);
	for (int i = 0; i < n; i++) {
		snprintf(val, sizeof(val), "0000:00:%02x.0", i + 1);
		snprintf(path, sizeof(path), BE "/dev-%d", i);
		put(f, path, val);
		snprintf(path, sizeof(path), BE "/key-%d", i);
		put(f, path, val);
		snprintf(path, sizeof(path), BE "/state-%d", i);
		put(f, path, "3");
		snprintf(path, sizeof(path), BE "/vdev-%d", i);
		snprintf(val, sizeof(val), "0000:00:%02x.00", i);
		put(f, path, val);
		snprintf(path, sizeof(path), BE "/opts-%d", i);
		snprintf(val, sizeof(val), "permissive=%d", i);
		put(f, path, val);
		if (i % 2) {
			snprintf(path, sizeof(path), BE "/vdevfn-%d", i);
			snprintf(val, sizeof(val), "%x", (i + 8) << 3);
			put(f, path, val);
		}
		if (i == 2) {
			snprintf(path, sizeof(path), BE "/name-%d", i);
			put(f, path, "two");
		}
	}
	put(f, "/libxl/pci/0000-00-01-0/domid", "7");
	put(f, "/libxl/pci/0000-00-02-0/domid", "7");
}

static void remove_in_tx(struct fx *f, int i, int num)
{
	xs_transaction_t t = xs_transaction_start(f->xs);

	assert_true(t != XBT_NULL);
	assert_int_equal(pvpci_ts_remove_entry(f->xs, t, BE, i, num), 0);
	assert_true(xs_transaction_end(f->xs, t, false));
}

/* Entry i holds what make_dev gave entry k (k < 0: no entry i). */
static void assert_entry(struct fx *f, int i, int k)
{
	static const char *const keys[] = { "dev", "key", "state", "vdev", "opts", "vdevfn", "name" };
	char path[128], want[64];

	for (size_t j = 0; j < sizeof(keys) / sizeof(keys[0]); j++) {
		snprintf(path, sizeof(path), BE "/%s-%d", keys[j], i);
		if (k < 0)
			strcpy(want, "(none)");
		else if (j < 2)
			snprintf(want, sizeof(want), "0000:00:%02x.0", k + 1);
		else if (j == 2)
			strcpy(want, "3");
		else if (j == 3)
			snprintf(want, sizeof(want), "0000:00:%02x.00", k);
		else if (j == 4)
			snprintf(want, sizeof(want), "permissive=%d", k);
		else if (j == 5 && k % 2)
			snprintf(want, sizeof(want), "%x", (k + 8) << 3);
		else if (j == 6 && k == 2)
			strcpy(want, "two");
		else
			strcpy(want, "(none)");
		if (strcmp(get(f, path), want))
			fail_msg("%s: '%s', expected '%s' (entry %d of the old numbering)", path, get(f, path), want,
				 k);
	}
}

/* libxl's renumbering: every later entry moves down one, optional keys
 * only where they were, nothing stale left at the old last index. */
static void test_remove_entry(void **state)
{
	struct fx *f = *state;

	make_dev(f, 4);
	remove_in_tx(f, 1, 4);
	assert_string_equal(get(f, BE "/num_devs"), "3");
	assert_entry(f, 0, 0);
	assert_entry(f, 1, 2);
	assert_entry(f, 2, 3);
	assert_entry(f, 3, -1);
	remove_in_tx(f, 0, 3);	/* the first */
	assert_string_equal(get(f, BE "/num_devs"), "2");
	assert_entry(f, 0, 2);
	assert_entry(f, 1, 3);
	assert_entry(f, 2, -1);
	remove_in_tx(f, 1, 2);	/* the last */
	assert_string_equal(get(f, BE "/num_devs"), "1");
	assert_entry(f, 0, 2);
	assert_entry(f, 1, -1);
	assert_int_equal(pvpci_ts_remove_entry(f->xs, XBT_NULL, BE, 1, 1), -EINVAL);
	xs_rm(f->xs, XBT_NULL, "/local/domain/0/backend");
	xs_rm(f->xs, XBT_NULL, "/libxl");
}

/* list: vdev-N (the backend's) first, else vdevfn-N (the toolstack's), else 00.0. */
static void test_list(void **state)
{
	struct fx *f = *state;
	struct pvpci_ts_dev d[8];
	size_t n = 99;
	char err[256];

	assert_int_equal(pvpci_ts_list(f->xs, 7, d, 8, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	make_dev(f, 3);
	xs_rm(f->xs, XBT_NULL, BE "/vdev-1");	/* vdevfn-1 = 0x48: 09.0 */
	xs_rm(f->xs, XBT_NULL, BE "/vdev-2");	/* neither: 00.0 */
	put(f, BE "/vdev-0", "0000:00:1f.03");
	assert_int_equal(pvpci_ts_list(f->xs, 7, d, 8, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(d[0].bdf.dev, 1);
	assert_int_equal(d[0].vdevfn, 0x1f << 3 | 3);
	assert_int_equal(d[1].bdf.dev, 2);
	assert_int_equal(d[1].vdevfn, 9 << 3);
	assert_int_equal(d[2].bdf.dev, 3);
	assert_int_equal(d[2].vdevfn, 0);
	xs_rm(f->xs, XBT_NULL, "/local/domain/0/backend");
	xs_rm(f->xs, XBT_NULL, "/libxl");
}

static void test_assignable(void **state)
{
	struct fx *f = *state;
	struct pvpci_ts_assignable a[8];
	struct pvpci_bdf b1 = { 0, 0, 3, 0 }, b2 = { 1, 2, 4, 1 };
	size_t n = 99;
	char err[256];

	assert_int_equal(pvpci_ts_assignable_list(f->xs, a, 8, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pvpci_ts_assignable_add(f->xs, NULL, &b2, "nic", err, sizeof(err)), 0);
	assert_int_equal(pvpci_ts_assignable_add(f->xs, NULL, &b1, NULL, err, sizeof(err)), 0);
	assert_int_equal(pvpci_ts_assignable_add(f->xs, NULL, &b1, NULL, err, sizeof(err)), 1);
	assert_string_equal(get(f, "/libxl/pci/0000-00-03-0/driver_path"), "");
	assert_string_equal(get(f, "/libxl/pci/0001-02-04-1/name"), "nic");
	assert_int_equal(pvpci_ts_assignable_list(f->xs, a, 8, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pvpci_bdf_cmp(&a[0].bdf, &b1), 0);	/* by address */
	assert_string_equal(a[0].name, "");
	assert_int_equal(pvpci_bdf_cmp(&a[1].bdf, &b2), 0);
	assert_string_equal(a[1].name, "nic");
	/* A domain's: not listed, not removable. */
	put(f, "/libxl/pci/0000-00-03-0/domid", "5");
	assert_int_equal(pvpci_ts_assignable_list(f->xs, a, 8, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pvpci_ts_assignable_remove(f->xs, NULL, &b1, true, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "domain 5"));
	xs_rm(f->xs, XBT_NULL, "/libxl/pci/0000-00-03-0/domid");
	assert_int_equal(pvpci_ts_assignable_remove(f->xs, NULL, &b1, true, err, sizeof(err)), 0);
	assert_string_equal(get(f, "/libxl/pci/0000-00-03-0"), "(none)");
	assert_int_equal(pvpci_ts_assignable_remove(f->xs, NULL, &b1, true, err, sizeof(err)), -ENOENT);
	assert_int_equal(pvpci_ts_assignable_remove(f->xs, NULL, &b2, false, err, sizeof(err)), 0);
	xs_rm(f->xs, XBT_NULL, "/libxl");
}

/* Nobody answers a first attach: everything it made is gone, the domain's
 * own directory kept; a function that is not assignable or a domain's
 * already is refused with nothing written. */
static void test_attach_unanswered(void **state)
{
	struct fx *f = *state;
	struct pvpci_ts_opts o = { .timeout_ms = 100 };
	struct pvpci_pci_spec sp;
	char err[512];

	put(f, "/local/domain/7/name", "guest7");
	assert_int_equal(pvpci_pci_spec_parse("00:03.0@2", &sp, err, sizeof(err)), 0);
	UNCHANGED(tree(f),
		assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -ENODEV);
		assert_non_null(strstr(err, "not assignable")));

	put(f, "/libxl/pci/0000-00-03-0/driver_path", "");
	put(f, "/libxl/pci/0000-00-03-0/domid", "3");
	UNCHANGED(tree(f),
		assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -EBUSY);
		assert_non_null(strstr(err, "domain 3")));

	xs_rm(f->xs, XBT_NULL, "/libxl/pci/0000-00-03-0/domid");
	UNCHANGED(tree(f),
		assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -ETIMEDOUT);
		assert_non_null(strstr(err, "in 100 ms"));
		assert_non_null(strstr(err, "nothing left behind")));
	assert_int_equal(pvpci_ts_attach(f->xs, 0, &sp, &o, err, sizeof(err)), -EINVAL);
	xs_rm(f->xs, XBT_NULL, "/libxl");
	xs_rm(f->xs, XBT_NULL, "/local/domain/7");
}

/* A first attach seen before it is rolled back: libxl's keys and
 * permissions, Domain-N for a domain without a name. */
struct attach_thr {
	const struct pvpci_pci_spec *sp;
	int r;
};

static void *attach_thread(void *arg)
{
	struct attach_thr *a = arg;
	struct pvpci_ts_opts o = { .timeout_ms = 300 };
	struct xs_handle *xs = xs_open(0);
	char err[512];

	a->r = xs ? pvpci_ts_attach(xs, 7, a->sp, &o, err, sizeof(err)) : -EIO;
	if (xs)
		xs_close(xs);
	return NULL;
}

/* Wait (bounded) for a watch event. */
static void next_event(struct fx *f)
{
	struct pollfd p = { .fd = xs_fileno(f->xs), .events = POLLIN };
	unsigned len;

	assert_int_equal(poll(&p, 1, 5000), 1);
	free(xs_read_watch(f->xs, &len));
}

static void test_attach_layout(void **state)
{
	struct fx *f = *state;
	struct attach_thr a = { 0 };
	struct pvpci_pci_spec sp;
	struct xs_permissions *p;
	pthread_t thr;
	char err[512];
	unsigned np;

	put(f, "/libxl/pci/0000-00-03-0/driver_path", "");
	assert_int_equal(pvpci_pci_spec_parse("00:03.0@5,permissive=1,rdm_policy=relaxed", &sp, err, sizeof(err)),
			 0);
	assert_true(xs_watch(f->xs, BE "/num_devs", "t"));
	next_event(f);	/* the first one, at once */
	a.sp = &sp;
	assert_int_equal(pthread_create(&thr, NULL, attach_thread, &a), 0);
	next_event(f);	/* the attach's transaction committed */
	assert_string_equal(get(f, BE "/frontend"), "/local/domain/7/device/pci/0");
	assert_string_equal(get(f, BE "/frontend-id"), "7");
	assert_string_equal(get(f, BE "/online"), "1");
	assert_string_equal(get(f, BE "/state"), "1");
	assert_string_equal(get(f, BE "/domain"), "Domain-7");
	assert_string_equal(get(f, BE "/num_devs"), "1");
	assert_string_equal(get(f, BE "/key-0"), "0000:00:03.0");
	assert_string_equal(get(f, BE "/dev-0"), "0000:00:03.0");
	assert_string_equal(get(f, BE "/vdevfn-0"), "28");
	assert_string_equal(get(f, BE "/opts-0"), "msitranslate=0,power_mgmt=0,permissive=1,rdm_policy=relaxed");
	assert_string_equal(get(f, BE "/state-0"), "1");
	assert_string_equal(get(f, "/local/domain/7/device/pci/0/backend"), BE);
	assert_string_equal(get(f, "/local/domain/7/device/pci/0/backend-id"), "0");
	assert_string_equal(get(f, "/local/domain/7/device/pci/0/state"), "1");
	assert_string_equal(get(f, "/libxl/pci/0000-00-03-0/domid"), "7");
	p = xs_get_permissions(f->xs, XBT_NULL, BE, &np);
	assert_non_null(p);
	assert_int_equal(np, 2);
	assert_true(p[0].id == 0 && p[0].perms == XS_PERM_NONE && p[1].id == 7 && p[1].perms == XS_PERM_READ);
	free(p);
	p = xs_get_permissions(f->xs, XBT_NULL, "/local/domain/7/device/pci/0", &np);
	assert_non_null(p);
	assert_int_equal(np, 2);
	assert_true(p[0].id == 7 && p[0].perms == XS_PERM_NONE && p[1].id == 0 && p[1].perms == XS_PERM_READ);
	free(p);
	assert_int_equal(pthread_join(thr, NULL), 0);
	assert_int_equal(a.r, -ETIMEDOUT);
	xs_unwatch(f->xs, BE "/num_devs", "t");
	/* Rolled back: what it made is gone, /local/domain/7 included (it made it). */
	assert_string_equal(get(f, "/local/domain/0/backend"), "(none)");
	assert_string_equal(get(f, "/local/domain/7"), "(none)");
	assert_string_equal(get(f, "/libxl/pci/0000-00-03-0/domid"), "(none)");
	xs_rm(f->xs, XBT_NULL, "/libxl");
}

/* A hot attach nobody answers: entry, num_devs, state and domid back. */
static void test_hot_attach_unanswered(void **state)
{
	struct fx *f = *state;
	struct pvpci_ts_opts o = { .timeout_ms = 100 };
	struct pvpci_pci_spec sp;
	char err[512];

	make_dev(f, 2);
	put(f, "/libxl/pci/0000-00-09-0/driver_path", "");
	assert_int_equal(pvpci_pci_spec_parse("00:09.0", &sp, err, sizeof(err)), 0);
	UNCHANGED(tree(f),
		assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -ETIMEDOUT);
		assert_non_null(strstr(err, "Reconfiguring")));
	/* A reconfiguration that never ends: it waits, then gives up, nothing written. */
	put(f, BE "/state", "8");
	UNCHANGED(tree(f),
		assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -ETIMEDOUT);
		assert_non_null(strstr(err, "did not settle")));
	/* Closed: refused at once. */
	put(f, BE "/state", "6");
	assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -EPIPE);
	xs_rm(f->xs, XBT_NULL, "/local/domain/0/backend");
	xs_rm(f->xs, XBT_NULL, "/libxl");
}

/* A detach nobody answers: restored without force, removed with it. */
static void test_detach_unanswered(void **state)
{
	struct fx *f = *state;
	struct pvpci_ts_opts o = { .timeout_ms = 100 };
	struct pvpci_bdf b1 = { 0, 0, 1, 0 }, b9 = { 0, 0, 9, 0 };
	char err[512];

	make_dev(f, 3);
	assert_int_equal(pvpci_ts_detach(f->xs, 7, &b9, &o, err, sizeof(err)), -ENOENT);
	assert_int_equal(pvpci_ts_detach(f->xs, 8, &b1, &o, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no PCI device"));
	UNCHANGED(tree(f),
		assert_int_equal(pvpci_ts_detach(f->xs, 7, &b1, &o, err, sizeof(err)), -ETIMEDOUT);
		assert_non_null(strstr(err, "restored")));
	o.force = true;
	assert_int_equal(pvpci_ts_detach(f->xs, 7, &b1, &o, err, sizeof(err)), 0);
	assert_string_equal(get(f, BE "/state"), "4");
	assert_string_equal(get(f, BE "/num_devs"), "2");
	assert_entry(f, 0, 1);
	assert_entry(f, 1, 2);
	assert_entry(f, 2, -1);
	assert_string_equal(get(f, "/libxl/pci/0000-00-01-0/domid"), "(none)");
	assert_string_equal(get(f, "/libxl/pci/0000-00-02-0/domid"), "7");
	/* Not connected (no frontend yet): removed at once, no force needed;
	 * the last one takes the directories and their empty parents. */
	o.force = false;
	put(f, BE "/state", "3");
	put(f, "/local/domain/7/device/pci/0/state", "1");
	put(f, "/local/domain/7/name", "guest7");
	assert_int_equal(pvpci_ts_detach(f->xs, 7, &b1, &o, err, sizeof(err)), -ENOENT);
	b1.dev = 2;
	assert_int_equal(pvpci_ts_detach(f->xs, 7, &b1, &o, err, sizeof(err)), 0);
	b1.dev = 3;
	assert_int_equal(pvpci_ts_detach(f->xs, 7, &b1, &o, err, sizeof(err)), 0);
	assert_string_equal(get(f, "/local/domain/0/backend"), "(none)");
	assert_string_equal(get(f, "/local/domain/7/device"), "(none)");
	assert_string_equal(get(f, "/local/domain/7/name"), "guest7");
	assert_string_equal(get(f, "/local/domain/0"), "");
	xs_rm(f->xs, XBT_NULL, "/libxl");
	xs_rm(f->xs, XBT_NULL, "/local/domain/7");
}

/* ---- on Xen: what the guest may reach ---- */

/* pvpcid's part, faked: each entry Initialising is exported (3). */
struct exporter {
	pthread_t thr;
	atomic_bool stop;
};

static void *exporter_run(void *arg)
{
	struct exporter *x = arg;
	struct xs_handle *xs = xs_open(0);

	assert_non_null(xs);
	assert_true(xs_watch(xs, BE, "x"));
	while (!atomic_load(&x->stop)) {
		struct pollfd p = { .fd = xs_fileno(xs), .events = POLLIN };
		unsigned len;
		char *v;

		for (int i = 0; i < 4; i++) {
			char path[128];

			snprintf(path, sizeof(path), BE "/state-%d", i);
			v = xs_read(xs, XBT_NULL, path, &len);
			if (v && !strcmp(v, "1"))
				xs_write(xs, XBT_NULL, path, "3", 1);
			free(v);
		}
		/* Then the device's own state, as pvpcid sets up. */
		v = xs_read(xs, XBT_NULL, BE "/state", &len);
		if (v && (!strcmp(v, "1") || !strcmp(v, "2")))
			xs_write(xs, XBT_NULL, BE "/state", "3", 1);
		free(v);
		if (poll(&p, 1, 50) == 1)
			free(xs_read_watch(xs, &len));
	}
	xs_close(xs);
	return NULL;
}

/* 00:03.0's BARs: 4 KiB of memory, 1 MiB of 64-bit prefetchable memory,
 * 32 I/O ports, and a 512 KiB ROM; its legacy interrupt is 11. */
static const char perm_resource[] =
	"0x00000000fe000000 0x00000000fe000fff 0x0000000000040200\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000002000000000 0x00000020000fffff 0x000000000014220c\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x000000000000c000 0x000000000000c01f 0x0000000000040101\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x00000000fe080000 0x00000000fe0fffff 0x0000000000046200\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n";

#define GIVEN	"msix(0000:00:03.0,prepare) iomem(7,0xfe000,1,on) iomem(7,0x2000000,256,on) " \
		"ioport(7,0xc000,32,on) iomem(7,0xfe080,128,on) gsi(7,11) irq(7,11,on) " \
		"assign(7,0000:00:03.0,strict) "
#define TAKEN	"iomem(7,0xfe080,128,off) ioport(7,0xc000,32,off) iomem(7,0x2000000,256,off) " \
		"iomem(7,0xfe000,1,off) unmap(7,11) irq(7,11,off) deassign(7,0000:00:03.0) " \
		"msix(0000:00:03.0,release) "
#define REVOKED	"iomem(7,0xfe080,128,off) ioport(7,0xc000,32,off) iomem(7,0x2000000,256,off) " \
		"iomem(7,0xfe000,1,off) unmap(7,11) irq(7,11,off) "

/* sp attached to domain 7 and detached, exported by a thread meanwhile:
 * what each asked of Xen, in order, is calls. */
static void attach_detach(struct fx *f, struct fake_hv *h, const struct pvpci_pci_spec *sp,
			  const struct pvpci_ts_opts *o, const char *calls)
{
	struct exporter x = { 0 };
	char err[512];

	assert_int_equal(pthread_create(&x.thr, NULL, exporter_run, &x), 0);
	h->calls[0] = 0;
	if (pvpci_ts_attach(f->xs, 7, sp, o, err, sizeof(err)) < 0)
		fail_msg("attach: %s", err);
	if (pvpci_ts_detach(f->xs, 7, &sp->bdf, o, err, sizeof(err)) < 0)
		fail_msg("detach: %s", err);
	assert_string_equal(h->calls, calls);
	atomic_store(&x.stop, true);
	pthread_join(x.thr, NULL);
}

/* 00:03.0 under root (made already) as GIVEN has it: its legacy
 * interrupt 11 (irq, its path), MSI-X at 0x40 alone in config (cfg, its
 * path cfgpath). */
static void perm_dev(const char *root, uint8_t cfg[256], char irq[128], char cfgpath[128])
{
	snprintf(irq, 128, "%s/devices/pci0000:00/0000:00:03.0/irq", root);
	assert_int_equal(fake_write_file(irq, "11\n", 3), 0);
	snprintf(cfgpath, 128, "%s/devices/pci0000:00/0000:00:03.0/config", root);
	memset(cfg, 0, 256);
	cfg[0x06] = 0x10;
	cfg[0x34] = 0x40;
	cfg[0x40] = 0x11;
	assert_int_equal(fake_write_file(cfgpath, cfg, 256), 0);
}

static void test_permissions(void **state)
{
	struct fx *f = *state;
	struct fake_dev fd = { "0000:00:03.0", 256, 0x020000, "pci-stub", perm_resource, 0 };
	struct pvpci_ts_host host = { .sysfs = true };
	struct pvpci_ts_opts o = { .timeout_ms = 5000, .host = &host };
	struct exporter x = { 0 };
	struct pvpci_pci_spec sp;
	struct pvpci_bdf b3 = { 0, 0, 3, 0 };
	struct fake_hv h;
	char err[512], irq[128], cfgpath[128];
	uint8_t cfg[256];

	strcpy(host.root, "/tmp/pvpci-tsp-XXXXXX");
	assert_non_null(mkdtemp(host.root));
	assert_int_equal(fake_mkdirs(host.root), 0);
	assert_int_equal(fake_add_dev(host.root, &fd), 0);
	perm_dev(host.root, cfg, irq, cfgpath);
	fake_hv_init(&h);
	o.hv = &h.hv;
	put(f, "/libxl/pci/0000-00-03-0/driver_path", "");
	assert_int_equal(pvpci_pci_spec_parse("00:03.0", &sp, err, sizeof(err)), 0);

	/* Given at attach, taken back at detach (no frontend: at once). */
	assert_int_equal(pthread_create(&x.thr, NULL, exporter_run, &x), 0);
	if (pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)) < 0)
		fail_msg("attach: %s", err);
	assert_string_equal(h.calls, GIVEN);
	/* Attached already: refused, and nothing given or taken twice. */
	h.calls[0] = 0;
	assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -EBUSY);
	assert_string_equal(h.calls, "");
	if (pvpci_ts_detach(f->xs, 7, &b3, &o, err, sizeof(err)) < 0)
		fail_msg("detach: %s", err);
	assert_string_equal(h.calls, TAKEN);
	assert_int_equal(h.mapped, 0);
	atomic_store(&x.stop, true);
	pthread_join(x.thr, NULL);

	/* Nobody exports it: rolled back, and taken back. */
	o.timeout_ms = 100;
	h.calls[0] = 0;
	UNCHANGED(tree(f),
		assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -ETIMEDOUT));
	assert_string_equal(h.calls, GIVEN TAKEN);

	/* Xen refuses: nothing written, nothing left given. */
	h.calls[0] = 0;
	h.perm_err = -EPERM;
	UNCHANGED(tree(f),
		assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -EPERM));
	assert_string_equal(err, "0000:00:03.0: giving domain 7 its memory 0xfe000000-0xfe000fff: "
				 "Operation not permitted");
	assert_string_equal(h.calls, "msix(0000:00:03.0,prepare) iomem(7,0xfe000,1,on) "
				     "msix(0000:00:03.0,release) ");
	h.perm_err = 0;

	/* A domain without an IOMMU context: Xen will not assign the
	 * function, and without it the guest could neither DMA nor have
	 * MSI: refused, everything given taken back.  A Xen that knows no
	 * assignment at all (ENOSYS) is let be, as libxl does. */
	h.calls[0] = 0;
	h.assign_err = -EOPNOTSUPP;
	UNCHANGED(tree(f),
		assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -EOPNOTSUPP));
	assert_non_null(strstr(err, "0000:00:03.0: assigning it to domain 7 (xc_assign_device): "));
	assert_non_null(strstr(err, "passthrough=\"enabled\""));
	assert_string_equal(h.calls, GIVEN REVOKED "msix(0000:00:03.0,release) ");
	h.calls[0] = 0;
	h.assign_err = -ENOSYS;
	assert_int_equal(pvpci_pci_spec_parse("00:03.0,rdm_policy=relaxed", &sp, err, sizeof(err)), 0);
	UNCHANGED(tree(f),
		assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -ETIMEDOUT));
	assert_non_null(strstr(h.calls, "assign(7,0000:00:03.0,relaxed) "));
	assert_non_null(strstr(h.calls, "deassign(7,0000:00:03.0) "));
	h.assign_err = 0;
	assert_int_equal(pvpci_pci_spec_parse("00:03.0", &sp, err, sizeof(err)), 0);

	/* No MSI-X (-ENODEV), or its table prepared already (-EBUSY):
	 * nothing to release when the attach fails. */
	for (int e = 0; e < 2; e++) {
		h.calls[0] = 0;
		h.msix_err = e ? -EBUSY : -ENODEV;
		h.perm_err = -EPERM;
		UNCHANGED(tree(f),
			assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -EPERM));
		assert_string_equal(h.calls, "msix(0000:00:03.0,prepare) iomem(7,0xfe000,1,on) ");
	}
	h.msix_err = 0;

	/* A function without MSI-X is never prepared: Xen 4.17 dereferences
	 * NULL for one (make e2e's edu panicked it). */
	cfg[0x40] = 0x05;	/* MSI */
	assert_int_equal(fake_write_file(cfgpath, cfg, sizeof(cfg)), 0);
	h.calls[0] = 0;
	UNCHANGED(tree(f),
		assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -EPERM));
	assert_string_equal(h.calls, "iomem(7,0xfe000,1,on) ");
	cfg[0x40] = 0x11;
	assert_int_equal(fake_write_file(cfgpath, cfg, sizeof(cfg)), 0);
	h.perm_err = 0;

	/* Simulated (--host sim), whatever this host has at its address:
	 * nothing given, nothing taken. */
	{
		struct pvpci_ts_host sim;

		assert_int_equal(pvpci_ts_host_parse("sim", &sim, err, sizeof(err)), 0);
		assert_true(sim.sim);
		o.host = &sim;
		o.timeout_ms = 5000;
		attach_detach(f, &h, &sp, &o, "");
		o.host = &host;
		o.timeout_ms = 100;
		assert_int_equal(pvpci_ts_host_parse("none", &sim, err, sizeof(err)), 0);
		assert_false(sim.sim);
	}

	/* A function this host does not have (simulated): nothing to give;
	 * one that is not assignable: nothing given. */
	h.calls[0] = 0;
	put(f, "/libxl/pci/0000-00-09-0/driver_path", "");
	assert_int_equal(pvpci_pci_spec_parse("00:09.0", &sp, err, sizeof(err)), 0);
	assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -ETIMEDOUT);
	assert_int_equal(pvpci_pci_spec_parse("00:0a.0", &sp, err, sizeof(err)), 0);
	assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -ENODEV);
	assert_string_equal(h.calls, "");

	/* A resource file that is not one: refused before anything is written. */
	assert_int_equal(fake_write_file(irq, "eleven\n", 7), 0);
	assert_int_equal(pvpci_pci_spec_parse("00:03.0", &sp, err, sizeof(err)), 0);
	UNCHANGED(tree(f),
		assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -EBADMSG));
	assert_non_null(strstr(err, "/irq: not a number"));
	assert_string_equal(h.calls, "");
	xs_rm(f->xs, XBT_NULL, "/libxl");
	fake_rm_tree(host.root);
}

/* ---- seizing on a fake sysfs ---- */

struct sfx {
	char root[64];
	struct pvpci_ts_host h;
};

static void mkfile(const char *root, const char *rel, const char *content)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(fake_write_file(path, content, strlen(content)), 0);
}

static const char *slurp(const char *root, const char *rel)
{
	static char buf[256];
	char path[256];
	long n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	n = fake_read_file(path, buf, sizeof(buf) - 1);
	buf[n < 0 ? 0 : n] = 0;
	return n < 0 ? "(none)" : buf;
}

static const struct fake_dev sdevs[] = {
	{ "0000:00:00.0", 256, 0x060400, NULL, NULL, 0 },	/* a bridge */
	{ "0000:00:03.0", 256, 0x020000, "virtio-pci", NULL, 0 },
	{ "0000:00:04.0", 256, 0x010000, "pci-stub", NULL, 0 },
	{ "0000:00:05.0", 256, 0x020000, NULL, NULL, 0 },	/* no class file */
};

/* bind and unbind of each driver a seize may write to. */
static void make_drivers(const char *root)
{
	for (const char *const *d = (const char *const[]){ "virtio-pci", "pci-stub", "vfio-pci", NULL }; *d; d++) {
		char rel[128];

		snprintf(rel, sizeof(rel), "bus/pci/drivers/%s/bind", *d);
		mkfile(root, rel, "");
		snprintf(rel, sizeof(rel), "bus/pci/drivers/%s/unbind", *d);
		mkfile(root, rel, "");
	}
}

/* A function as the kernel shows it: driver_override, and its class
 * unless no_class. */
static void make_seizable(const char *root, const struct fake_dev *d, bool no_class)
{
	char rel[128], cls[16];

	assert_int_equal(fake_add_dev(root, d), 0);
	snprintf(rel, sizeof(rel), "devices/pci0000:00/%s/driver_override", d->bdf);
	mkfile(root, rel, "(null)\n");
	if (no_class)
		return;
	snprintf(rel, sizeof(rel), "devices/pci0000:00/%s/class", d->bdf);
	snprintf(cls, sizeof(cls), "0x%06x\n", d->class_code);
	mkfile(root, rel, cls);
}

static int sfx_setup(void **state)
{
	struct sfx *s = calloc(1, sizeof(*s));

	strcpy(s->root, "/tmp/pvpci-tss-XXXXXX");
	assert_non_null(mkdtemp(s->root));
	assert_int_equal(fake_mkdirs(s->root), 0);
	for (size_t i = 0; i < sizeof(sdevs) / sizeof(sdevs[0]); i++)
		make_seizable(s->root, &sdevs[i], i == 3);
	make_drivers(s->root);
	s->h.sysfs = true;
	strcpy(s->h.root, s->root);
	*state = s;
	return 0;
}

static int sfx_teardown(void **state)
{
	struct sfx *s = *state;

	fake_rm_tree(s->root);
	free(s);
	return 0;
}

/* Every file a seize could write, as one string. */
static char *written(const struct sfx *s)
{
	static const char *const files[] = {
		"bus/pci/drivers/virtio-pci/bind", "bus/pci/drivers/virtio-pci/unbind",
		"bus/pci/drivers/pci-stub/bind", "bus/pci/drivers/pci-stub/unbind",
		"devices/pci0000:00/0000:00:00.0/driver_override",
		"devices/pci0000:00/0000:00:03.0/driver_override",
		"devices/pci0000:00/0000:00:05.0/driver_override",
	};
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		fprintf(f, "%s=%s|", files[i], slurp(s->root, files[i]));
	fclose(f);
	return out;
}

static void test_seize(void **state)
{
	struct sfx *s = *state;
	struct pvpci_bdf bridge = { 0, 0, 0, 0 }, net = { 0, 0, 3, 0 }, stub = { 0, 0, 4, 0 },
			 nocls = { 0, 0, 5, 0 }, absent = { 0, 0, 9, 0 };
	char dp[256], err[512], want[256];

	/* No refusal writes anything; a stub's function needs nothing done. */
	UNCHANGED(written(s),
		assert_int_equal(pvpci_ts_sysfs_seize(&s->h, &bridge, dp, sizeof(dp), err, sizeof(err)), -EPERM);
		assert_non_null(strstr(err, "bridge"));
		assert_int_equal(pvpci_ts_sysfs_seize(&s->h, &nocls, dp, sizeof(dp), err, sizeof(err)), -ENOENT);
		assert_non_null(strstr(err, "bridge"));
		assert_int_equal(pvpci_ts_sysfs_seize(&s->h, &absent, dp, sizeof(dp), err, sizeof(err)), -ENOENT);
		strcpy(dp, "x");
		assert_int_equal(pvpci_ts_sysfs_seize(&s->h, &stub, dp, sizeof(dp), err, sizeof(err)), 0);
		assert_string_equal(dp, ""));

	assert_int_equal(pvpci_ts_sysfs_seize(&s->h, &net, dp, sizeof(dp), err, sizeof(err)), 0);
	assert_non_null(realpath(s->root, want));
	strcat(want, "/bus/pci/drivers/virtio-pci");
	assert_string_equal(dp, want);
	assert_string_equal(slurp(s->root, "bus/pci/drivers/virtio-pci/unbind"), "0000:00:03.0");
	assert_string_equal(slurp(s->root, "devices/pci0000:00/0000:00:03.0/driver_override"), "pci-stub");
	assert_string_equal(slurp(s->root, "bus/pci/drivers/pci-stub/bind"), "0000:00:03.0");

	/* Given back (the kernel would have moved the link: the fake does it by hand). */
	assert_int_equal(fake_set_driver(s->root, "0000:00:03.0", "pci-stub"), 0);
	assert_int_equal(pvpci_ts_sysfs_release(&s->h, &net, "/etc", err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "not rebound"));
	assert_int_equal(pvpci_ts_sysfs_release(&s->h, &net, dp, err, sizeof(err)), 0);
	assert_string_equal(slurp(s->root, "bus/pci/drivers/pci-stub/unbind"), "0000:00:03.0");
	assert_string_equal(slurp(s->root, "devices/pci0000:00/0000:00:03.0/driver_override"), "\n");
	assert_string_equal(slurp(s->root, "bus/pci/drivers/virtio-pci/bind"), "0000:00:03.0");

	/* Some other driver took it back meanwhile: left alone. */
	mkfile(s->root, "bus/pci/drivers/virtio-pci/bind", "");
	assert_int_equal(fake_set_driver(s->root, "0000:00:03.0", "virtio-pci"), 0);
	UNCHANGED(written(s),
		assert_int_equal(pvpci_ts_sysfs_release(&s->h, &net, dp, err, sizeof(err)), 0));

	/* No pci-stub loaded: refused before unbinding anything. */
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/bus/pci/drivers/pci-stub", s->root);
		fake_rm_tree(path);
		UNCHANGED(written(s),
			assert_int_equal(pvpci_ts_sysfs_seize(&s->h, &net, dp, sizeof(dp), err, sizeof(err)), -ENODEV);
			assert_non_null(strstr(err, "modprobe")));
	}
}

/* ---- Xen's quarantine (XSA-302) ---- */

#define QUARANTINE	"assign(32753,0000:00:03.0,relaxed) "	/* DOMID_IO */
#define DEQUARANTINE	"deassign(32753,0000:00:03.0) "
#define UNBOUND		"bus/pci/drivers/pci-stub/unbind"
#define OVERRIDE	"devices/pci0000:00/0000:00:03.0/driver_override"

/*
 * libxl's order: assignable-add quarantines what it seized, attach and
 * detach leave the quarantine to Xen, assignable-remove takes it out
 * before giving the function back; each failure undoes what was done.
 * The fake's driver link never moves: 00:03.0 stays pci-stub's, so a
 * seize writes nothing and a release shows as its unbind from pci-stub.
 */
static void test_quarantine(void **state)
{
	struct fx *f = *state;
	struct fake_dev fd = { "0000:00:03.0", 256, 0x020000, "pci-stub", perm_resource, 0 };
	struct pvpci_ts_host host = { .sysfs = true }, none = { 0 };
	struct pvpci_ts_opts o = { .timeout_ms = 5000, .host = &host };
	struct pvpci_bdf b3 = { 0, 0, 3, 0 };
	struct pvpci_ts_assignable list[4];
	struct pvpci_pci_spec sp;
	struct fake_hv h;
	char err[512], irq[128], cfgpath[128];
	uint8_t cfg[256];
	size_t n;

	strcpy(host.root, "/tmp/pvpci-tsq-XXXXXX");
	assert_non_null(mkdtemp(host.root));
	assert_int_equal(fake_mkdirs(host.root), 0);
	make_seizable(host.root, &fd, false);
	make_drivers(host.root);
	perm_dev(host.root, cfg, irq, cfgpath);
	fake_hv_init(&h);
	o.hv = &h.hv;

	/* Not seized (--host none): it may be a dom0 driver's; left alone. */
	o.host = &none;
	assert_int_equal(pvpci_ts_assignable_add(f->xs, &o, &b3, NULL, err, sizeof(err)), 0);
	assert_int_equal(pvpci_ts_assignable_remove(f->xs, &o, &b3, true, err, sizeof(err)), 0);
	assert_string_equal(h.calls, "");
	o.host = &host;

	/* Xen will not quarantine it (no IOMMU): refused as libxl refuses
	 * it, and given back. */
	h.assign_err = -EOPNOTSUPP;
	UNCHANGED(tree(f),
		assert_int_equal(pvpci_ts_assignable_add(f->xs, &o, &b3, NULL, err, sizeof(err)), -EOPNOTSUPP));
	assert_non_null(strstr(err, "0000:00:03.0: failed to quarantine it (xc_assign_device to DOMID_IO): "));
	assert_non_null(strstr(err, "no IOMMU"));
	assert_string_equal(h.calls, QUARANTINE);
	assert_string_equal(slurp(host.root, UNBOUND), "0000:00:03.0");
	assert_string_equal(slurp(host.root, OVERRIDE), "\n");
	/* The same through attach's seize=1: nothing given to the guest. */
	h.calls[0] = 0;
	assert_int_equal(pvpci_pci_spec_parse("00:03.0,seize=1", &sp, err, sizeof(err)), 0);
	UNCHANGED(tree(f),
		assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -EOPNOTSUPP));
	assert_string_equal(h.calls, QUARANTINE);
	h.assign_err = 0;

	/* Quarantined, then the node: listed as ever. */
	h.calls[0] = 0;
	mkfile(host.root, UNBOUND, "");
	if (pvpci_ts_assignable_add(f->xs, &o, &b3, "nic", err, sizeof(err)) < 0)
		fail_msg("assignable-add: %s", err);
	assert_string_equal(h.calls, QUARANTINE);
	assert_int_equal(pvpci_ts_assignable_list(f->xs, list, 4, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].name, "nic");

	/* Xen moves it out of quarantine to the guest, and back at detach:
	 * attach and detach ask for nothing more than they did. */
	assert_int_equal(pvpci_pci_spec_parse("00:03.0", &sp, err, sizeof(err)), 0);
	attach_detach(f, &h, &sp, &o, GIVEN TAKEN);

	/* Xen will not take it out of quarantine: nothing changed. */
	h.calls[0] = 0;
	h.deassign_err = -ENODEV;
	UNCHANGED(tree(f),
		assert_int_equal(pvpci_ts_assignable_remove(f->xs, &o, &b3, true, err, sizeof(err)), -ENODEV));
	assert_non_null(strstr(err, "0000:00:03.0: failed to de-quarantine it (xc_deassign_device from DOMID_IO): "));
	assert_string_equal(h.calls, DEQUARANTINE);
	assert_string_equal(slurp(host.root, UNBOUND), "");
	h.deassign_err = 0;

	/* Given back but not rebound: back in quarantine, the node kept, the
	 * release's reason said; even when the quarantine fails again. */
	put(f, "/libxl/pci/0000-00-03-0/driver_path", "/etc");
	for (int e = 0; e < 2; e++) {
		h.calls[0] = 0;
		h.assign_err = e ? -EIO : 0;
		UNCHANGED(tree(f),
			assert_int_equal(pvpci_ts_assignable_remove(f->xs, &o, &b3, true, err, sizeof(err)), -EPERM));
		assert_non_null(strstr(err, "not rebound"));
		assert_string_equal(h.calls, DEQUARANTINE QUARANTINE);
	}
	h.assign_err = 0;
	put(f, "/libxl/pci/0000-00-03-0/driver_path", "");

	/* Out of quarantine, then given back, then the node removed. */
	h.calls[0] = 0;
	mkfile(host.root, UNBOUND, "");
	if (pvpci_ts_assignable_remove(f->xs, &o, &b3, true, err, sizeof(err)) < 0)
		fail_msg("assignable-remove: %s", err);
	assert_string_equal(h.calls, DEQUARANTINE);
	assert_string_equal(slurp(host.root, UNBOUND), "0000:00:03.0");
	assert_string_equal(get(f, "/libxl/pci/0000-00-03-0"), "(none)");

	/* seize=1 and nobody exports it: the guest's taken back, then out of
	 * quarantine and given back. */
	h.calls[0] = 0;
	mkfile(host.root, UNBOUND, "");
	o.timeout_ms = 100;
	assert_int_equal(pvpci_pci_spec_parse("00:03.0,seize=1", &sp, err, sizeof(err)), 0);
	UNCHANGED(tree(f),
		assert_int_equal(pvpci_ts_attach(f->xs, 7, &sp, &o, err, sizeof(err)), -ETIMEDOUT));
	assert_string_equal(h.calls, QUARANTINE GIVEN TAKEN DEQUARANTINE);
	assert_string_equal(slurp(host.root, UNBOUND), "0000:00:03.0");
	xs_rm(f->xs, XBT_NULL, "/libxl");
	fake_rm_tree(host.root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_ok),
		cmocka_unit_test(test_spec_bad),
		cmocka_unit_test(test_host_spec),
		cmocka_unit_test_setup_teardown(test_remove_entry, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_list, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_assignable, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_attach_unanswered, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_attach_layout, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_hot_attach_unanswered, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_detach_unanswered, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_permissions, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_seize, sfx_setup, sfx_teardown),
		cmocka_unit_test_setup_teardown(test_quarantine, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
