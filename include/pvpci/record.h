/*
 * Records of a backend's life as its frontends saw it: every op a
 * frontend sent with the answer it got, the functions exported to each
 * domain with their config space as the host had it before the guest's
 * first op, the frontends coming and going, AER sequences.  pvpcid
 * writes one (`--record FILE`); `pvpci replay FILE` (replay.h) runs the
 * same ops against simulated devices built from it and says where the
 * answers differ, so a frontend author attaches a record to a bug report
 * and anyone reproduces it without the hardware.
 *
 * The format, version 1: text, one line per event, that a person reads
 * and edits.  Blank lines and lines starting with '#' are ignored outside
 * dumps.  Numbers are decimal, or hex with 0x; addresses hex.
 *
 *   pvpci-record 1                         first line: the format and version
 *   start SEC.NSEC                         wall clock (CLOCK_REALTIME) at start
 *   host SPEC                              the host devices (rest of the line; for readers)
 *   backend mode=passthrough|vpci|slot permissive=0|1
 *   quirk LINE                             one per quirk field in force, in quirks.h's forms
 *
 * then events, each starting with T, nanoseconds since start (monotonic):
 *
 *   T export dom=D host=BDF guest=BDF permissive=0|1 hidden=LIST quirks=LIST
 *   DUMP
 *       a function given to domain D; DUMP is its config space and BAR
 *       sizes as `pvpci capture` writes them (`lspci -xxxx` text with
 *       Region lines), as the host had it when it was exported, ended by
 *       a blank line.  hidden (capabilities the guest is not shown,
 *       ID@OFFSET) and quirks (OFFSET:SIZE of each quirk field applied)
 *       say what the engine made of it; "-" for none.
 *   T restart dom=D host=BDF guest=BDF permissive=... hidden=... quirks=...
 *   DUMP
 *       after D's frontend went: the function reset and restored for the
 *       next, its config space as it is now.
 *   T unexport dom=D host=BDF
 *   T connect dom=D
 *   T disconnect dom=D                    (restart events for D's functions follow)
 *   T op dom=D CMD DEV off=N size=N value=N info=N [entries=E,E...]
 *        -> err=N value=N [vectors=V,V...]             (on one line)
 *       one op as the frontend put it on the page and the answer it found
 *       there.  CMD: conf_read ... enable_multi_msi, or a number for any
 *       other; DEV: the op's domain:bus:slot.function in hex, each as wide
 *       as the frontend wrote it (a frontend may send anything); entries:
 *       enable_msix's table entries; vectors: what a successful
 *       enable_msix bound to them.
 *   T aer dom=D host=BDF cmd=aer_detected|aer_mmio|aer_slotreset|aer_resume state=N
 *   T aer-answer dom=D host=BDF cmd=... result=N|timeout
 *       a step of an AER sequence posted to the frontend, and its answer.
 *   T lost events=N                        N events could not be written here
 *   T end                                  the record was closed cleanly
 *
 * Not owned here: the ops' meaning (pciif), the dumps' text (dump.c).
 */
#ifndef PVPCI_RECORD_H
#define PVPCI_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvpci/api.h"
#include "pvpci/bdf.h"
#include "pvpci/confspace.h"
#include "pvpci/dump.h"
#include "pvpci/pciif.h"
#include "pvpci/quirks.h"
#include "pvpci/ratelimit.h"
#include "pvpci/topology.h"

#define PVPCI_RECORD_VERSION	1
#define PVPCI_RECORD_MAX_BYTES	(64u << 20)	/* a record the reader takes */
#define PVPCI_RECORD_MAX_LINE	4096		/* an event line (dumps aside) */

/*
 * An op's answer as the frontend finds it on the page once the backend
 * cleared XEN_PCIF_active: err and value, and for an enable_msix that
 * succeeded the vectors of its entries.
 */
struct pvpci_rec_answer {
	int32_t err;
	uint32_t value;
	unsigned nvec;
	uint16_t vectors[PVPCI_SH_INFO_MAX_VEC];
};

/* The answer to sent that done (the op after pvpci_pciif_do_op, or the
 * page after serve) holds. */
PVPCI_API void pvpci_rec_answer_of(const struct pvpci_op *sent, const struct pvpci_op *done,
				   struct pvpci_rec_answer *ret);
PVPCI_API bool pvpci_rec_answer_equal(const struct pvpci_rec_answer *a,
				      const struct pvpci_rec_answer *b);

/*
 * The text of an op as sent ("conf_read 0000:00:00.0 off=0x40 size=4
 * value=0x0 info=0x0") and of an answer ("err=0 value=0x1af4"), as the
 * record has them.  Like snprintf: the length the text needs.
 */
PVPCI_API size_t pvpci_rec_op_text(const struct pvpci_op *sent, char *buf, size_t len);
PVPCI_API size_t pvpci_rec_answer_text(const struct pvpci_rec_answer *a, char *buf, size_t len);

/*
 * What an export event says of the engine cs made of a function: the
 * capabilities hidden ("0x11@0x70,...") and the quirk fields applied
 * ("0xe0:2,..."), "-" for none.  Cut to fit hlen and qlen.
 */
PVPCI_API void pvpci_rec_engine_info(const struct pvpci_cs *cs, char *hidden, size_t hlen,
				     char *quirks, size_t qlen);

/* ---- Writing ---- */

struct pvpci_recorder;

struct pvpci_recorder_cfg {
	const char *host;		/* the host spec, for readers */
	enum pvpci_topo_mode mode;
	bool permissive;		/* every function */
	const struct pvpci_quirks *quirks;	/* in force; NULL: none */
	/* A failed write is said here, within log_limit, and counted; the
	 * next write that succeeds is preceded by a "lost" line. */
	pvpci_log_fn log;
	void *log_ctx;
	struct pvpci_ratelimit_cfg log_limit;
};

/*
 * Create path, mode 0600, and write the header.  A record already there
 * (a regular file, not empty) is kept as PATH.old, replacing an older
 * one: a pvpcid restarted after a crash keeps the record of the run that
 * died.  The file may be a FIFO with a reader: it is opened nonblocking,
 * so that a reader that does not keep up loses events rather than
 * stalling the backend.  On failure *ret is untouched and errbuf says
 * why.
 */
PVPCI_API int pvpci_recorder_open(const char *path, const struct pvpci_recorder_cfg *cfg,
				  struct pvpci_recorder **ret, char *errbuf, size_t errlen);
/* Write the end line and close.  NULL is fine. */
PVPCI_API void pvpci_recorder_close(struct pvpci_recorder *r);
/* Events not written since open. */
PVPCI_API unsigned long pvpci_recorder_lost(const struct pvpci_recorder *r);

/*
 * The backend's hooks, each one event; r NULL: nothing happens.  A
 * function's event takes its config space from cs's snapshot (the host's
 * config when the engine was built, before any op) and its BAR sizes
 * from the host device.
 */
PVPCI_API void pvpci_record_function(struct pvpci_recorder *r, bool restart, unsigned domid,
				     const struct pvpci_bdf *guest, bool permissive,
				     struct pvpci_cs *cs);
PVPCI_API void pvpci_record_unexport(struct pvpci_recorder *r, unsigned domid,
				     const struct pvpci_bdf *host);
PVPCI_API void pvpci_record_front(struct pvpci_recorder *r, unsigned domid, bool connected);
PVPCI_API void pvpci_record_op(struct pvpci_recorder *r, unsigned domid,
			       const struct pvpci_op *sent, const struct pvpci_op *done);
PVPCI_API void pvpci_record_aer(struct pvpci_recorder *r, unsigned domid,
				const struct pvpci_bdf *host, uint32_t cmd, int32_t state);
/* result: the frontend's answer as pciif validated it; timeout: none came. */
PVPCI_API void pvpci_record_aer_answer(struct pvpci_recorder *r, unsigned domid,
				       const struct pvpci_bdf *host, uint32_t cmd, int32_t result,
				       bool timeout);

/* ---- Reading ---- */

enum pvpci_rec_kind {
	PVPCI_REC_EXPORT,
	PVPCI_REC_RESTART,
	PVPCI_REC_UNEXPORT,
	PVPCI_REC_CONNECT,
	PVPCI_REC_DISCONNECT,
	PVPCI_REC_OP,
	PVPCI_REC_AER,
	PVPCI_REC_AER_ANSWER,
	PVPCI_REC_LOST,
};

/* A function as an export or restart event gives it. */
struct pvpci_rec_func {
	struct pvpci_bdf host, guest;
	bool permissive;
	char *hidden, *quirks;		/* as the line says */
	struct pvpci_dump_dev dump;
};

struct pvpci_rec_event {
	enum pvpci_rec_kind kind;
	unsigned line;			/* in the file */
	uint64_t t_ns;
	unsigned domid;
	union {
		size_t func;		/* export, restart: index in funcs */
		struct pvpci_bdf host;	/* unexport */
		struct {
			uint32_t cmd, domain, bus, devfn;
			int32_t offset, size;
			uint32_t value, info;
			unsigned nent;
			size_t ent;	/* entries: u16[ent .. ent + nent) */
			int32_t err;	/* the answer */
			uint32_t ans_value;
			unsigned nvec;
			size_t vec;	/* vectors: u16[vec .. vec + nvec) */
		} op;
		struct {		/* aer, aer-answer */
			struct pvpci_bdf host;
			uint32_t cmd;
			int32_t val;	/* state; result */
			bool timeout;
		} aer;
		unsigned long lost;
	} u;
};

struct pvpci_record {
	unsigned version;
	int64_t wall_sec;
	long wall_nsec;
	char host[256];
	enum pvpci_topo_mode mode;
	bool permissive;
	struct pvpci_quirks *quirks;	/* the quirk lines, parsed; never NULL */
	struct pvpci_rec_event *ev;
	size_t nev;
	struct pvpci_rec_func *funcs;
	size_t nfuncs;
	uint16_t *u16;			/* entries and vectors of the ops */
	size_t nu16;
	bool ended;			/* it has its end line */
	unsigned lines;
};

/*
 * Parse a record (len bytes, need not be NUL-terminated).  On success
 * *ret owns it (pvpci_record_free).  On failure *ret is untouched, the
 * return is -EINVAL (errbuf "line N: why"), -E2BIG or -ENOMEM.  A record
 * without its end line (cut short, or its writer killed) parses; ended
 * says so.
 */
PVPCI_API int pvpci_record_parse(const char *text, size_t len, struct pvpci_record **ret,
				 char *errbuf, size_t errlen);
/* The same from a file; errbuf says "PATH: line N: why". */
PVPCI_API int pvpci_record_load(const char *path, struct pvpci_record **ret, char *errbuf,
				size_t errlen);
PVPCI_API void pvpci_record_free(struct pvpci_record *rec);	/* NULL is fine */

/* Op event e (kind PVPCI_REC_OP) as the frontend sent it and as answered. */
PVPCI_API void pvpci_rec_event_op(const struct pvpci_record *rec, const struct pvpci_rec_event *e,
				  struct pvpci_op *ret_sent, struct pvpci_rec_answer *ret_answer);

#endif
