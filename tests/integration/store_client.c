/*
 * pvpci-stored through libxenstore, as the backend, frontend and tools
 * use it: found through XENSTORED_PATH.
 *
 *   store_client introduce DOMID | release DOMID
 *       what xl does to a domain's store connection (the xenstore tools
 *       have no such command)
 *   store_client check DOMAIN_SOCKET_DIR
 *       transactions and their conflicts (EAGAIN) between two dom0
 *       connections, then domain 1 introduced and connected at
 *       DOMAIN_SOCKET_DIR/1: what it may see and do, its watches, its
 *       limits, its release.  Prints "ok - ..." / "not ok - ..." lines
 *       (the caller numbers them); exits 1 when any failed.
 *
 * Every wait for a watch event is bounded.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

static int failures;

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	failures += !ok;
}

/* The value at path, "<errno name>" when it cannot be read. */
static const char *rd(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	static char buf[4200];
	unsigned len;
	char *v = xs_read(h, t, path, &len);

	if (!v) {
		snprintf(buf, sizeof(buf), "<%s>", errno == ENOENT ? "ENOENT" :
			 errno == EACCES ? "EACCES" : strerror(errno));
		return buf;
	}
	snprintf(buf, sizeof(buf), "%.*s", (int)len, v);
	free(v);
	return buf;
}

static bool wr(struct xs_handle *h, xs_transaction_t t, const char *path, const char *v)
{
	return xs_write(h, t, path, v, (unsigned)strlen(v));
}

/* The next watch event within 10 s: its path into buf, "" if none. */
static const char *next_event(struct xs_handle *h, char *buf, size_t len)
{
	struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };
	unsigned n;
	char **v;

	buf[0] = '\0';
	if (poll(&p, 1, 10000) != 1)
		return buf;
	v = xs_read_watch(h, &n);
	if (v) {
		snprintf(buf, len, "%s", v[XS_WATCH_PATH]);
		free(v);
	}
	return buf;
}

/* Start a transaction on a, do first, write outside it on b, commit: the
 * errno of the commit (0 when it went through). */
static int conflict(struct xs_handle *a, struct xs_handle *b, const char *what)
{
	xs_transaction_t t = xs_transaction_start(a);
	unsigned n;
	char **d;

	if (t == XBT_NULL)
		return -1;
	if (!strcmp(what, "read")) {
		free(xs_read(a, t, "/c/x", &n));
		wr(b, XBT_NULL, "/c/x", "outside");
		wr(a, t, "/c/x", "inside");
	} else if (!strcmp(what, "write")) {
		wr(a, t, "/c/x", "inside");
		wr(b, XBT_NULL, "/c/x", "outside");
	} else if (!strcmp(what, "rm")) {
		free(xs_read(a, t, "/c/x", &n));
		xs_rm(b, XBT_NULL, "/c/x");
		wr(a, t, "/c/y", "inside");
	} else if (!strcmp(what, "directory")) {
		d = xs_directory(a, t, "/c", &n);
		free(d);
		wr(b, XBT_NULL, "/c/added", "");
		wr(a, t, "/c/y", "inside");
	} else {	/* unrelated */
		free(xs_read(a, t, "/c/x", &n));
		wr(b, XBT_NULL, "/elsewhere", "");
		wr(a, t, "/c/y", "inside");
	}
	return xs_transaction_end(a, t, false) ? 0 : errno;
}

static void dom0_transactions(struct xs_handle *a, struct xs_handle *b)
{
	xs_transaction_t t;
	int tries = 0;
	bool done = false;

	wr(a, XBT_NULL, "/c/x", "0");
	t = xs_transaction_start(a);
	check(t != XBT_NULL, "transaction start");
	wr(a, t, "/c/x", "1");
	wr(a, t, "/c/new/deep", "n");
	check(!strcmp(rd(b, XBT_NULL, "/c/x"), "0") && !strcmp(rd(b, XBT_NULL, "/c/new"), "<ENOENT>"),
	      "a transaction's writes do not show before its commit");
	check(xs_transaction_end(a, t, false), "commit");
	check(!strcmp(rd(b, XBT_NULL, "/c/x"), "1") && !strcmp(rd(b, XBT_NULL, "/c/new/deep"), "n"),
	      "they show after it");

	t = xs_transaction_start(a);
	xs_rm(a, t, "/c");
	check(xs_transaction_end(a, t, true) && !strcmp(rd(b, XBT_NULL, "/c/x"), "1"),
	      "an aborted transaction changes nothing");

	wr(a, XBT_NULL, "/c/x", "0");
	check(conflict(a, b, "read") == EAGAIN, "a node read in a transaction, changed outside: EAGAIN");
	check(!strcmp(rd(b, XBT_NULL, "/c/x"), "outside"), "and the change outside stays");
	check(conflict(a, b, "write") == EAGAIN, "a node written in a transaction, changed outside: EAGAIN");
	check(conflict(a, b, "rm") == EAGAIN, "a node read in a transaction, removed outside: EAGAIN");
	wr(a, XBT_NULL, "/c/x", "0");
	check(conflict(a, b, "directory") == EAGAIN,
	      "a directory listed in a transaction, a child added outside: EAGAIN");
	check(conflict(a, b, "unrelated") == 0, "a change elsewhere: the commit goes through");

	/* The usual loop: read, modify, write, commit, again on EAGAIN; the
	 * other connection interferes the first time. */
	wr(a, XBT_NULL, "/c/count", "0");
	while (!done && tries < 5) {
		unsigned n;
		char *v, nv[16];

		t = xs_transaction_start(a);
		v = xs_read(a, t, "/c/count", &n);
		if (tries++ == 0)
			wr(b, XBT_NULL, "/c/count", "1");
		snprintf(nv, sizeof(nv), "%d", v ? atoi(v) + 1 : -100);
		free(v);
		wr(a, t, "/c/count", nv);
		done = xs_transaction_end(a, t, false);
		if (!done && errno != EAGAIN)
			break;
	}
	check(done && tries == 2 && !strcmp(rd(b, XBT_NULL, "/c/count"), "2"),
	      "read-modify-write retried once on EAGAIN counts both increments (%d tries)", tries);
	xs_rm(a, XBT_NULL, "/c");
	xs_rm(a, XBT_NULL, "/elsewhere");
}

static void domain(struct xs_handle *h0, struct xs_handle *h1, const char *dir)
{
	struct xs_permissions own[2] = { { 1, XS_PERM_NONE }, { 0, XS_PERM_READ } }, *p;
	char path[4096], ev[256], big[2100];
	struct xs_handle *hd;
	xs_transaction_t t, ts[11];
	unsigned n;
	int i, nw, made;
	char *s;

	check(xs_watch(h1, "@introduceDomain", "in") && !strcmp(next_event(h1, ev, sizeof(ev)),
								 "@introduceDomain"),
	      "@introduceDomain watched (fired at once)");
	check(xs_introduce_domain(h0, 1, 0, 1), "domain 1 introduced");
	check(!strcmp(next_event(h1, ev, sizeof(ev)), "@introduceDomain"),
	      "@introduceDomain fired on the introduction");
	check(xs_is_domain_introduced(h0, 1) && !xs_is_domain_introduced(h0, 2),
	      "is_domain_introduced: 1 yes, 2 no");
	s = xs_get_domain_path(h0, 1);
	check(s && !strcmp(s, "/local/domain/1"), "get_domain_path: %s", s ? s : "(null)");
	free(s);
	check(xs_mkdir(h0, XBT_NULL, "/local/domain/1") &&
	      xs_set_permissions(h0, XBT_NULL, "/local/domain/1", own, 2),
	      "dom0 gives domain 1 its directory (n1 r0)");

	snprintf(path, sizeof(path), "%s/1", dir);
	setenv("XENSTORED_PATH", path, 1);
	hd = xs_open(0);
	check(hd != NULL, "xs_open as domain 1 at %s", path);
	if (!hd)
		return;

	check(wr(hd, XBT_NULL, "data/x", "hi") &&
	      !strcmp(rd(h0, XBT_NULL, "/local/domain/1/data/x"), "hi"),
	      "domain 1 writes data/x: dom0 reads it at /local/domain/1/data/x");
	p = xs_get_permissions(h0, XBT_NULL, "/local/domain/1/data/x", &n);
	check(p && n == 2 && p[0].id == 1 && p[1].id == 0 && p[1].perms == XS_PERM_READ,
	      "what domain 1 creates is its own, the rest inherited (n1 r0)");
	free(p);
	check(!strcmp(rd(hd, XBT_NULL, "/local/domain/0"), "<EACCES>") &&
	      !strcmp(rd(hd, XBT_NULL, "/tool/xenstored"), "<EACCES>") &&
	      !strcmp(rd(hd, XBT_NULL, "/local/domain/0/nothing"), "<EACCES>"),
	      "domain 1 may not read dom0's nodes, nor learn what is absent there");
	check(!strcmp(rd(hd, XBT_NULL, "data/nothing"), "<ENOENT>"),
	      "an absent node of its own is ENOENT");
	check(!wr(hd, XBT_NULL, "/local/domain/0/x", "") && errno == EACCES &&
	      !wr(hd, XBT_NULL, "/x", "") && errno == EACCES,
	      "domain 1 may not write outside its directory (EACCES)");
	check(!xs_introduce_domain(hd, 2, 0, 1) && errno == EACCES,
	      "domain 1 may not introduce a domain (EACCES)");
	own[0].id = 0;
	check(!xs_set_permissions(hd, XBT_NULL, "data/x", own, 2) && errno == EPERM,
	      "domain 1 may not give its node away (EPERM)");

	t = xs_transaction_start(hd);
	free(xs_read(hd, t, "data/x", &n));
	wr(h0, XBT_NULL, "/local/domain/1/data/x", "dom0");
	wr(hd, t, "data/x", "mine");
	check(!xs_transaction_end(hd, t, false) && errno == EAGAIN &&
	      !strcmp(rd(hd, XBT_NULL, "data/x"), "dom0"),
	      "domain 1's transaction conflicts with dom0's write: EAGAIN");

	check(xs_watch(hd, "data", "d") && !strcmp(next_event(hd, ev, sizeof(ev)), "data"),
	      "domain 1 watches data (relative; fired at once)");
	check(xs_watch(hd, "/local/domain/0", "secret") &&
	      !strcmp(next_event(hd, ev, sizeof(ev)), "/local/domain/0"),
	      "domain 1 may watch /local/domain/0");
	wr(h0, XBT_NULL, "/local/domain/0/secret", "s");
	wr(h0, XBT_NULL, "/local/domain/1/data/y", "");
	check(!strcmp(next_event(hd, ev, sizeof(ev)), "data/y"),
	      "it sees data/y as data/y, and not dom0's change it may not read (%s)", ev);

	/* Its limits: 128 watches, 10 transactions, 2048-byte nodes, 1000 nodes. */
	for (nw = 2; nw < 200; nw++) {
		char tok[16];

		snprintf(tok, sizeof(tok), "w%d", nw);
		if (!xs_watch(hd, "data", tok))
			break;
	}
	check(nw == 128 && errno == E2BIG, "the 129th watch: E2BIG (%d watches)", nw);
	for (i = 0; i < 11; i++) {
		ts[i] = xs_transaction_start(hd);
		if (ts[i] == XBT_NULL)
			break;
	}
	check(i == 10 && errno == ENOSPC, "the 11th transaction: ENOSPC (%d)", i);
	while (i-- > 0)
		xs_transaction_end(hd, ts[i], true);
	memset(big, 'x', sizeof(big));
	check(!xs_write(hd, XBT_NULL, "data/big", big, sizeof(big)) && errno == ENOSPC &&
	      xs_write(h0, XBT_NULL, "/local/domain/1/data/big", big, sizeof(big)),
	      "a node of 2100 bytes: ENOSPC for domain 1, fine for dom0");
	/* It owns 5 already: its directory, data, data/x, data/y and
	 * data/big (dom0 made it, but below data it inherits the owner).
	 * A hundred to a directory, so that no directory's list of
	 * children passes the size limit first. */
	for (i = 0, made = 0; i < 1100; i++) {
		snprintf(path, sizeof(path), "data/g%d", i / 100);
		if (i % 100 == 0 && !xs_mkdir(hd, XBT_NULL, path))
			break;
		made += i % 100 == 0;
		snprintf(path, sizeof(path), "data/g%d/n%d", i / 100, i % 100);
		if (!xs_mkdir(hd, XBT_NULL, path))
			break;
		made++;
	}
	check(errno == ENOSPC && made == 1000 - 5, "node %d of domain 1: ENOSPC", made + 5 + 1);

	check(xs_watch(h1, "@releaseDomain", "out") && !strcmp(next_event(h1, ev, sizeof(ev)),
							       "@releaseDomain"),
	      "@releaseDomain watched");
	check(xs_release_domain(h0, 1), "domain 1 released");
	check(!strcmp(next_event(h1, ev, sizeof(ev)), "@releaseDomain"),
	      "@releaseDomain fired on the release");
	check(!strcmp(rd(hd, XBT_NULL, "data/x"), "<ENOENT>") || errno != 0,
	      "domain 1's connection is gone");
	check(xs_read(hd, XBT_NULL, "data/x", &n) == NULL, "and stays gone");
	check(!xs_is_domain_introduced(h0, 1), "is_domain_introduced: 1 no more");
	p = xs_get_permissions(h0, XBT_NULL, "/local/domain/1/data/x", &n);
	check(p && p[0].id == 0, "what domain 1 owned is dom0's now");
	free(p);
	xs_rm(h0, XBT_NULL, "/local/domain/1");
	xs_rm(h0, XBT_NULL, "/local/domain/0/secret");
	xs_close(hd);
}

int main(int argc, char **argv)
{
	struct xs_handle *h0, *h1;

	if (argc != 3) {
		fprintf(stderr, "usage: store_client introduce|release DOMID | check DOMAIN_SOCKET_DIR\n");
		return 2;
	}
	h0 = xs_open(0);
	if (!h0) {
		fprintf(stderr, "store_client: xs_open: %s\n", strerror(errno));
		return 1;
	}
	if (!strcmp(argv[1], "introduce") || !strcmp(argv[1], "release")) {
		unsigned domid = (unsigned)atoi(argv[2]);
		bool ok = argv[1][0] == 'i' ? xs_introduce_domain(h0, domid, 0, 1)
					    : xs_release_domain(h0, domid);

		if (!ok)
			fprintf(stderr, "store_client: %s %u: %s\n", argv[1], domid, strerror(errno));
		xs_close(h0);
		return ok ? 0 : 1;
	}
	h1 = xs_open(0);
	check(h1 != NULL, "two dom0 connections through XENSTORED_PATH");
	if (!h1)
		return 1;
	dom0_transactions(h0, h1);
	domain(h0, h1, argv[2]);
	xs_close(h1);
	xs_close(h0);
	return failures ? 1 : 0;
}
