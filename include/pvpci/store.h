/*
 * pvpci-stored's engine: a xenstore server speaking the wire protocol of
 * xen/io/xs_wire.h on Unix sockets, for machines without Xen.  Real
 * clients work against it: libxenstore finds it through XENSTORED_PATH,
 * as it finds the real xenstored's socket.
 *
 * Connections to the main socket act for dom0: every right, no limits.
 * A domain gets a socket of its own when dom0 introduces it
 * (XS_INTRODUCE): <domain_dir>/<domid>; connections there act for that
 * domain, see and change only what node permissions give it, find
 * relative paths below /local/domain/<domid>, meet the limits below and
 * are cut off when dom0 releases the domain (XS_RELEASE).  Anyone who
 * can open a socket acts for whom it stands, so both are made 0600.
 *
 * The store lives in memory; it starts with /, /tool/xenstored, /local,
 * /local/domain and /local/domain/0, all owned by dom0 and closed to
 * everyone else ("n0"), as xenstored starts.  Semantics, error names and
 * limits are xenstored's (Xen's tools/xenstore); README.md lists them.
 *
 * The library never prints: it logs through the callback.  One epoll fd
 * serves everything; the embedder polls it and calls dispatch.
 */
#ifndef PVPCI_STORE_H
#define PVPCI_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "pvpci/api.h"

struct pvpci_store;

/* What unprivileged domains may use, and what any connection may queue.
 * The defaults are xenstored's where it has one. */
struct pvpci_store_limits {
	unsigned nodes_per_domain;	/* nodes a domain owns (1000): ENOSPC */
	unsigned node_size;		/* bytes of one node, as xenstored counts (2048): ENOSPC */
	unsigned perms_per_node;	/* entries in a permission list (5): ENOSPC */
	unsigned tx_nodes;		/* nodes one transaction touches (1024): ENOSPC */
	unsigned watches;		/* watches per connection (128): E2BIG */
	unsigned transactions;		/* open transactions per connection (10): ENOSPC */
	unsigned connections;		/* connections at once, all sockets (512): then refused */
	size_t out_max;			/* bytes queued to one connection (8 MiB, 72 KiB at
					 * least): then it is dropped */
};
PVPCI_API void pvpci_store_default_limits(struct pvpci_store_limits *l);

struct pvpci_store_cfg {
	const char *socket_path;	/* dom0's socket; replaced when it exists */
	const char *domain_dir;		/* where domain sockets go; NULL: socket_path + ".d" */
	const struct pvpci_store_limits *limits;	/* NULL: the defaults */
	bool verbose;			/* log every request and its answer (level 7) */
	void (*log)(void *ctx, int level, const char *msg);	/* syslog levels; NULL: silent */
	void *log_ctx;
};

/* Bind the main socket (and make domain_dir when missing) and serve. */
PVPCI_API int pvpci_store_new(const struct pvpci_store_cfg *cfg, struct pvpci_store **ret,
			      char *errbuf, size_t errlen);
/* Close every connection, remove the sockets (and domain_dir when we made
 * it), free s.  NULL is fine. */
PVPCI_API void pvpci_store_free(struct pvpci_store *s);

/*
 * The event loop: an fd readable when there is work, one round of work
 * (never blocks), and run: wait up to timeout_ms (-1: forever) for work
 * and do it.  Return 0 or a negative errno.
 */
PVPCI_API int pvpci_store_fd(const struct pvpci_store *s);
PVPCI_API int pvpci_store_dispatch(struct pvpci_store *s);
PVPCI_API int pvpci_store_run(struct pvpci_store *s, int timeout_ms);

/* Connections now, all sockets. */
PVPCI_API size_t pvpci_store_nconns(const struct pvpci_store *s);
/* Where domain domid's socket is (it exists while the domain is
 * introduced): into buf; -ENAMETOOLONG when it does not fit. */
PVPCI_API int pvpci_store_domain_socket(const struct pvpci_store *s, unsigned domid, char *buf,
					size_t len);

#endif
