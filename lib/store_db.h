/*
 * The store's database: nodes named by path, each with a value, a
 * permission list and its children's names, and a generation count that
 * changes whenever the node does; transactions; per-domain node counts and
 * the limits unprivileged callers meet.  Private to lib/: it knows nothing
 * of sockets or of the wire format (store_server.c speaks the protocol and
 * delivers watch events to connections).
 *
 * Semantics are xenstored's (tools/xenstore of Xen):
 * - a node is created with its missing parents, each inheriting its
 *   parent's permissions, with the creator as owner when the creator is
 *   unprivileged;
 * - a node that cannot be read looks the same as one that does not exist,
 *   unless the nearest existing parent gives the right asked for;
 * - a transaction sees each node as it was when the transaction first
 *   touched it, and its commit fails with -EAGAIN when any node it read
 *   or wrote (existing or not) was changed outside it meanwhile.
 *
 * Every function returns 0 or a negative errno, the errno xenstored would
 * send.  Pointers handed back stay valid until the next change made by
 * anyone or the end of the caller's transaction.
 */
#ifndef PVPCI_STORE_DB_H
#define PVPCI_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_path.h"

struct store_db;
struct store_tx;

/* Who asks. */
struct store_who {
	unsigned domid;
	bool priv;		/* dom0: every right, no limit */
	int target;		/* the domain this one acts for too (SET_TARGET); -1: none */
	struct store_tx *tx;	/* NULL: outside any transaction */
};

/* What unprivileged callers may use; the defaults are xenstored's. */
struct store_limits {
	unsigned nodes_per_domain;	/* nodes a domain owns: 1000, then -ENOSPC */
	unsigned node_size;		/* bytes of a node's record: 2048, then -ENOSPC */
	unsigned perms_per_node;	/* entries of a permission list: 5, then -ENOSPC */
	unsigned tx_nodes;		/* nodes one transaction touches: 1024, then -ENOSPC */
};
void store_default_limits(struct store_limits *l);

/*
 * A change that watches may see: path changed (exact: only watches on
 * path itself see it, as for each node below a removed one).  perms are
 * the node's (as it was, when removed); old its permissions before a
 * change of them (else NULL).  Special events (@introduceDomain,
 * @releaseDomain) carry the special name's permissions.
 */
struct store_event {
	const char *path;
	bool exact;
	const struct store_perm *perms;
	size_t nperms;
	const struct store_perm *old;
	size_t nold;
};
typedef void (*store_event_fn)(void *ctx, const struct store_event *ev);

/* A store holding /, /tool/xenstored and /local/domain/0, all "n0";
 * events go to fn (called during the change, or at a commit). */
int store_db_new(const struct store_limits *lim, store_event_fn fn, void *ctx,
		 struct store_db **ret);
void store_db_free(struct store_db *db);

/* Operations on absolute paths (store_path_canonical makes them). */
int store_db_read(struct store_db *db, const struct store_who *who, const char *path,
		  const char **ret_data, size_t *ret_len);
int store_db_write(struct store_db *db, const struct store_who *who, const char *path,
		   const char *data, size_t len);
/* Creates path (and its parents); nothing when it exists. */
int store_db_mkdir(struct store_db *db, const struct store_who *who, const char *path);
/* Removes path and everything below it; nothing when path is absent but
 * its parent exists. */
int store_db_rm(struct store_db *db, const struct store_who *who, const char *path);
/* The children's names, each nul-terminated, in the order they came. */
int store_db_directory(struct store_db *db, const struct store_who *who, const char *path,
		       const char **ret_children, size_t *ret_len, uint64_t *ret_gen);
/* Also for @introduceDomain and @releaseDomain. */
int store_db_get_perms(struct store_db *db, const struct store_who *who, const char *path,
		       const struct store_perm **ret_perms, size_t *ret_n);
int store_db_set_perms(struct store_db *db, const struct store_who *who, const char *path,
		       const struct store_perm *perms, size_t n);

/* who's rights under a permission list (STORE_PERM_*). */
unsigned store_perm_for(const struct store_who *who, const struct store_perm *p, size_t n);
/* Whether watcher may see ev: it can read the node (before or after a
 * change of its permissions) or the node's parent. */
bool store_db_watch_permitted(struct store_db *db, const struct store_who *watcher,
			      const struct store_event *ev);
/* Send a special event (@introduceDomain, @releaseDomain) to fn. */
void store_db_fire_special(struct store_db *db, const char *name);

/* A transaction for who (whose limits it keeps); end commits or discards
 * it and frees it whatever comes back: -EAGAIN on a conflict, -ENOSPC
 * when the nodes it creates would take its domain over its limit. */
int store_db_tx_start(struct store_db *db, const struct store_who *who, struct store_tx **ret);
int store_db_tx_end(struct store_db *db, struct store_tx *tx, bool commit);

/* Nodes domid owns; every node. */
unsigned long store_db_owned(const struct store_db *db, unsigned domid);
size_t store_db_nnodes(const struct store_db *db);
/* A domain went away: what it owned goes to dom0 and the entries naming
 * it leave every permission list, so that a new domain with its number
 * inherits nothing (xenstored ignores such entries). */
int store_db_forget_domain(struct store_db *db, unsigned domid);

#endif
