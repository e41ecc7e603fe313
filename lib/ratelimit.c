/*
 * The rate limit of ratelimit.h: Linux's ___ratelimit, with the clock
 * given.  Owns nothing but the counters of the state it is handed.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "pvpci/ratelimit.h"

void pvpci_ratelimit_init(struct pvpci_ratelimit *rl, const struct pvpci_ratelimit_cfg *cfg,
			  const char *who)
{
	memset(rl, 0, sizeof(*rl));
	if (cfg)
		rl->cfg = *cfg;
	if (!rl->cfg.burst)
		rl->cfg.burst = PVPCI_RATELIMIT_BURST;
	if (!rl->cfg.interval_ms)
		rl->cfg.interval_ms = PVPCI_RATELIMIT_INTERVAL_MS;
	snprintf(rl->who, sizeof(rl->who), "%s", who ? who : "");
}

bool pvpci_ratelimit_pass(struct pvpci_ratelimit *rl, unsigned long *ret_missed)
{
	long now;

	*ret_missed = 0;
	if (rl->cfg.interval_ms < 0)
		return true;
	now = rl->cfg.clock_ms ? rl->cfg.clock_ms(rl->cfg.clock_ctx) : pvpci_now_ms();
	/* A clock that went back starts a new interval too: better a few
	 * lines more than a source silenced for as long as it jumped. */
	if (!rl->started || now - rl->begin >= rl->cfg.interval_ms || now < rl->begin) {
		*ret_missed = rl->started ? rl->missed : 0;
		rl->started = true;
		rl->begin = now;
		rl->printed = 0;
		rl->missed = 0;
	}
	if (rl->printed < rl->cfg.burst) {
		rl->printed++;
		return true;
	}
	rl->missed++;
	return false;
}
