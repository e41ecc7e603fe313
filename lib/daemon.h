/*
 * What the project's daemons share: going to the background only once
 * they serve, so that whoever started them may connect as soon as the
 * command returns (and telling systemd so, for Type=notify units);
 * stopping on SIGTERM or SIGINT read from their event loop rather than in
 * a handler; and where their messages go (daemon.c, daemon_log.c).
 */
#ifndef PVPCI_DAEMON_H
#define PVPCI_DAEMON_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Fork.  The parent waits (up to 30 s) for the child to call
 * pvpci_daemon_ready, writes the child's pid to pidfile (may be NULL) and
 * exits 0; it exits 1 (after stopping the child) when the child does not
 * get there.  The child returns 0 in a new session with *ret_ready_fd to
 * hand to pvpci_daemon_ready.  prog names the daemon in messages.
 * Returns a negative errno when it cannot fork.
 */
int pvpci_daemon_background(const char *prog, const char *pidfile, int *ret_ready_fd);
/* The daemon serves: let the parent go, when in the background
 * (*ready_fd is closed and set to -1; nothing happens when it is -1
 * already), and send READY=1 to $NOTIFY_SOCKET when systemd gave one. */
int pvpci_daemon_ready(int *ready_fd);

/* Block SIGTERM and SIGINT (they come through the fd returned), ignore
 * SIGPIPE.  Call before pvpci_daemon_background: the child inherits both.
 * Returns the signalfd or a negative errno. */
int pvpci_daemon_signals(void);

/*
 * Where a daemon's messages go, and which: those of level (syslog
 * numbers: 3 error ... 7 debug) up to the threshold.  To stderr as
 * "prog: error: msg"; under systemd, when stderr is the journal
 * ($JOURNAL_STREAM names it), as "<3>msg" so that the journal keeps each
 * line's priority; with --syslog to syslog(3), facility daemon.
 */
enum pvpci_log_to { PVPCI_LOG_TO_STDERR, PVPCI_LOG_TO_JOURNAL, PVPCI_LOG_TO_SYSLOG };
struct pvpci_daemon_log {
	const char *prog;
	int level;		/* the threshold; 0 is taken as info (6) */
	bool syslog;		/* --syslog */
	enum pvpci_log_to to;	/* set by pvpci_daemon_log_open */
};

/* The options every daemon takes, for its getopt_long table (short
 * options "vq") and its usage (each says what its own -v adds). */
#define PVPCI_DAEMON_LOG_OPTIONS					\
	{ "log-level", required_argument, NULL, 'L' },			\
	{ "verbose", no_argument, NULL, 'v' },				\
	{ "quiet", no_argument, NULL, 'q' },				\
	{ "syslog", no_argument, NULL, 'Y' }
/* Their lines of a usage text, the help column at width. */
void pvpci_daemon_log_usage(FILE *f, int width);
/* -v (debug), and the options above: 1 when opt was one of them, 0 when
 * not, -1 (said on stderr) for a bad level. */
int pvpci_daemon_log_option(struct pvpci_daemon_log *l, int opt, const char *arg);
/* "err", "warning", "notice", "info", "debug" (or "error", "warn"), or
 * 0-7: the level, or -EINVAL. */
int pvpci_daemon_log_level(const char *s);
/* Choose where messages go (see above); call once options are read. */
void pvpci_daemon_log_open(struct pvpci_daemon_log *l);
/* The library's log callback (ctx: a struct pvpci_daemon_log). */
void pvpci_daemon_log(void *ctx, int level, const char *msg);
void pvpci_daemon_logf(struct pvpci_daemon_log *l, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A signal came on sfd: say "Terminated: doing" at info level. */
void pvpci_daemon_stopping(int sfd, struct pvpci_daemon_log *l, const char *doing);

#endif
