/*
 * pvpci replay: a record of pvpcid --record run again against simulated
 * devices built from it, and where the answers differ (README: Record and
 * replay).  This file parses arguments and prints; the library
 * (replay.h) replays.  Exit codes: 0 every answer as recorded, 1 some
 * differ, 2 a bad record or bad usage.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pvpci/record.h"
#include "pvpci/replay.h"
#include "pvpci_cmds.h"

static void replay_usage(FILE *f)
{
	fprintf(f,
		"usage: pvpci replay [--permissive | --strict] [--quirks FILE | --no-quirks]\n"
		"                    [--mode " PVPCI_TOPO_MODES "] [--partial] [--verbose] FILE\n"
		"  run the ops of FILE (pvpcid --record) against simulated devices built from it;\n"
		"  print each op whose answer differs and a summary.  Policy as recorded, unless:\n"
		"  --permissive / --strict   every function permissive / none\n"
		"  --quirks FILE / --no-quirks  these quirks / none, instead of the record's\n"
		"  --mode MODE               another topology\n"
		"  --partial                 replay a record without its end line (pvpcid killed)\n"
		"  --verbose                 the backend's messages too\n"
		"  exit 0: every answer as recorded; 1: some differ; 2: a bad record or usage\n");
}

struct printer {
	const struct pvpci_record *rec;
	bool verbose;
};

static void when(const struct pvpci_rec_event *e, char *buf, size_t len)
{
	snprintf(buf, len, "line %u, %" PRIu64 ".%09" PRIu64 " s", e->line, e->t_ns / 1000000000u,
		 e->t_ns % 1000000000u);
}

static void print_diff(void *ctx, const struct pvpci_replay_diff *d)
{
	const struct printer *pr = ctx;
	const struct pvpci_rec_event *e = &pr->rec->ev[d->event];
	char at[64], text[PVPCI_RECORD_MAX_LINE];
	struct pvpci_rec_answer want;
	struct pvpci_op sent;

	when(e, at, sizeof(at));
	if (!d->op) {
		printf("%s: %s: %s\n", d->note ? "note" : "differs", at, d->why);
		return;
	}
	pvpci_rec_event_op(pr->rec, e, &sent, &want);
	pvpci_rec_op_text(&sent, text, sizeof(text));
	printf("op %zu (%s): dom=%u %s\n", d->op, at, e->domid, text);
	pvpci_rec_answer_text(&want, text, sizeof(text));
	printf("  recorded: %s\n", text);
	if (d->answered)
		pvpci_rec_answer_text(&d->got, text, sizeof(text));
	else
		snprintf(text, sizeof(text), "%s", d->why);
	printf("  replayed: %s\n", text);
}

static void log_replay(void *ctx, int level, const char *msg)
{
	const struct printer *pr = ctx;

	if (pr->verbose)
		fprintf(stderr, "pvpci replay: %s%s\n", level <= 4 ? "warning: " : "", msg);
}

/* The state directory of the replay's binds, and what they may leave. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char path[4096];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "permissive", no_argument, NULL, 'p' },
		{ "strict", no_argument, NULL, 's' },
		{ "quirks", required_argument, NULL, 'q' },
		{ "no-quirks", no_argument, NULL, 'Q' },
		{ "mode", required_argument, NULL, 'm' },
		{ "partial", no_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pvpci_replay_opts o = { .permissive = -1 };
	struct pvpci_replay_result res;
	struct pvpci_quirks *quirks = NULL;
	struct pvpci_record *rec = NULL;
	struct printer pr = { 0 };
	const char *quirks_path = NULL, *tmp = getenv("TMPDIR");
	char err[1024], dir[4096];
	bool partial = false;
	int opt, rc = 2;

	while ((opt = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': o.permissive = 1; break;
		case 's': o.permissive = 0; break;
		case 'q': quirks_path = optarg; o.set_quirks = true; break;
		case 'Q': quirks_path = NULL; o.set_quirks = true; break;
		case 'm':
			if (pvpci_topo_mode_parse(optarg, &o.mode) < 0) {
				fprintf(stderr, "pvpci replay: --mode is " PVPCI_TOPO_MODES "\n");
				return 2;
			}
			o.set_mode = true;
			break;
		case 'P': partial = true; break;
		case 'v': pr.verbose = true; break;
		case 'h': replay_usage(stdout); return 0;
		default: replay_usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		replay_usage(stderr);
		return 2;
	}
	if (quirks_path && pvpci_load_quirks(quirks_path, &quirks) < 0)
		return 2;
	o.quirks = quirks;
	if (pvpci_record_load(argv[optind], &rec, err, sizeof(err)) < 0) {
		fprintf(stderr, "pvpci replay: %s\n", err);
		goto out;
	}
	if (!rec->ended && !partial) {
		fprintf(stderr, "pvpci replay: %s: line %u: the record ends without its end line: it was "
				"cut short, or pvpcid did not stop (killed?); --partial replays what it "
				"holds\n", argv[optind], rec->lines);
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s/pvpci-replay.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "pvpci replay: %s: %s\n", dir, strerror(errno));
		rc = 1;
		goto out;
	}
	pr.rec = rec;
	o.state_dir = dir;
	o.log = log_replay;
	o.log_ctx = &pr;
	o.diff = print_diff;
	o.diff_ctx = &pr;
	if (pvpci_replay_run(rec, &o, &res, err, sizeof(err)) < 0) {
		fprintf(stderr, "pvpci replay: %s\n", err);
		remove_dir(dir);
		rc = 1;
		goto out;
	}
	remove_dir(dir);
	printf("replayed %zu op%s of %s: ", res.ops, res.ops == 1 ? "" : "s", argv[optind]);
	if (!res.ops_differ && !res.events_differ)
		printf("every answer as recorded");
	else
		printf("%zu differ%s, %zu other event%s differ%s (the first at line %u)", res.ops_differ,
		       res.ops_differ == 1 ? "s" : "", res.events_differ,
		       res.events_differ == 1 ? "" : "s", res.events_differ == 1 ? "s" : "",
		       rec->ev[res.first_differ].line);
	if (res.notes)
		printf("; %zu note%s", res.notes, res.notes == 1 ? "" : "s");
	printf("\n");
	rc = res.ops_differ || res.events_differ ? 1 : 0;
out:
	pvpci_record_free(rec);
	pvpci_quirks_free(quirks);
	return rc;
}
