/*
 * Fuzz target: the record parser (pvpci_record_parse, record.h), which
 * reads what a bug report brings, and the replay of what it accepts.
 * The whole input is the record's text.
 *
 * Invariants besides memory safety:
 *  - a failure leaves the result untouched and says "line N: ..." with N
 *    within the text (one past its last line at most);
 *  - a success holds only what the format allows: every event's line
 *    within the text and after the one before, every op's entries and
 *    vectors (128 at most) and every function inside the record's pools,
 *    every dump whole, of 256 or 4096 bytes, of the function it follows;
 *  - what we read we write back the same: each op through
 *    pvpci_rec_op_text and pvpci_rec_answer_text, in a record of its
 *    own, parses to the same op and answer;
 *  - a record of at most 64 events and 8 functions replays (on tmpfs
 *    when there is one): pvpci_replay_run succeeds, counts every op once,
 *    differs on no more ops than it has, and leaves no file descriptor
 *    open; and no state file behind unless the backend said (an error)
 *    that a function could not be given back, as when a record's dumps
 *    of one function disagree on what it is.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "fuzz_input.h"
#include "pvpci/record.h"
#include "pvpci/replay.h"

static char state_dir[64];

static void state_dir_remove(void)
{
	rmdir(state_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(state_dir, sizeof(state_dir), "%s/pvpci-fuzz-record-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(state_dir))
		abort();
	atexit(state_dir_remove);
	return 0;
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		abort();
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void check_failure(const char *err, const uint8_t *data, size_t size)
{
	unsigned line, lines = 1;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (size > PVPCI_RECORD_MAX_BYTES)
		return;
	if (sscanf(err, "line %u: ", &line) != 1 || line < 1 || line > lines + 1)
		fuzz_fail("a failure says '%s' (the text has %u lines)", err, lines);
}

static void check_record(const struct pvpci_record *rec)
{
	unsigned last = 0;

	for (size_t i = 0; i < rec->nev; i++) {
		const struct pvpci_rec_event *e = &rec->ev[i];

		if (e->line <= last || e->line > rec->lines)
			fuzz_fail("event %zu at line %u (the one before at %u, %u lines)", i, e->line, last,
				  rec->lines);
		last = e->line;
		if (e->kind == PVPCI_REC_OP &&
		    (e->u.op.nent > PVPCI_SH_INFO_MAX_VEC || e->u.op.nvec > PVPCI_SH_INFO_MAX_VEC ||
		     e->u.op.ent + e->u.op.nent > rec->nu16 || e->u.op.vec + e->u.op.nvec > rec->nu16))
			fuzz_fail("op at line %u: %u entries at %zu, %u vectors at %zu, pool %zu", e->line,
				  e->u.op.nent, e->u.op.ent, e->u.op.nvec, e->u.op.vec, rec->nu16);
		if ((e->kind == PVPCI_REC_EXPORT || e->kind == PVPCI_REC_RESTART) && e->u.func >= rec->nfuncs)
			fuzz_fail("function %zu of %zu", e->u.func, rec->nfuncs);
	}
	for (size_t i = 0; i < rec->nfuncs; i++) {
		const struct pvpci_rec_func *f = &rec->funcs[i];

		if ((f->dump.len != PVPCI_CFG_SIZE && f->dump.len != PVPCI_CFG_EXP_SIZE) || !f->dump.whole ||
		    pvpci_bdf_cmp(&f->dump.bdf, &f->host) || !f->hidden || !f->quirks)
			fuzz_fail("function %zu: a dump of %u bytes, whole %d", i, f->dump.len, f->dump.whole);
	}
}

/* Every op written back as the recorder writes it, parsed again. */
static void round_trip(const struct pvpci_record *rec)
{
	static char line[PVPCI_RECORD_MAX_LINE];
	struct pvpci_record *back = NULL;
	char *text = NULL, err[512];
	size_t len = 0, k = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	fprintf(f, "pvpci-record 1\nstart 0.000000000\nbackend mode=vpci\n");
	for (size_t i = 0; i < rec->nev; i++) {
		struct pvpci_op sent;
		struct pvpci_rec_answer a;

		if (rec->ev[i].kind != PVPCI_REC_OP)
			continue;
		pvpci_rec_event_op(rec, &rec->ev[i], &sent, &a);
		pvpci_rec_op_text(&sent, line, sizeof(line));
		fprintf(f, "1 op dom=%u %s -> ", rec->ev[i].domid, line);
		pvpci_rec_answer_text(&a, line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	fclose(f);
	if (pvpci_record_parse(text, len, &back, err, sizeof(err)) < 0)
		fuzz_fail("the ops written back do not parse: %s\n%s", err, text);
	for (size_t i = 0; i < rec->nev; i++) {
		struct pvpci_op s1, s2;
		struct pvpci_rec_answer a1, a2;
		unsigned nent;

		if (rec->ev[i].kind != PVPCI_REC_OP)
			continue;
		pvpci_rec_event_op(rec, &rec->ev[i], &s1, &a1);
		pvpci_rec_event_op(back, &back->ev[k++], &s2, &a2);
		/* The entries the backend reads are what is written: those
		 * of an enable_msix, as many as it asks. */
		nent = s1.cmd == PVPCI_XEN_PCI_OP_enable_msix ?
		       (s1.value < PVPCI_SH_INFO_MAX_VEC ? s1.value : PVPCI_SH_INFO_MAX_VEC) : 0;
		for (unsigned j = nent; j < PVPCI_SH_INFO_MAX_VEC; j++)
			s1.msix_entries[j].entry = 0;
		if (memcmp(&s1, &s2, sizeof(s1)) || a1.err != a2.err || a1.value != a2.value ||
		    a1.nvec != a2.nvec || memcmp(a1.vectors, a2.vectors, a1.nvec * sizeof(a1.vectors[0])))
			fuzz_fail("the op of line %u does not read back the same:\n%s", rec->ev[i].line, text);
	}
	pvpci_record_free(back);
	free(text);
}

static unsigned errors;

static void count_errors(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)msg;
	errors += level <= 3;
}

/* Empty the state directory for the next input. */
static void state_dir_clean(void)
{
	DIR *d = opendir(state_dir);
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
}

static void replay(const struct pvpci_record *rec)
{
	struct pvpci_replay_opts o = { .state_dir = state_dir, .permissive = -1, .log = count_errors };
	struct pvpci_replay_result res;
	size_t fds = entries("/proc/self/fd"), ops = 0;
	char err[512];

	if (rec->nev > 64 || rec->nfuncs > 8)
		return;
	errors = 0;
	if (pvpci_replay_run(rec, &o, &res, err, sizeof(err)) < 0)
		fuzz_fail("the replay failed: %s", err);
	for (size_t i = 0; i < rec->nev; i++)
		ops += rec->ev[i].kind == PVPCI_REC_OP;
	if (res.ops != ops || res.ops_differ > ops)
		fuzz_fail("replayed %zu ops of %zu, %zu differ", res.ops, ops, res.ops_differ);
	if (entries("/proc/self/fd") != fds)
		fuzz_fail("the replay left %zu file descriptors open", entries("/proc/self/fd") - fds);
	if (entries(state_dir) && !errors)
		fuzz_fail("the replay left %zu files in its state directory, and no error was said",
			  entries(state_dir));
	state_dir_clean();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvpci_record *rec = (void *)&rec;
	char err[512] = "";
	int r = pvpci_record_parse((const char *)data, size, &rec, err, sizeof(err));

	if (r < 0) {
		if (rec != (void *)&rec)
			fuzz_fail("a failure (%d) changed the result", r);
		check_failure(err, data, size);
		return 0;
	}
	check_record(rec);
	round_trip(rec);
	replay(rec);
	pvpci_record_free(rec);
	return 0;
}
