/*
 * pvpci-stored: a xenstore server for machines without Xen (store.h).
 * This file parses arguments, sets up signals and logging; the library
 * does the work.  SIGTERM or SIGINT closes every connection, removes the
 * sockets and exits 0.  Exit codes: 0 clean shutdown, 1 failure, 2 bad
 * usage.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"
#include "sandbox.h"
#include "pvpci/store.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pvpci-stored --socket PATH [options]\n"
		"  --socket PATH             dom0's socket (default $XENSTORED_PATH); clients\n"
		"                            find it with XENSTORED_PATH=PATH\n"
		"  --domain-socket-dir DIR   introduced domain N's socket is DIR/N (default PATH.d)\n"
		"  --background              detach once serving; --pidfile FILE says where it went\n"
		"  --no-sandbox              keep every capability and no seccomp filter\n"
		"  -v, --verbose             log every request and its answer (--log-level debug)\n");
	pvpci_daemon_log_usage(f, 28);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "domain-socket-dir", required_argument, NULL, 'd' },
		{ "background", no_argument, NULL, 'b' },
		{ "pidfile", required_argument, NULL, 'P' },
		{ "no-sandbox", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		PVPCI_DAEMON_LOG_OPTIONS,
		{ 0 },
	};
	struct pvpci_daemon_log log = { .prog = "pvpci-stored" };
	struct pvpci_store_cfg cfg = {
		.socket_path = getenv("XENSTORED_PATH"),
		.log = pvpci_daemon_log,
		.log_ctx = &log,
	};
	struct pvpci_store *s = NULL;
	const char *pidfile = NULL;
	bool background = false, sandbox = true;
	int opt, rc = 1, sfd, ready_fd = -1;
	char err[512];

	while ((opt = getopt_long(argc, argv, "hvq", opts, NULL)) != -1) {
		switch (opt) {
		case 's': cfg.socket_path = optarg; break;
		case 'd': cfg.domain_dir = optarg; break;
		case 'b': background = true; break;
		case 'P': pidfile = optarg; break;
		case 'N': sandbox = false; break;
		case 'h': usage(stdout); return 0;
		default:
			switch (pvpci_daemon_log_option(&log, opt, optarg)) {
			case 1: break;
			case 0: usage(stderr); return 2;
			default: return 2;
			}
			if (opt == 'v')
				cfg.verbose = true;
		}
	}
	if (optind != argc || !cfg.socket_path || !*cfg.socket_path) {
		usage(stderr);
		return 2;
	}
	pvpci_daemon_log_open(&log);
	sfd = pvpci_daemon_signals();
	if (sfd < 0) {
		pvpci_daemon_logf(&log, LOG_ERR, "signals: %s", strerror(-sfd));
		return 1;
	}
	if (background) {
		int r = pvpci_daemon_background("pvpci-stored", pidfile, &ready_fd);

		if (r < 0) {
			pvpci_daemon_logf(&log, LOG_ERR, "cannot go to the background: %s", strerror(-r));
			return 1;
		}
	}
	if (pvpci_store_new(&cfg, &s, err, sizeof(err)) < 0) {
		pvpci_daemon_logf(&log, LOG_ERR, "%s", err);
		goto out;
	}
	/* A socket server keeps no capability: its sockets and their
	 * directory are its own. */
	if (sandbox && pvpci_sandbox_enter(0, err, sizeof(err)) < 0) {
		pvpci_daemon_logf(&log, LOG_ERR, "sandbox: %s", err);
		goto out;
	}
	if (pvpci_daemon_ready(&ready_fd) < 0)
		goto out;
	pvpci_daemon_log(&log, LOG_DEBUG, "serving");
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = pvpci_store_fd(s), .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};

		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			pvpci_daemon_logf(&log, LOG_ERR, "poll: %s", strerror(errno));
			goto out;
		}
		if (p[1].revents & POLLIN) {
			pvpci_daemon_stopping(sfd, &log, "stopping");
			rc = 0;
			break;
		}
		if (p[0].revents & POLLIN) {
			int r = pvpci_store_dispatch(s);

			if (r < 0) {
				pvpci_daemon_logf(&log, LOG_ERR, "%s", strerror(-r));
				goto out;
			}
		}
	}
out:
	pvpci_store_free(s);
	close(sfd);
	return rc;
}
