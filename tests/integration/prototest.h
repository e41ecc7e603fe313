/*
 * What the protocol's integration tests share (test_proto, test_isolation):
 * TAP output, bounded waits, child processes, the sim host, a backend in a
 * child process taking commands from a pipe, frontends and ops with exact
 * answers, and hellos made by hand.  prototest.c has the code.
 *
 * The backend child: a struct pvpci_backend on a sim host (the fixtures'
 * virtio-net at NET_HOST, and "dev" at DEV_HOST, made by write_host) in a
 * private directory, exporting what its bk_cfg says.  It logs warnings and
 * errors to stderr as TAP comments, a bounded number, and keeps every line
 * it logs.  Commands, one a line; each answers one line:
 *   nfronts             the frontends connected now
 *   logcount TEXT       how many lines the backend logged contain TEXT
 *   aerbusy             1 while an AER sequence waits for a frontend, else 0
 *   waitfronts N        N, once exactly N are connected
 *   aer BDF STATE       "RC OUTCOME" once the sequence is over (at once
 *                       when pvpci_backend_aer refuses: RC is its errno)
 *   quit                (no answer) free the backend and exit 0
 *
 * TAP on stdout; children never write there.  Every child has alarm(60)
 * and every wait is a poll with a timeout: nothing sleeps to wait.
 */
#ifndef PVPCI_TEST_PROTOTEST_H
#define PVPCI_TEST_PROTOTEST_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pvpci/backend.h"
#include "pvpci/front.h"
#include "pvpci/pciif.h"
#include "pvpci/transport.h"

#ifndef PVPCI_SRC
#define PVPCI_SRC "."
#endif

#define CHILD_ALARM_S	60
#define ANSWER_MS	10000	/* the longest any answer may take */
#define OP_TIMEOUT_MS	5000
#define AER_TIMEOUT_MS	300

/* The host: virtio-net from fixtures/, and "dev", made by write_host(). */
#define NET_HOST	"0000:00:03.0"
#define NET_ID		0x10411af4u
#define NET_CMD		0x0406u
#define NET_BAR0	0x00100004u	/* 64-bit memory, 512K */
#define NET_MSIX	0x98		/* Table Size 3; the host left Enable on */
#define DEV_HOST	"0000:00:05.0"
#define DEV_ID		0x11e91234u
#define DEV_MSI		0x50		/* 64-bit, 4 vectors capable */
#define DEV_MSI_CTRL	0x0084u
#define DEV_MSIX	0x70		/* 8 entries, table and PBA in BAR 0 */
#define DEV_MSIX_CTRL	0x0007u
#define MSI_ENABLE	0x0001u
#define MSIX_ENABLE	0x8000u
#define IRQ_FIRST	32		/* the backend's first local interrupt number */

#define OP(name)	PVPCI_XEN_PCI_OP_##name
#define ERR(name)	PVPCI_ERR_##name
#define ERS(name)	PVPCI_PCI_ERS_RESULT_##name

/* ---- TAP ---- */

extern int ntests, nfailed;

/* "what (mode): " before each test line from now on. */
void set_scene(const char *what, enum pvpci_topo_mode mode);
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool is_int(long long got, long long want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool is_str(const char *got, const char *want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- waiting, bounded ---- */

long now_ms(void);
/* poll() that waits at most until deadline (ms of now_ms), across EINTR. */
int poll_until(struct pollfd *p, nfds_t n, long deadline);

/* Lines from a pipe, taken one at a time. */
struct lines {
	int fd;
	size_t len;
	char buf[1024];
};

/* The next line (without its newline) into out, waiting at most
 * timeout_ms: 0, -ETIMEDOUT, or -EPIPE when the writer has gone. */
int line_get(struct lines *l, char *out, size_t outlen, int timeout_ms);
/* fork() with stdio flushed, so that a child never repeats our output; the
 * child has alarm(60) from its first instruction. */
pid_t spawn(void);
/* Wait for child pid at most timeout_ms (then kill it).  Its wait status,
 * or -1 when it had to be killed or could not be waited for. */
int child_wait(pid_t pid, int timeout_ms);
/* The status says exit 0; else why not, as a TAP comment about who. */
bool exited_0(int st, const char *who);

/* ---- the host ---- */

const char *src_dir(void);	/* $PVPCI_SRC, else the build's */
/*
 * The sim host's dump at path: virtio-net (0000:00:03.0, MSI-X with 3
 * entries, no MSI) as fixtures/ has it, and "dev" at 0000:00:05.0: a
 * 32-bit memory BAR 0 of 16K, MSI (64-bit, Multiple Message Capable 4)
 * and MSI-X (8 entries, table at 0x2000 and PBA at 0x3000 of BAR 0).
 */
bool write_host(const char *path);

/* ---- the backend, in a child ---- */

struct exp {
	unsigned domid;
	const char *host;
};

#define MAX_EXPS 4

struct bk_cfg {
	enum pvpci_topo_mode mode;
	const struct exp *exps;
	size_t nexps;
	int aer_timeout_ms;	/* 0: the backend's default */
	struct pvpci_ratelimit_cfg log_limit;	/* 0: the backend's default */
};

/* The parent's handle on a backend child. */
struct bk {
	pid_t pid;
	int cmd_fd;
	struct lines ans;
	char dir[64], sock[96];
	struct pvpci_bdf guest[MAX_EXPS];	/* where each export landed */
};

bool bk_start(struct bk *k, const struct bk_cfg *cfg);	/* false: said why (not ok) */
/* quit, and the backend must exit 0 in time; its directory removed. */
void bk_stop(struct bk *k);
bool bk_send(struct bk *k, const char *cmd);
/* A command and its one-line answer. */
bool bk_ask(struct bk *k, const char *cmd, char *out, size_t outlen);
/* The backend says exactly n frontends are connected (it waits for that). */
bool fronts_are(struct bk *k, unsigned n, const char *why);

/* ---- frontends and ops ---- */

/* domid's frontend on k's socket (ok or not ok said), or NULL. */
struct pvpci_front *front_open(const struct bk *k, unsigned domid);
/*
 * A scenario's start: its name on each test line, its backend and, when
 * domid is not 0, a frontend of domid in *ret_f.  false when any of it
 * failed (the caller goes to bk_stop).
 */
bool scene_start(const char *what, const struct bk_cfg *cfg, struct bk *k, unsigned domid,
		 struct pvpci_front **ret_f);
struct pvpci_op mkop(uint32_t cmd, const struct pvpci_bdf *d);
struct pvpci_op confop(uint32_t cmd, const struct pvpci_bdf *d, int off, int size, uint32_t val);
/* enable_msix of entries[0..n) with value count (what the frontend claims). */
struct pvpci_op msixop(const struct pvpci_bdf *d, uint32_t count, const uint16_t *entries,
		       unsigned n);

extern struct pvpci_op last;	/* the last answer op_is saw */

/* One op through the page: its err and value must be exactly these. */
bool op_is(struct pvpci_front *f, struct pvpci_op op, int32_t err, uint32_t value,
	   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define read_is(f, d, off, size, want, ...) \
	op_is(f, confop(OP(conf_read), d, off, size, 0), 0, want, __VA_ARGS__)
/* A write answers its value back untouched. */
#define write_is(f, d, off, size, val, err, ...) \
	op_is(f, confop(OP(conf_write), d, off, size, val), err, val, __VA_ARGS__)

/* The vectors of the last enable_msix are IRQ_FIRST + first, + first + 1 ... */
bool vectors_are(unsigned n, unsigned first);
/* dev's whole config space is what it was (before, of size bytes). */
bool config_is(struct pvpci_front *f, const struct pvpci_bdf *d, const uint8_t *before,
	       unsigned size, const char *what);

/* ---- hellos made by hand ---- */

/* transport_local.c's hello, as it goes over the wire. */
struct hello {
	char magic[8];
	uint32_t version;
	uint32_t domid;
};

int make_page(off_t size, bool sealed);	/* a memfd of size, sealed or not; -1 */
int make_evt(void);			/* a nonblocking eventfd; -1 */
/* Connect to the backend's socket and send msg (len bytes; none when 0)
 * with nfds descriptors.  The socket, or a negative errno. */
int raw_send(const char *path, const void *msg, size_t len, const int *fds, int nfds);
/* The backend's answer on a connection made by hand, within timeout_ms. */
int raw_welcome(int s, struct pvpci_local_welcome *w, int timeout_ms);

uint64_t xorshift(uint64_t *s);	/* the next of a cheap pseudo-random sequence */

#endif
