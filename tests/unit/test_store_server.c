/*
 * The store's server in-process (include/pvpci/store.h), spoken to in
 * raw xs_wire messages over its sockets: framing, error names, watch
 * events, domain sockets and their rights and limits, long directories,
 * and clients that send too much or read too little.
 */
#include <errno.h>
#include <poll.h>
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

#include "pvpci/store.h"
#include "store_wire.h"

/* A literal payload, its nuls and its last one included. */
#define P(s) s, sizeof(s)

struct fx {
	char dir[64], sock[96];
	struct pvpci_store *s;
	struct pvpci_store_limits lim;
};

static struct fx *fx_start(const struct pvpci_store_limits *lim)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pvpci_store_cfg cfg = { 0 };
	char err[256];

	assert_non_null(f);
	strcpy(f->dir, "/tmp/pvpci-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/sock", f->dir);
	if (lim)
		f->lim = *lim;
	else
		pvpci_store_default_limits(&f->lim);
	cfg.socket_path = f->sock;
	cfg.limits = &f->lim;
	if (pvpci_store_new(&cfg, &f->s, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return f;
}

static void fx_stop(struct fx *f)
{
	char d[128];
	struct stat st;

	pvpci_store_free(f->s);
	/* Everything it made is gone. */
	assert_int_not_equal(stat(f->sock, &st), 0);
	snprintf(d, sizeof(d), "%s.d", f->sock);
	assert_int_not_equal(stat(d, &st), 0);
	rmdir(f->dir);
	free(f);
}

static int conn_to(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		fail_msg("connect %s: %s", path, strerror(errno));
	return fd;
}

static void send_raw(int fd, uint32_t type, uint32_t req, uint32_t tx, const void *p, size_t len)
{
	struct store_msg_hdr h = { type, req, tx, (uint32_t)len };

	assert_int_equal(write(fd, &h, sizeof(h)), sizeof(h));
	if (len)
		assert_int_equal(write(fd, p, len), (ssize_t)len);
}

struct msg {
	struct store_msg_hdr h;
	char body[STORE_PAYLOAD_MAX + 1];
};

/* Run the store until fd has a whole message (0), or the other end
 * closed (-1).  Bounded: a test never hangs. */
static int recv_msg(struct fx *f, int fd, struct msg *m)
{
	for (int i = 0; i < 3000; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		assert_int_equal(pvpci_store_run(f->s, i ? 1 : 0), 0);
		if (poll(&p, 1, 0) != 1)
			continue;
		n = recv(fd, m, sizeof(m->h), MSG_PEEK | MSG_DONTWAIT);
		if (n == 0)
			return -1;
		if (n < (ssize_t)sizeof(m->h))
			continue;
		if (recv(fd, m, sizeof(m->h) + m->h.len, MSG_PEEK | MSG_DONTWAIT) <
		    (ssize_t)(sizeof(m->h) + m->h.len))
			continue;
		assert_true(m->h.len <= STORE_PAYLOAD_MAX);
		assert_int_equal(recv(fd, m, sizeof(m->h) + m->h.len, 0), sizeof(m->h) + m->h.len);
		m->body[m->h.len] = '\0';
		return 0;
	}
	fail_msg("no answer");
	return -1;
}

/* One request; the answer must be of type want_type with payload want. */
static void req(struct fx *f, int fd, uint32_t type, uint32_t tx, const char *p, size_t len,
		uint32_t want_type, const char *want, size_t wantlen)
{
	struct msg m;

	send_raw(fd, type, 42, tx, p, len);
	assert_int_equal(recv_msg(f, fd, &m), 0);
	if (m.h.type != want_type || m.h.len != wantlen || memcmp(m.body, want, wantlen))
		fail_msg("%s %s: got type %u '%s', expected %u '%s'", store_msg_name(type), p,
			 m.h.type, m.body, want_type, want);
	assert_int_equal(m.h.req_id, 42);
	assert_int_equal(m.h.tx_id, tx);
}

#define OK(f, fd, type, tx, payload) req(f, fd, type, tx, P(payload), type, P("OK"))
/* A write: path, nul, value (no nul after it). */
#define WRITE(f, fd, tx, payload) \
	req(f, fd, STORE_MSG_WRITE, tx, payload, sizeof(payload) - 1, STORE_MSG_WRITE, P("OK"))
#define ERR(f, fd, type, tx, payload, e) req(f, fd, type, tx, P(payload), STORE_MSG_ERROR, P(e))

static void expect_event(struct fx *f, int fd, const char *path, const char *token)
{
	struct msg m;

	assert_int_equal(recv_msg(f, fd, &m), 0);
	assert_int_equal(m.h.type, STORE_MSG_WATCH_EVENT);
	assert_int_equal(m.h.req_id, 0);
	assert_string_equal(m.body, path);
	assert_string_equal(m.body + strlen(path) + 1, token);
}

/* A request that fires a watch of its own connection: the event comes
 * before the answer, as xenstored sends them. */
static void req_ev(struct fx *f, int fd, uint32_t type, const char *p, size_t len,
		   const char *evpath, const char *token)
{
	struct msg m;

	send_raw(fd, type, 42, 0, p, len);
	expect_event(f, fd, evpath, token);
	assert_int_equal(recv_msg(f, fd, &m), 0);
	assert_int_equal(m.h.type, type);
	assert_string_equal(m.body, "OK");
}

static void test_framing_and_errors(void **state)
{
	struct fx *f = fx_start(NULL);
	int a = conn_to(f->sock), b;
	struct msg m;

	(void)state;
	ERR(f, a, 99, 0, "/", "ENOSYS");
	ERR(f, a, STORE_MSG_WATCH_EVENT, 0, "/", "ENOSYS");
	ERR(f, a, STORE_MSG_ERROR, 0, "/", "ENOSYS");
	ERR(f, a, 20, 0, "/", "ENOSYS");	/* XS_RESTRICT, removed */
	ERR(f, a, STORE_MSG_READ, 0, "/nope", "ENOENT");
	ERR(f, a, STORE_MSG_READ, 77, "/", "ENOENT");	/* no such transaction */
	ERR(f, a, STORE_MSG_READ, 0, "/a\0/b", "EINVAL");	/* two strings */
	req(f, a, STORE_MSG_READ, 0, "/", 1, STORE_MSG_ERROR, P("EINVAL"));	/* no nul */
	req(f, a, STORE_MSG_WRITE, 0, "/x", 2, STORE_MSG_ERROR, P("EINVAL"));
	ERR(f, a, STORE_MSG_READ, 0, "/bad path", "EINVAL");
	ERR(f, a, STORE_MSG_TRANSACTION_END, 0, "T", "ENOENT");
	ERR(f, a, STORE_MSG_GET_DOMAIN_PATH, 0, "x1", "EINVAL");
	req(f, a, STORE_MSG_GET_DOMAIN_PATH, 0, P("7"), STORE_MSG_GET_DOMAIN_PATH,
	    P("/local/domain/7"));
	ERR(f, a, STORE_MSG_RM, 0, "/", "EINVAL");
	ERR(f, a, STORE_MSG_RM, 0, "/no/parent", "ENOENT");
	OK(f, a, STORE_MSG_RM, 0, "/nothing");

	/* Values are bytes, nuls included. */
	WRITE(f, a, 0, "/v\0a\0b");
	req(f, a, STORE_MSG_READ, 0, P("/v"), STORE_MSG_READ, "a\0b", 3);

	/* Requests sent at once are answered in order. */
	send_raw(a, STORE_MSG_READ, 1, 0, P("/v"));
	send_raw(a, STORE_MSG_READ, 2, 0, P("/nope"));
	send_raw(a, STORE_MSG_MKDIR, 3, 0, P("/m"));
	for (uint32_t i = 1; i <= 3; i++) {
		assert_int_equal(recv_msg(f, a, &m), 0);
		assert_int_equal(m.h.req_id, i);
	}

	/* Too long: E2BIG, and the connection goes; the store serves on. */
	send_raw(a, STORE_MSG_WRITE, 9, 0, NULL, 0);
	assert_int_equal(recv_msg(f, a, &m), 0);
	{
		struct store_msg_hdr h = { STORE_MSG_WRITE, 5, 0, STORE_PAYLOAD_MAX + 1 };

		assert_int_equal(write(a, &h, sizeof(h)), sizeof(h));
	}
	assert_int_equal(recv_msg(f, a, &m), 0);
	assert_int_equal(m.h.type, STORE_MSG_ERROR);
	assert_int_equal(m.h.req_id, 5);
	assert_string_equal(m.body, "E2BIG");
	assert_int_equal(recv_msg(f, a, &m), -1);
	close(a);

	/* A header cut short, then gone. */
	b = conn_to(f->sock);
	assert_int_equal(write(b, "\x02\0\0\0", 4), 4);
	close(b);
	b = conn_to(f->sock);
	req(f, b, STORE_MSG_READ, 0, P("/v"), STORE_MSG_READ, "a\0b", 3);
	close(b);
	fx_stop(f);
}

static void test_watches(void **state)
{
	struct fx *f = fx_start(NULL);
	int w = conn_to(f->sock), c = conn_to(f->sock);
	struct msg m;

	(void)state;
	OK(f, w, STORE_MSG_WATCH, 0, "/w\0tok");
	expect_event(f, w, "/w", "tok");	/* at once, the node or not */
	ERR(f, w, STORE_MSG_WATCH, 0, "/w\0tok", "EEXIST");
	ERR(f, w, STORE_MSG_WATCH, 0, "/w", "EINVAL");
	ERR(f, w, STORE_MSG_WATCH, 0, "/w/\0t", "EINVAL");
	OK(f, w, STORE_MSG_WATCH, 0, "rel\0r");	/* dom0's relative paths: /local/domain/0 */
	expect_event(f, w, "rel", "r");

	WRITE(f, c, 0, "/w/a\0x");
	expect_event(f, w, "/w/a", "tok");
	WRITE(f, c, 0, "/local/domain/0/rel/x\0x");
	expect_event(f, w, "rel/x", "r");
	OK(f, c, STORE_MSG_RM, 0, "/w");
	expect_event(f, w, "/w", "tok");

	OK(f, w, STORE_MSG_UNWATCH, 0, "/w\0tok");
	ERR(f, w, STORE_MSG_UNWATCH, 0, "/w\0tok", "ENOENT");
	WRITE(f, c, 0, "/w\0x");
	/* No event came: the next message is the answer to this. */
	send_raw(w, STORE_MSG_READ, 8, 0, P("/w"));
	assert_int_equal(recv_msg(f, w, &m), 0);
	assert_int_equal(m.h.type, STORE_MSG_READ);

	/* A transaction's changes show when it commits. */
	OK(f, w, STORE_MSG_WATCH, 0, "/w\0tok");
	expect_event(f, w, "/w", "tok");
	req(f, c, STORE_MSG_TRANSACTION_START, 0, P(""), STORE_MSG_TRANSACTION_START, P("1"));
	WRITE(f, c, 1, "/w\0y");
	send_raw(w, STORE_MSG_READ, 8, 0, P("/w"));
	assert_int_equal(recv_msg(f, w, &m), 0);
	assert_int_equal(m.h.type, STORE_MSG_READ);
	assert_string_equal(m.body, "x");
	OK(f, c, STORE_MSG_TRANSACTION_END, 1, "T");
	expect_event(f, w, "/w", "tok");

	OK(f, w, STORE_MSG_RESET_WATCHES, 0, "");
	ERR(f, w, STORE_MSG_UNWATCH, 0, "rel\0r", "ENOENT");
	close(w);
	close(c);
	fx_stop(f);
}

static void test_transactions(void **state)
{
	struct fx *f = fx_start(NULL);
	int a = conn_to(f->sock), b = conn_to(f->sock);

	(void)state;
	WRITE(f, a, 0, "/t\0a");
	req(f, a, STORE_MSG_TRANSACTION_START, 0, P(""), STORE_MSG_TRANSACTION_START, P("1"));
	req(f, a, STORE_MSG_TRANSACTION_START, 0, P(""), STORE_MSG_TRANSACTION_START, P("2"));
	ERR(f, a, STORE_MSG_TRANSACTION_START, 1, "", "EBUSY");	/* no nesting */
	req(f, a, STORE_MSG_READ, 1, P("/t"), STORE_MSG_READ, "a", 1);
	WRITE(f, b, 0, "/t\0b");
	req(f, a, STORE_MSG_READ, 1, P("/t"), STORE_MSG_READ, "a", 1);	/* as first seen */
	ERR(f, a, STORE_MSG_TRANSACTION_END, 1, "X", "EINVAL");	/* and it stays open */
	ERR(f, a, STORE_MSG_TRANSACTION_END, 1, "T", "EAGAIN");
	ERR(f, a, STORE_MSG_READ, 1, "/t", "ENOENT");		/* gone */
	WRITE(f, a, 2, "/t2\0c");
	OK(f, a, STORE_MSG_TRANSACTION_END, 2, "T");
	req(f, b, STORE_MSG_READ, 0, P("/t2"), STORE_MSG_READ, "c", 1);
	/* Numbers are per connection and reused once free. */
	req(f, b, STORE_MSG_TRANSACTION_START, 0, P(""), STORE_MSG_TRANSACTION_START, P("1"));
	close(b);	/* its transaction goes with it */
	close(a);
	fx_stop(f);
}

static void introduce(struct fx *f, int fd, unsigned domid)
{
	char p[32];
	int n = snprintf(p, sizeof(p), "%u%c0%c1", domid, 0, 0);

	req(f, fd, STORE_MSG_INTRODUCE, 0, p, (size_t)n + 1, STORE_MSG_INTRODUCE, P("OK"));
}

static void test_domains(void **state)
{
	struct pvpci_store_limits lim;
	struct fx *f;
	int d0, d1, d1b;
	char path[128];
	struct stat st;
	struct msg m;

	(void)state;
	pvpci_store_default_limits(&lim);
	lim.watches = 3;
	lim.transactions = 2;
	f = fx_start(&lim);
	d0 = conn_to(f->sock);
	OK(f, d0, STORE_MSG_WATCH, 0, "@introduceDomain\0in");
	expect_event(f, d0, "@introduceDomain", "in");
	OK(f, d0, STORE_MSG_WATCH, 0, "@releaseDomain\0out");
	expect_event(f, d0, "@releaseDomain", "out");
	OK(f, d0, STORE_MSG_WATCH, 0, "/\0all");
	expect_event(f, d0, "/", "all");
	ERR(f, d0, STORE_MSG_INTRODUCE, 0, "1\0000\0000", "EINVAL");	/* no port */
	ERR(f, d0, STORE_MSG_INTRODUCE, 0, "x\0000\0001", "EINVAL");
	/* Fired to its watch, not to the watch on "/". */
	req_ev(f, d0, STORE_MSG_INTRODUCE, P("1\0" "0\0" "1"), "@introduceDomain", "in");
	introduce(f, d0, 1);				/* again: nothing new */
	req(f, d0, STORE_MSG_IS_DOMAIN_INTRODUCED, 0, P("1"), STORE_MSG_IS_DOMAIN_INTRODUCED, P("T"));
	req(f, d0, STORE_MSG_IS_DOMAIN_INTRODUCED, 0, P("2"), STORE_MSG_IS_DOMAIN_INTRODUCED, P("F"));
	req(f, d0, STORE_MSG_IS_DOMAIN_INTRODUCED, 0, P("0"), STORE_MSG_IS_DOMAIN_INTRODUCED, P("T"));
	assert_int_equal(pvpci_store_domain_socket(f->s, 1, path, sizeof(path)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	d1 = conn_to(path);

	/* What a domain may not do. */
	ERR(f, d1, STORE_MSG_INTRODUCE, 0, "2\0000\0001", "EACCES");
	ERR(f, d1, STORE_MSG_CONTROL, 0, "help", "EACCES");
	ERR(f, d1, STORE_MSG_READ, 0, "/local/domain/0", "EACCES");
	ERR(f, d1, STORE_MSG_READ, 0, "/tool/nope", "EACCES");
	ERR(f, d1, STORE_MSG_WRITE, 0, "/x\0y", "EACCES");
	ERR(f, d1, STORE_MSG_READ, 0, "data/x", "EACCES");	/* its node is not there yet */
	req(f, d1, STORE_MSG_GET_DOMAIN_PATH, 0, P("1"), STORE_MSG_GET_DOMAIN_PATH,
	    P("/local/domain/1"));

	/* The toolstack gives it its directory. */
	req_ev(f, d0, STORE_MSG_MKDIR, P("/local/domain/1"), "/local/domain/1", "all");
	req_ev(f, d0, STORE_MSG_SET_PERMS, P("/local/domain/1\0n1\0r0"), "/local/domain/1", "all");
	OK(f, d1, STORE_MSG_WATCH, 0, "data\0d");
	expect_event(f, d1, "data", "d");
	/* Relative, as it asked. */
	req_ev(f, d1, STORE_MSG_WRITE, "data/x\0hi", 9, "data/x", "d");
	expect_event(f, d0, "/local/domain/1/data/x", "all");
	req(f, d0, STORE_MSG_GET_PERMS, 0, P("/local/domain/1/data/x"), STORE_MSG_GET_PERMS,
	    P("n1\0r0"));
	ERR(f, d1, STORE_MSG_SET_PERMS, 0, "data/x\0n2", "EPERM");
	ERR(f, d1, STORE_MSG_SET_PERMS, 0, "data/x\0n1\0r2\0r3\0r4\0r5\0r6", "ENOSPC");
	ERR(f, d1, STORE_MSG_SET_PERMS, 0, "data/x\0q1", "EINVAL");

	/* Its limits: watches E2BIG, transactions ENOSPC. */
	OK(f, d1, STORE_MSG_WATCH, 0, "data\0e");
	expect_event(f, d1, "data", "e");
	OK(f, d1, STORE_MSG_WATCH, 0, "data\0f");
	expect_event(f, d1, "data", "f");
	ERR(f, d1, STORE_MSG_WATCH, 0, "data\0g", "E2BIG");
	req(f, d1, STORE_MSG_TRANSACTION_START, 0, P(""), STORE_MSG_TRANSACTION_START, P("1"));
	req(f, d1, STORE_MSG_TRANSACTION_START, 0, P(""), STORE_MSG_TRANSACTION_START, P("2"));
	ERR(f, d1, STORE_MSG_TRANSACTION_START, 0, "", "ENOSPC");
	/* dom0 has none. */
	for (int i = 0; i < 5; i++) {
		char t[8];

		snprintf(t, sizeof(t), "t%d", i);
		send_raw(d0, STORE_MSG_WATCH, 1, 0, t, 3);
		assert_int_equal(recv_msg(f, d0, &m), -0);
		assert_string_equal(m.body, "EINVAL");	/* one string: not a watch */
	}

	/* Released: its connections close, its socket goes, its
	 * permissions are forgotten. */
	d1b = conn_to(path);
	ERR(f, d0, STORE_MSG_RELEASE, 0, "0", "EINVAL");
	ERR(f, d0, STORE_MSG_RELEASE, 0, "2", "ENOENT");
	req_ev(f, d0, STORE_MSG_RELEASE, P("1"), "@releaseDomain", "out");
	assert_int_equal(recv_msg(f, d1, &m), -1);
	assert_int_equal(recv_msg(f, d1b, &m), -1);
	assert_int_not_equal(stat(path, &st), 0);
	req(f, d0, STORE_MSG_IS_DOMAIN_INTRODUCED, 0, P("1"), STORE_MSG_IS_DOMAIN_INTRODUCED, P("F"));
	req(f, d0, STORE_MSG_GET_PERMS, 0, P("/local/domain/1/data/x"), STORE_MSG_GET_PERMS,
	    P("n0\0r0"));
	assert_int_equal(pvpci_store_nconns(f->s), 1);
	close(d1);
	close(d1b);
	close(d0);
	fx_stop(f);
}

static void test_directory_part(void **state)
{
	struct fx *f = fx_start(NULL);
	int a = conn_to(f->sock);
	char all[16384], got[16384], p[64];
	size_t alllen = 0, gotlen = 0;
	struct msg m;
	char gen[32] = "";

	(void)state;
	for (int i = 0; i < 400; i++) {
		int n = snprintf(p, sizeof(p), "/d/child-with-a-long-name-%03d", i);

		send_raw(a, STORE_MSG_MKDIR, 0, 0, p, (size_t)n + 1);
		assert_int_equal(recv_msg(f, a, &m), 0);
		alllen += (size_t)sprintf(all + alllen, "%s", p + 3) + 1;
	}
	ERR(f, a, STORE_MSG_DIRECTORY, 0, "/d", "E2BIG");
	for (;;) {
		int n = snprintf(p, sizeof(p), "/d%c%zu", 0, gotlen);
		size_t gl;

		send_raw(a, STORE_MSG_DIRECTORY_PART, 0, 0, p, (size_t)n + 1);
		assert_int_equal(recv_msg(f, a, &m), 0);
		assert_int_equal(m.h.type, STORE_MSG_DIRECTORY_PART);
		if (!gen[0])
			strcpy(gen, m.body);
		assert_string_equal(m.body, gen);	/* the same generation throughout */
		gl = strlen(m.body) + 1;
		memcpy(got + gotlen, m.body + gl, m.h.len - gl);
		gotlen += m.h.len - gl;
		/* The list ends with an empty name. */
		if (gotlen >= 2 && got[gotlen - 2] == '\0')
			break;
		assert_true(gotlen < sizeof(got) - STORE_PAYLOAD_MAX);
	}
	assert_int_equal(gotlen - 1, alllen);
	assert_memory_equal(got, all, alllen);
	/* Past the end: just the generation and the empty name. */
	send_raw(a, STORE_MSG_DIRECTORY_PART, 0, 0, P("/d\0" "99999"));
	assert_int_equal(recv_msg(f, a, &m), 0);
	assert_int_equal(m.h.len, strlen(gen) + 2);
	ERR(f, a, STORE_MSG_DIRECTORY_PART, 0, "/d\0-1", "EINVAL");
	ERR(f, a, STORE_MSG_DIRECTORY_PART, 0, "/d", "EINVAL");
	close(a);
	fx_stop(f);
}

static void test_slow_readers(void **state)
{
	struct pvpci_store_limits lim;
	struct fx *f;
	int a, b, w;
	char big[4001];
	struct msg m;

	(void)state;
	pvpci_store_default_limits(&lim);
	lim.out_max = 128 * 1024;
	f = fx_start(&lim);
	a = conn_to(f->sock);
	b = conn_to(f->sock);
	w = conn_to(f->sock);
	memset(big, 'x', sizeof(big));
	memcpy(big, "/big", 5);
	send_raw(a, STORE_MSG_WRITE, 0, 0, big, sizeof(big));
	assert_int_equal(recv_msg(f, a, &m), 0);

	/* a asks for more than it reads: the store stops reading it, and
	 * serves the others meanwhile. */
	for (int i = 0; i < 40; i++)
		send_raw(a, STORE_MSG_READ, (uint32_t)i, 0, P("/big"));
	for (int i = 0; i < 20; i++)
		assert_int_equal(pvpci_store_run(f->s, 1), 0);
	req(f, b, STORE_MSG_READ, 0, P("/"), STORE_MSG_READ, "", 0);
	for (uint32_t i = 0; i < 40; i++) {
		assert_int_equal(recv_msg(f, a, &m), 0);
		assert_int_equal(m.h.req_id, i);
		assert_int_equal(m.h.len, sizeof(big) - 5);
	}

	/* w watches everything and never reads: past out_max it is dropped. */
	OK(f, w, STORE_MSG_WATCH, 0, "/\0w");
	for (int i = 0; i < 200; i++) {
		char p[64];
		int n = snprintf(p, sizeof(p), "/many/node-number-%d-with-a-longer-name", i);

		send_raw(b, STORE_MSG_MKDIR, 0, 0, p, (size_t)n + 1);
		assert_int_equal(recv_msg(f, b, &m), 0);
	}
	assert_int_equal(pvpci_store_nconns(f->s), 3);
	/* (the kernel takes what it can first) */
	for (int i = 0; i < 20000 && pvpci_store_nconns(f->s) == 3; i++) {
		char p[64];
		int n = snprintf(p, sizeof(p), "/many/more-%d-with-a-long-name-for-the-event", i);

		send_raw(b, STORE_MSG_MKDIR, 0, 0, p, (size_t)n + 1);
		assert_int_equal(recv_msg(f, b, &m), 0);
	}
	assert_int_equal(pvpci_store_nconns(f->s), 2);
	close(a);
	close(b);
	close(w);
	fx_stop(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_framing_and_errors),
		cmocka_unit_test(test_watches),
		cmocka_unit_test(test_transactions),
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_directory_part),
		cmocka_unit_test(test_slow_readers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
