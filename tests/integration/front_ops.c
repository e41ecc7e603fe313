/*
 * A frontend that sends several config ops over one connection, for the
 * tests that need what one `pvpci front` command cannot give: a write and
 * the read that sees it before the frontend goes (a frontend going resets
 * its functions).  Each op is one argument: "r BDF OFF SIZE" or
 * "w BDF OFF SIZE VALUE" (numbers as strtoul reads them); each answer is
 * printed, "err=E value=0xV".  Exit 0, 1 when the backend refuses the
 * connection, 2 for bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvpci/front.h"

int main(int argc, char **argv)
{
	struct pvpci_front *f = NULL;
	char err[256];

	if (argc < 4) {
		fprintf(stderr, "usage: front_ops SOCKET DOMID 'r BDF OFF SIZE' | 'w BDF OFF SIZE VALUE'...\n");
		return 2;
	}
	if (pvpci_front_connect(argv[1], (unsigned)strtoul(argv[2], NULL, 0), NULL, &f, err,
				sizeof(err)) < 0) {
		fprintf(stderr, "front_ops: %s\n", err);
		return 1;
	}
	for (int i = 3; i < argc; i++) {
		char kind, bdf[32];
		long off, size, val = 0;
		struct pvpci_bdf dev;
		uint32_t v = 0;
		int r, n = sscanf(argv[i], "%c %31s %li %li %li", &kind, bdf, &off, &size, &val);

		if (n < 4 || pvpci_bdf_parse(bdf, &dev) < 0 || (kind != 'r' && kind != 'w') ||
		    (kind == 'w' && n != 5)) {
			fprintf(stderr, "front_ops: '%s': expected 'r BDF OFF SIZE' or 'w BDF OFF SIZE VALUE'\n",
				argv[i]);
			pvpci_front_close(f);
			return 2;
		}
		if (kind == 'r')
			r = pvpci_front_conf_read(f, &dev, (int)off, (int)size, &v);
		else
			r = pvpci_front_conf_write(f, &dev, (int)off, (int)size, (uint32_t)val);
		printf("err=%d value=0x%x\n", r, v);
	}
	pvpci_front_close(f);
	return 0;
}
