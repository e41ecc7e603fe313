/* Going to the background once serving (daemon.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"

int pvpci_daemon_background(const char *prog, const char *pidfile, int *ret_ready_fd)
{
	int p[2];
	pid_t pid;
	char c;
	struct pollfd pf;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid == 0) {
		close(p[0]);
		setsid();
		*ret_ready_fd = p[1];
		return 0;
	}
	close(p[1]);
	pf = (struct pollfd){ .fd = p[0], .events = POLLIN };
	if (poll(&pf, 1, 30000) == 1 && read(p[0], &c, 1) == 1 && c == 'R') {
		if (pidfile) {
			FILE *f = fopen(pidfile, "w");

			if (!f || fprintf(f, "%d\n", (int)pid) < 0 || fclose(f)) {
				fprintf(stderr, "%s: %s: %s\n", prog, pidfile, strerror(errno));
				kill(pid, SIGTERM);
				_exit(1);
			}
		}
		_exit(0);
	}
	fprintf(stderr, "%s: the daemon did not start\n", prog);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	_exit(1);
}

int pvpci_daemon_ready(int *ready_fd)
{
	int r = 0;

	if (*ready_fd < 0)
		return 0;
	if (write(*ready_fd, "R", 1) != 1)
		r = -errno;
	close(*ready_fd);
	*ready_fd = -1;
	return r;
}

int pvpci_daemon_signals(void)
{
	sigset_t sigs;
	int fd;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

void pvpci_daemon_stopping(int sfd, const char *prog, const char *doing)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) == sizeof(si))
		fprintf(stderr, "%s: %s: %s\n", prog, strsignal((int)si.ssi_signo), doing);
}

void pvpci_daemon_log_stderr(void *ctx, int level, const char *msg)
{
	const struct pvpci_daemon_log *l = ctx;

	if (level >= 7 && !l->verbose)
		return;
	fprintf(stderr, "%s: %s%s\n", l->prog,
		level <= 3 ? "error: " : level == 4 ? "warning: " : "", msg);
}
