/*
 * What pvpcid --record costs per op, against the same ops unrecorded in
 * the same run: a 4-byte conf_read put on the page, the backend's round
 * (dispatch: epoll, serve, the engine, the sim device) and the answer,
 * both ends in this process (pvpci_local_pair), so that only the backend
 * is timed.  Recorded to a file in the directory given (a tmpfs by
 * default): the op's line formatted and written, one write a line.  The
 * two backends take batches in turn, so that what else runs on the
 * machine weighs on both alike.  Medians and spread of batches, and the
 * ratio; nothing asserts on time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_time.h"
#include "pvpci/backend.h"
#include "pvpci/record.h"
#include "pvpci/transport.h"

#define BATCHES 51
#define PER_BATCH 2048

struct env {
	const char *what;
	struct pvpci_host *h;
	struct pvpci_recorder *r;
	struct pvpci_backend *b;
	struct pvpci_chan *fc;
	double t[BATCHES];
};

/* A backend on spec with its frontend, recording to path (NULL: not). */
static void env_open(struct env *e, const char *what, const char *spec, const char *state,
		     const char *path)
{
	struct pvpci_backend_cfg bc = { .mode = PVPCI_TOPO_VPCI };
	struct pvpci_recorder_cfg rc = { .host = spec, .mode = PVPCI_TOPO_VPCI };
	struct pvpci_bdf bdf = { 0, 0, 3, 0 };
	struct pvpci_chan *bch;
	char err[512];

	e->what = what;
	if (pvpci_host_open(spec, &e->h, err, sizeof(err)) < 0 ||
	    (path && pvpci_recorder_open(path, &rc, &e->r, err, sizeof(err)) < 0)) {
		fprintf(stderr, "bench_record: %s\n", err);
		exit(1);
	}
	bc.host = e->h;
	bc.dev.state_dir = state;
	bc.record = e->r;
	if (pvpci_backend_new(&bc, &e->b, err, sizeof(err)) < 0 ||
	    pvpci_backend_export(e->b, 1, &bdf, PVPCI_VSLOT_ANY, false, NULL, err, sizeof(err)) < 0 ||
	    pvpci_local_pair(1, &e->fc, &bch) < 0 || pvpci_backend_attach(e->b, bch, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_record: %s\n", err);
		exit(1);
	}
}

static void batch(struct env *e, int k)
{
	struct pvpci_chan *fc = e->fc;
	double t0 = bench_now_ns();

	for (unsigned i = 0; i < PER_BATCH; i++) {
		fc->sh->op = (struct pvpci_op){ .cmd = PVPCI_XEN_PCI_OP_conf_read, .size = 4 };
		__atomic_fetch_or(&fc->sh->flags, PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
		pvpci_chan_notify(fc);
		pvpci_backend_dispatch(e->b);
		pvpci_chan_ack(fc);
		if (fc->sh->op.value != 0x10411af4) {
			fprintf(stderr, "bench_record: the read answered 0x%x\n", fc->sh->op.value);
			exit(1);
		}
	}
	e->t[k] = (bench_now_ns() - t0) / PER_BATCH;
}

/* The median, after the line. */
static double report(struct env *e)
{
	qsort(e->t, BATCHES, sizeof(e->t[0]), bench_cmp_double);
	printf("  %-34s median %7.0f ns  min %7.0f  p99 %7.0f\n", e->what, e->t[BATCHES / 2], e->t[0],
	       e->t[BATCHES * 99 / 100]);
	return e->t[BATCHES / 2];
}

static void env_close(struct env *e)
{
	pvpci_backend_free(e->b);
	pvpci_chan_close(e->fc);
	pvpci_recorder_close(e->r);
	pvpci_host_close(e->h);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 2 ? argv[2] : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	static struct env e[2];
	char spec[512], state[256], file[300], states[2][300];
	double off, on;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_record FIXTURE [DIR]   (FIXTURE: virtio-net's dump)\n");
		return 2;
	}
	snprintf(spec, sizeof(spec), "sim:%s", argv[1]);
	snprintf(state, sizeof(state), "%s/bench-record-state.XXXXXX", dir);
	if (!mkdtemp(state)) {
		perror(state);
		return 1;
	}
	snprintf(file, sizeof(file), "%s/record", state);
	/* Each backend a state directory: both hold the function at once. */
	for (int i = 0; i < 2; i++) {
		snprintf(states[i], sizeof(states[i]), "%s/%d", state, i);
		mkdir(states[i], 0700);
	}
	env_open(&e[0], "not recorded (the floor)", spec, states[0], NULL);
	env_open(&e[1], "recorded to a file", spec, states[1], file);
	printf("a 4-byte conf_read through the backend's round, %d batches of %d, the two taken "
	       "in turn:\n", BATCHES, PER_BATCH);
	for (int k = 0; k < BATCHES; k++)
		for (int i = 0; i < 2; i++)
			batch(&e[i], k);
	off = report(&e[0]);
	on = report(&e[1]);
	printf("  ratio %.2f (+%.0f ns per op)\n", on / off, on - off);
	for (int i = 0; i < 2; i++) {
		env_close(&e[i]);
		rmdir(states[i]);
	}
	unlink(file);
	rmdir(state);
	return 0;
}
