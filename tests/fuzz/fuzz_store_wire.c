/*
 * Fuzz target: pvpci-stored's wire decoder and request handlers, fed as a
 * client feeds them.  Each input gets a fresh in-process server
 * (include/pvpci/store.h) on a Unix socket in a private directory, one
 * connection, and the input's bytes as everything that connection sends,
 * in chunks, before it shuts its side; the server runs between chunks and
 * the client reads whatever comes back.
 *
 * Input: byte 0: bit 0: the connection is domain 1's (dom0 introduces it
 * first on a connection of its own) instead of dom0's; bits 1-3: chunk
 * size 2^n (0: everything at once).  The rest: the bytes sent.
 *
 * Invariants besides memory safety, leaks and undefined behaviour:
 *  - everything the server sends is a whole xsd_sockmsg with a payload of
 *    at most XENSTORE_PAYLOAD_MAX bytes;
 *  - every complete request gets exactly one answer, in order, echoing
 *    its req_id and tx_id, of its own type or ERROR; an ERROR carries
 *    one of the xsd_errors names and its nul; a WATCH_EVENT carries a
 *    path and a token;
 *  - a request whose length is over the limit gets E2BIG and then the
 *    connection is closed; otherwise the connection is closed only after
 *    the client shut its side, and it is, within a bounded number of
 *    rounds: nothing a client sends makes the server spin or hang.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz_input.h"
#include "pvpci/store.h"
#include "store_path.h"
#include "store_wire.h"

static char dir[64], sock_path[128];

/* Each input's store removes its sockets; the directory goes at exit. */
static void remove_dir(void)
{
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	strcpy(dir, "/tmp/pvpci-fuzz-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
	atexit(remove_dir);
	snprintf(sock_path, sizeof(sock_path), "%s/sock", dir);
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("fuzz_store_wire: connect");
		abort();
	}
	return fd;
}

/* What the client expects and what it got so far. */
struct client {
	int fd;
	bool eof;
	/* the requests, as the input frames them */
	const uint8_t *req;
	size_t req_len, req_off;	/* next request to be answered */
	bool oversized;			/* the stream has a request over the limit */
	bool answered_oversized;
	/* the replies, as a stream */
	uint8_t buf[sizeof(struct store_msg_hdr) + STORE_PAYLOAD_MAX];
	size_t got;
};

static bool known_error(const char *p, size_t len)
{
	for (size_t i = 0; i < store_nerrors; i++)
		if (len == strlen(store_errors[i].name) + 1 && !memcmp(p, store_errors[i].name, len))
			return true;
	return false;
}

/* The next request of the input that is whole, or NULL. */
static const struct store_msg_hdr *next_request(struct client *c, struct store_msg_hdr *h)
{
	if (c->req_len - c->req_off < sizeof(*h))
		return NULL;
	memcpy(h, c->req + c->req_off, sizeof(*h));
	if (h->len > STORE_PAYLOAD_MAX)
		return h;
	if (c->req_len - c->req_off - sizeof(*h) < h->len)
		return NULL;
	return h;
}

static void one_reply(struct client *c, const struct store_msg_hdr *m, const char *payload)
{
	struct store_msg_hdr rq;
	const struct store_msg_hdr *r;

	if (m->type == STORE_MSG_WATCH_EVENT) {
		if (m->req_id || m->tx_id || store_count_strings(payload, m->len) != 2 ||
		    payload[m->len - 1])
			fuzz_fail("a malformed watch event (len %u)", m->len);
		return;
	}
	if (m->type == STORE_MSG_ERROR && (!known_error(payload, m->len)))
		fuzz_fail("an ERROR reply without a known error name (len %u)", m->len);
	if (c->answered_oversized)
		fuzz_fail("a reply after the E2BIG that closes the connection");
	r = next_request(c, &rq);
	if (!r)
		fuzz_fail("a reply (type %u req_id %u) to no request", m->type, m->req_id);
	if (m->req_id != r->req_id || m->tx_id != r->tx_id ||
	    (m->type != r->type && m->type != STORE_MSG_ERROR))
		fuzz_fail("reply type %u req %u tx %u to request type %u req %u tx %u", m->type,
			  m->req_id, m->tx_id, r->type, r->req_id, r->tx_id);
	if (r->len > STORE_PAYLOAD_MAX) {
		if (m->type != STORE_MSG_ERROR || strcmp(payload, "E2BIG"))
			fuzz_fail("an oversized request answered otherwise than E2BIG");
		c->answered_oversized = true;
		return;
	}
	c->req_off += sizeof(*r) + r->len;
}

/* Read what the server sent; check each whole message. */
static void drain(struct client *c)
{
	const size_t hl = sizeof(struct store_msg_hdr);

	while (!c->eof) {
		struct store_msg_hdr m;
		ssize_t n = recv(c->fd, c->buf + c->got, sizeof(c->buf) - c->got, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0 && errno == ECONNRESET)
			n = 0;
		if (n < 0) {
			perror("fuzz_store_wire: recv");
			abort();
		}
		if (n == 0) {
			if (c->got)
				fuzz_fail("the connection closed in the middle of a message");
			c->eof = true;
			return;
		}
		c->got += (size_t)n;
		while (c->got >= hl) {
			memcpy(&m, c->buf, hl);
			if (m.len > STORE_PAYLOAD_MAX)
				fuzz_fail("a message with a payload of %u bytes", m.len);
			if (c->got < hl + m.len)
				break;
			one_reply(c, &m, (const char *)c->buf + hl);
			memmove(c->buf, c->buf + hl + m.len, c->got - hl - m.len);
			c->got -= hl + m.len;
		}
	}
}

/* Domain 1 introduced through a dom0 connection, which stays open. */
static int introduce(struct pvpci_store *s)
{
	static const char payload[] = "1\0" "0\0" "1";
	struct store_msg_hdr h = { STORE_MSG_INTRODUCE, 1, 0, sizeof(payload) };
	uint8_t buf[sizeof(h) + sizeof(payload)], reply[64];
	int fd = connect_to(sock_path);
	size_t got = 0;

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), payload, sizeof(payload));
	if (send(fd, buf, sizeof(buf), MSG_NOSIGNAL) != (ssize_t)sizeof(buf))
		abort();
	for (int i = 0; i < 100 && got < sizeof(h) + 3; i++) {
		ssize_t n;

		pvpci_store_dispatch(s);
		n = recv(fd, reply + got, sizeof(reply) - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
	}
	memcpy(&h, reply, sizeof(h));
	if (got != sizeof(h) + 3 || h.type != STORE_MSG_INTRODUCE) {
		fprintf(stderr, "fuzz_store_wire: dom0 could not introduce domain 1\n");
		abort();
	}
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvpci_store_cfg cfg = { .socket_path = sock_path };
	struct pvpci_store *s;
	struct client *c = calloc(1, sizeof(*c));
	uint8_t opt = size ? data[0] : 0;
	size_t chunk = opt & 0x0e ? (size_t)1 << ((opt >> 1) & 7) : SIZE_MAX, sent = 0;
	unsigned long rounds = 0, limit;
	char err[256], path[128];
	int dom0 = -1;
	bool shut = false;

	if (size)
		data++, size--;
	limit = 1000 + size / (chunk < size ? chunk : 1) + size / 16;
	if (pvpci_store_new(&cfg, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_store_wire: %s\n", err);
		abort();
	}
	if (opt & 1) {
		dom0 = introduce(s);
		if (pvpci_store_domain_socket(s, 1, path, sizeof(path)) < 0)
			abort();
		c->fd = connect_to(path);
	} else {
		c->fd = connect_to(sock_path);
	}
	c->req = data;
	c->req_len = size;
	while (!c->eof) {
		if (sent < size) {
			size_t k = size - sent < chunk ? size - sent : chunk;
			ssize_t n = send(c->fd, data + sent, k, MSG_DONTWAIT | MSG_NOSIGNAL);

			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EPIPE && errno != ECONNRESET)
				abort();
			else if (n < 0 && errno != EAGAIN)
				sent = size;	/* the server closed: the rest goes nowhere */
		} else if (!shut) {
			shutdown(c->fd, SHUT_WR);
			shut = true;
		}
		pvpci_store_dispatch(s);
		drain(c);
		if (++rounds > limit)
			fuzz_fail("the connection still open after %lu rounds (%zu of %zu bytes sent)",
				  rounds, sent, size);
	}
	/* Closed: for an oversized request, or because the client shut its
	 * side; then every whole request was answered. */
	{
		struct store_msg_hdr h;
		const struct store_msg_hdr *r = next_request(c, &h);

		if (r && r->len > STORE_PAYLOAD_MAX ? !c->answered_oversized : r != NULL)
			fuzz_fail("closed with a request unanswered (type %u len %u)", r->type, r->len);
	}
	close(c->fd);
	if (dom0 >= 0)
		close(dom0);
	pvpci_store_free(s);
	free(c);
	return 0;
}
