/*
 * The backend as a whole: the host functions exported to each domain (a
 * pvpci_device each, the guest's view through one pciif per domain) and
 * one event loop serving every connected frontend.  The daemon drives it;
 * tests embed it.
 *
 * A frontend connects through a transport (local: the socket given to
 * pvpci_backend_listen); its ops are answered as they come, one event
 * loop for all, and an op it left waiting on its page (for a backend
 * that died) is answered as it connects.  What each guest has been shown
 * is kept beside the saved state (DIR/<bdf>.guest) while a frontend has
 * it, for a backend restarted under it (PVPCI_EXPORT_KEEP).  When a frontend goes away its functions are brought back
 * as its guest found them (D0, reset, saved state restored, a fresh
 * engine) and wait for its next connection.  Unexport and free restore and
 * release every function.
 */
#ifndef PVPCI_BACKEND_H
#define PVPCI_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvpci/api.h"
#include "pvpci/bdf.h"
#include "pvpci/device.h"
#include "pvpci/hostdev.h"
#include "pvpci/ratelimit.h"
#include "pvpci/topology.h"

struct pvpci_backend;
struct pvpci_chan;
struct pvpci_recorder;
struct pvpci_hv;

struct pvpci_backend_cfg {
	struct pvpci_host *host;	/* not owned */
	enum pvpci_topo_mode mode;
	struct pvpci_device_opts dev;	/* state dir, engine options, reset, quirks */
	bool verbose;			/* log every op, as pciback's verbose_request */
	int aer_timeout_ms;		/* 0: 300 s, as pciback */
	/* With a store, a frontend's hello only grants its page and event
	 * channel (it gets their numbers back); xenbus connects them with
	 * pvpci_backend_connect once the frontend has published them.
	 * Without, a hello connects at once. */
	bool via_store;
	/* Every function as PVPCI_EXPORT_SHARED_INTX: exported even when its
	 * INTx is shared with another host function (not security supported). */
	bool allow_shared_intx;
	/* How xenbus's connect reaches the page and event channel a frontend
	 * published (via_store): NULL, those it granted over the local
	 * socket; on Xen pvpci_xen_connect with connect_ctx the struct
	 * pvpci_xen (transport.h).  On failure nothing is left mapped and
	 * errbuf says why. */
	int (*connect)(void *ctx, unsigned domid, uint32_t ref, uint32_t port, struct pvpci_chan **ret,
		       char *errbuf, size_t errlen);
	void *connect_ctx;
	/* Interrupts for MSI and MSI-X: NULL, numbers of the backend's own
	 * per domain; on Xen the hypervisor (not owned), whose pirqs each
	 * domain gets (pvpci_irq_xen). */
	struct pvpci_hv *hv;
	void (*log)(void *ctx, int level, const char *msg);	/* syslog levels; NULL: silent */
	void *log_ctx;
	/* What guests and clients can make the backend say, limited per
	 * source: each domain (its functions' engines, its ops' warnings,
	 * hellos refused for it) and the socket's clients before they say
	 * which domain they are.  Zero: 10 messages per 5 s, the real
	 * clock. */
	struct pvpci_ratelimit_cfg log_limit;
	/* Limits on what the toolstack asks for; 0: the defaults
	 * (PVPCI_BACKEND_MAX_DOMAINS, PVPCI_BACKEND_MAX_FUNCS). */
	unsigned max_domains;		/* domains with functions */
	unsigned max_funcs;		/* functions of one domain */
	/* Every op, function and frontend event goes to it (record.h:
	 * pvpcid --record).  Not owned; NULL: none. */
	struct pvpci_recorder *record;
	/* After answering an op, watch the page this many microseconds for
	 * the frontend's next one before going back to the loop (the kick
	 * stays taken meanwhile: on Xen the port stays masked), at most
	 * PVPCI_BACKEND_POLL_OPS ops a turn.  0: never (each op waits for its
	 * kick).  Costs CPU only right after an op, never when idle. */
	unsigned poll_us;
	/* Called when a frontend of domid granted a page over the local
	 * socket (via_store), for xenbus to connect one it was waiting for
	 * (a frontend that kept its page across our restart grants it again:
	 * pvpci_local_regrant).  NULL: none. */
	void (*granted)(void *ctx, unsigned domid);
	void *granted_ctx;
};

#define PVPCI_BACKEND_MAX_DOMAINS	1024
#define PVPCI_BACKEND_MAX_FUNCS		256	/* 32 virtual slots x 8 functions */
#define PVPCI_BACKEND_POLL_OPS		64	/* ops of one frontend a turn, polling */
#define PVPCI_BACKEND_POLL_US		200	/* pvpcid's --poll-us: KVM's halt_poll_ns */

PVPCI_API int pvpci_backend_new(const struct pvpci_backend_cfg *cfg, struct pvpci_backend **ret,
				char *errbuf, size_t errlen);
/* Drop every frontend, restore and release every function, free b. */
PVPCI_API void pvpci_backend_free(struct pvpci_backend *b);
/* Free b as its process's death would: every channel closed (unmapped,
 * unbound), nothing else touched: the functions as their guests left
 * them, their saved states and guests' views in the state directory, the
 * pirqs mapped.  For tests of what a restarted backend takes over.
 * NULL is fine. */
PVPCI_API void pvpci_backend_abandon(struct pvpci_backend *b);

/* What pvpci_backend_export's flags ask for (0: neither). */
#define PVPCI_EXPORT_PERMISSIVE		1u	/* writes to bytes no register covers reach it */
#define PVPCI_EXPORT_SHARED_INTX	2u	/* exported even when its INTx line is shared */
/* An earlier run exported it to this domain and died while its guest kept
 * it (the frontend still connected): taken over as it is
 * (pvpci_device_adopt: nothing restored or reset), the guest's view and
 * its MSI / MSI-X interrupts as that run kept them (DIR/<bdf>.guest);
 * the domain then waits for its frontend's page (pvpci_backend_connect)
 * and answers the op it finds waiting there.  -ENOENT when that run saved
 * no state for it. */
#define PVPCI_EXPORT_KEEP		4u

/*
 * Export host function host to domain domid at vslot (vpci, slot;
 * PVPCI_VSLOT_ANY to choose), with flags: bind it (saving its config
 * space), and give the guest a fresh view.  -EBUSY when it is exported
 * already (to any domain); -ENOSPC when domid has max_funcs functions
 * already, or is new and max_domains domains have some; -EPERM when its
 * INTx is on a line another host function uses
 * (pvpci_host_intx_sharers: not security supported by Xen), unless
 * PVPCI_EXPORT_SHARED_INTX or cfg.allow_shared_intx says to accept that
 * (then a warning is logged); other errors as pvpci_device_bind and
 * pvpci_topo_add.  *ret_guest (may be NULL) is where the guest sees it.
 */
PVPCI_API int pvpci_backend_export(struct pvpci_backend *b, unsigned domid,
				   const struct pvpci_bdf *host, int vslot, unsigned flags,
				   struct pvpci_bdf *ret_guest, char *errbuf, size_t errlen);
/* Restore and release host; -ENOENT when domid does not have it. */
PVPCI_API int pvpci_backend_unexport(struct pvpci_backend *b, unsigned domid,
				     const struct pvpci_bdf *host, char *errbuf, size_t errlen);

/* Every function of domid restored and released (its frontend dropped). */
PVPCI_API void pvpci_backend_unexport_all(struct pvpci_backend *b, unsigned domid);

/*
 * What an earlier run left half done: every function with a state file
 * in the state directory that b exports to nobody and that ours(ctx, bdf)
 * says is the backend's to give back (the daemon: the toolstack has it
 * assignable) is restored from its file and released, the file removed.
 * A run killed while it released a function (or between an attach's
 * save and its rollback) leaves one.  Each is logged; returns how many
 * were released.
 */
PVPCI_API int pvpci_backend_release_leftovers(struct pvpci_backend *b, bool (*ours)(void *ctx,
					      const struct pvpci_bdf *bdf), void *ctx);

/* Listen for local frontends on a Unix socket at path. */
PVPCI_API int pvpci_backend_listen(struct pvpci_backend *b, const char *path, char *errbuf,
				   size_t errlen);

/*
 * The event loop: an fd that is readable when there is work, the longest
 * the caller may wait before calling dispatch anyway (-1: no deadline),
 * and one round of work (never blocks).  pvpci_backend_run waits up to
 * timeout_ms (-1: no limit; a deadline of the backend's shortens it) for
 * work and does it, in the one system call that waits: a caller with fds
 * of its own gives them to pvpci_backend_watch and calls only run, where
 * waiting on pvpci_backend_fd and then calling dispatch costs two.
 * Return 0 or a negative errno.
 */
PVPCI_API int pvpci_backend_fd(const struct pvpci_backend *b);
PVPCI_API int pvpci_backend_next_timeout(const struct pvpci_backend *b);
PVPCI_API int pvpci_backend_dispatch(struct pvpci_backend *b);
PVPCI_API int pvpci_backend_run(struct pvpci_backend *b, int timeout_ms);
/*
 * Wait for fd in the loop too (a daemon's signalfd, its xenbus fd): once
 * it is readable, dispatch and run call fn(ctx) at the end of their round,
 * after the backend's own work, so fn may connect, disconnect or export.
 * fn must take what made fd readable, or it is called again next round.
 * fd stays the caller's and in the loop for the backend's life; at most
 * 8.  -EINVAL (fd < 0 or no fn), -ENOSPC, or epoll's negative errno.
 */
PVPCI_API int pvpci_backend_watch(struct pvpci_backend *b, int fd, void (*fn)(void *ctx),
				  void *ctx);

PVPCI_API enum pvpci_topo_mode pvpci_backend_mode(const struct pvpci_backend *b);

/* Frontends connected now. */
PVPCI_API size_t pvpci_backend_nfronts(const struct pvpci_backend *b);

/*
 * For xenbus (via_store): connect domain domid's frontend through the page
 * and event channel it granted as ref and port, whether or not anything
 * is exported to it yet (as pciback attaches a device with no function).
 * -ENOENT (no such grant from that domain over the local socket), -EBUSY
 * (connected already), or what cfg.connect returned.
 * Disconnect drops its frontend as if it had gone away (its functions
 * reset and restored for the next); no-op when not connected.
 */
PVPCI_API int pvpci_backend_connect(struct pvpci_backend *b, unsigned domid, uint32_t ref,
				    uint32_t port, char *errbuf, size_t errlen);
PVPCI_API void pvpci_backend_disconnect(struct pvpci_backend *b, unsigned domid);
/* Whether domid has functions taken over from an earlier run
 * (PVPCI_EXPORT_KEEP) whose frontend has not connected since.  A
 * disconnect resets them as any guest's that leaves. */
PVPCI_API bool pvpci_backend_kept(const struct pvpci_backend *b, unsigned domid);
/*
 * Connect c (a channel made in this process: pvpci_local_pair) as domain
 * c->domid's frontend, as pvpci_backend_connect does a granted one: what
 * a replay or a test drives the backend through.  On success the backend
 * owns c; errors as pvpci_backend_connect's, c still the caller's.
 */
PVPCI_API int pvpci_backend_attach(struct pvpci_backend *b, struct pvpci_chan *c, char *errbuf,
				   size_t errlen);
PVPCI_API bool pvpci_backend_connected(const struct pvpci_backend *b, unsigned domid);
/* The host functions exported to domid (at most max written); how many. */
PVPCI_API size_t pvpci_backend_exports(const struct pvpci_backend *b, unsigned domid,
				       struct pvpci_bdf *ret, size_t max);
/* The host function domid sees at guest; -ENOENT when none. */
PVPCI_API int pvpci_backend_host_of(const struct pvpci_backend *b, unsigned domid,
				    const struct pvpci_bdf *guest, struct pvpci_bdf *ret_host);
/* The engine of host as domid's guest sees it now (it is rebuilt for
 * each frontend); NULL when domid does not have host. */
PVPCI_API struct pvpci_cs *pvpci_backend_engine(const struct pvpci_backend *b, unsigned domid,
						const struct pvpci_bdf *host);
/* The root buses domid's frontend scans (domain << 8 | bus), ascending;
 * returns how many (at most max written). */
PVPCI_API size_t pvpci_backend_roots(const struct pvpci_backend *b, unsigned domid, uint32_t *ret,
				     size_t max);

/*
 * An uncorrectable error on host, reported to its guest as pciback's
 * pcistub_error_detected and friends do: aer_detected with the channel
 * state, then mmio or slot reset as the frontend answers, then resume;
 * each step waits for the frontend's answer up to aer_timeout_ms.  The
 * outcome is logged.  -ENOENT (not exported), -ENOTCONN (no frontend),
 * -EOPNOTSUPP (the frontend has no AER handler: pciback would kill the
 * guest), -EBUSY (one in flight).
 */
PVPCI_API int pvpci_backend_aer(struct pvpci_backend *b, const struct pvpci_bdf *host, int state);
/* Whether an AER sequence pvpci_backend_aer started still waits for a
 * frontend's answer (it ends when the frontend answers the last step, a
 * step times out, or the frontend goes away). */
PVPCI_API bool pvpci_backend_aer_busy(const struct pvpci_backend *b);
/* The last AER sequence's outcome for tests: "detected:need_reset,slotreset:recovered,resume"
 * and so on; "" when none ran. */
PVPCI_API const char *pvpci_backend_aer_outcome(const struct pvpci_backend *b);

#endif
