/* Going to the background once serving, telling systemd, stopping on a
 * signal (daemon.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
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

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET (a
 * path, or an abstract name written with a leading '@'). */
static void notify_systemd(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = path ? strlen(path) : 0;
	int fd;

	if (len < 2 || len >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
		return;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

int pvpci_daemon_ready(int *ready_fd)
{
	int r = 0;

	notify_systemd("READY=1");
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

void pvpci_daemon_stopping(int sfd, struct pvpci_daemon_log *l, const char *doing)
{
	struct signalfd_siginfo si;

	notify_systemd("STOPPING=1");
	if (read(sfd, &si, sizeof(si)) == sizeof(si))
		pvpci_daemon_logf(l, LOG_INFO, "%s: %s", strsignal((int)si.ssi_signo), doing);
}
