/*
 * The store's server (store.h): Unix sockets (dom0's and one per
 * introduced domain), the message framing of xs_wire.h, one epoll loop,
 * queued output, and watch events delivered to the connections whose
 * watches match and whose domains may see them.  What each request means
 * is store_ops.c's; the tree is store_db.c's.
 *
 * A client controls nothing it could grow without bound: a message
 * longer than the payload limit is answered E2BIG and the connection
 * dropped (xenstored drops it silently), requests are read one at a time
 * and a connection that does not read its replies is paused, then dropped
 * when its queue passes out_max.  Connections and domains closed during
 * a round are freed at its end, so that no event of the round finds
 * them gone.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "errmsg.h"
#include "store_server.h"

#define MSGS_PER_ROUND	64		/* requests taken from one connection per round */
#define PAUSE_BYTES	(64 * 1024)	/* queued output that stops reading a connection */
#define OUT_MIN		(PAUSE_BYTES + 2 * (16 + STORE_PAYLOAD_MAX))	/* the least out_max */

void pvpci_store_default_limits(struct pvpci_store_limits *l)
{
	struct store_limits d;

	store_default_limits(&d);
	l->nodes_per_domain = d.nodes_per_domain;
	l->node_size = d.node_size;
	l->perms_per_node = d.perms_per_node;
	l->tx_nodes = d.tx_nodes;
	l->watches = 128;
	l->transactions = 10;
	l->connections = 512;
	l->out_max = 8u << 20;
}

void store_logf(struct pvpci_store *s, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pvpci_vlogf(s->log, s->log_ctx, level, NULL, fmt, ap);
	va_end(ap);
}

struct store_who store_conn_who(const struct store_conn *c, struct store_tx *tx)
{
	return (struct store_who){
		.domid = c->domid,
		.priv = c->dom == NULL,
		.target = c->dom ? c->dom->target : -1,
		.tx = tx,
	};
}

static void ep_mod(struct pvpci_store *s, struct store_conn *c)
{
	struct epoll_event e = {
		.events = (c->paused ? 0 : EPOLLIN) | (c->pollout ? EPOLLOUT : 0),
		.data.ptr = &c->ev,
	};

	epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &e);
}

static void conn_close(struct pvpci_store *s, struct store_conn *c, const char *why)
{
	if (c->dead)
		return;
	store_logf(s, why ? 6 : 7, "connection %u (domain %u) closed%s%s", c->id, c->domid,
		   why ? ": " : "", why ? why : "");
	c->dead = true;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	/* Its watches and transactions go at the end of the round: the
	 * request or the event that closed it may be using them. */
}

void store_conn_reset(struct pvpci_store *s, struct store_conn *c)
{
	while (c->watches) {
		struct store_watch *w = c->watches;

		c->watches = w->next;
		free(w->path);
		free(w->token);
		free(w);
	}
	c->nwatches = 0;
	while (c->txs) {
		struct store_ctx *t = c->txs;

		c->txs = t->next;
		store_db_tx_end(s->db, t->tx, false);
		free(t);
	}
	c->ntx = 0;
}

static void conn_free(struct store_conn *c)
{
	free(c->out);
	free(c);
}

static void queue(struct pvpci_store *s, struct store_conn *c, const struct store_msg_hdr *h,
		  const void *data, size_t len)
{
	size_t need = sizeof(*h) + len;

	if (c->dead)
		return;
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len - c->out_off + need > s->lim.out_max) {
		conn_close(s, c, "it does not read what it is sent");
		return;
	}
	if (c->out_len + need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *n;

		if (c->out_off) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		while (cap < c->out_len + need)
			cap *= 2;
		n = cap > c->out_cap ? realloc(c->out, cap) : c->out;
		if (!n) {
			conn_close(s, c, "out of memory");
			return;
		}
		c->out = n;
		c->out_cap = cap > c->out_cap ? cap : c->out_cap;
	}
	memcpy(c->out + c->out_len, h, sizeof(*h));
	if (len)
		memcpy(c->out + c->out_len + sizeof(*h), data, len);
	c->out_len += need;
}

void store_reply(struct pvpci_store *s, struct store_conn *c, uint32_t type, const void *data,
		 size_t len)
{
	struct store_msg_hdr h = { type, c->hdr.req_id, c->hdr.tx_id, (uint32_t)len };

	if (len > STORE_PAYLOAD_MAX) {
		store_reply_err(s, c, E2BIG);
		return;
	}
	if (s->verbose)
		store_logf(s, 7, "connection %u: %s -> %s%.*s", c->id, store_msg_name(c->hdr.type),
			   type == STORE_MSG_ERROR ? "" : "ok ",
			   (int)(len > 64 ? 64 : len), (const char *)data);
	queue(s, c, &h, data, len);
}

void store_reply_err(struct pvpci_store *s, struct store_conn *c, int errnum)
{
	const char *name = store_err_name(errnum);

	store_reply(s, c, STORE_MSG_ERROR, name, strlen(name) + 1);
}

void store_reply_ok(struct pvpci_store *s, struct store_conn *c)
{
	store_reply(s, c, c->hdr.type, "OK", 3);
}

void store_send_event(struct pvpci_store *s, struct store_conn *c, const char *path,
		      const char *token)
{
	size_t pl = strlen(path) + 1, tl = strlen(token) + 1;
	struct store_msg_hdr h = { STORE_MSG_WATCH_EVENT, 0, 0, (uint32_t)(pl + tl) };
	char buf[STORE_PAYLOAD_MAX];

	/* As xenstored: an event too long to send is not sent. */
	if (pl + tl > STORE_PAYLOAD_MAX)
		return;
	memcpy(buf, path, pl);
	memcpy(buf + pl, token, tl);
	queue(s, c, &h, buf, pl + tl);
}

/* A change from the database: every matching watch of every connection
 * that may see it gets an event. */
static void deliver(void *ctx, const struct store_event *ev)
{
	struct pvpci_store *s = ctx;
	bool special = store_path_special(ev->path);

	for (struct store_conn *c = s->conns; c; c = c->next) {
		int permitted = -1;	/* not asked yet: asking reads the store */

		if (c->dead)
			continue;
		for (struct store_watch *w = c->watches; w; w = w->next) {
			bool match = special || ev->exact ? !strcmp(ev->path, w->path)
							  : store_path_is_child(ev->path, w->path);

			if (!match)
				continue;
			if (permitted < 0) {
				struct store_who who = store_conn_who(c, NULL);

				permitted = store_db_watch_permitted(s->db, &who, ev);
			}
			if (!permitted)
				break;
			store_send_event(s, c, w->relative ? store_path_relative(ev->path, c->domid)
							   : ev->path, w->token);
			if (c->dead)
				break;
		}
	}
}

static int flush(struct pvpci_store *s, struct store_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_close(s, c, "it went away");
			return -EPIPE;
		}
		c->out_off += (size_t)n;
	}
	return 0;
}

/* Send what can go now; poll for the rest; read again once drained. */
static void flush_all(struct pvpci_store *s)
{
	for (struct store_conn *c = s->conns; c; c = c->next) {
		bool pending, paused;

		if (c->dead || (c->out_off == c->out_len && !c->pollout && !c->paused))
			continue;
		if (flush(s, c) < 0)
			continue;
		pending = c->out_off < c->out_len;
		paused = c->out_len - c->out_off > PAUSE_BYTES;
		if (pending != c->pollout || paused != c->paused) {
			c->pollout = pending;
			c->paused = paused;
			ep_mod(s, c);
		}
	}
}

/* Read what is there of one message: < 0 gone, 0 not complete, 1 complete. */
static int read_msg(struct pvpci_store *s, struct store_conn *c)
{
	const size_t hl = sizeof(c->hdr);
	ssize_t n;

	if (c->got < hl) {
		n = recv(c->fd, (char *)&c->hdr + c->got, hl - c->got, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return -1;
		c->got += (size_t)n;
		if (c->got < hl)
			return 0;
		if (c->hdr.len > STORE_PAYLOAD_MAX) {
			store_logf(s, 4, "connection %u (domain %u) sent a payload of %u bytes",
				   c->id, c->domid, c->hdr.len);
			store_reply_err(s, c, E2BIG);
			flush(s, c);
			return -1;
		}
	}
	if (c->got < hl + c->hdr.len) {
		n = recv(c->fd, c->body + (c->got - hl), hl + c->hdr.len - c->got, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return -1;
		c->got += (size_t)n;
		if (c->got < hl + c->hdr.len)
			return 0;
	}
	c->body[c->hdr.len] = '\0';
	c->got = 0;
	return 1;
}

static void do_conn(struct pvpci_store *s, struct store_conn *c)
{
	for (int i = 0; i < MSGS_PER_ROUND && !c->dead; i++) {
		int r = read_msg(s, c);

		if (r < 0) {
			/* Gone, or half-closed: what can still go, goes. */
			flush(s, c);
			conn_close(s, c, NULL);
			return;
		}
		if (r == 0)
			return;
		store_handle(s, c);
		if (c->out_len - c->out_off > PAUSE_BYTES)
			return;
	}
}

static int add_conn(struct pvpci_store *s, int fd, struct store_dom *d)
{
	struct store_conn *c;
	struct epoll_event e = { .events = EPOLLIN };

	if (s->nconns >= s->lim.connections) {
		store_logf(s, 4, "refusing a connection: %zu are open", s->nconns);
		close(fd);
		return -EMFILE;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->ev = (struct store_ev){ SEV_CONN, c };
	c->fd = fd;
	c->id = ++s->next_conn_id;
	c->dom = d;
	c->domid = d ? d->domid : 0;
	c->next_tx = 1;
	e.data.ptr = &c->ev;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
		int r = -errno;

		close(fd);
		free(c);
		return r;
	}
	c->next = s->conns;
	s->conns = c;
	s->nconns++;
	store_logf(s, 7, "connection %u (domain %u) opened", c->id, c->domid);
	return 0;
}

static void do_accept(struct pvpci_store *s, int lfd, struct store_dom *d)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			store_logf(s, 3, "accept: %s", strerror(errno));
		return;
	}
	add_conn(s, fd, d);
}

static int listen_unix(const char *path, int *ret_fd)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	/* Replace a socket left behind, never anything else. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 64) < 0) {
		r = -errno;
		close(fd);
		unlink(path);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int pvpci_store_domain_socket(const struct pvpci_store *s, unsigned domid, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%u", s->dom_dir, domid);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

struct store_dom *store_dom_find(const struct pvpci_store *s, unsigned domid)
{
	for (struct store_dom *d = s->doms; d; d = d->next)
		if (d->domid == domid && !d->dead)
			return d;
	return NULL;
}

int store_dom_introduce(struct pvpci_store *s, unsigned domid)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct store_dom *d;
	struct epoll_event e = { .events = EPOLLIN };
	int r = pvpci_store_domain_socket(s, domid, path, sizeof(path));

	if (r < 0) {
		store_logf(s, 3, "domain %u: socket path too long", domid);
		return r;
	}
	d = calloc(1, sizeof(*d));
	if (!d || !(d->sock_path = strdup(path))) {
		free(d);
		return -ENOMEM;
	}
	d->ev = (struct store_ev){ SEV_DOMAIN, d };
	d->domid = domid;
	d->target = -1;
	r = listen_unix(path, &d->listen_fd);
	if (r == 0) {
		e.data.ptr = &d->ev;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, d->listen_fd, &e) < 0) {
			r = -errno;
			close(d->listen_fd);
			unlink(path);
		}
	}
	if (r < 0) {
		store_logf(s, 3, "domain %u: %s: %s", domid, path, strerror(-r));
		free(d->sock_path);
		free(d);
		return r;
	}
	d->next = s->doms;
	s->doms = d;
	store_logf(s, 6, "domain %u introduced: %s", domid, path);
	store_db_fire_special(s->db, "@introduceDomain");
	return 0;
}

static void dom_close(struct pvpci_store *s, struct store_dom *d)
{
	if (d->listen_fd < 0)
		return;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, d->listen_fd, NULL);
	close(d->listen_fd);
	d->listen_fd = -1;
	unlink(d->sock_path);
}

void store_dom_release(struct pvpci_store *s, struct store_dom *d)
{
	int r;

	dom_close(s, d);
	d->dead = true;
	for (struct store_conn *c = s->conns; c; c = c->next)
		if (c->dom == d)
			conn_close(s, c, "its domain was released");
	for (struct store_dom *o = s->doms; o; o = o->next)
		if (o->target == (int)d->domid)
			o->target = -1;
	r = store_db_forget_domain(s->db, d->domid);
	if (r < 0)
		store_logf(s, 3, "domain %u: forgetting its permissions: %s", d->domid,
			   strerror(-r));
	store_logf(s, 6, "domain %u released", d->domid);
	store_db_fire_special(s->db, "@releaseDomain");
}

/* Free what this round closed. */
static void reap(struct pvpci_store *s)
{
	for (struct store_conn **p = &s->conns; *p;) {
		struct store_conn *c = *p;

		if (c->dead) {
			*p = c->next;
			s->nconns--;
			store_conn_reset(s, c);
			conn_free(c);
		} else {
			p = &c->next;
		}
	}
	for (struct store_dom **p = &s->doms; *p;) {
		struct store_dom *d = *p;

		if (d->dead) {
			*p = d->next;
			free(d->sock_path);
			free(d);
		} else {
			p = &d->next;
		}
	}
}

static char *concat(const char *a, const char *b)
{
	char *r = malloc(strlen(a) + strlen(b) + 1);

	if (r) {
		strcpy(r, a);
		strcat(r, b);
	}
	return r;
}

int pvpci_store_new(const struct pvpci_store_cfg *cfg, struct pvpci_store **ret, char *errbuf,
		    size_t errlen)
{
	struct pvpci_store *s;
	struct store_limits dl;
	struct epoll_event e = { .events = EPOLLIN };
	int r;

	if (!cfg->socket_path || !*cfg->socket_path)
		return pvpci_errf(errbuf, errlen, -EINVAL, "no socket path");
	s = calloc(1, sizeof(*s));
	if (!s)
		return pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
	s->epfd = s->listen_fd = -1;
	if (cfg->limits)
		s->lim = *cfg->limits;
	else
		pvpci_store_default_limits(&s->lim);
	/* Reading pauses at PAUSE_BYTES: answers alone must never reach out_max. */
	if (s->lim.out_max < OUT_MIN)
		s->lim.out_max = OUT_MIN;
	s->verbose = cfg->verbose;
	s->log = cfg->log;
	s->log_ctx = cfg->log_ctx;
	s->sock_path = strdup(cfg->socket_path);
	s->dom_dir = cfg->domain_dir ? strdup(cfg->domain_dir) : concat(cfg->socket_path, ".d");
	dl = (struct store_limits){ s->lim.nodes_per_domain, s->lim.node_size,
				    s->lim.perms_per_node, s->lim.tx_nodes };
	if (!s->sock_path || !s->dom_dir || store_db_new(&dl, deliver, s, &s->db) < 0) {
		r = pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		r = pvpci_errf(errbuf, errlen, -errno, "epoll: %s", strerror(errno));
		goto fail;
	}
	if (mkdir(s->dom_dir, 0700) == 0)
		s->made_dir = true;
	else if (errno != EEXIST) {
		r = pvpci_errf(errbuf, errlen, -errno, "%s: %s", s->dom_dir, strerror(errno));
		goto fail;
	}
	r = listen_unix(s->sock_path, &s->listen_fd);
	if (r < 0) {
		pvpci_errf(errbuf, errlen, r, "%s: %s", s->sock_path,
			   r == -EEXIST ? "exists and is not a socket" : strerror(-r));
		goto fail;
	}
	s->ev_listen = (struct store_ev){ SEV_LISTEN, NULL };
	e.data.ptr = &s->ev_listen;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->listen_fd, &e) < 0) {
		r = pvpci_errf(errbuf, errlen, -errno, "epoll: %s", strerror(errno));
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	pvpci_store_free(s);
	return r;
}

void pvpci_store_free(struct pvpci_store *s)
{
	if (!s)
		return;
	for (struct store_conn *c = s->conns; c; c = c->next)
		conn_close(s, c, NULL);
	for (struct store_dom *d = s->doms; d; d = d->next) {
		dom_close(s, d);
		d->dead = true;
	}
	reap(s);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->sock_path);
	}
	if (s->made_dir)
		rmdir(s->dom_dir);
	if (s->epfd >= 0)
		close(s->epfd);
	store_db_free(s->db);
	free(s->sock_path);
	free(s->dom_dir);
	free(s);
}

int pvpci_store_fd(const struct pvpci_store *s)
{
	return s->epfd;
}

size_t pvpci_store_nconns(const struct pvpci_store *s)
{
	return s->nconns;
}

static int round_of(struct pvpci_store *s, int timeout_ms)
{
	struct epoll_event evs[32];
	int n = epoll_wait(s->epfd, evs, 32, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct store_ev *ev = evs[i].data.ptr;

		switch (ev->kind) {
		case SEV_LISTEN:
			do_accept(s, s->listen_fd, NULL);
			break;
		case SEV_DOMAIN: {
			struct store_dom *d = ev->obj;

			if (!d->dead)
				do_accept(s, d->listen_fd, d);
			break;
		}
		case SEV_CONN: {
			struct store_conn *c = ev->obj;

			if (c->dead)
				break;
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				do_conn(s, c);
			break;
		}
		}
	}
	flush_all(s);
	reap(s);
	return 0;
}

int pvpci_store_dispatch(struct pvpci_store *s)
{
	return round_of(s, 0);
}

int pvpci_store_run(struct pvpci_store *s, int timeout_ms)
{
	return round_of(s, timeout_ms);
}
