/*
 * The frontend's side of the PV PCI protocol, for people who write
 * frontends and for our tests: what Linux's xen-pcifront does with the
 * shared page, in user space.  One op at a time, as pcifront: fill the op,
 * set XEN_PCIF_active, kick, wait until the backend clears the flag (or
 * give up after the timeout, as pcifront does after 2 s, and answer
 * dev_not_found), copy the answer out.  AER requests from the backend are
 * answered through a handler the caller gives.
 *
 * Owns its channel.  Not thread-safe: one caller at a time.
 */
#ifndef PVPCI_FRONT_H
#define PVPCI_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvpci/api.h"
#include "pvpci/bdf.h"
#include "pvpci/pciif.h"
#include "pvpci/transport.h"

struct pvpci_front;

/*
 * The answer to an AER request: cmd is PVPCI_XEN_PCI_OP_aer_*, state the
 * channel state (aer_detected) and dev the guest address.  Returns a
 * PVPCI_PCI_ERS_RESULT_* value.
 */
typedef int32_t (*pvpci_front_aer_fn)(void *ctx, uint32_t cmd, const struct pvpci_bdf *dev,
				      int32_t state);

struct pvpci_front_opts {
	int timeout_ms;		/* per op; 0: 2000, as pcifront */
	bool verbose;		/* log every op and its answer */
	/*
	 * As Linux's pcifront: the page and event channel are the
	 * frontend's for its whole life, whatever becomes of the backend.
	 * A backend that goes is no error: an op it does not answer in time
	 * fails alone (dev_not_found) and the next is tried; a local channel
	 * is offered again, every 50 ms while an op waits and at
	 * pvpci_front_regrant, to the backend listening at socket
	 * (pvpci_local_regrant), which a restarted pvpcid takes over.
	 * Without: the backend's going breaks the frontend
	 * (pvpci_front_broken) and it must connect anew.
	 */
	bool keep_page;
	const char *socket;	/* keep_page, local transport: the backend's socket; not copied */
	void (*log)(void *ctx, int level, const char *msg);	/* NULL: silent */
	void *log_ctx;
};

/* Connect to a backend's local socket as domain domid (transport.h). */
PVPCI_API int pvpci_front_connect(const char *path, unsigned domid,
				  const struct pvpci_front_opts *o, struct pvpci_front **ret,
				  char *errbuf, size_t errlen);
/* Take over a connected channel (any transport); roots as the store's
 * root-N give them (domain << 8 | bus). */
PVPCI_API int pvpci_front_new(struct pvpci_chan *c, const uint32_t *roots, size_t nroots,
			      const struct pvpci_front_opts *o, struct pvpci_front **ret);
PVPCI_API void pvpci_front_close(struct pvpci_front *f);	/* NULL is fine */

PVPCI_API struct pvpci_chan *pvpci_front_chan(const struct pvpci_front *f);
PVPCI_API size_t pvpci_front_roots(const struct pvpci_front *f, uint32_t *ret, size_t max);
/* The roots to scan from now on (after the backend reconfigured). */
PVPCI_API void pvpci_front_set_roots(struct pvpci_front *f, const uint32_t *roots, size_t n);
/* 0 while the backend answers; the transport's negative errno once an op
 * timed out or the backend went away (every later op then fails at once). */
PVPCI_API int pvpci_front_broken(const struct pvpci_front *f);
/* keep_page: the backend went (the channel's ctl_fd hung up): offer the
 * page to the one listening at opts.socket now.  0 when it took it, or a
 * negative errno: -ECONNREFUSED or -ENOENT while none listens (try again
 * later; an op offers it too), -ENOTCONN without a socket (xen: nothing
 * to offer), -EINVAL without keep_page. */
PVPCI_API int pvpci_front_regrant(struct pvpci_front *f);

/*
 * One op: *op goes to the page whole, the answer comes back whole.
 * Returns op->err; PVPCI_ERR_dev_not_found when the backend did not answer
 * in time or is gone (see pvpci_front_broken).
 */
PVPCI_API int pvpci_front_op(struct pvpci_front *f, struct pvpci_op *op);

/* The ops one by one.  Each returns the op's err (PVPCI_ERR_*, or a
 * negative errno that pciback gives for enable_msix). */
PVPCI_API int pvpci_front_conf_read(struct pvpci_front *f, const struct pvpci_bdf *dev, int off,
				    int size, uint32_t *ret_val);
PVPCI_API int pvpci_front_conf_write(struct pvpci_front *f, const struct pvpci_bdf *dev, int off,
				     int size, uint32_t val);
PVPCI_API int pvpci_front_enable_msi(struct pvpci_front *f, const struct pvpci_bdf *dev,
				     uint32_t *ret_irq);
PVPCI_API int pvpci_front_enable_multi_msi(struct pvpci_front *f, const struct pvpci_bdf *dev,
					   unsigned n, uint32_t *ret_first_irq);
PVPCI_API int pvpci_front_disable_msi(struct pvpci_front *f, const struct pvpci_bdf *dev);
/* entries[i].entry in; entries[i].vector out on success. */
PVPCI_API int pvpci_front_enable_msix(struct pvpci_front *f, const struct pvpci_bdf *dev,
				      struct pvpci_msix_entry *entries, unsigned n);
PVPCI_API int pvpci_front_disable_msix(struct pvpci_front *f, const struct pvpci_bdf *dev);

/*
 * The functions present, as pcifront finds them: every devfn of every
 * root bus whose Vendor ID reads as something other than all-ones or 0.
 * Returns 0 and fills ret[0..*ret_n) (at most max), or a negative errno
 * when the backend stopped answering.
 */
PVPCI_API int pvpci_front_scan(struct pvpci_front *f, struct pvpci_bdf *ret, size_t max,
			       size_t *ret_n);
/* dev's config space read dword by dword into buf (4096 bytes); *ret_size
 * is 4096 when offset 0x100 answers, else 256.  Unreadable dwords read as
 * all-ones, as on a real bus.  0 or a negative errno (backend gone). */
PVPCI_API int pvpci_front_read_config(struct pvpci_front *f, const struct pvpci_bdf *dev,
				      uint8_t *buf, unsigned *ret_size);

/*
 * AER: set (fn non-NULL) or clear XEN_PCIB_AERHANDLER and the handler.
 * pvpci_front_poll waits up to timeout_ms for the backend and answers an
 * AER request when one is waiting: 1 when it answered one, 0 when none
 * came, a negative errno when the backend went away.  pvpci_front_op
 * answers one that arrives while it waits too.
 */
PVPCI_API void pvpci_front_set_aer_handler(struct pvpci_front *f, pvpci_front_aer_fn fn, void *ctx);
PVPCI_API int pvpci_front_poll(struct pvpci_front *f, int timeout_ms);

#endif
