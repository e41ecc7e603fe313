/*
 * Host devices: raw access to one PCI function of the host, whatever it is
 * made of (a simulated device loaded from a dump, a real function through
 * sysfs, or a shadow copy of either).  Owns config reads and writes, BAR
 * sizes, reset and enumeration.  Knows nothing of guests or policy.
 *
 * A backend is a const table of methods (as libpci's access methods are);
 * a host spec names one: "sim:PATH", "sysfs[:ROOT][,writes=1]",
 * "shadow:SPEC".  Errors are negative errno values; the text of the last
 * error of a host or device is kept in it (pvpci_host_errmsg,
 * pvpci_hostdev_errmsg) so that callers can say why.  Nothing here prints.
 */
#ifndef PVPCI_HOSTDEV_H
#define PVPCI_HOSTDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvpci/api.h"
#include "pvpci/bdf.h"

#define PVPCI_CFG_SIZE		256	/* conventional config space */
#define PVPCI_CFG_EXP_SIZE	4096	/* PCI Express extended config space */
#define PVPCI_NUM_BARS		6
#define PVPCI_ROM_BAR		6	/* index of the expansion ROM in bar_info */
#define PVPCI_ERRMSG_LEN	256

enum pvpci_bar_flags {
	PVPCI_BAR_UNUSED	= 1u << 0,	/* not implemented by the device */
	PVPCI_BAR_IO		= 1u << 1,
	PVPCI_BAR_MEM64		= 1u << 2,	/* lower half of a 64-bit BAR */
	PVPCI_BAR_MEM64_HI	= 1u << 3,	/* upper half of a 64-bit BAR */
	PVPCI_BAR_PREFETCH	= 1u << 4,
	PVPCI_BAR_ROM		= 1u << 5,
};

/* One BAR as the host has it.  size is a power of two, 0 when unused. */
struct pvpci_bar {
	uint64_t addr;
	uint64_t size;
	unsigned flags;
};

/*
 * A function's legacy interrupt (INTx) as the host has it routed: pin is
 * its Interrupt Pin register (0: it uses no INTx, MSI only or none at
 * all; 1-4: INTA#-INTD#), irq the host's interrupt number for that line
 * (0: none known).
 */
struct pvpci_intx {
	unsigned pin;
	unsigned irq;
};

struct pvpci_host;
struct pvpci_hostdev;

struct pvpci_hostdev_ops {
	const char *name;
	const char *help;
	/* arg is what follows "name:" in the spec (NULL when nothing does).
	 * On failure *ret is untouched and errbuf (never NULL) says why. */
	int (*host_open)(const char *arg, struct pvpci_host **ret, char *errbuf, size_t errlen);
	/* Functions present, in ascending BDF order. */
	int (*host_list)(struct pvpci_host *h, struct pvpci_bdf *ret, size_t max, size_t *ret_n);
	void (*host_close)(struct pvpci_host *h);
	/* A function's INTx, whether or not it is open (another owner may
	 * hold it); NULL: the backend cannot tell. */
	int (*host_intx)(struct pvpci_host *h, const struct pvpci_bdf *bdf, struct pvpci_intx *ret);

	int (*open)(struct pvpci_host *h, const struct pvpci_bdf *bdf, struct pvpci_hostdev **ret);
	/* off/size are validated by the caller: size 1, 2 or 4, aligned, inside cfg_size. */
	int (*read)(struct pvpci_hostdev *d, unsigned off, unsigned size, uint32_t *ret_val);
	int (*write)(struct pvpci_hostdev *d, unsigned off, unsigned size, uint32_t val);
	/* Function reset; -EOPNOTSUPP when the host offers none. */
	int (*reset)(struct pvpci_hostdev *d);
	/* bar 0..5, or PVPCI_ROM_BAR. */
	int (*bar_info)(struct pvpci_hostdev *d, unsigned bar, struct pvpci_bar *ret);
	/* Turn memory/I/O decoding on or off (pci_enable_device's path);
	 * NULL: the generic path sets or clears Command.IO/MEM by RMW. */
	int (*set_decode)(struct pvpci_hostdev *d, bool on);
	void (*close)(struct pvpci_hostdev *d);
};

/* Common head of every backend's host object: backends embed it first. */
struct pvpci_host {
	const struct pvpci_hostdev_ops *ops;
	char errmsg[PVPCI_ERRMSG_LEN];
};

/* Common head of every backend's device object: backends embed it first. */
struct pvpci_hostdev {
	const struct pvpci_hostdev_ops *ops;
	struct pvpci_host *host;
	struct pvpci_bdf bdf;
	unsigned cfg_size;		/* 256 or 4096 */
	char desc[128];			/* "Ethernet controller: ..." when known, else "" */
	char errmsg[PVPCI_ERRMSG_LEN];
	unsigned long n_reads, n_writes;	/* accesses that reached the backend */
};

/* The backends compiled in, NULL-terminated. */
PVPCI_API extern const struct pvpci_hostdev_ops *const pvpci_hostdev_backends[];

/*
 * Open a host from a spec ("sim:PATH", "sysfs", "sysfs:/tmp/root",
 * "sysfs:,writes=1", "shadow:sysfs", ...).  On failure *ret is untouched
 * and, when errbuf is given, a message saying why is written to it.
 */
PVPCI_API int pvpci_host_open(const char *spec, struct pvpci_host **ret, char *errbuf,
			      size_t errlen);
PVPCI_API void pvpci_host_close(struct pvpci_host *h);	/* NULL is fine */
PVPCI_API int pvpci_host_list(struct pvpci_host *h, struct pvpci_bdf *ret, size_t max,
			      size_t *ret_n);
PVPCI_API const char *pvpci_host_errmsg(const struct pvpci_host *h);

/* bdf's INTx as the host routes it (sysfs: its `irq` file and Interrupt
 * Pin; sim: the dump's IRQ, else its Interrupt Line).  -EOPNOTSUPP when
 * the backend cannot tell, -ENODEV for no such function. */
PVPCI_API int pvpci_host_intx(struct pvpci_host *h, const struct pvpci_bdf *bdf,
			      struct pvpci_intx *ret);
/*
 * The other functions of the host whose INTx is on bdf's line (pin not 0,
 * the same irq): Xen does not security-support passing through a device
 * that shares a resource such as a line interrupt with another device
 * (SUPPORT.md, "x86/PCI Device Passthrough").  A function with pin 0 or
 * no known irq shares nothing.  *ret_intx (may be NULL) is bdf's own; at
 * most max sharers are written, in BDF order, and *ret_n says how many
 * there are.  Errors as pvpci_host_intx, or pvpci_host_list's.
 */
PVPCI_API int pvpci_host_intx_sharers(struct pvpci_host *h, const struct pvpci_bdf *bdf,
				      struct pvpci_intx *ret_intx, struct pvpci_bdf *ret, size_t max,
				      size_t *ret_n);

PVPCI_API int pvpci_hostdev_open(struct pvpci_host *h, const struct pvpci_bdf *bdf,
				 struct pvpci_hostdev **ret);
PVPCI_API void pvpci_hostdev_close(struct pvpci_hostdev *d);	/* NULL is fine */

/* Checked accesses: -EINVAL for a bad size, misalignment or offset past cfg_size. */
PVPCI_API int pvpci_hostdev_read(struct pvpci_hostdev *d, unsigned off, unsigned size,
				 uint32_t *ret_val);
PVPCI_API int pvpci_hostdev_write(struct pvpci_hostdev *d, unsigned off, unsigned size,
				  uint32_t val);
PVPCI_API int pvpci_hostdev_reset(struct pvpci_hostdev *d);
PVPCI_API int pvpci_hostdev_bar_info(struct pvpci_hostdev *d, unsigned bar, struct pvpci_bar *ret);
PVPCI_API int pvpci_hostdev_set_decode(struct pvpci_hostdev *d, bool on);
/* Read the whole config space (cfg_size bytes) into buf. */
PVPCI_API int pvpci_hostdev_read_all(struct pvpci_hostdev *d, uint8_t *buf);
PVPCI_API const char *pvpci_hostdev_errmsg(const struct pvpci_hostdev *d);

/* For backends: record why the last call failed (printf-style). */
PVPCI_API void pvpci_host_set_err(struct pvpci_host *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
PVPCI_API void pvpci_hostdev_set_err(struct pvpci_hostdev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Validation shared by the wrappers and the engine: size 1/2/4, aligned, inside limit. */
static inline bool pvpci_access_ok(long off, long size, unsigned limit)
{
	return (size == 1 || size == 2 || size == 4) && off >= 0 && (off & (size - 1)) == 0 &&
	       off + size <= (long)limit;
}

#endif
