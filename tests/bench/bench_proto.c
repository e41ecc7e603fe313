/*
 * The PV PCI protocol over the local transport, against a floor measured
 * in the same run: a bare eventfd ping-pong between two processes sharing
 * a page.  Prints, pinned to CPU 0 (the headline) and unpinned:
 *   - the floor and the conf_read round trip (frontend library in one
 *     process, the backend in another running pvpcid's loop: poll on
 *     pvpci_backend_fd, then pvpci_backend_dispatch), in interleaved
 *     batches, median / min / p99 of single round trips after a warm-up,
 *     and their ratio; unpinned, how often each ran across CPUs (a
 *     same-CPU round trip and a cross-CPU one differ tenfold here);
 *   - the calls that reach the kernel per conf_read on each side, counted
 *     exactly (the library's read, write, fcntl, poll... are wrapped at
 *     link time: see meson.build), so they do not drift with the load;
 * then split (the backend and the floor's server on CPU 1, the frontend
 * on CPU 0, as dom0 beside a guest's vCPU) the same round trips with the
 * backend's polling after an answer off and at pvpcid's default (the
 * calls per op too: a polled op is taken without a kick);
 * and, pinned, the aggregate conf_read rate of 1, 8 and 64 frontends
 * (each its own process and domain, with its own function) hammering for
 * a fixed time after a start barrier, with the per-frontend spread;
 * and isolation: domain 1's conf_read round trips alone and while domain 2
 * misbehaves (tests/integration/misbehave.h: a kick flood, garbage ops,
 * vanishing and reconnecting, an AER request never answered), with the
 * ratio to alone, the misbehaving process on another CPU than the backend
 * and domain 1 (what the backend's loop pays for it), then on the same.
 *
 * Every process runs under alarm(); the parent waits on pipes (never
 * sleeps) and reaps every child.  No assertion on time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "misbehave.h"
#include "pvpci/backend.h"
#include "pvpci/front.h"

#define MAX_FRONTS	64
#define CHILD_LIMIT_S	30	/* alarm() of every child */
#define PARENT_LIMIT_S	120	/* and of the whole run */
#define READ_LIMIT_MS	20000	/* the parent's wait for any one record */
#define TPUT_NS		1000000000L	/* each throughput run */
#define REG		0x00	/* Vendor and Device ID: 4 bytes, read-only */

/* ---- calls that reach the kernel, counted (link-time --wrap) ---- */

enum { SC_POLL, SC_EPOLL, SC_READ, SC_PREADV2, SC_WRITE, SC_FCNTL, SC_N };
static const char *const sc_name[SC_N] = { "poll", "epoll_wait", "read", "preadv2", "write",
					   "fcntl" };
static unsigned long sc[SC_N];

#define WRAP(ret, name, k, params, args)	\
	ret __real_##name params;		\
	ret __wrap_##name params;		\
	ret __wrap_##name params		\
	{					\
		sc[k]++;			\
		return __real_##name args;	\
	}
WRAP(int, poll, SC_POLL, (struct pollfd *p, nfds_t n, int t), (p, n, t))
WRAP(int, epoll_wait, SC_EPOLL, (int e, struct epoll_event *v, int n, int t), (e, v, n, t))
WRAP(ssize_t, read, SC_READ, (int fd, void *b, size_t n), (fd, b, n))
WRAP(ssize_t, write, SC_WRITE, (int fd, const void *b, size_t n), (fd, b, n))
WRAP(ssize_t, preadv2, SC_PREADV2, (int fd, const struct iovec *v, int n, off_t o, int f),
     (fd, v, n, o, f))
WRAP(ssize_t, preadv64v2, SC_PREADV2, (int fd, const struct iovec *v, int n, off_t o, int f),
     (fd, v, n, o, f))

/* fcntl is variadic; every command the library uses takes at most one
 * argument of pointer size or less, passed on as glibc's own fcntl does.
 * Which symbol the library calls depends on _FILE_OFFSET_BITS. */
#define WRAP_FCNTL(name)					\
	int __real_##name(int fd, int cmd, ...);		\
	int __wrap_##name(int fd, int cmd, ...);		\
	int __wrap_##name(int fd, int cmd, ...)			\
	{							\
		va_list ap;					\
		void *arg;					\
								\
		va_start(ap, cmd);				\
		arg = va_arg(ap, void *);			\
		va_end(ap);					\
		sc[SC_FCNTL]++;					\
		return __real_##name(fd, cmd, arg);		\
	}
WRAP_FCNTL(fcntl)
WRAP_FCNTL(fcntl64)

/* ---- records the children send the parent (one write each, atomic) ---- */

enum { R_ERR, R_BACK_READY, R_READY, R_MARK, R_LAT, R_TPUT, R_ISO, R_AER };

struct stats {
	double med, min, p99;	/* ns */
	unsigned long n;
	unsigned long cross;	/* round trips served on another CPU than the caller's */
};

struct rec {
	int kind;
	int id;
	char msg[200];
	union {
		struct pvpci_bdf guests[MAX_FRONTS];	/* R_BACK_READY */
		unsigned long sc[SC_N];			/* R_MARK */
		struct {				/* R_LAT */
			struct stats floor, proto;
			unsigned long ops;		/* every conf_read, warm-up too */
			unsigned long sc[SC_N];		/* the frontend's, measured ops */
		} lat;
		struct {				/* R_TPUT */
			unsigned long ops;
			unsigned long sc[SC_N];
		} tput;
		struct stats iso;			/* R_ISO */
		int aer_rc;				/* R_AER */
	} u;
};

_Static_assert(sizeof(struct rec) <= PIPE_BUF, "a record must be one atomic pipe write");

static void send_rec(int fd, struct rec *r)
{
	if (write(fd, r, sizeof(*r)) != (ssize_t)sizeof(*r))
		_exit(3);
}

static void __attribute__((noreturn, format(printf, 3, 4))) child_fail(int fd, int id,
								       const char *fmt, ...)
{
	struct rec r = { .kind = R_ERR, .id = id };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r.msg, sizeof(r.msg), fmt, ap);
	va_end(ap);
	send_rec(fd, &r);
	_exit(1);
}

/* ---- time and statistics ---- */

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static int cmp_l(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static struct stats stats_of(long *v, size_t n, unsigned long cross)
{
	qsort(v, n, sizeof(*v), cmp_l);
	return (struct stats){ .med = v[n / 2], .min = v[0], .p99 = v[n * 99 / 100], .n = n,
			       .cross = cross };
}

/* ---- processes ---- */

static pid_t parent_pid;
/* Pinned, the backend's CPU and the floor server's (1: a guest's vCPU
 * beside dom0's), and the backend's polling after an answer. */
static int backend_on;
static unsigned backend_poll_us;
/* Where the backend serves, for telling same-CPU round trips from
 * cross-CPU ones when unpinned (a page all processes share). */
static int *backend_cpu;

/* One CPU, or every CPU the machine has (cpu < 0). */
static int set_affinity(int cpu)
{
	cpu_set_t s;
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);

	CPU_ZERO(&s);
	if (cpu >= 0)
		CPU_SET(cpu, &s);
	else
		for (long i = 0; i < ncpu && i < CPU_SETSIZE; i++)
			CPU_SET(i, &s);
	return sched_setaffinity(0, sizeof(s), &s);
}

/* fork, and in the child: die with the parent, a time limit, the CPUs. */
static pid_t child_on(int cpu)
{
	pid_t p = fork();

	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent_pid)
			_exit(1);
		alarm(CHILD_LIMIT_S);
		if (set_affinity(cpu) < 0)
			_exit(4);
	}
	return p;
}

/* Pinned: on CPU 0, with everything else pinned. */
static pid_t child(bool pinned)
{
	return child_on(pinned ? 0 : -1);
}

/* Read one whole record, waiting at most READ_LIMIT_MS. */
static int get_rec(int fd, struct rec *r)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;

	while (got < sizeof(*r)) {
		int n = poll(&p, 1, READ_LIMIT_MS);
		ssize_t k;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -ETIMEDOUT;
		k = read(fd, (char *)r + got, sizeof(*r) - got);
		if (k <= 0)
			return k ? -errno : -EPIPE;
		got += (size_t)k;
	}
	return 0;
}

/* ---- the backend: pvpcid's loop, counting ---- */

struct setup {
	char simpath[256], sock[256], statedir[256];
};

static void __attribute__((noreturn)) backend_main(const struct setup *s, unsigned nfuncs, int rec_w)
{
	char spec[300], err[512];
	struct pvpci_backend_cfg cfg = {
		.mode = PVPCI_TOPO_VPCI,
		.dev = { .state_dir = s->statedir, .reset = PVPCI_SR_RESET_IF_AVAILABLE },
		.poll_us = backend_poll_us,
	};
	struct pvpci_bdf host[MAX_FRONTS];
	struct pvpci_backend *b = NULL;
	struct pvpci_host *h = NULL;
	struct rec r = { .kind = R_BACK_READY };
	sigset_t sigs;
	size_t n = 0;
	int sfd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);	/* stop */
	sigaddset(&sigs, SIGUSR1);	/* send the counts */
	sigaddset(&sigs, SIGUSR2);	/* an AER request for the second function */
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	snprintf(spec, sizeof(spec), "sim:%s", s->simpath);
	if (sfd < 0 || pvpci_host_open(spec, &h, err, sizeof(err)) < 0)
		child_fail(rec_w, -1, "backend: %s", sfd < 0 ? strerror(errno) : err);
	cfg.host = h;
	if (pvpci_backend_new(&cfg, &b, err, sizeof(err)) < 0 ||
	    pvpci_host_list(h, host, MAX_FRONTS, &n) < 0)
		child_fail(rec_w, -1, "backend: %s", err);
	if (n < nfuncs)
		child_fail(rec_w, -1, "backend: %zu functions in %s, %u wanted", n, s->simpath, nfuncs);
	for (unsigned i = 0; i < nfuncs; i++)
		if (pvpci_backend_export(b, i + 1, &host[i], PVPCI_VSLOT_ANY, false, &r.u.guests[i], err,
					 sizeof(err)) < 0)
			child_fail(rec_w, -1, "backend: export to domain %u: %s", i + 1, err);
	if (pvpci_backend_listen(b, s->sock, err, sizeof(err)) < 0)
		child_fail(rec_w, -1, "backend: %s", err);
	send_rec(rec_w, &r);
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = pvpci_backend_fd(b), .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		int k = poll(p, 2, pvpci_backend_next_timeout(b));

		if (k < 0 && errno != EINTR)
			child_fail(rec_w, -1, "backend: poll: %s", strerror(errno));
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			unsigned long snap[SC_N];

			memcpy(snap, sc, sizeof(snap));	/* before this read */
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGTERM)
				break;
			if (si.ssi_signo == SIGUSR2) {
				r = (struct rec){ .kind = R_AER };
				r.u.aer_rc = pvpci_backend_aer(b, &host[1], PVPCI_PCI_CHANNEL_IO_FROZEN);
				send_rec(rec_w, &r);
				continue;
			}
			r = (struct rec){ .kind = R_MARK };
			memcpy(r.u.sc, snap, sizeof(snap));
			send_rec(rec_w, &r);
			continue;
		}
		__atomic_store_n(backend_cpu, sched_getcpu(), __ATOMIC_RELAXED);
		k = pvpci_backend_dispatch(b);
		if (k < 0)
			child_fail(rec_w, -1, "backend: dispatch: %s", strerror(-k));
	}
	pvpci_backend_free(b);
	pvpci_host_close(h);
	_exit(0);
}

/* ---- the floor: a request word and an answer word in a shared page ---- */

#define FLOOR_STOP	UINT64_MAX

struct floor {
	struct { uint64_t req, ans; int cpu; } *page;
	int to_srv, to_cli;	/* eventfds, blocking */
	uint64_t seq;
};

static void __attribute__((noreturn)) floor_server(struct floor *f)
{
	for (;;) {
		uint64_t k, v = 1;

		if (read(f->to_srv, &k, sizeof(k)) != sizeof(k))
			_exit(1);
		k = __atomic_load_n(&f->page->req, __ATOMIC_ACQUIRE);
		if (k == FLOOR_STOP)
			_exit(0);
		f->page->cpu = sched_getcpu();	/* published by the release below */
		__atomic_store_n(&f->page->ans, k + 1, __ATOMIC_RELEASE);
		if (write(f->to_cli, &v, sizeof(v)) != sizeof(v))
			_exit(1);
	}
}

static int floor_rt(struct floor *f, uint64_t req)
{
	uint64_t k = 1;

	__atomic_store_n(&f->page->req, req, __ATOMIC_RELEASE);
	if (write(f->to_srv, &k, sizeof(k)) != sizeof(k) || req == FLOOR_STOP)
		return req == FLOOR_STOP ? 0 : -1;
	if (read(f->to_cli, &k, sizeof(k)) != sizeof(k))
		return -1;
	return __atomic_load_n(&f->page->ans, __ATOMIC_ACQUIRE) == req + 1 ? 0 : -1;
}

static int floor_new(struct floor *f)
{
	int mfd = memfd_create("bench-floor", MFD_CLOEXEC);

	if (mfd < 0 || ftruncate(mfd, 4096) < 0)
		return -1;
	f->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	close(mfd);
	f->to_srv = eventfd(0, EFD_CLOEXEC);
	f->to_cli = eventfd(0, EFD_CLOEXEC);
	f->seq = 0;
	return f->page == MAP_FAILED || f->to_srv < 0 || f->to_cli < 0 ? -1 : 0;
}

static void floor_free(struct floor *f)
{
	munmap(f->page, 4096);
	close(f->to_srv);
	close(f->to_cli);
}

/* ---- frontends ---- */

struct run {
	bool pinned;
	unsigned warmup, rounds, batch;	/* latency */
};

static uint32_t expect_id;	/* dword 0 of the fixture */

static struct pvpci_front *front_up(const struct setup *s, unsigned domid, int rec_w)
{
	struct pvpci_front_opts o = { .timeout_ms = 5000 };
	struct pvpci_front *f;
	char err[512];

	if (pvpci_front_connect(s->sock, domid, &o, &f, err, sizeof(err)) < 0)
		child_fail(rec_w, (int)domid, "frontend %u: %s", domid, err);
	return f;
}

static void one_read(struct pvpci_front *f, const struct pvpci_bdf *g, int rec_w, unsigned id)
{
	uint32_t v;
	int e = pvpci_front_conf_read(f, g, REG, 4, &v);

	if (e || v != expect_id)
		child_fail(rec_w, (int)id, "frontend %u: conf_read: err %d value %08x", id, e, v);
}

static void wait_go(int go_r, long *ret)
{
	long v = 0;

	if (read(go_r, &v, sizeof(v)) != sizeof(v))
		_exit(5);
	if (ret)
		*ret = v;
}

/* Latency: floor and conf_read in interleaved batches. */
static void __attribute__((noreturn)) lat_main(const struct setup *s, const struct run *run,
					       struct floor *fl, const struct pvpci_bdf *g,
					       int rec_w, int go_r)
{
	struct pvpci_front *f = front_up(s, 1, rec_w);
	size_t nmax = (size_t)run->rounds * run->batch, nf = 0, np = 0;
	long *tf = calloc(nmax, sizeof(long)), *tp = calloc(nmax, sizeof(long));
	unsigned long sc0[SC_N];
	struct rec r = { .kind = R_READY, .id = 1 };

	if (!tf || !tp)
		child_fail(rec_w, 1, "out of memory");
	send_rec(rec_w, &r);
	wait_go(go_r, NULL);
	r = (struct rec){ .kind = R_LAT, .id = 1 };
	for (unsigned i = 0; i < run->warmup; i++) {
		if (floor_rt(fl, ++fl->seq) < 0)
			child_fail(rec_w, 1, "floor: no answer");
		one_read(f, g, rec_w, 1);
	}
	r.u.lat.ops = run->warmup;
	for (unsigned k = 0; k < run->rounds; k++) {
		for (unsigned i = 0; i < run->batch; i++) {
			long t0 = now_ns();

			if (floor_rt(fl, ++fl->seq) < 0)
				child_fail(rec_w, 1, "floor: no answer");
			tf[nf++] = now_ns() - t0;
			r.u.lat.floor.cross += fl->page->cpu != sched_getcpu();
		}
		memcpy(sc0, sc, sizeof(sc0));
		for (unsigned i = 0; i < run->batch; i++) {
			long t0 = now_ns();

			one_read(f, g, rec_w, 1);
			tp[np++] = now_ns() - t0;
			r.u.lat.proto.cross += __atomic_load_n(backend_cpu, __ATOMIC_RELAXED) !=
					       sched_getcpu();
		}
		for (int j = 0; j < SC_N; j++)
			r.u.lat.sc[j] += sc[j] - sc0[j];
	}
	floor_rt(fl, FLOOR_STOP);
	r.u.lat.ops += np;
	r.u.lat.floor = stats_of(tf, nf, r.u.lat.floor.cross);
	r.u.lat.proto = stats_of(tp, np, r.u.lat.proto.cross);
	send_rec(rec_w, &r);
	wait_go(go_r, NULL);	/* quit: the backend has counted */
	pvpci_front_close(f);
	_exit(0);
}

/* Throughput: conf_read until the deadline the start barrier carries. */
static void __attribute__((noreturn)) tput_main(const struct setup *s, unsigned id,
						const struct pvpci_bdf *g, int rec_w, int go_r)
{
	struct pvpci_front *f = front_up(s, id, rec_w);
	struct rec r = { .kind = R_READY, .id = (int)id };
	unsigned long sc0[SC_N];
	long deadline;

	send_rec(rec_w, &r);
	wait_go(go_r, &deadline);
	r = (struct rec){ .kind = R_TPUT, .id = (int)id };
	memcpy(sc0, sc, sizeof(sc0));
	while (now_ns() < deadline) {
		one_read(f, g, rec_w, id);
		r.u.tput.ops++;
	}
	for (int j = 0; j < SC_N; j++)
		r.u.tput.sc[j] = sc[j] - sc0[j];
	send_rec(rec_w, &r);
	wait_go(go_r, NULL);
	pvpci_front_close(f);
	_exit(0);
}

/* ---- the parent: one phase = a fresh backend and its frontends ---- */

struct phase {
	pid_t pids[MAX_FRONTS + 2];
	size_t npids;
	pid_t backend;
	int rec[2], go[2];
	struct pvpci_bdf guests[MAX_FRONTS];
	unsigned long back_sc[SC_N];	/* between the marks */
};

static int phase_fail(struct phase *p, const char *what, const struct rec *r)
{
	fprintf(stderr, "bench_proto: %s%s%s\n", what, r && r->kind == R_ERR ? ": " : "",
		r && r->kind == R_ERR ? r->msg : "");
	for (size_t i = 0; i < p->npids; i++)
		kill(p->pids[i], SIGKILL);
	for (size_t i = 0; i < p->npids; i++)
		waitpid(p->pids[i], NULL, 0);
	p->npids = 0;
	return -1;
}

static int expect(struct phase *p, struct rec *r, int kind, const char *what)
{
	int e = get_rec(p->rec[0], r);

	if (e)
		return phase_fail(p, what, NULL);
	if (r->kind != kind)
		return phase_fail(p, what, r);
	return 0;
}

/* The backend's counts between now and the last mark. */
static int mark(struct phase *p, unsigned long *ret)
{
	struct rec r;

	kill(p->backend, SIGUSR1);
	if (expect(p, &r, R_MARK, "the backend did not count"))
		return -1;
	memcpy(ret, r.u.sc, sizeof(r.u.sc));
	return 0;
}

static void close_parent_ends(struct phase *p)
{
	close(p->rec[0]);
	close(p->go[1]);
}

static int phase_start(struct phase *p, const struct setup *s, bool pinned, unsigned nfuncs)
{
	struct rec r;

	memset(p, 0, sizeof(*p));
	if (pipe2(p->rec, O_CLOEXEC) < 0 || pipe2(p->go, O_CLOEXEC) < 0)
		return phase_fail(p, "pipe", NULL);
	p->backend = child_on(pinned ? backend_on : -1);
	if (p->backend < 0)
		return phase_fail(p, "fork", NULL);
	if (!p->backend) {
		close_parent_ends(p);
		backend_main(s, nfuncs, p->rec[1]);
	}
	p->pids[p->npids++] = p->backend;
	if (expect(p, &r, R_BACK_READY, "the backend did not start"))
		return -1;
	memcpy(p->guests, r.u.guests, sizeof(p->guests));
	return 0;
}

/* Release the frontends and wait for them, then stop the backend. */
static int phase_end(struct phase *p, unsigned nfronts)
{
	long quit[MAX_FRONTS] = { 0 };
	int ok = 0, st;

	if (write(p->go[1], quit, nfronts * sizeof(long)) < 0)
		ok = -1;
	for (size_t i = 1; i < p->npids; i++)
		if (waitpid(p->pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			ok = -1;
	kill(p->backend, SIGTERM);
	if (waitpid(p->backend, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		ok = -1;
	close(p->rec[0]);
	close(p->rec[1]);
	close(p->go[0]);
	close(p->go[1]);
	if (ok)
		fprintf(stderr, "bench_proto: a process of the run failed\n");
	return ok;
}

static void print_sc(const char *who, const unsigned long *v, double ops)
{
	unsigned long tot = 0;

	for (int j = 0; j < SC_N; j++)
		tot += v[j];
	printf("  %s syscalls per conf_read: %.2f (", who, tot / ops);
	for (int j = 0, first = 1; j < SC_N; j++)
		if (v[j]) {
			printf("%s%s %.2f", first ? "" : ", ", sc_name[j], v[j] / ops);
			first = 0;
		}
	printf(")\n");
}

static void print_lat(const char *what, const struct stats *st, bool pinned)
{
	printf("  %-34s median %6.2f us  min %6.2f  p99 %6.2f  (%lu", what, st->med / 1e3,
	       st->min / 1e3, st->p99 / 1e3, st->n);
	if (!pinned)
		printf(", %.0f%% across CPUs", 100.0 * st->cross / st->n);
	printf(")\n");
}

static int latency(const struct setup *s, const struct run *run)
{
	struct phase p;
	struct floor fl;
	struct rec r;
	unsigned long m0[SC_N], m1[SC_N];
	long go = 0;
	pid_t pid;

	if (phase_start(&p, s, run->pinned, 1) < 0)
		return -1;
	if (floor_new(&fl) < 0)
		return phase_fail(&p, "the floor's page and eventfds", NULL);
	pid = child_on(run->pinned ? backend_on : -1);
	if (pid == 0) {
		close_parent_ends(&p);
		floor_server(&fl);
	}
	if (pid > 0)
		p.pids[p.npids++] = pid;
	pid = pid > 0 ? child(run->pinned) : -1;
	if (pid == 0) {
		close_parent_ends(&p);
		lat_main(s, run, &fl, &p.guests[0], p.rec[1], p.go[0]);
	}
	if (pid < 0)
		return phase_fail(&p, "fork", NULL);
	p.pids[p.npids++] = pid;
	floor_free(&fl);
	if (expect(&p, &r, R_READY, "the frontend did not connect") || mark(&p, m0))
		return -1;
	if (write(p.go[1], &go, sizeof(go)) != sizeof(go))
		return phase_fail(&p, "go", NULL);
	if (expect(&p, &r, R_LAT, "the frontend did not finish") || mark(&p, m1))
		return -1;
	if (phase_end(&p, 1))
		return -1;
	print_lat("floor: eventfd ping-pong", &r.u.lat.floor, run->pinned);
	print_lat("conf_read, 4 bytes, front -> back", &r.u.lat.proto, run->pinned);
	printf("  ratio conf_read/floor (median): %.2f", r.u.lat.proto.med / r.u.lat.floor.med);
	{
		double d = (double)r.u.lat.proto.cross / r.u.lat.proto.n -
			   (double)r.u.lat.floor.cross / r.u.lat.floor.n;

		if (d > 0.5 || d < -0.5)
			printf("  (not like for like: placed differently)");
	}
	printf("\n");
	for (int j = 0; j < SC_N; j++)
		m1[j] -= m0[j];
	print_sc("backend ", m1, (double)r.u.lat.ops);
	print_sc("frontend", r.u.lat.sc, (double)r.u.lat.proto.n);
	return 0;
}

static int cmp_ul(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

static int throughput(const struct setup *s, unsigned nf)
{
	struct phase p;
	struct rec r;
	unsigned long m0[SC_N], m1[SC_N], ops[MAX_FRONTS], total = 0;
	long go[MAX_FRONTS];
	double secs;

	if (phase_start(&p, s, true, nf) < 0)
		return -1;
	/* One at a time: a frontend connects and says so before the next
	 * starts, so no connection waits in the backend's queue. */
	for (unsigned i = 0; i < nf; i++) {
		pid_t pid = child(true);

		if (pid == 0) {
			close_parent_ends(&p);
			tput_main(s, i + 1, &p.guests[i], p.rec[1], p.go[0]);
		}
		if (pid < 0)
			return phase_fail(&p, "fork", NULL);
		p.pids[p.npids++] = pid;
		if (expect(&p, &r, R_READY, "a frontend did not connect"))
			return -1;
	}
	if (mark(&p, m0))
		return -1;
	go[0] = now_ns();
	for (unsigned i = 0; i < nf; i++)
		go[i] = go[0] + TPUT_NS;
	if (write(p.go[1], go, nf * sizeof(long)) != (ssize_t)(nf * sizeof(long)))
		return phase_fail(&p, "go", NULL);
	for (unsigned i = 0; i < nf; i++) {
		if (expect(&p, &r, R_TPUT, "a frontend did not finish"))
			return -1;
		ops[i] = r.u.tput.ops;
		total += ops[i];
	}
	if (mark(&p, m1) || phase_end(&p, nf))
		return -1;
	secs = TPUT_NS / 1e9;
	qsort(ops, nf, sizeof(*ops), cmp_ul);
	printf("  %2u frontend%s %8.0f ops/s   per frontend min %7.0f median %7.0f max %7.0f",
	       nf, nf == 1 ? ": " : "s:", total / secs, ops[0] / secs, ops[nf / 2] / secs,
	       ops[nf - 1] / secs);
	for (int j = 0; j < SC_N; j++)
		m1[j] -= m0[j];
	{
		unsigned long t = 0;

		for (int j = 0; j < SC_N; j++)
			t += m1[j];
		printf("   backend syscalls/op %.2f\n", t / (double)total);
	}
	return 0;
}

/* ---- isolation: domain 1 while domain 2 misbehaves ---- */

#define ISO_WARMUP	500
#define ISO_READS	5000

/* Domain 1: at each go (a long >= 0), a warm-up and ISO_READS conf_reads,
 * their round trips sent as R_ISO; a negative go ends it. */
static void __attribute__((noreturn)) victim_main(const struct setup *s, const struct pvpci_bdf *g,
						  int rec_w, int go_r)
{
	struct pvpci_front *f = front_up(s, 1, rec_w);
	static long t[ISO_READS];
	struct rec r = { .kind = R_READY, .id = 1 };
	long go;

	send_rec(rec_w, &r);
	for (wait_go(go_r, &go); go >= 0; wait_go(go_r, &go)) {
		for (unsigned i = 0; i < ISO_WARMUP; i++)
			one_read(f, g, rec_w, 1);
		for (unsigned i = 0; i < ISO_READS; i++) {
			long t0 = now_ns();

			one_read(f, g, rec_w, 1);
			t[i] = now_ns() - t0;
		}
		r = (struct rec){ .kind = R_ISO, .id = 1 };
		r.u.iso = stats_of(t, ISO_READS, 0);
		send_rec(rec_w, &r);
	}
	pvpci_front_close(f);
	_exit(0);
}

/* Domain 2, misbehaving as kind on cpu, until the parent closes *stop_w. */
static int mb_start(struct phase *p, const struct setup *s, enum mb_kind kind, int cpu,
		    struct mb_counter *cnt, int *stop_w)
{
	int up[2], stop[2];
	char line[256] = "";
	struct pollfd pf;
	ssize_t n;
	pid_t pid;

	if (pipe2(up, O_CLOEXEC) < 0)
		return phase_fail(p, "pipe", NULL);
	if (pipe2(stop, O_CLOEXEC) < 0) {
		close(up[0]);
		close(up[1]);
		return phase_fail(p, "pipe", NULL);
	}
	cnt->n = 0;
	pid = child_on(cpu);
	if (pid == 0) {
		close_parent_ends(p);
		close(up[0]);
		close(stop[1]);
		_exit(mb_run(kind, s->sock, 2, &p->guests[1], cnt, up[1], stop[0]));
	}
	close(up[1]);
	close(stop[0]);
	*stop_w = stop[1];
	if (pid > 0)
		p->pids[p->npids++] = pid;
	pf = (struct pollfd){ .fd = up[0], .events = POLLIN };
	n = pid > 0 && poll(&pf, 1, READ_LIMIT_MS) == 1 ? read(up[0], line, sizeof(line) - 1) : -1;
	close(up[0]);
	if (n < 6 || strncmp(line, "ready\n", 6)) {
		fprintf(stderr, "bench_proto: domain 2 (%s) did not start: %.*s\n", mb_name[kind],
			(int)(n > 0 ? n : 0), line);
		close(*stop_w);
		return phase_fail(p, "a misbehaving frontend", NULL);
	}
	return 0;
}

/* Stop the last misbehaving child started; it must exit 0. */
static int mb_stop(struct phase *p, int stop_w)
{
	pid_t pid = p->pids[--p->npids];
	int st;

	close(stop_w);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "bench_proto: the misbehaving frontend failed (status %d)\n", st);
		return phase_fail(p, "a misbehaving frontend", NULL);
	}
	return 0;
}

/* One measurement of domain 1. */
static int victim_go(struct phase *p, struct stats *ret)
{
	long go = 0;
	struct rec r;

	if (write(p->go[1], &go, sizeof(go)) != sizeof(go))
		return phase_fail(p, "go", NULL);
	if (expect(p, &r, R_ISO, "domain 1 did not finish"))
		return -1;
	*ret = r.u.iso;
	return 0;
}

static void print_iso(const char *what, const struct stats *st, const struct stats *alone,
		      unsigned long n, const char *unit)
{
	printf("    %-22s median %6.2f us  p99 %7.2f", what, st->med / 1e3, st->p99 / 1e3);
	if (alone)
		printf("   ratio %5.2f (p99 %5.2f)", st->med / alone->med, st->p99 / alone->p99);
	if (unit)
		printf("   domain 2: %lu %s", n, unit);
	printf("\n");
}

/* The backend and domain 1 on CPU 0, domain 2 on mb_cpu. */
static int isolation(const struct setup *s, int mb_cpu, struct mb_counter *cnt)
{
	struct stats alone, with, again;
	struct phase p;
	struct rec r;
	long quit = -1;
	pid_t pid;

	if (phase_start(&p, s, true, 2) < 0)
		return -1;
	pid = child(true);
	if (pid == 0) {
		close_parent_ends(&p);
		victim_main(s, &p.guests[0], p.rec[1], p.go[0]);
	}
	if (pid < 0)
		return phase_fail(&p, "fork", NULL);
	p.pids[p.npids++] = pid;
	if (expect(&p, &r, R_READY, "domain 1 did not connect") || victim_go(&p, &alone))
		return -1;
	print_iso("alone", &alone, NULL, 0, NULL);
	for (int k = 0; k < MB_KINDS; k++) {
		unsigned long n0;
		int stop_w = -1;

		if (mb_start(&p, s, (enum mb_kind)k, mb_cpu, cnt, &stop_w) < 0)
			return -1;
		if (k == MB_AER_SILENT) {
			kill(p.backend, SIGUSR2);
			if (expect(&p, &r, R_AER, "the backend did not start AER"))
				return -1;
			if (r.u.aer_rc) {
				fprintf(stderr, "bench_proto: AER: %s\n", strerror(-r.u.aer_rc));
				return phase_fail(&p, "AER", NULL);
			}
		}
		n0 = __atomic_load_n(&cnt->n, __ATOMIC_RELAXED);
		if (victim_go(&p, &with))
			return -1;
		print_iso(mb_name[k], &with, &alone, __atomic_load_n(&cnt->n, __ATOMIC_RELAXED) - n0,
			  k == MB_AER_SILENT ? NULL : mb_unit[k]);
		if (mb_stop(&p, stop_w) < 0)
			return -1;
	}
	if (victim_go(&p, &again))
		return -1;
	print_iso("alone again", &again, &alone, 0, NULL);
	if (write(p.go[1], &quit, sizeof(quit)) != sizeof(quit))
		return phase_fail(&p, "quit", NULL);
	return phase_end(&p, 0);
}

/* ---- setup: a sim host of copies of the fixture ---- */

static int write_sim(const char *fixture, const char *path, unsigned n)
{
	FILE *in = fopen(fixture, "r"), *out;
	static char text[1 << 16];
	size_t len;
	char *rest;

	if (!in)
		return -1;
	len = fread(text, 1, sizeof(text) - 1, in);
	fclose(in);
	text[len] = '\0';
	/* The first function only: "[DDDD:]BB:DD.F description", its dump,
	 * a blank line.  Each copy gets an address of its own; the host
	 * checks the rest. */
	if ((rest = strstr(text, "\n\n")))
		rest[1] = '\0';
	rest = strchr(text, ' ');
	if (!rest || rest > text + strcspn(text, "\n") || !(out = fopen(path, "w")))
		return -1;
	for (unsigned i = 0; i < n; i++)
		fprintf(out, "0000:%02x:%02x.0%s\n", 0x10 + i / 32, i % 32, rest);
	return fclose(out) ? -1 : 0;
}

static uint32_t fixture_id(const char *sim)
{
	struct pvpci_host *h;
	struct pvpci_hostdev *d;
	struct pvpci_bdf b;
	size_t n;
	uint32_t v = 0;
	char err[256], spec[300];

	snprintf(spec, sizeof(spec), "sim:%s", sim);
	if (pvpci_host_open(spec, &h, err, sizeof(err)) < 0)
		return 0;
	if (!pvpci_host_list(h, &b, 1, &n) && n && !pvpci_hostdev_open(h, &b, &d)) {
		pvpci_hostdev_read(d, REG, 4, &v);
		pvpci_hostdev_close(d);
	}
	pvpci_host_close(h);
	return v;
}

static void rm_tree(const char *dir, const char *sub)
{
	char path[600];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		char f[900];

		if (e->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
		unlink(f);
	}
	if (d)
		closedir(d);
	rmdir(path);
}

int main(int argc, char **argv)
{
	char tmp[] = "/tmp/pvpci-bench.XXXXXX";
	struct setup s;
	const struct run pinned = { .pinned = true, .warmup = 2000, .rounds = 20, .batch = 500 };
	const struct run unpinned = { .pinned = false, .warmup = 500, .rounds = 10, .batch = 300 };
	static const unsigned nfronts[] = { 1, 8, 64 };
	int rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_proto FIXTURE.lspci\n");
		return 2;
	}
	parent_pid = getpid();
	backend_cpu = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (backend_cpu == MAP_FAILED) {
		perror("bench_proto: mmap");
		return 1;
	}
	alarm(PARENT_LIMIT_S);
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(tmp)) {
		perror("bench_proto: mkdtemp");
		return 1;
	}
	snprintf(s.simpath, sizeof(s.simpath), "%s/sim.lspci", tmp);
	snprintf(s.sock, sizeof(s.sock), "%s/sock", tmp);
	snprintf(s.statedir, sizeof(s.statedir), "%s/state", tmp);
	if (mkdir(s.statedir, 0700) < 0 || write_sim(argv[1], s.simpath, MAX_FRONTS) < 0 ||
	    !(expect_id = fixture_id(s.simpath))) {
		fprintf(stderr, "bench_proto: cannot make a sim host of %s\n", argv[1]);
		rc = 1;
		goto out;
	}
	printf("protocol: 4-byte conf_read at 0x%02x over the local transport, %u copies of %s,\n"
	       "  vpci; backend in its own process running pvpcid's loop (poll, dispatch)\n",
	       REG, MAX_FRONTS, argv[1]);
	printf("pinned: every process on CPU 0 (headline)\n");
	if (latency(&s, &pinned) < 0)
		rc = 1;
	printf("  conf_read for %.1f s after a start barrier, each frontend its own process and domain:\n",
	       TPUT_NS / 1e9);
	for (size_t i = 0; !rc && i < sizeof(nfronts) / sizeof(*nfronts); i++)
		if (throughput(&s, nfronts[i]) < 0)
			rc = 1;
	printf("unpinned: the scheduler places each process (same or different vCPUs, see\n"
	       "  notes/benchmarking.md)\n");
	if (!rc && latency(&s, &unpinned) < 0)
		rc = 1;
	if (!rc && sysconf(_SC_NPROCESSORS_ONLN) > 1) {
		/* Where polling pays: the backend (and the floor's server) on
		 * CPU 1, the frontend on CPU 0, as dom0 beside a guest's vCPU.
		 * On one CPU polling only delays the frontend it waits for. */
		printf("split: the backend and the floor's server on CPU 1, the frontend on CPU 0\n");
		backend_on = 1;
		printf(" polling off (the library's default):\n");
		if (latency(&s, &pinned) < 0)
			rc = 1;
		backend_poll_us = PVPCI_BACKEND_POLL_US;
		printf(" polling %u us after each answer (pvpcid's default):\n", backend_poll_us);
		if (!rc && latency(&s, &pinned) < 0)
			rc = 1;
		backend_on = 0;
		backend_poll_us = 0;
	}
	if (!rc) {
		struct mb_counter *cnt = mb_counter_new();
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		printf("isolation: domain 1's conf_read, %u round trips after %u, alone and while domain 2\n"
		       "  misbehaves; ratio to alone\n", ISO_READS, ISO_WARMUP);
		if (ncpu > 1) {
			printf("  domain 2 on CPU 1, the backend and domain 1 on CPU 0 (what the loop pays):\n");
			if (!cnt || isolation(&s, 1, cnt) < 0)
				rc = 1;
		}
		printf("  everything on CPU 0 (the scheduler shares it with domain 2 too):\n");
		if (!rc && (!cnt || isolation(&s, 0, cnt) < 0))
			rc = 1;
		mb_counter_free(cnt);
	}
out:
	fflush(stdout);
	unlink(s.simpath);
	unlink(s.sock);
	rm_tree(tmp, "state");
	rmdir(tmp);
	return rc;
}
