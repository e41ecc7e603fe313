/*
 * The xen transport (lib/transport_xen.c) driven by the backend's own
 * loop, with Xen faked (fakexen.h: every call kept in order, a page of
 * this process as the granted one, a port that fires once and stays
 * masked, holding further kicks, until it is unmasked).  Checked:
 * connect maps the grant and binds the port the frontend published, with
 * its domain; an op is answered and notified before the port is
 * unmasked, and a kick sent meanwhile is not lost; a failure at any step
 * leaves nothing mapped, open or bound; disconnect and free give
 * everything back; a port that misbehaves drops the frontend.  With the
 * hypervisor faked too: the guest's MSI-X pirqs are mapped for the
 * function's table and unmapped when the guest disables it, when the
 * function is detached, when the frontend goes and when the backend
 * stops.  Last, through xenbus and a store in a thread: a frontend's
 * Initialised connects it (Connected), and a grant that cannot be mapped
 * is pciback's error.
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
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <xenstore.h>

#include "pvpci/backend.h"
#include "pvpci/store.h"
#include "pvpci/transport.h"
#include "pvpci/xenbus.h"
#include "fakexen.h"

#ifndef PVPCI_SRC
#define PVPCI_SRC "."
#endif

/* ---- the backend's calls that reach the kernel besides Xen's (the
 * fakes count those), wrapped at link time (meson.build) ---- */

static unsigned long n_clock, n_epoll;

int __real_clock_gettime(clockid_t c, struct timespec *t);
int __wrap_clock_gettime(clockid_t c, struct timespec *t);
int __wrap_clock_gettime(clockid_t c, struct timespec *t)
{
	n_clock++;
	return __real_clock_gettime(c, t);
}

int __real_epoll_wait(int fd, struct epoll_event *ev, int n, int timeout);
int __wrap_epoll_wait(int fd, struct epoll_event *ev, int n, int timeout);
int __wrap_epoll_wait(int fd, struct epoll_event *ev, int n, int timeout)
{
	n_epoll++;
	return __real_epoll_wait(fd, ev, n, timeout);
}

#define DOMID		5
#define REF		8
#define PORT		9

/* ---- a backend in this process, on the virtio-net fixture ---- */

struct env {
	char dir[64], state[96];
	struct fake_xen f;
	struct fake_hv hv;
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

static void backend_new(struct env *e, bool with_hv, unsigned poll_us)
{
	struct pvpci_backend_cfg bc = { .mode = PVPCI_TOPO_VPCI, .via_store = true,
					.connect = pvpci_xen_connect, .host = e->host, .log = env_log,
					.log_ctx = e, .connect_ctx = &e->f.x, .poll_us = poll_us };
	char err[512];

	if (with_hv)
		bc.hv = &e->hv.hv;
	bc.dev.state_dir = e->state;
	if (pvpci_backend_new(&bc, &e->b, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

/* With poll_us: the backend watches the page that long after an answer. */
static struct env *env_new_poll(bool export, bool with_hv, unsigned poll_us)
{
	struct env *e = calloc(1, sizeof(*e));
	const char *src = getenv("PVPCI_SRC") && *getenv("PVPCI_SRC") ? getenv("PVPCI_SRC") : PVPCI_SRC;
	char spec[512], err[512];

	assert_non_null(e);
	fake_xen_init(&e->f);
	e->f.ctx = e;
	fake_hv_init(&e->hv);
	snprintf(e->dir, sizeof(e->dir), "/tmp/pvpci-xen-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->state, sizeof(e->state), "%s/state", e->dir);
	assert_int_equal(mkdir(e->state, 0700), 0);
	snprintf(spec, sizeof(spec), "sim:%s/fixtures/virtio-net.lspci", src);
	if (pvpci_host_open(spec, &e->host, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	backend_new(e, with_hv, poll_us);
	e->h = (struct pvpci_bdf){ 0, 0, 3, 0 };
	if (export && pvpci_backend_export(e->b, DOMID, &e->h, PVPCI_VSLOT_ANY, false, &e->guest, err,
					   sizeof(err)) < 0)
		fail_msg("%s", err);
	return e;
}

static struct env *env_new(bool export, bool with_hv)
{
	return env_new_poll(export, with_hv, 0);
}

static void env_free(struct env *e)
{
	pvpci_backend_free(e->b);
	/* Whatever was connected is given back. */
	fake_xen_fini(&e->f);
	assert_int_equal(e->hv.mapped, 0);
	pvpci_host_close(e->host);
	rmdir(e->state);
	rmdir(e->dir);
	free(e);
}

static void connect_ok(struct env *e)
{
	char err[256];

	if (pvpci_backend_connect(e->b, DOMID, REF, PORT, err, sizeof(err)) < 0)
		fail_msg("connect: %s", err);
	assert_true(pvpci_backend_connected(e->b, DOMID));
}

/* The frontend posts cmd for the function: a 4-byte access at off, or
 * for enable_msix the nvec entries 0 .. nvec - 1. */
static void post(struct env *e, uint32_t cmd, int off, uint32_t nvec)
{
	struct pvpci_sharedinfo *sh = e->f.page;

	memset(&sh->op, 0, sizeof(sh->op));
	sh->op.cmd = cmd;
	sh->op.domain = e->guest.domain;
	sh->op.bus = e->guest.bus;
	sh->op.devfn = pvpci_devfn(&e->guest);
	sh->op.offset = off;
	sh->op.size = 4;
	sh->op.err = 0x5a5a;
	if (cmd == PVPCI_XEN_PCI_OP_enable_msix) {
		sh->op.value = nvec;
		for (uint32_t i = 0; i < nvec; i++)
			sh->op.msix_entries[i].entry = (uint16_t)i;
	}
	__atomic_fetch_or(&sh->flags, PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
}

static void post_read(struct env *e, int off)
{
	post(e, PVPCI_XEN_PCI_OP_conf_read, off, 0);
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
	struct env *e = env_new(true, false);

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
	struct env *e = env_new(false, false);

	(void)state;
	connect_ok(e);
	assert_string_equal(e->f.calls, "map(5,8) open bind(5,9) ");
	env_free(e);
}

/* A burst: the frontend's next op and kick arrive while the port is
 * still masked, right after it was notified. */
static void post_again(struct fake_xen *f)
{
	struct env *e = f->ctx;

	f->on_notify = NULL;
	post_read(e, 8);
	fake_xen_kick(f);
}

static void test_unmask_after_answer(void **state)
{
	struct env *e = env_new(true, false);
	size_t mark;

	(void)state;
	connect_ok(e);
	mark = strlen(e->f.calls);
	e->f.on_notify = post_again;
	post_read(e, 0);
	fake_xen_kick(&e->f);
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
	struct env *e = env_new(true, false);
	size_t mark;

	(void)state;
	connect_ok(e);
	mark = strlen(e->f.calls);
	fake_xen_kick(&e->f);
	round_trip(e);
	assert_string_equal(calls_after(e, mark), "pending unmask(33) ");
	mark = strlen(e->f.calls);
	post_read(e, 0);
	fake_xen_kick(&e->f);
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
		struct env *e = env_new(true, false);
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

/* A frontend posting its next op and kicking as soon as it is notified,
 * left more times (a guest enumerating config space). */
static unsigned burst_left;

static void post_next(struct fake_xen *f)
{
	struct env *e = f->ctx;

	if (burst_left == 0) {
		f->on_notify = NULL;
		return;
	}
	burst_left--;
	post_read(e, 8);
	fake_xen_kick(f);
}

/*
 * What an op costs, counted: without polling, one kick taken (pending),
 * one notify and one unmask each, one epoll_wait (pvpci_backend_run's
 * sleep takes the events it wakes for: until pvpci_backend_watch there
 * were two, the sleep and then dispatch's look) and no clock read
 * (nothing has a deadline).  A regression in the calls per op fails here.
 */
static void test_calls_per_op(void **state)
{
	struct env *e = env_new(true, false);
	unsigned long c0, e0;
	size_t mark;

	(void)state;
	connect_ok(e);
	for (int k = 0; k < 3; k++) {
		mark = strlen(e->f.calls);
		c0 = n_clock;
		e0 = n_epoll;
		post_read(e, 0);
		fake_xen_kick(&e->f);
		round_trip(e);
		assert_string_equal(calls_after(e, mark), "pending notify(33) unmask(33) ");
		assert_int_equal(n_clock - c0, 0);
		assert_int_equal(n_epoll - e0, 1);
	}
	env_free(e);
}

/* Turn n of a burst: the kick taken, ops notifies, the unmask. */
static void want_turn(char *want, size_t len, unsigned ops)
{
	snprintf(want, len, "pending ");
	for (unsigned i = 0; i < ops; i++)
		strncat(want, "notify(33) ", len - strlen(want) - 1);
	strncat(want, "unmask(33) ", len - strlen(want) - 1);
}

/*
 * Polling: a burst of ops, each posted and kicked as soon as the one
 * before is answered, is served with the kick of the first taken: one
 * notify per op, one pending and one unmask for each turn of at most
 * PVPCI_BACKEND_POLL_OPS ops, one epoll_wait a turn, and no clock read
 * while ops keep coming (a turn that ends at its limit reads none).  The
 * kicks Xen held meanwhile fire at the unmask: the ops left are served at
 * the next turn, and one last turn finds the page idle (no notify).
 */
static void test_poll_burst(void **state)
{
	struct env *e = env_new_poll(true, false, 20000);
	char want[1024];
	unsigned long c0, e0;
	size_t mark;

	(void)state;
	connect_ok(e);
	burst_left = 100;	/* 101 ops in all */
	e->f.on_notify = post_next;
	post_read(e, 0);
	fake_xen_kick(&e->f);
	mark = strlen(e->f.calls);
	c0 = n_clock;
	e0 = n_epoll;
	round_trip(e);
	want_turn(want, sizeof(want), PVPCI_BACKEND_POLL_OPS);
	assert_string_equal(calls_after(e, mark), want);
	assert_int_equal(n_clock - c0, 0);
	assert_int_equal(n_epoll - e0, 1);
	assert_int_equal(e->f.value_at_notify & 0xff, 0x01);	/* Revision ID, at 8 */
	/* The rest, then the page waited for 20 ms, in vain. */
	mark = strlen(e->f.calls);
	round_trip(e);
	want_turn(want, sizeof(want), 101 - PVPCI_BACKEND_POLL_OPS);
	assert_string_equal(calls_after(e, mark), want);
	assert_int_equal(e->f.nnotify, 101);
	mark = strlen(e->f.calls);
	round_trip(e);
	assert_string_equal(calls_after(e, mark), "pending unmask(33) ");
	mark = strlen(e->f.calls);
	assert_int_equal(pvpci_backend_run(e->b, 50), 0);
	assert_string_equal(calls_after(e, mark), "");
	assert_int_equal(e->f.nnotify, 101);
	env_free(e);
}

/* Polling ends: an op posted without a kick once the wait is over waits
 * for its kick, as without polling. */
static void test_poll_ends(void **state)
{
	struct env *e = env_new_poll(true, false, 1000);
	struct pvpci_sharedinfo *sh = e->f.page;
	size_t mark;

	(void)state;
	connect_ok(e);
	mark = strlen(e->f.calls);
	post_read(e, 0);
	fake_xen_kick(&e->f);
	round_trip(e);
	assert_string_equal(calls_after(e, mark), "pending notify(33) unmask(33) ");
	post_read(e, 8);
	mark = strlen(e->f.calls);
	assert_int_equal(pvpci_backend_run(e->b, 20), 0);
	assert_string_equal(calls_after(e, mark), "");
	assert_int_equal(sh->flags & PVPCI_XEN_PCIF_active, PVPCI_XEN_PCIF_active);
	fake_xen_kick(&e->f);
	round_trip(e);
	assert_string_equal(calls_after(e, mark), "pending notify(33) unmask(33) ");
	assert_int_equal(e->f.value_at_notify & 0xff, 0x01);
	env_free(e);
}

/* pvpci_backend_watch's callback: counts, and sees what the round did
 * before it. */
struct watched {
	struct env *e;
	int fd;
	unsigned calls, nnotify_seen;
};

static void on_watched(void *ctx)
{
	struct watched *w = ctx;
	uint64_t v;

	w->calls++;
	w->nnotify_seen = w->e->f.nnotify;
	assert_int_equal(read(w->fd, &v, sizeof(v)), sizeof(v));
}

/*
 * A caller's fd in the loop: an op and the fd ready together are taken
 * by one epoll_wait, the op answered before the callback runs (it may
 * connect and disconnect: it comes last); the callback runs once per
 * round it is ready, never when it is not; bad arguments and a ninth
 * watch are refused.
 */
static void test_watch(void **state)
{
	struct env *e = env_new(true, false);
	struct watched w = { .e = e };
	uint64_t one = 1;
	unsigned long e0;
	int fds[9];

	(void)state;
	for (int i = 0; i < 9; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		assert_true(fds[i] >= 0);
	}
	w.fd = fds[0];
	assert_int_equal(pvpci_backend_watch(e->b, -1, on_watched, &w), -EINVAL);
	assert_int_equal(pvpci_backend_watch(e->b, fds[0], NULL, &w), -EINVAL);
	assert_int_equal(pvpci_backend_watch(e->b, fds[0], on_watched, &w), 0);
	assert_int_equal(pvpci_backend_watch(e->b, fds[0], on_watched, &w), -EEXIST);
	connect_ok(e);
	post_read(e, 0);
	fake_xen_kick(&e->f);
	assert_int_equal(write(fds[0], &one, sizeof(one)), sizeof(one));
	e0 = n_epoll;
	round_trip(e);
	assert_int_equal(n_epoll - e0, 1);
	assert_int_equal(w.calls, 1);
	assert_int_equal(w.nnotify_seen, 1);	/* the op answered first */
	assert_int_equal(pvpci_backend_run(e->b, 20), 0);
	assert_int_equal(w.calls, 1);
	for (int i = 1; i < 8; i++)
		assert_int_equal(pvpci_backend_watch(e->b, fds[i], on_watched, &w), 0);
	assert_int_equal(pvpci_backend_watch(e->b, fds[8], on_watched, &w), -ENOSPC);
	env_free(e);
	for (int i = 0; i < 9; i++)
		close(fds[i]);
}

/* A port that is not the channel's, or an unmask refused: the frontend
 * is dropped (its functions reset for the next) and everything given back. */
static void test_broken_port_dropped(void **state)
{
	for (int k = 0; k < 2; k++) {
		struct env *e = env_new(true, false);

		(void)state;
		connect_ok(e);
		if (k == 0)
			e->f.pending_port = FX_LOCAL_PORT + 1;
		else
			e->f.unmask_err = -EINVAL;
		post_read(e, 0);
		fake_xen_kick(&e->f);
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
	struct env *e = env_new(true, false);

	(void)state;
	connect_ok(e);
	e->f.calls[0] = 0;
	pvpci_backend_free(e->b);
	e->b = NULL;
	assert_string_equal(e->f.calls, "unbind(33) close unmap ");
	env_free(e);
}

/* ---- the guest's pirqs (irq_xen) through the backend ---- */

/* The frontend's op, answered: err. */
static int32_t op_round(struct env *e, uint32_t cmd, uint32_t nvec)
{
	struct pvpci_sharedinfo *sh = e->f.page;

	post(e, cmd, 0, nvec);
	fake_xen_kick(&e->f);
	round_trip(e);
	assert_int_equal(sh->flags & PVPCI_XEN_PCIF_active, 0);
	return sh->op.err;
}

#define MAP2	"msi(5,0000:00:03.0,0,0x4000100000)=%d msi(5,0000:00:03.0,1,0x4000100000)=%d "

/* MSI-X of virtio-net (its table in BAR 0, at 0x4000100000): two pirqs of
 * domain 5, given back when the guest disables it, when the toolstack
 * detaches the function, and when the guest's frontend goes. */
static void test_pirqs(void **state)
{
	struct env *e = env_new(true, true);
	struct pvpci_sharedinfo *sh = e->f.page;
	char want[256], err[256];

	(void)state;
	connect_ok(e);
	assert_int_equal(op_round(e, PVPCI_XEN_PCI_OP_enable_msix, 2), 0);
	snprintf(want, sizeof(want), MAP2, FX_PIRQ0, FX_PIRQ0 + 1);
	assert_string_equal(e->hv.calls, want);
	assert_int_equal(sh->op.msix_entries[0].vector, FX_PIRQ0);
	assert_int_equal(sh->op.msix_entries[1].vector, FX_PIRQ0 + 1);
	/* disable_msix */
	e->hv.calls[0] = 0;
	assert_int_equal(op_round(e, PVPCI_XEN_PCI_OP_disable_msix, 0), 0);
	assert_string_equal(e->hv.calls, "unmap(5,51) unmap(5,50) ");
	/* a detach */
	e->hv.calls[0] = 0;
	assert_int_equal(op_round(e, PVPCI_XEN_PCI_OP_enable_msix, 2), 0);
	assert_int_equal(e->hv.mapped, 2);
	assert_int_equal(pvpci_backend_unexport(e->b, DOMID, &e->h, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), MAP2 "unmap(5,53) unmap(5,52) ", FX_PIRQ0 + 2, FX_PIRQ0 + 3);
	assert_string_equal(e->hv.calls, want);
	/* the frontend gone */
	if (pvpci_backend_export(e->b, DOMID, &e->h, PVPCI_VSLOT_ANY, false, &e->guest, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	e->hv.calls[0] = 0;
	assert_int_equal(op_round(e, PVPCI_XEN_PCI_OP_enable_msix, 2), 0);
	assert_int_equal(e->hv.mapped, 2);
	pvpci_backend_disconnect(e->b, DOMID);
	snprintf(want, sizeof(want), MAP2 "unmap(5,55) unmap(5,54) ", FX_PIRQ0 + 4, FX_PIRQ0 + 5);
	assert_string_equal(e->hv.calls, want);
	assert_int_equal(e->hv.mapped, 0);
	/* and pvpcid stopping (env_free checks that none is left mapped) */
	connect_ok(e);
	assert_int_equal(op_round(e, PVPCI_XEN_PCI_OP_enable_msix, 1), 0);
	assert_int_equal(e->hv.mapped, 1);
	env_free(e);
}

/* A conf op on the page, answered: err, the value in *ret_val. */
static int32_t conf_round(struct env *e, uint32_t cmd, int off, int size, uint32_t val, uint32_t *ret_val)
{
	struct pvpci_sharedinfo *sh = e->f.page;

	post(e, cmd, off, 0);
	sh->op.size = size;
	sh->op.value = val;
	fake_xen_kick(&e->f);
	round_trip(e);
	assert_int_equal(sh->flags & PVPCI_XEN_PCIF_active, 0);
	if (ret_val)
		*ret_val = sh->op.value;
	return sh->op.err;
}

/*
 * pvpcid dies under a connected guest that has MSI-X (two pirqs mapped)
 * and wrote a virtual bit (Command's Parity Error Response, which the
 * engine keeps virtual); a new backend takes the function over
 * (PVPCI_EXPORT_KEEP) and, before any kick, the page: it maps the same
 * grant and binds the same port again, answers the op the guest left
 * waiting, reads back what the guest wrote, knows the pirqs (a second
 * enable is refused, none mapped) and unmaps them at the guest's
 * disable; the guest going then resets the function as usual.
 */
/* Connected anew: Command as a fresh engine shows it. */
static int32_t conf_round_after_reconnect(struct env *e, uint32_t *ret_val)
{
	connect_ok(e);
	return conf_round(e, PVPCI_XEN_PCI_OP_conf_read, 4, 2, 0, ret_val);
}

static void test_takeover(void **state)
{
	struct env *e = env_new(true, true);
	struct pvpci_sharedinfo *sh = e->f.page;
	uint32_t cmd, v;
	char err[512], want[256];

	(void)state;
	connect_ok(e);
	assert_int_equal(op_round(e, PVPCI_XEN_PCI_OP_enable_msix, 2), 0);
	assert_int_equal(e->hv.mapped, 2);
	assert_int_equal(conf_round(e, PVPCI_XEN_PCI_OP_conf_read, 4, 2, 0, &cmd), 0);
	assert_int_equal(conf_round(e, PVPCI_XEN_PCI_OP_conf_write, 4, 2, cmd | 0x40, NULL), 0);
	assert_int_equal(conf_round(e, PVPCI_XEN_PCI_OP_conf_read, 4, 2, 0, &v), 0);
	assert_int_equal(v, cmd | 0x40);
	/* The process dies: its channel goes (Xen unmaps and unbinds), its
	 * pirqs stay mapped, the function as the guest left it. */
	e->f.calls[0] = 0;
	e->hv.calls[0] = 0;
	pvpci_backend_abandon(e->b);
	assert_string_equal(e->f.calls, "unbind(33) close unmap ");
	assert_string_equal(e->hv.calls, "");
	/* The guest's next op is on the page, its kick lost. */
	post(e, PVPCI_XEN_PCI_OP_conf_read, 4, 0);
	sh->op.size = 2;
	backend_new(e, true, 0);
	e->f.calls[0] = 0;
	if (pvpci_backend_export(e->b, DOMID, &e->h, PVPCI_VSLOT_ANY, PVPCI_EXPORT_KEEP, &e->guest, err,
				 sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(pvpci_backend_kept(e->b, DOMID));
	assert_non_null(strstr(e->log, "domain 5's MSI-X interrupts taken over (2)"));
	assert_int_equal(sh->flags & PVPCI_XEN_PCIF_active, PVPCI_XEN_PCIF_active);
	connect_ok(e);
	assert_false(pvpci_backend_kept(e->b, DOMID));
	assert_string_equal(e->f.calls, "map(5,8) open bind(5,9) notify(33) ");
	assert_int_equal(sh->flags & PVPCI_XEN_PCIF_active, 0);
	assert_int_equal(sh->op.err, 0);
	assert_int_equal(sh->op.value, cmd | 0x40);
	/* Its MSI-X is known: enabled already; the pirqs are ours to unmap. */
	assert_int_equal(op_round(e, PVPCI_XEN_PCI_OP_enable_msix, 2), -EALREADY);
	assert_string_equal(e->hv.calls, "");
	assert_int_equal(op_round(e, PVPCI_XEN_PCI_OP_disable_msix, 0), 0);
	snprintf(want, sizeof(want), "unmap(5,%d) unmap(5,%d) ", FX_PIRQ0 + 1, FX_PIRQ0);
	assert_string_equal(e->hv.calls, want);
	assert_int_equal(e->hv.mapped, 0);
	/* The guest goes: a fresh view, its file gone. */
	pvpci_backend_disconnect(e->b, DOMID);
	assert_int_equal(conf_round_after_reconnect(e, &v), 0);
	assert_int_equal(v, cmd);
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
	struct env *e = env_new(false, false);
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
		cmocka_unit_test(test_calls_per_op),
		cmocka_unit_test(test_poll_burst),
		cmocka_unit_test(test_poll_ends),
		cmocka_unit_test(test_watch),
		cmocka_unit_test(test_failures_leave_nothing),
		cmocka_unit_test(test_broken_port_dropped),
		cmocka_unit_test(test_free_releases),
		cmocka_unit_test(test_pirqs),
		cmocka_unit_test(test_takeover),
		cmocka_unit_test(test_xenbus_connects),
		cmocka_unit_test(test_xenbus_map_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
