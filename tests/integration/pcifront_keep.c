/*
 * A frontend that behaves as Linux's pcifront when its backend dies
 * (opts.keep_page): it connects through xenbus once (the store at
 * $XENSTORED_PATH, as domain DOMID, the local transport at SOCKET) and
 * never again, and keeps using its page, which a restarted pvpcid takes
 * over.  For test_adopt.sh, which needs one frontend to live through
 * pvpcid's deaths and to send ops when told.  Commands on stdin, one a
 * line, each answered by one line on stdout (flushed):
 *   read BDF OFF SIZE          0xVALUE (SIZE * 2 digits) | err E
 *   write BDF OFF SIZE VALUE   ok | err E
 *   msi BDF enable | disable   irq N | ok | err E
 *   page                       ref R port P (what it published)
 * and "sent" (flushed) just before each op goes to the page, for a test
 * that kills the backend with the op in flight.  Exits 0 at EOF, closing
 * as pcifront does when unloaded; 1 when it cannot connect; 2 for bad
 * usage or a command it does not know.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "pvpci/front.h"
#include "pvpci/xenbus.h"

static void log_err(void *ctx, int level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "pcifront_keep: <%d> %s\n", level, msg);
}

static void sent(void)
{
	printf("sent\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct pvpci_front_opts o = { .timeout_ms = 20000, .keep_page = true, .log = log_err };
	struct pvpci_xbfront *x = NULL;
	struct xs_handle *xs;
	char line[256], err[512];
	int rc = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: pcifront_keep SOCKET DOMID (store: $XENSTORED_PATH)\n");
		return 2;
	}
	xs = xs_open(0);
	if (!xs || pvpci_xbfront_open(xs, (unsigned)strtoul(argv[2], NULL, 0), argv[1], &o, 10000, &x, err,
				      sizeof(err)) < 0) {
		fprintf(stderr, "pcifront_keep: %s\n", xs ? err : "no store");
		if (xs)
			xs_close(xs);
		return 1;
	}
	printf("connected\n");
	fflush(stdout);
	while (!rc && fgets(line, sizeof(line), stdin)) {
		struct pvpci_front *f = pvpci_xbfront_front(x);
		char cmd[16], bdf[32], arg[16];
		unsigned long off = 0, size = 0, val = 0;
		struct pvpci_bdf dev;
		uint32_t v = 0;
		int n = sscanf(line, "%15s %31s %li %li %li", cmd, bdf, (long *)&off, (long *)&size, (long *)&val);
		int e;

		if (n >= 1 && !strcmp(cmd, "page")) {
			printf("ref %u port %u\n", pvpci_front_chan(f)->ref, pvpci_front_chan(f)->port);
		} else if (n < 2 || pvpci_bdf_parse(bdf, &dev) < 0) {
			rc = 2;
		} else if (!strcmp(cmd, "read") && n == 4) {
			sent();
			e = pvpci_front_conf_read(f, &dev, (int)off, (int)size, &v);
			if (e)
				printf("err %d\n", e);
			else
				printf("0x%0*x\n", (int)size * 2, v);
		} else if (!strcmp(cmd, "write") && n == 5) {
			sent();
			e = pvpci_front_conf_write(f, &dev, (int)off, (int)size, (uint32_t)val);
			printf(e ? "err %d\n" : "ok\n", e);
		} else if (!strcmp(cmd, "msi") && sscanf(line, "%*s %*s %15s", arg) == 1 &&
			   (!strcmp(arg, "enable") || !strcmp(arg, "disable"))) {
			sent();
			if (arg[0] == 'e') {
				e = pvpci_front_enable_msi(f, &dev, &v);
				if (!e)
					printf("irq %u\n", v);
			} else {
				e = pvpci_front_disable_msi(f, &dev);
				if (!e)
					printf("ok\n");
			}
			if (e)
				printf("err %d\n", e);
		} else {
			rc = 2;
		}
		fflush(stdout);
	}
	if (rc)
		fprintf(stderr, "pcifront_keep: not a command: %s", line);
	pvpci_xbfront_close(x);
	xs_close(xs);
	return rc;
}
