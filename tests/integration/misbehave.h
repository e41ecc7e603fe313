/*
 * Frontends that misbehave, for measuring what they cost the others
 * (test_isolation asserts the others are served, bench_proto reports
 * their latency).  Each runs in a child process of its own, as one
 * domain, against a backend's local socket, until told to stop:
 *   MB_KICKS      kicks without end, XEN_PCIF_active set and cleared
 *                 between them, never waiting for an answer
 *   MB_GARBAGE    ops of random command, address, offset, size, value and
 *                 MSI-X entries, one after the other, each answered
 *   MB_RECONNECT  connects, reads, vanishes and connects again
 *   MB_AER_SILENT says it has an AER handler and never answers a request
 */
#ifndef PVPCI_TEST_MISBEHAVE_H
#define PVPCI_TEST_MISBEHAVE_H

#include "pvpci/bdf.h"

enum mb_kind { MB_KICKS, MB_GARBAGE, MB_RECONNECT, MB_AER_SILENT, MB_KINDS };

/* "kick flood", "garbage ops", "vanish and reconnect", "AER never answered" */
extern const char *const mb_name[MB_KINDS];
/* What each counts: "kicks", "ops", "connections", "requests held". */
extern const char *const mb_unit[MB_KINDS];

/* What a misbehaving child has done so far, in memory it shares with its
 * parent (mb_counter_new: a shared anonymous page). */
struct mb_counter {
	unsigned long n;	/* in mb_unit */
};

struct mb_counter *mb_counter_new(void);	/* NULL: mmap failed */
void mb_counter_free(struct mb_counter *c);

/*
 * In the child: misbehave as kind, connected to the backend's socket at
 * sock as domain domid, whose function the guest sees at dev.  Writes
 * "ready\n" to up_fd once under way (or "error: WHY\n" and returns), counts
 * into *cnt, and stops once stop_fd is readable or hung up.  Returns the
 * exit status for the child: 0 when it stopped as told; 1 it could not
 * connect; 2 an op was not answered in time; 3 the backend went away.
 */
int mb_run(enum mb_kind kind, const char *sock, unsigned domid, const struct pvpci_bdf *dev,
	   struct mb_counter *cnt, int up_fd, int stop_fd);

#endif
