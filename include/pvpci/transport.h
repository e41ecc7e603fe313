/*
 * How a frontend and the backend share the page of struct
 * pvpci_sharedinfo and kick each other.  A channel is one connected
 * frontend-backend pair as either side holds it: the mapped page, a way to
 * notify the other side, and a way to wait for it.  What an op means is
 * pciif's business, not the transport's.
 *
 * Transports:
 *   local  the frontend creates the page (a sealed memfd) and two eventfds
 *          (one kick per direction) and hands them to the backend over a
 *          Unix seqpacket socket (SCM_RIGHTS).  The backend answers with the
 *          reference and port numbers the frontend publishes as
 *          `pci-op-ref` and `event-channel`, the way a grant reference and
 *          an event channel port identify them on Xen.
 *   xen    the frontend grants the page (`pci-op-ref`) and allocates an
 *          unbound event channel (`event-channel`) for the backend's
 *          domain; the backend maps the grant with libxengnttab and binds
 *          the port with libxenevtchn (one event channel handle, and so
 *          one fd, per frontend).  Xen masks the port when it fires; the
 *          backend unmasks it (rearm) once it has answered and notified.
 *          A Xen frontend's death is seen through the store: no ctl_fd.
 */
#ifndef PVPCI_TRANSPORT_H
#define PVPCI_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvpci/api.h"
#include "pvpci/pciif.h"

struct pvpci_chan;

struct pvpci_chan_ops {
	const char *name;
	/* Kick the other side.  0 or a negative errno (-EPIPE: it is gone). */
	int (*notify)(struct pvpci_chan *c);
	/* Consume the kicks that made evt_fd readable; never blocks.  1 when
	 * there was one, 0 when none, negative errno when the channel broke. */
	int (*ack)(struct pvpci_chan *c);
	/* Block until the other side kicks (1), timeout_ms passes (0; -1
	 * waits for ever) or the other side goes away (-EPIPE). */
	int (*wait)(struct pvpci_chan *c, int timeout_ms);
	/* After an ack that took a kick (1), once the op is answered and the
	 * other side notified: take kicks again.  NULL: nothing to do (an
	 * eventfd needs no rearming).  0 or a negative errno. */
	int (*rearm)(struct pvpci_chan *c);
	void (*close)(struct pvpci_chan *c);
};

struct pvpci_chan {
	const struct pvpci_chan_ops *ops;
	struct pvpci_sharedinfo *sh;	/* the mapped page */
	int evt_fd;			/* readable when kicked, for an event loop */
	int ctl_fd;			/* readable or hung up when the other side goes; -1: none */
	unsigned domid;			/* the frontend's domain */
	uint32_t ref, port;		/* what the store carries: pci-op-ref, event-channel */
};

static inline int pvpci_chan_notify(struct pvpci_chan *c)
{
	return c->ops->notify(c);
}

static inline int pvpci_chan_ack(struct pvpci_chan *c)
{
	return c->ops->ack(c);
}

static inline int pvpci_chan_wait(struct pvpci_chan *c, int timeout_ms)
{
	return c->ops->wait(c, timeout_ms);
}

static inline int pvpci_chan_rearm(struct pvpci_chan *c)
{
	return c->ops->rearm ? c->ops->rearm(c) : 0;
}

static inline void pvpci_chan_close(struct pvpci_chan *c)
{
	if (c)
		c->ops->close(c);
}

/* ---- local ---- */

#define PVPCI_LOCAL_MAX_ROOTS	32

/*
 * What the backend tells a frontend that connected: status 0 or a
 * negative errno with a message, the reference and port it gave the page
 * and the event channel, and (until the store carries root-N) the root
 * buses to scan, each domain << 8 | bus.
 */
struct pvpci_local_welcome {
	int32_t status;
	uint32_t ref, port;
	uint32_t mode;			/* enum pvpci_topo_mode */
	uint32_t nroots;
	uint32_t roots[PVPCI_LOCAL_MAX_ROOTS];
	char msg[160];
};

/*
 * Frontend: create the page and the eventfds, connect to the backend's
 * socket at path as domain domid and hand them over; wait at most
 * timeout_ms for the answer.  On success *ret is a channel whose page is
 * zeroed and *ret_welcome (may be NULL) holds the answer.  A refusal by
 * the backend returns its status with its message in errbuf.
 */
PVPCI_API int pvpci_local_connect(const char *path, unsigned domid, int timeout_ms,
				  struct pvpci_chan **ret, struct pvpci_local_welcome *ret_welcome,
				  char *errbuf, size_t errlen);

/*
 * Frontend: grant c's page and eventfds again, under the numbers they
 * have (c->ref, c->port), to whichever backend listens at path now: what
 * a frontend that keeps its page when its backend dies does (Linux's
 * pcifront: on Xen the grant and the event channel are the hypervisor's,
 * and a restarted backend maps and binds them again from the store).
 * The page keeps whatever is on it (an op waiting for an answer is
 * answered once the backend connects it again).  c's socket is replaced
 * on success; on failure c is as it was (its old socket hung up) and
 * errbuf says why: -ECONNREFUSED or -ENOENT while no backend listens,
 * -EEXIST when the backend has those numbers in use.
 */
PVPCI_API int pvpci_local_regrant(struct pvpci_chan *c, const char *path, int timeout_ms,
				  char *errbuf, size_t errlen);

/*
 * Both ends of one channel in this process, as a frontend of domain domid
 * and the backend it connected to would hold them (the same page, each
 * side's kicks the other's to wait on, a socket whose close the other
 * sees): for a replay (replay.h) or a test to drive the backend through
 * (pvpci_backend_attach) as a frontend does.  0 or a negative errno.
 */
PVPCI_API int pvpci_local_pair(unsigned domid, struct pvpci_chan **ret_front,
			       struct pvpci_chan **ret_back);

/*
 * Backend: listen on a Unix seqpacket socket at path (an existing socket
 * file is replaced); returns the listening fd or a negative errno.
 */
PVPCI_API int pvpci_local_listen(const char *path, char *errbuf, size_t errlen);
/* Accept one connection (nonblocking, close-on-exec); the fd or -errno
 * (-EAGAIN when none is waiting). */
PVPCI_API int pvpci_local_accept(int listen_fd);
/*
 * Backend: take the frontend's hello on a connection that became
 * readable, without blocking: validates the page (a memfd of at least one
 * page, sealed against shrinking, so it cannot vanish under the backend)
 * and the eventfds (the kicks to the backend must be counted whole at a
 * read: not an eventfd in semaphore mode), maps the page.  On success *ret owns conn_fd (as its
 * ctl_fd) and *ret_domid is the domain the frontend says it is.  -EAGAIN:
 * nothing yet; any other error: a message in errbuf, conn_fd still the
 * caller's (answer with pvpci_local_refuse, then close it).
 */
PVPCI_API int pvpci_local_handshake(int conn_fd, struct pvpci_chan **ret, char *errbuf,
				    size_t errlen);
/* Backend: send the answer (never blocks; a frontend that does not read
 * it loses it).  0 or a negative errno. */
PVPCI_API int pvpci_local_answer(int conn_fd, const struct pvpci_local_welcome *w);

/* ---- xen ---- */

/*
 * What the xen transport asks of Xen's tool libraries, as a table so that
 * tests can stand in for them; the real one (lib/xenlibs.c,
 * pvpci_xen_open) calls libxengnttab and libxenevtchn.  Each returns 0
 * (or what it says) or a negative errno.  Backends embed struct pvpci_xen
 * first.
 */
struct pvpci_xen;
struct pvpci_xen_evtchn;	/* one event channel handle */

struct pvpci_xen_ops {
	/* Map the page domid granted as ref, read and write: one handle for
	 * every channel. */
	int (*map)(struct pvpci_xen *x, uint32_t domid, uint32_t ref, void **ret_page);
	int (*unmap)(struct pvpci_xen *x, void *page);
	/* An event channel handle of its own for one channel; *ret_fd is
	 * readable when a port fired and is never blocked on. */
	int (*evtchn_open)(struct pvpci_xen *x, struct pvpci_xen_evtchn **ret, int *ret_fd);
	void (*evtchn_close)(struct pvpci_xen *x, struct pvpci_xen_evtchn *h);
	/* Bind domid's remote_port: the local port, or a negative errno. */
	int (*bind)(struct pvpci_xen *x, struct pvpci_xen_evtchn *h, uint32_t domid, uint32_t remote_port);
	int (*unbind)(struct pvpci_xen *x, struct pvpci_xen_evtchn *h, uint32_t port);
	int (*notify)(struct pvpci_xen *x, struct pvpci_xen_evtchn *h, uint32_t port);
	/* The local port that fired (masked until unmasked), -EAGAIN when none. */
	int (*pending)(struct pvpci_xen *x, struct pvpci_xen_evtchn *h);
	int (*unmask)(struct pvpci_xen *x, struct pvpci_xen_evtchn *h, uint32_t port);
	void (*close)(struct pvpci_xen *x);
};

struct pvpci_xen {
	const struct pvpci_xen_ops *ops;
};

/*
 * Open Xen's grant and event channel devices (/dev/xen/gntdev,
 * /dev/xen/evtchn).  -ENODEV with "no /dev/xen/gntdev: not a Xen host"
 * where they are missing; other errors say which device refused.
 */
PVPCI_API int pvpci_xen_open(struct pvpci_xen **ret, char *errbuf, size_t errlen);
PVPCI_API void pvpci_xen_close(struct pvpci_xen *x);	/* NULL is fine */
/* Whether this machine has what pvpci_xen_open needs (the default transport). */
PVPCI_API bool pvpci_xen_present(void);

/*
 * Backend: the channel of domain domid's frontend, which granted its page
 * as ref and allocated its event channel as port: map, bind, and hand the
 * fd to the caller's loop (evt_fd; no ctl_fd: the store says when a Xen
 * frontend goes).  ctx is the struct pvpci_xen (the signature of
 * pvpci_backend_cfg.connect).  On failure nothing is left mapped or bound
 * and errbuf says which step failed; a grant that cannot be mapped is
 * never -ENOENT, which the backend keeps for a grant it does not know.
 */
PVPCI_API int pvpci_xen_connect(void *ctx, unsigned domid, uint32_t ref, uint32_t port,
				struct pvpci_chan **ret, char *errbuf, size_t errlen);

#endif
