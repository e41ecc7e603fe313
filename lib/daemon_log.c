/*
 * Where the daemons' messages go (daemon.h): stderr, the journal through
 * stderr, or syslog; and the threshold below which they are dropped.
 * The library hands every message to pvpci_daemon_log with a syslog
 * level; the daemons say their own through pvpci_daemon_logf.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"

static const char *const level_names[8] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

int pvpci_daemon_log_level(const char *s)
{
	char *end;
	long v;

	if (!strcasecmp(s, "error"))
		return LOG_ERR;
	if (!strcasecmp(s, "warn"))
		return LOG_WARNING;
	for (int i = 0; i < 8; i++)
		if (!strcasecmp(s, level_names[i]))
			return i;
	v = strtol(s, &end, 10);
	return end != s && !*end && v >= 0 && v <= 7 ? (int)v : -EINVAL;
}

void pvpci_daemon_log_usage(FILE *f, int width)
{
	fprintf(f, "  %-*s%s\n", width - 2, "--log-level LEVEL",
		"err, warning, notice, info (the default) or debug");
	fprintf(f, "  %-*s%s\n", width - 2, "-q, --quiet", "warnings and errors only (--log-level warning)");
	fprintf(f, "  %-*s%s\n", width - 2, "--syslog", "log to syslog (facility daemon), not to stderr");
}

int pvpci_daemon_log_option(struct pvpci_daemon_log *l, int opt, const char *arg)
{
	int v;

	switch (opt) {
	case 'v':
		l->level = LOG_DEBUG;
		return 1;
	case 'q':
		l->level = LOG_WARNING;
		return 1;
	case 'Y':
		l->syslog = true;
		return 1;
	case 'L':
		v = pvpci_daemon_log_level(arg);
		if (v < 0) {
			fprintf(stderr, "%s: --log-level %s: expected err, warning, notice, info, debug or 0-7\n",
				l->prog, arg);
			return -1;
		}
		l->level = v;
		return 1;
	}
	return 0;
}

/* systemd connects stderr to the journal and says so in JOURNAL_STREAM
 * ("device:inode" of that stream); a child with stderr elsewhere inherits
 * the variable but not the stream, hence the comparison. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
	       (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void pvpci_daemon_log_open(struct pvpci_daemon_log *l)
{
	if (!l->level)
		l->level = LOG_INFO;
	if (l->syslog) {
		/* Connected now, before the sandbox, not at the first message. */
		openlog(l->prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		l->to = PVPCI_LOG_TO_SYSLOG;
	} else {
		l->to = stderr_is_journal() ? PVPCI_LOG_TO_JOURNAL : PVPCI_LOG_TO_STDERR;
	}
}

void pvpci_daemon_log(void *ctx, int level, const char *msg)
{
	const struct pvpci_daemon_log *l = ctx;

	if (level > (l->level ? l->level : LOG_INFO))
		return;
	switch (l->to) {
	case PVPCI_LOG_TO_SYSLOG:
		syslog(level, "%s", msg);
		break;
	case PVPCI_LOG_TO_JOURNAL:
		fprintf(stderr, "<%d>%s\n", level, msg);
		break;
	default:
		fprintf(stderr, "%s: %s%s\n", l->prog,
			level <= LOG_ERR ? "error: " : level == LOG_WARNING ? "warning: " : "", msg);
	}
}

void pvpci_daemon_logf(struct pvpci_daemon_log *l, int level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pvpci_daemon_log(l, level, msg);
}
