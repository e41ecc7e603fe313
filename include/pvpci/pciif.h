/*
 * The PV PCI protocol of xen/io/pciif.h, defined here on our own so that
 * the library builds where Xen's headers are not installed; a test checks
 * every size and offset against Xen's header where it is.  The shared page
 * holds one struct xen_pci_sharedinfo; the frontend fills op and sets
 * XEN_PCIF_active, the backend answers and clears it.  AER runs the other
 * way, started by the backend (XEN_PCIB_AERHANDLER / XEN_PCIB_active).
 * Names follow Xen's, with a pvpci_ prefix on the types.
 */
#ifndef PVPCI_PCIIF_H
#define PVPCI_PCIIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvpci/api.h"
#include "pvpci/bdf.h"
#include "pvpci/errors.h"
#include "pvpci/topology.h"

#define PVPCI_XEN_PCI_MAGIC	"7"

/* flags of the shared page */
#define PVPCI_XEN_PCIF_active_bit	0	/* frontend: an op is waiting */
#define PVPCI_XEN_PCIB_AERHANDLER_bit	1	/* frontend: it has an AER handler */
#define PVPCI_XEN_PCIB_active_bit	2	/* backend: an AER op is waiting */
#define PVPCI_XEN_PCIF_active		(1u << PVPCI_XEN_PCIF_active_bit)
#define PVPCI_XEN_PCIB_AERHANDLER	(1u << PVPCI_XEN_PCIB_AERHANDLER_bit)
#define PVPCI_XEN_PCIB_active		(1u << PVPCI_XEN_PCIB_active_bit)

/* op->cmd, from one X-macro so numbers and names cannot drift */
#define PVPCI_XEN_PCI_OPS(X)			\
	X(conf_read,        0)			\
	X(conf_write,       1)			\
	X(enable_msi,       2)			\
	X(disable_msi,      3)			\
	X(enable_msix,      4)			\
	X(disable_msix,     5)			\
	X(aer_detected,     6)			\
	X(aer_resume,       7)			\
	X(aer_mmio,         8)			\
	X(aer_slotreset,    9)			\
	X(enable_multi_msi, 10)

enum pvpci_xen_pci_op {
#define PVPCI_OP_ENUM(name, val) PVPCI_XEN_PCI_OP_##name = (val),
	PVPCI_XEN_PCI_OPS(PVPCI_OP_ENUM)
#undef PVPCI_OP_ENUM
};

/* "conf_read" for 0; NULL for an unknown command. */
PVPCI_API const char *pvpci_op_name(uint32_t cmd);

#define PVPCI_SH_INFO_MAX_VEC	128

struct pvpci_msix_entry {
	uint16_t vector;	/* OUT: the interrupt the backend bound */
	uint16_t entry;		/* IN: the table entry */
};

struct pvpci_op {
	uint32_t cmd;		/* IN: PVPCI_XEN_PCI_OP_* */
	int32_t err;		/* OUT: PVPCI_ERR_* */
	uint32_t domain;	/* IN: which device */
	uint32_t bus;
	uint32_t devfn;
	int32_t offset;		/* IN: config access */
	int32_t size;
	uint32_t value;		/* IN/OUT */
	uint32_t info;		/* IN: MSI-X entry count, MSI vector count */
	struct pvpci_msix_entry msix_entries[PVPCI_SH_INFO_MAX_VEC];
};

struct pvpci_aer_op {
	uint32_t cmd;		/* IN (to the frontend): PVPCI_XEN_PCI_OP_aer_* */
	int32_t err;		/* IN/OUT: the error state, then the frontend's result */
	uint32_t domain;
	uint32_t bus;
	uint32_t devfn;
};

struct pvpci_sharedinfo {
	uint32_t flags;
	struct pvpci_op op;
	struct pvpci_aer_op aer_op;
};

/* The layout is ABI: these are the numbers of Xen's header on every arch. */
_Static_assert(sizeof(struct pvpci_msix_entry) == 4, "msix entry");
_Static_assert(offsetof(struct pvpci_op, msix_entries) == 36, "op header");
_Static_assert(sizeof(struct pvpci_op) == 36 + 4 * PVPCI_SH_INFO_MAX_VEC, "op");
_Static_assert(sizeof(struct pvpci_aer_op) == 20, "aer op");
_Static_assert(offsetof(struct pvpci_sharedinfo, op) == 4, "sharedinfo op");
_Static_assert(offsetof(struct pvpci_sharedinfo, aer_op) == 4 + 36 + 4 * 128, "sharedinfo aer");
_Static_assert(sizeof(struct pvpci_sharedinfo) == 4 + 548 + 20, "sharedinfo");
_Static_assert(sizeof(struct pvpci_sharedinfo) <= 4096, "fits a page");

/* ---- The backend's side of the protocol (lib/pciif.c, lib/irq.c) ---- */

struct pvpci_cs;
struct pvpci_ratelimit;
struct pvpci_recorder;

/* What an MSI or MSI-X enable asks interrupt numbers for. */
struct pvpci_irq_req {
	const struct pvpci_bdf *host;	/* the host function */
	bool msix;			/* MSI-X: any numbers; MSI: consecutive ones */
	unsigned n;			/* how many */
	const uint16_t *entries;	/* MSI-X: the n table entries; MSI: NULL */
	uint64_t table_base;		/* MSI-X: host address of the BAR the table is in (0: unknown) */
};

/*
 * Interrupt numbers for MSI and MSI-X, behind an interface: locally the
 * backend hands out numbers of its own (pvpci_irq_local); on Xen they are
 * the guest's pirqs, mapped by the hypervisor (pvpci_irq_xen).  alloc
 * fills ret[0..req->n) and returns 0 or a negative errno (-ENOSPC when
 * none are left), having taken nothing on failure; release gives back
 * what alloc handed out for the same request (numbers it did not hand
 * out, or gave back already, are left alone).
 */
struct pvpci_irq_ops {
	int (*alloc)(void *ctx, const struct pvpci_irq_req *req, uint32_t *ret);
	void (*release)(void *ctx, const struct pvpci_irq_req *req, const uint32_t *irqs);
	/* Take irqs[0..req->n) as handed out already, by an earlier run
	 * whose guest still has them (on Xen the pirqs stay mapped when the
	 * process that mapped them dies): nothing is mapped, and release
	 * gives them back as its own.  -EEXIST when one is out already,
	 * -ERANGE (local) when one is not a number of the allocator, -ENOSPC
	 * beyond its limit; nothing taken on failure. */
	int (*adopt)(void *ctx, const struct pvpci_irq_req *req, const uint32_t *irqs);
};

/* The local allocator: numbers base .. base + count - 1, lowest free first. */
struct pvpci_irq_local;
/* ctx: a struct pvpci_irq_local */
PVPCI_API extern const struct pvpci_irq_ops pvpci_irq_local_ops;
PVPCI_API int pvpci_irq_local_new(uint32_t base, unsigned count, struct pvpci_irq_local **ret);
PVPCI_API void pvpci_irq_local_free(struct pvpci_irq_local *a);	/* NULL is fine */
PVPCI_API unsigned pvpci_irq_local_in_use(const struct pvpci_irq_local *a);

/*
 * The Xen allocator (lib/irq_xen.c): domid's pirqs, one mapped by the
 * hypervisor hv (not owned) for each MSI-X table entry or for MSI, and
 * unmapped when released; at most max mapped at once.  Multi-message MSI
 * is refused (-EOPNOTSUPP), and MSI-X whose table's BAR has no address
 * (-ENXIO).  Free unmaps whatever is still mapped.
 */
struct pvpci_hv;
struct pvpci_irq_xen;
/* ctx: a struct pvpci_irq_xen */
PVPCI_API extern const struct pvpci_irq_ops pvpci_irq_xen_ops;
PVPCI_API int pvpci_irq_xen_new(struct pvpci_hv *hv, unsigned domid, unsigned max,
				struct pvpci_irq_xen **ret);
PVPCI_API void pvpci_irq_xen_free(struct pvpci_irq_xen *a);	/* NULL is fine */
PVPCI_API unsigned pvpci_irq_xen_in_use(const struct pvpci_irq_xen *a);
/* Free a and leave its pirqs mapped: what the death of the process leaves
 * in Xen (pvpci_backend_abandon).  NULL is fine. */
PVPCI_API void pvpci_irq_xen_abandon(struct pvpci_irq_xen *a);

/*
 * The functions exported to one frontend and the ops on them.  Owns the
 * topology (guest address <-> host BDF) and, per function, the MSI / MSI-X
 * state the ops set up (enabled or not, the interrupts handed out).  Does
 * not own the engines (struct pvpci_cs) it is given, nor the page.
 */
struct pvpci_pciif;

struct pvpci_pciif_cfg {
	enum pvpci_topo_mode mode;
	unsigned domid;				/* for messages */
	const struct pvpci_irq_ops *irq;	/* NULL: MSI / MSI-X ops fail (op_failed) */
	void *irq_ctx;
	bool verbose;				/* log every op, as pciback's verbose_request */
	void (*log)(void *ctx, int level, const char *msg);	/* syslog levels; NULL: silent */
	void *log_ctx;
	/* Warnings the guest causes (a failed MSI enable, answered or not,
	 * at every op) go through it, as pciback's dev_warn_ratelimited;
	 * the verbose lines, asked for, do not.  Not owned; NULL: no limit. */
	struct pvpci_ratelimit *log_limit;
	/* Each op serve() answers goes to it, as sent and as answered
	 * (record.h).  Not owned; NULL: none, and nothing is copied. */
	struct pvpci_recorder *record;
};

PVPCI_API int pvpci_pciif_new(const struct pvpci_pciif_cfg *cfg, struct pvpci_pciif **ret);
/* Unexports everything (as pvpci_pciif_unexport) and frees p.  NULL is fine. */
PVPCI_API void pvpci_pciif_free(struct pvpci_pciif *p);
/* Free p without touching the functions or giving interrupts back: what
 * a crash leaves (pvpci_backend_abandon).  NULL is fine. */
PVPCI_API void pvpci_pciif_abandon(struct pvpci_pciif *p);
PVPCI_API const struct pvpci_topo *pvpci_pciif_topo(const struct pvpci_pciif *p);

/*
 * Export host function host, whose guest view is cs (not owned; must stay
 * until unexported), at vslot (vpci; PVPCI_VSLOT_ANY to choose).  Errors
 * as pvpci_topo_add, with a message in errbuf.
 */
PVPCI_API int pvpci_pciif_export(struct pvpci_pciif *p, const struct pvpci_bdf *host, int vslot,
				 struct pvpci_cs *cs, struct pvpci_bdf *ret_guest, char *errbuf,
				 size_t errlen);
/* Disable MSI / MSI-X the ops enabled, give their interrupts back, drop
 * an AER request posted for host and forget host.  -ENOENT when it was not
 * exported. */
PVPCI_API int pvpci_pciif_unexport(struct pvpci_pciif *p, const struct pvpci_bdf *host);

/*
 * The message interrupts the ops gave host's guest: MSI or MSI-X on (at
 * most one of them) and the numbers handed out, in the order the guest
 * got them.  What a backend keeps so that a run after it can take them
 * over (pvpci_pciif_intr_adopt) under a guest that still uses them.
 */
struct pvpci_pciif_intr {
	bool msi, msix;
	unsigned n;
	uint32_t irqs[PVPCI_SH_INFO_MAX_VEC];
};
/* -ENOENT when host is not exported. */
PVPCI_API int pvpci_pciif_intr_get(const struct pvpci_pciif *p, const struct pvpci_bdf *host,
				   struct pvpci_pciif_intr *ret);
/*
 * Take in as what the ops gave host's guest: the allocator adopts the
 * numbers (irq_ops.adopt), the hardware is not touched (the capability
 * is on there already), and a later disable, unexport or free gives them
 * back as any.  Nothing on, or host's ops have interrupts out already:
 * nothing to do (0 / -EBUSY).  -ENOENT (not exported), -EINVAL (both on,
 * n 0 or over 128, MSI with more than 32), -EOPNOTSUPP (no allocator
 * that adopts), or the allocator's error; nothing taken on failure.
 */
PVPCI_API int pvpci_pciif_intr_adopt(struct pvpci_pciif *p, const struct pvpci_bdf *host,
				     const struct pvpci_pciif_intr *in);
/*
 * One op, already copied out of the shared page: look the device up by
 * (domain, bus, devfn), act, and fill op->err (PVPCI_ERR_*, or for
 * enable_msix a negative errno as Linux pciback gives), op->value and, for
 * a successful enable_msix, msix_entries[0..value_in).vector.  Never reads
 * anything but *op.
 */
PVPCI_API void pvpci_pciif_do_op(struct pvpci_pciif *p, struct pvpci_op *op);

/*
 * The backend's half of the shared page, for the transport's event loop:
 * when XEN_PCIF_active is set, read the op once (after the flag, with
 * acquire ordering) into a private copy, pvpci_pciif_do_op on the copy,
 * write back err, value and (enable_msix) the vectors of the entries it
 * validated, then clear XEN_PCIF_active with release ordering.  Returns 1
 * when an op was answered (the caller notifies the frontend), 0 when none
 * was waiting.
 */
PVPCI_API int pvpci_pciif_serve(struct pvpci_pciif *p, struct pvpci_sharedinfo *sh);

/* ---- AER, started by the backend (pciback's common_process) ---- */

/* pci_channel_state_t, carried in aer_op.err towards the frontend */
enum { PVPCI_PCI_CHANNEL_IO_NORMAL = 1, PVPCI_PCI_CHANNEL_IO_FROZEN = 2,
       PVPCI_PCI_CHANNEL_IO_PERM_FAILURE = 3 };
/* pci_ers_result_t, the frontend's answer in aer_op.err */
enum { PVPCI_PCI_ERS_RESULT_NONE = 1, PVPCI_PCI_ERS_RESULT_CAN_RECOVER = 2,
       PVPCI_PCI_ERS_RESULT_NEED_RESET = 3, PVPCI_PCI_ERS_RESULT_DISCONNECT = 4,
       PVPCI_PCI_ERS_RESULT_RECOVERED = 5, PVPCI_PCI_ERS_RESULT_NO_AER_DRIVER = 6 };

/*
 * Post cmd (aer_detected, aer_mmio, aer_slotreset or aer_resume) for host
 * function host with err (the channel state for aer_detected) and set
 * XEN_PCIB_active; the caller then notifies and waits, calling
 * pvpci_pciif_aer_poll on each event, pvpci_pciif_aer_cancel on timeout.
 * Returns 0, -ENOENT (not exported), -EINVAL (not an AER command),
 * -EOPNOTSUPP (the frontend did not set XEN_PCIB_AERHANDLER: pciback
 * would kill the guest) or -EBUSY (one is already in flight).
 */
PVPCI_API int pvpci_pciif_aer_post(struct pvpci_pciif *p, struct pvpci_sharedinfo *sh,
				   const struct pvpci_bdf *host, uint32_t cmd, int32_t err);
/*
 * 1 when the frontend has answered (cleared XEN_PCIB_active): *ret is its
 * result, validated against what the command allows (anything else counts
 * as PVPCI_PCI_ERS_RESULT_DISCONNECT, with a warning); 0 while it has not.
 * Only the err field is read back; the rest of aer_op is the backend's.
 */
PVPCI_API int pvpci_pciif_aer_poll(struct pvpci_pciif *p, struct pvpci_sharedinfo *sh,
				   int32_t *ret);
/* No answer in time: clear XEN_PCIB_active, result NONE (as pciback). */
PVPCI_API void pvpci_pciif_aer_cancel(struct pvpci_pciif *p, struct pvpci_sharedinfo *sh);

#endif
