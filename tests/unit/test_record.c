/*
 * Record and replay (record.h, replay.h): the text of ops and answers;
 * the parser on every kind of event and on damaged records, each said
 * with its line; and end to end in this process: a backend on copies of
 * the fixtures' virtio functions records what a frontend (driving the
 * page through an in-process channel, as the replay does) makes of it
 * (config reads and writes, MSI and MSI-X, garbage, an AER sequence, a
 * reconnection, a function attached and one released mid-record), the
 * record is read back and replayed with no difference, and replayed with
 * every function permissive the ops whose answers that changes, exactly.
 * Then a record that cannot be written changes no answer, and a FIFO
 * reader too slow loses events whole and is told how many.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "pvpci/backend.h"
#include "pvpci/hostdev_sim.h"
#include "pvpci/record.h"
#include "pvpci/replay.h"
#include "pvpci/transport.h"

#ifndef PVPCI_SRC
#define PVPCI_SRC "."
#endif

static char errbuf[1024];

/* ---- text ---- */

static void test_op_text(void **state)
{
	struct pvpci_op o = { .cmd = PVPCI_XEN_PCI_OP_conf_read, .devfn = 3 << 3 | 1, .offset = 0x40,
			      .size = 4 };
	struct pvpci_rec_answer a = { .err = 0, .value = 0x10411af4 };
	char buf[PVPCI_RECORD_MAX_LINE];
	size_t n;

	(void)state;

	n = pvpci_rec_op_text(&o, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "conf_read 0000:00:03.1 off=0x40 size=4 value=0x0 info=0x0");
	pvpci_rec_answer_text(&a, buf, sizeof(buf));
	assert_string_equal(buf, "err=0 value=0x10411af4");
	/* What a frontend may send: any number anywhere. */
	o = (struct pvpci_op){ .cmd = 77, .domain = 0xffffffff, .bus = 0x100, .devfn = 0xffffffff,
			       .offset = INT32_MIN, .size = -2, .value = 5, .info = 9 };
	pvpci_rec_op_text(&o, buf, sizeof(buf));
	assert_string_equal(buf, "77 ffffffff:100:1fffffff.7 off=-0x80000000 size=-2 value=0x5 info=0x9");
	/* enable_msix: the entries it asks for, and the vectors it got. */
	o = (struct pvpci_op){ .cmd = PVPCI_XEN_PCI_OP_enable_msix, .value = 3 };
	o.msix_entries[0].entry = 0;
	o.msix_entries[1].entry = 5;
	o.msix_entries[2].entry = 2;
	o.msix_entries[3].entry = 9;	/* not asked for */
	pvpci_rec_op_text(&o, buf, sizeof(buf));
	assert_string_equal(buf, "enable_msix 0000:00:00.0 off=0x0 size=0 value=0x3 info=0x0 entries=0,5,2");
	{
		struct pvpci_op done = o;
		struct pvpci_rec_answer got;

		done.err = 0;
		done.value = 0;
		done.msix_entries[0].vector = 32;
		done.msix_entries[1].vector = 33;
		done.msix_entries[2].vector = 34;
		pvpci_rec_answer_of(&o, &done, &got);
		assert_int_equal(got.nvec, 3);
		pvpci_rec_answer_text(&got, buf, sizeof(buf));
		assert_string_equal(buf, "err=0 value=0x0 vectors=32,33,34");
		/* A failed one has none. */
		done.err = -28;
		pvpci_rec_answer_of(&o, &done, &got);
		assert_int_equal(got.nvec, 0);
		assert_false(pvpci_rec_answer_equal(&got, &a));
	}
	/* Cut to the buffer, as snprintf. */
	assert_int_equal(pvpci_rec_op_text(&o, buf, 8), 72);
	assert_string_equal(buf, "enable_");
}

/* ---- the parser ---- */

static const char hdr[] = "pvpci-record 1\nstart 1700000000.000000001\nhost sim:x\n"
			  "backend mode=vpci permissive=0\n";

/* A function's dump as pvpci capture writes it (256 bytes). */
static char *dump_of(unsigned dev, unsigned rows)
{
	static char d[4096];
	size_t n = (size_t)snprintf(d, sizeof(d), "0000:00:%02x.0 Ethernet controller: test\n", dev);

	for (unsigned r = 0; r < rows; r++) {
		n += (size_t)snprintf(d + n, sizeof(d) - n, "%02x:", r * 16);
		for (unsigned i = 0; i < 16; i++)
			n += (size_t)snprintf(d + n, sizeof(d) - n, " %02x",
					      r == 0 && i < 4 ? (unsigned[]){ 0xf4, 0x1a, 0x41, 0x10 }[i] : 0);
		d[n++] = '\n';
	}
	d[n] = '\0';
	return d;
}

static int parse(const char *text, struct pvpci_record **ret)
{
	return pvpci_record_parse(text, strlen(text), ret, errbuf, sizeof(errbuf));
}

static void test_parse_events(void **state)
{
	char text[8192];
	struct pvpci_record *rec = NULL;
	struct pvpci_rec_answer a;
	struct pvpci_op o;

	(void)state;
	snprintf(text, sizeof(text),
		 "pvpci-record 1\r\n"
		 "# a comment\n"
		 "start 1700000000.123456789\n"
		 "host sim:/tmp/some where/host\n"
		 "\n"
		 "backend mode=passthrough permissive=1\n"
		 "quirk 1af4:1041 44:4:ffff\n"
		 "quirk 0000:00:03.0-48:2:ff\n"
		 "10 export dom=1 host=00:03.0 guest=0000:00:03.0 permissive=1 hidden=0x11@0x70 quirks=0x44:4\n"
		 "%s\n"
		 "  # comments and blank lines between events\n"
		 "20 connect dom=1\n"
		 "30 op dom=1 conf_read 0000:00:03.0 off=0x44 size=4 -> err=0 value=0x1234\n"
		 "31 op dom=1 enable_msix 0:0:3.0 value=2 entries=7,0x8 -> value=0 vectors=40,41 err=0\n"
		 "32 op dom=1 99 ffffffff:0:1fffffff.7 off=-4 size=-1 info=0x10 -> err=-1 value=0\n"
		 "40 aer dom=1 host=0000:00:03.0 cmd=aer_detected state=2\n"
		 "41 aer-answer dom=1 host=0000:00:03.0 cmd=aer_detected result=timeout\n"
		 "42 lost events=12\n"
		 "50 disconnect dom=1\n"
		 "51 restart dom=1 host=0000:00:03.0 guest=0000:00:03.0\n"
		 "%s\n"
		 "60 unexport dom=1 host=0000:00:03.0\n"
		 "70 end\n"
		 "# after the end: comments only\n",
		 dump_of(3, 16), dump_of(3, 16));
	if (parse(text, &rec) < 0)
		fail_msg("%s", errbuf);
	assert_int_equal(rec->version, 1);
	assert_int_equal(rec->wall_sec, 1700000000);
	assert_int_equal(rec->wall_nsec, 123456789);
	assert_string_equal(rec->host, "sim:/tmp/some where/host");
	assert_int_equal(rec->mode, PVPCI_TOPO_PASSTHROUGH);
	assert_true(rec->permissive);
	assert_int_equal(pvpci_quirks_count(rec->quirks), 2);
	assert_true(rec->ended);
	assert_int_equal(rec->nev, 11);
	assert_int_equal(rec->nfuncs, 2);

	assert_int_equal(rec->ev[0].kind, PVPCI_REC_EXPORT);
	assert_int_equal(rec->ev[0].line, 9);
	assert_int_equal(rec->ev[0].t_ns, 10);
	assert_int_equal(rec->ev[0].domid, 1);
	assert_int_equal(rec->funcs[0].host.dev, 3);
	assert_true(rec->funcs[0].permissive);
	assert_string_equal(rec->funcs[0].hidden, "0x11@0x70");
	assert_string_equal(rec->funcs[0].quirks, "0x44:4");
	assert_int_equal(rec->funcs[0].dump.len, 256);
	assert_int_equal(rec->funcs[0].dump.cfg[0], 0xf4);
	assert_int_equal(rec->ev[1].kind, PVPCI_REC_CONNECT);
	assert_int_equal(rec->ev[1].line, 9 + 17 + 1 + 2);

	assert_int_equal(rec->ev[2].kind, PVPCI_REC_OP);
	pvpci_rec_event_op(rec, &rec->ev[2], &o, &a);
	assert_int_equal(o.cmd, PVPCI_XEN_PCI_OP_conf_read);
	assert_int_equal(o.devfn, 3 << 3);
	assert_int_equal(o.offset, 0x44);
	assert_int_equal(o.value, 0);	/* left out: 0 */
	assert_int_equal(a.value, 0x1234);
	pvpci_rec_event_op(rec, &rec->ev[3], &o, &a);
	assert_int_equal(o.cmd, PVPCI_XEN_PCI_OP_enable_msix);
	assert_int_equal(o.msix_entries[1].entry, 8);
	assert_int_equal(a.nvec, 2);
	assert_int_equal(a.vectors[1], 41);
	pvpci_rec_event_op(rec, &rec->ev[4], &o, &a);
	assert_int_equal(o.cmd, 99);
	assert_int_equal(o.domain, 0xffffffff);
	assert_int_equal(o.devfn, 0xffffffff);
	assert_int_equal(o.offset, -4);
	assert_int_equal(o.size, -1);
	assert_int_equal(o.info, 0x10);
	assert_int_equal(a.err, -1);

	assert_int_equal(rec->ev[5].kind, PVPCI_REC_AER);
	assert_int_equal(rec->ev[5].u.aer.cmd, PVPCI_XEN_PCI_OP_aer_detected);
	assert_int_equal(rec->ev[5].u.aer.val, 2);
	assert_true(rec->ev[6].u.aer.timeout);
	assert_int_equal(rec->ev[7].u.lost, 12);
	assert_int_equal(rec->ev[8].kind, PVPCI_REC_DISCONNECT);
	assert_int_equal(rec->ev[9].kind, PVPCI_REC_RESTART);
	assert_string_equal(rec->funcs[rec->ev[9].u.func].hidden, "-");
	assert_int_equal(rec->ev[10].kind, PVPCI_REC_UNEXPORT);
	assert_int_equal(rec->ev[10].u.host.dev, 3);
	pvpci_record_free(rec);
	pvpci_record_free(NULL);

	/* No events, no end: it parses, and says it did not end. */
	rec = NULL;
	assert_int_equal(parse(hdr, &rec), 0);
	assert_false(rec->ended);
	assert_int_equal(rec->nev, 0);
	pvpci_record_free(rec);
}

static void test_parse_errors(void **state)
{
	static char dump16[4096], dump15[4096], dump_other[4096];
	static const struct {
		const char *head, *body;
		const char *msg;
	} cases[] = {
		{ "", "", "line 1: empty: not a pvpci record" },
		{ "hello\n", "", "line 1: not a pvpci record (it starts 'pvpci-record 1')" },
		{ "pvpci-record 2\n", "", "line 1: a record of version 2; this pvpci reads version 1" },
		{ "pvpci-record 1\nbackend mode=vpci\n", "", "line 3: no 'start' line before the events" },
		{ "pvpci-record 1\nstart 1.000000000\n", "5 end\n", "line 3: no 'backend' line before the events" },
		{ "pvpci-record 1\nstart 1.5\n", "", "line 2: expected 'start SECONDS.NANOSECONDS'" },
		{ "pvpci-record 1\nstart 1.000000000\nbackend mode=hvm\n", "", "line 3: mode=hvm: expected passthrough|vpci|slot" },
		{ "pvpci-record 1\nstart 1.000000000\nbackend mode=vpci color=red\n", "", "line 3: unknown field 'color'" },
		{ "pvpci-record 1\nstart 1.000000000\nbackend mode=vpci\nquirk 1af4:1041 44:4:ffff\nquirk 1af4:1041 44:3:1\n",
		  "", "line 5: quirk: field '44:3:1': size must be 1, 2 or 4" },
		{ "pvpci-record 1\nstart 1.000000000\nbackend mode=vpci\nbogus\n", "", "line 4: unknown line 'bogus'" },
		{ NULL, "1 op dom=1 conf_read 0000:00:00.0 off=0 size=4 value=0 info=0 -> err=0 valu",
		  "line 5: 'valu': expected KEY=VALUE" },
		{ NULL, "1 op dom=1 conf_read 0000:00:00.0 off=0 size=4 value=0 info=0\n",
		  "line 5: no '->' and answer after the op" },
		{ NULL, "1 op dom=1 conf_read 0000:00:00.0 off=0 size=x -> err=0 value=0\n",
		  "line 5: size=x: expected a 32-bit number" },
		{ NULL, "1 op dom=1 conf_read 0000:00:00.0 off=0x100000000 -> err=0 value=0\n",
		  "line 5: off=0x100000000: expected a 32-bit number" },
		{ NULL, "1 op dom=1 conf_read 0000:00:00.0 -> err=0\n", "line 5: no value= field" },
		{ NULL, "1 op dom=1 conf_read 0000:00:00.0 size=1 size=2 -> err=0 value=0\n",
		  "line 5: field 'size' given twice" },
		{ NULL, "1 op dom=1 read 0000:00:00.0 -> err=0 value=0\n",
		  "line 5: 'read' is not an op (conf_read ... enable_multi_msi, or a number)" },
		{ NULL, "1 op dom=1 conf_read 0000:00:00.8 -> err=0 value=0\n",
		  "line 5: '0000:00:00.8': expected the op's DOMAIN:BUS:SLOT.FUNCTION (hex)" },
		{ NULL, "1 op dom=70000 conf_read 0000:00:00.0 -> err=0 value=0\n",
		  "line 5: dom=70000: expected a domain number (0-65535)" },
		{ NULL, "1 op dom=1 enable_msix 0:0:0.0 entries=1,,2 -> err=0 value=0\n",
		  "line 5: entries: '' is not a number of 16 bits" },
		{ NULL, "1 op dom=1 enable_msix 0:0:0.0 -> err=0 value=0 vectors=70000\n",
		  "line 5: vectors: '70000' is not a number of 16 bits" },
		{ NULL, "1 connect dom=1\nx op dom=1\n", "line 6: 'x': a header line among the events" },
		{ NULL, "1 frob dom=1\n", "line 5: unknown event 'frob'" },
		{ NULL, "1\n", "line 5: no event after the time" },
		{ NULL, "1 connect\n", "line 5: no dom= field" },
		{ NULL, "1 end\n2 connect dom=1\n", "line 6: an event after the end line" },
		{ NULL, "1 connect dom=1\nstart 1.000000000\n", "line 6: 'start': a header line among the events" },
		{ NULL, "1 connect dom=1\x01\n", "line 5: byte 0x01 at column 16 is not text" },
		{ NULL, "1 aer dom=1 host=00:03.0 cmd=conf_read state=1\n",
		  "line 5: cmd=conf_read: expected aer_detected, aer_mmio, aer_slotreset or aer_resume" },
		{ NULL, "1 aer-answer dom=1 host=00:03.0 cmd=aer_mmio result=never\n",
		  "line 5: result=never: expected a number or timeout" },
		{ NULL, "1 unexport dom=1 host=00:33.0\n", "line 5: host=00:33.0: expected a PCI address [DDDD:]BB:DD.F" },
		{ NULL, "1 export dom=1 host=00:03.0 guest=00:00.0\n\n", "line 5: no config dump of 0000:00:03.0 follows" },
		/* Dumps: cut short, of another function, damaged. */
		{ NULL, "1 export dom=1 host=00:03.0 guest=00:00.0\n", "line 5: no config dump of 0000:00:03.0 follows" },
		{ NULL, dump15, "line 6: the dump does not give every byte of 256 or 4096 of config space, as a record has them (cut short?)" },
		{ NULL, dump_other, "line 6: the dump is of 0000:00:04.0, not of host=00:03.0" },
		{ NULL, dump16, "line 8: bad hex byte at column 5" },
	};
	char text[16384];

	(void)state;
	snprintf(dump16, sizeof(dump16), "1 export dom=1 host=00:03.0 guest=00:00.0\n%s\n", dump_of(3, 16));
	memcpy(strstr(dump16, "\n10:") + 5, "zz", 2);
	snprintf(dump15, sizeof(dump15), "1 export dom=1 host=00:03.0 guest=00:00.0\n%s", dump_of(3, 15));
	snprintf(dump_other, sizeof(dump_other), "1 export dom=1 host=00:03.0 guest=00:00.0\n%s\n",
		 dump_of(4, 16));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pvpci_record *rec = (void *)&text;

		snprintf(text, sizeof(text), "%s%s", cases[i].head ? cases[i].head : hdr, cases[i].body);
		if (parse(text, &rec) != -EINVAL)
			fail_msg("case %zu parsed: %s", i, text);
		if (strncmp(errbuf, cases[i].msg, strlen(cases[i].msg)))
			fail_msg("case %zu: got '%s', want '%s'", i, errbuf, cases[i].msg);
		assert_ptr_equal(rec, (void *)&text);	/* untouched */
		assert_int_equal(pvpci_record_parse(text, strlen(text), &rec, NULL, 0), -EINVAL);
	}
	/* A record over the limit. */
	assert_int_equal(pvpci_record_parse(hdr, PVPCI_RECORD_MAX_BYTES + 1, &(struct pvpci_record *){ NULL },
					    errbuf, sizeof(errbuf)), -E2BIG);
	/* A line over the limit. */
	{
		size_t n = strlen(hdr);
		char *big = malloc(n + PVPCI_RECORD_MAX_LINE + 2);
		struct pvpci_record *rec = NULL;

		memcpy(big, hdr, n);
		memset(big + n, '1', PVPCI_RECORD_MAX_LINE + 1);
		big[n + PVPCI_RECORD_MAX_LINE + 1] = '\n';
		assert_int_equal(pvpci_record_parse(big, n + PVPCI_RECORD_MAX_LINE + 2, &rec, errbuf,
						    sizeof(errbuf)), -EINVAL);
		assert_string_equal(errbuf, "line 5: longer than 4096 bytes");
		free(big);
	}
	assert_int_equal(pvpci_record_load("/nonexistent/rec", &(struct pvpci_record *){ NULL }, errbuf,
					   sizeof(errbuf)), -ENOENT);
	assert_string_equal(errbuf, "cannot open /nonexistent/rec: No such file or directory");
}

/* ---- end to end ---- */

struct env {
	char dir[64], state[96], rec[96];
	struct pvpci_host *host;
	struct pvpci_backend *b;
	struct pvpci_recorder *r;
	struct pvpci_chan *front;
	size_t nops;			/* sent through op() */
	char log[1 << 14];
};

static void env_log(void *ctx, int level, const char *msg)
{
	struct env *e = ctx;
	size_t n = strlen(e->log);

	(void)level;
	snprintf(e->log + n, sizeof(e->log) - n, "%s\n", msg);
}

static const struct pvpci_bdf NET = { 0, 0, 3, 0 }, BLK = { 0, 0, 2, 0 };

static char *fixtures_text(size_t *ret_len)
{
	const char *src = getenv("PVPCI_SRC") && *getenv("PVPCI_SRC") ? getenv("PVPCI_SRC") : PVPCI_SRC;
	static char text[1 << 16];
	size_t n = 0;

	for (int i = 0; i < 2; i++) {
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/fixtures/virtio-%s.lspci", src, i ? "blk" : "net");
		f = fopen(path, "r");
		assert_non_null(f);
		n += fread(text + n, 1, sizeof(text) - n - 2, f);
		fclose(f);
		text[n++] = '\n';
	}
	*ret_len = n;
	return text;
}

/* A backend on the fixtures, recording to path (NULL: not). */
static struct env *env_new(const char *path)
{
	struct env *e = calloc(1, sizeof(*e));
	struct pvpci_backend_cfg bc = { .mode = PVPCI_TOPO_VPCI };
	struct pvpci_recorder_cfg rc = { .host = "sim:fixtures", .mode = PVPCI_TOPO_VPCI };
	size_t len;
	char *text = fixtures_text(&len);

	snprintf(e->dir, sizeof(e->dir), "/tmp/pvpci-record-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->state, sizeof(e->state), "%s/state", e->dir);
	snprintf(e->rec, sizeof(e->rec), "%s/rec", e->dir);
	assert_int_equal(mkdir(e->state, 0700), 0);
	if (pvpci_sim_host_from_text(text, len, &e->host, errbuf, sizeof(errbuf)) < 0)
		fail_msg("%s", errbuf);
	rc.log = env_log;
	rc.log_ctx = e;
	rc.log_limit = (struct pvpci_ratelimit_cfg){ .burst = 3, .interval_ms = 3600 * 1000 };
	if (path && pvpci_recorder_open(strcmp(path, "rec") ? path : e->rec, &rc, &e->r, errbuf,
					sizeof(errbuf)) < 0)
		fail_msg("%s", errbuf);
	bc.host = e->host;
	bc.dev.state_dir = e->state;
	bc.record = e->r;
	bc.log = env_log;
	bc.log_ctx = e;
	if (pvpci_backend_new(&bc, &e->b, errbuf, sizeof(errbuf)) < 0)
		fail_msg("%s", errbuf);
	return e;
}

static void env_free(struct env *e)
{
	pvpci_backend_free(e->b);
	pvpci_chan_close(e->front);
	pvpci_recorder_close(e->r);
	pvpci_host_close(e->host);
	unlink(e->rec);
	assert_int_equal(rmdir(e->state), 0);
	assert_int_equal(rmdir(e->dir), 0);
	free(e);
}

static void connect_front(struct env *e, unsigned domid)
{
	struct pvpci_chan *bc;

	assert_int_equal(pvpci_local_pair(domid, &e->front, &bc), 0);
	if (pvpci_backend_attach(e->b, bc, errbuf, sizeof(errbuf)) < 0)
		fail_msg("%s", errbuf);
}

static void disconnect_front(struct env *e)
{
	pvpci_chan_close(e->front);
	e->front = NULL;
	/* The backend sees the hang-up at its next round. */
	for (int i = 0; i < 100 && pvpci_backend_nfronts(e->b); i++)
		assert_int_equal(pvpci_backend_run(e->b, 10), 0);
	assert_int_equal(pvpci_backend_nfronts(e->b), 0);
}

/* One op through the page, as a frontend; its answer. */
static struct pvpci_rec_answer op(struct env *e, uint32_t cmd, unsigned devfn, int32_t off,
				  int32_t size, uint32_t value)
{
	struct pvpci_sharedinfo *sh = e->front->sh;
	struct pvpci_op sent = { .cmd = cmd, .devfn = devfn, .offset = off, .size = size,
				 .value = value, .info = cmd == PVPCI_XEN_PCI_OP_enable_multi_msi ? 2 : 0 };
	struct pvpci_rec_answer a;

	for (unsigned i = 0; i < 4; i++)
		sent.msix_entries[i].entry = (uint16_t)i;
	e->nops++;
	sh->op = sent;
	__atomic_fetch_or(&sh->flags, PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
	assert_int_equal(pvpci_chan_notify(e->front), 0);
	assert_int_equal(pvpci_backend_dispatch(e->b), 0);
	assert_false(__atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE) & PVPCI_XEN_PCIF_active);
	pvpci_chan_ack(e->front);
	pvpci_rec_answer_of(&sent, &sh->op, &a);
	return a;
}

static struct pvpci_rec_answer rd(struct env *e, unsigned devfn, int32_t off, int32_t size)
{
	return op(e, PVPCI_XEN_PCI_OP_conf_read, devfn, off, size, 0);
}

/* The frontend's answer to the AER step posted now. */
static void aer_answer(struct env *e, uint32_t want_cmd, int32_t result)
{
	struct pvpci_sharedinfo *sh = e->front->sh;

	assert_true(__atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE) & PVPCI_XEN_PCIB_active);
	assert_int_equal(sh->aer_op.cmd, want_cmd);
	sh->aer_op.err = result;
	__atomic_fetch_and(&sh->flags, ~(uint32_t)PVPCI_XEN_PCIB_active, __ATOMIC_RELEASE);
	assert_int_equal(pvpci_chan_notify(e->front), 0);
	assert_int_equal(pvpci_backend_dispatch(e->b), 0);
	pvpci_chan_ack(e->front);
}

/*
 * What a frontend does in the end-to-end test.  perm[] collects the op
 * numbers (from 1) of the reads that see a write to a byte no register
 * covers: what permissive changes.
 */
static void workload(struct env *e, size_t *perm, size_t *nperm)
{
	unsigned net = 0 << 3, blk = 1 << 3;

	*nperm = 0;
	assert_int_equal(pvpci_backend_export(e->b, 1, &NET, PVPCI_VSLOT_ANY, false, NULL, errbuf,
					      sizeof(errbuf)), 0);
	connect_front(e, 1);
	assert_int_equal(rd(e, net, 0, 4).value, 0x10411af4);
	assert_int_equal(rd(e, net, 0x100, 4).err, PVPCI_ERR_invalid_offset);
	assert_int_equal(rd(e, 3 << 3, 0, 4).err, PVPCI_ERR_dev_not_found);
	assert_int_equal(op(e, 42, net, 0, 4, 0).err, PVPCI_ERR_not_implemented);
	/* A write to a byte no register covers: dropped, unless permissive. */
	assert_int_equal(op(e, PVPCI_XEN_PCI_OP_conf_write, net, 0x44, 4, 0x12345678).err, 0);
	assert_int_equal(rd(e, net, 0x44, 4).value, 0);
	perm[(*nperm)++] = e->nops;
	/* Memory decode on, then MSI-X and MSI. */
	assert_int_equal(op(e, PVPCI_XEN_PCI_OP_conf_write, net, 4, 2, 0x6).err, 0);
	assert_int_equal(op(e, PVPCI_XEN_PCI_OP_enable_msix, net, 0, 0, 3).err, 0);
	assert_int_equal(op(e, PVPCI_XEN_PCI_OP_enable_msi, net, 0, 0, 0).err, PVPCI_ERR_op_failed);
	assert_int_equal(op(e, PVPCI_XEN_PCI_OP_disable_msix, net, 0, 0, 0).err, 0);
	op(e, PVPCI_XEN_PCI_OP_enable_multi_msi, net, 0, 0, 0);

	/* Hot attach while connected: the function appears mid-record. */
	assert_int_equal(pvpci_backend_export(e->b, 1, &BLK, PVPCI_VSLOT_ANY, false, NULL, errbuf,
					      sizeof(errbuf)), 0);
	assert_int_equal(rd(e, blk, 0, 4).value, 0x10421af4);
	assert_int_equal(op(e, PVPCI_XEN_PCI_OP_conf_write, blk, 0x48, 2, 0xbeef).err, 0);
	rd(e, blk, 0x48, 2);
	perm[(*nperm)++] = e->nops;

	/* An AER sequence: detected, need reset, slot reset recovered, resume. */
	__atomic_fetch_or(&e->front->sh->flags, PVPCI_XEN_PCIB_AERHANDLER, __ATOMIC_RELEASE);
	assert_int_equal(pvpci_backend_aer(e->b, &NET, PVPCI_PCI_CHANNEL_IO_FROZEN), 0);
	pvpci_chan_ack(e->front);
	aer_answer(e, PVPCI_XEN_PCI_OP_aer_detected, PVPCI_PCI_ERS_RESULT_NEED_RESET);
	aer_answer(e, PVPCI_XEN_PCI_OP_aer_slotreset, PVPCI_PCI_ERS_RESULT_RECOVERED);
	aer_answer(e, PVPCI_XEN_PCI_OP_aer_resume, PVPCI_PCI_ERS_RESULT_RECOVERED);
	assert_string_equal(pvpci_backend_aer_outcome(e->b),
			    "detected:need_reset,slotreset:recovered,resume:recovered");

	/* The frontend goes and comes back: its functions reset and restored. */
	disconnect_front(e);
	connect_front(e, 1);
	assert_int_equal(rd(e, net, 0x44, 4).err, 0);
	assert_int_equal(rd(e, net, 4, 2).err, 0);
	/* Hot detach of the first while connected. */
	assert_int_equal(pvpci_backend_unexport(e->b, 1, &NET, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(rd(e, net, 0, 4).err, PVPCI_ERR_dev_not_found);
	assert_int_equal(rd(e, blk, 0, 4).err, 0);
}

struct diffs {
	size_t n, notes;
	size_t ops[32];
	char why[8][320];
};

static void collect(void *ctx, const struct pvpci_replay_diff *d)
{
	struct diffs *ds = ctx;

	if (d->note) {
		if (ds->notes < 8)
			snprintf(ds->why[ds->notes], sizeof(ds->why[0]), "%s", d->why);
		ds->notes++;
		return;
	}
	if (ds->n < 32)
		ds->ops[ds->n] = d->op;
	ds->n++;
}

static void replay(struct env *e, struct pvpci_record *rec, int permissive, struct diffs *ds,
		   struct pvpci_replay_result *res)
{
	struct pvpci_replay_opts o = { .state_dir = e->state, .permissive = permissive,
				       .diff = collect, .diff_ctx = ds };

	memset(ds, 0, sizeof(*ds));
	if (pvpci_replay_run(rec, &o, res, errbuf, sizeof(errbuf)) < 0)
		fail_msg("%s", errbuf);
}

static void test_record_and_replay(void **state)
{
	struct env *e = env_new("rec");
	struct pvpci_record *rec = NULL;
	struct pvpci_replay_result res;
	struct diffs ds;
	size_t perm[8], nperm, nops;

	(void)state;
	workload(e, perm, &nperm);
	nops = e->nops;
	pvpci_backend_free(e->b);
	e->b = NULL;
	pvpci_recorder_close(e->r);
	e->r = NULL;

	if (pvpci_record_load(e->rec, &rec, errbuf, sizeof(errbuf)) < 0)
		fail_msg("%s", errbuf);
	assert_true(rec->ended);
	/* Everything went into the record: each kind of event. */
	{
		size_t kinds[PVPCI_REC_LOST + 1] = { 0 };

		for (size_t i = 0; i < rec->nev; i++)
			kinds[rec->ev[i].kind]++;
		assert_int_equal(kinds[PVPCI_REC_OP], nops);
		/* The backend's end drops the frontend (the function left
		 * restarted) and releases it. */
		assert_int_equal(kinds[PVPCI_REC_EXPORT], 2);
		assert_int_equal(kinds[PVPCI_REC_RESTART], 3);
		assert_int_equal(kinds[PVPCI_REC_UNEXPORT], 2);
		assert_int_equal(kinds[PVPCI_REC_CONNECT], 2);
		assert_int_equal(kinds[PVPCI_REC_DISCONNECT], 2);
		assert_int_equal(kinds[PVPCI_REC_AER], 3);
		assert_int_equal(kinds[PVPCI_REC_AER_ANSWER], 3);
		assert_int_equal(kinds[PVPCI_REC_LOST], 0);
	}

	/* As recorded: no difference, not even a note. */
	replay(e, rec, -1, &ds, &res);
	if (ds.notes)
		fail_msg("note: %s", ds.why[0]);
	assert_int_equal(res.ops, nops);
	assert_int_equal(res.ops_differ, 0);
	assert_int_equal(res.events_differ, 0);
	assert_int_equal(ds.n, 0);

	/* Every function permissive: exactly the reads of the dropped writes. */
	replay(e, rec, 1, &ds, &res);
	assert_int_equal(res.ops, nops);
	assert_int_equal(res.events_differ, 0);
	assert_int_equal(res.ops_differ, nperm);
	assert_int_equal(ds.n, nperm);
	for (size_t i = 0; i < nperm; i++)
		assert_int_equal(ds.ops[i], perm[i]);
	assert_int_equal(rec->ev[res.first_differ].kind, PVPCI_REC_OP);
	pvpci_record_free(rec);
	env_free(e);
}

/* A record that cannot be written costs the guest nothing: the same
 * answers as without one; the loss is said within the limit, and what
 * was written is whole events (a write cut by the limit is taken back). */
static void test_unwritable_record(void **state)
{
	struct rlimit old, lim;
	struct env *with, *without;
	struct pvpci_record *rec = NULL;
	struct pvpci_rec_answer a, b;
	void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);

	(void)state;
	with = env_new("rec");
	without = env_new(NULL);
	assert_int_equal(pvpci_backend_export(with->b, 1, &NET, PVPCI_VSLOT_ANY, false, NULL, errbuf,
					      sizeof(errbuf)), 0);
	assert_int_equal(pvpci_backend_export(without->b, 1, &NET, PVPCI_VSLOT_ANY, false, NULL, errbuf,
					      sizeof(errbuf)), 0);
	connect_front(with, 1);
	connect_front(without, 1);
	/* From here on no file of this process grows past 3000 bytes: the
	 * record has its header, the export, the connect and some ops. */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 3000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (int32_t off = 0; off < 0x100; off += 4) {
		a = rd(with, 0, off, 4);
		b = rd(without, 0, off, 4);
		assert_true(pvpci_rec_answer_equal(&a, &b));
	}
	assert_int_equal(op(with, PVPCI_XEN_PCI_OP_conf_write, 0, 4, 2, 6).err, 0);
	assert_int_equal(op(without, PVPCI_XEN_PCI_OP_conf_write, 0, 4, 2, 6).err, 0);
	a = op(with, PVPCI_XEN_PCI_OP_enable_msix, 0, 0, 0, 2);
	b = op(without, PVPCI_XEN_PCI_OP_enable_msix, 0, 0, 0, 2);
	assert_int_equal(a.nvec, 2);
	assert_true(pvpci_rec_answer_equal(&a, &b));
	assert_true(pvpci_recorder_lost(with->r) > 10);
	/* Said three times (the burst), the rest held back. */
	assert_non_null(strstr(with->log, ": cannot write: File too large; 1 events lost\n"));
	assert_non_null(strstr(with->log, "; 3 events lost\n"));
	assert_null(strstr(with->log, "; 4 events lost"));
	/* What is there reads as a record: whole events, each write cut
	 * short taken back (what fits in the end still goes: a small event,
	 * the end line). */
	pvpci_backend_free(with->b);
	with->b = NULL;
	pvpci_recorder_close(with->r);
	with->r = NULL;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);
	if (pvpci_record_load(with->rec, &rec, errbuf, sizeof(errbuf)) < 0)
		fail_msg("%s", errbuf);
	{
		size_t ops = 0;

		for (size_t i = 0; i < rec->nev; i++)
			ops += rec->ev[i].kind == PVPCI_REC_OP;
		assert_true(ops > 3);
		assert_true(ops < with->nops);
	}
	pvpci_record_free(rec);
	env_free(with);
	env_free(without);
}

/* A FIFO whose reader falls behind: events are lost whole, and the
 * "lost" lines account for every one. */
static void test_slow_fifo(void **state)
{
	char fifo[128];
	struct env *e;
	struct pvpci_record *rec = NULL;
	size_t cap = 1 << 20, len = 0, ops = 0, lost = 0, sent;
	unsigned long lost_total;
	char *text = malloc(cap);
	int rfd;
	ssize_t n;

	(void)state;
	snprintf(fifo, sizeof(fifo), "/tmp/pvpci-record-fifo-%d", (int)getpid());
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	rfd = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	e = env_new(fifo);
	assert_int_equal(pvpci_backend_export(e->b, 1, &NET, PVPCI_VSLOT_ANY, false, NULL, errbuf,
					      sizeof(errbuf)), 0);
	connect_front(e, 1);
	for (int i = 0; i < 100000 && pvpci_recorder_lost(e->r) < 3; i++)
		rd(e, 0, 0, 4);
	assert_int_equal(pvpci_recorder_lost(e->r), 3);
	while ((n = read(rfd, text + len, cap - len)) > 0)
		len += (size_t)n;
	/* Read: the next event goes out after its "lost" line. */
	rd(e, 0, 8, 4);
	sent = e->nops;
	lost_total = pvpci_recorder_lost(e->r);
	while ((n = read(rfd, text + len, cap - len)) > 0)
		len += (size_t)n;
	close(rfd);
	unlink(fifo);
	if (pvpci_record_parse(text, len, &rec, errbuf, sizeof(errbuf)) < 0)
		fail_msg("%s", errbuf);
	for (size_t i = 0; i < rec->nev; i++) {
		ops += rec->ev[i].kind == PVPCI_REC_OP;
		lost += rec->ev[i].kind == PVPCI_REC_LOST ? rec->ev[i].u.lost : 0;
	}
	assert_int_equal(lost, lost_total);
	assert_int_equal(ops + lost, sent);
	assert_int_equal(rec->ev[rec->nev - 2].kind, PVPCI_REC_LOST);
	assert_int_equal(rec->ev[rec->nev - 1].kind, PVPCI_REC_OP);
	assert_int_equal(rec->ev[rec->nev - 1].u.op.offset, 8);
	pvpci_record_free(rec);
	free(text);
	env_free(e);
}

/* A record already there is kept as .old, not written over. */
static void test_earlier_record_kept(void **state)
{
	struct pvpci_recorder_cfg rc = { .host = "first" };
	struct pvpci_recorder *r = NULL;
	struct pvpci_record *rec = NULL;
	char dir[64], path[96], old[104], host[16];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/pvpci-record-old-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rec", dir);
	snprintf(old, sizeof(old), "%s.old", path);
	for (int i = 0; i < 3; i++) {
		snprintf(host, sizeof(host), "run %d", i);
		rc.host = host;
		if (pvpci_recorder_open(path, &rc, &r, errbuf, sizeof(errbuf)) < 0)
			fail_msg("%s", errbuf);
		pvpci_record_front(r, 1, true);
		pvpci_recorder_close(r);
	}
	/* The last run's, and the one before it. */
	assert_int_equal(pvpci_record_load(path, &rec, errbuf, sizeof(errbuf)), 0);
	assert_string_equal(rec->host, "run 2");
	pvpci_record_free(rec);
	assert_int_equal(pvpci_record_load(old, &rec, errbuf, sizeof(errbuf)), 0);
	assert_string_equal(rec->host, "run 1");
	assert_true(rec->ended);
	assert_int_equal(rec->nev, 1);
	pvpci_record_free(rec);
	/* An empty file is no record: nothing kept. */
	assert_int_equal(unlink(old), 0);
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(pvpci_recorder_open(path, &rc, &r, errbuf, sizeof(errbuf)), 0);
	pvpci_recorder_close(r);
	assert_int_equal(access(old, F_OK), -1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_op_text),
		cmocka_unit_test(test_parse_events),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_record_and_replay),
		cmocka_unit_test(test_unwritable_record),
		cmocka_unit_test(test_slow_fifo),
		cmocka_unit_test(test_earlier_record_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
