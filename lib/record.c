/*
 * Writing records (record.h): the recorder pvpcid's backend calls at each
 * event, and the text of ops and answers that the reader and replay's
 * report share.  The format is documented in record.h and the README.
 *
 * A record must not change what a guest sees: the hooks run after the
 * answer is made, only read what they are given, and a write that fails
 * is counted and said (within a rate limit), never returned.  Each event
 * goes out in one write at the end of what was written before; when a
 * write fails half done, the file is cut back to the last whole event, so
 * what a reader finds is whole lines (the next event that goes out is
 * preceded by a "lost" line saying how many were dropped).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "errmsg.h"
#include "pvpci/record.h"
#include "pvpci/view.h"

/* ---- text shared with the reader ---- */

struct sb {
	char *buf;
	size_t len, n;
};

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int m;

	va_start(ap, fmt);
	m = vsnprintf(b->n < b->len ? b->buf + b->n : NULL, b->n < b->len ? b->len - b->n : 0, fmt, ap);
	va_end(ap);
	if (m > 0)
		b->n += (size_t)m;
}

static void sb_list(struct sb *b, const char *key, const uint16_t *v, size_t stride, unsigned n)
{
	if (!n)
		return;
	sb_printf(b, " %s=", key);
	for (unsigned i = 0; i < n; i++)
		sb_printf(b, "%s%u", i ? "," : "", v[i * stride]);
}

void pvpci_rec_answer_of(const struct pvpci_op *sent, const struct pvpci_op *done,
			 struct pvpci_rec_answer *ret)
{
	ret->err = done->err;
	ret->value = done->value;
	ret->nvec = 0;
	/* What serve writes back: the vectors of the entries asked for, when
	 * the enable succeeded (it never does for more than the page holds). */
	if (sent->cmd == PVPCI_XEN_PCI_OP_enable_msix && done->err == 0)
		ret->nvec = sent->value < PVPCI_SH_INFO_MAX_VEC ? sent->value : PVPCI_SH_INFO_MAX_VEC;
	for (unsigned i = 0; i < ret->nvec; i++)
		ret->vectors[i] = done->msix_entries[i].vector;
}

bool pvpci_rec_answer_equal(const struct pvpci_rec_answer *a, const struct pvpci_rec_answer *b)
{
	return a->err == b->err && a->value == b->value && a->nvec == b->nvec &&
	       !memcmp(a->vectors, b->vectors, a->nvec * sizeof(a->vectors[0]));
}

size_t pvpci_rec_op_text(const struct pvpci_op *sent, char *buf, size_t len)
{
	struct sb b = { buf, len, 0 };
	const char *name = pvpci_op_name(sent->cmd);
	unsigned nent = 0;

	if (len)
		buf[0] = '\0';
	if (name)
		sb_printf(&b, "%s", name);
	else
		sb_printf(&b, "%" PRIu32, sent->cmd);
	sb_printf(&b, " %04" PRIx32 ":%02" PRIx32 ":%02" PRIx32 ".%" PRIx32, sent->domain, sent->bus,
		  sent->devfn >> 3, sent->devfn & 7);
	if (sent->offset < 0)
		sb_printf(&b, " off=-0x%" PRIx32, (uint32_t)(-(int64_t)sent->offset));
	else
		sb_printf(&b, " off=0x%" PRIx32, (uint32_t)sent->offset);
	sb_printf(&b, " size=%" PRId32 " value=0x%" PRIx32 " info=0x%" PRIx32, sent->size, sent->value,
		  sent->info);
	/* The entries the backend reads: as many as value asks, within the page. */
	if (sent->cmd == PVPCI_XEN_PCI_OP_enable_msix)
		nent = sent->value < PVPCI_SH_INFO_MAX_VEC ? sent->value : PVPCI_SH_INFO_MAX_VEC;
	sb_list(&b, "entries", &sent->msix_entries[0].entry, 2, nent);
	return b.n;
}

size_t pvpci_rec_answer_text(const struct pvpci_rec_answer *a, char *buf, size_t len)
{
	struct sb b = { buf, len, 0 };

	if (len)
		buf[0] = '\0';
	sb_printf(&b, "err=%" PRId32 " value=0x%" PRIx32, a->err, a->value);
	sb_list(&b, "vectors", a->vectors, 1, a->nvec);
	return b.n;
}

/* ---- the recorder ---- */

struct pvpci_recorder {
	int fd;
	bool seekable;			/* a regular file: cut back on failure */
	bool pipe;			/* a FIFO or socket: SIGPIPE kept out */
	off_t off;			/* the end of the last whole event */
	struct timespec t0;
	unsigned long lost;		/* since the last event written */
	unsigned long lost_total;
	char *path;
	pvpci_log_fn log;
	void *log_ctx;
	struct pvpci_ratelimit rl;
};

static uint64_t since(const struct pvpci_recorder *r)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(t.tv_sec - r->t0.tv_sec) * 1000000000u + (uint64_t)t.tv_nsec -
	       (uint64_t)r->t0.tv_nsec;
}

/* Drop what a failed write left past the last whole event.  Should this
 * fail too, the next write goes over it all the same, and close cuts
 * again. */
static void cut_back(struct pvpci_recorder *r)
{
	if (r->seekable && ftruncate(r->fd, r->off) < 0)
		return;
}

/*
 * write() that turns SIGPIPE into EPIPE: a FIFO whose reader went must
 * not kill the backend, and the library does not change what the
 * process does with signals.  Only FIFOs and sockets come here.
 */
static ssize_t write_nosig(int fd, const void *buf, size_t n)
{
	sigset_t pipe, old, pending;
	bool was_pending;
	ssize_t w;
	int e;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, &old);
	w = write(fd, buf, n);
	e = errno;
	if (w < 0 && e == EPIPE && !was_pending)
		sigtimedwait(&pipe, NULL, &(struct timespec){ 0 });
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return w;
}

/* All of s at the end of the last whole event, or nothing (as far as a
 * file can be cut back: a FIFO keeps what went). */
static int put(struct pvpci_recorder *r, const char *s, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = r->seekable ? pwrite(r->fd, s + done, n - done, r->off + (off_t)done)
			    : r->pipe ? write_nosig(r->fd, s + done, n - done)
				      : write(r->fd, s + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int err = w < 0 ? -errno : -EIO;

			cut_back(r);
			return err;
		}
		done += (size_t)w;
	}
	r->off += (off_t)n;
	return 0;
}

/* One event, after a line saying how many were lost before it, if any:
 * both or neither, as far as the file allows. */
static void emit(struct pvpci_recorder *r, const char *s, size_t n)
{
	off_t mark = r->off;
	int err = 0;

	if (r->lost) {
		char l[64];
		int m = snprintf(l, sizeof(l), "%" PRIu64 " lost events=%lu\n", since(r), r->lost);

		err = put(r, l, (size_t)m);
	}
	if (!err)
		err = put(r, s, n);
	if (!err) {
		r->lost = 0;
		return;
	}
	if (r->off != mark) {
		/* The "lost" line went, its event did not: take it back, or,
		 * where the file cannot be cut, let it stand for what it said. */
		if (r->seekable) {
			r->off = mark;
			cut_back(r);
		} else {
			r->lost = 0;
		}
	}
	r->lost++;
	r->lost_total++;
	pvpci_logf_limited(r->log, r->log_ctx, &r->rl, PVPCI_LOG_WARNING, NULL,
			   "record %s: cannot write: %s; %lu events lost", r->path, strerror(-err),
			   r->lost_total);
}

/*
 * A record already at path (a regular file with something in it) is kept
 * as PATH.old: a pvpcid restarted with the same --record (by systemd,
 * after a crash) must not write over the record of the run that died.
 */
static int keep_earlier(const char *path, char *errbuf, size_t errlen)
{
	struct stat st;
	char *old;
	int err = 0;

	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || !st.st_size)
		return 0;
	if (asprintf(&old, "%s.old", path) < 0)
		return pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
	if (rename(path, old) < 0)
		err = pvpci_errf(errbuf, errlen, -errno, "cannot keep the earlier record %s as %s: %s",
				 path, old, strerror(errno));
	free(old);
	return err;
}

int pvpci_recorder_open(const char *path, const struct pvpci_recorder_cfg *cfg,
			struct pvpci_recorder **ret, char *errbuf, size_t errlen)
{
	struct pvpci_recorder *r;
	struct timespec wall;
	struct stat st;
	char *hdr = NULL, fieldbuf[PVPCI_QUIRKS_FIELD_LEN], when[64];
	size_t hlen = 0;
	struct tm tm;
	FILE *f;
	int err;

	if (!path || !cfg || !ret)
		return pvpci_errf(errbuf, errlen, -EINVAL, "no record file given");
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		free(r);
		return pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
	}
	err = keep_earlier(path, errbuf, errlen);
	if (err)
		goto fail;
	r->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_CLOEXEC, 0600);
	if (r->fd < 0) {
		err = pvpci_errf(errbuf, errlen, -errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(r->fd, &st) == 0) {
		r->seekable = S_ISREG(st.st_mode);
		r->pipe = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
	}
	r->log = cfg->log;
	r->log_ctx = cfg->log_ctx;
	pvpci_ratelimit_init(&r->rl, &cfg->log_limit, "record");
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	clock_gettime(CLOCK_REALTIME, &wall);
	gmtime_r(&wall.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);

	f = open_memstream(&hdr, &hlen);
	if (!f) {
		err = pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	fprintf(f, "pvpci-record %d\n"
		   "# What frontends sent pvpcid and what it answered; `pvpci replay FILE` runs it again\n"
		   "# on simulated devices.  The format: README, Record and replay.\n"
		   "# Started %s.\n"
		   "start %lld.%09ld\n",
		PVPCI_RECORD_VERSION, when, (long long)wall.tv_sec, wall.tv_nsec);
	fprintf(f, "host ");
	for (const char *h = cfg->host ? cfg->host : ""; *h; h++)
		fputc((unsigned char)*h < 0x20 || *h == 0x7f ? '?' : *h, f);
	fprintf(f, "\nbackend mode=%s permissive=%d\n", pvpci_topo_mode_name(cfg->mode),
		cfg->permissive);
	for (size_t i = 0; pvpci_quirks_field(cfg->quirks, i, fieldbuf, sizeof(fieldbuf)); i++)
		fprintf(f, "quirk %s\n", fieldbuf);
	if (fclose(f) != 0 || !hdr) {
		free(hdr);
		err = pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	err = put(r, hdr, hlen);
	free(hdr);
	if (err) {
		pvpci_errf(errbuf, errlen, err, "%s: %s", path, strerror(-err));
		goto fail;
	}
	*ret = r;
	return 0;
fail:
	if (r->fd >= 0)
		close(r->fd);
	free(r->path);
	free(r);
	return err;
}

void pvpci_recorder_close(struct pvpci_recorder *r)
{
	char l[64];
	int m;

	if (!r)
		return;
	m = snprintf(l, sizeof(l), "%" PRIu64 " end\n", since(r));
	emit(r, l, (size_t)m);
	cut_back(r);
	close(r->fd);
	free(r->path);
	free(r);
}

unsigned long pvpci_recorder_lost(const struct pvpci_recorder *r)
{
	return r ? r->lost_total : 0;
}

/* "0x11@0x70,0x0002@0x100": the capabilities the guest is not shown. */
static void hidden_list(const struct pvpci_cs *cs, struct sb *b)
{
	size_t start = b->n;

	for (size_t i = 0; i < pvpci_cs_ncaps(cs); i++) {
		const struct pvpci_cap *c = pvpci_cs_cap(cs, i);

		if (!c->visible)
			sb_printf(b, "%s0x%0*x@0x%x", b->n > start ? "," : "", c->ext ? 4 : 2, c->id,
				  c->offset);
	}
	if (b->n == start)
		sb_printf(b, "-");
}

/* "0xe0:2,0xf0:4": the quirk fields applied. */
static void quirk_list(const struct pvpci_cs *cs, struct sb *b)
{
	size_t start = b->n;

	for (size_t i = 0; i < pvpci_cs_nregs(cs); i++) {
		const struct pvpci_reg *r = pvpci_cs_reg_by_index(cs, i);

		if (r->name && !strcmp(r->name, "quirk"))
			sb_printf(b, "%s0x%x:%u", b->n > start ? "," : "", r->offset, r->size);
	}
	if (b->n == start)
		sb_printf(b, "-");
}

void pvpci_rec_engine_info(const struct pvpci_cs *cs, char *hidden, size_t hlen, char *quirks,
			   size_t qlen)
{
	struct sb h = { hidden, hlen, 0 }, q = { quirks, qlen, 0 };

	hidden_list(cs, &h);
	quirk_list(cs, &q);
}

void pvpci_record_function(struct pvpci_recorder *r, bool restart, unsigned domid,
			   const struct pvpci_bdf *guest, bool permissive, struct pvpci_cs *cs)
{
	struct pvpci_hostdev *hd;
	char line[PVPCI_RECORD_MAX_LINE], h[PVPCI_BDF_STRLEN], g[PVPCI_BDF_STRLEN];
	struct sb b = { line, sizeof(line), 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!r)
		return;
	hd = pvpci_cs_hostdev(cs);
	sb_printf(&b, "%" PRIu64 " %s dom=%u host=%s guest=%s permissive=%d hidden=", since(r),
		  restart ? "restart" : "export", domid, pvpci_bdf_format(&hd->bdf, h),
		  pvpci_bdf_format(guest, g), permissive);
	hidden_list(cs, &b);
	sb_printf(&b, " quirks=");
	quirk_list(cs, &b);
	f = open_memstream(&text, &len);
	if (f && b.n < sizeof(line)) {
		fprintf(f, "%s\n", line);
		pvpci_view_capture(f, hd, pvpci_cs_host_snapshot(cs));
	}
	if (!f || fclose(f) != 0 || !text || b.n >= sizeof(line)) {
		/* Counted as a write that failed: the record lacks it. */
		free(text);
		r->lost++;
		r->lost_total++;
		return;
	}
	emit(r, text, len);
	free(text);
}

void pvpci_record_unexport(struct pvpci_recorder *r, unsigned domid, const struct pvpci_bdf *host)
{
	char l[96], h[PVPCI_BDF_STRLEN];
	int m;

	if (!r)
		return;
	m = snprintf(l, sizeof(l), "%" PRIu64 " unexport dom=%u host=%s\n", since(r), domid,
		     pvpci_bdf_format(host, h));
	emit(r, l, (size_t)m);
}

void pvpci_record_front(struct pvpci_recorder *r, unsigned domid, bool connected)
{
	char l[64];
	int m;

	if (!r)
		return;
	m = snprintf(l, sizeof(l), "%" PRIu64 " %s dom=%u\n", since(r),
		     connected ? "connect" : "disconnect", domid);
	emit(r, l, (size_t)m);
}

void pvpci_record_op(struct pvpci_recorder *r, unsigned domid, const struct pvpci_op *sent,
		     const struct pvpci_op *done)
{
	char line[PVPCI_RECORD_MAX_LINE];
	struct pvpci_rec_answer a;
	size_t n;

	if (!r)
		return;
	pvpci_rec_answer_of(sent, done, &a);
	n = (size_t)snprintf(line, sizeof(line), "%" PRIu64 " op dom=%u ", since(r), domid);
	n += pvpci_rec_op_text(sent, line + n, sizeof(line) - n);
	n += (size_t)snprintf(line + n, sizeof(line) - n, " -> ");
	n += pvpci_rec_answer_text(&a, line + n, sizeof(line) - n);
	/* At most 128 entries and 128 vectors: it always fits. */
	line[n++] = '\n';
	emit(r, line, n);
}

static const char *aer_name(uint32_t cmd)
{
	const char *n = pvpci_op_name(cmd);

	return n ? n : "?";
}

void pvpci_record_aer(struct pvpci_recorder *r, unsigned domid, const struct pvpci_bdf *host,
		      uint32_t cmd, int32_t state)
{
	char l[160], h[PVPCI_BDF_STRLEN];
	int m;

	if (!r)
		return;
	m = snprintf(l, sizeof(l), "%" PRIu64 " aer dom=%u host=%s cmd=%s state=%" PRId32 "\n",
		     since(r), domid, pvpci_bdf_format(host, h), aer_name(cmd), state);
	emit(r, l, (size_t)m);
}

void pvpci_record_aer_answer(struct pvpci_recorder *r, unsigned domid, const struct pvpci_bdf *host,
			     uint32_t cmd, int32_t result, bool timeout)
{
	char l[160], h[PVPCI_BDF_STRLEN], res[16];
	int m;

	if (!r)
		return;
	snprintf(res, sizeof(res), "%" PRId32, result);
	m = snprintf(l, sizeof(l), "%" PRIu64 " aer-answer dom=%u host=%s cmd=%s result=%s\n",
		     since(r), domid, pvpci_bdf_format(host, h), aer_name(cmd),
		     timeout ? "timeout" : res);
	emit(r, l, (size_t)m);
}
