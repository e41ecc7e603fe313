/*
 * The `sim` host backend: PCI functions simulated from a config dump
 * (lspci -x/-xxx/-xxxx text, with or without -v, or a raw image), which
 * answer config writes the way hardware does.  This header is what tests,
 * fuzzers and tools need beyond the generic interface of hostdev.h.
 *
 * Host spec "sim:PATH" loads every function of the dump.  A function's
 * cfg_size is 4096 when the dump gave more than 256 bytes, else 256; bytes
 * past the dump's len read 0, as unimplemented registers do (a line
 * missing inside it reads 0xff, as struct pvpci_dump_dev has it).
 *
 * Writes follow one register table (lib/hostdev_sim.c, "rules"):
 *  - read-only: IDs, revision and class, header type, BIST, the capability
 *    pointer, every capability's ID and next bytes (extended ones: the
 *    whole header dword), interrupt pin, Min_Gnt/Max_Lat, subsystem IDs,
 *    Status bits other than the error bits, a bridge's window type
 *    nibbles, PCIe Capabilities, DevCap, LnkCap, LnkSta;
 *  - write-1-to-clear: Status (and a bridge's Secondary Status) 0xf900,
 *    PCIe DevSta bits 0-3, AER Uncorrectable (cap+4) and Correctable
 *    (cap+0x10) Status;
 *  - Command: bits 0-10 writable, 11-15 keep their value;
 *  - BARs and the ROM BAR answer sizing: address bits below the size and
 *    the type bits never change, so writing all-ones reads back the size
 *    mask; the ROM enable bit is writable; a BAR that is all zero in the
 *    dump and has no Region line is unimplemented and reads 0 whatever is
 *    written; a "[virtual]" one keeps the value of the dump;
 *  - everything else (cache line size, latency timer, interrupt line,
 *    capability bodies, device-specific bytes) is written like RAM.
 *
 * BAR sizes: from the dump's Region / Expansion ROM lines, rounded up to a
 * power of two (at least 4 for I/O, 16 for memory, 2048 for the ROM).
 * Without a line, the size is derived from the value: the lowest address
 * bit set (the natural alignment, so never smaller than the real size),
 * or, when the address is 0, 16 for I/O and 4096 (a page) for memory and
 * the ROM.  When a line's size disagrees with the address (address bits
 * below the size set), the dump's value wins and the size is derived.
 * bar_info reports the size so found and the address the dump gave (not
 * what was written since), as the host's own resources would.
 *
 * Ownership: the host owns the parsed dump; each open device owns its
 * image, masks and write log, and holds a reference on the host, so the
 * host may be closed before its devices (it is freed with the last one).
 * A function may be open once at a time: a second open gets -EBUSY, as a
 * device has one owner (pciback gives a function to one domain).
 */
#ifndef PVPCI_HOSTDEV_SIM_H
#define PVPCI_HOSTDEV_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "pvpci/api.h"
#include "pvpci/dump.h"
#include "pvpci/hostdev.h"

PVPCI_API extern const struct pvpci_hostdev_ops pvpci_hostdev_sim_ops;

/*
 * One write that reached a sim device: offset, size, the value written,
 * and the value of those bytes just before.  Writes lib/hostdev.c refused
 * never reach it; writes to read-only bits do, and are logged.
 */
struct pvpci_sim_write {
	unsigned off;
	unsigned size;
	uint32_t val;
	uint32_t before;
};

/*
 * The log keeps at most this many writes; when full, the oldest half is
 * dropped (and counted), so a long run keeps its latest writes.
 */
#define PVPCI_SIM_LOG_MAX	65536

/*
 * Build a sim host from a dump in memory (text or raw image, as
 * pvpci_dump_load tells them apart), for tests and fuzzing.  On success
 * *ret is a host as pvpci_host_open gives (close it with
 * pvpci_host_close); on failure *ret is untouched and errbuf says why.
 */
PVPCI_API int pvpci_sim_host_from_text(const char *text, size_t len, struct pvpci_host **ret,
				       char *errbuf, size_t errlen);

/*
 * The same from a parsed dump, which the host takes (*dump is left empty,
 * on failure too).  name is for messages ("no function X in NAME").
 */
PVPCI_API int pvpci_sim_host_from_dump(struct pvpci_dump *dump, const char *name,
				       struct pvpci_host **ret, char *errbuf, size_t errlen);

/*
 * Replace the dump of function dd->bdf, which the host must have: a later
 * open loads it; a device open now keeps its masks and BARs, and a reset
 * brings it to the new image (a replay sets the state a device was found
 * in after a reset so).  -ENOENT when the host has no such function,
 * -EINVAL when h is not a sim host.
 */
PVPCI_API int pvpci_sim_host_replace(struct pvpci_host *h, const struct pvpci_dump_dev *dd);

/*
 * The writes logged so far, oldest first.  *ret points into the device and
 * stays valid until its next write, pvpci_sim_log_clear or close.  Returns
 * the count (0, with *ret NULL, for a device that is not a sim one).
 */
PVPCI_API size_t pvpci_sim_log(struct pvpci_hostdev *d, const struct pvpci_sim_write **ret);
PVPCI_API void pvpci_sim_log_clear(struct pvpci_hostdev *d);
/* Writes dropped from a full log since it was last cleared. */
PVPCI_API unsigned long pvpci_sim_log_dropped(const struct pvpci_hostdev *d);

/* Resets done since open (pvpci_hostdev_reset). */
PVPCI_API unsigned pvpci_sim_resets(const struct pvpci_hostdev *d);

/*
 * The current config image (cfg_size bytes), read without counting as an
 * access.  Owned by the device; valid until close.  NULL when d is not a
 * sim device.
 */
PVPCI_API const uint8_t *pvpci_sim_image(const struct pvpci_hostdev *d);

#endif
