/*
 * Save and restore of a host function's configuration, as pciback does it
 * (seed 000): the registers a guest or a reset can leave changed, captured
 * from the host device when it is taken for passthrough and written back
 * directly (no guest policy in between) when it is handed on or given
 * back.  Also bringing a function to D0 and resetting it, which restore
 * does first.  Owns the register set, the order of the writes and the
 * text form of a saved state; makes no OS calls (lib/statefile.c keeps
 * the text on disk).
 *
 * The register set, found on the function itself:
 *   header   BARs 0-5 and the expansion ROM, Cache Line Size, Latency
 *            Timer, and of Command only SERR# Enable and Parity Error
 *            Response (the other bits belong to whoever drives it);
 *   PCIe     Device Control and Link Control, and with a version 2
 *            capability Device Control 2 and Link Control 2 (Initiate
 *            FLR and Retrain Link are never written);
 *   AER      Uncorrectable Error Mask and Severity, Correctable Error
 *            Mask, Advanced Error Capabilities and Control (its enable
 *            bits: ECRC generation and check, multiple header recording).
 *
 * Text form ("pvpci saved state", version 1), lines ending in '\n':
 *
 *   pvpci-saved-state 1
 *   bdf 0000:03:00.0
 *   ids 8086:10d3:8086:a01f          vendor:device:subvendor:subdevice
 *   reg bar0 010 4 ffffffff febc0000 KEY OFFSET SIZE MASK VALUE (hex)
 *   ...
 *   checksum crc32 1c291ca3          CRC-32 (IEEE) of every byte before this line
 *
 * Lines starting with '#' may come anywhere before the checksum (and are
 * covered by it).  The reader is strict: any other line, a key it does not
 * know or twice, a size or mask that is not the key's, a value wider than
 * its size, a bad checksum or bytes after it make the text corrupt.
 */
#ifndef PVPCI_SAVERESTORE_H
#define PVPCI_SAVERESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvpci/api.h"
#include "pvpci/bdf.h"
#include "pvpci/confspace.h"
#include "pvpci/hostdev.h"

#define PVPCI_SR_MAX_REGS	24
#define PVPCI_SR_TEXT_MAX	4096	/* a formatted state always fits */
#define PVPCI_SR_VERSION	1

struct pvpci_sr_reg {
	const char *key;	/* static: "bar0", "command", "devctl", "aer-uncor-mask"... */
	uint16_t off;
	uint8_t size;
	uint32_t mask;		/* bits restore writes; the others keep the device's value */
	uint32_t val;
};

/* Plain data: copy it, keep it anywhere; nothing to free. */
struct pvpci_sr_state {
	struct pvpci_bdf bdf;
	uint16_t vendor, device, subvendor, subdevice;
	unsigned nregs;
	struct pvpci_sr_reg regs[PVPCI_SR_MAX_REGS];	/* Command last: restore writes it last */
};

enum pvpci_sr_reset {
	PVPCI_SR_RESET_REQUIRED,	/* reset; fail when the host offers none (the default) */
	PVPCI_SR_RESET_IF_AVAILABLE,	/* reset when possible, else say so and go on */
	PVPCI_SR_RESET_NONE,		/* do not reset */
};

struct pvpci_sr_opts {
	enum pvpci_sr_reset reset;
	pvpci_log_fn log;		/* NULL: silent */
	void *log_ctx;
	/* The waits of the PCI PM spec (D3hot -> D0 10 ms, D2 -> D0 200 us);
	 * NULL: no wait (simulated devices, tests). */
	void (*delay)(void *ctx, unsigned usecs);
	void *delay_ctx;
};

/*
 * Capture the register set of hd into *ret.  Bridges are refused
 * (-EOPNOTSUPP), as are functions that do not answer (-ENODEV).  On
 * failure *ret is untouched and errbuf says why.
 */
PVPCI_API int pvpci_sr_save(struct pvpci_hostdev *hd, struct pvpci_sr_state *ret, char *errbuf,
			    size_t errlen);

/*
 * Put hd in D0 through its PM capability's PMCSR when it is in D1-D3hot,
 * waiting as the spec requires.  0 when it is in D0 (or has no PM
 * capability, so cannot be anywhere else); -EIO when it stays out of D0.
 * *ret_from (may be NULL) gets the state it was in (0-3).
 */
PVPCI_API int pvpci_sr_set_d0(struct pvpci_hostdev *hd, const struct pvpci_sr_opts *opts,
			      unsigned *ret_from, char *errbuf, size_t errlen);

/*
 * Function reset through the host device, as opts->reset asks.  Returns 0
 * (reset done, or skipped as asked, or none available and opts allow
 * going on: ret_done says which), -EOPNOTSUPP when none is available and
 * one is required, or the host's error.
 */
PVPCI_API int pvpci_sr_reset(struct pvpci_hostdev *hd, const struct pvpci_sr_opts *opts,
			     bool *ret_done, char *errbuf, size_t errlen);

/*
 * Give hd back the state st: check that st is hd's (address, IDs and the
 * same register set: -ESTALE otherwise, nothing written), bring it to D0,
 * reset it as opts ask (NULL: required), bring it to D0 again if the reset
 * left it elsewhere, turn MSI and MSI-X off (a guest, or a backend, may
 * have died with them on), then write the registers with memory and I/O
 * decode off, and Command (decode as it was, SERR/PERR as saved) last.
 */
PVPCI_API int pvpci_sr_restore(struct pvpci_hostdev *hd, const struct pvpci_sr_state *st,
			       const struct pvpci_sr_opts *opts, char *errbuf, size_t errlen);

/*
 * The text form of st into buf (len bytes, NUL-terminated when it fits).
 * Returns the length of the text, as snprintf does (it fits when that is
 * less than len; PVPCI_SR_TEXT_MAX always suffices), or -EINVAL for a
 * state no parse could have given.
 */
PVPCI_API int pvpci_sr_format(const struct pvpci_sr_state *st, char *buf, size_t len);

/*
 * Read the text form (len bytes, need not be NUL-terminated).  Returns 0,
 * -EBADMSG for a corrupt text (errbuf: "line N: why") or -EPROTONOSUPPORT
 * for a version this reader does not know; *ret untouched on failure.
 */
PVPCI_API int pvpci_sr_parse(const char *text, size_t len, struct pvpci_sr_state *ret, char *errbuf,
			     size_t errlen);

#endif
