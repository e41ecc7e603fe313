/*
 * The config-space engine: the guest-visible config space of one host
 * function, built from register descriptors.  Owns the register table, the
 * mask arithmetic (ro, rw1c, rsvdp, rsvdz, emulated), splitting accesses
 * that straddle registers, the policy for bytes no register covers, and
 * the capability chain as the guest sees it.  It makes no OS calls: every
 * hardware access goes through the host device it was given.
 *
 * Mask semantics, applied by the core and by no register on its own:
 *   ro     the guest cannot change these bits (neither virtual nor hardware)
 *   rw1c   writing 1 clears the bit, writing 0 leaves it; reads are normal
 *   rsvdp  reserved-preserve: read as 0, hardware keeps its own value
 *   rsvdz  reserved-zero: read as 0, written to hardware as 0
 *   emu    the value comes from the register's virtual copy (reg->val),
 *          not from hardware; a write changes the virtual copy only
 * ro, rw1c, rsvdp and rsvdz are disjoint; emu may overlap ro and rw1c but
 * not the reserved masks.  Every other bit is read from and written to the
 * hardware ("passthrough").
 */
#ifndef PVPCI_CONFSPACE_H
#define PVPCI_CONFSPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvpci/api.h"
#include "pvpci/errors.h"
#include "pvpci/hostdev.h"

struct pvpci_ratelimit;

struct pvpci_cs;
struct pvpci_reg;

/*
 * Handlers are optional.  read returns the register's raw value (the core
 * then clears the reserved bits).  write receives the value the guest's
 * access leaves in the register after the core's merging: bytes the guest
 * did not write hold the current value, ro/rsvdp bits hold the current
 * value, rw1c bits are 1 exactly where the guest wrote 1; wmask has the
 * bits of the bytes written.  A write handler that wants the default
 * behaviour for part of its work calls pvpci_cs_reg_apply().  Handlers
 * return a PVPCI_ERR_* code.
 */
typedef int (*pvpci_reg_read_fn)(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t *ret_val);
typedef int (*pvpci_reg_write_fn)(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t val,
				  uint32_t wmask);

enum pvpci_reg_flags {
	PVPCI_REG_HIDDEN = 1u << 0,	/* part of a hidden capability: reads 0 */
};

struct pvpci_reg {
	const char *name;	/* static text for views: "Command", "MSI-X: Message Control" */
	uint16_t offset;	/* relative to a table's base when in a table */
	uint8_t size;		/* 1, 2 or 4, naturally aligned */
	uint8_t flags;
	uint32_t ro_mask;
	uint32_t rw1c_mask;
	uint32_t rsvdp_mask;
	uint32_t rsvdz_mask;
	uint32_t emu_mask;
	uint32_t val;		/* virtual value of the emulated bits; initial value in tables */
	pvpci_reg_read_fn read;
	pvpci_reg_write_fn write;
	void *data;		/* handler's own; not owned by the engine */
};

/* Log levels for the callback (syslog numbers). */
enum { PVPCI_LOG_ERR = 3, PVPCI_LOG_WARNING = 4, PVPCI_LOG_INFO = 6, PVPCI_LOG_DEBUG = 7 };
typedef void (*pvpci_log_fn)(void *ctx, int level, const char *msg);

struct pvpci_cs_opts {
	bool permissive;		/* bytes no register covers take writes */
	bool allow_interrupt_control;	/* Command.INTx Disable reaches hardware */
	pvpci_log_fn log;		/* NULL: silent */
	void *log_ctx;
	/* pciback's verbose_request: say each change of the Command
	 * register's decode, bus master and MWI (debug level, no limit). */
	bool verbose;
	/* Every message goes through it: a guest can make the engine speak
	 * at each write, and a fresh engine for each of its connections
	 * says the bind-time ones again.  Not owned; the backend gives
	 * every function of a domain the domain's.  NULL: no limit. */
	struct pvpci_ratelimit *log_limit;
	/* Waits the spec requires (D3hot -> D0 10 ms, FLR 100 ms) go through
	 * here; NULL: no wait (simulated devices, tests). */
	void (*delay)(void *ctx, unsigned usecs);
	void *delay_ctx;
};

/*
 * Bind: snapshot the host function's config space, refuse what cannot be
 * exported (bridges), build the header and capability registers.  The cs
 * does not own hd: the caller closes it after pvpci_cs_free.  On failure
 * returns a negative errno, *ret untouched, and says why in errbuf.
 */
PVPCI_API int pvpci_cs_new(struct pvpci_hostdev *hd, const struct pvpci_cs_opts *opts,
			   struct pvpci_cs **ret, char *errbuf, size_t errlen);
PVPCI_API void pvpci_cs_free(struct pvpci_cs *cs);	/* NULL is fine */

/*
 * Guest accesses.  off and size are taken as the protocol carries them
 * (signed); a bad size, misalignment, negative offset or an offset past
 * the function's config space gives PVPCI_ERR_invalid_offset and touches
 * nothing.  Returns a PVPCI_ERR_* code.
 */
PVPCI_API int pvpci_cs_read(struct pvpci_cs *cs, long off, long size, uint32_t *ret_val);
PVPCI_API int pvpci_cs_write(struct pvpci_cs *cs, long off, long size, uint32_t val);

PVPCI_API unsigned pvpci_cs_size(const struct pvpci_cs *cs);
PVPCI_API struct pvpci_hostdev *pvpci_cs_hostdev(const struct pvpci_cs *cs);
PVPCI_API bool pvpci_cs_permissive(const struct pvpci_cs *cs);
PVPCI_API void pvpci_cs_set_permissive(struct pvpci_cs *cs, bool on);
/* The config space as the host had it at bind (cfg_size bytes). */
PVPCI_API const uint8_t *pvpci_cs_host_snapshot(const struct pvpci_cs *cs);

/*
 * Registration.  The descriptor is copied (offset + base).  Validation:
 * size 1/2/4, aligned, inside the config space, masks inside the register
 * and disjoint as above.  Returns 0, -EINVAL (bad descriptor), -EEXIST
 * (overlaps a registered byte) or -ENOMEM.  A table is all or nothing.
 */
PVPCI_API int pvpci_cs_add_reg(struct pvpci_cs *cs, unsigned base, const struct pvpci_reg *r);
PVPCI_API int pvpci_cs_add_regs(struct pvpci_cs *cs, unsigned base, const struct pvpci_reg *tbl,
				size_t n);
/* Forget every register that has a byte in [off, off + len). */
PVPCI_API void pvpci_cs_del_range(struct pvpci_cs *cs, unsigned off, unsigned len);
/* The register covering byte off, or NULL. */
PVPCI_API struct pvpci_reg *pvpci_cs_reg_at(const struct pvpci_cs *cs, unsigned off);

/* The core's default write for r (see pvpci_reg_write_fn). */
PVPCI_API int pvpci_cs_reg_apply(struct pvpci_cs *cs, struct pvpci_reg *r, uint32_t val,
				 uint32_t wmask);
/* The core's default read for r: hardware bits merged with the virtual ones. */
PVPCI_API int pvpci_cs_reg_default_read(struct pvpci_cs *cs, struct pvpci_reg *r,
					uint32_t *ret_val);

/* Log through the cs's callback (printf-style), within opts.log_limit. */
PVPCI_API void pvpci_cs_log(struct pvpci_cs *cs, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* When opts.verbose: at debug level, past the limit (the operator asked). */
PVPCI_API void pvpci_cs_verbose(struct pvpci_cs *cs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * For views: registers in ascending offset order (index 0..n-1), and a
 * one-word policy of a register: "hidden", "reserved" (reads 0, takes no
 * write), "emulated", "passthrough" (some bits reach hardware) or
 * "read-only".
 */
PVPCI_API size_t pvpci_cs_nregs(const struct pvpci_cs *cs);
PVPCI_API const struct pvpci_reg *pvpci_cs_reg_by_index(const struct pvpci_cs *cs, size_t i);
PVPCI_API const char *pvpci_reg_policy(const struct pvpci_reg *r);

/*
 * What the guest has been shown beyond what the device holds: each
 * emulated register's virtual value (as the guest's writes left it), the
 * BARs it is sizing and the ROM's enable bit.  A backend keeps it so that
 * a guest that still has the function after the backend's restart reads
 * what it read before: set on a fresh engine built over the device as
 * it is now (whatever reached the hardware is there already).
 */
#define PVPCI_CS_VIRT_MAX	512
struct pvpci_cs_virt {
	size_t n;
	struct pvpci_cs_virt_reg {
		uint16_t off;
		uint32_t val;
	} regs[PVPCI_CS_VIRT_MAX];
	uint8_t sizing;		/* bit i: BAR i (6: the ROM) reads its size */
	bool rom_enable;
};
PVPCI_API void pvpci_cs_virt_get(const struct pvpci_cs *cs, struct pvpci_cs_virt *ret);
/* -EINVAL, with nothing changed, when an offset is not the start of an
 * emulated register of cs or a value has bits outside its emulated mask
 * (not this function's view, or another layout). */
PVPCI_API int pvpci_cs_virt_set(struct pvpci_cs *cs, const struct pvpci_cs_virt *v);

/* Capabilities found on the host function, in chain order. */
struct pvpci_cap {
	uint16_t offset;
	uint16_t id;
	uint16_t len;		/* bytes the engine attributes to it */
	bool ext;		/* extended (offset >= 0x100) */
	bool visible;
	const char *name;
};
PVPCI_API size_t pvpci_cs_ncaps(const struct pvpci_cs *cs);
PVPCI_API const struct pvpci_cap *pvpci_cs_cap(const struct pvpci_cs *cs, size_t i);
/* Why a chain was cut, or "" when both chains were sound. */
PVPCI_API const char *pvpci_cs_chain_note(const struct pvpci_cs *cs);

#endif
