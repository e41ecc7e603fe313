/*
 * A limit on the messages one source may log: at most burst in each
 * interval, then, with the first message of a later interval, one line
 * saying how many were dropped.  Linux's printk_ratelimited and
 * dev_warn_ratelimited work so, and pciback uses them for what a guest can
 * make it say.  A source is whatever the owner decides: the backend has
 * one per domain (its functions' engines, its ops, the hellos refused
 * for it) and one for the clients of its socket that have not said who
 * they are.
 *
 * The state is the owner's, embedded where the source lives; the library
 * never allocates it.  The clock is the caller's to give, so that tests
 * drive it by hand.
 */
#ifndef PVPCI_RATELIMIT_H
#define PVPCI_RATELIMIT_H

#include <stdbool.h>

#include "pvpci/api.h"

#define PVPCI_RATELIMIT_BURST		10	/* as Linux's DEFAULT_RATELIMIT_BURST */
#define PVPCI_RATELIMIT_INTERVAL_MS	5000	/* DEFAULT_RATELIMIT_INTERVAL */

struct pvpci_ratelimit_cfg {
	unsigned burst;			/* messages per interval; 0: PVPCI_RATELIMIT_BURST */
	long interval_ms;		/* 0: PVPCI_RATELIMIT_INTERVAL_MS; negative: no limit */
	long (*clock_ms)(void *ctx);	/* monotonic milliseconds; NULL: CLOCK_MONOTONIC */
	void *clock_ctx;
};

struct pvpci_ratelimit {
	struct pvpci_ratelimit_cfg cfg;
	char who[48];			/* the source, as the "suppressed" line names it */
	/* The limiter's own. */
	bool started;
	long begin;			/* of the current interval */
	unsigned printed;		/* in it */
	unsigned long missed;		/* dropped in it */
};

/* cfg NULL: the defaults.  who: "domain 3", "unidentified clients". */
PVPCI_API void pvpci_ratelimit_init(struct pvpci_ratelimit *rl,
				    const struct pvpci_ratelimit_cfg *cfg, const char *who);

/*
 * Whether one more message of this source may go out now.  When it may
 * and the interval before dropped some, *ret_missed says how many (the
 * caller says so first); else *ret_missed is 0.
 */
PVPCI_API bool pvpci_ratelimit_pass(struct pvpci_ratelimit *rl, unsigned long *ret_missed);

#endif
