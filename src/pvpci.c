/*
 * pvpci: the operator's and the frontend author's command line.  Verbs in
 * xl's style; this file parses arguments and prints, the library does the
 * work.  Exit codes: 0 success, 1 the operation failed, 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pvpci/bdf.h"
#include "pvpci/confspace.h"
#include "pvpci/dump.h"
#include "pvpci/front.h"
#include "pvpci/hostdev.h"
#include "pvpci/hypervisor.h"
#include "pvpci/quirks.h"
#include "pvpci/saverestore.h"
#include "pvpci/statefile.h"
#include "pvpci/toolstack.h"
#include "pvpci/view.h"
#include "pvpci/xenbus.h"
#include "pvpci_cmds.h"
#include "pvpci_json.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <xenstore.h>

#define MAX_DEVS 1024

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pvpci <verb> [options]\n"
		"\n"
		"  view [--host SPEC] [--format lspci|table|json] [--json] [--permissive] [--quirks FILE]\n"
		"       [BDF...]\n"
		"        the config space a guest would see of each function (default: all)\n"
		"  capture [--host SPEC] BDF...\n"
		"        write functions' config space and BAR sizes as text `--host sim:FILE` loads\n"
		"  save [--host SPEC] [--state-dir DIR] BDF...\n"
		"        keep each function's BARs, cache line, latency, SERR/PERR, PCIe and AER\n"
		"        controls in DIR/<BDF>.state (DIR: $PVPCI_STATE_DIR or " PVPCI_STATE_DIR_DEFAULT ")\n"
		"  restore [--host SPEC] [--state-dir DIR] [--no-reset-ok | --no-reset] BDF...\n"
		"        bring each function to D0, reset it (refused when no reset is available\n"
		"        unless --no-reset-ok), and write back what save kept\n"
		"\n"
		"  replay [--permissive | --strict] [--quirks FILE | --no-quirks] [--mode MODE] [--partial] FILE\n"
		"        run a record of pvpcid --record again on simulated devices built from it, and\n"
		"        say which answers differ (exit 0: none, 1: some, 2: a bad record)\n"
		"\n"
		"  front [--socket PATH] [--store PATH] [--timeout MS] [--verbose-requests] [--json]\n"
		"        [--keep-page] DOMID SUBCOMMAND\n"
		"        a user-space pcifront for domain DOMID, through the protocol; with a store\n"
		"        ($XENSTORED_PATH or --store) it connects through xenbus as pcifront does\n"
		"        (--keep-page: as Linux's pcifront, it keeps its page when the backend dies,\n"
		"        for the next one to take over, and never connects anew):\n"
		"          lspci [--json]                     every visible function: lspci -xxxx text, or JSON\n"
		"          list                               the functions found on the root buses\n"
		"          read BDF OFFSET SIZE               one config read\n"
		"          write BDF OFFSET SIZE VALUE        one config write\n"
		"          msi BDF enable [N] | disable       MSI (N > 1: multi-message)\n"
		"          msix BDF enable ENTRY... | disable MSI-X with these table entries\n"
		"          run                                stay connected, follow hot attach and detach\n"
		"                                             (list after each rescan) until SIGTERM\n"
		"        (socket: $PVPCI_SOCKET or /run/pvpci/pvpcid.sock)\n"
		"\n"
		"  assignable-add [--host SPEC] [--force] [--name NAME] BDF\n"
		"        make a function assignable to guests; --host sysfs[:ROOT] seizes it for pci-stub\n"
		"        (default --host none: recorded in the store only)\n"
		"  assignable-remove [--host SPEC] [-r|--rebind] BDF\n"
		"        no longer assignable; -r gives it back to the driver it was taken from\n"
		"  assignable-list [-n] [--json]\n"
		"        the assignable functions no domain has (-n: with names)\n"
		"  attach [--host SPEC] [--timeout MS] DOMID BDF[@VSLOT][,permissive=1][,msitranslate=1]\n"
		"         [,power_mgmt=1][,seize=1][,rdm_policy=strict|relaxed][,allow_shared_intx=1]\n"
		"        pass a function to a guest as xl pci-attach does; allow_shared_intx=1 accepts\n"
		"        a legacy interrupt shared with another host device (not security supported)\n"
		"  detach [-f] [--timeout MS] [--host SPEC] DOMID BDF\n"
		"        take it back as xl pci-detach does; -f even when the guest does not answer\n"
		"  list [--json] DOMID      the domain's functions, as xl pci-list\n"
		"  domain-introduce [--name NAME] DOMID\n"
		"        without a hypervisor: what xl create does to pvpci-stored for a domain\n"
		"        (its socket PATH.d/DOMID appears; its home and name are written)\n"
		"        (these talk to the store: --store PATH, before or after the verb, or\n"
		"        $XENSTORED_PATH; -v says what they do; --timeout MS, default 10000, bounds\n"
		"        each wait on the backend and frontend)\n"
		"\n"
		"host SPEC: sysfs[:ROOT] (default, read-only), sim:FILE (lspci -x/-xxx/-xxxx text\n"
		"or a raw image), shadow:SPEC (writes kept in memory)\n");
}

static void log_stderr(void *ctx, int level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "pvpci: %s%s\n", level <= PVPCI_LOG_WARNING ? "warning: " : "", msg);
}

/* The engine's messages about a function: on stderr, and kept for view --json. */
static void log_view(void *ctx, int level, const char *msg)
{
	log_stderr(NULL, level, msg);
	cli_msgs_add(ctx, level, msg);
}

/* Read and parse a quirks file; says why on stderr when it cannot. */
int pvpci_load_quirks(const char *path, struct pvpci_quirks **ret)
{
	char err[512];
	int r = pvpci_quirks_load(path, ret, err, sizeof(err));

	if (r < 0)
		fprintf(stderr, "pvpci: %s\n", err);
	return r;
}

struct common {
	const char *host_spec;
	struct pvpci_host *host;
	struct pvpci_bdf bdfs[MAX_DEVS];
	size_t n;
};

/* Open the host and collect the BDFs named on the command line, or all. */
static int open_host_and_bdfs(struct common *c, int argc, char **argv)
{
	char err[PVPCI_ERRMSG_LEN + 64];

	if (pvpci_host_open(c->host_spec, &c->host, err, sizeof(err)) < 0) {
		fprintf(stderr, "pvpci: %s\n", err);
		return 1;
	}
	if (argc == 0) {
		if (pvpci_host_list(c->host, c->bdfs, MAX_DEVS, &c->n) < 0) {
			fprintf(stderr, "pvpci: cannot list devices of %s: %s\n", c->host_spec,
				pvpci_host_errmsg(c->host));
			return 1;
		}
		return 0;
	}
	for (int i = 0; i < argc && c->n < MAX_DEVS; i++) {
		if (pvpci_bdf_parse(argv[i], &c->bdfs[c->n]) < 0) {
			fprintf(stderr, "pvpci: '%s' is not a PCI address ([DDDD:]BB:DD.F)\n", argv[i]);
			return 2;
		}
		c->n++;
	}
	return 0;
}

static int cmd_view(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "format", required_argument, NULL, 'f' },
		{ "permissive", no_argument, NULL, 'p' },
		{ "quirks", required_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct common *c = calloc(1, sizeof(*c));
	struct cli_msgs msgs;
	struct pvpci_cs_opts cso = { .log = log_view, .log_ctx = &msgs };
	struct pvpci_quirks *quirks = NULL;
	struct pvpci_json *j = NULL;
	bool table = false, json = false, named;
	int opt, rc = 0;

	if (!c)
		return 1;
	c->host_spec = "sysfs";
	while ((opt = getopt_long(argc, argv, "H:f:pq:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'H': c->host_spec = optarg; break;
		case 'f':
			table = !strcmp(optarg, "table");
			json = !strcmp(optarg, "json");
			if (!table && !json && strcmp(optarg, "lspci")) {
				fprintf(stderr, "pvpci view: --format is lspci, table or json\n");
				free(c);
				return 2;
			}
			break;
		case 'p': cso.permissive = true; break;
		case 'j': json = true; table = false; break;
		case 'q':
			pvpci_quirks_free(quirks);
			quirks = NULL;
			if (pvpci_load_quirks(optarg, &quirks) < 0) {
				free(c);
				return 1;
			}
			break;
		case 'h': usage(stdout); pvpci_quirks_free(quirks); free(c); return 0;
		default: usage(stderr); pvpci_quirks_free(quirks); free(c); return 2;
		}
	}
	named = optind < argc;
	rc = open_host_and_bdfs(c, argc - optind, argv + optind);
	if (!rc && json && !(j = cli_json_start()))
		rc = 1;
	if (j) {
		pvpci_json_string(j, "host", c->host_spec);
		pvpci_json_bool(j, "permissive", cso.permissive);
		pvpci_json_begin_array(j, "functions");
	}
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		struct pvpci_hostdev *hd = NULL;
		struct pvpci_cs *cs = NULL;
		char bdf[PVPCI_BDF_STRLEN], err[512];
		int r;

		pvpci_bdf_format(&c->bdfs[i], bdf);
		r = pvpci_hostdev_open(c->host, &c->bdfs[i], &hd);
		if (r < 0) {
			fprintf(stderr, "pvpci: %s: %s\n", bdf,
				pvpci_host_errmsg(c->host)[0] ? pvpci_host_errmsg(c->host) : strerror(-r));
			rc = 1;
			break;
		}
		msgs.n = 0;
		r = pvpci_cs_new(hd, &cso, &cs, err, sizeof(err));
		if (r >= 0 && quirks && pvpci_quirks_apply(quirks, cs, err, sizeof(err)) < 0) {
			fprintf(stderr, "pvpci: %s: quirks: %s\n", bdf, err);
			rc = 1;
		} else if (r < 0) {
			/* Not exportable (a bridge, nothing there): say so and go on
			 * when listing everything; fail when it was asked for. */
			fprintf(stderr, "pvpci: %s: not exportable\n", err);
			if (json)
				cli_json_view_function(j, hd, NULL, err, &msgs);
			if (table)
				printf("%s: not exportable\n\n", err);
			if (named)
				rc = 1;
		} else if (json) {
			cli_json_view_function(j, hd, cs, NULL, &msgs);
		} else if (table) {
			pvpci_view_table(stdout, cs, hd->desc);
			printf("\n");
		} else {
			pvpci_view_lspci(stdout, cs, hd->desc);
		}
		pvpci_cs_free(cs);
		pvpci_hostdev_close(hd);
	}
	if (j) {
		pvpci_json_end_array(j);
		rc = cli_json_print(j, rc);
	}
	pvpci_host_close(c->host);
	pvpci_quirks_free(quirks);
	free(c);
	return rc;
}

static int cmd_capture(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct common *c = calloc(1, sizeof(*c));
	int opt, rc;

	if (!c)
		return 1;
	c->host_spec = "sysfs";
	while ((opt = getopt_long(argc, argv, "H:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'H': c->host_spec = optarg; break;
		case 'h': usage(stdout); free(c); return 0;
		default: usage(stderr); free(c); return 2;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "pvpci capture: name the functions to capture (BDF...)\n");
		free(c);
		return 2;
	}
	rc = open_host_and_bdfs(c, argc - optind, argv + optind);
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		static uint8_t cfg[PVPCI_CFG_EXP_SIZE];
		struct pvpci_hostdev *hd = NULL;
		char bdf[PVPCI_BDF_STRLEN];
		int r;

		pvpci_bdf_format(&c->bdfs[i], bdf);
		r = pvpci_hostdev_open(c->host, &c->bdfs[i], &hd);
		if (r >= 0)
			r = pvpci_hostdev_read_all(hd, cfg);
		if (r < 0) {
			fprintf(stderr, "pvpci: %s: %s\n", bdf,
				hd ? pvpci_hostdev_errmsg(hd) : pvpci_host_errmsg(c->host));
			pvpci_hostdev_close(hd);
			rc = 1;
			break;
		}
		pvpci_view_capture(stdout, hd, cfg);
		pvpci_hostdev_close(hd);
	}
	pvpci_host_close(c->host);
	free(c);
	return rc;
}

static void sleep_us(void *ctx, unsigned usecs)
{
	struct timespec ts = { .tv_sec = usecs / 1000000, .tv_nsec = (long)(usecs % 1000000) * 1000 };

	(void)ctx;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* save and restore: one function at a time, the first failure ends the verb. */
static int cmd_save_restore(int argc, char **argv, bool restore)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "no-reset-ok", no_argument, NULL, 'n' },
		{ "no-reset", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pvpci_sr_opts sro = { .reset = PVPCI_SR_RESET_REQUIRED, .log = log_stderr,
				     .delay = sleep_us };
	const char *verb = restore ? "restore" : "save", *dir = NULL;
	struct common *c = calloc(1, sizeof(*c));
	int opt, rc;

	if (!c)
		return 1;
	c->host_spec = "sysfs";
	while ((opt = getopt_long(argc, argv, "H:d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'H': c->host_spec = optarg; break;
		case 'd': dir = optarg; break;
		case 'n':
		case 'N':
			if (!restore) {
				fprintf(stderr, "pvpci save: --%s is an option of restore\n",
					opt == 'n' ? "no-reset-ok" : "no-reset");
				free(c);
				return 2;
			}
			sro.reset = opt == 'n' ? PVPCI_SR_RESET_IF_AVAILABLE : PVPCI_SR_RESET_NONE;
			break;
		case 'h': usage(stdout); free(c); return 0;
		default: usage(stderr); free(c); return 2;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "pvpci %s: name the functions (BDF...)\n", verb);
		free(c);
		return 2;
	}
	dir = pvpci_statefile_dir(dir);
	rc = open_host_and_bdfs(c, argc - optind, argv + optind);
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		struct pvpci_hostdev *hd = NULL;
		struct pvpci_sr_state st;
		char bdf[PVPCI_BDF_STRLEN], err[PVPCI_ERRMSG_LEN + 512] = "";
		int r;

		pvpci_bdf_format(&c->bdfs[i], bdf);
		/* Restore reads the file first: a missing or corrupt one must
		 * not cost the device a reset. */
		r = restore ? pvpci_statefile_load(dir, &c->bdfs[i], &st, err, sizeof(err)) : 0;
		if (r >= 0) {
			r = pvpci_hostdev_open(c->host, &c->bdfs[i], &hd);
			if (r < 0)
				snprintf(err, sizeof(err), "%s: %s", bdf,
					 pvpci_host_errmsg(c->host)[0] ? pvpci_host_errmsg(c->host)
								       : strerror(-r));
		}
		if (r >= 0)
			r = restore ? pvpci_sr_restore(hd, &st, &sro, err, sizeof(err))
				    : pvpci_sr_save(hd, &st, err, sizeof(err));
		if (r >= 0 && !restore)
			r = pvpci_statefile_save(dir, &st, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "pvpci %s: %s\n", verb, err[0] ? err : strerror(-r));
			rc = 1;
		} else {
			printf("%s %s: %u registers %s %s\n", restore ? "restored" : "saved", bdf,
			       st.nregs, restore ? "from" : "in", dir);
		}
		pvpci_hostdev_close(hd);
	}
	pvpci_host_close(c->host);
	free(c);
	return rc;
}

/* ---- front: a user-space pcifront ---- */

static int parse_num(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int front_err(const char *what, const char *bdf, int err)
{
	if (err >= -5)
		fprintf(stderr, "pvpci front: %s %s: %s (%s)\n", what, bdf, pvpci_err_name(err),
			pvpci_err_str(err));
	else
		fprintf(stderr, "pvpci front: %s %s: %s (errno %d)\n", what, bdf, strerror(-err), -err);
	return 1;
}

/* lspci, list, or (j not NULL) lspci --json's "functions". */
static int front_lspci(struct pvpci_front *f, bool list_only, struct pvpci_json *j)
{
	static uint8_t cfg[PVPCI_CFG_EXP_SIZE];
	struct pvpci_bdf devs[256 * 8];
	size_t n;
	int r = pvpci_front_scan(f, devs, 256 * 8, &n);

	if (r < 0) {
		fprintf(stderr, "pvpci front: the backend stopped answering: %s\n", strerror(-r));
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		char d[200], bdf[PVPCI_BDF_STRLEN];
		unsigned size;

		r = pvpci_front_read_config(f, &devs[i], cfg, &size);
		if (r < 0) {
			fprintf(stderr, "pvpci front: the backend stopped answering: %s\n", strerror(-r));
			return 1;
		}
		if (j) {
			pvpci_json_begin_object(j, NULL);
			pvpci_view_json_ids(j, &devs[i], cfg, NULL);
			pvpci_json_uint(j, "config_size", size);
			pvpci_json_hex(j, "config", cfg, size);
			pvpci_json_end_object(j);
		} else if (list_only)
			printf("%s %s\n", pvpci_bdf_format(&devs[i], bdf), pvpci_describe(cfg, d, sizeof(d)));
		else
			pvpci_dump_write(stdout, &devs[i], pvpci_describe(cfg, d, sizeof(d)), cfg, size, NULL);
	}
	return 0;
}

/* lspci --json: the root buses and every function found on them. */
static int front_json(struct pvpci_front *f, unsigned domid)
{
	struct pvpci_json *j = cli_json_start();
	uint32_t roots[256];
	size_t n = pvpci_front_roots(f, roots, 256);
	int rc;

	if (!j)
		return 1;
	pvpci_json_uint(j, "domid", domid);
	pvpci_json_begin_array(j, "roots");
	for (size_t i = 0; i < n && i < 256; i++) {
		pvpci_json_begin_object(j, NULL);
		pvpci_json_uint(j, "domain", roots[i] >> 8);
		pvpci_json_uint(j, "bus", roots[i] & 0xff);
		pvpci_json_end_object(j);
	}
	pvpci_json_end_array(j);
	pvpci_json_begin_array(j, "functions");
	rc = front_lspci(f, false, j);
	pvpci_json_end_array(j);
	return cli_json_print(j, rc);
}

static int front_msi(struct pvpci_front *f, const struct pvpci_bdf *dev, const char *bdf, int argc,
		     char **argv, bool msix)
{
	const char *what = msix ? "MSI-X" : "MSI";
	long n = 1;
	int err;

	if (argc >= 1 && !strcmp(argv[0], "disable") && argc == 1) {
		err = msix ? pvpci_front_disable_msix(f, dev) : pvpci_front_disable_msi(f, dev);
		if (err)
			return front_err(msix ? "disable_msix" : "disable_msi", bdf, err);
		printf("%s %s disabled\n", bdf, what);
		return 0;
	}
	if (argc < 1 || strcmp(argv[0], "enable")) {
		fprintf(stderr, "pvpci front: %s BDF enable ... | disable\n", msix ? "msix" : "msi");
		return 2;
	}
	if (msix) {
		struct pvpci_msix_entry e[PVPCI_SH_INFO_MAX_VEC];
		int k = argc - 1;

		if (k < 1 || k > PVPCI_SH_INFO_MAX_VEC) {
			fprintf(stderr, "pvpci front: msix BDF enable ENTRY... (1 to 128 entries)\n");
			return 2;
		}
		for (int i = 0; i < k; i++) {
			if (parse_num(argv[i + 1], 0, 0xffff, &n) < 0) {
				fprintf(stderr, "pvpci front: '%s' is not a table entry\n", argv[i + 1]);
				return 2;
			}
			e[i] = (struct pvpci_msix_entry){ .entry = (uint16_t)n };
		}
		err = pvpci_front_enable_msix(f, dev, e, (unsigned)k);
		if (err)
			return front_err("enable_msix", bdf, err);
		for (int i = 0; i < k; i++)
			printf("%s MSI-X entry %u: irq %u\n", bdf, e[i].entry, e[i].vector);
		return 0;
	}
	if (argc > 2 || (argc == 2 && parse_num(argv[1], 0, 0xffff, &n) < 0)) {
		fprintf(stderr, "pvpci front: msi BDF enable [N]\n");
		return 2;
	}
	uint32_t irq = 0;

	err = n == 1 && argc == 1 ? pvpci_front_enable_msi(f, dev, &irq)
				  : pvpci_front_enable_multi_msi(f, dev, (unsigned)n, &irq);
	if (err)
		return front_err(argc == 1 ? "enable_msi" : "enable_multi_msi", bdf, err);
	if (n == 1)
		printf("%s MSI: irq %u\n", bdf, irq);
	else
		printf("%s MSI: irqs %u-%u\n", bdf, irq, irq + (uint32_t)n - 1);
	return 0;
}

static void log_front(void *ctx, int level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "pvpci front: %s%s\n", level <= 3 ? "error: " : "", msg);
}

/* The scan after a reconfiguration or a reconnection, printed before the
 * frontend says Connected (xenbus.h: the toolstack may take the device
 * away after). */
static int front_rescanned(void *ctx, struct pvpci_front *f)
{
	int rc;

	(void)ctx;
	printf("rescanned\n");
	rc = front_lspci(f, true, NULL);
	fflush(stdout);
	return rc ? -EIO : 0;
}

/* `front DOMID run`: a frontend that stays, as a guest's pcifront does:
 * answers the backend's reconfigurations and prints what it finds after
 * each rescan, until SIGTERM / SIGINT or the backend closes. */
static int front_run(struct pvpci_xbfront *x, bool keep)
{
	struct pvpci_front *f = pvpci_xbfront_front(x);
	sigset_t sigs;
	int sfd, rc = 0;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0)
		return 1;
	printf("connected\n");
	rc = front_lspci(f, true, NULL);
	fflush(stdout);
	pvpci_xbfront_set_rescan(x, front_rescanned, NULL);
	while (!rc) {
		struct pollfd p[3] = {
			{ .fd = pvpci_xbfront_fd(x), .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = pvpci_front_chan(pvpci_xbfront_front(x))->ctl_fd, .events = POLLIN },
		};
		int r;

		if (poll(p, 3, -1) < 0)
			continue;
		if (p[1].revents)
			break;
		/* The store first: a channel that hangs up because the
		 * toolstack removed the device is a backend closing. */
		r = pvpci_xbfront_dispatch(x);
		if (r == -EPIPE) {
			printf("backend closing\n");
			break;
		}
		if (r < 0) {
			rc = 1;
			break;
		}
		if ((p[2].revents & (POLLHUP | POLLERR)) && keep) {
			/* As Linux's pcifront: nothing to do in the store; the
			 * page is offered to the next backend until it takes
			 * it (each try is a connect, which fails at once while
			 * nobody listens). */
			printf("backend gone: keeping the page\n");
			fflush(stdout);
			while ((r = pvpci_front_regrant(f)) < 0 && r != -EPROTO && r != -EEXIST) {
				struct pollfd s = { .fd = sfd, .events = POLLIN };

				if (poll(&s, 1, 50) > 0)
					break;
			}
			if (r < 0) {
				rc = r == -EPROTO || r == -EEXIST;
				break;
			}
			printf("page granted again\n");
		} else if (p[2].revents & (POLLHUP | POLLERR)) {
			char err[512];

			/* The backend died; a restarted one picks its functions
			 * up and the frontend connects to it again. */
			printf("backend gone: reconnecting\n");
			fflush(stdout);
			if (pvpci_xbfront_reconnect(x, err, sizeof(err)) < 0) {
				fprintf(stderr, "pvpci front: %s\n", err);
				rc = 1;
				break;
			}
		}
		fflush(stdout);
	}
	close(sfd);
	return rc;
}

static int cmd_front(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "store", required_argument, NULL, 'S' },
		{ "verbose-requests", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "keep-page", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pvpci_front_opts fo = { .log = log_front };
	const char *sock = getenv("PVPCI_SOCKET"), *sub, *store = getenv("XENSTORED_PATH");
	struct pvpci_front *f = NULL;
	struct pvpci_xbfront *xb = NULL;
	struct xs_handle *xs = NULL;
	struct pvpci_bdf dev;
	char err[512], bdf[PVPCI_BDF_STRLEN] = "";
	long domid, off = 0, size = 0, val = 0;
	bool json = false;
	int opt, rc;

	if (!sock || !*sock)
		sock = "/run/pvpci/pvpcid.sock";
	fo.socket = sock;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': sock = fo.socket = optarg; break;
		case 'S': store = optarg; break;
		case 't':
			if (parse_num(optarg, 1, 3600000, &val) < 0) {
				fprintf(stderr, "pvpci front: --timeout takes milliseconds\n");
				return 2;
			}
			fo.timeout_ms = (int)val;
			break;
		case 'v': fo.verbose = true; break;
		case 'j': json = true; break;
		case 'k': fo.keep_page = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || parse_num(argv[0], 0, 0x7fef, &domid) < 0) {
		fprintf(stderr, "pvpci front: DOMID SUBCOMMAND (lspci, list, read, write, msi, msix)\n");
		return 2;
	}
	sub = argv[1];
	argc -= 2;
	argv += 2;
	if (!strcmp(sub, "lspci") && argc == 1 && !strcmp(argv[0], "--json"))
		json = true;	/* after the subcommand too, as the other verbs take it */
	if (json && strcmp(sub, "lspci")) {
		fprintf(stderr, "pvpci front: --json is an option of lspci\n");
		return 2;
	}
	if (!strcmp(sub, "run") && (!store || !*store)) {
		fprintf(stderr, "pvpci front: run follows xenbus: give --store or $XENSTORED_PATH\n");
		return 2;
	}
	if (strcmp(sub, "lspci") && strcmp(sub, "list") && strcmp(sub, "run")) {
		if (argc < 1 || pvpci_bdf_parse(argv[0], &dev) < 0) {
			fprintf(stderr, "pvpci front: %s needs a PCI address ([DDDD:]BB:DD.F)\n", sub);
			return 2;
		}
		pvpci_bdf_format(&dev, bdf);
		bool rw = !strcmp(sub, "read") || !strcmp(sub, "write");

		if (rw && (argc != (sub[0] == 'r' ? 3 : 4) ||
			   parse_num(argv[1], -0x80000000L, 0x7fffffffL, &off) < 0 ||
			   parse_num(argv[2], -0x80000000L, 0x7fffffffL, &size) < 0 ||
			   (argc == 4 && parse_num(argv[3], 0, 0xffffffffL, &val) < 0))) {
			fprintf(stderr, "pvpci front: read BDF OFFSET SIZE | write BDF OFFSET SIZE VALUE\n");
			return 2;
		}
		if (strcmp(sub, "read") && strcmp(sub, "write") && strcmp(sub, "msi") &&
		    strcmp(sub, "msix")) {
			fprintf(stderr, "pvpci front: unknown subcommand '%s'\n", sub);
			return 2;
		}
	}
	if (store && *store) {
		setenv("XENSTORED_PATH", store, 1);
		xs = xs_open(0);
		if (!xs) {
			fprintf(stderr, "pvpci front: cannot connect to the store at %s: %s\n", store,
				strerror(errno));
			return 1;
		}
		if (pvpci_xbfront_open(xs, (unsigned)domid, sock, &fo, fo.timeout_ms ? fo.timeout_ms : 10000,
				       &xb, err, sizeof(err)) < 0) {
			fprintf(stderr, "pvpci front: %s\n", err);
			xs_close(xs);
			return 1;
		}
		f = pvpci_xbfront_front(xb);
	} else if (pvpci_front_connect(sock, (unsigned)domid, &fo, &f, err, sizeof(err)) < 0) {
		fprintf(stderr, "pvpci front: %s\n", err);
		return 1;
	}
	if (!strcmp(sub, "run")) {
		rc = front_run(xb, fo.keep_page);
	} else if (json) {
		rc = front_json(f, (unsigned)domid);
	} else if (!strcmp(sub, "lspci") || !strcmp(sub, "list")) {
		rc = front_lspci(f, sub[1] == 'i', NULL);
	} else if (!strcmp(sub, "read")) {
		uint32_t v;
		int e = pvpci_front_conf_read(f, &dev, (int)off, (int)size, &v);

		if (e)
			rc = front_err("read", bdf, e);
		else
			rc = printf("0x%0*x\n", (int)size * 2, v) < 0;
	} else if (!strcmp(sub, "write")) {
		int e = pvpci_front_conf_write(f, &dev, (int)off, (int)size, (uint32_t)val);

		rc = e ? front_err("write", bdf, e) : 0;
	} else {
		rc = front_msi(f, &dev, bdf, argc - 1, argv + 1, sub[3] == 'x');
	}
	if (xb) {
		pvpci_xbfront_close(xb);
		xs_close(xs);
	} else {
		pvpci_front_close(f);
	}
	return rc;
}

/* ---- the toolstack verbs, in xl's style (lib/toolstack.c does the work) ---- */

struct ts_args {
	const char *verb;
	const char *host_spec, *name;
	struct pvpci_ts_host host;
	struct pvpci_ts_opts o;
	bool verbose, rebind, names, json;
	struct xs_handle *xs;
};

static void log_ts(void *ctx, int level, const char *msg)
{
	const struct ts_args *a = ctx;

	if (level >= PVPCI_LOG_INFO && !a->verbose)
		return;
	fprintf(stderr, "pvpci %s: %s%s\n", a->verb, level <= 3 ? "error: " : level == 4 ? "warning: " : "",
		msg);
}

/*
 * Options of the toolstack verbs; allowed says which this verb takes (by
 * their short letter).  Then the store is opened.  0, or the exit code.
 */
static int ts_parse(struct ts_args *a, const char *allowed, int argc, char **argv, int nargs,
		    const char *args)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 'S' },
		{ "host", required_argument, NULL, 'H' },
		{ "timeout", required_argument, NULL, 't' },
		{ "name", required_argument, NULL, 'N' },
		{ "force", no_argument, NULL, 'f' },
		{ "rebind", no_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *store = getenv("XENSTORED_PATH");
	char err[512];
	long v;
	int opt;

	a->verb = argv[0];
	a->o.log = log_ts;
	a->o.log_ctx = a;
	while ((opt = getopt_long(argc, argv, "fnrvh", opts, NULL)) != -1) {
		if (opt != 'h' && opt != 'S' && opt != 'v' && (opt == '?' || !strchr(allowed, opt))) {
			if (opt != '?')
				fprintf(stderr, "pvpci %s: %s is not an option of this verb\n", a->verb,
					argv[optind - 1]);
			fprintf(stderr, "usage: pvpci %s %s\n", a->verb, args);
			return 2;
		}
		switch (opt) {
		case 'S': store = optarg; break;
		case 'H': a->host_spec = optarg; break;
		case 'N': a->name = optarg; break;
		case 'f': a->o.force = true; break;
		case 'r': a->rebind = true; break;
		case 'n': a->names = true; break;
		case 'j': a->json = true; break;
		case 'v': a->verbose = true; break;
		case 't':
			if (parse_num(optarg, 1, 3600000, &v) < 0) {
				fprintf(stderr, "pvpci %s: --timeout takes milliseconds\n", a->verb);
				return 2;
			}
			a->o.timeout_ms = (int)v;
			break;
		case 'h': usage(stdout); return -1;
		}
	}
	if (argc - optind != nargs) {
		fprintf(stderr, "usage: pvpci %s %s\n", a->verb, args);
		return 2;
	}
	if (pvpci_ts_host_parse(a->host_spec, &a->host, err, sizeof(err)) < 0) {
		fprintf(stderr, "pvpci %s: --host %s\n", a->verb, err);
		return 2;
	}
	a->host.force = a->o.force;
	a->o.host = &a->host;
	if (store && *store)
		setenv("XENSTORED_PATH", store, 1);
	a->xs = xs_open(0);
	if (!a->xs) {
		fprintf(stderr, "pvpci %s: cannot connect to the store%s%s: %s\n", a->verb,
			store && *store ? " at " : "", store && *store ? store : "", strerror(errno));
		return 1;
	}
	return 0;
}

static int ts_bdf(const struct ts_args *a, const char *s, struct pvpci_bdf *ret)
{
	if (pvpci_bdf_parse(s, ret) == 0)
		return 0;
	fprintf(stderr, "pvpci %s: '%s' is not a PCI address ([DDDD:]BB:DD.F)\n", a->verb, s);
	return 2;
}

static int ts_domid(const struct ts_args *a, const char *s, unsigned *ret)
{
	long v;

	if (parse_num(s, 1, 0x7fef, &v) == 0) {
		*ret = (unsigned)v;
		return 0;
	}
	fprintf(stderr, "pvpci %s: '%s' is not a guest's domain id (1 to 32751)\n", a->verb, s);
	return 2;
}

/* The library's answer: 0 or its message and 1. */
static int ts_result(const struct ts_args *a, int r, const char *err)
{
	if (r >= 0)
		return 0;
	fprintf(stderr, "pvpci %s: %s\n", a->verb, err[0] ? err : strerror(-r));
	return 1;
}

static int cmd_toolstack(int argc, char **argv)
{
	static const struct {
		const char *verb, *allowed, *args;
		int nargs;
	} verbs[] = {
		{ "assignable-add", "HNf", "[--host none|sysfs[:ROOT]] [--force] [--name NAME] BDF", 1 },
		{ "assignable-remove", "Hr", "[--host none|sysfs[:ROOT]] [-r|--rebind] BDF", 1 },
		{ "assignable-list", "nj", "[-n] [--json]", 0 },
		{ "attach", "Htf", "[--host SPEC] [--timeout MS] DOMID BDF[@VSLOT][,OPTION=VALUE...]", 2 },
		{ "detach", "Hft", "[-f] [--timeout MS] [--host SPEC] DOMID BDF", 2 },
		{ "list", "j", "[--json] DOMID", 1 },
		{ "domain-introduce", "N", "[--name NAME] DOMID", 1 },
	};
	struct ts_args a = { 0 };
	struct pvpci_bdf bdf;
	char err[1024] = "";
	unsigned domid = 0;
	size_t k = 0;
	char **pos;
	int rc;

	while (strcmp(verbs[k].verb, argv[0]))
		k++;
	rc = ts_parse(&a, verbs[k].allowed, argc, argv, verbs[k].nargs, verbs[k].args);
	if (rc)
		return rc < 0 ? 0 : rc;
	pos = argv + optind;
	/* On Xen, assignable-add and -remove put a function they seize in
	 * Xen's quarantine and take it out; attach and detach give the guest
	 * the function's memory, ports and interrupt and take them back. */
	if ((k == 3 || k == 4 || (k <= 1 && a.host.sysfs)) && pvpci_hv_present() &&
	    pvpci_hv_open(&a.o.hv, err, sizeof(err)) < 0) {
		fprintf(stderr, "pvpci %s: the hypervisor: %s\n", a.verb, err);
		rc = 1;
		goto out;
	}
	if (k == 0 || k == 1) {
		rc = ts_bdf(&a, pos[0], &bdf);
		if (rc)
			goto out;
		if (k == 0) {
			rc = pvpci_ts_assignable_add(a.xs, &a.o, &bdf, a.name, err, sizeof(err));
			if (rc == 1)
				fprintf(stderr, "pvpci %s: %s is assignable already\n", a.verb, pos[0]);
		} else {
			rc = pvpci_ts_assignable_remove(a.xs, &a.o, &bdf, a.rebind, err, sizeof(err));
			if (rc == 0 && a.rebind && !a.host.sysfs)
				fprintf(stderr, "pvpci %s: warning: --host none: not rebound to any driver\n", a.verb);
		}
		rc = ts_result(&a, rc, err);
	} else if (k == 2) {
		static struct pvpci_ts_assignable list[4096];
		size_t n = 0;

		rc = ts_result(&a, pvpci_ts_assignable_list(a.xs, list, 4096, &n, err, sizeof(err)), err);
		if (a.json) {
			rc = rc ? rc : cli_json_ts_list(-1, list, NULL, n);
			goto out;
		}
		for (size_t i = 0; !rc && i < n; i++)
			printf("%04x:%02x:%02x.%01x %s\n", list[i].bdf.domain, list[i].bdf.bus, list[i].bdf.dev,
			       list[i].bdf.fn, a.names ? list[i].name : "");
	} else {
		rc = ts_domid(&a, pos[0], &domid);
		if (rc)
			goto out;
		if (k == 3) {
			struct pvpci_pci_spec sp;

			if (pvpci_pci_spec_parse(pos[1], &sp, err, sizeof(err)) < 0) {
				fprintf(stderr, "pvpci %s: %s\n", a.verb, err);
				rc = 2;
				goto out;
			}
			rc = ts_result(&a, pvpci_ts_attach(a.xs, domid, &sp, &a.o, err, sizeof(err)), err);
		} else if (k == 6) {
			rc = ts_result(&a, pvpci_ts_domain_introduce(a.xs, domid, a.name, err, sizeof(err)),
				       err);
		} else if (k == 4) {
			rc = ts_bdf(&a, pos[1], &bdf);
			if (!rc)
				rc = ts_result(&a, pvpci_ts_detach(a.xs, domid, &bdf, &a.o, err, sizeof(err)), err);
		} else {
			struct pvpci_ts_dev devs[256];
			size_t n = 0;

			rc = ts_result(&a, pvpci_ts_list(a.xs, domid, devs, 256, &n, err, sizeof(err)), err);
			if (a.json) {
				rc = rc ? rc : cli_json_ts_list((int)domid, NULL, devs, n);
				goto out;
			}
			/* xl prints nothing for a domain without PCI devices */
			if (!rc && n)
				printf("Vdev Device\n");
			for (size_t i = 0; !rc && i < n; i++)
				printf("%02x.%01x %04x:%02x:%02x.%01x\n", devs[i].vdevfn >> 3, devs[i].vdevfn & 7,
				       devs[i].bdf.domain, devs[i].bdf.bus, devs[i].bdf.dev, devs[i].bdf.fn);
		}
	}
out:
	pvpci_hv_close(a.o.hv);
	xs_close(a.xs);
	return rc;
}

static bool is_ts_verb(const char *v)
{
	return !strcmp(v, "assignable-add") || !strcmp(v, "assignable-remove") ||
	       !strcmp(v, "assignable-list") || !strcmp(v, "attach") || !strcmp(v, "detach") ||
	       !strcmp(v, "list") || !strcmp(v, "domain-introduce");
}

int main(int argc, char **argv)
{
	/* pvpci --store PATH VERB ...: the store of every verb that uses one */
	while (argc >= 3 && !strcmp(argv[1], "--store")) {
		setenv("XENSTORED_PATH", argv[2], 1);
		argv[2] = argv[0];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "view"))
		return cmd_view(argc - 1, argv + 1);
	if (!strcmp(argv[1], "capture"))
		return cmd_capture(argc - 1, argv + 1);
	if (!strcmp(argv[1], "save") || !strcmp(argv[1], "restore"))
		return cmd_save_restore(argc - 1, argv + 1, argv[1][0] == 'r');
	if (!strcmp(argv[1], "front"))
		return cmd_front(argc - 1, argv + 1);
	if (!strcmp(argv[1], "replay"))
		return cmd_replay(argc - 1, argv + 1);
	if (is_ts_verb(argv[1]))
		return cmd_toolstack(argc - 1, argv + 1);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "pvpci: unknown verb '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
