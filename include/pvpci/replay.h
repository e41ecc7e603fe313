/*
 * Replaying a record (record.h): simulated devices built from the config
 * space it holds, the backend engine (struct pvpci_backend, the same one
 * pvpcid runs, in this process: no daemon, no socket), and the record's
 * frontend played back through an in-process channel, event by event:
 * functions exported and released where the record has it, frontends
 * connecting and going (each function then reset and restored to the
 * config space the record found next), each op put on the page and its
 * answer compared with the recorded one, AER steps answered as the
 * frontend answered them.  Policy may differ from the record's (every
 * function permissive or none, other quirks, the other topology): the
 * differences are then what that policy changes for this frontend.
 *
 * The library says each difference through a callback; `pvpci replay`
 * prints them.
 */
#ifndef PVPCI_REPLAY_H
#define PVPCI_REPLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "pvpci/api.h"
#include "pvpci/confspace.h"
#include "pvpci/quirks.h"
#include "pvpci/record.h"
#include "pvpci/topology.h"

/* One place where the replay differs from the record, or a note. */
struct pvpci_replay_diff {
	size_t event;			/* index in rec->ev */
	size_t op;			/* an op: its number in the record, from 1; else 0 */
	bool note;			/* worth saying, not a difference the frontend saw */
	bool answered;			/* an op: the backend answered it */
	struct pvpci_rec_answer got;	/* an op: the replay's answer */
	char why[320];			/* what differs, for anything but an op's answer */
};

struct pvpci_replay_opts {
	const char *state_dir;		/* where binds keep saved state (the caller's, empty) */
	int permissive;			/* -1: as recorded; 0: no function; 1: every function */
	bool set_mode;			/* mode instead of the record's */
	enum pvpci_topo_mode mode;
	bool set_quirks;		/* quirks (NULL: none) instead of the record's */
	const struct pvpci_quirks *quirks;
	pvpci_log_fn log;		/* the backend's messages; NULL: silent */
	void *log_ctx;
	void (*diff)(void *ctx, const struct pvpci_replay_diff *d);
	void *diff_ctx;
};

struct pvpci_replay_result {
	size_t ops;			/* replayed */
	size_t ops_differ;
	size_t events_differ;		/* other events: an export refused, a function elsewhere */
	size_t notes;
	size_t first_differ;		/* event index of the first difference (valid when any) */
};

/*
 * Replay rec.  Returns 0 with *ret filled (differences or not), or a
 * negative errno when the replay could not be set up (errbuf says why).
 */
PVPCI_API int pvpci_replay_run(const struct pvpci_record *rec, const struct pvpci_replay_opts *o,
		     struct pvpci_replay_result *ret, char *errbuf, size_t errlen);

#endif
