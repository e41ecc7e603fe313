/*
 * The backend's limits on what the toolstack and the socket's clients can
 * make it hold, each refused with its error and a message: domains with
 * functions, functions of one domain, pages one domain has granted and
 * not connected; interrupt numbers kept per domain; and the rate limits on
 * what they can make it log, per domain and for clients not yet attached,
 * on a clock the test turns by hand.  The backend runs in this process,
 * on copies of the fixtures' virtio-net; clients connect from a thread
 * while the test runs the backend's loop.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"
#include "pvpci/backend.h"
#include "pvpci/front.h"
#include "pvpci/hostdev_sim.h"
#include "pvpci/transport.h"

#define NFUNCS	4	/* host functions 0000:00:10.0 .. 0000:00:13.0 */

static long fake_now;

static long fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

struct env {
	char dir[64], sock[96], state[96];
	struct pvpci_host *host;
	struct pvpci_backend *b;
	struct pvpci_bdf h[NFUNCS];
	char log[1 << 16];
};

static void env_log(void *ctx, int level, const char *msg)
{
	struct env *e = ctx;
	size_t n = strlen(e->log);

	snprintf(e->log + n, sizeof(e->log) - n, "%d %s\n", level, msg);
}

static unsigned count_lines(const struct env *e, const char *needle)
{
	unsigned n = 0;

	for (const char *s = e->log; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/* NFUNCS copies of virtio-net's dump, each at an address of its own. */
static char *host_text(size_t *ret_len)
{
	char *out, *rest;
	size_t n = 0;

	rest = strchr(fixture_first("virtio-net.lspci"), ' ');	/* after the address */
	assert_non_null(rest);
	out = malloc(NFUNCS * (strlen(rest) + 32));
	for (unsigned i = 0; i < NFUNCS; i++)
		n += (size_t)sprintf(out + n, "0000:00:%02x.0%s\n", 0x10 + i, rest);
	*ret_len = n;
	return out;
}

static struct env *env_new(struct pvpci_backend_cfg *bc)
{
	struct env *e = calloc(1, sizeof(*e));
	char err[512], *text;
	size_t len;

	snprintf(e->dir, sizeof(e->dir), "/tmp/pvpci-limits-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->sock, sizeof(e->sock), "%s/sock", e->dir);
	snprintf(e->state, sizeof(e->state), "%s/state", e->dir);
	assert_int_equal(mkdir(e->state, 0700), 0);
	text = host_text(&len);
	if (pvpci_sim_host_from_text(text, len, &e->host, err, sizeof(err)) < 0)
		fail_msg("sim host: %s", err);
	free(text);
	for (unsigned i = 0; i < NFUNCS; i++)
		e->h[i] = (struct pvpci_bdf){ 0, 0, (uint8_t)(0x10 + i), 0 };
	bc->host = e->host;
	bc->mode = PVPCI_TOPO_VPCI;
	bc->dev.state_dir = e->state;
	bc->log = env_log;
	bc->log_ctx = e;
	bc->log_limit = (struct pvpci_ratelimit_cfg){ .burst = 3, .interval_ms = 1000,
						      .clock_ms = fake_clock };
	fake_now = 0;
	if (pvpci_backend_new(bc, &e->b, err, sizeof(err)) < 0 ||
	    pvpci_backend_listen(e->b, e->sock, err, sizeof(err)) < 0)
		fail_msg("backend: %s", err);
	return e;
}

static void env_free(struct env *e)
{
	pvpci_backend_free(e->b);
	pvpci_host_close(e->host);
	unlink(e->sock);
	assert_int_equal(rmdir(e->state), 0);
	assert_int_equal(rmdir(e->dir), 0);
	free(e);
}

static int export(struct env *e, unsigned domid, unsigned i, char *err, size_t errlen)
{
	return pvpci_backend_export(e->b, domid, &e->h[i], PVPCI_VSLOT_ANY, false, NULL, err, errlen);
}

/* ---- clients in a thread, the backend's loop here ---- */

struct job {
	void (*fn)(struct env *e, void *arg);
	struct env *e;
	void *arg;
	int done;
};

static void *job_main(void *p)
{
	struct job *j = p;

	j->fn(j->e, j->arg);
	__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* fn(e, arg) in a thread while the backend serves; then the backend
 * serves until it has seen every client that left go (a bounded wait). */
static void with_clients(struct env *e, void (*fn)(struct env *e, void *arg), void *arg,
			 size_t nfronts_after)
{
	struct job j = { .fn = fn, .e = e, .arg = arg };
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, job_main, &j), 0);
	while (!__atomic_load_n(&j.done, __ATOMIC_ACQUIRE))
		assert_int_equal(pvpci_backend_run(e->b, 10), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	for (int k = 0; k < 500 && pvpci_backend_nfronts(e->b) != nfronts_after; k++)
		assert_int_equal(pvpci_backend_run(e->b, 10), 0);
	assert_int_equal(pvpci_backend_nfronts(e->b), nfronts_after);
}

/* ---- domains and functions ---- */

static void test_max_domains(void **state)
{
	struct pvpci_backend_cfg bc = { .max_domains = 2 };
	struct env *e = env_new(&bc);
	char err[256] = "";

	(void)state;
	assert_int_equal(export(e, 1, 0, err, sizeof(err)), 0);
	assert_int_equal(export(e, 2, 1, err, sizeof(err)), 0);
	assert_int_equal(export(e, 3, 2, err, sizeof(err)), -ENOSPC);
	assert_string_equal(err, "2 domains have functions already, the most this backend serves");
	/* Nothing of it stayed bound: the function goes to another domain. */
	assert_int_equal(export(e, 1, 2, err, sizeof(err)), 0);
	/* A domain whose last function went counts no more, however many
	 * domains came and went. */
	assert_int_equal(pvpci_backend_unexport(e->b, 2, &e->h[1], err, sizeof(err)), 0);
	for (unsigned d = 10; d < 60; d++) {
		assert_int_equal(export(e, d, 1, err, sizeof(err)), 0);
		assert_int_equal(pvpci_backend_unexport(e->b, d, &e->h[1], err, sizeof(err)), 0);
	}
	pvpci_backend_unexport_all(e->b, 1);
	assert_int_equal(export(e, 98, 0, err, sizeof(err)), 0);
	assert_int_equal(export(e, 99, 1, err, sizeof(err)), 0);
	env_free(e);
}

static void test_max_funcs(void **state)
{
	struct pvpci_backend_cfg bc = { .max_funcs = 2 };
	struct env *e = env_new(&bc);
	char err[256] = "";

	(void)state;
	assert_int_equal(export(e, 1, 0, err, sizeof(err)), 0);
	assert_int_equal(export(e, 1, 1, err, sizeof(err)), 0);
	assert_int_equal(export(e, 1, 2, err, sizeof(err)), -ENOSPC);
	assert_string_equal(err, "0000:00:12.0: domain 1 has 2 functions already, the most one domain may have");
	assert_int_equal(export(e, 2, 2, err, sizeof(err)), 0);
	assert_int_equal(pvpci_backend_exports(e->b, 1, NULL, 0), 2);
	env_free(e);
}

static void test_defaults(void **state)
{
	struct pvpci_backend_cfg bc = { 0 };
	struct env *e = env_new(&bc);
	char err[256] = "";

	(void)state;
	for (unsigned i = 0; i < NFUNCS; i++)
		assert_int_equal(export(e, 1 + i % 2, i, err, sizeof(err)), 0);
	env_free(e);
}

/* ---- interrupt numbers: each domain its own ---- */

struct fronts {
	unsigned domid[2];
	struct pvpci_front *f[2];
};

static void connect_fronts(struct env *e, void *arg)
{
	struct fronts *fs = arg;
	struct pvpci_front_opts o = { .timeout_ms = 5000 };

	for (int i = 0; i < 2; i++)
		if (pvpci_front_connect(e->sock, fs->domid[i], &o, &fs->f[i], NULL, 0) < 0)
			fs->f[i] = NULL;
}

static void test_irqs_per_domain(void **state)
{
	struct pvpci_backend_cfg bc = { 0 };
	struct env *e = env_new(&bc);
	struct fronts fs = { .domid = { 1, 2 } };
	struct pvpci_sharedinfo *sh[2];
	char err[256];

	(void)state;
	assert_int_equal(export(e, 1, 0, err, sizeof(err)), 0);
	assert_int_equal(export(e, 2, 1, err, sizeof(err)), 0);
	with_clients(e, connect_fronts, &fs, 2);
	assert_non_null(fs.f[0]);
	assert_non_null(fs.f[1]);
	/* Both enable MSI-X of entries 0-2 at once (00:00.0: each domain's
	 * only function, in vpci). */
	for (int i = 0; i < 2; i++) {
		sh[i] = pvpci_front_chan(fs.f[i])->sh;
		memset(&sh[i]->op, 0, sizeof(sh[i]->op));
		sh[i]->op.cmd = PVPCI_XEN_PCI_OP_enable_msix;
		sh[i]->op.value = 3;
		for (uint16_t k = 0; k < 3; k++)
			sh[i]->op.msix_entries[k].entry = k;
		__atomic_fetch_or(&sh[i]->flags, PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
		assert_int_equal(pvpci_chan_notify(pvpci_front_chan(fs.f[i])), 0);
	}
	for (int k = 0; k < 500 && ((sh[0]->flags | sh[1]->flags) & PVPCI_XEN_PCIF_active); k++)
		assert_int_equal(pvpci_backend_run(e->b, 10), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(sh[i]->flags & PVPCI_XEN_PCIF_active, 0);
		assert_int_equal(sh[i]->op.err, 0);
		for (unsigned k = 0; k < 3; k++)
			assert_int_equal(sh[i]->op.msix_entries[k].vector, 32 + k);
	}
	pvpci_front_close(fs.f[0]);
	pvpci_front_close(fs.f[1]);
	for (int k = 0; k < 500 && pvpci_backend_nfronts(e->b); k++)
		assert_int_equal(pvpci_backend_run(e->b, 10), 0);
	env_free(e);
}

/* ---- grants waiting to be connected (with a store) ---- */

#define GRANT_TRIES	12

struct grants {
	unsigned domid[GRANT_TRIES];
	int r[GRANT_TRIES];
	char err[GRANT_TRIES][160];
	struct pvpci_chan *c[GRANT_TRIES];
};

static void hello_all(struct env *e, void *arg)
{
	struct grants *g = arg;

	for (int i = 0; i < GRANT_TRIES && g->domid[i]; i++)
		g->r[i] = pvpci_local_connect(e->sock, g->domid[i], 5000, &g->c[i], NULL, g->err[i],
					      sizeof(g->err[i]));
}

static void test_grants_per_domain(void **state)
{
	struct pvpci_backend_cfg bc = { .via_store = true };
	struct env *e = env_new(&bc);
	struct grants g = { .domid = { 5, 5, 5, 5, 5, 5, 5, 5, 5, 6 } };

	(void)state;
	with_clients(e, hello_all, &g, 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(g.r[i], 0);
	assert_int_equal(g.r[8], -ENOSPC);
	assert_string_equal(g.err[8], "backend: domain 5 has 8 pages waiting to be connected already");
	assert_int_equal(g.r[9], 0);	/* another domain's hello still goes through */
	for (int i = 0; i < GRANT_TRIES; i++)
		pvpci_chan_close(g.c[i]);
	/* The backend forgets the grants of clients that left. */
	memset(&g, 0, sizeof(g));
	for (int i = 0; i < 8; i++)
		g.domid[i] = 5;
	for (int k = 0; k < 20; k++)
		assert_int_equal(pvpci_backend_run(e->b, 10), 0);
	with_clients(e, hello_all, &g, 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(g.r[i], 0);
	for (int i = 0; i < GRANT_TRIES; i++)
		pvpci_chan_close(g.c[i]);
	env_free(e);
}

/* ---- what clients can make it log ---- */

/* n hellos that are not hellos; how many were refused with -EPROTO. */
struct bad {
	unsigned n, refused;
};

static void bad_hellos(struct env *e, void *arg)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct bad *b = arg;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", e->sock);
	for (unsigned i = 0; i < b->n; i++) {
		int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		struct pvpci_local_welcome w;
		struct pollfd p = { .fd = s, .events = POLLIN };

		if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		    send(s, "not a hello", 11, MSG_NOSIGNAL) == 11 && poll(&p, 1, 5000) == 1 &&
		    recv(s, &w, sizeof(w), 0) == sizeof(w) && w.status == -EPROTO)
			b->refused++;
		if (s >= 0)
			close(s);
	}
}

static void test_hello_log_limit(void **state)
{
	struct pvpci_backend_cfg bc = { 0 };
	struct env *e = env_new(&bc);
	struct bad b = { .n = 30 };

	(void)state;
	with_clients(e, bad_hellos, &b, 0);
	assert_int_equal(b.refused, 30);	/* each one answered: only the log is limited */
	assert_int_equal(count_lines(e, "a frontend's hello was refused: not a pvpci hello"), 3);
	fake_now = 1000;
	b = (struct bad){ .n = 1 };
	with_clients(e, bad_hellos, &b, 0);
	assert_int_equal(b.refused, 1);
	assert_non_null(strstr(e->log, "4 connections not attached yet: 27 messages suppressed\n"
				       "4 a frontend's hello was refused: not a pvpci hello (11 bytes)\n"));
	env_free(e);
}

struct busy {
	unsigned domid, n, refused;
};

/* n hellos for a domain whose frontend is connected: each refused -EBUSY. */
static void busy_hellos(struct env *e, void *arg)
{
	struct pvpci_front_opts o = { .timeout_ms = 5000 };
	struct busy *c = arg;

	for (unsigned i = 0; i < c->n; i++) {
		struct pvpci_front *f;
		int r = pvpci_front_connect(e->sock, c->domid, &o, &f, NULL, 0);

		if (!r)
			pvpci_front_close(f);
		c->refused += r == -EBUSY;
	}
}

/*
 * What is said of a domain's connections is limited per domain: a client
 * hammering at one domain's door does not hold back what is said of
 * another.  The comings and goings of frontends are not limited (each
 * costs the guest a reset of its functions).
 */
static void test_domain_log_limit(void **state)
{
	struct pvpci_backend_cfg bc = { 0 };
	struct env *e = env_new(&bc);
	struct fronts fs = { .domid = { 1, 2 } };
	struct busy c = { .domid = 1, .n = 20 };
	char err[256];
	size_t at;

	(void)state;
	assert_int_equal(export(e, 1, 0, err, sizeof(err)), 0);
	assert_int_equal(export(e, 2, 1, err, sizeof(err)), 0);
	with_clients(e, connect_fronts, &fs, 2);
	with_clients(e, busy_hellos, &c, 2);
	assert_int_equal(c.refused, 20);
	assert_int_equal(count_lines(e, "4 domain 1 has a frontend connected already\n"), 3);
	c = (struct busy){ .domid = 2, .n = 1 };
	with_clients(e, busy_hellos, &c, 2);
	assert_int_equal(c.refused, 1);
	assert_int_equal(count_lines(e, "4 domain 2 has a frontend connected already\n"), 1);
	fake_now = 1000;
	at = strlen(e->log);
	c = (struct busy){ .domid = 1, .n = 1 };
	with_clients(e, busy_hellos, &c, 2);
	assert_string_equal(e->log + at, "4 domain 1: 17 messages suppressed\n"
					 "4 domain 1 has a frontend connected already\n");
	pvpci_front_close(fs.f[0]);
	pvpci_front_close(fs.f[1]);
	for (int k = 0; k < 500 && pvpci_backend_nfronts(e->b); k++)
		assert_int_equal(pvpci_backend_run(e->b, 10), 0);
	assert_int_equal(count_lines(e, "frontend went away"), 2);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_max_domains),
		cmocka_unit_test(test_max_funcs),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_irqs_per_domain),
		cmocka_unit_test(test_grants_per_domain),
		cmocka_unit_test(test_hello_log_limit),
		cmocka_unit_test(test_domain_log_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
