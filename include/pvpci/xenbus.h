/*
 * The xenbus side of PV PCI: the store keys and states Linux pciback,
 * pcifront and libxl use, the backend's state machine (xenbus_back.c) and
 * the frontend's (xenbus_front.c).  Both talk to the store through
 * libxenstore, whichever store it is (xenstored on Xen, pvpci-stored
 * elsewhere: XENSTORED_PATH says where).
 *
 * Layout (seed 004, libxl_pci.c):
 *   backend  /local/domain/0/backend/pci/<domid>/0/
 *            frontend frontend-id online state domain num_devs
 *            key-N dev-N vdev-N state-N opts-N vdevfn-N root_num root-N
 *   frontend /local/domain/<domid>/device/pci/0/
 *            backend backend-id state pci-op-ref event-channel magic
 */
#ifndef PVPCI_XENBUS_H
#define PVPCI_XENBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvpci/api.h"
#include "pvpci/backend.h"
#include "pvpci/front.h"

struct xs_handle;

enum pvpci_xb_state {
	PVPCI_XB_Unknown = 0,
	PVPCI_XB_Initialising = 1,
	PVPCI_XB_InitWait = 2,
	PVPCI_XB_Initialised = 3,
	PVPCI_XB_Connected = 4,
	PVPCI_XB_Closing = 5,
	PVPCI_XB_Closed = 6,
	PVPCI_XB_Reconfiguring = 7,
	PVPCI_XB_Reconfigured = 8,
};

/* "Connected" for 4; "?" for anything else. */
PVPCI_API const char *pvpci_xb_state_name(int state);

#define PVPCI_XB_BACKEND_ROOT	"/local/domain/0/backend/pci"
#define PVPCI_XB_BDF_FMT	"%04x:%02x:%02x.%01x"	/* dev-N, key-N (libxl's PCI_BDF) */
#define PVPCI_XB_VDEV_FMT	"%04x:%02x:%02x.%02x"	/* vdev-N (pciback) */

/*
 * What xl's pci-assignable-add records, as libxl does:
 * /libxl/pci/DDDD-BB-DD-F/{driver_path,name,domid}.  pvpcid exports a
 * function only when it has such a node (seized: assignable) and sets
 * the nodes of its --hide list itself at start.
 */
#define PVPCI_XB_ASSIGNABLE_ROOT	"/libxl/pci"
PVPCI_API void pvpci_xb_assignable_path(const struct pvpci_bdf *bdf, char *buf, size_t len);

/* The two directories of domid's PCI device. */
PVPCI_API void pvpci_xb_backend_path(unsigned domid, char *buf, size_t len);
PVPCI_API void pvpci_xb_frontend_path(unsigned domid, char *buf, size_t len);

/* dir/key, malloc'd, or NULL (errno set) when absent. */
PVPCI_API char *pvpci_xb_read(struct xs_handle *xs, const char *dir, const char *key);
/* dir/key = the printf of fmt, in transaction t (0: none); false with
 * errno set when the store refuses. */
PVPCI_API bool pvpci_xb_printf(struct xs_handle *xs, uint32_t t, const char *dir, const char *key,
			       const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* dir/state, PVPCI_XB_Unknown when absent or not a number. */
PVPCI_API int pvpci_xb_read_state(struct xs_handle *xs, const char *dir);

/*
 * The backend's xenbus driver: watches the backend directories of PCI
 * devices under PVPCI_XB_BACKEND_ROOT and runs each through the states of
 * Linux pciback (probe -> InitWait; setup: export dev-N, write vdev-N,
 * state-N, roots -> Initialised; attach when the frontend is Initialised
 * and its magic is "7" -> Connected; Reconfiguring -> attach or detach
 * the entries whose state-N says so -> Reconfigured -> Connected; the
 * frontend's Closing / Closed -> disconnect; the directory removed ->
 * every function restored and released).  Errors are reported as
 * xenbus_dev_fatal does: "<errno> <message>" in
 * /local/domain/0/error/backend/pci/<domid>/0/error, state Closing.
 * Owns neither the store handle nor the backend.
 */
struct pvpci_xbback;

PVPCI_API int pvpci_xbback_new(struct xs_handle *xs, struct pvpci_backend *b,
			       void (*log)(void *ctx, int level, const char *msg), void *log_ctx,
			       struct pvpci_xbback **ret, char *errbuf, size_t errlen);
PVPCI_API void pvpci_xbback_free(struct pvpci_xbback *x);	/* NULL is fine */
/* The store's fd (readable when a watch fired) and the work it brings;
 * never blocks.  0 or a negative errno (the store went away). */
PVPCI_API int pvpci_xbback_fd(const struct pvpci_xbback *x);
PVPCI_API int pvpci_xbback_dispatch(struct pvpci_xbback *x);
/* Look at every device again, as at a watch: after a frontend granted a
 * page over the local socket (pvpci_backend_cfg.granted; never from
 * inside pvpci_backend_dispatch), which a device taken over under a
 * connected frontend may be waiting for.  NULL is fine. */
PVPCI_API void pvpci_xbback_rescan(struct pvpci_xbback *x);

/*
 * The frontend's xenbus driver, as pcifront: when a frontend before it
 * left the backend Connected or reconfiguring (it died without closing),
 * first walk the backend to Closed (Closing, Closed), as Linux's
 * xenbus_reset_frontend does after a kexec; then grant the page and event
 * channel (local transport at socket), publish pci-op-ref,
 * event-channel and magic in one transaction, Initialised; when the
 * backend is Connected read root_num / root-N, Connected.  On the
 * backend's Reconfiguring drop the functions whose state-N is Closing
 * and go Reconfiguring; on Reconfigured rescan and go Connected.
 * Waits at most timeout_ms for the backend.
 */
struct pvpci_xbfront;

PVPCI_API int pvpci_xbfront_open(struct xs_handle *xs, unsigned domid, const char *socket,
				 const struct pvpci_front_opts *o, int timeout_ms,
				 struct pvpci_xbfront **ret, char *errbuf, size_t errlen);
/*
 * The backend went away (its channel hung up) and may come back: connect
 * anew, as at open (the backend walked to Closed first, which the next
 * backend answers, then a new page granted, published and connected),
 * waiting at most timeout_ms at each step.  0, or a negative errno with
 * the frontend Closed.  A frontend opened with opts.keep_page needs none
 * of it: it keeps its page, as Linux's pcifront (front.h).
 */
PVPCI_API int pvpci_xbfront_reconnect(struct pvpci_xbfront *x, char *errbuf, size_t errlen);
/* Closed in the store, the channel closed.  NULL is fine. */
PVPCI_API void pvpci_xbfront_close(struct pvpci_xbfront *x);
PVPCI_API struct pvpci_front *pvpci_xbfront_front(const struct pvpci_xbfront *x);
PVPCI_API int pvpci_xbfront_fd(const struct pvpci_xbfront *x);
/* Follow the backend: 1 when the frontend rescanned (devices may have
 * come or gone), 0 otherwise, -EPIPE when the backend closed, or what
 * the rescan callback returned when it failed. */
PVPCI_API int pvpci_xbfront_dispatch(struct pvpci_xbfront *x);
/* Called on Reconfigured once the new roots are set and before the
 * frontend says Connected, as pcifront scans before it switches state
 * (the toolstack goes on, and may take the device away, once it has):
 * whoever scans the buses does it here.  0, or a negative errno that
 * dispatch returns, the frontend left Reconfiguring. */
PVPCI_API void pvpci_xbfront_set_rescan(struct pvpci_xbfront *x, int (*rescan)(void *ctx,
					struct pvpci_front *f), void *ctx);

#endif
