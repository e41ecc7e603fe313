/*
 * Fuzz target: the store's paths and permissions (lib/store_path.[ch])
 * and its database (lib/store_db.[ch]): a sequence of operations by
 * domains 0-7 (0 privileged), inside and outside transactions, on paths
 * the input spells or composes, against small limits.
 *
 * Invariants, each checked against dom0's view outside any transaction:
 *  - permissions, for an unprivileged domain outside a transaction: a
 *    read, directory or get_perms succeeds only on a node whose list gives
 *    it READ, and does when it does; a write or mkdir succeeds only on a
 *    node that gives it WRITE or, for a new node, when the nearest node
 *    above it that exists does; what it creates is its own, with the rest
 *    of that node's list; a rm succeeds only on a node that gives it WRITE
 *    (or one absent whose parent exists); set_perms only for the owner and
 *    never gives the node away; no operation takes a domain's node count
 *    over the limit, a node over the size limit or a list over its length;
 *  - after a successful write or mkdir the node is there (with the value
 *    written, outside a transaction), after a rm it is not;
 *  - the tree is whole: every child listed exists, the nodes found from
 *    "/" are store_db_nnodes, and the nodes owned by domains 0-7 add up
 *    to it;
 *  - errors are ones xenstored sends; events name a valid path or a
 *    special one;
 *  - paths: a valid path's parent is valid, contains it, and its basename
 *    follows the parent; what store_path_relative leaves of a domain's
 *    path is made whole again by store_path_canonical (unless it starts
 *    with '@', which no relative path can); permission strings
 *    formatted and parsed again are the same.
 */
#include <errno.h>
#include <stdbool.h>

#include "fuzz_input.h"
#include "store_db.h"
#include "store_path.h"

#define NDOMS	8
#define NTX	4
#define WALK_MAX 256	/* nodes up to which the tree is checked after every op */

static const struct store_limits lim = {
	.nodes_per_domain = 24, .node_size = 300, .perms_per_node = 4, .tx_nodes = 40,
};
static const struct store_who dom0 = { 0, true, -1, NULL };

static struct store_db *db;
static struct {
	struct store_tx *tx;
	struct store_who who;
} txs[NTX];
static unsigned long events;

static void on_event(void *ctx, const struct store_event *ev)
{
	(void)ctx;
	if (!ev->path || (!store_path_special(ev->path) && !store_path_valid(ev->path)))
		fuzz_fail("an event for '%s'", ev->path ? ev->path : "(null)");
	if ((ev->perms == NULL) != (ev->nperms == 0))
		fuzz_fail("an event's permissions are half there");
	events++;
}

static void check_err(const char *what, int r)
{
	switch (r) {
	case 0: case -EINVAL: case -EACCES: case -ENOENT: case -ENOSPC: case -EPERM: case -EAGAIN:
	case -EBUSY: case -E2BIG:
		return;
	default:
		fuzz_fail("%s: error %d", what, r);
	}
}

/* ---- dom0's view ---- */

struct node_info {
	bool exists;
	struct store_perm perms[64];
	size_t nperms;
	size_t datalen, childlen;
};

static void info(const char *path, struct node_info *ret)
{
	const struct store_perm *p;
	const char *d;
	size_t n;

	memset(ret, 0, sizeof(*ret));
	if (!store_path_valid(path) || store_db_get_perms(db, &dom0, path, &p, &n) < 0)
		return;
	ret->exists = true;
	ret->nperms = n < 64 ? n : 64;
	memcpy(ret->perms, p, ret->nperms * sizeof(*p));
	if (store_db_read(db, &dom0, path, &d, &ret->datalen) < 0 ||
	    store_db_directory(db, &dom0, path, &d, &ret->childlen, NULL) < 0)
		fuzz_fail("dom0 sees the permissions of '%s' and not the node", path);
}

/* The nearest node at or above path that exists (path valid). */
static void nearest(const char *path, struct node_info *ret, char *ret_path)
{
	strcpy(ret_path, path);
	for (;;) {
		info(ret_path, ret);
		if (ret->exists || !strcmp(ret_path, "/"))
			return;
		ret_path[store_path_parent_len(ret_path)] = '\0';
	}
}

/* Nodes below path (counted), each listed child present. */
static size_t walk(const char *path)
{
	const char *ch;
	size_t len, n = 1;
	char buf[STORE_PATH_BUF];

	if (store_db_directory(db, &dom0, path, &ch, &len, NULL) < 0)
		fuzz_fail("'%s' is listed by its parent but is not there", path);
	for (size_t off = 0; off < len; off += strlen(ch + off) + 1) {
		const char *name = ch + off;
		int k = snprintf(buf, sizeof(buf), "%s/%s", strcmp(path, "/") ? path : "", name);

		if (k < 0 || (size_t)k >= sizeof(buf) || !store_path_valid(buf))
			fuzz_fail("'%s' lists a child '%s' that makes no valid path", path, name);
		n += walk(buf);	/* changes nothing: ch stays valid */
	}
	return n;
}

static void check_tree(bool always)
{
	unsigned long owned = 0;
	size_t n = store_db_nnodes(db);

	if (!always && n > WALK_MAX)
		return;
	if (walk("/") != n)
		fuzz_fail("%zu nodes in the table, another number in the tree", n);
	for (unsigned d = 0; d < NDOMS; d++)
		owned += store_db_owned(db, d);
	if (owned != n)
		fuzz_fail("domains 0-%u own %lu nodes of %zu", NDOMS - 1, owned, n);
}

/* ---- paths and permission strings ---- */

static void check_path(const char *raw, unsigned domid)
{
	char buf[STORE_PATH_BUF], parent[STORE_PATH_BUF], again[STORE_PATH_BUF];
	size_t pl;

	if (store_path_canonical(raw, domid, buf) == 0 && (raw[0] == '/' || raw[0] == '@') &&
	    strcmp(buf, raw))
		fuzz_fail("canonical changed an absolute path");
	if (!store_path_valid(raw))
		return;
	if (raw[0] != '/' || strstr(raw, "//") || strlen(raw) > STORE_ABS_PATH_MAX)
		fuzz_fail("'%s' is valid", raw);
	if (strcmp(raw, "/")) {
		pl = store_path_parent_len(raw);
		if (pl >= strlen(raw))
			fuzz_fail("the parent of '%s' is %zu bytes", raw, pl);
		memcpy(parent, raw, pl);
		parent[pl] = '\0';
		if (!store_path_valid(parent) || !store_path_is_child(raw, parent) ||
		    store_path_is_child(parent, raw))
			fuzz_fail("'%s' and its parent '%s'", raw, parent);
		if (store_path_basename(raw) != raw + pl + (pl > 1))
			fuzz_fail("the basename of '%s'", raw);
	}
	if (!store_path_is_child(raw, "/") || !store_path_is_child(raw, raw))
		fuzz_fail("'%s' is not below / or itself", raw);
	for (unsigned d = 0; d < NDOMS; d++) {
		const char *rel = store_path_relative(raw, d);

		/* "@..." names a special path, whoever says it: not relative. */
		if (rel == raw || !*rel || *rel == '@')
			continue;
		if (store_path_canonical(rel, d, again) < 0 || strcmp(again, raw))
			fuzz_fail("'%s' relative to domain %u is '%s', canonical '%s'", raw, d, rel, again);
	}
}

static void check_perm_strings(const char *s, size_t len)
{
	size_t n = store_count_strings(s, len);
	struct store_perm p[16], q[16];
	char out[16 * 8];
	size_t off = 0;

	if (!n || n > 16 || store_perms_parse(s, n, p) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (p[i].id > 0xffff || p[i].perms & ~3u)
			fuzz_fail("permission %zu: id %u perms %u", i, p[i].id, p[i].perms);
		off += store_perm_format(&p[i], out + off, sizeof(out) - off) + 1;
	}
	if (store_perms_parse(out, n, q) < 0)
		fuzz_fail("formatted permissions do not parse");
	for (size_t i = 0; i < n; i++)
		if (p[i].id != q[i].id || p[i].perms != q[i].perms)
			fuzz_fail("permission %zu read back differs", i);
}

/* ---- decoding the input ---- */

static const char *const words[16] = {
	"local", "domain", "0", "1", "2", "3", "backend", "pci", "device", "a", "b", "c",
	"tool", "xenstored", "@introduceDomain", "-_x",
};

/* A path the input spells (relative or absolute, anything) or composes
 * from words; made absolute for domid as a request's path is. */
static bool dec_path(struct fin *in, unsigned domid, char *ret)
{
	uint8_t b = fin_u8(in);
	char raw[STORE_PATH_BUF];

	if (b & 0x80) {
		fin_str(in, raw, b & 0x3f);
	} else {
		size_t n = 0;

		raw[0] = '\0';
		if (b & 0x40)
			n = (size_t)snprintf(raw, sizeof(raw), "/local/domain/%u", domid);
		for (unsigned i = 0; i < (b & 7u); i++) {
			uint8_t w = fin_u8(in);

			n += (size_t)snprintf(raw + n, sizeof(raw) - n, "%s%s", n || (b & 0x08) ? "/" : "",
					      words[w & 15]);
		}
		if (!n)
			strcpy(raw, (b & 0x08) ? "/" : "");
	}
	check_path(raw, domid);
	return store_path_canonical(raw, domid, ret) == 0;
}

static size_t dec_perms(struct fin *in, struct store_perm *p)
{
	size_t n = 1 + fin_u8(in) % 6;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = fin_u8(in);

		p[i] = (struct store_perm){ b % NDOMS, (b >> 3) & 3 };
	}
	return n;
}

enum { O_READ, O_WRITE, O_MKDIR, O_RM, O_DIR, O_GET_PERMS, O_SET_PERMS, O_TX_START, O_TX_END,
       O_FORGET, O_SPECIAL, O_PERM_STRINGS, O_NOPS };

/* Size of a node as the limit counts it (store_db.c's node_size). */
static size_t size_of(const struct node_info *n)
{
	return 20 + 8 * n->nperms + n->datalen + n->childlen;
}

/* One operation by who (not privileged, outside a transaction) checked
 * against what dom0 saw before and sees after. */
static void checked_op(int op, const struct store_who *who, const char *path, const char *val,
		       size_t vlen, const struct store_perm *perms, size_t np)
{
	struct node_info before, above, after;
	char above_path[STORE_PATH_BUF];
	const struct store_perm *gp;
	const char *d;
	size_t len;
	unsigned long owned = store_db_owned(db, who->domid);
	bool valid = store_path_valid(path);
	unsigned have = 0, above_have = 0;
	int r = 0;

	info(path, &before);
	if (valid) {
		nearest(path, &above, above_path);
		above_have = store_perm_for(who, above.perms, above.nperms);
	}
	if (before.exists)
		have = store_perm_for(who, before.perms, before.nperms);
	switch (op) {
	case O_READ:
	case O_DIR:
	case O_GET_PERMS:
		r = op == O_READ ? store_db_read(db, who, path, &d, &len) :
		    op == O_DIR ? store_db_directory(db, who, path, &d, &len, NULL) :
				  store_db_get_perms(db, who, path, &gp, &len);
		if ((r == 0) != (before.exists && (have & STORE_PERM_READ)))
			fuzz_fail("domain %u: %d reading '%s' (exists %d, rights %u)", who->domid, r, path,
				  before.exists, have);
		break;
	case O_WRITE:
	case O_MKDIR:
		r = op == O_WRITE ? store_db_write(db, who, path, val, vlen) : store_db_mkdir(db, who, path);
		if (r)
			break;
		if (before.exists ? !(have & STORE_PERM_WRITE) : !(above_have & STORE_PERM_WRITE))
			fuzz_fail("domain %u wrote '%s' without the right (exists %d, rights %u, "
				  "above: %u)", who->domid, path, before.exists, have, above_have);
		info(path, &after);
		if (!after.exists)
			fuzz_fail("'%s' written, not there", path);
		if (op == O_WRITE && (store_db_read(db, &dom0, path, &d, &len) < 0 || len != vlen ||
				      memcmp(d, val, vlen)))
			fuzz_fail("'%s' does not read what was written", path);
		if (!before.exists &&
		    (after.perms[0].id != who->domid || after.nperms != above.nperms ||
		     after.perms[0].perms != above.perms[0].perms ||
		     memcmp(after.perms + 1, above.perms + 1, (above.nperms - 1) * sizeof(above.perms[0]))))
			fuzz_fail("'%s' created by domain %u is not its own with %s's list", path,
				  who->domid, above_path);
		if ((op == O_WRITE || !before.exists) && size_of(&after) >= lim.node_size)
			fuzz_fail("'%s' written to %zu bytes", path, size_of(&after));
		if (!before.exists) {
			info(above_path, &above);
			if (size_of(&above) >= lim.node_size)
				fuzz_fail("creating '%s' grew '%s' to %zu bytes", path, above_path,
					  size_of(&above));
		}
		if (owned <= lim.nodes_per_domain && store_db_owned(db, who->domid) > lim.nodes_per_domain)
			fuzz_fail("domain %u owns %lu nodes", who->domid, store_db_owned(db, who->domid));
		break;
	case O_RM:
		r = store_db_rm(db, who, path);
		if (r)
			break;
		info(path, &after);
		if (after.exists)
			fuzz_fail("'%s' removed, still there", path);
		if (before.exists && !(have & STORE_PERM_WRITE))
			fuzz_fail("domain %u removed '%s' without the right", who->domid, path);
		break;
	case O_SET_PERMS:
		r = store_db_set_perms(db, who, path, perms, np);
		if (r)
			break;
		if (!before.exists || (have & (STORE_PERM_WRITE | STORE_PERM_OWNER)) !=
					      (STORE_PERM_WRITE | STORE_PERM_OWNER))
			fuzz_fail("domain %u set the permissions of '%s' without owning it", who->domid,
				  path);
		if (perms[0].id != before.perms[0].id || np > lim.perms_per_node)
			fuzz_fail("domain %u gave '%s' to %u or a list of %zu", who->domid, path,
				  perms[0].id, np);
		info(path, &after);
		if (size_of(&after) >= lim.node_size)
			fuzz_fail("'%s' grown to %zu bytes", path, size_of(&after));
		break;
	}
	check_err("an operation", r);
}

/* The same without a model: privileged, or in a transaction. */
static void plain_op(int op, const struct store_who *who, const char *path, const char *val,
		     size_t vlen, const struct store_perm *perms, size_t np)
{
	const struct store_perm *gp;
	const char *d;
	size_t len;
	int r = 0;

	switch (op) {
	case O_READ: r = store_db_read(db, who, path, &d, &len); break;
	case O_DIR: r = store_db_directory(db, who, path, &d, &len, NULL); break;
	case O_GET_PERMS: r = store_db_get_perms(db, who, path, &gp, &len); break;
	case O_WRITE: r = store_db_write(db, who, path, val, vlen); break;
	case O_MKDIR: r = store_db_mkdir(db, who, path); break;
	case O_RM: r = store_db_rm(db, who, path); break;
	case O_SET_PERMS: r = store_db_set_perms(db, who, path, perms, np); break;
	}
	check_err("an operation", r);
	if (r == 0 && (op == O_WRITE || op == O_MKDIR || op == O_RM) &&
	    (store_db_read(db, who, path, &d, &len) == 0) != (op != O_RM) && who->priv)
		fuzz_fail("'%s' %s by dom0, then %s", path, op == O_RM ? "removed" : "written",
			  op == O_RM ? "still there" : "not there");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size, 0 };

	if (store_db_new(&lim, on_event, NULL, &db) < 0)
		abort();
	memset(txs, 0, sizeof(txs));
	while (fin_left(&in)) {
		uint8_t k = fin_u8(&in), w = fin_u8(&in);
		struct store_who who = { w % NDOMS, w % NDOMS == 0, (w & 0x40) ? (w >> 3) % NDOMS : -1,
					 NULL };
		struct store_perm perms[8];
		char path[STORE_PATH_BUF], val[300];
		size_t vlen = 0, np = 0;
		int op = (k & 0x7f) % O_NOPS, slot = (k >> 5) & 3, r;

		/* Bit 7: in the transaction of slot (bits 5-6), as its domain. */
		if ((k & 0x80) && txs[slot].tx && op <= O_SET_PERMS) {
			who = txs[slot].who;
			who.tx = txs[slot].tx;
		}
		switch (op) {
		case O_TX_START:
			if (txs[slot].tx)
				break;
			who.tx = NULL;
			r = store_db_tx_start(db, &who, &txs[slot].tx);
			check_err("tx_start", r);
			txs[slot].who = who;
			break;
		case O_TX_END:
			if (!txs[slot].tx)
				break;
			{
				unsigned long owned = store_db_owned(db, txs[slot].who.domid);

				r = store_db_tx_end(db, txs[slot].tx, w & 1);
				check_err("tx_end", r);
				if (!txs[slot].who.priv && owned <= lim.nodes_per_domain &&
				    store_db_owned(db, txs[slot].who.domid) > lim.nodes_per_domain)
					fuzz_fail("a commit took domain %u over its node limit",
						  txs[slot].who.domid);
			}
			txs[slot].tx = NULL;
			break;
		case O_FORGET:
			r = store_db_forget_domain(db, 1 + w % (NDOMS - 1));
			check_err("forget_domain", r);
			break;
		case O_SPECIAL:
			store_db_fire_special(db, w & 1 ? "@releaseDomain" : "@introduceDomain");
			break;
		case O_PERM_STRINGS: {
			size_t n = fin_u8(&in) % 64;

			n = fin_str(&in, val, n);
			check_perm_strings(val, n);
			break;
		}
		default:
			if (!dec_path(&in, who.domid, path))
				break;
			if (op == O_WRITE)
				vlen = fin_str(&in, val, fin_u8(&in) % sizeof(val));
			if (op == O_SET_PERMS)
				np = dec_perms(&in, perms);
			if (!who.priv && !who.tx && !store_path_special(path))
				checked_op(op, &who, path, val, vlen, perms, np);
			else
				plain_op(op, &who, path, val, vlen, perms, np);
			break;
		}
		check_tree(false);
	}
	for (int i = 0; i < NTX; i++)
		if (txs[i].tx)
			store_db_tx_end(db, txs[i].tx, false);
	check_tree(true);
	store_db_free(db);
	db = NULL;
	return 0;
}
