/*
 * A frontend built out of the tree against an installed libpvpci, the way
 * a frontend author builds one: only <pvpci/front.h> and
 * `pkg-config --cflags --libs pvpci` (tests/integration/test_install.sh
 * compiles and runs it).  Connects to a backend's local socket as a
 * domain, scans the root buses as pcifront does, and prints each
 * function's address and vendor:device ID read through conf_read.
 *
 * usage: tiny_front SOCKET DOMID
 */
#include <stdio.h>
#include <stdlib.h>

#include <pvpci/front.h>

int main(int argc, char **argv)
{
	struct pvpci_front_opts o = { .timeout_ms = 5000 };
	struct pvpci_front *f = NULL;
	struct pvpci_bdf devs[256];
	char err[256];
	size_t n = 0;
	int rc = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: tiny_front SOCKET DOMID\n");
		return 2;
	}
	if (pvpci_front_connect(argv[1], (unsigned)atoi(argv[2]), &o, &f, err, sizeof(err)) < 0) {
		fprintf(stderr, "tiny_front: %s\n", err);
		return 1;
	}
	if (pvpci_front_scan(f, devs, 256, &n) < 0) {
		fprintf(stderr, "tiny_front: the backend stopped answering\n");
		rc = 1;
	}
	for (size_t i = 0; !rc && i < n; i++) {
		char bdf[PVPCI_BDF_STRLEN];
		uint32_t id;
		int e = pvpci_front_conf_read(f, &devs[i], 0, 4, &id);

		if (e) {
			fprintf(stderr, "tiny_front: conf_read: %s\n", pvpci_err_name(e));
			rc = 1;
			break;
		}
		printf("%s %04x:%04x\n", pvpci_bdf_format(&devs[i], bdf), id & 0xffff, id >> 16);
	}
	pvpci_front_close(f);
	return rc;
}
