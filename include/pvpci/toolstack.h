/*
 * The toolstack's side of PV PCI, as xl and libxl (libxl_pci.c, Xen 4.17)
 * do it: the store writes of pci-assignable-add / -remove / -list,
 * pci-attach, pci-detach and pci-list, and the waits on the backend and
 * frontend that go with them.  A libxenstore client (toolstack.c): it
 * works against xenstored on Xen as against pvpci-stored.  The one host
 * thing it does is seize a function for a stub driver through sysfs and
 * give it back (toolstack_sysfs.c); it knows nothing of config space.
 *
 * What it writes (xenbus.h has the layout):
 *   /libxl/pci/DDDD-BB-DD-F/{driver_path,name,domid}: assignable-add makes
 *     the node (driver_path: the driver it was taken from, "" when none),
 *     attach sets domid, detach removes it, assignable-remove removes the
 *     node.  pvpcid exports only functions that have one.
 *   the first attach to a domain: one transaction makes the backend
 *     directory (perms n0 r<domid>) and the frontend's (n<domid> r0),
 *     their keys and entry 0; a later one: entry N, num_devs, state 7.
 *   detach: state-N 5 and state 7; once the backend is back at 4, entry N
 *     removed and the later ones moved down (pvpci_ts_remove_entry); the
 *     last one: both directories removed, and their parents left empty up
 *     to /local/domain/<id>.
 *
 * On Xen (pvpci_ts_opts.hv), assignable-add quarantines a function it
 * seized (XSA-302, as libxl: Xen's DOMID_IO holds it, so that its DMA
 * reaches nothing), assignable-remove gives it back to dom0 first; attach
 * moves it from the quarantine to the guest and detach's de-assignment
 * has Xen put it back.  Attach also gives the guest what libxl gives a PV
 * guest: iomem permission for each memory BAR and the ROM,
 * ioport permission for each I/O BAR, the legacy interrupt mapped as its
 * pirq with irq permission; a detach takes them back once the entry is
 * removed (libxl does it before it asks the frontend; a detach refused
 * then would leave the guest a function it cannot reach).
 *
 * Nothing is left behind when the backend or frontend does not answer in
 * time: an attach removes what it wrote (the backend releases a function
 * no dev-N lists any more); a detach puts the entry back as it was, or
 * with force removes it anyway.  A detach whose backend let the function
 * go (Reconfigured) and whose frontend then fell silent removes the entry:
 * putting it back would list a function nobody exports.
 *
 * Nothing here prints: errors are a negative errno and a message in the
 * caller's buffer; progress goes to the log callback.  The store handle
 * stays the caller's.
 */
#ifndef PVPCI_TOOLSTACK_H
#define PVPCI_TOOLSTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvpci/api.h"
#include "pvpci/bdf.h"

struct xs_handle;

#define PVPCI_TS_TIMEOUT_MS	10000	/* libxl__wait_for_backend: 100 x 100 ms */

/*
 * xl's PCI spec: BDF[@VSLOT][,permissive=0|1][,msitranslate=0|1]
 * [,power_mgmt=0|1][,seize=0|1][,rdm_policy=strict|relaxed], and pvpci's
 * own [,allow_shared_intx=0|1].  VSLOT is hex (0-1f).  The function
 * wildcard ("BB:DD.*") is refused.
 */
struct pvpci_pci_spec {
	struct pvpci_bdf bdf;
	unsigned vdevfn;	/* VSLOT << 3, as libxl has it; 0: the backend places it */
	bool permissive;
	bool msitranslate;
	bool power_mgmt;
	bool seize;		/* assignable-add it first when it is not assignable */
	bool rdm_relaxed;	/* rdm_policy; strict unless said */
	/* Export it even when its INTx line is shared with another host
	 * device, which Xen does not security-support: opts-N gets
	 * ",allow_shared_intx=1" (xl knows no such key). */
	bool allow_shared_intx;
};

/* 0, or -EINVAL with *ret untouched and errbuf saying why. */
PVPCI_API int pvpci_pci_spec_parse(const char *s, struct pvpci_pci_spec *ret, char *errbuf,
				   size_t errlen);

/*
 * Where a function is seized and given back.  "none" (the default): the
 * store only, for sim hosts and backends that hold functions themselves;
 * "sim[:...]" means the same, and on Xen that the functions are simulated:
 * their guest is given nothing of the host function that may have their
 * address.  "sysfs[:ROOT]": driver binding under ROOT
 * (/sys by default): unbind from the driver, driver_override = pci-stub,
 * bind to pci-stub; and back.  Bridges are refused; under the real /sys a
 * function bound to a driver that is not a stub is refused unless force.
 */
struct pvpci_ts_host {
	bool sim;		/* "sim[:...]": simulated functions; on Xen nothing given at attach */
	bool sysfs;
	bool force;
	char root[256];
};

PVPCI_API int pvpci_ts_host_parse(const char *spec, struct pvpci_ts_host *ret, char *errbuf,
				  size_t errlen);

/* Seize bdf for pci-stub.  ret_driver_path: the canonical path of the
 * driver it was bound to, "" when none or a stub already.  On failure the
 * function is left bound as it was, as far as sysfs lets us. */
PVPCI_API int pvpci_ts_sysfs_seize(const struct pvpci_ts_host *h, const struct pvpci_bdf *bdf,
				   char *ret_driver_path, size_t len, char *errbuf, size_t errlen);
/* Unbind bdf from its stub (a function some other driver took meanwhile
 * is left alone), clear driver_override, and when rebind_to is a driver
 * directory under ROOT, bind it there. */
PVPCI_API int pvpci_ts_sysfs_release(const struct pvpci_ts_host *h, const struct pvpci_bdf *bdf,
				     const char *rebind_to, char *errbuf, size_t errlen);

/*
 * What a PV guest is given on Xen to reach a function, as libxl's
 * pci_add_dm_done reads it: the BARs and the ROM from
 * ROOT/bus/pci/devices/BDF/resource (its first 7 lines, those with a
 * start), the legacy interrupt from .../irq; and whether its capability
 * list (.../config) has MSI-X.  -ENOENT when the function is not there (a
 * simulated one); other errors say which file is wrong.
 */
#define PVPCI_TS_RESOURCES	7

struct pvpci_ts_resources {
	struct {
		uint64_t start, end;	/* inclusive */
		bool io;		/* I/O ports; else memory */
	} r[PVPCI_TS_RESOURCES];
	unsigned n;
	unsigned irq;			/* 0: none */
	bool msix;			/* an MSI-X capability (false when config is unreadable) */
};

PVPCI_API int pvpci_ts_sysfs_resources(const char *root, const struct pvpci_bdf *bdf,
				       struct pvpci_ts_resources *ret, char *errbuf, size_t errlen);

struct pvpci_hv;

struct pvpci_ts_opts {
	int timeout_ms;		/* each wait on the backend or frontend; 0: PVPCI_TS_TIMEOUT_MS */
	bool force;		/* detach: remove the entry even when nobody answers */
	const struct pvpci_ts_host *host;	/* where seize=1 seizes; NULL: "none" */
	/* On Xen (NULL elsewhere): attach gives the guest the function's
	 * memory, I/O ports and legacy interrupt (the resources under the
	 * sysfs ROOT of host, else /sys), detach and a rolled-back attach take
	 * them back; assignable-add and -remove put a function seized through
	 * sysfs in Xen's quarantine and take it out. */
	struct pvpci_hv *hv;
	void (*log)(void *ctx, int level, const char *msg);	/* syslog levels; NULL: silent */
	void *log_ctx;
};

/*
 * pci-assignable-add: seize the function (o->host; o NULL is "none"),
 * then, on Xen (o->hv) and when it was seized through sysfs, quarantine
 * it as libxl does (XSA-302: assigned to PVPCI_DOMID_IO, relaxed), then
 * record its node, with name when given.  A quarantine Xen refuses
 * (-EOPNOTSUPP without an IOMMU, as libxl's "failed to quarantine") or a
 * node that cannot be written undoes what was done.  1 when it was
 * assignable already (nothing done), 0 when added, or a negative errno.
 */
PVPCI_API int pvpci_ts_assignable_add(struct xs_handle *xs, const struct pvpci_ts_opts *o,
				      const struct pvpci_bdf *bdf, const char *name, char *errbuf,
				      size_t errlen);
/*
 * pci-assignable-remove: -ENOENT when not assignable, -EBUSY while a
 * domain has it; else, on Xen for a function seized through sysfs, take
 * it out of quarantine (de-assigned from PVPCI_DOMID_IO: Xen gives it
 * back to dom0; refused as libxl refuses it when Xen will not, nothing
 * changed), give it back (o->host) to the driver it was taken from when
 * rebind (a release that fails puts it back in quarantine), and remove
 * its node.
 */
PVPCI_API int pvpci_ts_assignable_remove(struct xs_handle *xs, const struct pvpci_ts_opts *o,
					 const struct pvpci_bdf *bdf, bool rebind, char *errbuf,
					 size_t errlen);

struct pvpci_ts_assignable {
	struct pvpci_bdf bdf;
	char name[64];		/* "" when none was given */
};

/* pci-assignable-list: the functions that have a node and no domain, by address. */
PVPCI_API int pvpci_ts_assignable_list(struct xs_handle *xs, struct pvpci_ts_assignable *ret,
				       size_t max, size_t *ret_n, char *errbuf, size_t errlen);

/*
 * pci-attach: the function must be assignable (or spec->seize) and no
 * domain's.  Returns once the backend has exported it (state-N 3) and,
 * when the frontend is connected, the frontend has rescanned (the backend
 * back at 4).  -ETIMEDOUT, -EPIPE when the backend closed, or
 * -ECANCELED when it refused this function alone (state-N Closed: a full
 * virtual bus, say), the backend's error node in errbuf, after removing
 * everything it wrote.
 */
PVPCI_API int pvpci_ts_attach(struct xs_handle *xs, unsigned domid,
			      const struct pvpci_pci_spec *spec, const struct pvpci_ts_opts *o,
			      char *errbuf, size_t errlen);
/*
 * pci-detach: -ENOENT when domid does not have it.  Returns once the
 * frontend let it go and the entry is removed.  When the backend is not
 * Connected or does not come back to it in time: the entry restored and
 * -ETIMEDOUT (-EPIPE when it closed), or with o->force removed anyway.
 */
PVPCI_API int pvpci_ts_detach(struct xs_handle *xs, unsigned domid, const struct pvpci_bdf *bdf,
			      const struct pvpci_ts_opts *o, char *errbuf, size_t errlen);

/*
 * What xl create does to the store for a domain, for machines without a
 * hypervisor (pvpci-stored): introduce domid (mfn 0, port 1: the embedded
 * store gives it a socket instead of a ring), make its home
 * /local/domain/<domid> (perms n0 r<domid>) with name (NULL: "Domain-N")
 * and device/ under it.  0 or a negative errno.
 */
PVPCI_API int pvpci_ts_domain_introduce(struct xs_handle *xs, unsigned domid, const char *name,
					char *errbuf, size_t errlen);

struct pvpci_ts_dev {
	struct pvpci_bdf bdf;	/* dev-N */
	unsigned vdevfn;	/* from vdev-N, else vdevfn-N, else 0 */
};

/* pci-list: domid's entries in order; *ret_n 0 when it has no PCI device. */
PVPCI_API int pvpci_ts_list(struct xs_handle *xs, unsigned domid, struct pvpci_ts_dev *ret,
			    size_t max, size_t *ret_n, char *errbuf, size_t errlen);

/*
 * Detach's second transaction, as libxl_pci.c writes it: entry i of num
 * under the backend directory be removed (state, key, dev, vdev, opts,
 * vdevfn, name), every later entry moved down one (state, dev, key
 * always; vdev, opts, vdevfn, name when present), num_devs num - 1.
 * t is an open transaction (xs_transaction_t).  0 or a negative errno.
 */
PVPCI_API int pvpci_ts_remove_entry(struct xs_handle *xs, uint32_t t, const char *be, int i,
				    int num);

#endif
