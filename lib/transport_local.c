/*
 * The local transport: a memfd page and two eventfds, handed from the
 * frontend to the backend over a Unix seqpacket socket.  The socket stays
 * open for the life of the channel: when either side goes, the other sees
 * it hang up.
 *
 * The backend does not trust what it receives: the page must be a memfd
 * of at least a page, sealed against shrinking (else the frontend could
 * truncate it and fault the backend), the kicks must be eventfds, and the
 * backend's own reads and writes of them must never block (they are
 * nonblocking; a frontend that clears O_NONBLOCK on the shared file is cut
 * off at its next kick).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "errmsg.h"
#include "pvpci/transport.h"

#define HELLO_MAGIC	"pvpcilo1"
#define PAGE_BYTES	4096

/* Version 1 is the first 16 bytes; version 2 (a page granted again, see
 * pvpci_local_regrant) adds the numbers it was granted under. */
struct hello {
	char magic[8];
	uint32_t version;
	uint32_t domid;
	uint32_t ref, port;
};

#define HELLO_V1_LEN	offsetof(struct hello, ref)

enum { FD_PAGE, FD_TO_BACK, FD_TO_FRONT, NFDS };

struct local_chan {
	struct pvpci_chan c;
	int fds[NFDS];
	int sock;
	bool backend;
};

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

/* The fd whose kicks go to the other side. */
static int out_fd(const struct local_chan *l)
{
	return l->fds[l->backend ? FD_TO_FRONT : FD_TO_BACK];
}

static int local_notify(struct pvpci_chan *c)
{
	struct local_chan *l = (struct local_chan *)c;
	uint64_t one = 1;
	int fl = fcntl(out_fd(l), F_GETFL);

	if (fl < 0 || !(fl & O_NONBLOCK))
		return -EPROTO;	/* tampered with: a write could block */
	if (write(out_fd(l), &one, sizeof(one)) == sizeof(one))
		return 0;
	/* A full counter means kicks are pending already. */
	return errno == EAGAIN ? 0 : -errno;
}

static int local_ack(struct pvpci_chan *c)
{
	uint64_t n;
	int fl = fcntl(c->evt_fd, F_GETFL);

	if (fl < 0 || !(fl & O_NONBLOCK))
		return -EPROTO;
	if (read(c->evt_fd, &n, sizeof(n)) == sizeof(n))
		return 1;
	return errno == EAGAIN ? 0 : -errno;
}

/* Whether the other side has gone: the socket hung up or reads EOF.
 * Anything else arriving on it is not part of the protocol and dropped. */
static bool peer_gone(int sock)
{
	char b[64];
	ssize_t n;

	for (;;) {
		n = recv(sock, b, sizeof(b), MSG_DONTWAIT);
		if (n == 0)
			return true;
		if (n < 0)
			return errno != EAGAIN && errno != EINTR;
	}
}

static int local_wait(struct pvpci_chan *c, int timeout_ms)
{
	struct local_chan *l = (struct local_chan *)c;
	struct pollfd p[2] = {
		{ .fd = c->evt_fd, .events = POLLIN },
		{ .fd = l->sock, .events = POLLIN },
	};
	int r;

	for (;;) {
		r = local_ack(c);
		if (r)
			return r;
		r = poll(p, 2, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return 0;
		if ((p[1].revents & (POLLHUP | POLLERR)) || ((p[1].revents & POLLIN) && peer_gone(l->sock)))
			return -EPIPE;
	}
}

static void local_close(struct pvpci_chan *c)
{
	struct local_chan *l = (struct local_chan *)c;

	if (c->sh)
		munmap(c->sh, PAGE_BYTES);
	close_fds(l->fds, NFDS);
	if (l->sock >= 0)
		close(l->sock);
	free(l);
}

static const struct pvpci_chan_ops local_ops = {
	.name = "local",
	.notify = local_notify,
	.ack = local_ack,
	.wait = local_wait,
	.close = local_close,
};

/* Takes fds[] and sock; on failure closes them all. */
static int chan_make(int *fds, int sock, bool backend, struct pvpci_chan **ret)
{
	struct local_chan *l = calloc(1, sizeof(*l));
	void *map;

	if (!l) {
		close_fds(fds, NFDS);
		close(sock);
		return -ENOMEM;
	}
	memcpy(l->fds, fds, sizeof(l->fds));
	l->sock = sock;
	l->backend = backend;
	l->c.ops = &local_ops;
	l->c.evt_fd = fds[backend ? FD_TO_BACK : FD_TO_FRONT];
	l->c.ctl_fd = sock;
	map = mmap(NULL, PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fds[FD_PAGE], 0);
	if (map == MAP_FAILED) {
		int e = -errno;

		local_close(&l->c);
		return e;
	}
	l->c.sh = map;
	*ret = &l->c;
	return 0;
}

static bool is_eventfd(int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return strcmp(link, "anon_inode:[eventfd]") == 0;
}

/*
 * What a read of a nonblocking eventfd gives after 2 is added to it: 2 or
 * more when it hands out its whole count at a read, as the backend's one
 * read a round relies on; 1 in semaphore mode, where a single write of
 * 2^64 - 2 by the frontend would keep the backend's loop busy a round a
 * read for ever (XSA-332); 0 when the frontend filled or drained it
 * meanwhile.  Asked of the eventfd itself: fdinfo says so only since
 * Linux 6.5.
 */
static uint64_t kick_probe(int fd)
{
	uint64_t two = 2, n = 0;

	if (write(fd, &two, sizeof(two)) != sizeof(two) || read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static int check_page(int fd, char *errbuf, size_t errlen)
{
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0)
		return pvpci_errf(errbuf, errlen, -EPROTO, "the page is not a memfd");
	if (!(seals & F_SEAL_SHRINK))
		return pvpci_errf(errbuf, errlen, -EPROTO, "the page is not sealed against shrinking");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < PAGE_BYTES)
		return pvpci_errf(errbuf, errlen, -EPROTO, "the page is smaller than %d bytes", PAGE_BYTES);
	return 0;
}

/* ---- backend ---- */

int pvpci_local_listen(const char *path, char *errbuf, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, e;

	if (strlen(path) >= sizeof(a.sun_path))
		return pvpci_errf(errbuf, errlen, -ENAMETOOLONG, "%s: socket path too long", path);
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return pvpci_errf(errbuf, errlen, -errno, "socket: %s", strerror(errno));
	/* Replace a socket left by an earlier run; never anything else. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0) {
		e = -errno;
		close(fd);
		return pvpci_errf(errbuf, errlen, e, "%s: %s", path, strerror(-e));
	}
	return fd;
}

int pvpci_local_accept(int listen_fd)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	return fd < 0 ? -errno : fd;
}

int pvpci_local_handshake(int conn_fd, struct pvpci_chan **ret, char *errbuf, size_t errlen)
{
	struct hello h;
	union {
		char buf[CMSG_SPACE(sizeof(int) * NFDS * 2)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = &h, .iov_len = sizeof(h) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	int fds[NFDS * 2], nfds = 0, err, dup_sock;
	uint64_t probe;
	ssize_t n;

	n = recvmsg(conn_fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN ? -EAGAIN : pvpci_errf(errbuf, errlen, -errno, "recv: %s",
							      strerror(errno));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < k && nfds < NFDS * 2; i++)
			memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	if (n == 0) {
		err = pvpci_errf(errbuf, errlen, -EPIPE, "the frontend hung up before its hello");
		goto fail;
	}
	if (n < (ssize_t)HELLO_V1_LEN || memcmp(h.magic, HELLO_MAGIC, 8) ||
	    !((h.version == 1 && (size_t)n == HELLO_V1_LEN) || (h.version == 2 && (size_t)n == sizeof(h)))) {
		err = pvpci_errf(errbuf, errlen, -EPROTO, "not a pvpci hello (%zd bytes)", n);
		goto fail;
	}
	if (h.version == 2 && (!h.ref || !h.port)) {
		err = pvpci_errf(errbuf, errlen, -EPROTO, "a page granted again under no number");
		goto fail;
	}
	if (nfds != NFDS || (m.msg_flags & MSG_CTRUNC)) {
		err = pvpci_errf(errbuf, errlen, -EPROTO, "the hello carries %d descriptors, not %d",
				 nfds, NFDS);
		goto fail;
	}
	err = check_page(fds[FD_PAGE], errbuf, errlen);
	if (err)
		goto fail;
	for (int i = FD_TO_BACK; i <= FD_TO_FRONT; i++) {
		int fl = fcntl(fds[i], F_GETFL);

		if (!is_eventfd(fds[i]) || fl < 0) {
			err = pvpci_errf(errbuf, errlen, -EPROTO, "event channel %d is not an eventfd", i);
			goto fail;
		}
		if (!(fl & O_NONBLOCK) && fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) < 0) {
			err = pvpci_errf(errbuf, errlen, -errno, "eventfd: %s", strerror(errno));
			goto fail;
		}
	}
	probe = kick_probe(fds[FD_TO_BACK]);
	if (probe < 2) {
		err = pvpci_errf(errbuf, errlen, -EPROTO,
				 probe ? "event channel %d is an eventfd in semaphore mode"
				       : "event channel %d takes no kick", FD_TO_BACK);
		goto fail;
	}
	/* The channel owns a socket of its own; conn_fd stays the caller's. */
	dup_sock = fcntl(conn_fd, F_DUPFD_CLOEXEC, 0);
	if (dup_sock < 0) {
		err = pvpci_errf(errbuf, errlen, -errno, "dup: %s", strerror(errno));
		goto fail;
	}
	err = chan_make(fds, dup_sock, true, ret);
	if (err)
		return pvpci_errf(errbuf, errlen, err, "mapping the page: %s", strerror(-err));
	(*ret)->domid = h.domid;
	if (h.version == 2) {
		(*ret)->ref = h.ref;
		(*ret)->port = h.port;
	}
	return 0;
fail:
	close_fds(fds, nfds);
	return err;
}

int pvpci_local_answer(int conn_fd, const struct pvpci_local_welcome *w)
{
	if (send(conn_fd, w, sizeof(*w), MSG_DONTWAIT | MSG_NOSIGNAL) == sizeof(*w))
		return 0;
	return errno ? -errno : -EIO;
}

/* ---- frontend ---- */

static int front_fds(int *fds)
{
	fds[FD_TO_BACK] = fds[FD_TO_FRONT] = -1;
	fds[FD_PAGE] = memfd_create("pvpci-page", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fds[FD_PAGE] < 0)
		return -errno;
	if (ftruncate(fds[FD_PAGE], PAGE_BYTES) < 0 ||
	    fcntl(fds[FD_PAGE], F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail;
	for (int i = FD_TO_BACK; i <= FD_TO_FRONT; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fds[i] < 0)
			goto fail;
	}
	return 0;
fail:;
	int e = -errno;

	close_fds(fds, NFDS);
	return e;
}

int pvpci_local_pair(unsigned domid, struct pvpci_chan **ret_front, struct pvpci_chan **ret_back)
{
	int fds[NFDS], back[NFDS], sv[2], err;
	struct pvpci_chan *f;

	err = front_fds(fds);
	if (err)
		return err;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
		err = -errno;
		close_fds(fds, NFDS);
		return err;
	}
	for (int i = 0; i < NFDS; i++)
		back[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
	if (back[FD_PAGE] < 0 || back[FD_TO_BACK] < 0 || back[FD_TO_FRONT] < 0) {
		err = -errno;
		close_fds(back, NFDS);
		close_fds(fds, NFDS);
		close(sv[0]);
		close(sv[1]);
		return err;
	}
	err = chan_make(fds, sv[0], false, &f);
	if (err) {
		close_fds(back, NFDS);
		close(sv[1]);
		return err;
	}
	err = chan_make(back, sv[1], true, ret_back);
	if (err) {
		local_close(f);
		return err;
	}
	f->domid = (*ret_back)->domid = domid;
	*ret_front = f;
	return 0;
}

/*
 * Connect to the backend at path, hand it h and the page and eventfds of
 * fds (copies: ours stay open), and wait for its answer into *w.  The
 * connected socket, or a negative errno with errbuf saying why.
 */
static int hello_exchange(const char *path, const struct hello *h, size_t hlen, const int *fds,
			  int timeout_ms, struct pvpci_local_welcome *w, char *errbuf, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	union {
		char buf[CMSG_SPACE(sizeof(int) * NFDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)h, .iov_len = hlen };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct pollfd p;
	struct cmsghdr *c;
	int sock, err;
	ssize_t n;

	if (strlen(path) >= sizeof(a.sun_path))
		return pvpci_errf(errbuf, errlen, -ENAMETOOLONG, "%s: socket path too long", path);
	strcpy(a.sun_path, path);
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return pvpci_errf(errbuf, errlen, -errno, "socket: %s", strerror(errno));
	if (connect(sock, (struct sockaddr *)&a, sizeof(a)) < 0) {
		err = pvpci_errf(errbuf, errlen, -errno, "%s: %s (is the backend running?)", path,
				 strerror(errno));
		goto fail;
	}
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * NFDS);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * NFDS);
	if (sendmsg(sock, &m, MSG_NOSIGNAL) != (ssize_t)hlen) {
		err = pvpci_errf(errbuf, errlen, -errno, "sending the hello: %s", strerror(errno));
		goto fail;
	}
	p = (struct pollfd){ .fd = sock, .events = POLLIN };
	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		err = pvpci_errf(errbuf, errlen, n ? -errno : -ETIMEDOUT,
				 "the backend did not answer within %d ms", timeout_ms);
		goto fail;
	}
	memset(w, 0, sizeof(*w));
	n = recv(sock, w, sizeof(*w), MSG_DONTWAIT);
	if (n != sizeof(*w)) {
		err = pvpci_errf(errbuf, errlen, n < 0 ? -errno : -EPROTO,
				 "the backend's answer is %zd bytes, not %zu", n, sizeof(*w));
		goto fail;
	}
	w->msg[sizeof(w->msg) - 1] = '\0';
	if (w->status) {
		err = pvpci_errf(errbuf, errlen, w->status < 0 ? w->status : -EPROTO, "backend: %s",
				 w->msg[0] ? w->msg : strerror(-w->status));
		goto fail;
	}
	if (w->nroots > PVPCI_LOCAL_MAX_ROOTS)
		w->nroots = PVPCI_LOCAL_MAX_ROOTS;
	return sock;
fail:
	close(sock);
	return err;
}

int pvpci_local_connect(const char *path, unsigned domid, int timeout_ms, struct pvpci_chan **ret,
			struct pvpci_local_welcome *ret_welcome, char *errbuf, size_t errlen)
{
	struct hello h = { .magic = HELLO_MAGIC, .version = 1, .domid = domid };
	struct pvpci_local_welcome w;
	int fds[NFDS], sock, err;

	err = front_fds(fds);
	if (err)
		return pvpci_errf(errbuf, errlen, err, "creating the page: %s", strerror(-err));
	sock = hello_exchange(path, &h, HELLO_V1_LEN, fds, timeout_ms, &w, errbuf, errlen);
	if (sock < 0) {
		close_fds(fds, NFDS);
		return sock;
	}
	err = chan_make(fds, sock, false, ret);
	if (err)
		return pvpci_errf(errbuf, errlen, err, "mapping the page: %s", strerror(-err));
	(*ret)->domid = domid;
	(*ret)->ref = w.ref;
	(*ret)->port = w.port;
	if (ret_welcome)
		*ret_welcome = w;
	return 0;
}

int pvpci_local_regrant(struct pvpci_chan *c, const char *path, int timeout_ms, char *errbuf,
			size_t errlen)
{
	struct local_chan *l = (struct local_chan *)c;
	struct hello h = { .magic = HELLO_MAGIC, .version = 2, .domid = c->domid, .ref = c->ref,
			   .port = c->port };
	struct pvpci_local_welcome w;
	int sock;

	if (c->ops != &local_ops || l->backend)
		return pvpci_errf(errbuf, errlen, -EINVAL, "not a local frontend's channel");
	sock = hello_exchange(path, &h, sizeof(h), l->fds, timeout_ms, &w, errbuf, errlen);
	if (sock < 0)
		return sock;
	if (w.ref != c->ref || w.port != c->port) {
		close(sock);
		return pvpci_errf(errbuf, errlen, -EPROTO, "the backend took page %u as %u", c->ref, w.ref);
	}
	if (l->sock >= 0)
		close(l->sock);
	l->sock = c->ctl_fd = sock;
	return 0;
}
