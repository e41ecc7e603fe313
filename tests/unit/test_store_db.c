/*
 * The store's database (lib/store_db.h): the tree, permissions as
 * xenstored applies them, generations, transactions and their conflicts,
 * the limits, and the events watches see.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store_db.h"

#define MAX_EVENTS 64

/* The events seen; the last one kept whole (an event's pointers live
 * only as long as the call that hands it over). */
struct rec {
	size_t n;
	char path[MAX_EVENTS][64];
	bool exact[MAX_EVENTS];
	struct store_event last;
	struct store_perm perms[8], old[8];
};

static void record(void *ctx, const struct store_event *ev)
{
	struct rec *r = ctx;

	if (r->n < MAX_EVENTS) {
		snprintf(r->path[r->n], sizeof(r->path[0]), "%s", ev->path);
		r->exact[r->n] = ev->exact;
	}
	r->n++;
	assert_true(ev->nperms <= 8 && ev->nold <= 8);
	r->last = *ev;
	r->last.path = r->path[r->n <= MAX_EVENTS ? r->n - 1 : 0];
	memcpy(r->perms, ev->perms, ev->nperms * sizeof(*ev->perms));
	r->last.perms = r->perms;
	if (ev->old) {
		memcpy(r->old, ev->old, ev->nold * sizeof(*ev->old));
		r->last.old = r->old;
	}
}

static const struct store_who dom0 = { 0, true, -1, NULL };

static struct store_who dom(unsigned domid)
{
	return (struct store_who){ domid, false, -1, NULL };
}

static struct store_db *mkdb(const struct store_limits *lim, struct rec *r)
{
	struct store_db *db;

	memset(r, 0, sizeof(*r));
	assert_int_equal(store_db_new(lim, record, r, &db), 0);
	return db;
}

/* The value at path as who reads it, or "<ENOENT>" and the like. */
static const char *rd(struct store_db *db, const struct store_who *who, const char *path)
{
	static char buf[256];
	const char *d;
	size_t len;
	int r = store_db_read(db, who, path, &d, &len);

	if (r == -ENOENT)
		return "<ENOENT>";
	if (r == -EACCES)
		return "<EACCES>";
	if (r < 0)
		return "<error>";
	snprintf(buf, sizeof(buf), "%.*s", (int)len, d);
	return buf;
}

static void wr(struct store_db *db, const struct store_who *who, const char *path, const char *v)
{
	assert_int_equal(store_db_write(db, who, path, v, strlen(v)), 0);
}

static void set_perms(struct store_db *db, const char *path, const char *spec)
{
	struct store_perm p[8];
	char buf[64];
	size_t n = 0;

	/* "n1 r0" -> a list */
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *t = strtok(buf, " "); t; t = strtok(NULL, " ")) {
		assert_int_equal(store_perms_parse(t, 1, &p[n]), 0);
		n++;
	}
	assert_int_equal(store_db_set_perms(db, &dom0, path, p, n), 0);
}

static const char *perms_str(struct store_db *db, const char *path)
{
	static char buf[128];
	const struct store_perm *p;
	size_t n, off = 0;

	assert_int_equal(store_db_get_perms(db, &dom0, path, &p, &n), 0);
	for (size_t i = 0; i < n; i++) {
		off += store_perm_format(&p[i], buf + off, sizeof(buf) - off);
		buf[off++] = i + 1 < n ? ' ' : '\0';
	}
	return buf;
}

static void test_initial(void **state)
{
	struct rec r;
	struct store_db *db = mkdb(NULL, &r);
	const char *ch;
	size_t len;

	(void)state;
	assert_int_equal(store_db_nnodes(db), 6);
	assert_int_equal(store_db_directory(db, &dom0, "/", &ch, &len, NULL), 0);
	assert_int_equal(len, sizeof("tool\0local"));
	assert_memory_equal(ch, "tool\0local", len);
	assert_string_equal(rd(db, &dom0, "/local/domain/0"), "");
	assert_string_equal(perms_str(db, "/local/domain/0"), "n0");
	assert_string_equal(perms_str(db, "/tool/xenstored"), "n0");
	assert_int_equal(store_db_owned(db, 0), 6);
	assert_int_equal(r.n, 0);	/* the store's own nodes fire nothing */
	store_db_free(db);
}

static void test_write_read_mkdir_rm(void **state)
{
	struct rec r;
	struct store_db *db = mkdb(NULL, &r);
	const char *ch;
	size_t len;
	char bin[3] = { 'a', '\0', 'b' };
	const char *d;

	(void)state;
	wr(db, &dom0, "/a/b/c", "v");
	assert_string_equal(rd(db, &dom0, "/a/b/c"), "v");
	assert_string_equal(rd(db, &dom0, "/a/b"), "");	/* parents made, empty */
	assert_int_equal(r.n, 1);			/* one event: the node written */
	assert_string_equal(r.path[0], "/a/b/c");
	assert_int_equal(store_db_write(db, &dom0, "/bin", bin, 3), 0);
	assert_int_equal(store_db_read(db, &dom0, "/bin", &d, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(d, bin, 3);

	/* mkdir leaves an existing value alone and fires nothing then. */
	r.n = 0;
	assert_int_equal(store_db_mkdir(db, &dom0, "/a/b/c"), 0);
	assert_int_equal(r.n, 0);
	assert_string_equal(rd(db, &dom0, "/a/b/c"), "v");
	assert_int_equal(store_db_mkdir(db, &dom0, "/a/d"), 0);
	assert_int_equal(store_db_directory(db, &dom0, "/a", &ch, &len, NULL), 0);
	assert_memory_equal(ch, "b\0d", len);

	/* rm: the node and all below; watches of the node see it, and each
	 * node below goes to watches on exactly that node. */
	r.n = 0;
	assert_int_equal(store_db_rm(db, &dom0, "/a"), 0);
	assert_string_equal(rd(db, &dom0, "/a/b/c"), "<ENOENT>");
	assert_string_equal(rd(db, &dom0, "/a"), "<ENOENT>");
	assert_int_equal(r.n, 4);
	assert_string_equal(r.path[0], "/a");
	assert_false(r.exact[0]);
	for (size_t i = 1; i < 4; i++)
		assert_true(r.exact[i]);
	assert_string_equal(r.path[1], "/a/b/c");	/* children before parents */
	assert_int_equal(store_db_nnodes(db), 7);	/* 6 + /bin */

	/* Absent is fine when the parent is there; not otherwise. */
	assert_int_equal(store_db_rm(db, &dom0, "/a"), 0);
	assert_int_equal(store_db_rm(db, &dom0, "/a/b"), -ENOENT);
	assert_int_equal(store_db_rm(db, &dom0, "/"), -EINVAL);
	assert_int_equal(store_db_write(db, &dom0, "/bad/", "", 0), -EINVAL);
	assert_int_equal(store_db_read(db, &dom0, "@releaseDomain", &d, &len), -EINVAL);
	store_db_free(db);
}

static void test_generation(void **state)
{
	struct rec r;
	struct store_db *db = mkdb(NULL, &r);
	const char *ch;
	size_t len;
	uint64_t g0, g1, g2, g3;

	(void)state;
	wr(db, &dom0, "/d/x", "1");
	assert_int_equal(store_db_directory(db, &dom0, "/d", &ch, &len, &g0), 0);
	wr(db, &dom0, "/d/x", "2");	/* a child's value: not the directory */
	assert_int_equal(store_db_directory(db, &dom0, "/d", &ch, &len, &g1), 0);
	assert_true(g1 == g0);
	wr(db, &dom0, "/d/y", "");	/* a new child */
	assert_int_equal(store_db_directory(db, &dom0, "/d", &ch, &len, &g2), 0);
	assert_true(g2 > g1);
	assert_int_equal(store_db_rm(db, &dom0, "/d/x"), 0);
	assert_int_equal(store_db_directory(db, &dom0, "/d", &ch, &len, &g3), 0);
	assert_true(g3 > g2);
	store_db_free(db);
}

static void test_permissions(void **state)
{
	struct rec r;
	struct store_db *db = mkdb(NULL, &r);
	struct store_who d1 = dom(1), d2 = dom(2), d3 = dom(3);
	const char *ch;
	size_t len;

	(void)state;
	/* Closed to domains: what they may not read looks like nothing,
	 * and absent nodes below look the same. */
	assert_string_equal(rd(db, &d1, "/local/domain/0"), "<EACCES>");
	assert_string_equal(rd(db, &d1, "/local/domain/0/nope"), "<EACCES>");
	assert_int_equal(store_db_write(db, &d1, "/local/x", "", 0), -EACCES);

	/* The toolstack's layout: the domain's own directory. */
	assert_int_equal(store_db_mkdir(db, &dom0, "/local/domain/1"), 0);
	set_perms(db, "/local/domain/1", "n1 r0");
	wr(db, &d1, "/local/domain/1/data/x", "hi");
	assert_string_equal(perms_str(db, "/local/domain/1/data/x"), "n1 r0");	/* inherited */
	assert_string_equal(perms_str(db, "/local/domain/1/data"), "n1 r0");
	assert_string_equal(rd(db, &d1, "/local/domain/1/nope"), "<ENOENT>");	/* may know */
	assert_string_equal(rd(db, &d2, "/local/domain/1/data/x"), "<EACCES>");
	assert_string_equal(rd(db, &d2, "/local/domain/1/nope"), "<EACCES>");

	/* dom0 creating keeps the parent's owner; a domain creating owns. */
	wr(db, &dom0, "/local/domain/1/by0", "");
	assert_string_equal(perms_str(db, "/local/domain/1/by0"), "n1 r0");
	set_perms(db, "/local/domain/1/data", "n1 b2 r3");
	wr(db, &d2, "/local/domain/1/data/from2", "");
	assert_string_equal(perms_str(db, "/local/domain/1/data/from2"), "n2 b2 r3");
	assert_int_equal(store_db_owned(db, 2), 1);
	assert_int_equal(store_db_directory(db, &d3, "/local/domain/1/data", &ch, &len, NULL), 0);
	assert_int_equal(store_db_write(db, &d3, "/local/domain/1/data/x", "", 0), -EACCES);
	assert_int_equal(store_db_write(db, &d3, "/local/domain/1/data/new", "", 0), -EACCES);
	/* ENOENT where the parent lets d3 read, EACCES where it must write. */
	assert_string_equal(rd(db, &d3, "/local/domain/1/data/nope"), "<ENOENT>");
	assert_int_equal(store_db_rm(db, &d3, "/local/domain/1/data/nope/deeper"), -EACCES);

	/* Owners set permissions but do not give nodes away. */
	{
		struct store_perm p[6] = { { 1, STORE_PERM_NONE }, { 2, STORE_PERM_READ } };

		assert_int_equal(store_db_set_perms(db, &d1, "/local/domain/1/data/x", p, 2), 0);
		p[0].id = 2;
		assert_int_equal(store_db_set_perms(db, &d1, "/local/domain/1/data/x", p, 2),
				 -EPERM);
		assert_int_equal(store_db_set_perms(db, &d2, "/local/domain/1/data/x", p, 2),
				 -EACCES);	/* d2 may only read it */
		p[0].id = 1;
		assert_int_equal(store_db_set_perms(db, &d1, "/local/domain/1/data/x", p, 6),
				 -ENOSPC);	/* 5 entries at most */
	}

	/* A domain that acts for another (SET_TARGET) has its rights too. */
	d3.target = 1;
	assert_string_equal(rd(db, &d3, "/local/domain/1/data/x"), "hi");
	store_db_free(db);
}

static void test_special_perms(void **state)
{
	struct rec r;
	struct store_db *db = mkdb(NULL, &r);
	struct store_who d1 = dom(1);
	const struct store_perm *p;
	size_t n;
	struct store_perm rd1[2] = { { 0, STORE_PERM_NONE }, { 1, STORE_PERM_READ } };
	struct store_event ev;

	(void)state;
	assert_int_equal(store_db_get_perms(db, &dom0, "@releaseDomain", &p, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_db_get_perms(db, &d1, "@releaseDomain", &p, &n), -EACCES);
	store_db_fire_special(db, "@releaseDomain");
	assert_int_equal(r.n, 1);
	ev = r.last;
	assert_false(store_db_watch_permitted(db, &d1, &ev));
	assert_int_equal(store_db_set_perms(db, &d1, "@releaseDomain", rd1, 2), -EACCES);
	assert_int_equal(store_db_set_perms(db, &dom0, "@releaseDomain", rd1, 2), 0);
	store_db_fire_special(db, "@releaseDomain");
	ev = r.last;
	assert_true(store_db_watch_permitted(db, &d1, &ev));
	assert_int_equal(store_db_set_perms(db, &dom0, "@other", rd1, 2), -EINVAL);
	store_db_free(db);
}

static void test_watch_permitted(void **state)
{
	struct rec r;
	struct store_db *db = mkdb(NULL, &r);
	struct store_who d1 = dom(1), d2 = dom(2);
	struct store_event ev;

	(void)state;
	assert_int_equal(store_db_mkdir(db, &dom0, "/local/domain/1"), 0);
	set_perms(db, "/local/domain/1", "n1");
	wr(db, &dom0, "/local/domain/1/x", "");
	ev = r.last;
	assert_true(store_db_watch_permitted(db, &d1, &ev));
	assert_false(store_db_watch_permitted(db, &d2, &ev));
	assert_true(store_db_watch_permitted(db, &dom0, &ev));

	/* A node closed to d1 below one it can read: the parent decides. */
	set_perms(db, "/local/domain/1/x", "n0");
	ev = r.last;
	assert_true(store_db_watch_permitted(db, &d1, &ev));	/* it could read it before */
	wr(db, &dom0, "/local/domain/1/x/y", "");
	ev = r.last;
	assert_false(store_db_watch_permitted(db, &d1, &ev));
	store_db_free(db);
}

static void test_limits(void **state)
{
	struct store_limits lim;
	struct rec r;
	struct store_db *db;
	struct store_who d1 = dom(1);
	char big[2100];
	struct store_tx *tx;

	(void)state;
	store_default_limits(&lim);
	assert_int_equal(lim.nodes_per_domain, 1000);
	assert_int_equal(lim.node_size, 2048);
	lim.nodes_per_domain = 4;
	lim.tx_nodes = 8;
	db = mkdb(&lim, &r);
	assert_int_equal(store_db_mkdir(db, &dom0, "/local/domain/1"), 0);
	set_perms(db, "/local/domain/1", "n1");
	assert_int_equal(store_db_owned(db, 1), 1);
	/* 1 + 3 = 4 nodes; one more is ENOSPC, and nothing of it stays. */
	wr(db, &d1, "/local/domain/1/a/b", "");
	wr(db, &d1, "/local/domain/1/c", "");
	assert_int_equal(store_db_owned(db, 1), 4);
	assert_int_equal(store_db_write(db, &d1, "/local/domain/1/d/e", "", 0), -ENOSPC);
	assert_string_equal(rd(db, &dom0, "/local/domain/1/d"), "<ENOENT>");
	assert_int_equal(store_db_rm(db, &d1, "/local/domain/1/a"), 0);
	assert_int_equal(store_db_owned(db, 1), 2);
	wr(db, &d1, "/local/domain/1/d/e", "");
	/* dom0 has no limit, and what it creates is not the domain's. */
	for (int i = 0; i < 10; i++) {
		char p[64];

		snprintf(p, sizeof(p), "/dom0/%d", i);
		wr(db, &dom0, p, "");
	}

	/* A node's size: 20 + 8 per permission + value + children < 2048. */
	memset(big, 'x', sizeof(big));
	assert_int_equal(store_db_write(db, &d1, "/local/domain/1/c", big, 2048 - 20 - 8), -ENOSPC);
	assert_int_equal(store_db_write(db, &d1, "/local/domain/1/c", big, 2048 - 20 - 8 - 1), 0);
	assert_int_equal(store_db_write(db, &dom0, "/local/domain/1/c", big, sizeof(big)), 0);

	/* Nodes one transaction may touch. */
	assert_int_equal(store_db_tx_start(db, &d1, &tx), 0);
	d1.tx = tx;
	for (int i = 0; i < 7; i++) {
		char p[64];

		snprintf(p, sizeof(p), "/local/domain/1/t%d", i);
		if (store_db_read(db, &d1, p, &(const char *){ NULL }, &(size_t){ 0 }) != -ENOENT)
			fail_msg("read %d in the transaction", i);
	}
	assert_int_equal(store_db_read(db, &d1, "/local/domain/1/t7",
				       &(const char *){ NULL }, &(size_t){ 0 }), -ENOSPC);
	assert_int_equal(store_db_tx_end(db, tx, false), 0);
	store_db_free(db);
}

static void test_tx_isolation_and_commit(void **state)
{
	struct rec r;
	struct store_db *db = mkdb(NULL, &r);
	struct store_who t = dom0;
	struct store_tx *tx;

	(void)state;
	wr(db, &dom0, "/t/a", "a");
	assert_int_equal(store_db_tx_start(db, &dom0, &tx), 0);
	t.tx = tx;
	assert_string_equal(rd(db, &t, "/t/a"), "a");
	wr(db, &t, "/t/a", "b");
	wr(db, &t, "/t/new/deep", "n");
	assert_string_equal(rd(db, &t, "/t/a"), "b");
	assert_string_equal(rd(db, &t, "/t/new/deep"), "n");
	/* Nothing shows outside before the commit, and nothing fires. */
	r.n = 0;
	assert_string_equal(rd(db, &dom0, "/t/a"), "a");
	assert_string_equal(rd(db, &dom0, "/t/new"), "<ENOENT>");
	assert_int_equal(store_db_tx_end(db, tx, true), 0);
	assert_string_equal(rd(db, &dom0, "/t/a"), "b");
	assert_string_equal(rd(db, &dom0, "/t/new/deep"), "n");
	assert_true(r.n >= 3);	/* /t/a, /t/new, /t/new/deep (and /t's child list) */

	/* Discarded: nothing changes. */
	assert_int_equal(store_db_tx_start(db, &dom0, &tx), 0);
	t.tx = tx;
	assert_int_equal(store_db_rm(db, &t, "/t"), 0);
	assert_string_equal(rd(db, &t, "/t/a"), "<ENOENT>");
	assert_int_equal(store_db_tx_end(db, tx, false), 0);
	assert_string_equal(rd(db, &dom0, "/t/a"), "b");

	/* A removal committed. */
	assert_int_equal(store_db_tx_start(db, &dom0, &tx), 0);
	t.tx = tx;
	assert_int_equal(store_db_rm(db, &t, "/t"), 0);
	assert_int_equal(store_db_tx_end(db, tx, true), 0);
	assert_string_equal(rd(db, &dom0, "/t"), "<ENOENT>");
	assert_int_equal(store_db_nnodes(db), 6);
	assert_int_equal(store_db_owned(db, 0), 6);
	store_db_free(db);
}

/* Start a transaction, do first(t), then outside(dom0), then commit. */
static int conflict(void (*first)(struct store_db *, const struct store_who *),
		    void (*outside)(struct store_db *, const struct store_who *))
{
	struct rec r;
	struct store_db *db = mkdb(NULL, &r);
	struct store_who t = dom0;
	struct store_tx *tx;
	int ret;

	wr(db, &dom0, "/c/x", "0");
	assert_int_equal(store_db_tx_start(db, &dom0, &tx), 0);
	t.tx = tx;
	first(db, &t);
	outside(db, &dom0);
	ret = store_db_tx_end(db, tx, true);
	store_db_free(db);
	return ret;
}

static void read_x(struct store_db *db, const struct store_who *w) { rd(db, w, "/c/x"); }
static void read_absent(struct store_db *db, const struct store_who *w) { rd(db, w, "/c/y"); }
static void write_x(struct store_db *db, const struct store_who *w) { wr(db, w, "/c/x", "1"); }
static void write_y(struct store_db *db, const struct store_who *w) { wr(db, w, "/c/y", "1"); }
static void rm_x(struct store_db *db, const struct store_who *w) { store_db_rm(db, w, "/c/x"); }
static void perms_x(struct store_db *db, const struct store_who *w)
{
	struct store_perm p = { 0, STORE_PERM_READ };

	assert_int_equal(store_db_set_perms(db, w, "/c/x", &p, 1), 0);
}

static void list_c(struct store_db *db, const struct store_who *w)
{
	const char *ch;
	size_t len;

	assert_int_equal(store_db_directory(db, w, "/c", &ch, &len, NULL), 0);
}

static void write_other(struct store_db *db, const struct store_who *w)
{
	wr(db, w, "/elsewhere", "1");
}

static void test_tx_conflicts(void **state)
{
	(void)state;
	assert_int_equal(conflict(read_x, write_x), -EAGAIN);	/* read, changed outside */
	assert_int_equal(conflict(write_x, write_x), -EAGAIN);	/* written, changed outside */
	assert_int_equal(conflict(read_x, rm_x), -EAGAIN);	/* read, removed outside */
	assert_int_equal(conflict(read_x, perms_x), -EAGAIN);	/* its permissions changed */
	assert_int_equal(conflict(read_absent, write_y), -EAGAIN);	/* absent, then made */
	assert_int_equal(conflict(list_c, write_y), -EAGAIN);	/* a child came */
	assert_int_equal(conflict(write_y, write_y), -EAGAIN);	/* both created it */
	assert_int_equal(conflict(read_x, write_other), 0);	/* unrelated */
	assert_int_equal(conflict(write_y, write_other), 0);
	assert_int_equal(conflict(read_x, read_x), 0);
}

static void test_tx_quota_at_commit(void **state)
{
	struct store_limits lim;
	struct rec r;
	struct store_db *db;
	struct store_who d1 = dom(1), t;
	struct store_tx *tx;

	(void)state;
	store_default_limits(&lim);
	lim.nodes_per_domain = 3;
	db = mkdb(&lim, &r);
	assert_int_equal(store_db_mkdir(db, &dom0, "/local/domain/1"), 0);
	set_perms(db, "/local/domain/1", "n1");
	assert_int_equal(store_db_tx_start(db, &d1, &tx), 0);
	t = d1;
	t.tx = tx;
	wr(db, &t, "/local/domain/1/a", "");	/* 2 of 3 as the transaction sees it */
	wr(db, &d1, "/local/domain/1/b", "");	/* 3 of 3 outside */
	wr(db, &d1, "/local/domain/1/e", "");
	assert_int_equal(store_db_write(db, &t, "/local/domain/1/c/d", "", 0), -ENOSPC);
	/* Its commit would make 4. */
	assert_int_equal(store_db_tx_end(db, tx, true), -ENOSPC);
	assert_string_equal(rd(db, &dom0, "/local/domain/1/a"), "<ENOENT>");
	assert_int_equal(store_db_owned(db, 1), 3);
	store_db_free(db);
}

static void test_forget_domain(void **state)
{
	struct rec r;
	struct store_db *db = mkdb(NULL, &r);
	struct store_who d1 = dom(1);

	(void)state;
	assert_int_equal(store_db_mkdir(db, &dom0, "/local/domain/1"), 0);
	set_perms(db, "/local/domain/1", "n1 r2");
	wr(db, &d1, "/local/domain/1/x", "");
	assert_int_equal(store_db_mkdir(db, &dom0, "/shared"), 0);
	set_perms(db, "/shared", "n0 r1 b2");
	assert_int_equal(store_db_owned(db, 1), 2);
	assert_int_equal(store_db_forget_domain(db, 1), 0);
	assert_string_equal(perms_str(db, "/local/domain/1"), "n0 r2");
	assert_string_equal(perms_str(db, "/local/domain/1/x"), "n0 r2");
	assert_string_equal(perms_str(db, "/shared"), "n0 b2");
	assert_int_equal(store_db_owned(db, 1), 0);
	/* A new domain 1 inherits nothing. */
	assert_string_equal(rd(db, &d1, "/local/domain/1/x"), "<EACCES>");
	store_db_free(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial),
		cmocka_unit_test(test_write_read_mkdir_rm),
		cmocka_unit_test(test_generation),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_special_perms),
		cmocka_unit_test(test_watch_permitted),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_tx_isolation_and_commit),
		cmocka_unit_test(test_tx_conflicts),
		cmocka_unit_test(test_tx_quota_at_commit),
		cmocka_unit_test(test_forget_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
