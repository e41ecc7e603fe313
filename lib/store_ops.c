/*
 * What each request means (xenstore.txt, xenstored's handlers): check the
 * payload's shape, make paths absolute for the connection's domain, ask
 * the database, answer.  Errors are the errno names xenstored sends for
 * the same mistake: a payload of the wrong shape is EINVAL, an unknown
 * type ENOSYS, a privileged request from a domain EACCES, an unknown
 * transaction ENOENT.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_server.h"

#define F_NOTID	(1u << 0)	/* the header's tx_id is ignored */
#define F_PRIV	(1u << 1)	/* dom0 only */

/* The one nul-terminated string that is the whole payload, else NULL. */
static const char *onearg(const struct store_conn *c)
{
	size_t len = c->hdr.len;

	if (!len || memchr(c->body, '\0', len) != c->body + len - 1)
		return NULL;
	return c->body;
}

/* A real domain's id: below DOMID_FIRST_RESERVED. */
static int parse_domid(const char *s, unsigned *ret)
{
	unsigned long v = 0;
	int r = store_parse_num(s, STORE_DOMID_FIRST_RESERVED - 1, &v);

	*ret = (unsigned)v;
	return r;
}

struct req {
	struct store_conn *c;
	struct store_tx *tx;
	struct store_who who;
	char path[STORE_PATH_BUF];
};

/* The request's first string as the store names it. */
static int req_path(struct req *q, const char *p)
{
	return p ? store_path_canonical(p, q->c->domid, q->path) : -EINVAL;
}

static int do_read(struct pvpci_store *s, struct req *q)
{
	const char *data;
	size_t len;
	int r = req_path(q, onearg(q->c));

	if (r == 0)
		r = store_db_read(s->db, &q->who, q->path, &data, &len);
	if (r == 0)
		store_reply(s, q->c, STORE_MSG_READ, data, len);
	return r;
}

static int do_write(struct pvpci_store *s, struct req *q)
{
	const char *p = q->c->body;
	size_t len = q->c->hdr.len, pl;
	int r;

	/* path, then the value: bytes of any kind, nuls included. */
	if (!memchr(p, '\0', len))
		return -EINVAL;
	pl = strlen(p) + 1;
	r = req_path(q, p);
	if (r == 0)
		r = store_db_write(s->db, &q->who, q->path, p + pl, len - pl);
	if (r == 0)
		store_reply_ok(s, q->c);
	return r;
}

/* path| -> OK */
static int path_op(struct pvpci_store *s, struct req *q,
		   int (*op)(struct store_db *, const struct store_who *, const char *))
{
	int r = req_path(q, onearg(q->c));

	if (r == 0)
		r = op(s->db, &q->who, q->path);
	if (r == 0)
		store_reply_ok(s, q->c);
	return r;
}

static int do_mkdir(struct pvpci_store *s, struct req *q)
{
	return path_op(s, q, store_db_mkdir);
}

static int do_rm(struct pvpci_store *s, struct req *q)
{
	return path_op(s, q, store_db_rm);
}

static int do_directory(struct pvpci_store *s, struct req *q)
{
	const char *ch;
	size_t len;
	int r = req_path(q, onearg(q->c));

	if (r == 0)
		r = store_db_directory(s->db, &q->who, q->path, &ch, &len, NULL);
	if (r == 0)
		store_reply(s, q->c, STORE_MSG_DIRECTORY, ch, len);
	return r;
}

/*
 * path|offset| -> gencnt|names from offset|, as many whole names as fit,
 * with an empty name after the last one of the list; libxenstore reads
 * long directories so, and starts again when gencnt changes.
 */
static int do_directory_part(struct pvpci_store *s, struct req *q)
{
	char out[STORE_PAYLOAD_MAX];
	const char *ch, *p = q->c->body;
	size_t len, gl, n = 0;
	unsigned long off = 0;
	uint64_t gen;
	int r;

	if (store_count_strings(p, q->c->hdr.len) != 2)
		return -EINVAL;
	r = store_parse_num(p + strlen(p) + 1, UINT32_MAX, &off);
	if (r == 0)
		r = req_path(q, p);
	if (r == 0)
		r = store_db_directory(s->db, &q->who, q->path, &ch, &len, &gen);
	if (r < 0)
		return r;
	gl = (size_t)snprintf(out, sizeof(out), "%" PRIu64, gen) + 1;
	if (off < len) {
		while (off + n < len) {
			size_t l = strlen(ch + off + n) + 1;

			if (gl + n + l + 1 > sizeof(out))
				break;
			n += l;
		}
		memcpy(out + gl, ch + off, n);
	}
	if (off + n >= len)
		out[gl + n++] = '\0';
	store_reply(s, q->c, STORE_MSG_DIRECTORY_PART, out, gl + n);
	return 0;
}

static int do_get_perms(struct pvpci_store *s, struct req *q)
{
	char out[STORE_PAYLOAD_MAX + 16];
	const struct store_perm *p;
	size_t n, len = 0;
	int r = req_path(q, onearg(q->c));

	if (r == 0)
		r = store_db_get_perms(s->db, &q->who, q->path, &p, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && len + 16 <= sizeof(out); i++)
		len += store_perm_format(&p[i], out + len, 16) + 1;
	store_reply(s, q->c, STORE_MSG_GET_PERMS, out, len);
	return 0;
}

static int do_set_perms(struct pvpci_store *s, struct req *q)
{
	const char *p = q->c->body;
	size_t n = store_count_strings(p, q->c->hdr.len);
	struct store_perm *perms;
	int r;

	if (n < 2)
		return -EINVAL;
	n--;
	if (!q->who.priv && n > s->lim.perms_per_node)
		return -ENOSPC;
	perms = malloc(n * sizeof(*perms));
	if (!perms)
		return -ENOMEM;
	r = store_perms_parse(p + strlen(p) + 1, n, perms);
	if (r == 0)
		r = req_path(q, p);
	if (r == 0)
		r = store_db_set_perms(s->db, &q->who, q->path, perms, n);
	free(perms);
	if (r == 0)
		store_reply_ok(s, q->c);
	return r;
}

static int do_watch(struct pvpci_store *s, struct req *q)
{
	struct store_conn *c = q->c;
	const char *p = c->body, *token;
	struct store_watch *w;
	bool relative;

	if (store_count_strings(p, c->hdr.len) != 2)
		return -EINVAL;
	token = p + strlen(p) + 1;
	if (store_path_special(p)) {
		if (strlen(p) > STORE_REL_PATH_MAX)
			return -EINVAL;
		relative = false;
		strcpy(q->path, p);
	} else {
		relative = p[0] != '/';
		if (req_path(q, p) < 0 || !store_path_valid(q->path))
			return -EINVAL;
	}
	for (w = c->watches; w; w = w->next)
		if (!strcmp(w->path, q->path) && !strcmp(w->token, token))
			return -EEXIST;
	if (!q->who.priv && c->nwatches >= s->lim.watches)
		return -E2BIG;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(q->path)) || !(w->token = strdup(token))) {
		if (w)
			free(w->path);
		free(w);
		return -ENOMEM;
	}
	w->relative = relative;
	w->next = c->watches;
	c->watches = w;
	c->nwatches++;
	store_reply_ok(s, c);
	/* Fired once at once: clients read the node then, whatever came before. */
	store_send_event(s, c, relative ? store_path_relative(w->path, c->domid) : w->path, token);
	return 0;
}

static int do_unwatch(struct pvpci_store *s, struct req *q)
{
	struct store_conn *c = q->c;
	const char *p = c->body, *token;

	if (store_count_strings(p, c->hdr.len) != 2)
		return -EINVAL;
	token = p + strlen(p) + 1;
	if (req_path(q, p) < 0)
		return -ENOENT;
	for (struct store_watch **pw = &c->watches; *pw; pw = &(*pw)->next) {
		struct store_watch *w = *pw;

		if (!strcmp(w->path, q->path) && !strcmp(w->token, token)) {
			*pw = w->next;
			c->nwatches--;
			free(w->path);
			free(w->token);
			free(w);
			store_reply_ok(s, c);
			return 0;
		}
	}
	return -ENOENT;
}

static int do_transaction_start(struct pvpci_store *s, struct req *q)
{
	struct store_conn *c = q->c;
	struct store_ctx *t;
	char id[16];
	int r;

	/* No nesting. */
	if (q->tx)
		return -EBUSY;
	if (!q->who.priv && c->ntx >= s->lim.transactions)
		return -ENOSPC;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	r = store_db_tx_start(s->db, &q->who, &t->tx);
	if (r < 0) {
		free(t);
		return r;
	}
	/* A number not in use, never 0. */
	for (;;) {
		struct store_ctx *o = c->txs;

		t->id = c->next_tx++;
		while (o && o->id != t->id)
			o = o->next;
		if (t->id && !o)
			break;
	}
	t->next = c->txs;
	c->txs = t;
	c->ntx++;
	snprintf(id, sizeof(id), "%" PRIu32, t->id);
	store_reply(s, c, STORE_MSG_TRANSACTION_START, id, strlen(id) + 1);
	return 0;
}

static int do_transaction_end(struct pvpci_store *s, struct req *q)
{
	struct store_conn *c = q->c;
	const char *arg = onearg(c);
	struct store_ctx **pt;
	int r;

	if (!arg || (strcmp(arg, "T") && strcmp(arg, "F")))
		return -EINVAL;
	if (!q->tx)
		return -ENOENT;
	for (pt = &c->txs; (*pt)->tx != q->tx; pt = &(*pt)->next)
		;
	{
		struct store_ctx *t = *pt;

		*pt = t->next;
		c->ntx--;
		free(t);
	}
	r = store_db_tx_end(s->db, q->tx, arg[0] == 'T');
	if (r == 0)
		store_reply_ok(s, c);
	return r;
}

/* domid|mfn|port|...: the page and the port mean nothing here, but a
 * port must be given as xenstored wants one. */
static int do_introduce(struct pvpci_store *s, struct req *q)
{
	const char *p = q->c->body, *port;
	unsigned domid;
	long v;
	char *end;
	int r;

	if (store_count_strings(p, q->c->hdr.len) < 3)
		return -EINVAL;
	port = p + strlen(p) + 1;
	port += strlen(port) + 1;
	v = strtol(port, &end, 10);
	if (parse_domid(p, &domid) < 0 || end == port || *end || v <= 0)
		return -EINVAL;
	/* dom0 is always there; a domain introduced again keeps its socket. */
	if (domid != 0 && !store_dom_find(s, domid)) {
		r = store_dom_introduce(s, domid);
		if (r < 0)
			return r == -ENOMEM ? r : -EIO;
	}
	store_reply_ok(s, q->c);
	return 0;
}

/* domid|: an introduced domain other than dom0. */
static int introduced_arg(struct pvpci_store *s, struct req *q, struct store_dom **ret)
{
	const char *a = onearg(q->c);
	unsigned domid;

	if (!a || parse_domid(a, &domid) < 0 || domid == 0)
		return -EINVAL;
	*ret = store_dom_find(s, domid);
	return *ret ? 0 : -ENOENT;
}

static int do_release(struct pvpci_store *s, struct req *q)
{
	struct store_dom *d;
	int r = introduced_arg(s, q, &d);

	if (r < 0)
		return r;
	store_dom_release(s, d);
	/* The releasing connection may have been the domain's own. */
	if (!q->c->dead)
		store_reply_ok(s, q->c);
	return 0;
}

static int do_resume(struct pvpci_store *s, struct req *q)
{
	struct store_dom *d;
	int r = introduced_arg(s, q, &d);

	if (r == 0)
		store_reply_ok(s, q->c);
	return r;
}

static int do_get_domain_path(struct pvpci_store *s, struct req *q)
{
	const char *a = onearg(q->c);
	unsigned long domid = 0;
	char path[32];

	if (!a || store_parse_num(a, UINT32_MAX, &domid) < 0)
		return -EINVAL;
	store_domain_path((unsigned)domid, path, sizeof(path));
	store_reply(s, q->c, STORE_MSG_GET_DOMAIN_PATH, path, strlen(path) + 1);
	return 0;
}

static int do_is_domain_introduced(struct pvpci_store *s, struct req *q)
{
	const char *a = onearg(q->c);
	unsigned long domid = 0;
	bool yes;

	if (!a || store_parse_num(a, UINT16_MAX, &domid) < 0)
		return -EINVAL;
	yes = domid == 0 || domid == STORE_DOMID_FIRST_RESERVED /* DOMID_SELF */ ||
	      (domid < STORE_DOMID_FIRST_RESERVED && store_dom_find(s, (unsigned)domid));
	store_reply(s, q->c, STORE_MSG_IS_DOMAIN_INTRODUCED, yes ? "T" : "F", 2);
	return 0;
}

/* domid|tdomid|: domid acts for tdomid too (a device model for its guest). */
static int do_set_target(struct pvpci_store *s, struct req *q)
{
	const char *p = q->c->body, *t;
	unsigned domid, tdomid;
	struct store_dom *d;

	if (store_count_strings(p, q->c->hdr.len) < 2)
		return -EINVAL;
	t = p + strlen(p) + 1;
	if (parse_domid(p, &domid) < 0 || parse_domid(t, &tdomid) < 0)
		return -EINVAL;
	d = store_dom_find(s, domid);
	if (!d || !store_dom_find(s, tdomid))
		return -ENOENT;
	d->target = (int)tdomid;
	store_reply_ok(s, q->c);
	return 0;
}

static int do_reset_watches(struct pvpci_store *s, struct req *q)
{
	store_conn_reset(s, q->c);
	store_reply_ok(s, q->c);
	return 0;
}

/* A few of xenstored's control commands; the rest are its own innards. */
static int do_control(struct pvpci_store *s, struct req *q)
{
	const char *p = q->c->body;
	size_t n = store_count_strings(p, q->c->hdr.len);
	char out[512];

	if (n < 1)
		return -EINVAL;
	if (!strcmp(p, "help")) {
		static const char help[] = "check\nhelp\nlog\nprint|<string>\nquota\n";

		store_reply(s, q->c, STORE_MSG_CONTROL, help, sizeof(help));
	} else if (!strcmp(p, "check") || !strcmp(p, "log")) {
		store_reply_ok(s, q->c);
	} else if (!strcmp(p, "print") && n >= 2) {
		store_logf(s, 6, "%s", p + strlen(p) + 1);
		store_reply_ok(s, q->c);
	} else if (!strcmp(p, "quota")) {
		int l = snprintf(out, sizeof(out),
				 "nodes %u\nnode-size %u\npermissions %u\ntransaction-nodes %u\n"
				 "watches %u\ntransactions %u\n",
				 s->lim.nodes_per_domain, s->lim.node_size, s->lim.perms_per_node,
				 s->lim.tx_nodes, s->lim.watches, s->lim.transactions);

		store_reply(s, q->c, STORE_MSG_CONTROL, out, (size_t)l + 1);
	} else {
		return -EINVAL;
	}
	return 0;
}

static const struct {
	int (*fn)(struct pvpci_store *s, struct req *q);
	unsigned flags;
} ops[STORE_MSG_TYPE_COUNT] = {
	[STORE_MSG_CONTROL] = { do_control, F_PRIV },
	[STORE_MSG_DIRECTORY] = { do_directory, 0 },
	[STORE_MSG_READ] = { do_read, 0 },
	[STORE_MSG_GET_PERMS] = { do_get_perms, 0 },
	[STORE_MSG_WATCH] = { do_watch, F_NOTID },
	[STORE_MSG_UNWATCH] = { do_unwatch, F_NOTID },
	[STORE_MSG_TRANSACTION_START] = { do_transaction_start, 0 },
	[STORE_MSG_TRANSACTION_END] = { do_transaction_end, 0 },
	[STORE_MSG_INTRODUCE] = { do_introduce, F_PRIV },
	[STORE_MSG_RELEASE] = { do_release, F_PRIV },
	[STORE_MSG_GET_DOMAIN_PATH] = { do_get_domain_path, 0 },
	[STORE_MSG_WRITE] = { do_write, 0 },
	[STORE_MSG_MKDIR] = { do_mkdir, 0 },
	[STORE_MSG_RM] = { do_rm, 0 },
	[STORE_MSG_SET_PERMS] = { do_set_perms, 0 },
	[STORE_MSG_IS_DOMAIN_INTRODUCED] = { do_is_domain_introduced, F_PRIV },
	[STORE_MSG_RESUME] = { do_resume, F_PRIV },
	[STORE_MSG_SET_TARGET] = { do_set_target, F_PRIV },
	[STORE_MSG_RESET_WATCHES] = { do_reset_watches, 0 },
	[STORE_MSG_DIRECTORY_PART] = { do_directory_part, 0 },
};

void store_handle(struct pvpci_store *s, struct store_conn *c)
{
	uint32_t type = c->hdr.type;
	struct req *q;
	int r;

	if (s->verbose)
		store_logf(s, 7, "connection %u (domain %u): %s tx %" PRIu32 " %.*s", c->id, c->domid,
			   store_msg_name(type), c->hdr.tx_id,
			   (int)(c->hdr.len > 64 ? 64 : c->hdr.len), c->body);
	if (type >= STORE_MSG_TYPE_COUNT || !ops[type].fn) {
		store_reply_err(s, c, ENOSYS);
		return;
	}
	if ((ops[type].flags & F_PRIV) && c->dom) {
		store_reply_err(s, c, EACCES);
		return;
	}
	q = malloc(sizeof(*q));
	if (!q) {
		store_reply_err(s, c, ENOMEM);
		return;
	}
	q->c = c;
	q->tx = NULL;
	if (!(ops[type].flags & F_NOTID) && c->hdr.tx_id) {
		struct store_ctx *t = c->txs;

		while (t && t->id != c->hdr.tx_id)
			t = t->next;
		if (!t) {
			free(q);
			store_reply_err(s, c, ENOENT);
			return;
		}
		q->tx = t->tx;
	}
	q->who = store_conn_who(c, q->tx);
	r = ops[type].fn(s, q);
	if (r < 0 && !c->dead)
		store_reply_err(s, c, -r);
	free(q);
}
