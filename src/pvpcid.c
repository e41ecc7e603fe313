/*
 * pvpcid: the backend daemon.  Binds the functions it is told to export,
 * serves their frontends on one event loop, and on SIGTERM or SIGINT
 * restores and releases every function before it exits.  This file parses
 * arguments, sets up signals and logging; the library does the work.
 * Exit codes: 0 clean shutdown, 1 failure, 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pvpci/backend.h"
#include "pvpci/quirks.h"
#include "pvpci/statefile.h"

#define MAX_EXPORTS 256
#define DEFAULT_SOCKET "/run/pvpci/pvpcid.sock"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pvpcid [options]\n"
		"  --host SPEC            sysfs[:ROOT] (default), sim:FILE, shadow:SPEC\n"
		"  --mode passthrough|vpci  where guests see their functions (default vpci)\n"
		"  --socket PATH          local frontends connect here ($PVPCI_SOCKET or " DEFAULT_SOCKET ")\n"
		"  --export DOMID:BDF[@VSLOT][,permissive=1]  export a function (repeatable)\n"
		"  --state-dir DIR        saved config space ($PVPCI_STATE_DIR or " PVPCI_STATE_DIR_DEFAULT ")\n"
		"  --permissive           every function takes writes to bytes no register covers\n"
		"  --quirks FILE          pciback quirks lines DDDD:BB:DD.F-REG:SIZE:MASK\n"
		"  --verbose-requests     log every op, as pciback's verbose_request\n"
		"  --aer-timeout MS       how long a guest may take to answer an AER step (300000)\n"
		"  --background           detach once serving; --pidfile FILE says where it went\n");
}

struct exp {
	unsigned domid;
	struct pvpci_bdf bdf;
	int vslot;
	bool permissive;
};

static bool verbose;

static void log_stderr(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level >= 7 && !verbose)
		return;
	fprintf(stderr, "pvpcid: %s%s\n",
		level <= 3 ? "error: " : level == 4 ? "warning: " : "", msg);
}

/* DOMID:BDF[@VSLOT][,permissive=1] */
static int parse_export(const char *s, struct exp *e)
{
	char *end;
	const char *p;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end != ':' || v > 0x7fef)
		return -EINVAL;
	e->domid = (unsigned)v;
	e->vslot = -1;
	e->permissive = false;
	if (pvpci_bdf_parse_prefix(end + 1, &e->bdf, &p) < 0)
		return -EINVAL;
	if (*p == '@') {
		v = strtoul(p + 1, &end, 0);
		if (end == p + 1 || v > 31)
			return -EINVAL;
		e->vslot = (int)v;
		p = end;
	}
	while (*p == ',') {
		if (!strncmp(p, ",permissive=1", 13))
			e->permissive = true, p += 13;
		else if (!strncmp(p, ",permissive=0", 13))
			p += 13;
		else
			return -EINVAL;
	}
	return *p ? -EINVAL : 0;
}

static void sleep_us(void *ctx, unsigned usecs)
{
	struct timespec ts = { .tv_sec = usecs / 1000000, .tv_nsec = (long)(usecs % 1000000) * 1000 };

	(void)ctx;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* --background: the parent waits (bounded) until the child serves, so that
 * whoever started us may connect at once when we return. */
static int go_background(const char *pidfile, int *ret_ready_fd)
{
	int p[2];
	pid_t pid;
	char c;
	struct pollfd pf;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
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
				fprintf(stderr, "pvpcid: %s: %s\n", pidfile, strerror(errno));
				kill(pid, SIGTERM);
				_exit(1);
			}
		}
		_exit(0);
	}
	fprintf(stderr, "pvpcid: the daemon did not start\n");
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	_exit(1);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "mode", required_argument, NULL, 'm' },
		{ "socket", required_argument, NULL, 's' },
		{ "export", required_argument, NULL, 'e' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "permissive", no_argument, NULL, 'p' },
		{ "quirks", required_argument, NULL, 'q' },
		{ "verbose-requests", no_argument, NULL, 'v' },
		{ "aer-timeout", required_argument, NULL, 'A' },
		{ "background", no_argument, NULL, 'b' },
		{ "pidfile", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct exp exps[MAX_EXPORTS];
	const char *host_spec = "sysfs", *sock = getenv("PVPCI_SOCKET"), *quirks_path = NULL;
	const char *pidfile = NULL;
	struct pvpci_backend_cfg cfg = {
		.mode = PVPCI_TOPO_VPCI,
		.log = log_stderr,
		.dev = { .reset = PVPCI_SR_RESET_IF_AVAILABLE,
			 .cs = { .log = log_stderr, .delay = sleep_us } },
	};
	struct pvpci_quirks *quirks = NULL;
	struct pvpci_backend *b = NULL;
	struct pvpci_host *host = NULL;
	size_t nexp = 0;
	bool background = false;
	char err[1024];
	int opt, rc = 1, sfd = -1, ready_fd = -1;
	sigset_t sigs;

	if (!sock || !*sock)
		sock = DEFAULT_SOCKET;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'H': host_spec = optarg; break;
		case 'm':
			if (pvpci_topo_mode_parse(optarg, &cfg.mode) < 0) {
				fprintf(stderr, "pvpcid: --mode is passthrough or vpci\n");
				return 2;
			}
			break;
		case 's': sock = optarg; break;
		case 'e':
			if (nexp == MAX_EXPORTS || parse_export(optarg, &exps[nexp]) < 0) {
				fprintf(stderr, "pvpcid: --export %s: expected DOMID:BDF[@VSLOT][,permissive=1]\n",
					optarg);
				return 2;
			}
			nexp++;
			break;
		case 'd': cfg.dev.state_dir = optarg; break;
		case 'p': cfg.dev.cs.permissive = true; break;
		case 'q': quirks_path = optarg; break;
		case 'v': cfg.verbose = verbose = true; break;
		case 'A': cfg.aer_timeout_ms = atoi(optarg); break;
		case 'b': background = true; break;
		case 'P': pidfile = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (quirks_path) {
		FILE *f = fopen(quirks_path, "r");
		static char text[1 << 20];
		size_t len = f ? fread(text, 1, sizeof(text), f) : 0;

		if (!f) {
			fprintf(stderr, "pvpcid: %s: %s\n", quirks_path, strerror(errno));
			return 1;
		}
		fclose(f);
		if (pvpci_quirks_parse(text, len, &quirks, err, sizeof(err)) < 0) {
			fprintf(stderr, "pvpcid: %s: %s\n", quirks_path, err);
			return 1;
		}
		cfg.dev.quirks = quirks;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	if (background && go_background(pidfile, &ready_fd) < 0) {
		fprintf(stderr, "pvpcid: cannot go to the background: %s\n", strerror(errno));
		return 1;
	}
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0 || pvpci_host_open(host_spec, &host, err, sizeof(err)) < 0) {
		fprintf(stderr, "pvpcid: %s\n", sfd < 0 ? strerror(errno) : err);
		goto out;
	}
	cfg.host = host;
	if (pvpci_backend_new(&cfg, &b, err, sizeof(err)) < 0) {
		fprintf(stderr, "pvpcid: %s\n", err);
		goto out;
	}
	for (size_t i = 0; i < nexp; i++) {
		struct pvpci_bdf guest;
		char h[PVPCI_BDF_STRLEN], g[PVPCI_BDF_STRLEN];

		if (pvpci_backend_export(b, exps[i].domid, &exps[i].bdf, exps[i].vslot,
					 exps[i].permissive, &guest, err, sizeof(err)) < 0) {
			fprintf(stderr, "pvpcid: export %s to domain %u: %s\n",
				pvpci_bdf_format(&exps[i].bdf, h), exps[i].domid, err);
			goto out;
		}
		if (verbose)
			fprintf(stderr, "pvpcid: %s -> domain %u %s\n", pvpci_bdf_format(&exps[i].bdf, h),
				exps[i].domid, pvpci_bdf_format(&guest, g));
	}
	if (pvpci_backend_listen(b, sock, err, sizeof(err)) < 0) {
		fprintf(stderr, "pvpcid: %s\n", err);
		goto out;
	}
	if (ready_fd >= 0) {
		if (write(ready_fd, "R", 1) != 1)
			goto out;
		close(ready_fd);
		ready_fd = -1;
	}
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = pvpci_backend_fd(b), .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		int n = poll(p, 2, pvpci_backend_next_timeout(b));

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "pvpcid: poll: %s\n", strerror(errno));
			goto out;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				fprintf(stderr, "pvpcid: %s: restoring every function and stopping\n",
					strsignal((int)si.ssi_signo));
			rc = 0;
			break;
		}
		if (pvpci_backend_dispatch(b) < 0)
			goto out;
	}
out:
	pvpci_backend_free(b);	/* every function restored and released */
	if (rc == 0)
		unlink(sock);
	pvpci_host_close(host);
	pvpci_quirks_free(quirks);
	if (sfd >= 0)
		close(sfd);
	return rc;
}
