/*
 * The store's database (store_db.h).
 *
 * Nodes live in one hash table keyed by their full path, as xenstored
 * keeps them in its tdb; a node lists its children's names, so the tree
 * is the table read from "/".  A node is never changed once in the table:
 * a change builds a new node and swaps it in.  That lets a transaction
 * hold the very node it first saw (a reference, not a copy) next to its
 * own changes, kept in a table of its own: a transaction's view of a path
 * is its own entry when it has one, else the store's.  An entry remembers
 * the generation the path had when the transaction first touched it
 * (NO_GEN: it did not exist); a commit checks those against the store and
 * then swaps the changed nodes in.
 *
 * Each operation looks everything up and allocates before it changes
 * anything, so a failure leaves the store (and the transaction) as it was.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_db.h"

#define NO_GEN		UINT64_MAX
/* A node's size as xenstored counts it against node_size: its record
 * header (generation and three counts), 8 bytes per permission, the
 * value and the children's names. */
#define RECORD_HDR	20
#define PERM_BYTES	8

void store_default_limits(struct store_limits *l)
{
	l->nodes_per_domain = 1000;
	l->node_size = 2048;
	l->perms_per_node = 5;
	l->tx_nodes = 1024;
}

/* ---- nodes ---- */

struct node {
	unsigned ref;
	uint64_t gen;
	size_t nperms, datalen, childlen;
	struct store_perm *perms;
	char *data, *children;
};

/* One allocation holding the node, its permissions, value and children. */
static struct node *node_make(const struct store_perm *perms, size_t np, const char *data,
			      size_t dl, const char *children, size_t cl)
{
	struct node *n = malloc(sizeof(*n) + np * sizeof(*perms) + dl + cl + 1);

	if (!n)
		return NULL;
	n->ref = 1;
	n->gen = 0;
	n->nperms = np;
	n->datalen = dl;
	n->childlen = cl;
	n->perms = (struct store_perm *)(n + 1);
	n->data = (char *)(n->perms + np);
	n->children = n->data + dl;
	memcpy(n->perms, perms, np * sizeof(*perms));
	if (dl)
		memcpy(n->data, data, dl);
	if (cl)
		memcpy(n->children, children, cl);
	n->children[cl] = '\0';
	return n;
}

static struct node *node_ref(struct node *n)
{
	if (n)
		n->ref++;
	return n;
}

static void node_unref(struct node *n)
{
	if (n && --n->ref == 0)
		free(n);
}

static size_t node_size(size_t np, size_t dl, size_t cl)
{
	return RECORD_HDR + np * PERM_BYTES + dl + cl;
}

/* n with name (namelen bytes, no nul) added to its children. */
static struct node *node_with_child(const struct node *n, const char *name, size_t namelen)
{
	char *c = malloc(n->childlen + namelen + 1);
	struct node *r;

	if (!c)
		return NULL;
	memcpy(c, n->children, n->childlen);
	memcpy(c + n->childlen, name, namelen);
	c[n->childlen + namelen] = '\0';
	r = node_make(n->perms, n->nperms, n->data, n->datalen, c, n->childlen + namelen + 1);
	free(c);
	return r;
}

/* n without the child called name. */
static struct node *node_without_child(const struct node *n, const char *name)
{
	size_t off = 0, len = strlen(name) + 1;
	char *c;
	struct node *r;

	while (off < n->childlen && strcmp(n->children + off, name))
		off += strlen(n->children + off) + 1;
	if (off >= n->childlen)
		return node_make(n->perms, n->nperms, n->data, n->datalen, n->children, n->childlen);
	c = malloc(n->childlen);
	if (!c)
		return NULL;
	memcpy(c, n->children, off);
	memcpy(c + off, n->children + off + len, n->childlen - off - len);
	r = node_make(n->perms, n->nperms, n->data, n->datalen, c, n->childlen - len);
	free(c);
	return r;
}

/* ---- a hash table of paths ---- */

struct ment {
	struct ment *next;
	uint32_t hash;
	void *val;
	char key[];
};

struct map {
	struct ment **b;
	size_t nb, n;
};

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static int map_init(struct map *m)
{
	m->nb = 64;
	m->n = 0;
	m->b = calloc(m->nb, sizeof(*m->b));
	return m->b ? 0 : -ENOMEM;
}

static struct ment *map_find(const struct map *m, const char *key)
{
	uint32_t h = hash_str(key);

	for (struct ment *e = m->b[h & (m->nb - 1)]; e; e = e->next)
		if (e->hash == h && !strcmp(e->key, key))
			return e;
	return NULL;
}

static struct ment *ment_new(const char *key, size_t len)
{
	struct ment *e = malloc(sizeof(*e) + len + 1);

	if (!e)
		return NULL;
	memcpy(e->key, key, len);
	e->key[len] = '\0';
	e->hash = hash_str(e->key);
	e->val = NULL;
	e->next = NULL;
	return e;
}

/* Never fails: when the table cannot grow it gets fuller. */
static void map_link(struct map *m, struct ment *e)
{
	if (m->n >= m->nb * 2) {
		struct ment **nb = calloc(m->nb * 2, sizeof(*nb));

		if (nb) {
			for (size_t i = 0; i < m->nb; i++)
				for (struct ment *x = m->b[i], *next; x; x = next) {
					next = x->next;
					x->next = nb[x->hash & (m->nb * 2 - 1)];
					nb[x->hash & (m->nb * 2 - 1)] = x;
				}
			free(m->b);
			m->b = nb;
			m->nb *= 2;
		}
	}
	e->next = m->b[e->hash & (m->nb - 1)];
	m->b[e->hash & (m->nb - 1)] = e;
	m->n++;
}

static void map_unlink(struct map *m, struct ment *e)
{
	struct ment **p = &m->b[e->hash & (m->nb - 1)];

	while (*p != e)
		p = &(*p)->next;
	*p = e->next;
	m->n--;
}

static void map_free(struct map *m, void (*freeval)(void *))
{
	for (size_t i = 0; m->b && i < m->nb; i++)
		for (struct ment *e = m->b[i], *next; e; e = next) {
			next = e->next;
			freeval(e->val);
			free(e);
		}
	free(m->b);
	m->b = NULL;
}

/* arr (*cap elements of elem bytes, n used) with room for one more: arr
 * itself or its reallocation; NULL when out of memory (arr untouched). */
static void *grow(void *arr, size_t *cap, size_t n, size_t elem)
{
	size_t nc = *cap ? *cap * 2 : 16;
	void *na;

	if (n < *cap)
		return arr;
	na = realloc(arr, nc * elem);
	if (na)
		*cap = nc;
	return na;
}

/* ---- the store and its transactions ---- */

struct count {
	unsigned domid;
	long n;
};

struct counts {
	struct count *c;
	size_t n, cap;
};

struct tx_ent {
	const char *path;	/* the key of its entry in the transaction's table */
	uint64_t seen;		/* the store's generation of path when first touched */
	bool modified;
	struct node *node;	/* what the transaction sees; NULL: nothing */
};

struct store_tx {
	struct map ents;
	struct tx_ent **order;	/* in the order first touched: the commit's order */
	size_t n, cap;
	struct counts delta;	/* nodes owned, per domain, against the store's */
	bool priv;
	unsigned domid;
};

struct special {
	const char *name;
	struct store_perm *perms;
	size_t n;
};

struct store_db {
	struct store_limits lim;
	store_event_fn fn;
	void *ctx;
	struct map nodes;
	uint64_t gen;
	struct counts owned;
	struct special special[2];
};

static struct count *count_find(const struct counts *c, unsigned domid)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->c[i].domid == domid)
			return &c->c[i];
	return NULL;
}

/* Make room for domid's count, so that count_add cannot fail later. */
static int count_slot(struct counts *c, unsigned domid)
{
	struct count *nc;

	if (count_find(c, domid))
		return 0;
	nc = grow(c->c, &c->cap, c->n, sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	c->c = nc;
	c->c[c->n++] = (struct count){ domid, 0 };
	return 0;
}

static void count_add(struct counts *c, unsigned domid, long d)
{
	count_find(c, domid)->n += d;
}

/* The counts who's changes go to. */
static struct counts *counts_of(struct store_db *db, const struct store_who *who)
{
	return who->tx ? &who->tx->delta : &db->owned;
}

/* Nodes domid owns as who sees the store. */
static long owned_seen(const struct store_db *db, const struct store_who *who, unsigned domid)
{
	const struct count *g = count_find(&db->owned, domid);
	const struct count *t = who->tx ? count_find(&who->tx->delta, domid) : NULL;

	return (g ? g->n : 0) + (t ? t->n : 0);
}

static struct node *global_get(const struct store_db *db, const char *path)
{
	struct ment *e = map_find(&db->nodes, path);

	return e ? e->val : NULL;
}

/* who's transaction's entry for path, made on first touch. */
static int tx_ent(struct store_db *db, const struct store_who *who, const char *path,
		  struct tx_ent **ret)
{
	struct store_tx *tx = who->tx;
	struct ment *m = map_find(&tx->ents, path);
	struct tx_ent *e, **o;
	struct node *g;

	if (m) {
		*ret = m->val;
		return 0;
	}
	if (!tx->priv && tx->n >= db->lim.tx_nodes)
		return -ENOSPC;
	o = grow(tx->order, &tx->cap, tx->n, sizeof(*o));
	if (!o)
		return -ENOMEM;
	tx->order = o;
	e = calloc(1, sizeof(*e));
	m = ment_new(path, strlen(path));
	if (!e || !m) {
		free(e);
		free(m);
		return -ENOMEM;
	}
	g = global_get(db, path);
	e->seen = g ? g->gen : NO_GEN;
	e->node = node_ref(g);
	e->path = m->key;
	m->val = e;
	map_link(&tx->ents, m);
	tx->order[tx->n++] = e;
	*ret = e;
	return 0;
}

/* path's node as who sees it (NULL: none); a transaction takes note. */
static int view_get(struct store_db *db, const struct store_who *who, const char *path,
		    struct node **ret)
{
	struct tx_ent *e;
	int r;

	if (!who->tx) {
		*ret = global_get(db, path);
		return 0;
	}
	r = tx_ent(db, who, path, &e);
	if (r < 0)
		return r;
	*ret = e->node;
	return 0;
}

/* The parent's node as who sees it; path is not "/". */
static int view_get_parent(struct store_db *db, const struct store_who *who, const char *path,
			   struct node **ret)
{
	char buf[STORE_PATH_BUF];
	size_t pl = store_path_parent_len(path);

	memcpy(buf, path, pl);
	buf[pl] = '\0';
	return view_get(db, who, buf, ret);
}

/*
 * Put n at path in who's view, taking n's reference (NULL removes path).
 * path was looked up with view_get first; a path new to the store comes
 * with its table entry (fresh), made beforehand.
 */
static void view_set(struct store_db *db, const struct store_who *who, const char *path,
		     struct ment *fresh, struct node *n)
{
	struct ment *m;

	if (n)
		n->gen = db->gen++;
	if (who->tx) {
		struct tx_ent *e = map_find(&who->tx->ents, path)->val;

		node_unref(e->node);
		e->node = n;
		e->modified = true;
		free(fresh);
		return;
	}
	m = map_find(&db->nodes, path);
	if (!m && n) {
		m = fresh;
		m->val = NULL;
		map_link(&db->nodes, m);
		fresh = NULL;
	}
	free(fresh);
	if (!m)
		return;
	node_unref(m->val);
	if (n) {
		m->val = n;
	} else {
		map_unlink(&db->nodes, m);
		free(m);
	}
}

static void emit(struct store_db *db, const struct store_who *who, const char *path, bool exact,
		 const struct node *n, const struct store_perm *old, size_t nold)
{
	struct store_event ev = {
		.path = path, .exact = exact, .perms = n ? n->perms : NULL,
		.nperms = n ? n->nperms : 0, .old = old, .nold = nold,
	};

	/* A transaction's changes are seen when it commits. */
	if (db->fn && !who->tx)
		db->fn(db->ctx, &ev);
}

unsigned store_perm_for(const struct store_who *who, const struct store_perm *p, size_t n)
{
	const unsigned all = STORE_PERM_READ | STORE_PERM_WRITE | STORE_PERM_OWNER;
	const unsigned rw = STORE_PERM_READ | STORE_PERM_WRITE;
	unsigned t = who->target >= 0 ? (unsigned)who->target : ~0u;

	if (who->priv)
		return all;
	if (!n)
		return STORE_PERM_NONE;
	if (p[0].id == who->domid || p[0].id == t)
		return all;
	for (size_t i = 1; i < n; i++)
		if (p[i].id == who->domid || p[i].id == t)
			return p[i].perms & rw;
	return p[0].perms & rw;
}

/*
 * path's node when who has every right in need.  A node who may not see
 * is as good as absent, and an absent one is -EACCES too unless the
 * nearest existing parent grants some of need: the error says nothing
 * of what who may not know.
 */
static int get_checked(struct store_db *db, const struct store_who *who, const char *path,
		       unsigned need, struct node **ret)
{
	char buf[STORE_PATH_BUF];
	struct node *n;
	int r, err;

	if (!store_path_valid(path))
		return -EINVAL;
	r = view_get(db, who, path, &n);
	if (r < 0)
		return r;
	if (n && (store_perm_for(who, n->perms, n->nperms) & need) == need) {
		*ret = n;
		return 0;
	}
	err = n ? -EACCES : -ENOENT;
	strcpy(buf, path);
	do {
		buf[store_path_parent_len(buf)] = '\0';
		r = view_get(db, who, buf, &n);
		if (r < 0)
			return r;
	} while (!n && strcmp(buf, "/"));
	if (n && (store_perm_for(who, n->perms, n->nperms) & need))
		return err;
	return -EACCES;
}

/*
 * Create path (absent; its nearest existing parent writable by who) and
 * its missing parents: each inherits the permissions of the one above,
 * owned by who when who is unprivileged.
 */
static int create(struct store_db *db, const struct store_who *who, const char *path,
		  const char *data, size_t dlen)
{
	char buf[STORE_PATH_BUF];
	size_t plen = strlen(path), depth = 0, ancl, *lens;
	struct node *anc = NULL, **nodes = NULL, *nanc = NULL;
	struct ment **fresh = NULL;
	struct store_perm *perms = NULL;
	int r = -ENOMEM;

	lens = malloc((plen / 2 + 2) * sizeof(*lens));
	if (!lens)
		return -ENOMEM;
	memcpy(buf, path, plen + 1);
	for (size_t l = plen;;) {
		buf[l] = '\0';
		r = view_get(db, who, buf, &anc);
		if (r < 0)
			goto out;
		if (anc)
			break;
		lens[depth++] = l;
		l = store_path_parent_len(buf);
	}
	ancl = strlen(buf);

	perms = malloc(anc->nperms * sizeof(*perms));
	nodes = calloc(depth, sizeof(*nodes));
	fresh = calloc(depth, sizeof(*fresh));
	r = -ENOMEM;
	if (!perms || !nodes || !fresh)
		goto out;
	memcpy(perms, anc->perms, anc->nperms * sizeof(*perms));
	if (!who->priv)
		perms[0].id = who->domid;

	if (!who->priv) {
		size_t top = lens[depth - 1] - ancl - (ancl > 1);

		r = -ENOSPC;
		if (owned_seen(db, who, perms[0].id) + (long)depth > (long)db->lim.nodes_per_domain)
			goto out;
		if (node_size(anc->nperms, anc->datalen, anc->childlen + top + 1) >= db->lim.node_size ||
		    node_size(anc->nperms, dlen, 0) >= db->lim.node_size)
			goto out;
		for (size_t i = 1; i < depth; i++)
			if (node_size(anc->nperms, 0, lens[i - 1] - lens[i]) >= db->lim.node_size)
				goto out;
	}
	r = count_slot(counts_of(db, who), perms[0].id);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	for (size_t i = 0; i < depth; i++) {
		/* The child below this one, nul included. */
		const char *child = i ? path + lens[i] + 1 : NULL;
		size_t cl = i ? lens[i - 1] - lens[i] : 0;
		char name[STORE_PATH_BUF];

		if (child) {
			memcpy(name, child, cl - 1);
			name[cl - 1] = '\0';
		}
		nodes[i] = node_make(perms, anc->nperms, i ? NULL : data, i ? 0 : dlen,
				     child ? name : NULL, cl);
		if (!nodes[i])
			goto out;
		if (!who->tx && !(fresh[i] = ment_new(path, lens[i])))
			goto out;
	}
	nanc = node_with_child(anc, path + ancl + (ancl > 1), lens[depth - 1] - ancl - (ancl > 1));
	if (!nanc)
		goto out;

	for (size_t i = depth; i-- > 0;) {
		memcpy(buf, path, lens[i]);
		buf[lens[i]] = '\0';
		view_set(db, who, buf, fresh[i], nodes[i]);
		fresh[i] = NULL;
		nodes[i] = NULL;
	}
	memcpy(buf, path, ancl);
	buf[ancl] = '\0';
	view_set(db, who, buf, NULL, nanc);
	nanc = NULL;
	count_add(counts_of(db, who), perms[0].id, (long)depth);
	emit(db, who, path, false, global_get(db, path), NULL, 0);
	r = 0;
out:
	for (size_t i = 0; nodes && i < depth; i++) {
		node_unref(nodes[i]);
		free(fresh[i]);
	}
	node_unref(nanc);
	free(nodes);
	free(fresh);
	free(perms);
	free(lens);
	return r;
}

int store_db_read(struct store_db *db, const struct store_who *who, const char *path,
		  const char **ret_data, size_t *ret_len)
{
	struct node *n;
	int r = get_checked(db, who, path, STORE_PERM_READ, &n);

	if (r < 0)
		return r;
	*ret_data = n->data;
	*ret_len = n->datalen;
	return 0;
}

int store_db_write(struct store_db *db, const struct store_who *who, const char *path,
		   const char *data, size_t len)
{
	struct node *n, *nn;
	int r = get_checked(db, who, path, STORE_PERM_WRITE, &n);

	if (r == -ENOENT)
		return create(db, who, path, data, len);
	if (r < 0)
		return r;
	if (!who->priv && node_size(n->nperms, len, n->childlen) >= db->lim.node_size)
		return -ENOSPC;
	nn = node_make(n->perms, n->nperms, data, len, n->children, n->childlen);
	if (!nn)
		return -ENOMEM;
	view_set(db, who, path, NULL, nn);
	emit(db, who, path, false, nn, NULL, 0);
	return 0;
}

int store_db_mkdir(struct store_db *db, const struct store_who *who, const char *path)
{
	struct node *n;
	int r = get_checked(db, who, path, STORE_PERM_WRITE, &n);

	return r == -ENOENT ? create(db, who, path, NULL, 0) : r;
}

struct doomed {
	char *path;
	struct node *node;
};

struct doomed_list {
	struct doomed *d;
	size_t n, cap;
};

/* path and everything below it, children before their parents. */
static int collect(struct store_db *db, const struct store_who *who, const char *path,
		   struct node *n, struct doomed_list *l)
{
	size_t plen = strlen(path);
	struct doomed *d;

	for (size_t off = 0; off < n->childlen; off += strlen(n->children + off) + 1) {
		const char *name = n->children + off;
		char *cp = malloc(plen + strlen(name) + 2);
		struct node *c;
		int r;

		if (!cp)
			return -ENOMEM;
		strcpy(cp, path);
		if (plen > 1)
			strcat(cp, "/");
		strcat(cp, name);
		r = view_get(db, who, cp, &c);
		if (r == 0 && c)
			r = collect(db, who, cp, c, l);
		free(cp);
		if (r < 0)
			return r;
	}
	d = grow(l->d, &l->cap, l->n, sizeof(*d));
	if (!d)
		return -ENOMEM;
	l->d = d;
	l->d[l->n].path = strdup(path);
	if (!l->d[l->n].path)
		return -ENOMEM;
	l->d[l->n++].node = n;
	return 0;
}

int store_db_rm(struct store_db *db, const struct store_who *who, const char *path)
{
	struct doomed_list l = { 0 };
	struct node *n, *parent, *np = NULL;
	int r = get_checked(db, who, path, STORE_PERM_WRITE, &n);
	char buf[STORE_PATH_BUF];

	if (r == -ENOENT) {
		/* Absent is fine when its parent is there. */
		r = view_get_parent(db, who, path, &parent);
		return r < 0 ? r : parent ? 0 : -ENOENT;
	}
	if (r < 0)
		return r;
	if (!strcmp(path, "/"))
		return -EINVAL;
	r = view_get_parent(db, who, path, &parent);
	if (r < 0)
		return r;
	r = collect(db, who, path, n, &l);
	for (size_t i = 0; r == 0 && i < l.n; i++)
		r = count_slot(counts_of(db, who), l.d[i].node->perms[0].id);
	if (r == 0 && !(np = node_without_child(parent, store_path_basename(path))))
		r = -ENOMEM;
	if (r == 0) {
		/* Watchers see the nodes before they go, while their
		 * permissions still say who may know. */
		emit(db, who, path, false, n, NULL, 0);
		for (size_t i = 0; i + 1 < l.n; i++)
			emit(db, who, l.d[i].path, true, l.d[i].node, NULL, 0);
		for (size_t i = 0; i < l.n; i++) {
			count_add(counts_of(db, who), l.d[i].node->perms[0].id, -1);
			view_set(db, who, l.d[i].path, NULL, NULL);
		}
		memcpy(buf, path, store_path_parent_len(path));
		buf[store_path_parent_len(path)] = '\0';
		view_set(db, who, buf, NULL, np);
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.d[i].path);
	free(l.d);
	return r;
}

int store_db_directory(struct store_db *db, const struct store_who *who, const char *path,
		       const char **ret_children, size_t *ret_len, uint64_t *ret_gen)
{
	struct node *n;
	int r = get_checked(db, who, path, STORE_PERM_READ, &n);

	if (r < 0)
		return r;
	*ret_children = n->children;
	*ret_len = n->childlen;
	if (ret_gen)
		*ret_gen = n->gen;
	return 0;
}

static struct special *special_find(struct store_db *db, const char *name)
{
	for (size_t i = 0; i < 2; i++)
		if (!strcmp(db->special[i].name, name))
			return &db->special[i];
	return NULL;
}

int store_db_get_perms(struct store_db *db, const struct store_who *who, const char *path,
		       const struct store_perm **ret_perms, size_t *ret_n)
{
	struct special *s = special_find(db, path);
	struct node *n;
	int r;

	if (s) {
		if (!(store_perm_for(who, s->perms, s->n) & STORE_PERM_READ))
			return -EACCES;
		*ret_perms = s->perms;
		*ret_n = s->n;
		return 0;
	}
	r = get_checked(db, who, path, STORE_PERM_READ, &n);
	if (r < 0)
		return r;
	*ret_perms = n->perms;
	*ret_n = n->nperms;
	return 0;
}

int store_db_set_perms(struct store_db *db, const struct store_who *who, const char *path,
		       const struct store_perm *perms, size_t np)
{
	const unsigned need = STORE_PERM_WRITE | STORE_PERM_OWNER;
	struct special *s = special_find(db, path);
	struct node *n, *nn;
	struct counts *c = counts_of(db, who);
	int r;

	if (np < 1)
		return -EINVAL;
	if (!who->priv && np > db->lim.perms_per_node)
		return -ENOSPC;
	if (s) {
		struct store_perm *p;

		if ((store_perm_for(who, s->perms, s->n) & need) != need)
			return -EACCES;
		p = malloc(np * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memcpy(p, perms, np * sizeof(*p));
		free(s->perms);
		s->perms = p;
		s->n = np;
		return 0;
	}
	r = get_checked(db, who, path, need, &n);
	if (r < 0)
		return r;
	/* Unprivileged domains may not give their nodes away. */
	if (!who->priv && perms[0].id != n->perms[0].id)
		return -EPERM;
	if (!who->priv && node_size(np, n->datalen, n->childlen) >= db->lim.node_size)
		return -ENOSPC;
	if (count_slot(c, perms[0].id) < 0 || count_slot(c, n->perms[0].id) < 0)
		return -ENOMEM;
	nn = node_make(perms, np, n->data, n->datalen, n->children, n->childlen);
	if (!nn)
		return -ENOMEM;
	count_add(c, n->perms[0].id, -1);
	count_add(c, perms[0].id, 1);
	/* n stays alive for the event: the transaction or the caller's
	 * reference is dropped by view_set, so hold one. */
	node_ref(n);
	view_set(db, who, path, NULL, nn);
	emit(db, who, path, false, nn, n->perms, n->nperms);
	node_unref(n);
	return 0;
}

bool store_db_watch_permitted(struct store_db *db, const struct store_who *watcher,
			      const struct store_event *ev)
{
	const struct store_who w = { watcher->domid, watcher->priv, watcher->target, NULL };
	struct node *parent;
	char buf[STORE_PATH_BUF];
	size_t pl;

	if (w.priv)
		return true;
	if (store_perm_for(&w, ev->perms, ev->nperms) & STORE_PERM_READ)
		return true;
	if (store_path_special(ev->path))
		return false;
	if (ev->old && (store_perm_for(&w, ev->old, ev->nold) & STORE_PERM_READ))
		return true;
	pl = store_path_parent_len(ev->path);
	if (pl >= sizeof(buf))
		return false;
	memcpy(buf, ev->path, pl);
	buf[pl] = '\0';
	parent = global_get(db, buf);
	return parent && (store_perm_for(&w, parent->perms, parent->nperms) & STORE_PERM_READ);
}

void store_db_fire_special(struct store_db *db, const char *name)
{
	struct special *s = special_find(db, name);
	struct store_event ev = { .path = name, .perms = s ? s->perms : NULL, .nperms = s ? s->n : 0 };

	if (db->fn)
		db->fn(db->ctx, &ev);
}

static void tx_free(struct store_tx *tx)
{
	for (size_t i = 0; i < tx->n; i++)
		node_unref(tx->order[i]->node);
	map_free(&tx->ents, free);
	free(tx->order);
	free(tx->delta.c);
	free(tx);
}

int store_db_tx_start(struct store_db *db, const struct store_who *who, struct store_tx **ret)
{
	struct store_tx *tx = calloc(1, sizeof(*tx));

	(void)db;
	if (!tx || map_init(&tx->ents) < 0) {
		free(tx);
		return -ENOMEM;
	}
	tx->priv = who->priv;
	tx->domid = who->domid;
	*ret = tx;
	return 0;
}

/* Whether every path tx touched is as it was then. */
static bool tx_unchanged(const struct store_db *db, const struct store_tx *tx)
{
	for (size_t i = 0; i < tx->n; i++) {
		const struct node *g = global_get(db, tx->order[i]->path);

		if ((g ? g->gen : NO_GEN) != tx->order[i]->seen)
			return false;
	}
	return true;
}

static int tx_commit(struct store_db *db, struct store_tx *tx)
{
	const struct store_who self = { tx->domid, tx->priv, -1, NULL };
	struct ment **fresh;
	int r = 0;

	/* The limit first, as xenstored: retrying would not help. */
	if (!tx->priv) {
		const struct count *d = count_find(&tx->delta, tx->domid);

		if (d && d->n > 0 && owned_seen(db, &self, tx->domid) + d->n >
					     (long)db->lim.nodes_per_domain)
			return -ENOSPC;
	}
	if (!tx_unchanged(db, tx))
		return -EAGAIN;
	for (size_t i = 0; i < tx->delta.n; i++)
		if (count_slot(&db->owned, tx->delta.c[i].domid) < 0)
			return -ENOMEM;
	fresh = calloc(tx->n ? tx->n : 1, sizeof(*fresh));
	if (!fresh)
		return -ENOMEM;
	for (size_t i = 0; i < tx->n; i++) {
		const struct tx_ent *e = tx->order[i];

		if (e->modified && e->node && !global_get(db, e->path) &&
		    !(fresh[i] = ment_new(e->path, strlen(e->path)))) {
			r = -ENOMEM;
			break;
		}
	}
	for (size_t i = 0; r == 0 && i < tx->n; i++) {
		struct tx_ent *e = tx->order[i];
		struct node *g = node_ref(global_get(db, e->path));

		if (!e->modified) {
			node_unref(g);
			continue;
		}
		if (e->node) {
			view_set(db, &self, e->path, fresh[i], e->node);
			fresh[i] = NULL;
			emit(db, &self, e->path, false, e->node, g ? g->perms : NULL,
			     g ? g->nperms : 0);
			e->node = NULL;
		} else if (g) {
			emit(db, &self, e->path, false, g, NULL, 0);
			view_set(db, &self, e->path, NULL, NULL);
		}
		node_unref(g);
	}
	if (r == 0)
		for (size_t i = 0; i < tx->delta.n; i++)
			count_add(&db->owned, tx->delta.c[i].domid, tx->delta.c[i].n);
	for (size_t i = 0; i < tx->n; i++)
		free(fresh[i]);
	free(fresh);
	return r;
}

int store_db_tx_end(struct store_db *db, struct store_tx *tx, bool commit)
{
	int r = commit ? tx_commit(db, tx) : 0;

	tx_free(tx);
	return r;
}

unsigned long store_db_owned(const struct store_db *db, unsigned domid)
{
	const struct count *c = count_find(&db->owned, domid);

	return c && c->n > 0 ? (unsigned long)c->n : 0;
}

size_t store_db_nnodes(const struct store_db *db)
{
	return db->nodes.n;
}

int store_db_forget_domain(struct store_db *db, unsigned domid)
{
	struct store_perm *p = NULL;
	size_t cap = 0;

	if (count_slot(&db->owned, 0) < 0 || count_slot(&db->owned, domid) < 0)
		return -ENOMEM;
	for (size_t b = 0; b < db->nodes.nb; b++)
		for (struct ment *m = db->nodes.b[b]; m; m = m->next) {
			struct node *n = m->val, *nn;
			size_t k = 0;
			bool hit = n->perms[0].id == domid;

			for (size_t i = 1; i < n->nperms; i++)
				hit |= n->perms[i].id == domid;
			if (!hit)
				continue;
			if (cap < n->nperms) {
				struct store_perm *q = realloc(p, n->nperms * sizeof(*q));

				if (!q) {
					free(p);
					return -ENOMEM;
				}
				p = q;
				cap = n->nperms;
			}
			p[k++] = n->perms[0];
			if (p[0].id == domid)
				p[0].id = 0;
			for (size_t i = 1; i < n->nperms; i++)
				if (n->perms[i].id != domid)
					p[k++] = n->perms[i];
			nn = node_make(p, k, n->data, n->datalen, n->children, n->childlen);
			if (!nn) {
				free(p);
				return -ENOMEM;
			}
			nn->gen = db->gen++;
			if (n->perms[0].id == domid) {
				count_add(&db->owned, domid, -1);
				count_add(&db->owned, 0, 1);
			}
			node_unref(n);
			m->val = nn;
		}
	free(p);
	return 0;
}

static void node_free_val(void *v)
{
	node_unref(v);
}

int store_db_new(const struct store_limits *lim, store_event_fn fn, void *ctx,
		 struct store_db **ret)
{
	static const char *const initial[] = { "/tool/xenstored", "/local/domain/0" };
	static const struct store_perm n0 = { 0, STORE_PERM_NONE };
	const struct store_who dom0 = { 0, true, -1, NULL };
	struct store_db *db = calloc(1, sizeof(*db));
	struct node *root;
	struct ment *m;

	if (!db)
		return -ENOMEM;
	if (lim)
		db->lim = *lim;
	else
		store_default_limits(&db->lim);
	db->gen = 1;
	db->special[0].name = "@introduceDomain";
	db->special[1].name = "@releaseDomain";
	for (size_t i = 0; i < 2; i++) {
		db->special[i].perms = malloc(sizeof(n0));
		if (!db->special[i].perms)
			goto fail;
		db->special[i].perms[0] = n0;
		db->special[i].n = 1;
	}
	root = node_make(&n0, 1, NULL, 0, NULL, 0);
	m = ment_new("/", 1);
	if (map_init(&db->nodes) < 0 || count_slot(&db->owned, 0) < 0 || !root || !m) {
		node_unref(root);
		free(m);
		goto fail;
	}
	view_set(db, &dom0, "/", m, root);
	count_add(&db->owned, 0, 1);
	for (size_t i = 0; i < sizeof(initial) / sizeof(initial[0]); i++)
		if (store_db_mkdir(db, &dom0, initial[i]) < 0)
			goto fail;
	db->fn = fn;
	db->ctx = ctx;
	*ret = db;
	return 0;
fail:
	store_db_free(db);
	return -ENOMEM;
}

void store_db_free(struct store_db *db)
{
	if (!db)
		return;
	map_free(&db->nodes, node_free_val);
	free(db->owned.c);
	for (size_t i = 0; i < 2; i++)
		free(db->special[i].perms);
	free(db);
}
