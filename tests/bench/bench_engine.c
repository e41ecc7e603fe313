/*
 * Engine cost per guest config read, against a floor measured in the same
 * run: the same reads straight from the host device without the engine.
 * Prints medians and spread of batches, and the ratio.  No assertion on
 * time: the numbers are for people, the ratio is what to watch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_time.h"
#include "pvpci/confspace.h"
#include "pvpci/hostdev.h"

#define BATCHES 101
#define PER_BATCH 4096

static volatile uint32_t sink;

static void run(const char *what, struct pvpci_cs *cs, struct pvpci_hostdev *hd, double *out)
{
	for (int b = 0; b < BATCHES; b++) {
		double t0 = bench_now_ns();
		uint32_t v = 0;

		for (unsigned i = 0; i < PER_BATCH; i++) {
			unsigned off = (i * 4) & 0xfc;	/* sweep the header and capabilities */

			if (cs)
				pvpci_cs_read(cs, off, 4, &v);
			else
				pvpci_hostdev_read(hd, off, 4, &v);
			sink += v;
		}
		out[b] = (bench_now_ns() - t0) / PER_BATCH;
	}
	qsort(out, BATCHES, sizeof(*out), bench_cmp_double);
	printf("  %-34s median %7.1f ns  min %7.1f  p99 %7.1f\n", what, out[BATCHES / 2], out[0],
	       out[BATCHES * 99 / 100]);
}

int main(int argc, char **argv)
{
	const char *spec = argc > 1 ? argv[1] : NULL;
	struct pvpci_host *h = NULL;
	struct pvpci_hostdev *hd = NULL;
	struct pvpci_cs *cs = NULL;
	struct pvpci_bdf bdf;
	size_t n = 0;
	double floor_t[BATCHES], eng_t[BATCHES];
	char err[512];
	unsigned long r0;

	if (!spec) {
		fprintf(stderr, "usage: bench_engine HOSTSPEC (e.g. sim:fixtures/FILE)\n");
		return 2;
	}
	if (pvpci_host_open(spec, &h, err, sizeof(err)) < 0 || pvpci_host_list(h, &bdf, 1, &n) < 0 ||
	    !n || pvpci_hostdev_open(h, &bdf, &hd) < 0 ||
	    pvpci_cs_new(hd, NULL, &cs, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_engine: cannot open a device of %s: %s\n", spec, err);
		return 1;
	}
	printf("engine: 4-byte guest config reads over 0x00-0xff of the first device of %s\n", spec);
	run("floor: host device read", NULL, hd, floor_t);	/* warm-up */
	run("floor: host device read", NULL, hd, floor_t);
	run("engine: pvpci_cs_read", cs, NULL, eng_t);
	printf("  ratio engine/floor (median): %.2f\n", eng_t[BATCHES / 2] / floor_t[BATCHES / 2]);
	r0 = hd->n_reads;
	for (unsigned off = 0; off < 256; off += 4) {
		uint32_t v;

		pvpci_cs_read(cs, off, 4, &v);
	}
	printf("  host accesses per guest read (0x00-0xff): %.2f\n", (hd->n_reads - r0) / 64.0);
	pvpci_cs_free(cs);
	pvpci_hostdev_close(hd);
	pvpci_host_close(h);
	return 0;
}
