/*
 * What the store's server (store_server.c: sockets, framing, the event
 * loop, watch delivery, domains) and its request handlers (store_ops.c)
 * share.  Private to lib/.
 */
#ifndef PVPCI_STORE_SERVER_H
#define PVPCI_STORE_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "pvpci/store.h"
#include "store_db.h"
#include "store_wire.h"

enum store_ev_kind { SEV_LISTEN, SEV_DOMAIN, SEV_CONN };

struct store_ev {
	enum store_ev_kind kind;
	void *obj;
};

struct store_watch {
	struct store_watch *next;
	char *path;		/* as the store names it */
	char *token;
	bool relative;		/* given relative: events name paths relative too */
};

struct store_ctx {
	struct store_ctx *next;
	uint32_t id;
	struct store_tx *tx;
};

/* An introduced domain: its socket, and whom it acts for too. */
struct store_dom {
	struct store_ev ev;
	unsigned domid;
	int target;		/* -1: none */
	int listen_fd;
	char *sock_path;
	bool dead;		/* released: freed at the end of this round */
	struct store_dom *next;
};

struct store_conn {
	struct store_ev ev;
	int fd;
	unsigned id;		/* for the log */
	struct store_dom *dom;	/* NULL: dom0's socket */
	unsigned domid;
	/* The request coming in: header, then payload (nul after it). */
	struct store_msg_hdr hdr;
	size_t got;
	char body[STORE_PAYLOAD_MAX + 1];
	/* Replies and events going out. */
	char *out;
	size_t out_len, out_off, out_cap;
	bool pollout, paused;
	struct store_watch *watches;
	unsigned nwatches;
	struct store_ctx *txs;
	unsigned ntx;
	uint32_t next_tx;
	bool dead;		/* closed: freed at the end of this round */
	struct store_conn *next;
};

struct pvpci_store {
	struct pvpci_store_limits lim;
	bool verbose;
	void (*log)(void *ctx, int level, const char *msg);
	void *log_ctx;
	struct store_db *db;
	int epfd;
	int listen_fd;
	struct store_ev ev_listen;
	char *sock_path, *dom_dir;
	bool made_dir;
	struct store_conn *conns;
	size_t nconns;
	unsigned next_conn_id;
	struct store_dom *doms;
};

void store_logf(struct pvpci_store *s, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Who c acts for, in transaction tx (NULL: none). */
struct store_who store_conn_who(const struct store_conn *c, struct store_tx *tx);

/* Queue a message to c: a reply to its current request (type, req_id and
 * tx_id echoed), an error reply ("ENOENT"), or a watch event.  A reply
 * longer than the payload limit goes as E2BIG; a connection whose queue
 * passes out_max is dropped. */
void store_reply(struct pvpci_store *s, struct store_conn *c, uint32_t type, const void *data,
		 size_t len);
void store_reply_err(struct pvpci_store *s, struct store_conn *c, int errnum);
void store_reply_ok(struct pvpci_store *s, struct store_conn *c);
void store_send_event(struct pvpci_store *s, struct store_conn *c, const char *path,
		      const char *token);

/* Answer c's request (store_ops.c). */
void store_handle(struct pvpci_store *s, struct store_conn *c);

/* Domains: find an introduced one; introduce (socket made, event fired);
 * release (its connections closed, its socket removed, its permissions
 * forgotten, event fired). */
struct store_dom *store_dom_find(const struct pvpci_store *s, unsigned domid);
int store_dom_introduce(struct pvpci_store *s, unsigned domid);
void store_dom_release(struct pvpci_store *s, struct store_dom *d);

/* Drop c's watches and transactions. */
void store_conn_reset(struct pvpci_store *s, struct store_conn *c);

#endif
