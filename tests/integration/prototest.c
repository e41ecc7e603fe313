/*
 * The helpers of the protocol's integration tests (prototest.h): TAP,
 * bounded waits, children, the sim host, the backend child and its
 * commands, frontends and ops, hellos made by hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "prototest.h"
#include "pvpci/dump.h"

/* ---- TAP ---- */

int ntests, nfailed;
char scene[48];

void set_scene(const char *what, enum pvpci_topo_mode mode)
{
	snprintf(scene, sizeof(scene), "%s (%s): ", what, pvpci_topo_mode_name(mode));
}

__attribute__((format(printf, 1, 2)))
void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static bool vok(bool cond, const char *fmt, va_list ap)
{
	ntests++;
	nfailed += !cond;
	printf("%sok %d - %s", cond ? "" : "not ", ntests, scene);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 2, 3)))
bool ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cond = vok(cond, fmt, ap);
	va_end(ap);
	return cond;
}

__attribute__((format(printf, 3, 4)))
bool is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = vok(got == want, fmt, ap);
	va_end(ap);
	if (!r)
		diag("got %lld (0x%llx), expected %lld (0x%llx)", got, (unsigned long long)got, want,
		     (unsigned long long)want);
	return r;
}

__attribute__((format(printf, 3, 4)))
bool is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = vok(!strcmp(got, want), fmt, ap);
	va_end(ap);
	if (!r)
		diag("got '%s', expected '%s'", got, want);
	return r;
}

/* ---- waiting, bounded ---- */

long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

int poll_until(struct pollfd *p, nfds_t n, long deadline)
{
	for (;;) {
		long left = deadline - now_ms();
		int r = poll(p, n, left < 0 ? 0 : (int)left);

		if (r >= 0 || errno != EINTR)
			return r < 0 ? -errno : r;
	}
}

int line_get(struct lines *l, char *out, size_t outlen, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	for (;;) {
		char *nl = memchr(l->buf, '\n', l->len);
		struct pollfd p = { .fd = l->fd, .events = POLLIN };
		ssize_t n;
		int r;

		if (nl) {
			size_t k = (size_t)(nl - l->buf);

			snprintf(out, outlen, "%.*s", (int)k, l->buf);
			l->len -= k + 1;
			memmove(l->buf, nl + 1, l->len);
			return 0;
		}
		if (l->len == sizeof(l->buf))
			return -EOVERFLOW;
		r = poll_until(&p, 1, deadline);
		if (r <= 0)
			return r ? r : -ETIMEDOUT;
		n = read(l->fd, l->buf + l->len, sizeof(l->buf) - l->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EPIPE;
		l->len += (size_t)n;
	}
}

pid_t spawn(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		alarm(CHILD_ALARM_S);
	return pid;
}

int child_wait(pid_t pid, int timeout_ms)
{
	int st, pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	bool late = false;

	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };

		late = poll_until(&p, 1, now_ms() + timeout_ms) == 0;
		close(pfd);
		if (late)
			kill(pid, SIGKILL);
	}
	/* Without pidfd_open the child's own alarm bounds this wait. */
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return late ? -1 : st;
}

bool exited_0(int st, const char *who)
{
	if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return true;
	if (st < 0)
		diag("%s did not end in time and was killed", who);
	else if (WIFEXITED(st))
		diag("%s exited with %d", who, WEXITSTATUS(st));
	else
		diag("%s was killed by signal %d", who, WTERMSIG(st));
	return false;
}

/* ---- the host ---- */

const char *src_dir(void)
{
	const char *s = getenv("PVPCI_SRC");

	return s && *s ? s : PVPCI_SRC;
}

static void put(uint8_t *cfg, unsigned off, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		cfg[off + i] = (uint8_t)(v >> (8 * i));
}

bool write_host(const char *path)
{
	struct pvpci_bar bars[PVPCI_NUM_BARS + 1] = { [0] = { .addr = 0xfeb00000, .size = 0x4000 } };
	const struct pvpci_bdf bdf = { .domain = 0, .bus = 0, .dev = 5, .fn = 0 };
	uint8_t cfg[PVPCI_CFG_SIZE] = { 0 };
	char fixture[512], buf[4096];
	FILE *in, *out;
	size_t n;
	bool good;

	for (unsigned i = 1; i <= PVPCI_ROM_BAR; i++)
		bars[i].flags = PVPCI_BAR_UNUSED;
	put(cfg, 0x00, 4, DEV_ID);
	put(cfg, 0x04, 4, 0x00100006);	/* memory, bus master; capability list */
	put(cfg, 0x08, 4, 0x02000001);
	put(cfg, 0x10, 4, 0xfeb00000);
	put(cfg, 0x2c, 4, 0x00011234);
	cfg[0x34] = DEV_MSI;
	put(cfg, 0x3c, 2, 0x010b);
	put(cfg, DEV_MSI, 4, DEV_MSI_CTRL << 16 | DEV_MSIX << 8 | 0x05);
	put(cfg, DEV_MSIX, 4, DEV_MSIX_CTRL << 16 | 0x11);
	put(cfg, DEV_MSIX + 4, 4, 0x2000);
	put(cfg, DEV_MSIX + 8, 4, 0x3000);
	snprintf(fixture, sizeof(fixture), "%s/fixtures/virtio-net.lspci", src_dir());
	in = fopen(fixture, "r");
	out = fopen(path, "w");
	good = in && out;
	while (good && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		good = fwrite(buf, 1, n, out) == n;
	good = good && fputc('\n', out) != EOF &&
	       pvpci_dump_write(out, &bdf, "Ethernet controller: Device 1234:11e9 (rev 01)", cfg,
				sizeof(cfg), bars) == 0;
	if (in)
		fclose(in);
	if (out && fclose(out))
		good = false;
	if (!good)
		diag("cannot write %s from %s: %s", path, fixture, strerror(errno));
	return good;
}

/* ---- the backend, in a child ---- */

/* The child's state between commands. */
struct bk_child {
	struct pvpci_backend *b;
	int ans_fd;
	long want_fronts;	/* waitfronts N in progress; -1: none */
	bool aer_waiting;	/* aer started, its outcome not said yet */
	bool quit;
};

static int log_budget = 200;
/* Every line logged, for logcount: "msg\n" each, at most LOG_KEEP bytes. */
#define LOG_KEEP	(4 << 20)
static char *log_kept;
static size_t log_len;

/* Warnings and errors to stderr, as TAP comments, a bounded number; every
 * line kept. */
static void child_log(void *ctx, int level, const char *msg)
{
	size_t n = strlen(msg);

	(void)ctx;
	if (level <= PVPCI_LOG_WARNING && log_budget > 0 && log_budget--)
		fprintf(stderr, "# backend: %s\n", msg);
	if (!log_kept)
		log_kept = calloc(1, LOG_KEEP);
	if (log_kept && log_len + n + 2 <= LOG_KEEP) {
		memcpy(log_kept + log_len, msg, n);
		log_len += n;
		log_kept[log_len++] = '\n';
	}
}

/* The lines kept that contain text. */
static unsigned log_count(const char *text)
{
	unsigned n = 0;

	for (const char *l = log_kept, *end; l && *l; l = end + 1) {
		end = strchr(l, '\n');
		n += memmem(l, (size_t)(end - l), text, strlen(text)) != NULL;
	}
	return n;
}

__attribute__((format(printf, 2, 3)))
static void put_line(int fd, const char *fmt, ...)
{
	char b[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b, sizeof(b) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(b) - 2)
		n = (int)sizeof(b) - 2;
	b[n++] = '\n';
	if (write(fd, b, (size_t)n) != n)
		_exit(3);	/* the parent has gone */
}

/* One command (prototest.h), its answer on c->ans_fd now or later. */
static void child_cmd(struct bk_child *c, const char *line)
{
	struct pvpci_bdf bdf;
	char bdf_s[32];
	long n;
	int state, r;

	if (!strcmp(line, "quit")) {
		c->quit = true;
	} else if (!strcmp(line, "nfronts")) {
		put_line(c->ans_fd, "%zu", pvpci_backend_nfronts(c->b));
	} else if (!strncmp(line, "logcount ", 9)) {
		put_line(c->ans_fd, "%u", log_count(line + 9));
	} else if (!strcmp(line, "aerbusy")) {
		put_line(c->ans_fd, "%d", pvpci_backend_aer_busy(c->b));
	} else if (sscanf(line, "waitfronts %ld", &n) == 1) {
		c->want_fronts = n;
	} else if (sscanf(line, "aer %31s %d", bdf_s, &state) == 2 && !pvpci_bdf_parse(bdf_s, &bdf)) {
		r = pvpci_backend_aer(c->b, &bdf, state);
		if (r)
			put_line(c->ans_fd, "%d %s", r, pvpci_backend_aer_outcome(c->b));
		else
			c->aer_waiting = true;
	} else {
		put_line(c->ans_fd, "error: unknown command '%s'", line);
	}
}

static void child_answer_waits(struct bk_child *c)
{
	if (c->want_fronts >= 0 && pvpci_backend_nfronts(c->b) == (size_t)c->want_fronts) {
		put_line(c->ans_fd, "%ld", c->want_fronts);
		c->want_fronts = -1;
	}
	if (c->aer_waiting && !pvpci_backend_aer_busy(c->b)) {
		put_line(c->ans_fd, "0 %s", pvpci_backend_aer_outcome(c->b));
		c->aer_waiting = false;
	}
}

__attribute__((noreturn))
static void bk_child(const struct bk_cfg *cfg, const char *dir, const char *sock, int cmd_fd, int ans_fd)
{
	char spec[128], state_dir[96], err[512], ready[256] = "ready", line[256];
	struct pvpci_backend_cfg bc = {
		.mode = cfg->mode,
		.aer_timeout_ms = cfg->aer_timeout_ms,
		.log_limit = cfg->log_limit,
		.log = child_log,
		.dev = { .state_dir = state_dir, .reset = PVPCI_SR_RESET_REQUIRED,
			 .cs = { .log = child_log } },
	};
	struct bk_child c = { .ans_fd = ans_fd, .want_fronts = -1 };
	struct lines cmds = { .fd = cmd_fd };
	struct pvpci_host *h = NULL;

	snprintf(spec, sizeof(spec), "sim:%s/host.lspci", dir);
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	if (mkdir(state_dir, 0700) < 0 || pvpci_host_open(spec, &h, err, sizeof(err)) < 0 ||
	    (bc.host = h, pvpci_backend_new(&bc, &c.b, err, sizeof(err)) < 0)) {
		put_line(ans_fd, "error: %s", h ? err : strerror(errno));
		_exit(1);
	}
	for (size_t i = 0; i < cfg->nexps; i++) {
		struct pvpci_bdf host, guest;
		char g[PVPCI_BDF_STRLEN];
		size_t n = strlen(ready);

		if (pvpci_bdf_parse(cfg->exps[i].host, &host) < 0 ||
		    pvpci_backend_export(c.b, cfg->exps[i].domid, &host, PVPCI_VSLOT_ANY, false, &guest,
					 err, sizeof(err)) < 0) {
			put_line(ans_fd, "error: export %s: %s", cfg->exps[i].host, err);
			_exit(1);
		}
		snprintf(ready + n, sizeof(ready) - n, " %s", pvpci_bdf_format(&guest, g));
	}
	if (pvpci_backend_listen(c.b, sock, err, sizeof(err)) < 0) {
		put_line(ans_fd, "error: %s", err);
		_exit(1);
	}
	put_line(ans_fd, "%s", ready);
	while (!c.quit) {
		struct pollfd p[2] = {
			{ .fd = pvpci_backend_fd(c.b), .events = POLLIN },
			{ .fd = cmd_fd, .events = POLLIN },
		};
		int r = 0;

		if (poll(p, 2, pvpci_backend_next_timeout(c.b)) < 0 && errno != EINTR)
			break;
		while (!c.quit && (r = line_get(&cmds, line, sizeof(line), 0)) == 0)
			child_cmd(&c, line);
		if (r == -EPIPE || pvpci_backend_run(c.b, 0) < 0)
			break;
		child_answer_waits(&c);
	}
	pvpci_backend_free(c.b);	/* every function restored and released */
	pvpci_host_close(h);
	free(log_kept);
	exit(c.quit ? 0 : 1);	/* exit, not _exit: the leak checker looks at the backend */
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

bool bk_send(struct bk *k, const char *cmd)
{
	char b[256];
	int n = snprintf(b, sizeof(b), "%s\n", cmd);

	if (write(k->cmd_fd, b, (size_t)n) == n)
		return true;
	diag("cannot send '%s' to the backend: %s", cmd, strerror(errno));
	return false;
}

bool bk_ask(struct bk *k, const char *cmd, char *out, size_t outlen)
{
	int r;

	if (!bk_send(k, cmd))
		return false;
	r = line_get(&k->ans, out, outlen, ANSWER_MS);
	if (r)
		diag("no answer from the backend to '%s': %s", cmd, strerror(-r));
	return !r;
}

bool bk_start(struct bk *k, const struct bk_cfg *cfg)
{
	int cmd[2] = { -1, -1 }, ans[2] = { -1, -1 };
	char host[128], line[512], *tok, *save = NULL;
	size_t n = 0;

	*k = (struct bk){ .pid = -1, .cmd_fd = -1, .ans.fd = -1 };
	snprintf(k->dir, sizeof(k->dir), "/tmp/pvpci-proto-XXXXXX");
	if (!mkdtemp(k->dir))
		return ok(false, "the backend gets a private directory: %s", strerror(errno));
	snprintf(k->sock, sizeof(k->sock), "%s/sock", k->dir);
	snprintf(host, sizeof(host), "%s/host.lspci", k->dir);
	if (!write_host(host) || pipe2(cmd, O_CLOEXEC) < 0 || pipe2(ans, O_CLOEXEC) < 0)
		return ok(false, "the backend's host and pipes are made");
	k->pid = spawn();
	if (k->pid == 0) {
		close(cmd[1]);
		close(ans[0]);
		bk_child(cfg, k->dir, k->sock, cmd[0], ans[1]);
	}
	close(cmd[0]);
	close(ans[1]);
	k->cmd_fd = cmd[1];
	k->ans.fd = ans[0];
	if (k->pid < 0)
		return ok(false, "fork: %s", strerror(errno));
	if (line_get(&k->ans, line, sizeof(line), ANSWER_MS) == 0 && (tok = strtok_r(line, " ", &save)) &&
	    !strcmp(tok, "ready"))
		while (n < MAX_EXPS && (tok = strtok_r(NULL, " ", &save)) &&
		       pvpci_bdf_parse(tok, &k->guest[n]) == 0)
			n++;
	if (!ok(n == cfg->nexps, "the backend starts and exports %zu functions", cfg->nexps)) {
		diag("it said: %s", line);
		return false;
	}
	return true;
}

void bk_stop(struct bk *k)
{
	if (k->pid > 0) {
		bk_send(k, "quit");
		ok(exited_0(child_wait(k->pid, ANSWER_MS), "the backend"),
		   "the backend stops cleanly, every function released");
	}
	if (k->cmd_fd >= 0)
		close(k->cmd_fd);
	if (k->ans.fd >= 0)
		close(k->ans.fd);
	nftw(k->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

bool fronts_are(struct bk *k, unsigned n, const char *why)
{
	char cmd[32], ans[64] = "";

	snprintf(cmd, sizeof(cmd), "waitfronts %u", n);
	return ok(bk_ask(k, cmd, ans, sizeof(ans)) && strtoul(ans, NULL, 10) == n,
		  "the backend counts %u frontends %s", n, why);
}

/* ---- frontends and ops ---- */

struct pvpci_front *front_open(const struct bk *k, unsigned domid)
{
	struct pvpci_front_opts o = { .timeout_ms = OP_TIMEOUT_MS };
	struct pvpci_front *f = NULL;
	char err[256] = "";
	int r = pvpci_front_connect(k->sock, domid, &o, &f, err, sizeof(err));

	if (!ok(r == 0, "domain %u's frontend connects", domid))
		diag("%s (%d)", err, r);
	return r ? NULL : f;
}

bool scene_start(const char *what, const struct bk_cfg *cfg, struct bk *k, unsigned domid,
			struct pvpci_front **ret_f)
{
	set_scene(what, cfg->mode);
	if (!bk_start(k, cfg))
		return false;
	if (!domid)
		return true;
	*ret_f = front_open(k, domid);
	return *ret_f != NULL;
}

struct pvpci_op mkop(uint32_t cmd, const struct pvpci_bdf *d)
{
	return (struct pvpci_op){ .cmd = cmd, .domain = d->domain, .bus = d->bus,
				  .devfn = pvpci_devfn(d) };
}

struct pvpci_op confop(uint32_t cmd, const struct pvpci_bdf *d, int off, int size, uint32_t val)
{
	struct pvpci_op op = mkop(cmd, d);

	op.offset = off;
	op.size = size;
	op.value = val;
	return op;
}

struct pvpci_op msixop(const struct pvpci_bdf *d, uint32_t count, const uint16_t *entries,
			      unsigned n)
{
	struct pvpci_op op = mkop(OP(enable_msix), d);

	op.value = count;
	for (unsigned i = 0; i < n && i < PVPCI_SH_INFO_MAX_VEC; i++)
		op.msix_entries[i].entry = entries[i];
	return op;
}

struct pvpci_op last;	/* the last answer op_is saw */

__attribute__((format(printf, 5, 6)))
bool op_is(struct pvpci_front *f, struct pvpci_op op, int32_t err, uint32_t value,
		  const char *fmt, ...)
{
	va_list ap;
	bool r;

	pvpci_front_op(f, &op);
	last = op;
	va_start(ap, fmt);
	r = vok(op.err == err && op.value == value, fmt, ap);
	va_end(ap);
	if (!r)
		diag("err %d value 0x%x, expected err %d value 0x%x", op.err, op.value, err, value);
	return r;
}


bool vectors_are(unsigned n, unsigned first)
{
	for (unsigned i = 0; i < n; i++)
		if (last.msix_entries[i].vector != IRQ_FIRST + first + i) {
			diag("entry %u got vector %u, expected %u", i, last.msix_entries[i].vector,
			     IRQ_FIRST + first + i);
			return false;
		}
	return true;
}

bool config_is(struct pvpci_front *f, const struct pvpci_bdf *d, const uint8_t *before,
		      unsigned size, const char *what)
{
	uint8_t now[PVPCI_CFG_EXP_SIZE];
	unsigned n = 0;
	char b[PVPCI_BDF_STRLEN];
	int r = pvpci_front_read_config(f, d, now, &n);

	pvpci_bdf_format(d, b);
	if (r || n != size)
		return ok(false, "%s: %s reads %u bytes as %s (%d)", b, what, size, what, r);
	for (unsigned i = 0; i < size; i++)
		if (now[i] != before[i]) {
			ok(false, "%s: %s", b, what);
			diag("byte 0x%x is 0x%02x, was 0x%02x", i, now[i], before[i]);
			return false;
		}
	return ok(true, "%s: %s", b, what);
}


int make_page(off_t size, bool sealed)
{
	int fd = memfd_create("test-page", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd >= 0 && (ftruncate(fd, size) < 0 ||
			(sealed && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0))) {
		close(fd);
		return -1;
	}
	return fd;
}

int make_evt(void)
{
	return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

int raw_send(const char *path, const void *msg, size_t len, const int *fds, int nfds)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), e;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto fail;
	if (!len)
		return s;
	if (nfds) {
		struct cmsghdr *c;

		m.msg_control = u.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	if (sendmsg(s, &m, MSG_NOSIGNAL) == (ssize_t)len)
		return s;
fail:
	e = -errno;
	close(s);
	return e;
}

int raw_welcome(int s, struct pvpci_local_welcome *w, int timeout_ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };
	int r = poll_until(&p, 1, now_ms() + timeout_ms);

	if (r <= 0)
		return r ? r : -ETIMEDOUT;
	memset(w, 0, sizeof(*w));
	if (recv(s, w, sizeof(*w), MSG_DONTWAIT) != sizeof(*w))
		return -EPROTO;
	w->msg[sizeof(w->msg) - 1] = '\0';
	return 0;
}

uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}
