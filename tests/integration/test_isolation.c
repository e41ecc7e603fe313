/*
 * A misbehaving frontend affects only its own devices.  One backend child
 * (prototest.h) exports virtio-net to domain 1, the victim, and "dev" to
 * domain 2, which misbehaves in four ways in turn (misbehave.h): a kick
 * flood with XEN_PCIF_active set and cleared between kicks, garbage ops
 * without pause, vanishing and reconnecting, and an AER request it never
 * answers (the backend's AER timeout is ten minutes).  While each runs,
 * domain 1 makes NREADS conf_reads of every width all over its config
 * space, as it did first with nobody misbehaving:
 *   - asserted: every answer is right, none timed out (the frontend
 *     library's op timeout), and domain 2 went on misbehaving meanwhile
 *     (its own count of kicks, ops or connections grew across domain 1's
 *     reads, or its AER request stayed pending): the backend served
 *     domain 1 all along;
 *   - printed, never asserted (performance is bench_proto's): median and
 *     p99 of domain 1's round trips, alone and with each misbehaviour,
 *     and their ratio.
 * Then the limits on what a guest makes the backend log: domain 2's
 * warnings stay within its limit (10; the test makes the interval an
 * hour), domain 1's still get through, and 50 hellos that are not hellos
 * are all refused and 10 logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "misbehave.h"
#include "prototest.h"

#define NREADS		2000
#define WARMUP		200
#define LOG_BURST	10
#define HOUR_MS		3600000L

struct lat {
	double med, p99;	/* us */
	unsigned bad;		/* wrong answers */
	int broken;		/* the frontend library's verdict after them */
};

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* n conf_reads of 4, 2 and 1 bytes across the first 256 bytes of net,
 * each checked against cfg; their round trips. */
static struct lat reads(struct pvpci_front *f, const struct pvpci_bdf *net, const uint8_t *cfg,
			unsigned n)
{
	static long t[NREADS];
	struct lat r = { 0 };

	for (unsigned i = 0; i < n; i++) {
		unsigned size = i % 3 == 0 ? 4 : i % 3 == 1 ? 2 : 1, off = i % 64 * 4 + 4 - size;
		uint32_t v = 0, want = 0;
		long t0 = now_ns();
		int e = pvpci_front_conf_read(f, net, (int)off, (int)size, &v);

		if (i < NREADS)
			t[i] = now_ns() - t0;
		for (unsigned b = 0; b < size; b++)
			want |= (uint32_t)cfg[off + b] << (8 * b);
		if ((e || v != want) && r.bad++ == 0)
			diag("read %u: %u bytes at 0x%x: err %d, 0x%x, expected 0x%x", i, size, off, e, v,
			     want);
	}
	n = n < NREADS ? n : NREADS;
	qsort(t, n, sizeof(*t), cmp_long);
	r.med = t[n / 2] / 1e3;
	r.p99 = t[n * 99 / 100] / 1e3;
	r.broken = pvpci_front_broken(f);
	return r;
}

/* A misbehaving domain 2 in a child, and how to stop it. */
struct mb {
	pid_t pid;
	int stop_w;
	struct lines up;
	struct mb_counter *cnt;
};

static bool mb_start(struct mb *m, enum mb_kind kind, const struct bk *k)
{
	int up[2], stop[2];
	char line[256] = "";

	*m = (struct mb){ .pid = -1, .stop_w = -1, .up.fd = -1, .cnt = mb_counter_new() };
	if (!m->cnt || pipe2(up, O_CLOEXEC) < 0)
		return ok(false, "%s: a counter and pipes", mb_name[kind]);
	if (pipe2(stop, O_CLOEXEC) < 0) {
		close(up[0]);
		close(up[1]);
		return ok(false, "%s: a counter and pipes", mb_name[kind]);
	}
	m->pid = spawn();
	if (m->pid == 0) {
		close(up[0]);
		close(stop[1]);
		_exit(mb_run(kind, k->sock, 2, &k->guest[1], m->cnt, up[1], stop[0]));
	}
	close(up[1]);
	close(stop[0]);
	m->up.fd = up[0];
	m->stop_w = stop[1];
	if (m->pid > 0 && line_get(&m->up, line, sizeof(line), ANSWER_MS) == 0 && !strcmp(line, "ready"))
		return ok(true, "domain 2 starts: %s", mb_name[kind]);
	ok(false, "domain 2 starts: %s", mb_name[kind]);
	diag("it said: %s", line);
	return false;
}

/* Tell it to stop; it must exit 0 (it stopped as told, never lost the
 * backend nor waited out an op). */
static void mb_stop(struct mb *m, enum mb_kind kind)
{
	if (m->stop_w >= 0)
		close(m->stop_w);
	if (m->pid > 0)
		ok(exited_0(child_wait(m->pid, ANSWER_MS), "the misbehaving frontend"),
		   "domain 2 stops (%s): the backend never dropped it or left an op unanswered",
		   mb_name[kind]);
	if (m->up.fd >= 0)
		close(m->up.fd);
	mb_counter_free(m->cnt);
}

static long bk_number(struct bk *k, const char *cmd)
{
	char ans[64] = "";

	return bk_ask(k, cmd, ans, sizeof(ans)) ? strtol(ans, NULL, 10) : -1;
}

static void print_lat(const char *what, const struct lat *r, const struct lat *alone)
{
	if (alone)
		diag("  %-22s median %7.2f us  p99 %7.2f us  ratio to alone: median %.2f, p99 %.2f", what,
		     r->med, r->p99, r->med / alone->med, r->p99 / alone->p99);
	else
		diag("  %-22s median %7.2f us  p99 %7.2f us", what, r->med, r->p99);
}

/* Domain 1 while domain 2 misbehaves as kind. */
static void victim_under(struct bk *k, struct pvpci_front *f, const uint8_t *cfg, enum mb_kind kind,
			 struct lat *ret)
{
	unsigned long before, after;
	char out[128] = "";
	struct mb m;

	if (!mb_start(&m, kind, k))
		goto out;
	if (kind == MB_AER_SILENT) {
		bk_send(k, "aer " DEV_HOST " 2");	/* answered when the sequence ends */
		is_int(bk_number(k, "aerbusy"), 1, "an AER request waits for domain 2");
	}
	before = __atomic_load_n(&m.cnt->n, __ATOMIC_RELAXED);
	*ret = reads(f, &k->guest[0], cfg, NREADS);
	after = __atomic_load_n(&m.cnt->n, __ATOMIC_RELAXED);
	is_int(ret->bad, 0, "%s: %d conf_reads of domain 1, every answer right", mb_name[kind], NREADS);
	is_int(ret->broken, 0, "%s: none of them timed out", mb_name[kind]);
	if (kind == MB_AER_SILENT) {
		is_int(bk_number(k, "aerbusy"), 1,
		       "AER never answered: the request still waits after domain 1's reads");
	} else if (!ok(after > before, "%s: domain 2 went on meanwhile", mb_name[kind])) {
		diag("its count: %lu before domain 1's reads, %lu after", before, after);
	} else {
		diag("domain 2 did %lu %s during domain 1's reads", after - before, mb_unit[kind]);
	}
out:
	mb_stop(&m, kind);
	if (kind == MB_AER_SILENT && line_get(&k->ans, out, sizeof(out), ANSWER_MS) == 0)
		is_int(strtol(out, NULL, 10), 0, "the AER sequence ends when domain 2 goes");
	fronts_are(k, 1, "once domain 2 is gone: domain 1's");
}

/* What guests and clients can make the backend log stays within limits,
 * per domain. */
static void log_limits(struct bk *k, struct pvpci_front *f)
{
	static const struct hello h = { .magic = "pvpcilo2", .version = 1, .domid = 2 };
	struct pvpci_local_welcome w;
	unsigned refused = 0;
	long n;

	/* Its failed MSI and MSI-X enables, the writes its engines dropped,
	 * its hellos refused while it was connected. */
	n = bk_number(k, "logcount for guest 2") + bk_number(k, "logcount Driver tried to write") +
	    bk_number(k, "logcount domain 2 has a frontend connected already");
	ok(n > 0 && n <= LOG_BURST, "domain 2's warnings: %ld logged, within its limit of %d", n,
	   LOG_BURST);
	n = bk_number(k, "logcount suppressed");
	is_int(n, 0, "no 'suppressed' line yet: the interval is an hour");
	op_is(f, mkop(OP(enable_msi), &k->guest[0]), ERR(op_failed), 0,
	      "domain 1: enable_msi without an MSI capability: op_failed");
	is_int(bk_number(k, "logcount error enabling MSI for guest 1"), 1,
	       "and its warning is logged: domain 2 used up only its own limit");
	for (int i = 0; i < 50; i++) {
		int s = raw_send(k->sock, &h, sizeof(h), NULL, 0);

		refused += s >= 0 && raw_welcome(s, &w, ANSWER_MS) == 0 && w.status == -EPROTO;
		if (s >= 0)
			close(s);
	}
	is_int(refused, 50, "50 hellos with a wrong magic: each refused -EPROTO");
	is_int(bk_number(k, "logcount hello was refused"), LOG_BURST,
	       "%d of them logged: those of clients not attached yet share one limit", LOG_BURST);
}

int main(void)
{
	static const struct exp exps[] = { { 1, NET_HOST }, { 2, DEV_HOST } };
	const struct bk_cfg cfg = {
		.mode = PVPCI_TOPO_VPCI, .exps = exps, .nexps = 2, .aer_timeout_ms = 600000,
		.log_limit = { .burst = LOG_BURST, .interval_ms = HOUR_MS },
	};
	static uint8_t net_cfg[PVPCI_CFG_EXP_SIZE];
	struct lat alone = { 0 }, again = { 0 }, under[MB_KINDS] = { { 0 } };
	struct pvpci_front *f = NULL;
	unsigned size = 0;
	struct bk k;

	signal(SIGPIPE, SIG_IGN);
	if (!scene_start("isolation", &cfg, &k, 1, &f))
		goto out;
	if (!ok(pvpci_front_read_config(f, &k.guest[0], net_cfg, &size) == 0 && size == 256,
		"domain 1 reads its config space"))
		goto out;
	reads(f, &k.guest[0], net_cfg, WARMUP);
	alone = reads(f, &k.guest[0], net_cfg, NREADS);
	is_int(alone.bad + (unsigned)!!alone.broken, 0, "alone: %d conf_reads of domain 1, every answer right",
	       NREADS);
	for (int m = 0; m < MB_KINDS; m++)
		victim_under(&k, f, net_cfg, (enum mb_kind)m, &under[m]);
	again = reads(f, &k.guest[0], net_cfg, NREADS);
	is_int(again.bad + (unsigned)!!again.broken, 0, "alone again: every answer right");
	diag("domain 1's conf_read round trips (%d each; printed, not asserted):", NREADS);
	print_lat("alone", &alone, NULL);
	for (int m = 0; m < MB_KINDS; m++)
		print_lat(mb_name[m], &under[m], &alone);
	print_lat("alone again", &again, &alone);
	log_limits(&k, f);
out:
	pvpci_front_close(f);
	bk_stop(&k);
	printf("1..%d\n", ntests);
	return nfailed ? 1 : 0;
}
