/*
 * What the project's daemons share: going to the background only once
 * they serve, so that whoever started them may connect as soon as the
 * command returns, and stopping on SIGTERM or SIGINT read from their
 * event loop rather than in a handler.
 */
#ifndef PVPCI_DAEMON_H
#define PVPCI_DAEMON_H

#include <stdbool.h>

/*
 * Fork.  The parent waits (up to 30 s) for the child to call
 * pvpci_daemon_ready, writes the child's pid to pidfile (may be NULL) and
 * exits 0; it exits 1 (after stopping the child) when the child does not
 * get there.  The child returns 0 in a new session with *ret_ready_fd to
 * hand to pvpci_daemon_ready.  prog names the daemon in messages.
 * Returns a negative errno when it cannot fork.
 */
int pvpci_daemon_background(const char *prog, const char *pidfile, int *ret_ready_fd);
/* The child serves: let the parent go.  *ready_fd is closed and set to
 * -1; nothing happens when it is -1 already (not in the background). */
int pvpci_daemon_ready(int *ready_fd);

/* Block SIGTERM and SIGINT (they come through the fd returned), ignore
 * SIGPIPE.  Call before pvpci_daemon_background: the child inherits both.
 * Returns the signalfd or a negative errno. */
int pvpci_daemon_signals(void);
/* A signal came on sfd: say "prog: Terminated: doing" on stderr. */
void pvpci_daemon_stopping(int sfd, const char *prog, const char *doing);

/* The library's log callback (syslog levels) for a daemon: "prog: error:
 * msg" on stderr, debug (level 7) only when verbose.  ctx is one of these. */
struct pvpci_daemon_log {
	const char *prog;
	bool verbose;
};
void pvpci_daemon_log_stderr(void *ctx, int level, const char *msg);

#endif
