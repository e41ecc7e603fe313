/*
 * The misbehaving frontends of misbehave.h.  Each talks to the backend as
 * a guest could: through the page and the kicks of the local transport,
 * with the frontend library where it behaves as a frontend would and by
 * hand where it does not.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "misbehave.h"
#include "pvpci/front.h"
#include "pvpci/pciif.h"
#include "pvpci/transport.h"

#define CONNECT_MS	5000
#define OP_MS		5000	/* the longest an op may wait for its answer */

const char *const mb_name[MB_KINDS] = { "kick flood", "garbage ops", "vanish and reconnect",
					"AER never answered" };
const char *const mb_unit[MB_KINDS] = { "kicks", "ops", "connections", "requests held" };

struct mb_counter *mb_counter_new(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void mb_counter_free(struct mb_counter *c)
{
	if (c)
		munmap(c, 4096);
}

static void count(struct mb_counter *c, unsigned long n)
{
	__atomic_fetch_add(&c->n, n, __ATOMIC_RELAXED);
}

static bool told_to_stop(int stop_fd)
{
	struct pollfd p = { .fd = stop_fd, .events = POLLIN };

	return poll(&p, 1, 0) != 0;
}

static int say(int up_fd, int rc, const char *what, const char *why)
{
	dprintf(up_fd, "%s%s%s\n", what, why ? ": " : "", why ? why : "");
	return rc;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Kicks, the flag set and cleared between them, a read of dev on the page
 * for whenever the backend looks while it is set. */
static int kicks(struct pvpci_chan *c, const struct pvpci_bdf *dev, struct mb_counter *cnt,
		 int up_fd, int stop_fd)
{
	struct pvpci_sharedinfo *sh = c->sh;

	sh->op = (struct pvpci_op){ .cmd = PVPCI_XEN_PCI_OP_conf_read, .domain = dev->domain,
				    .bus = dev->bus, .devfn = pvpci_devfn(dev), .size = 4 };
	say(up_fd, 0, "ready", NULL);
	for (;;) {
		for (int i = 0; i < 1024; i++) {
			__atomic_fetch_or(&sh->flags, PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
			if (pvpci_chan_notify(c) < 0)
				return 3;
			__atomic_fetch_and(&sh->flags, ~PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
			if (pvpci_chan_notify(c) < 0)
				return 3;
		}
		count(cnt, 2048);
		if (told_to_stop(stop_fd))
			return 0;
	}
}

/* An op of random everything, the function's own address three times in
 * four so that most reach its engine. */
static struct pvpci_op garbage_op(uint64_t *s, const struct pvpci_bdf *dev)
{
	uint64_t r = rnd(s), r2 = rnd(s);
	struct pvpci_op op = {
		.cmd = (uint32_t)(r % 12),
		.domain = r & 0x100 ? dev->domain : (uint32_t)(r2 >> 8),
		.bus = r & 0x200 ? dev->bus : (uint32_t)(r2 >> 16),
		.devfn = r & 0x400 ? pvpci_devfn(dev) : (uint32_t)(r2 >> 24),
		.offset = (int32_t)((r >> 12) % 0x1100) - 0x40,
		.size = (int32_t)((r >> 28) % 6),
		.value = r & 0x800 ? (uint32_t)(r >> 32) % 140 : (uint32_t)(r2 >> 32),
		.info = (uint32_t)(r >> 40) % 40,
	};

	for (unsigned i = 0; i < PVPCI_SH_INFO_MAX_VEC; i++)
		op.msix_entries[i].entry = (uint16_t)(rnd(s) % 12);
	return op;
}

static int garbage(struct pvpci_front *f, const struct pvpci_bdf *dev, struct mb_counter *cnt,
		   int up_fd, int stop_fd)
{
	uint64_t s = 0x2545f4914f6cdd1dull;

	say(up_fd, 0, "ready", NULL);
	for (;;) {
		for (int i = 0; i < 16; i++) {
			struct pvpci_op op = garbage_op(&s, dev);

			pvpci_front_op(f, &op);
			if (pvpci_front_broken(f))
				return pvpci_front_broken(f) == -ETIMEDOUT ? 2 : 3;
		}
		count(cnt, 16);
		if (told_to_stop(stop_fd))
			return 0;
	}
}

/* Connect (a hello that comes before the backend saw the last connection
 * go is refused -EBUSY: again), read, vanish. */
static int reconnect(const char *sock, unsigned domid, const struct pvpci_bdf *dev,
		     struct mb_counter *cnt, int up_fd, int stop_fd)
{
	struct pvpci_front_opts o = { .timeout_ms = OP_MS };
	char err[256];
	bool first = true;

	for (;;) {
		struct pvpci_front *f;
		uint32_t v;
		int r = pvpci_front_connect(sock, domid, &o, &f, err, sizeof(err));

		if (r == -EBUSY && !told_to_stop(stop_fd))
			continue;
		if (r == -EBUSY)
			return 0;
		if (r)
			return say(up_fd, 1, "error", err);
		r = pvpci_front_conf_read(f, dev, 0, 4, &v);
		pvpci_front_close(f);
		if (r)
			return first ? say(up_fd, 2, "error", "the first read failed") : 2;
		if (first)
			say(up_fd, 0, "ready", NULL);
		first = false;
		count(cnt, 1);
		if (told_to_stop(stop_fd))
			return 0;
	}
}

/* XEN_PCIB_AERHANDLER set, then nothing: a request the backend posts
 * stays posted (counted once the child is told to stop). */
static int aer_silent(struct pvpci_chan *c, struct mb_counter *cnt, int up_fd, int stop_fd)
{
	struct pollfd p = { .fd = stop_fd, .events = POLLIN };

	__atomic_fetch_or(&c->sh->flags, PVPCI_XEN_PCIB_AERHANDLER, __ATOMIC_RELEASE);
	say(up_fd, 0, "ready", NULL);
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	count(cnt, !!(__atomic_load_n(&c->sh->flags, __ATOMIC_ACQUIRE) & PVPCI_XEN_PCIB_active));
	return 0;
}

int mb_run(enum mb_kind kind, const char *sock, unsigned domid, const struct pvpci_bdf *dev,
	   struct mb_counter *cnt, int up_fd, int stop_fd)
{
	struct pvpci_front_opts o = { .timeout_ms = OP_MS };
	struct pvpci_front *f = NULL;
	struct pvpci_chan *c = NULL;
	char err[256];
	int r;

	if (kind == MB_RECONNECT)
		return reconnect(sock, domid, dev, cnt, up_fd, stop_fd);
	r = kind == MB_GARBAGE ? pvpci_front_connect(sock, domid, &o, &f, err, sizeof(err))
			       : pvpci_local_connect(sock, domid, CONNECT_MS, &c, NULL, err, sizeof(err));
	if (r)
		return say(up_fd, 1, "error", err);
	switch (kind) {
	case MB_KICKS:
		r = kicks(c, dev, cnt, up_fd, stop_fd);
		break;
	case MB_GARBAGE:
		r = garbage(f, dev, cnt, up_fd, stop_fd);
		break;
	default:
		r = aer_silent(c, cnt, up_fd, stop_fd);
		break;
	}
	pvpci_front_close(f);
	pvpci_chan_close(c);
	return r;
}
