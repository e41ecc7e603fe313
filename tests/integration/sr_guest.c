/*
 * A stand-in for a backend that holds a function for a guest, for
 * test_saverestore_kill.sh: binds HOST_SPEC's BDF (pvpci_cs_new, as the
 * daemon does), lets a guest write every pattern at every offset and size
 * through the engine (permissive, interrupt control allowed: as much as a
 * guest can ever reach), prints "ready PID" and waits to be killed.
 * Exit 1 with a message if it cannot bind.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "pvpci/bdf.h"
#include "pvpci/confspace.h"
#include "pvpci/hostdev.h"

int main(int argc, char **argv)
{
	static const uint32_t patterns[] = { 0xffffffffu, 0xa5a55a5au, 0 };
	struct pvpci_cs_opts o = { .permissive = true, .allow_interrupt_control = true };
	struct pvpci_host *h = NULL;
	struct pvpci_hostdev *hd = NULL;
	struct pvpci_cs *cs = NULL;
	struct pvpci_bdf bdf;
	char err[512];

	if (argc != 3 || pvpci_bdf_parse(argv[2], &bdf) < 0) {
		fprintf(stderr, "usage: sr_guest HOST_SPEC BDF\n");
		return 2;
	}
	if (pvpci_host_open(argv[1], &h, err, sizeof(err)) < 0 ||
	    pvpci_hostdev_open(h, &bdf, &hd) < 0 ||
	    pvpci_cs_new(hd, &o, &cs, err, sizeof(err)) < 0) {
		fprintf(stderr, "sr_guest: %s\n", hd ? err : h ? pvpci_host_errmsg(h) : err);
		return 1;
	}
	for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++)
		for (unsigned size = 1; size <= 4; size *= 2)
			for (unsigned off = 0; off < pvpci_cs_size(cs); off += size)
				pvpci_cs_write(cs, off, size,
					       size == 4 ? patterns[p] : patterns[p] & ((1u << (8 * size)) - 1));
	printf("ready %ld\n", (long)getpid());
	fflush(stdout);
	for (;;)
		pause();
}
