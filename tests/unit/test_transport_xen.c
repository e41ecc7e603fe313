/*
 * The xen transport (lib/transport_xen.c) driven by the backend's own
 * loop, with Xen's libraries faked through struct pvpci_xen_ops: the fake
 * keeps every call in order, hands out a page of this process as the
 * granted one, and models a port as Xen does (it fires once, then stays
 * masked, holding further kicks, until it is unmasked).  Checked: connect
 * maps the grant and binds the port the frontend published, with its
 * domain; an op is answered and notified before the port is unmasked,
 * and a kick sent meanwhile is not lost; a failure at any step leaves
 * nothing mapped, open or bound; disconnect and free give everything
 * back; a port that misbehaves drops the frontend.  Last, through
 * xenbus and a store in a thread: a frontend's Initialised connects it
 * (Connected), and a grant that cannot be mapped is pciback's error.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <xenstore.h>

#include "pvpci/backend.h"
#include "pvpci/store.h"
#include "pvpci/transport.h"
#include "pvpci/xenbus.h"

#ifndef PVPCI_SRC
#define PVPCI_SRC "."
#endif

#define DOMID		5
#define REF		8
#define PORT		9
#define LOCAL_PORT	33

/* ---- Xen, faked ---- */

struct fake_evtchn {
	int efd;		/* readable while a port is pending */
	bool bound, masked, held;
};

struct fake {
	struct pvpci_xen x;
	char calls[4096];
	int map_err, open_err, bind_err, unmask_err;
	int pending_port;		/* 0: the bound port; else this one */
	void *page;
	bool mapped;
	struct fake_evtchn *ev;		/* the handle open, if any */
	/* The page as the frontend would see it when it is notified. */
	uint32_t flags_at_notify;
	int32_t err_at_notify;
	uint32_t value_at_notify;
	void (*on_notify)(struct fake *f);
	unsigned nnotify;
};

static struct fake *fk(struct pvpci_xen *x)
{
	return (struct fake *)x;
}

static void call(struct fake *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void call(struct fake *f, const char *fmt, ...)
{
	size_t n = strlen(f->calls);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->calls + n, sizeof(f->calls) - n, fmt, ap);
	va_end(ap);
	n = strlen(f->calls);
	snprintf(f->calls + n, sizeof(f->calls) - n, " ");
}

static int f_map(struct pvpci_xen *x, uint32_t domid, uint32_t ref, void **ret)
{
	struct fake *f = fk(x);

	call(f, "map(%u,%u)", domid, ref);
	if (f->map_err)
		return f->map_err;
	assert_false(f->mapped);
	f->mapped = true;
	*ret = f->page;
	return 0;
}

static int f_unmap(struct pvpci_xen *x, void *page)
{
	struct fake *f = fk(x);

	call(f, "unmap");
	assert_ptr_equal(page, f->page);
	assert_true(f->mapped);
	f->mapped = false;
	return 0;
}

static int f_open(struct pvpci_xen *x, struct pvpci_xen_evtchn **ret, int *ret_fd)
{
	struct fake *f = fk(x);

	call(f, "open");
	if (f->open_err)
		return f->open_err;
	assert_null(f->ev);
	f->ev = calloc(1, sizeof(*f->ev));
	f->ev->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(f->ev->efd >= 0);
	*ret = (struct pvpci_xen_evtchn *)f->ev;
	*ret_fd = f->ev->efd;
	return 0;
}

static void f_close_evtchn(struct pvpci_xen *x, struct pvpci_xen_evtchn *h)
{
	struct fake *f = fk(x);

	call(f, "close");
	assert_ptr_equal(h, f->ev);
	close(f->ev->efd);
	free(f->ev);
	f->ev = NULL;
}

static int f_bind(struct pvpci_xen *x, struct pvpci_xen_evtchn *h, uint32_t domid, uint32_t port)
{
	struct fake *f = fk(x);

	call(f, "bind(%u,%u)", domid, port);
	assert_ptr_equal(h, f->ev);
	if (f->bind_err)
		return f->bind_err;
	f->ev->bound = true;
	return LOCAL_PORT;
}

static int f_unbind(struct pvpci_xen *x, struct pvpci_xen_evtchn *h, uint32_t port)
{
	struct fake *f = fk(x);

	call(f, "unbind(%u)", port);
	assert_ptr_equal(h, f->ev);
	assert_true(f->ev->bound);
	f->ev->bound = false;
	return 0;
}

static int f_notify(struct pvpci_xen *x, struct pvpci_xen_evtchn *h, uint32_t port)
{
	struct fake *f = fk(x);
	struct pvpci_sharedinfo *sh = f->page;

	(void)h;
	call(f, "notify(%u)", port);
	f->flags_at_notify = __atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE);
	f->err_at_notify = sh->op.err;
	f->value_at_notify = sh->op.value;
	f->nnotify++;
	if (f->on_notify)
		f->on_notify(f);
	return 0;
}

static int f_pending(struct pvpci_xen *x, struct pvpci_xen_evtchn *h)
{
	struct fake *f = fk(x);
	uint64_t n;

	(void)h;
	if (read(f->ev->efd, &n, sizeof(n)) != sizeof(n))
		return -EAGAIN;
	call(f, "pending");
	f->ev->masked = true;
	return f->pending_port ? f->pending_port : LOCAL_PORT;
}

static int f_unmask(struct pvpci_xen *x, struct pvpci_xen_evtchn *h, uint32_t port)
{
	struct fake *f = fk(x);
	uint64_t one = 1;

	(void)h;
	call(f, "unmask(%u)", port);
	if (f->unmask_err)
		return f->unmask_err;
	f->ev->masked = false;
	/* What fired while it was masked fires now. */
	if (f->ev->held) {
		f->ev->held = false;
		assert_int_equal(write(f->ev->efd, &one, sizeof(one)), sizeof(one));
	}
	return 0;
}

static void f_close(struct pvpci_xen *x)
{
	(void)x;
}

static const struct pvpci_xen_ops fake_ops = {
	.map = f_map, .unmap = f_unmap, .evtchn_open = f_open, .evtchn_close = f_close_evtchn,
	.bind = f_bind, .unbind = f_unbind, .notify = f_notify, .pending = f_pending,
	.unmask = f_unmask, .close = f_close,
};

/* The frontend kicks: held by Xen while the port is masked. */
static void front_kick(struct fake *f)
{
	uint64_t one = 1;

	if (f->ev->masked)
		f->ev->held = true;
	else
		assert_int_equal(write(f->ev->efd, &one, sizeof(one)), sizeof(one));
}

/* ---- a backend in this process, on the virtio-net fixture ---- */

struct env {
	char dir[64], state[96];
	struct fake f;
	struct pvpci_host *host;
	struct pvpci_backend *b;
	struct pvpci_bdf h, guest;
	char log[1 << 14];
};

static void env_log(void *ctx, int level, const char *msg)
{
	struct env *e = ctx;
	size_t n = strlen(e->log);

	snprintf(e->log + n, sizeof(e->log) - n, "%d %s\n", level, msg);
}

static struct env *env_new(bool export)
{
	struct env *e = calloc(1, sizeof(*e));
	const char *src = getenv("PVPCI_SRC") && *getenv("PVPCI_SRC") ? getenv("PVPCI_SRC") : PVPCI_SRC;
	struct pvpci_backend_cfg bc = { .mode = PVPCI_TOPO_VPCI, .via_store = true,
					.connect = pvpci_xen_connect };
	char spec[512], err[512];

	assert_non_null(e);
	e->f.x.ops = &fake_ops;
	e->f.page = aligned_alloc(4096, 4096);
	memset(e->f.page, 0, 4096);
	snprintf(e->dir, sizeof(e->dir), "/tmp/pvpci-xen-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->state, sizeof(e->state), "%s/state", e->dir);
	assert_int_equal(mkdir(e->state, 0700), 0);
	snprintf(spec, sizeof(spec), "sim:%s/fixtures/virtio-net.lspci", src);
	if (pvpci_host_open(spec, &e->host, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	bc.host = e->host;
	bc.dev.state_dir = e->state;
	bc.log = env_log;
	bc.log_ctx = e;
	bc.connect_ctx = &e->f.x;
	if (pvpci_backend_new(&bc, &e->b, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	e->h = (struct pvpci_bdf){ 0, 0, 3, 0 };
	if (export && pvpci_backend_export(e->b, DOMID, &e->h, PVPCI_VSLOT_ANY, false, &e->guest, err,
					   sizeof(err)) < 0)
		fail_msg("%s", err);
	return e;
}

static void env_free(struct env *e)
{
	pvpci_backend_free(e->b);
	/* Whatever was connected is given back. */
	assert_false(e->f.mapped);
	assert_null(e->f.ev);
	pvpci_host_close(e->host);
	rmdir(e->state);
	rmdir(e->dir);
	free(e->f.page);
	free(e);
}

static void connect_ok(struct env *e)
{
	char err[256];

	if (pvpci_backend_connect(e->b, DOMID, REF, PORT, err, sizeof(err)) < 0)
		fail_msg("connect: %s", err);
	assert_true(pvpci_backend_connected(e->b, DOMID));
}

/* The frontend posts a 4-byte conf_read at off of the function. */
static void post_read(struct env *e, int off)
{
	struct pvpci_sharedinfo *sh = e->f.page;

	memset(&sh->op, 0, sizeof(sh->op));
	sh->op.cmd = PVPCI_XEN_PCI_OP_conf_read;
	sh->op.domain = e->guest.domain;
	sh->op.bus = e->guest.bus;
	sh->op.devfn = pvpci_devfn(&e->guest);
	sh->op.offset = off;
	sh->op.size = 4;
	sh->op.err = 0x5a5a;
	__atomic_fetch_or(&sh->flags, PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
}

/* One round of the backend's loop, waiting up to 1 s for work. */
static void round_trip(struct env *e)
{
	assert_int_equal(pvpci_backend_run(e->b, 1000), 0);
}

static const char *calls_after(struct env *e, size_t mark)
{
	return e->f.calls + mark;
}

/* ---- the tests ---- */

static void test_connect_maps_and_binds(void **state)
{
	struct env *e = env_new(true);

	(void)state;
	connect_ok(e);
	assert_string_equal(e->f.calls, "map(5,8) open bind(5,9) ");
	assert_true(e->f.mapped);
	assert_true(e->f.ev->bound);
	assert_non_null(strstr(e->log, "domain 5: frontend connected (pci-op-ref 8, event-channel 9)"));
	/* One frontend per domain: a second connect maps nothing. */
	{
		char err[256];
		size_t mark = strlen(e->f.calls);

		assert_int_equal(pvpci_backend_connect(e->b, DOMID, REF, PORT, err, sizeof(err)), -EBUSY);
		assert_string_equal(calls_after(e, mark), "");
	}
	e->f.calls[0] = 0;
	pvpci_backend_disconnect(e->b, DOMID);
	assert_string_equal(e->f.calls, "unbind(33) close unmap ");
	assert_false(pvpci_backend_connected(e->b, DOMID));
	env_free(e);
}

/* A domain with no function yet is connected all the same (as pciback). */
static void test_connect_before_export(void **state)
{
	struct env *e = env_new(false);

	(void)state;
	connect_ok(e);
	assert_string_equal(e->f.calls, "map(5,8) open bind(5,9) ");
	env_free(e);
}

/* A burst: the frontend's next op and kick arrive while the port is
 * still masked, right after it was notified. */
static void post_again(struct fake *f)
{
	struct env *e = (struct env *)((char *)f - offsetof(struct env, f));

	f->on_notify = NULL;
	post_read(e, 8);
	front_kick(f);
}

static void test_unmask_after_answer(void **state)
{
	struct env *e = env_new(true);
	size_t mark;

	(void)state;
	connect_ok(e);
	mark = strlen(e->f.calls);
	e->f.on_notify = post_again;
	post_read(e, 0);
	front_kick(&e->f);
	round_trip(e);
	/* Answered (flag cleared, err and value written) when notified, and
	 * only then unmasked. */
	assert_string_equal(calls_after(e, mark), "pending notify(33) unmask(33) ");
	assert_int_equal(e->f.flags_at_notify & PVPCI_XEN_PCIF_active, 0);
	assert_int_equal(e->f.err_at_notify, 0);
	assert_int_equal(e->f.value_at_notify, 0x10411af4);	/* virtio-net's IDs */
	/* The kick sent while masked fired at the unmask: served. */
	mark = strlen(e->f.calls);
	round_trip(e);
	assert_string_equal(calls_after(e, mark), "pending notify(33) unmask(33) ");
	assert_int_equal(e->f.value_at_notify & 0xff, 0x01);	/* Revision ID, at 8 */
	assert_int_equal(e->f.nnotify, 2);
	/* Nothing more: no kick, no call. */
	mark = strlen(e->f.calls);
	assert_int_equal(pvpci_backend_run(e->b, 50), 0);
	assert_string_equal(calls_after(e, mark), "");
	env_free(e);
}

/* A kick with no op (a frontend that kicks for nothing) is taken and the
 * port unmasked: no answer, no notify, and the next op is served. */
static void test_kick_without_op(void **state)
{
	struct env *e = env_new(true);
	size_t mark;

	(void)state;
	connect_ok(e);
	mark = strlen(e->f.calls);
	front_kick(&e->f);
	round_trip(e);
	assert_string_equal(calls_after(e, mark), "pending unmask(33) ");
	mark = strlen(e->f.calls);
	post_read(e, 0);
	front_kick(&e->f);
	round_trip(e);
	assert_string_equal(calls_after(e, mark), "pending notify(33) unmask(33) ");
	env_free(e);
}

static void test_failures_leave_nothing(void **state)
{
	static const struct {
		int map_err, open_err, bind_err, want;
		const char *calls, *msg;
	} cases[] = {
		{ -EFAULT, 0, 0, -EFAULT, "map(5,8) ", "mapping grant 8 of domain 5: Bad address" },
		/* ENOENT is the backend's "no such grant": never said for a map. */
		{ -ENOENT, 0, 0, -EINVAL, "map(5,8) ", "mapping grant 8 of domain 5: No such file or directory" },
		{ 0, -EMFILE, 0, -EMFILE, "map(5,8) open unmap ", "opening an event channel handle: Too many open files" },
		{ 0, 0, -EINVAL, -EINVAL, "map(5,8) open bind(5,9) close unmap ",
		  "binding event channel 9 of domain 5: Invalid argument" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct env *e = env_new(true);
		char err[256];

		e->f.map_err = cases[i].map_err;
		e->f.open_err = cases[i].open_err;
		e->f.bind_err = cases[i].bind_err;
		assert_int_equal(pvpci_backend_connect(e->b, DOMID, REF, PORT, err, sizeof(err)), cases[i].want);
		assert_string_equal(e->f.calls, cases[i].calls);
		assert_string_equal(err, cases[i].msg);
		assert_false(e->f.mapped);
		assert_null(e->f.ev);
		assert_false(pvpci_backend_connected(e->b, DOMID));
		/* The domain connects once the grant can be mapped. */
		e->f.map_err = e->f.open_err = e->f.bind_err = 0;
		connect_ok(e);
		env_free(e);
	}
}

/* A port that is not the channel's, or an unmask refused: the frontend
 * is dropped (its functions reset for the next) and everything given back. */
static void test_broken_port_dropped(void **state)
{
	for (int k = 0; k < 2; k++) {
		struct env *e = env_new(true);

		(void)state;
		connect_ok(e);
		if (k == 0)
			e->f.pending_port = LOCAL_PORT + 1;
		else
			e->f.unmask_err = -EINVAL;
		post_read(e, 0);
		front_kick(&e->f);
		round_trip(e);
		assert_false(pvpci_backend_connected(e->b, DOMID));
		assert_non_null(strstr(e->log, "domain 5: frontend broke its event channel"));
		assert_false(e->f.mapped);
		assert_null(e->f.ev);
		assert_int_equal(e->f.nnotify, k == 0 ? 0 : 1);
		env_free(e);
	}
}

/* Freed while connected: env_free checks that it unmapped and unbound. */
static void test_free_releases(void **state)
{
	struct env *e = env_new(true);

	(void)state;
	connect_ok(e);
	e->f.calls[0] = 0;
	pvpci_backend_free(e->b);
	e->b = NULL;
	assert_string_equal(e->f.calls, "unbind(33) close unmap ");
	env_free(e);
}

/* ---- through xenbus, with a store in a thread ---- */

struct st {
	struct pvpci_store *s;
	pthread_t thr;
	atomic_bool stop;
	char sock[128];
	struct xs_handle *xs;
};

static void *serve(void *arg)
{
	struct st *t = arg;

	while (!atomic_load(&t->stop))
		if (pvpci_store_run(t->s, 20) < 0)
			break;
	return NULL;
}

static void put(struct xs_handle *xs, const char *path, const char *val)
{
	assert_true(xs_write(xs, XBT_NULL, path, val, (unsigned)strlen(val)));
}

static char *get(struct xs_handle *xs, const char *path)
{
	unsigned len;

	return xs_read(xs, XBT_NULL, path, &len);
}

#define BE	"/local/domain/0/backend/pci/5/0"
#define FE	"/local/domain/5/device/pci/0"

/* Follow the store until BE/state is want (5 s at most). */
static int pump_until(struct xs_handle *xs, struct pvpci_xbback *xb, struct env *e, int want)
{
	for (int i = 0; i < 100; i++) {
		struct pollfd p = { .fd = pvpci_xbback_fd(xb), .events = POLLIN };
		char *s = get(xs, BE "/state");
		int st = s ? atoi(s) : -1;

		free(s);
		if (st == want)
			return st;
		poll(&p, 1, 50);
		assert_int_equal(pvpci_xbback_dispatch(xb), 0);
		pvpci_backend_dispatch(e->b);
	}
	return -1;
}

static void xenbus_case(bool map_fails)
{
	struct env *e = env_new(false);
	struct pvpci_store_cfg sc = { 0 };
	struct pvpci_xbback *xb;
	struct st t = { 0 };
	char err[512], *s;

	snprintf(t.sock, sizeof(t.sock), "%s/xs", e->dir);
	sc.socket_path = t.sock;
	if (pvpci_store_new(&sc, &t.s, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(pthread_create(&t.thr, NULL, serve, &t), 0);
	setenv("XENSTORED_PATH", t.sock, 1);
	t.xs = xs_open(0);
	assert_non_null(t.xs);
	/* What the toolstack writes for domain 5's first function. */
	put(t.xs, "/libxl/pci/0000-00-03-0/driver_path", "");
	put(t.xs, FE "/backend", BE);
	put(t.xs, FE "/backend-id", "0");
	put(t.xs, FE "/state", "1");
	put(t.xs, BE "/frontend", FE);
	put(t.xs, BE "/frontend-id", "5");
	put(t.xs, BE "/online", "1");
	put(t.xs, BE "/num_devs", "1");
	put(t.xs, BE "/dev-0", "0000:00:03.0");
	put(t.xs, BE "/state-0", "1");
	put(t.xs, BE "/state", "1");
	if (pvpci_xbback_new(t.xs, e->b, NULL, NULL, &xb, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(pump_until(t.xs, xb, e, 3), 3);	/* Initialised: exported */
	assert_string_equal(e->f.calls, "");
	/* pcifront publishes its grant and port, then Initialised. */
	e->f.map_err = map_fails ? -EFAULT : 0;
	put(t.xs, FE "/pci-op-ref", "8");
	put(t.xs, FE "/event-channel", "9");
	put(t.xs, FE "/magic", "7");
	put(t.xs, FE "/state", "3");
	if (!map_fails) {
		assert_int_equal(pump_until(t.xs, xb, e, 4), 4);	/* Connected */
		assert_string_equal(e->f.calls, "map(5,8) open bind(5,9) ");
		assert_true(pvpci_backend_connected(e->b, DOMID));
	} else {
		assert_int_equal(pump_until(t.xs, xb, e, 5), 5);	/* Closing */
		assert_string_equal(e->f.calls, "map(5,8) ");
		s = get(t.xs, "/local/domain/0/error/backend/pci/5/0/error");
		assert_non_null(s);
		assert_string_equal(s, "22 Error mapping other domain page in ours. "
				       "(mapping grant 8 of domain 5: Bad address)");
		free(s);
		assert_false(pvpci_backend_connected(e->b, DOMID));
	}
	pvpci_xbback_free(xb);
	xs_close(t.xs);
	atomic_store(&t.stop, true);
	pthread_join(t.thr, NULL);
	pvpci_store_free(t.s);
	unlink(t.sock);
	env_free(e);
}

static void test_xenbus_connects(void **state)
{
	(void)state;
	xenbus_case(false);
}

static void test_xenbus_map_error(void **state)
{
	(void)state;
	xenbus_case(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_maps_and_binds),
		cmocka_unit_test(test_connect_before_export),
		cmocka_unit_test(test_unmask_after_answer),
		cmocka_unit_test(test_kick_without_op),
		cmocka_unit_test(test_failures_leave_nothing),
		cmocka_unit_test(test_broken_port_dropped),
		cmocka_unit_test(test_free_releases),
		cmocka_unit_test(test_xenbus_connects),
		cmocka_unit_test(test_xenbus_map_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
