/*
 * pvpcid: the backend daemon.  Binds the functions it is told to export,
 * serves their frontends on one event loop, and on SIGTERM or SIGINT
 * restores and releases every function before it exits.  This file parses
 * arguments, sets up signals and logging; the library does the work.
 * Exit codes: 0 clean shutdown, 1 failure, 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "sandbox.h"
#include "pvpci/backend.h"
#include "pvpci/hypervisor.h"
#include "pvpci/quirks.h"
#include "pvpci/record.h"
#include "pvpci/statefile.h"
#include "pvpci/transport.h"
#include "pvpci/xenbus.h"

#include <xenstore.h>

#define MAX_EXPORTS 256
#define DEFAULT_SOCKET "/run/pvpci/pvpcid.sock"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pvpcid [options]\n"
		"  --host SPEC            sysfs[:ROOT] (default), sim:FILE, shadow:SPEC\n"
		"  --mode " PVPCI_TOPO_MODES "  where guests see their functions (default vpci;\n"
		"                         slot: each function alone at function 0 of a slot, buses 0 and 1)\n"
		"  --transport local|xen  how frontends share their page: xen (grant and event channel;\n"
		"                         the default where /dev/xen/gntdev and /dev/xen/evtchn exist) or\n"
		"                         local (a Unix socket)\n"
		"  --socket PATH          local frontends connect here ($PVPCI_SOCKET or " DEFAULT_SOCKET ")\n"
		"  --store PATH           follow the toolstack through the xenstore at PATH (pvpci-stored's\n"
		"                         socket, or xenstored's); $XENSTORED_PATH when set and no --export;\n"
		"                         with xen, libxenstore's default when neither is given\n"
		"  --export DOMID:BDF[@VSLOT][,permissive=1][,allow_shared_intx=1]\n"
		"                         export a function without a store (repeatable; local only)\n"
		"  --hide '(BDF)(BDF)'    functions seized at start, as pciback.hide (with a store)\n"
		"  --state-dir DIR        saved config space ($PVPCI_STATE_DIR or " PVPCI_STATE_DIR_DEFAULT ")\n"
		"  --permissive           every function takes writes to bytes no register covers\n"
		"  --allow-shared-intx    export functions whose legacy interrupt line another host device\n"
		"                         uses too (refused otherwise: Xen does not security-support it)\n"
		"  --quirks FILE          pciback quirks lines DDDD:BB:DD.F-REG:SIZE:MASK\n"
		"  --verbose-requests     log every op, as pciback's verbose_request (implies -v)\n"
		"  --record FILE          write every op with its answer, and each function's config space\n"
		"                         before the first, to FILE for `pvpci replay` (README: Record and replay)\n"
		"  --aer-timeout MS       how long a guest may take to answer an AER step (300000)\n"
		"  --poll-us US           after an answer, watch the page this long for the next op\n"
		"                         before sleeping (%u; 0: never)\n"
		"  --background           detach once serving; --pidfile FILE says where it went\n"
		"  --no-sandbox           keep every capability and no seccomp filter (README: Least privilege)\n"
		"  -v, --verbose          debug messages too (--log-level debug)\n",
		PVPCI_BACKEND_POLL_US);
	pvpci_daemon_log_usage(f, 25);
}

static struct pvpci_daemon_log lg = { .prog = "pvpcid" };

/* A second of polling after each op is already far past any use. */
#define MAX_POLL_US	1000000u

static int parse_poll_us(const char *s, unsigned *ret)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > MAX_POLL_US)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

struct exp {
	unsigned domid;
	struct pvpci_bdf bdf;
	int vslot;
	unsigned flags;		/* PVPCI_EXPORT_* */
};

/* DOMID:BDF[@VSLOT][,permissive=0|1][,allow_shared_intx=0|1] */
static int parse_export(const char *s, struct exp *e)
{
	char *end;
	const char *p;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end != ':' || v > 0x7fef)
		return -EINVAL;
	e->domid = (unsigned)v;
	e->vslot = -1;
	e->flags = 0;
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
		static const struct { const char *key; unsigned flag; } o[] = {
			{ ",permissive=", PVPCI_EXPORT_PERMISSIVE },
			{ ",allow_shared_intx=", PVPCI_EXPORT_SHARED_INTX },
		};
		size_t k, kl = 0;

		for (k = 0; k < sizeof(o) / sizeof(o[0]); k++) {
			kl = strlen(o[k].key);
			if (!strncmp(p, o[k].key, kl) && (p[kl] == '0' || p[kl] == '1'))
				break;
		}
		if (k == sizeof(o) / sizeof(o[0]))
			return -EINVAL;
		e->flags = p[kl] == '1' ? e->flags | o[k].flag : e->flags & ~o[k].flag;
		p += kl + 1;
	}
	return *p ? -EINVAL : 0;
}

/* The socket's directory (/run/pvpci by default) when it is missing. */
static int make_parent(const char *path)
{
	char dir[256];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		pvpci_daemon_logf(&lg, LOG_ERR, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	return 0;
}

/* --hide: mark each function assignable in the store, as if
 * `pvpci assignable-add` had seized it (pciback.hide at boot). */
static int seize_hidden(struct xs_handle *xs, const char *list)
{
	struct pvpci_bdf bdfs[MAX_EXPORTS];
	int n = pvpci_bdf_parse_list(list, bdfs, MAX_EXPORTS);

	if (n < 0) {
		pvpci_daemon_logf(&lg, LOG_ERR, "--hide %s: expected (BDF)(BDF)...", list);
		return n;
	}
	for (int i = 0; i < n; i++) {
		char path[96], bdf[PVPCI_BDF_STRLEN];

		pvpci_xb_assignable_path(&bdfs[i], path, sizeof(path));
		strcat(path, "/driver_path");
		if (!xs_write(xs, XBT_NULL, path, "", 0)) {
			pvpci_daemon_logf(&lg, LOG_ERR, "%s: %s", path, strerror(errno));
			return -errno;
		}
		/* pciback's words when its hide= list takes a function */
		pvpci_daemon_logf(&lg, LOG_INFO, "%s: seizing device", pvpci_bdf_format(&bdfs[i], bdf));
	}
	return 0;
}

/*
 * The capabilities pvpcid keeps: on sysfs, CAP_SYS_ADMIN, without which
 * Linux cuts reads of a config file at 64 bytes; it looks at whoever
 * opened the file, and functions are opened when they are attached, long
 * after the drop.  Writing config, reset and the state directory need
 * only the files' owner, root; sim devices need nothing.
 */
static uint64_t host_caps(const char *spec)
{
	while (!strncmp(spec, "shadow:", 7))
		spec += 7;
	return !strncmp(spec, "sysfs", 5) ? PVPCI_CAP_BIT(CAP_SYS_ADMIN) : 0;
}

static void sleep_us(void *ctx, unsigned usecs)
{
	struct timespec ts = { .tv_sec = usecs / 1000000, .tv_nsec = (long)(usecs % 1000000) * 1000 };

	(void)ctx;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A frontend granted a page: xenbus looks again once the backend's round
 * is over (a device taken over under a frontend that kept its page may
 * be waiting for it). */
static void on_granted(void *ctx, unsigned domid)
{
	(void)domid;
	*(bool *)ctx = true;
}

/* What the loop's watches tell main (pvpci_backend_watch). */
struct loop {
	int sfd;
	struct pvpci_xbback *xb;
	bool stop, failed;
};

static void on_signal(void *ctx)
{
	struct loop *l = ctx;

	pvpci_daemon_stopping(l->sfd, &lg, "restoring every function and stopping");
	l->stop = true;
}

static void on_store(void *ctx)
{
	struct loop *l = ctx;

	if (l->stop || pvpci_xbback_dispatch(l->xb) >= 0)
		return;
	pvpci_daemon_logf(&lg, LOG_ERR, "the store went away");
	l->stop = l->failed = true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "mode", required_argument, NULL, 'm' },
		{ "transport", required_argument, NULL, 'T' },
		{ "socket", required_argument, NULL, 's' },
		{ "export", required_argument, NULL, 'e' },
		{ "store", required_argument, NULL, 'S' },
		{ "hide", required_argument, NULL, 'i' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "permissive", no_argument, NULL, 'p' },
		{ "allow-shared-intx", no_argument, NULL, 'I' },
		{ "quirks", required_argument, NULL, 'Q' },
		{ "verbose-requests", no_argument, NULL, 'R' },
		{ "record", required_argument, NULL, 'r' },
		{ "aer-timeout", required_argument, NULL, 'A' },
		{ "poll-us", required_argument, NULL, 'U' },
		{ "background", no_argument, NULL, 'b' },
		{ "pidfile", required_argument, NULL, 'P' },
		{ "no-sandbox", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		PVPCI_DAEMON_LOG_OPTIONS,
		{ 0 },
	};
	static struct exp exps[MAX_EXPORTS];
	const char *host_spec = "sysfs", *sock = getenv("PVPCI_SOCKET"), *quirks_path = NULL;
	const char *pidfile = NULL, *store = NULL, *hide = NULL, *record = NULL;
	struct pvpci_recorder *rec = NULL;
	struct xs_handle *xs = NULL;
	struct pvpci_xbback *xb = NULL;
	struct pvpci_backend_cfg cfg = {
		.mode = PVPCI_TOPO_VPCI,
		.log = pvpci_daemon_log,
		.log_ctx = &lg,
		.poll_us = PVPCI_BACKEND_POLL_US,
		.dev = { .reset = PVPCI_SR_RESET_IF_AVAILABLE,
			 .cs = { .log = pvpci_daemon_log, .log_ctx = &lg, .delay = sleep_us } },
	};
	struct pvpci_quirks *quirks = NULL;
	struct pvpci_backend *b = NULL;
	struct pvpci_xen *xen = NULL;
	struct pvpci_hv *hv = NULL;
	const char *transport = NULL;
	bool on_xen;
	struct pvpci_host *host = NULL;
	size_t nexp = 0;
	bool background = false, sandbox = true, granted = false;
	char err[1024] = "";
	int opt, rc = 1, sfd = -1, ready_fd = -1, swept, r;
	struct loop loop;

	if (!sock || !*sock)
		sock = DEFAULT_SOCKET;
	while ((opt = getopt_long(argc, argv, "hvq", opts, NULL)) != -1) {
		switch (opt) {
		case 'H': host_spec = optarg; break;
		case 'm':
			if (pvpci_topo_mode_parse(optarg, &cfg.mode) < 0) {
				fprintf(stderr, "pvpcid: --mode is passthrough, vpci or slot\n");
				return 2;
			}
			break;
		case 'T': transport = optarg; break;
		case 's': sock = optarg; break;
		case 'S': store = optarg; break;
		case 'i': hide = optarg; break;
		case 'e':
			if (nexp == MAX_EXPORTS || parse_export(optarg, &exps[nexp]) < 0) {
				fprintf(stderr, "pvpcid: --export %s: expected DOMID:BDF[@VSLOT][,permissive=1][,allow_shared_intx=1]\n",
					optarg);
				return 2;
			}
			nexp++;
			break;
		case 'd': cfg.dev.state_dir = optarg; break;
		case 'p': cfg.dev.cs.permissive = true; break;
		case 'I': cfg.allow_shared_intx = true; break;
		case 'Q': quirks_path = optarg; break;
		case 'R': cfg.verbose = true; break;
		case 'r': record = optarg; break;
		case 'A': cfg.aer_timeout_ms = atoi(optarg); break;
		case 'U':
			if (parse_poll_us(optarg, &cfg.poll_us) < 0) {
				fprintf(stderr, "pvpcid: --poll-us is a number of microseconds, 0 to %u\n",
					MAX_POLL_US);
				return 2;
			}
			break;
		case 'b': background = true; break;
		case 'P': pidfile = optarg; break;
		case 'N': sandbox = false; break;
		case 'h': usage(stdout); return 0;
		default:
			switch (pvpci_daemon_log_option(&lg, opt, optarg)) {
			case 1: break;
			case 0: usage(stderr); return 2;
			default: return 2;
			}
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (transport && strcmp(transport, "local") && strcmp(transport, "xen")) {
		fprintf(stderr, "pvpcid: --transport is local or xen\n");
		return 2;
	}
	on_xen = transport ? !strcmp(transport, "xen") : pvpci_xen_present();
	if (on_xen && nexp) {
		fprintf(stderr, "pvpcid: --export needs --transport local: on Xen, attach with\n"
				"        `pvpci attach DOMID BDF` as xl pci-attach does\n");
		return 2;
	}
	if (cfg.verbose)
		lg.level = LOG_DEBUG;
	if (!store && !nexp && getenv("XENSTORED_PATH"))
		store = getenv("XENSTORED_PATH");
	if (store && nexp) {
		fprintf(stderr, "pvpcid: --export is for running without a store; with one, attach with\n"
				"        `pvpci attach DOMID BDF` as xl pci-attach does\n");
		return 2;
	}
	/* On Xen the toolstack always speaks through the store: xenstored's,
	 * where libxenstore finds it, unless told otherwise. */
	cfg.via_store = store != NULL || on_xen;
	pvpci_daemon_log_open(&lg);
	if (quirks_path) {
		if (pvpci_quirks_load(quirks_path, &quirks, err, sizeof(err)) < 0) {
			pvpci_daemon_logf(&lg, LOG_ERR, "%s", err);
			return 1;
		}
		cfg.dev.quirks = quirks;
	}
	sfd = pvpci_daemon_signals();
	if (sfd < 0) {
		pvpci_daemon_logf(&lg, LOG_ERR, "signals: %s", strerror(-sfd));
		return 1;
	}
	if (background && pvpci_daemon_background("pvpcid", pidfile, &ready_fd) < 0) {
		pvpci_daemon_logf(&lg, LOG_ERR, "cannot go to the background: %s", strerror(errno));
		return 1;
	}
	if (pvpci_host_open(host_spec, &host, err, sizeof(err)) < 0) {
		pvpci_daemon_logf(&lg, LOG_ERR, "%s", err);
		goto out;
	}
	cfg.host = host;
	if (record) {
		struct pvpci_recorder_cfg rc = {
			.host = host_spec, .mode = cfg.mode, .permissive = cfg.dev.cs.permissive,
			.quirks = quirks, .log = pvpci_daemon_log, .log_ctx = &lg,
		};

		if (pvpci_recorder_open(record, &rc, &rec, err, sizeof(err)) < 0) {
			pvpci_daemon_logf(&lg, LOG_ERR, "--record %s", err);
			goto out;
		}
		cfg.record = rec;
	}
	/* Xen's devices are opened before the sandbox; each frontend's event
	 * channel handle is opened when it connects, which needs nothing
	 * more than the device's owner (root). */
	if (on_xen) {
		if (pvpci_xen_open(&xen, err, sizeof(err)) < 0) {
			pvpci_daemon_logf(&lg, LOG_ERR, "%s; use --transport local", err);
			goto out;
		}
		if (pvpci_hv_open(&hv, err, sizeof(err)) < 0) {
			pvpci_daemon_logf(&lg, LOG_ERR, "the hypervisor (MSI and MSI-X need its pirqs): %s", err);
			goto out;
		}
		cfg.connect = pvpci_xen_connect;
		cfg.connect_ctx = xen;
		cfg.hv = hv;
	}
	cfg.granted = on_granted;
	cfg.granted_ctx = &granted;
	if (pvpci_backend_new(&cfg, &b, err, sizeof(err)) < 0) {
		pvpci_daemon_logf(&lg, LOG_ERR, "%s", err);
		goto out;
	}
	/* A save killed before its rename left its temporary file. */
	swept = pvpci_statefile_sweep(cfg.dev.state_dir, err, sizeof(err));
	if (swept < 0)
		pvpci_daemon_logf(&lg, LOG_WARNING, "%s", err);
	else if (swept)
		pvpci_daemon_logf(&lg, LOG_INFO, "%s: %d temporary file%s of a save that died removed",
				  pvpci_statefile_dir(cfg.dev.state_dir), swept, swept == 1 ? "" : "s");
	for (size_t i = 0; i < nexp; i++) {
		struct pvpci_bdf guest;
		char h[PVPCI_BDF_STRLEN], g[PVPCI_BDF_STRLEN];

		if (pvpci_backend_export(b, exps[i].domid, &exps[i].bdf, exps[i].vslot, exps[i].flags, &guest,
					 err, sizeof(err)) < 0) {
			pvpci_daemon_logf(&lg, LOG_ERR, "export %s to domain %u: %s",
					  pvpci_bdf_format(&exps[i].bdf, h), exps[i].domid, err);
			goto out;
		}
		pvpci_daemon_logf(&lg, LOG_DEBUG, "%s -> domain %u %s", pvpci_bdf_format(&exps[i].bdf, h),
				  exps[i].domid, pvpci_bdf_format(&guest, g));
	}
	/* Local frontends only: a Xen frontend's page comes through the store. */
	if (!on_xen && make_parent(sock) < 0)
		goto out;
	if (!on_xen && pvpci_backend_listen(b, sock, err, sizeof(err)) < 0) {
		pvpci_daemon_logf(&lg, LOG_ERR, "%s", err);
		goto out;
	}
	/* Before the store: its client's reader thread is started by the
	 * first watch, and capabilities are per thread. */
	if (sandbox && pvpci_sandbox_enter(host_caps(host_spec), err, sizeof(err)) < 0) {
		pvpci_daemon_logf(&lg, LOG_ERR, "sandbox: %s", err);
		goto out;
	}
	if (cfg.via_store) {
		if (store)
			setenv("XENSTORED_PATH", store, 1);
		xs = xs_open(0);
		if (!xs) {
			pvpci_daemon_logf(&lg, LOG_ERR, "cannot connect to the store at %s: %s",
					  store ? store : "libxenstore's default path", strerror(errno));
			goto out;
		}
		if (hide && seize_hidden(xs, hide) < 0)
			goto out;
		if (pvpci_xbback_new(xs, b, pvpci_daemon_log, &lg, &xb, err, sizeof(err)) < 0) {
			pvpci_daemon_logf(&lg, LOG_ERR, "%s", err);
			goto out;
		}
	}
	/* The signals and the store in the backend's own wait: an op that
	 * wakes pvpcid costs one epoll_wait, no poll before it. */
	loop = (struct loop){ .sfd = sfd, .xb = xb };
	r = pvpci_backend_watch(b, sfd, on_signal, &loop);
	if (!r && xb)
		r = pvpci_backend_watch(b, pvpci_xbback_fd(xb), on_store, &loop);
	if (r < 0) {
		pvpci_daemon_logf(&lg, LOG_ERR, "cannot wait for signals and the store: %s",
				  strerror(-r));
		goto out;
	}
	if (pvpci_daemon_ready(&ready_fd) < 0)
		goto out;
	while (!loop.stop) {
		int n = pvpci_backend_run(b, -1);

		if (n < 0) {
			pvpci_daemon_logf(&lg, LOG_ERR, "epoll_wait: %s", strerror(-n));
			goto out;
		}
		if (granted && !loop.stop) {
			granted = false;
			pvpci_xbback_rescan(xb);
		}
	}
	if (loop.failed)
		goto out;
	rc = 0;
out:
	pvpci_xbback_free(xb);	/* every device Closed in the store */
	pvpci_backend_free(b);	/* every function restored and released */
	pvpci_recorder_close(rec);	/* after the last event: the end line */
	if (xs)
		xs_close(xs);
	if (rc == 0 && !on_xen)
		unlink(sock);
	pvpci_hv_close(hv);
	pvpci_xen_close(xen);
	pvpci_host_close(host);
	pvpci_quirks_free(quirks);
	if (sfd >= 0)
		close(sfd);
	return rc;
}
