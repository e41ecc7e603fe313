/*
 * The PV PCI protocol end to end, through the local transport.  Each
 * scenario forks a backend: a struct pvpci_backend on a sim host (the
 * virtio-net fixture, MSI-X, and a function with MSI and MSI-X made here)
 * in a private directory, taking commands from a pipe.  Frontends are this
 * process and further children.  Scenarios:
 *   ops        every op, good and bad, with its exact answer (both topologies)
 *   connect    the connection rules; hellos sent by hand, each refused
 *   dies       a frontend that leaves with an op in flight (both topologies)
 *   rewrite    a frontend that rewrites its op while the backend reads it
 *   nonblock   a frontend that clears O_NONBLOCK on its eventfds
 *   aer        the AER handshake across processes (both topologies), and a
 *              frontend that dies in the middle of it
 *
 * TAP on stdout; children never write there.  Every child has alarm(60)
 * and every wait is a poll with a timeout: nothing sleeps to wait.  The
 * helpers (TAP, the backend child and its commands, ops) are prototest.c's.
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

/* ---- ops: every op, good and bad, with its exact answer ---- */

static void ops_config(struct pvpci_front *f, const struct pvpci_bdf *net, const struct pvpci_bdf *dev)
{
	read_is(f, net, 0x00, 4, NET_ID, "conf_read of the IDs, 4 bytes");
	read_is(f, net, 0x00, 2, NET_ID & 0xffff, "conf_read of Vendor ID, 2 bytes");
	read_is(f, net, 0x02, 2, NET_ID >> 16, "conf_read of Device ID");
	read_is(f, net, 0x03, 1, NET_ID >> 24, "conf_read of one byte");
	read_is(f, net, 0x04, 2, NET_CMD, "Command reads as the host bound it");
	read_is(f, net, 0x08, 4, 0x02000001, "class and revision");
	read_is(f, net, NET_MSIX, 4, 0x00020011, "MSI-X: Enable off for a new guest");
	read_is(f, dev, 0x00, 4, DEV_ID, "the second function's IDs");
	read_is(f, dev, DEV_MSI, 4, DEV_MSI_CTRL << 16 | DEV_MSIX << 8 | 0x05, "its MSI capability");
	read_is(f, dev, DEV_MSIX, 4, DEV_MSIX_CTRL << 16 | 0x11, "its MSI-X capability");
	write_is(f, net, 0x0c, 1, 0x10, 0, "conf_write of Cache Line Size");
	read_is(f, net, 0x0c, 1, 0x10, "Cache Line Size reads back");
	write_is(f, net, 0x3c, 1, 0x0a, 0, "conf_write of Interrupt Line is taken");
	read_is(f, net, 0x3c, 1, 0x00, "and ignored: the guest reads the host's line");
	write_is(f, net, 0x10, 4, 0xffffffff, 0, "conf_write sizing BAR 0");
	read_is(f, net, 0x10, 4, 0xfff80004, "BAR 0 reads its size (512K, 64-bit)");
	write_is(f, net, 0x10, 4, NET_BAR0, 0, "conf_write of BAR 0's address");
	read_is(f, net, 0x10, 4, NET_BAR0, "BAR 0 reads its address again");
}

static void ops_errors(struct pvpci_front *f, const struct pvpci_bdf *net, enum pvpci_topo_mode mode)
{
	static const struct { int off, size; const char *what; } bad[] = {
		{ 0, 3, "size 3" }, { 0, 0, "size 0" }, { 0, 8, "size 8" }, { 0, -4, "size -4" },
		{ 4096, 4, "offset 4096" }, { 0x100, 4, "offset 0x100 of a 256-byte space" },
		{ -4, 4, "a negative offset" }, { INT32_MIN, 1, "offset INT32_MIN" },
		{ 2, 4, "a misaligned dword" }, { 1, 2, "a misaligned word" },
	};
	/* Nothing exported there; in vpci and slot the host addresses are not
	 * guest ones (slot: bus 1 is a root, empty). */
	static const struct pvpci_bdf miss_pt[] = {
		{ 0, 0, 4, 0 }, { 0, 0, 3, 1 }, { 0, 1, 3, 0 }, { 1, 0, 3, 0 },
	};
	static const struct pvpci_bdf miss_vpci[] = {
		{ 0, 0, 2, 0 }, { 0, 0, 3, 0 }, { 0, 0, 5, 0 }, { 0, 0, 0, 1 }, { 0, 1, 0, 0 },
	};
	static const uint32_t unknown[] = { 6, 7, 8, 9, 11, 0xffffffffu };
	const struct pvpci_bdf *miss = mode != PVPCI_TOPO_PASSTHROUGH ? miss_vpci : miss_pt;
	size_t nmiss = mode != PVPCI_TOPO_PASSTHROUGH ? sizeof(miss_vpci) / sizeof(miss_vpci[0])
					       : sizeof(miss_pt) / sizeof(miss_pt[0]);
	struct pvpci_op op;
	char b[PVPCI_BDF_STRLEN];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		op_is(f, confop(OP(conf_read), net, bad[i].off, bad[i].size, 0x5a5a5a5a),
		      ERR(invalid_offset), 0, "conf_read, %s: invalid_offset, value 0", bad[i].what);
		op_is(f, confop(OP(conf_write), net, bad[i].off, bad[i].size, 0),
		      ERR(invalid_offset), 0, "conf_write, %s: invalid_offset", bad[i].what);
	}
	read_is(f, net, 0x00, 4, NET_ID, "no refused write reached the IDs");
	read_is(f, net, 0x04, 4, 0x00100000 | NET_CMD, "no refused write reached Command or Status");
	for (size_t i = 0; i < nmiss; i++) {
		pvpci_bdf_format(&miss[i], b);
		op_is(f, confop(OP(conf_read), &miss[i], 0, 4, 0), ERR(dev_not_found), 0,
		      "conf_read of %s: dev_not_found", b);
		op_is(f, mkop(OP(enable_msi), &miss[i]), ERR(dev_not_found), 0,
		      "enable_msi of %s: dev_not_found", b);
	}
	/* The page's fields are 32 bits: bits above a devfn, bus or domain
	 * must not be cut off into another function. */
	op = confop(OP(conf_read), net, 0, 4, 0);
	op.devfn |= 0x100;
	op_is(f, op, ERR(dev_not_found), 0, "devfn + 0x100: dev_not_found");
	op = confop(OP(conf_read), net, 0, 4, 0);
	op.bus |= 0x100;
	op_is(f, op, ERR(dev_not_found), 0, "bus + 0x100: dev_not_found");
	op = confop(OP(conf_read), net, 0, 4, 0);
	op.domain |= 0x10000;
	op_is(f, op, ERR(dev_not_found), 0, "domain + 0x10000: dev_not_found");
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		op_is(f, mkop(unknown[i], net), ERR(not_implemented), 0, "cmd %u: not_implemented",
		      unknown[i]);
}

static void ops_msi(struct pvpci_front *f, const struct pvpci_bdf *net, const struct pvpci_bdf *dev)
{
	/* Disabling clears Enable and leaves Multiple Message Enable as it
	 * was, as Linux does; the next enable sets it. */
	static const struct { uint32_t n; uint32_t mme; } multi[] = { { 4, 0x20 }, { 2, 0x10 } };
	uint32_t mme = 0;
	static const uint32_t too_many[] = { 0, 8, 33 };
	static const uint16_t e0 = 0, e5 = 5;
	const int ctrl = DEV_MSI + 2, xctrl = DEV_MSIX + 2;
	struct pvpci_op op;

	op_is(f, mkop(OP(enable_msi), dev), 0, IRQ_FIRST, "enable_msi answers interrupt %u", IRQ_FIRST);
	read_is(f, dev, ctrl, 2, DEV_MSI_CTRL | MSI_ENABLE, "MSI Enable reads 1");
	op_is(f, mkop(OP(enable_msi), dev), ERR(op_failed), 0, "a second enable_msi: op_failed");
	read_is(f, dev, ctrl, 2, DEV_MSI_CTRL | MSI_ENABLE, "MSI Enable still reads 1");
	op_is(f, mkop(OP(disable_msi), dev), 0, 0, "disable_msi");
	read_is(f, dev, ctrl, 2, DEV_MSI_CTRL, "MSI Enable reads 0");
	op_is(f, mkop(OP(disable_msi), dev), 0, 0, "disable_msi again: nothing to do, success");
	read_is(f, dev, ctrl, 2, DEV_MSI_CTRL, "MSI Enable still reads 0");

	for (size_t i = 0; i < sizeof(multi) / sizeof(multi[0]); i++) {
		op = mkop(OP(enable_multi_msi), dev);
		op.info = multi[i].n;
		op_is(f, op, 0, IRQ_FIRST, "enable_multi_msi of %u answers the first of them", multi[i].n);
		read_is(f, dev, ctrl, 2, DEV_MSI_CTRL | multi[i].mme | MSI_ENABLE,
			"Multiple Message Enable for %u and Enable read back", multi[i].n);
		op_is(f, mkop(OP(disable_msi), dev), 0, 0, "disable_msi after %u", multi[i].n);
		mme = multi[i].mme;
		read_is(f, dev, ctrl, 2, DEV_MSI_CTRL | mme, "MSI Enable reads 0 again");
	}
	for (size_t i = 0; i < sizeof(too_many) / sizeof(too_many[0]); i++) {
		op = mkop(OP(enable_multi_msi), dev);
		op.info = too_many[i];
		op_is(f, op, ERR(op_failed), 0, "enable_multi_msi of %u (capable of 4): op_failed",
		      too_many[i]);
	}
	read_is(f, dev, ctrl, 2, DEV_MSI_CTRL | mme, "none of them touched MSI");
	op_is(f, mkop(OP(enable_msi), net), ERR(op_failed), 0, "enable_msi without an MSI capability");

	/* MSI and MSI-X exclude each other. */
	op_is(f, msixop(dev, 1, &e5, 1), 0, 0, "enable_msix of entry 5");
	ok(vectors_are(1, 0), "entry 5 gets interrupt %u", IRQ_FIRST);
	read_is(f, dev, xctrl, 2, DEV_MSIX_CTRL | MSIX_ENABLE, "MSI-X Enable reads 1");
	op_is(f, mkop(OP(enable_msi), dev), ERR(op_failed), 0, "enable_msi while MSI-X is on: op_failed");
	read_is(f, dev, ctrl, 2, DEV_MSI_CTRL | mme, "MSI stays off");
	op_is(f, mkop(OP(disable_msix), dev), 0, 0, "disable_msix");
	read_is(f, dev, xctrl, 2, DEV_MSIX_CTRL, "MSI-X Enable reads 0");
	op_is(f, mkop(OP(enable_msi), dev), 0, IRQ_FIRST, "enable_msi once MSI-X is off");
	op_is(f, msixop(dev, 1, &e0, 1), -6, 1, "enable_msix while MSI is on: -ENXIO, value as sent");
	read_is(f, dev, xctrl, 2, DEV_MSIX_CTRL, "MSI-X stays off");
	op_is(f, mkop(OP(disable_msi), dev), 0, 0, "disable_msi");
}

static void ops_msix(struct pvpci_front *f, const struct pvpci_bdf *net)
{
	static const uint16_t e012[] = { 0, 1, 2 }, e0123[] = { 0, 1, 2, 3 }, dup[] = { 1, 1 };
	static const uint16_t past[] = { 3 }, far[] = { 0xffff }, e2[] = { 2 };
	uint16_t all[PVPCI_SH_INFO_MAX_VEC];
	const int ctrl = NET_MSIX + 2, nctrl = 0x0002;

	for (unsigned i = 0; i < PVPCI_SH_INFO_MAX_VEC; i++)
		all[i] = (uint16_t)i;
	op_is(f, msixop(net, 3, e012, 3), 0, 0, "enable_msix of entries 0, 1, 2");
	ok(vectors_are(3, 0), "they get interrupts %u, %u, %u", IRQ_FIRST, IRQ_FIRST + 1, IRQ_FIRST + 2);
	read_is(f, net, ctrl, 2, nctrl | MSIX_ENABLE, "MSI-X Enable reads 1");
	op_is(f, msixop(net, 1, e012, 1), -114, 1, "enable_msix again: -EALREADY (114), value as sent");
	read_is(f, net, ctrl, 2, nctrl | MSIX_ENABLE, "MSI-X Enable still reads 1");
	op_is(f, mkop(OP(disable_msix), net), 0, 0, "disable_msix");
	read_is(f, net, ctrl, 2, nctrl, "MSI-X Enable reads 0");
	op_is(f, mkop(OP(disable_msix), net), 0, 0, "disable_msix again: nothing to do, success");
	read_is(f, net, ctrl, 2, nctrl, "MSI-X Enable still reads 0");

	op_is(f, msixop(net, 0, NULL, 0), -34, (uint32_t)-34, "0 entries: -ERANGE (34), in value too");
	op_is(f, msixop(net, 129, all, PVPCI_SH_INFO_MAX_VEC), -22, 129,
	      "129 entries: -EINVAL (22), value as sent");
	op_is(f, msixop(net, 4, e0123, 4), -22, (uint32_t)-22, "4 entries of a 3-entry table: -EINVAL");
	op_is(f, msixop(net, 2, dup, 2), -22, (uint32_t)-22, "entry 1 twice: -EINVAL");
	op_is(f, msixop(net, 1, past, 1), -22, (uint32_t)-22, "entry 3, past the table: -EINVAL");
	op_is(f, msixop(net, 1, far, 1), -22, (uint32_t)-22, "entry 0xffff: -EINVAL");
	read_is(f, net, ctrl, 2, nctrl, "none of them turned MSI-X on");
	op_is(f, msixop(net, 1, e2, 1), 0, 0, "enable_msix of entry 2");
	ok(vectors_are(1, 0), "it gets interrupt %u: every refused enable gave its numbers back",
	   IRQ_FIRST);
	op_is(f, mkop(OP(disable_msix), net), 0, 0, "disable_msix");

	/* The table is in a memory BAR: no MSI-X while memory decode is off. */
	write_is(f, net, 0x04, 2, 0x0000, 0, "conf_write of Command 0: memory decode off");
	read_is(f, net, 0x04, 2, 0x0000, "Command reads 0");
	op_is(f, msixop(net, 1, e012, 1), -6, 1, "enable_msix without memory decode: -ENXIO (6)");
	read_is(f, net, ctrl, 2, nctrl, "MSI-X stays off");
	write_is(f, net, 0x04, 2, NET_CMD, 0, "conf_write of Command 0x%x: memory decode on", NET_CMD);
	read_is(f, net, 0x04, 2, NET_CMD, "Command reads 0x%x", NET_CMD);
	op_is(f, msixop(net, 1, e012, 1), 0, 0, "enable_msix with memory decode on");
	op_is(f, mkop(OP(disable_msix), net), 0, 0, "disable_msix");
}

static void scn_ops(enum pvpci_topo_mode mode)
{
	static const struct exp exps[] = { { 1, NET_HOST }, { 1, DEV_HOST } };
	const struct bk_cfg cfg = { .mode = mode, .exps = exps, .nexps = 2 };
	const char *want[2] = { NET_HOST, DEV_HOST };
	struct pvpci_bdf found[8];
	char b[PVPCI_BDF_STRLEN];
	size_t n = 0;
	struct pvpci_front *f = NULL;
	struct bk k;

	if (mode != PVPCI_TOPO_PASSTHROUGH)
		want[0] = "0000:00:00.0", want[1] = "0000:00:01.0";
	if (scene_start("ops", &cfg, &k, 1, &f)) {
		for (int i = 0; i < 2; i++)
			is_str(pvpci_bdf_format(&k.guest[i], b), want[i], "%s is exported at %s",
			       exps[i].host, want[i]);
		if (mode == PVPCI_TOPO_SLOT) {
			uint32_t roots[4];
			size_t nr = pvpci_front_roots(f, roots, 4);

			ok(nr == 2 && roots[0] == 0x000 && roots[1] == 0x001,
			   "the frontend is told of both roots, 0000:00 and 0000:01");
		}
		ok(pvpci_front_scan(f, found, 8, &n) == 0 && n == 2 && !pvpci_bdf_cmp(&found[0], &k.guest[0]) &&
		   !pvpci_bdf_cmp(&found[1], &k.guest[1]), "the frontend's scan finds both, and only them");
		ops_config(f, &k.guest[0], &k.guest[1]);
		ops_errors(f, &k.guest[0], mode);
		ops_msi(f, &k.guest[0], &k.guest[1]);
		ops_msix(f, &k.guest[0]);
		pvpci_front_close(f);
	}
	bk_stop(&k);
}

/* ---- connect: who may connect, and hellos made by hand ---- */

enum page_kind { PAGE_GOOD, PAGE_UNSEALED, PAGE_SMALL, PAGE_EVENTFD };

struct bad_hello {
	const char *what;
	const char *magic;
	size_t len;		/* of the hello sent */
	enum page_kind page;
	int nfds;		/* sent of: page, to-backend, to-frontend, one more eventfd */
	int pipe_at;		/* 1 or 2: that event channel is a pipe; 0: none is; -1: both
				 * are eventfds in semaphore mode */
	const char *msg;	/* the backend's answer */
};

static void hello_refused(struct bk *k, struct pvpci_front *good, const struct bad_hello *h)
{
	struct hello msg = { .version = 1, .domid = 2 };
	struct pvpci_local_welcome w;
	int fds[4], pp[2] = { -1, -1 }, s, r = -1;

	memcpy(msg.magic, h->magic, sizeof(msg.magic));
	fds[0] = h->page == PAGE_EVENTFD ? make_evt()
					 : make_page(h->page == PAGE_SMALL ? 100 : 4096, h->page != PAGE_UNSEALED);
	for (int i = 1; i < 4; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | (h->pipe_at < 0 ? EFD_SEMAPHORE : 0));
	if (h->pipe_at > 0 && pipe2(pp, O_CLOEXEC) == 0) {
		close(fds[h->pipe_at]);
		fds[h->pipe_at] = pp[0];
	}
	s = raw_send(k->sock, &msg, h->len, fds, h->nfds);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	if (pp[1] >= 0)
		close(pp[1]);
	if (s >= 0) {
		r = raw_welcome(s, &w, ANSWER_MS);
		close(s);
	}
	if (!ok(r == 0 && w.status == -EPROTO, "a hello with %s is refused with -EPROTO", h->what))
		diag("sent: %d, answered: %d, status %d", s, r, r ? 0 : w.status);
	else
		is_str(w.msg, h->msg, "the refusal of %s says why", h->what);
	read_is(good, &k->guest[0], 0, 4, NET_ID, "the backend still serves domain 1 after %s", h->what);
}

static void scn_connect(void)
{
	static const struct exp exps[] = { { 1, NET_HOST }, { 2, DEV_HOST } };
	static const struct bad_hello bad[] = {
		{ "a wrong magic", "pvpcilo2", 16, PAGE_GOOD, 3, 0, "not a pvpci hello (16 bytes)" },
		{ "8 bytes", "pvpcilo1", 8, PAGE_GOOD, 3, 0, "not a pvpci hello (8 bytes)" },
		{ "no descriptors", "pvpcilo1", 16, PAGE_GOOD, 0, 0,
		  "the hello carries 0 descriptors, not 3" },
		{ "2 descriptors", "pvpcilo1", 16, PAGE_GOOD, 2, 0,
		  "the hello carries 2 descriptors, not 3" },
		{ "4 descriptors", "pvpcilo1", 16, PAGE_GOOD, 4, 0,
		  "the hello carries 4 descriptors, not 3" },
		{ "an unsealed memfd", "pvpcilo1", 16, PAGE_UNSEALED, 3, 0,
		  "the page is not sealed against shrinking" },
		{ "a memfd of 100 bytes", "pvpcilo1", 16, PAGE_SMALL, 3, 0,
		  "the page is smaller than 4096 bytes" },
		{ "an eventfd as the page", "pvpcilo1", 16, PAGE_EVENTFD, 3, 0, "the page is not a memfd" },
		{ "a pipe as the to-backend eventfd", "pvpcilo1", 16, PAGE_GOOD, 3, 1,
		  "event channel 1 is not an eventfd" },
		{ "a pipe as the to-frontend eventfd", "pvpcilo1", 16, PAGE_GOOD, 3, 2,
		  "event channel 2 is not an eventfd" },
		/* One write of 2^64 - 2 would keep the backend busy a read a
		 * round for ever (XSA-332). */
		{ "semaphore eventfds", "pvpcilo1", 16, PAGE_GOOD, 3, -1,
		  "event channel 1 is an eventfd in semaphore mode" },
	};
	const struct bk_cfg cfg = { .mode = PVPCI_TOPO_VPCI, .exps = exps, .nexps = 2 };
	struct pvpci_front_opts o = { .timeout_ms = OP_TIMEOUT_MS };
	struct pvpci_front *f1 = NULL, *f2 = NULL, *x = NULL;
	struct pvpci_local_welcome w;
	char err[256] = "";
	int r, silent;
	struct bk k;

	if (!scene_start("connect", &cfg, &k, 1, &f1))
		goto out;
	r = pvpci_front_connect(k.sock, 7, &o, &x, err, sizeof(err));
	if (!r)
		pvpci_front_close(x);
	is_int(r, -ENOENT, "a frontend for domain 7, which has nothing, is refused: -ENOENT");
	is_str(err, "backend: no device is exported to domain 7", "the refusal says why");
	err[0] = '\0';
	r = pvpci_front_connect(k.sock, 1, &o, &x, err, sizeof(err));
	if (!r)
		pvpci_front_close(x);
	is_int(r, -EBUSY, "a second frontend for domain 1 is refused: -EBUSY");
	is_str(err, "backend: domain 1 has a frontend connected already", "the refusal says why");
	read_is(f1, &k.guest[0], 0, 4, NET_ID, "the first frontend of domain 1 still works");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		hello_refused(&k, f1, &bad[i]);

	/* A connection that never says hello holds nobody up, and is
	 * answered when the backend stops waiting for it (5 s). */
	silent = raw_send(k.sock, NULL, 0, NULL, 0);
	ok(silent >= 0, "a connection that says nothing is accepted");
	f2 = front_open(&k, 2);
	if (f2)
		read_is(f2, &k.guest[1], 0, 4, DEV_ID, "domain 2 is served while it sits there");
	read_is(f1, &k.guest[0], 0, 4, NET_ID, "and so is domain 1");
	r = silent >= 0 ? raw_welcome(silent, &w, ANSWER_MS) : silent;
	if (ok(r == 0 && w.status == -ETIMEDOUT, "the silent connection is refused in time: -ETIMEDOUT"))
		is_str(w.msg, "no hello in time", "the refusal says why");
	if (silent >= 0)
		close(silent);
	is_str(bk_ask(&k, "nfronts", err, sizeof(err)) ? err : "", "2",
	       "the backend counts the two frontends, and only them");
	pvpci_front_close(f2);
	pvpci_front_close(f1);
	fronts_are(&k, 0, "once both left");
out:
	bk_stop(&k);
}

/* ---- dies: a frontend that leaves with an op in flight ---- */

/* The child: enable interrupts, change Command, a BAR and Cache Line Size,
 * check that they took, leave an op in the page and exit without waiting
 * for it.  Exit 0, or 10 + the step that went wrong. */
__attribute__((noreturn))
static void die_mid_op(const char *sock, const struct pvpci_bdf *net, const struct pvpci_bdf *dev)
{
	struct pvpci_front_opts o = { .timeout_ms = OP_TIMEOUT_MS };
	struct pvpci_msix_entry e[3] = { { .entry = 0 }, { .entry = 1 }, { .entry = 2 } };
	struct pvpci_front *f;
	struct pvpci_sharedinfo *sh;
	uint32_t v = 0;

	if (pvpci_front_connect(sock, 1, &o, &f, NULL, 0))
		_exit(10);
	if (pvpci_front_enable_msix(f, net, e, 3))
		_exit(11);
	if (pvpci_front_enable_msi(f, dev, &v))
		_exit(12);
	if (pvpci_front_conf_write(f, net, 0x04, 2, 0) || pvpci_front_conf_write(f, dev, 0x04, 2, 0))
		_exit(13);
	if (pvpci_front_conf_write(f, net, 0x10, 4, 0xffffffff) ||
	    pvpci_front_conf_write(f, net, 0x0c, 1, 0x20))
		_exit(14);
	if (pvpci_front_conf_read(f, net, 0x10, 4, &v) || v != 0xfff80004)
		_exit(15);
	if (pvpci_front_conf_read(f, net, NET_MSIX + 2, 2, &v) || !(v & MSIX_ENABLE))
		_exit(16);
	if (pvpci_front_conf_read(f, dev, 0x04, 2, &v) || v != 0)
		_exit(17);
	if (pvpci_front_conf_read(f, net, 0x0c, 1, &v) || v != 0x20)
		_exit(18);
	sh = pvpci_front_chan(f)->sh;
	sh->op = confop(OP(conf_write), dev, 0x0c, 1, 0x40);
	__atomic_fetch_or(&sh->flags, PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
	pvpci_chan_notify(pvpci_front_chan(f));
	_exit(0);
}

static void scn_dies(enum pvpci_topo_mode mode)
{
	static const struct exp exps[] = { { 1, NET_HOST }, { 1, DEV_HOST } };
	const struct bk_cfg cfg = { .mode = mode, .exps = exps, .nexps = 2 };
	static const uint16_t e012[] = { 0, 1, 2 };
	static uint8_t before[2][PVPCI_CFG_EXP_SIZE];
	unsigned size[2] = { 0, 0 };
	struct pvpci_front *f;
	struct bk k;
	pid_t pid;

	if (!scene_start("dies", &cfg, &k, 1, &f))
		goto out;
	for (int i = 0; i < 2; i++)
		ok(pvpci_front_read_config(f, &k.guest[i], before[i], &size[i]) == 0 && size[i] == 256,
		   "%s's config space as a new guest sees it", exps[i].host);
	pvpci_front_close(f);
	fronts_are(&k, 0, "once that frontend left");

	pid = spawn();
	if (pid == 0)
		die_mid_op(k.sock, &k.guest[0], &k.guest[1]);
	ok(pid > 0 && exited_0(child_wait(pid, ANSWER_MS), "the dying frontend"),
	   "a frontend enables MSI and MSI-X, writes Command, a BAR, Cache Line Size, "
	   "and exits with an op in flight");
	fronts_are(&k, 0, "after it died");

	f = front_open(&k, 1);
	if (!f)
		goto out;
	for (int i = 0; i < 2; i++)
		config_is(f, &k.guest[i], before[i], size[i], "the next guest sees it as at the start");
	read_is(f, &k.guest[0], 0x04, 2, NET_CMD, "Command is back to its bound value");
	read_is(f, &k.guest[0], NET_MSIX + 2, 2, 0x0002, "MSI-X is off");
	read_is(f, &k.guest[1], DEV_MSI + 2, 2, DEV_MSI_CTRL, "MSI is off");
	op_is(f, msixop(&k.guest[0], 3, e012, 3), 0, 0, "enable_msix works again");
	ok(vectors_are(3, 0), "with the numbers the dead frontend had: they were given back");
	op_is(f, mkop(OP(enable_msi), &k.guest[1]), 0, IRQ_FIRST + 3, "enable_msi works again");
	pvpci_front_close(f);
out:
	bk_stop(&k);
}

/* ---- rewrite: a frontend that rewrites its op while the backend reads it ---- */

#define REWRITES	200000	/* a round */
#define MIN_ROUNDS	3
#define MIN_ANSWERED	200	/* ops answered while being rewritten */
#define REWRITE_MS	20000	/* the most the rewriter takes to get there */
#define MIN_READS	1000

/*
 * The child: connect as domain 2 ("connected" on up), then
 * round after round rewrite every field of the op REWRITES times, flipping
 * between a good conf_read and garbage, setting XEN_PCIF_active again
 * whenever the backend has cleared it; after each round wait until the
 * backend has answered.  Stops after MIN_ROUNDS rounds once MIN_ANSWERED
 * ops were answered or REWRITE_MS have passed, says "ANSWERED ROUNDS" on
 * up.  Exit 0; 1: cannot connect; 2: an op was not answered in time; 3:
 * the backend went away.
 */
__attribute__((noreturn))
static void rewriter(const char *sock, const struct pvpci_bdf *dev, int up)
{
	struct pvpci_chan *c;
	volatile struct pvpci_op *op;
	struct pvpci_sharedinfo *sh;
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	const uint32_t devfn = pvpci_devfn(dev);
	const long end = now_ms() + REWRITE_MS;
	unsigned long answered = 0;
	unsigned round = 0;

	if (pvpci_local_connect(sock, 2, OP_TIMEOUT_MS, &c, NULL, NULL, 0) ||
	    dprintf(up, "connected\n") < 0)
		_exit(1);
	sh = c->sh;
	op = &sh->op;
	while (round < MIN_ROUNDS || (answered < MIN_ANSWERED && now_ms() < end)) {
		long deadline;

		for (unsigned i = 0; i < REWRITES; i++) {
			uint64_t r = xorshift(&rng);

			if (r & 1) {
				op->cmd = OP(conf_read);
				op->domain = dev->domain;
				op->bus = dev->bus;
				op->devfn = devfn;
				op->offset = 0;
				op->size = 4;
			} else {
				op->cmd = (uint32_t)(r >> 8) % 13;
				op->domain = r & 2 ? 0 : (uint32_t)(r >> 16);
				op->bus = r & 4 ? dev->bus : (uint32_t)(r >> 24);
				op->devfn = r & 8 ? devfn : (uint32_t)(r >> 32);
				op->offset = (int32_t)((r >> 20) % 0x1100) - 0x40;
				op->size = (int32_t)((r >> 40) % 6);
				op->value = r & 16 ? (uint32_t)(r >> 44) % 140 : (uint32_t)(r >> 24);
				op->info = (uint32_t)(r >> 48) % 40;
				op->msix_entries[(r >> 52) % PVPCI_SH_INFO_MAX_VEC].entry = (uint16_t)(r >> 40) % 10;
			}
			if (i % 16 == 0 &&
			    !(__atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE) & PVPCI_XEN_PCIF_active)) {
				__atomic_fetch_or(&sh->flags, PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
				if (pvpci_chan_notify(c) < 0)
					_exit(3);
				answered += i > 0;	/* the backend answered the last one */
			}
		}
		deadline = now_ms() + OP_TIMEOUT_MS;
		while (__atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE) & PVPCI_XEN_PCIF_active) {
			long left = deadline - now_ms();

			if (left <= 0)
				_exit(2);
			if (pvpci_chan_wait(c, (int)left) < 0)
				_exit(3);
		}
		answered++;
		round++;
	}
	pvpci_chan_close(c);
	dprintf(up, "%lu %u\n", answered, round);
	_exit(0);
}

/* Domain 1 reads net's config space over and over while the rewriter
 * works: at least MIN_READS reads, and on until the rewriter says it is
 * done (its line into done).  How many reads were wrong; *ret_n how many. */
static unsigned reads_while(struct pvpci_front *f, const struct pvpci_bdf *net, const uint8_t *cfg,
			    struct lines *up, char *done, size_t donelen, unsigned *ret_n)
{
	unsigned i, bad = 0;
	bool over = false;

	for (i = 0; i < MIN_READS || !over; i++) {
		unsigned off = i % 64 * 4, size = i % 3 == 0 ? 4 : i % 3 == 1 ? 2 : 1;
		uint32_t v = 0, want = 0;

		off += 4 - size;
		for (unsigned b = 0; b < size; b++)
			want |= (uint32_t)cfg[off + b] << (8 * b);
		if ((pvpci_front_conf_read(f, net, (int)off, (int)size, &v) || v != want) && bad++ == 0)
			diag("read %u: %u bytes at 0x%x: 0x%x, expected 0x%x", i, size, off, v, want);
		if (!over && i % 16 == 0) {
			int r = line_get(up, done, donelen, 0);

			/* Done, or gone without a word (its exit status says why). */
			over = r == 0 || r == -EPIPE;
		}
		if (i > 1000000)
			break;	/* the rewriter's own alarm has gone off long since */
	}
	*ret_n = i;
	return bad;
}

static void scn_rewrite(enum pvpci_topo_mode mode)
{
	static const struct exp exps[] = { { 1, NET_HOST }, { 2, DEV_HOST } };
	const struct bk_cfg cfg = { .mode = mode, .exps = exps, .nexps = 2 };
	static uint8_t net_cfg[PVPCI_CFG_EXP_SIZE], dev_cfg[PVPCI_CFG_EXP_SIZE];
	unsigned net_size = 0, dev_size = 0, bad, nreads = 0, rounds = 0;
	unsigned long answered = 0;
	int up[2] = { -1, -1 };
	struct lines ups = { .fd = -1 };
	struct pvpci_front *f1 = NULL, *f2;
	char line[64] = "";
	struct bk k;
	pid_t pid = -1;

	if (!scene_start("rewrite", &cfg, &k, 2, &f2))
		goto out;
	ok(pvpci_front_read_config(f2, &k.guest[1], dev_cfg, &dev_size) == 0,
	   "domain 2's function before the rewriter");
	pvpci_front_close(f2);
	f1 = front_open(&k, 1);
	if (!f1 || pvpci_front_read_config(f1, &k.guest[0], net_cfg, &net_size) || net_size != 256 ||
	    pipe2(up, O_CLOEXEC) < 0) {
		ok(false, "domain 1's config space is read and a pipe is made");
		goto out;
	}
	fronts_are(&k, 1, "before the rewriter comes");
	pid = spawn();
	if (pid == 0)
		rewriter(k.sock, &k.guest[1], up[1]);
	close(up[1]);
	up[1] = -1;
	ups.fd = up[0];
	if (!ok(pid > 0 && line_get(&ups, line, sizeof(line), ANSWER_MS) == 0 &&
		!strcmp(line, "connected"), "domain 2's rewriter connects"))
		goto out;
	bad = reads_while(f1, &k.guest[0], net_cfg, &ups, line, sizeof(line), &nreads);
	is_int(bad, 0, "%u conf_reads by domain 1 while domain 2 rewrites its op: each one right", nreads);
	ok(exited_0(child_wait(pid, ANSWER_MS), "the rewriter"),
	   "every op the rewriter left was answered in time");
	pid = -1;
	if (sscanf(line, "%lu %u", &answered, &rounds) == 2)
		diag("the backend answered %lu ops in %u rounds of %d rewrites", answered, rounds, REWRITES);
	ok(answered >= MIN_ANSWERED, "the backend answered at least %d ops while they were rewritten",
	   MIN_ANSWERED);
	fronts_are(&k, 1, "once the rewriter left");
	read_is(f1, &k.guest[0], 0, 4, NET_ID, "domain 1 is still served");
	f2 = front_open(&k, 2);
	if (f2) {
		read_is(f2, &k.guest[1], 0, 4, DEV_ID, "a clean frontend of domain 2 reads the right IDs");
		config_is(f2, &k.guest[1], dev_cfg, dev_size, "and the whole config space as before");
		op_is(f2, mkop(OP(enable_msi), &k.guest[1]), 0, IRQ_FIRST,
		      "enable_msi works: whatever the rewriter enabled was released");
		pvpci_front_close(f2);
	}
out:
	if (pid > 0)
		child_wait(pid, 0);
	for (int i = 0; i < 2; i++)
		if (up[i] >= 0)
			close(up[i]);
	pvpci_front_close(f1);
	bk_stop(&k);
}

/* ---- nonblock: a frontend that clears O_NONBLOCK on its eventfds ---- */

static bool clear_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0;
}

/* The backend hangs up on the socket s within ANSWER_MS. */
static bool hung_up(int s)
{
	struct pollfd p = { .fd = s, .events = POLLIN };
	char b[sizeof(struct pvpci_local_welcome)];
	long deadline = now_ms() + ANSWER_MS;

	while (poll_until(&p, 1, deadline) == 1) {
		ssize_t n = recv(s, b, sizeof(b), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return true;
	}
	return false;
}

static void scn_nonblock(void)
{
	static const struct exp exps[] = { { 1, NET_HOST }, { 2, DEV_HOST } };
	const struct bk_cfg cfg = { .mode = PVPCI_TOPO_VPCI, .exps = exps, .nexps = 2 };
	const struct hello msg = { .magic = "pvpcilo1", .version = 1, .domid = 1 };
	struct pvpci_local_welcome w;
	struct pvpci_front *f2 = NULL, *f1;
	struct pvpci_sharedinfo *sh = MAP_FAILED;
	struct pvpci_chan *c = NULL;
	uint64_t full = 0xfffffffffffffffeull, one = 1;
	int fds[3] = { -1, -1, -1 }, s = -1;
	struct bk k;

	if (!scene_start("nonblock", &cfg, &k, 2, &f2))
		goto out;

	/* The to-frontend eventfd, blocking and with a full counter: a
	 * backend that wrote to it without looking would block for ever. */
	if (!ok(pvpci_local_connect(k.sock, 1, OP_TIMEOUT_MS, &c, NULL, NULL, 0) == 0 &&
		clear_nonblock(c->evt_fd) && write(c->evt_fd, &full, sizeof(full)) == sizeof(full),
		"domain 1 connects, makes its to-frontend eventfd blocking and fills it"))
		goto out;
	c->sh->op = confop(OP(conf_read), &k.guest[0], 0, 4, 0);
	__atomic_fetch_or(&c->sh->flags, PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
	ok(pvpci_chan_notify(c) == 0, "it kicks the backend");
	ok(hung_up(c->ctl_fd), "the backend drops it at that kick");
	fronts_are(&k, 1, "after dropping it");
	read_is(f2, &k.guest[1], 0, 4, DEV_ID, "the backend did not block: domain 2 is served");
	pvpci_chan_close(c);
	c = NULL;

	/* The to-backend eventfd, by a hello made by hand (the frontend's
	 * library keeps that one to itself). */
	fds[0] = make_page(4096, true);
	fds[1] = make_evt();
	fds[2] = make_evt();
	s = raw_send(k.sock, &msg, sizeof(msg), fds, 3);
	if (!ok(s >= 0 && raw_welcome(s, &w, ANSWER_MS) == 0 && w.status == 0,
		"domain 1 connects again by a hello made by hand"))
		goto out;
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	if (!ok(sh != MAP_FAILED && clear_nonblock(fds[1]), "it makes its to-backend eventfd blocking"))
		goto out;
	sh->op = confop(OP(conf_read), &k.guest[0], 0, 4, 0);
	__atomic_fetch_or(&sh->flags, PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
	ok(write(fds[1], &one, sizeof(one)) == sizeof(one), "it kicks the backend");
	ok(hung_up(s), "the backend drops it at that kick");
	ok(__atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE) & PVPCI_XEN_PCIF_active,
	   "without answering its op");
	fronts_are(&k, 1, "after dropping it");
	read_is(f2, &k.guest[1], 0, 4, DEV_ID, "the backend did not block: domain 2 is served");

	f1 = front_open(&k, 1);
	if (f1)
		read_is(f1, &k.guest[0], 0, 4, NET_ID, "a well-behaved frontend of domain 1 is served");
	pvpci_front_close(f1);
out:
	pvpci_chan_close(c);
	if (sh != MAP_FAILED)
		munmap(sh, 4096);
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (s >= 0)
		close(s);
	pvpci_front_close(f2);
	bk_stop(&k);
}

/* ---- aer: the AER handshake across processes ---- */

struct aer_script {
	int32_t answer[4];		/* the handler's answers, in order */
	unsigned calls;
	const struct pvpci_bdf *guest;	/* where every request must be for */
	unsigned wrong_dev;
	char log[256];			/* "aer_detected(2),aer_slotreset(1)..." */
};

static int32_t aer_handler(void *ctx, uint32_t cmd, const struct pvpci_bdf *dev, int32_t state)
{
	struct aer_script *s = ctx;
	size_t n = strlen(s->log);
	const char *name = pvpci_op_name(cmd);

	snprintf(s->log + n, sizeof(s->log) - n, "%s%s(%d)", n ? "," : "", name ? name : "?", state);
	s->wrong_dev += pvpci_bdf_cmp(dev, s->guest) != 0;
	return s->calls < 4 ? s->answer[s->calls++] : ERS(NONE);
}

/* Ask the backend for an AER sequence on host and, when answer, answer it
 * as the frontend until the backend says "RC OUTCOME" (into out). */
static bool aer_run(struct bk *k, struct pvpci_front *f, const char *host, int state, bool answer,
		    char *out, size_t outlen)
{
	char cmd[64];
	long deadline = now_ms() + ANSWER_MS;

	snprintf(cmd, sizeof(cmd), "aer %s %d", host, state);
	if (!bk_send(k, cmd))
		return false;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = k->ans.fd, .events = POLLIN },
			{ .fd = f ? pvpci_front_chan(f)->evt_fd : -1, .events = POLLIN },
		};

		if (line_get(&k->ans, out, outlen, 0) == 0)
			return true;
		if (poll_until(p, answer ? 2 : 1, deadline) <= 0) {
			diag("no outcome for '%s'", cmd);
			return false;
		}
		if (answer && (p[1].revents & POLLIN) && pvpci_front_poll(f, 0) < 0) {
			diag("the frontend lost the backend during '%s'", cmd);
			return false;
		}
	}
}

static void scn_aer(enum pvpci_topo_mode mode)
{
	static const struct exp exps[] = { { 1, NET_HOST } };
	const struct bk_cfg cfg = { .mode = mode, .exps = exps, .nexps = 1,
				    .aer_timeout_ms = AER_TIMEOUT_MS };
	static const struct {
		const char *what;
		int state;
		int32_t answer[4];
		const char *outcome, *calls;
	} cases[] = {
		{ "NEED_RESET, then RECOVERED", PVPCI_PCI_CHANNEL_IO_FROZEN,
		  { ERS(NEED_RESET), ERS(RECOVERED), ERS(RECOVERED) },
		  "0 detected:need_reset,slotreset:recovered,resume:recovered",
		  "aer_detected(2),aer_slotreset(1),aer_resume(1)" },
		{ "CAN_RECOVER, then RECOVERED", PVPCI_PCI_CHANNEL_IO_NORMAL,
		  { ERS(CAN_RECOVER), ERS(RECOVERED), ERS(NONE) },
		  "0 detected:can_recover,mmio:recovered,resume:none",
		  "aer_detected(1),aer_mmio(1),aer_resume(1)" },
		{ "CAN_RECOVER, NEED_RESET, RECOVERED", PVPCI_PCI_CHANNEL_IO_FROZEN,
		  { ERS(CAN_RECOVER), ERS(NEED_RESET), ERS(RECOVERED), ERS(RECOVERED) },
		  "0 detected:can_recover,mmio:need_reset,slotreset:recovered,resume:recovered",
		  "aer_detected(2),aer_mmio(1),aer_slotreset(1),aer_resume(1)" },
		{ "DISCONNECT", PVPCI_PCI_CHANNEL_IO_PERM_FAILURE, { ERS(DISCONNECT) },
		  "0 detected:disconnect", "aer_detected(3)" },
		{ "77, out of range", PVPCI_PCI_CHANNEL_IO_FROZEN, { 77 },
		  "0 detected:disconnect", "aer_detected(2)" },
		{ "RECOVERED to aer_detected, not allowed there", PVPCI_PCI_CHANNEL_IO_FROZEN,
		  { ERS(RECOVERED) }, "0 detected:disconnect", "aer_detected(2)" },
		{ "NEED_RESET to aer_slotreset, not allowed there", PVPCI_PCI_CHANNEL_IO_FROZEN,
		  { ERS(NEED_RESET), ERS(NEED_RESET) }, "0 detected:need_reset,slotreset:disconnect",
		  "aer_detected(2),aer_slotreset(1)" },
	};
	struct pvpci_front *f = NULL;
	struct aer_script s;
	char out[256], want[64], cmd[64];
	struct bk k;

	if (!scene_start("aer", &cfg, &k, 1, &f))
		goto out;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = (struct aer_script){ .guest = &k.guest[0] };
		memcpy(s.answer, cases[i].answer, sizeof(s.answer));
		pvpci_front_set_aer_handler(f, aer_handler, &s);
		if (!aer_run(&k, f, NET_HOST, cases[i].state, true, out, sizeof(out)))
			ok(false, "a handler answering %s: an outcome", cases[i].what);
		else
			is_str(out, cases[i].outcome, "a handler answering %s: outcome", cases[i].what);
		is_str(s.log, cases[i].calls, "the handler was asked in that order, with those states");
		is_int(s.wrong_dev, 0, "every request was for the guest's address of the function");
	}
	read_is(f, &k.guest[0], 0, 4, NET_ID, "the frontend is still served after them");

	/* A handler that never answers: each step times out, and the request is taken back. */
	s = (struct aer_script){ .guest = &k.guest[0] };
	pvpci_front_set_aer_handler(f, aer_handler, &s);
	snprintf(cmd, sizeof(cmd), "aer %s 2", NET_HOST);
	bk_send(&k, cmd);
	if (aer_run(&k, f, NET_HOST, 2, false, out, sizeof(out)))
		is_int(strtol(out, NULL, 10), -EBUSY, "a second AER while one is in flight: -EBUSY");
	if (line_get(&k.ans, out, sizeof(out), ANSWER_MS) == 0)
		is_str(out, "0 detected:timeout", "a frontend that never answers: timeout after %d ms",
		       AER_TIMEOUT_MS);
	else
		ok(false, "a frontend that never answers: an outcome");
	ok(!(__atomic_load_n(&pvpci_front_chan(f)->sh->flags, __ATOMIC_ACQUIRE) & PVPCI_XEN_PCIB_active),
	   "XEN_PCIB_active is cleared");
	is_int(pvpci_front_poll(f, 0), 0, "a late poll finds nothing to answer");
	is_int(s.calls, 0, "and the handler was never asked");

	pvpci_front_set_aer_handler(f, NULL, NULL);
	snprintf(want, sizeof(want), "%d detected:no_handler", -EOPNOTSUPP);
	if (aer_run(&k, f, NET_HOST, 2, true, out, sizeof(out)))
		is_str(out, want, "a frontend without a handler: -EOPNOTSUPP");
	if (aer_run(&k, f, "0000:00:04.0", 2, true, out, sizeof(out)))
		is_int(strtol(out, NULL, 10), -ENOENT, "AER on a function not exported: -ENOENT");
	pvpci_front_close(f);
	fronts_are(&k, 0, "once the frontend left");
	if (aer_run(&k, NULL, NET_HOST, 2, false, out, sizeof(out)))
		is_int(strtol(out, NULL, 10), -ENOTCONN, "AER with no frontend: -ENOTCONN");
out:
	bk_stop(&k);
}

/* The child of aer_dies: as domain 1 with an AER handler that exits
 * without answering the first request.  "connected" on up once ready. */
__attribute__((noreturn))
static int32_t die_in_handler(void *ctx, uint32_t cmd, const struct pvpci_bdf *dev, int32_t state)
{
	(void)ctx;
	(void)cmd;
	(void)dev;
	(void)state;
	_exit(0);
}

__attribute__((noreturn))
static void aer_dier(const char *sock, int up)
{
	struct pvpci_front_opts o = { .timeout_ms = OP_TIMEOUT_MS };
	struct pvpci_front *f;
	long deadline = now_ms() + ANSWER_MS;

	if (pvpci_front_connect(sock, 1, &o, &f, NULL, 0))
		_exit(1);
	pvpci_front_set_aer_handler(f, die_in_handler, NULL);
	if (dprintf(up, "connected\n") < 0)
		_exit(1);
	while (now_ms() < deadline)
		if (pvpci_front_poll(f, (int)(deadline - now_ms())) < 0)
			_exit(3);
	_exit(2);	/* no request came */
}

/* A frontend that goes away in the middle of an AER sequence ends it: the
 * next frontend of the domain gets AER requests again. */
static void scn_aer_dies(void)
{
	static const struct exp exps[] = { { 1, NET_HOST } };
	const struct bk_cfg cfg = { .mode = PVPCI_TOPO_VPCI, .exps = exps, .nexps = 1,
				    .aer_timeout_ms = 60000 };
	struct aer_script s = { .answer = { ERS(NEED_RESET), ERS(RECOVERED), ERS(RECOVERED) } };
	struct lines up = { .fd = -1 };
	struct pvpci_front *f;
	int fds[2] = { -1, -1 };
	char out[256] = "";
	struct bk k;
	pid_t pid;

	if (!scene_start("aer, a frontend dies", &cfg, &k, 0, NULL) || pipe2(fds, O_CLOEXEC) < 0)
		goto out;
	pid = spawn();
	if (pid == 0)
		aer_dier(k.sock, fds[1]);
	close(fds[1]);
	up.fd = fds[0];
	if (!ok(pid > 0 && line_get(&up, out, sizeof(out), ANSWER_MS) == 0 && !strcmp(out, "connected"),
		"domain 1's frontend connects with a handler that exits when asked"))
		goto out;
	if (aer_run(&k, NULL, NET_HOST, PVPCI_PCI_CHANNEL_IO_FROZEN, false, out, sizeof(out)))
		is_int(strtol(out, NULL, 10), 0, "the sequence ends when the frontend goes away");
	ok(exited_0(child_wait(pid, ANSWER_MS), "the frontend"), "the frontend died in its handler");
	fronts_are(&k, 0, "after it died");
	f = front_open(&k, 1);
	if (!f)
		goto out;
	s.guest = &k.guest[0];
	pvpci_front_set_aer_handler(f, aer_handler, &s);
	if (aer_run(&k, f, NET_HOST, PVPCI_PCI_CHANNEL_IO_FROZEN, true, out, sizeof(out)))
		is_str(out, "0 detected:need_reset,slotreset:recovered,resume:recovered",
		       "the next frontend of the domain gets a whole AER sequence");
	pvpci_front_close(f);
out:
	if (up.fd >= 0)
		close(up.fd);
	bk_stop(&k);
}

int main(void)
{
	static const enum pvpci_topo_mode modes[] = { PVPCI_TOPO_PASSTHROUGH, PVPCI_TOPO_VPCI, PVPCI_TOPO_SLOT };
	const size_t nmodes = sizeof(modes) / sizeof(modes[0]);

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < nmodes; i++)
		scn_ops(modes[i]);
	scn_connect();
	for (size_t i = 0; i < nmodes; i++)
		scn_dies(modes[i]);
	for (size_t i = 0; i < nmodes; i++)
		scn_rewrite(modes[i]);
	scn_nonblock();
	for (size_t i = 0; i < nmodes; i++)
		scn_aer(modes[i]);
	scn_aer_dies();
	printf("1..%d\n", ntests);
	return nfailed ? 1 : 0;
}
