/*
 * Replaying a record (replay.h).  Owns the simulated host built from the
 * record's dumps, the frontend's side of each domain's channel, and the
 * comparison; the backend is struct pvpci_backend unchanged, so every op
 * goes through the path a guest's does (the page, serve, dispatch, the
 * engine, the sim device).
 *
 * What the record says of the hardware is put in before the backend
 * looks: a function's dump before its export, and before a frontend goes
 * the dumps of the restart events that follow (the state each function
 * was found in after its reset and restore), as what the sim device
 * resets to.  The replay then checks that the engine found what the
 * record did, and says so in a note when not: a simulated device does
 * not answer every write as the real one did.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "pvpci/backend.h"
#include "pvpci/hostdev_sim.h"
#include "pvpci/replay.h"
#include "pvpci/transport.h"

#define MAX_FRONTS	64

struct front {
	unsigned domid;
	struct pvpci_chan *c;
};

struct replay {
	const struct pvpci_record *rec;
	const struct pvpci_replay_opts *o;
	struct pvpci_replay_result *res;
	struct pvpci_host *host;
	struct pvpci_backend *b;
	enum pvpci_topo_mode mode;
	struct front fronts[MAX_FRONTS];
	size_t nfronts;
	size_t op;			/* ops so far */
};

__attribute__((format(printf, 4, 5)))
static void say(struct replay *R, size_t ev, bool note, const char *fmt, ...)
{
	struct pvpci_replay_diff d = { .event = ev, .note = note };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d.why, sizeof(d.why), fmt, ap);
	va_end(ap);
	if (note) {
		R->res->notes++;
	} else {
		if (!R->res->ops_differ && !R->res->events_differ)
			R->res->first_differ = ev;
		R->res->events_differ++;
	}
	if (R->o->diff)
		R->o->diff(R->o->diff_ctx, &d);
}

/* ---- the simulated host ---- */

/* A sim host with every function the record names, each from its first dump. */
static int host_build(struct replay *R, char *errbuf, size_t errlen)
{
	const struct pvpci_record *rec = R->rec;
	struct pvpci_dump dump = { 0 };

	if (!rec->nfuncs)
		return 0;	/* nothing is exported: no host is needed */
	dump.devs = calloc(rec->nfuncs, sizeof(*dump.devs));
	if (!dump.devs)
		return pvpci_errf(errbuf, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; i < rec->nfuncs; i++) {
		size_t j;

		for (j = 0; j < dump.n && pvpci_bdf_cmp(&dump.devs[j].bdf, &rec->funcs[i].host); j++)
			;
		if (j == dump.n)
			dump.devs[dump.n++] = rec->funcs[i].dump;
	}
	return pvpci_sim_host_from_dump(&dump, "the record", &R->host, errbuf, errlen);
}

/* ---- frontends ---- */

static struct front *front_of(struct replay *R, unsigned domid)
{
	for (size_t i = 0; i < R->nfronts; i++)
		if (R->fronts[i].domid == domid)
			return &R->fronts[i];
	return NULL;
}

static int front_connect(struct replay *R, size_t ev, unsigned domid, struct front **ret)
{
	struct pvpci_chan *fc, *bc;
	char err[256];
	int r;

	if (R->nfronts == MAX_FRONTS) {
		say(R, ev, false, "more than %d frontends at once: domain %u not connected", MAX_FRONTS,
		    domid);
		return -ENOSPC;
	}
	r = pvpci_local_pair(domid, &fc, &bc);
	if (r < 0) {
		say(R, ev, false, "domain %u: cannot make a channel: %s", domid, strerror(-r));
		return r;
	}
	r = pvpci_backend_attach(R->b, bc, err, sizeof(err));
	if (r < 0) {
		say(R, ev, false, "domain %u: the backend refused the frontend: %s", domid, err);
		pvpci_chan_close(bc);
		pvpci_chan_close(fc);
		return r;
	}
	R->fronts[R->nfronts] = (struct front){ domid, fc };
	*ret = &R->fronts[R->nfronts++];
	return 0;
}

static void front_close(struct replay *R, struct front *f)
{
	pvpci_chan_close(f->c);
	*f = R->fronts[--R->nfronts];
}

/* What the backend answers to what the frontend put on the page. */
static void serve(struct replay *R, struct front *f)
{
	pvpci_chan_notify(f->c);
	pvpci_backend_dispatch(R->b);
	pvpci_chan_ack(f->c);
}

/* ---- events ---- */

/* The engine found the function as the record did: say where not. */
static void check_engine(struct replay *R, size_t ev, const struct pvpci_rec_func *fn,
			 unsigned domid)
{
	struct pvpci_cs *cs = pvpci_backend_engine(R->b, domid, &fn->host);
	char hidden[512], quirks[512], h[PVPCI_BDF_STRLEN];
	const uint8_t *snap;

	if (!cs)
		return;
	pvpci_bdf_format(&fn->host, h);
	pvpci_rec_engine_info(cs, hidden, sizeof(hidden), quirks, sizeof(quirks));
	if (strcmp(hidden, fn->hidden))
		say(R, ev, true, "%s: capabilities hidden: the record's hidden=%s, the replay's %s", h,
		    fn->hidden, hidden);
	if (strcmp(quirks, fn->quirks))
		say(R, ev, true, "%s: quirk fields: the record's quirks=%s, the replay's %s", h,
		    fn->quirks, quirks);
	snap = pvpci_cs_host_snapshot(cs);
	for (unsigned off = 0; off < pvpci_cs_size(cs) && off < fn->dump.len; off++)
		if (snap[off] != fn->dump.cfg[off]) {
			say(R, ev, true, "%s: the simulated device's config space differs from the "
				"record's at 0x%x (recorded 0x%02x, replayed 0x%02x)", h, off,
			    fn->dump.cfg[off], snap[off]);
			break;
		}
}

static void do_export(struct replay *R, size_t ev, const struct pvpci_rec_event *e)
{
	const struct pvpci_rec_func *fn = &R->rec->funcs[e->u.func];
	bool perm = R->o->permissive < 0 ? fn->permissive : R->o->permissive > 0;
	int vslot = pvpci_topo_vslot_of(R->mode, &fn->guest);
	char err[512], g[PVPCI_BDF_STRLEN], want[PVPCI_BDF_STRLEN];
	struct pvpci_bdf guest;
	int r;

	pvpci_bdf_format(&fn->guest, want);
	pvpci_sim_host_replace(R->host, &fn->dump);
	r = pvpci_backend_export(R->b, e->domid, &fn->host, vslot, perm ? PVPCI_EXPORT_PERMISSIVE : 0, &guest,
				 err, sizeof(err));
	if (r < 0) {
		say(R, ev, false, "the record exported it to domain %u at %s; the replay could not: %s",
		    e->domid, want, err);
		return;
	}
	if (pvpci_bdf_cmp(&guest, &fn->guest))
		say(R, ev, false, "exported at %s; the record has it at %s", pvpci_bdf_format(&guest, g),
		    want);
	check_engine(R, ev, fn, e->domid);
}

/* The frontend goes: its functions are reset, and what they reset to is
 * what the record found after (the restart events that follow). */
static void do_disconnect(struct replay *R, size_t ev, const struct pvpci_rec_event *e)
{
	struct front *f = front_of(R, e->domid);

	for (size_t j = ev + 1; j < R->rec->nev; j++) {
		const struct pvpci_rec_event *n = &R->rec->ev[j];

		if (n->kind != PVPCI_REC_RESTART || n->domid != e->domid)
			break;
		pvpci_sim_host_replace(R->host, &R->rec->funcs[n->u.func].dump);
	}
	pvpci_backend_disconnect(R->b, e->domid);
	if (f)
		front_close(R, f);
}

static void do_restart(struct replay *R, size_t ev, const struct pvpci_rec_event *e)
{
	const struct pvpci_rec_func *fn = &R->rec->funcs[e->u.func];
	struct pvpci_bdf host;
	char h[PVPCI_BDF_STRLEN], g[PVPCI_BDF_STRLEN];

	if (pvpci_backend_host_of(R->b, e->domid, &fn->guest, &host) < 0 ||
	    pvpci_bdf_cmp(&host, &fn->host)) {
		say(R, ev, false, "after domain %u's frontend went, the record has %s at %s; the replay "
			"does not", e->domid, pvpci_bdf_format(&fn->host, h),
		    pvpci_bdf_format(&fn->guest, g));
		return;
	}
	check_engine(R, ev, fn, e->domid);
}

static void do_op(struct replay *R, size_t ev, const struct pvpci_rec_event *e)
{
	struct pvpci_replay_diff d = { .event = ev, .op = ++R->op };
	struct pvpci_rec_answer want;
	struct pvpci_op sent;
	struct front *f = front_of(R, e->domid);

	R->res->ops++;
	pvpci_rec_event_op(R->rec, e, &sent, &want);
	/* An op with no connect before it (a record cut or edited so): the
	 * frontend it came from was connected. */
	if (f || front_connect(R, ev, e->domid, &f) == 0) {
		struct pvpci_sharedinfo *sh = f->c->sh;

		memcpy(&sh->op, &sent, sizeof(sent));
		__atomic_fetch_or(&sh->flags, PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
		serve(R, f);
		if (__atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE) & PVPCI_XEN_PCIF_active) {
			__atomic_fetch_and(&sh->flags, ~(uint32_t)PVPCI_XEN_PCIF_active, __ATOMIC_RELEASE);
			snprintf(d.why, sizeof(d.why), "no answer");
		} else {
			d.answered = true;
			pvpci_rec_answer_of(&sent, &sh->op, &d.got);
		}
	}
	if (d.answered && pvpci_rec_answer_equal(&d.got, &want))
		return;
	if (!R->res->ops_differ && !R->res->events_differ)
		R->res->first_differ = ev;
	R->res->ops_differ++;
	if (R->o->diff)
		R->o->diff(R->o->diff_ctx, &d);
}

/* An AER step the record has the backend post: the first starts the
 * sequence, the others the backend posts itself on the answers. */
static void do_aer(struct replay *R, size_t ev, const struct pvpci_rec_event *e)
{
	struct front *f = front_of(R, e->domid);
	const char *cmd = pvpci_op_name(e->u.aer.cmd);
	struct pvpci_sharedinfo *sh;
	int r;

	if (!f) {
		say(R, ev, false, "the record posts %s to domain %u, which has no frontend", cmd,
		    e->domid);
		return;
	}
	sh = f->c->sh;
	if (e->u.aer.cmd == PVPCI_XEN_PCI_OP_aer_detected) {
		/* The frontend that had it answered: it had a handler. */
		__atomic_fetch_or(&sh->flags, PVPCI_XEN_PCIB_AERHANDLER, __ATOMIC_RELEASE);
		r = pvpci_backend_aer(R->b, &e->u.aer.host, e->u.aer.val);
		pvpci_chan_ack(f->c);
		if (r < 0) {
			say(R, ev, false, "the replay could not post %s: %s", cmd, strerror(-r));
			return;
		}
	}
	if (!(__atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE) & PVPCI_XEN_PCIB_active) ||
	    sh->aer_op.cmd != e->u.aer.cmd || sh->aer_op.err != e->u.aer.val)
		say(R, ev, false, "the record posts %s (state %d); the replay %s", cmd, e->u.aer.val,
		    __atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE) & PVPCI_XEN_PCIB_active ?
		    pvpci_op_name(sh->aer_op.cmd) ? pvpci_op_name(sh->aer_op.cmd) : "something else" :
		    "posts nothing");
}

static void do_aer_answer(struct replay *R, size_t ev, const struct pvpci_rec_event *e)
{
	struct front *f = front_of(R, e->domid);
	struct pvpci_sharedinfo *sh = f ? f->c->sh : NULL;

	if (e->u.aer.timeout) {
		say(R, ev, true, "the frontend did not answer %s in time: not replayed (the backend "
			"waits for it still)", pvpci_op_name(e->u.aer.cmd));
		return;
	}
	if (!sh || !(__atomic_load_n(&sh->flags, __ATOMIC_ACQUIRE) & PVPCI_XEN_PCIB_active)) {
		say(R, ev, false, "the record answers %s; the replay has nothing posted",
		    pvpci_op_name(e->u.aer.cmd));
		return;
	}
	sh->aer_op.err = e->u.aer.val;
	__atomic_fetch_and(&sh->flags, ~(uint32_t)PVPCI_XEN_PCIB_active, __ATOMIC_RELEASE);
	serve(R, f);
}

static void event(struct replay *R, size_t ev)
{
	const struct pvpci_rec_event *e = &R->rec->ev[ev];
	char h[PVPCI_BDF_STRLEN], err[256];
	struct front *f;

	switch (e->kind) {
	case PVPCI_REC_EXPORT:
		do_export(R, ev, e);
		break;
	case PVPCI_REC_RESTART:
		do_restart(R, ev, e);
		break;
	case PVPCI_REC_UNEXPORT:
		if (pvpci_backend_unexport(R->b, e->domid, &e->u.host, err, sizeof(err)) < 0)
			say(R, ev, false, "the replay could not release %s: %s",
			    pvpci_bdf_format(&e->u.host, h), err);
		break;
	case PVPCI_REC_CONNECT:
		if (front_of(R, e->domid))
			say(R, ev, true, "domain %u connects again: its frontend was connected",
			    e->domid);
		else
			front_connect(R, ev, e->domid, &f);
		break;
	case PVPCI_REC_DISCONNECT:
		do_disconnect(R, ev, e);
		break;
	case PVPCI_REC_OP:
		do_op(R, ev, e);
		break;
	case PVPCI_REC_AER:
		do_aer(R, ev, e);
		break;
	case PVPCI_REC_AER_ANSWER:
		do_aer_answer(R, ev, e);
		break;
	case PVPCI_REC_LOST:
		say(R, ev, true, "the record lost %lu events here: what follows may differ for that",
		    e->u.lost);
		break;
	}
}

int pvpci_replay_run(const struct pvpci_record *rec, const struct pvpci_replay_opts *o,
		     struct pvpci_replay_result *ret, char *errbuf, size_t errlen)
{
	struct replay R = { .rec = rec, .o = o };
	struct pvpci_replay_result res = { 0 };
	struct pvpci_backend_cfg cfg = { 0 };
	int r;

	if (!rec || !o || !ret)
		return pvpci_errf(errbuf, errlen, -EINVAL, "nothing to replay");
	R.res = &res;
	R.mode = o->set_mode ? o->mode : rec->mode;
	r = host_build(&R, errbuf, errlen);
	if (r < 0)
		return r;
	cfg.host = R.host;
	cfg.mode = R.mode;
	cfg.dev.state_dir = o->state_dir;
	cfg.dev.reset = PVPCI_SR_RESET_IF_AVAILABLE;
	cfg.dev.cs.permissive = o->permissive > 0;
	cfg.dev.cs.log = o->log;
	cfg.dev.cs.log_ctx = o->log_ctx;
	cfg.dev.quirks = o->set_quirks ? o->quirks : rec->quirks;
	/* The record says what was exported; whether a line interrupt was
	 * shared on that host is no question for its ops. */
	cfg.allow_shared_intx = true;
	cfg.log = o->log;
	cfg.log_ctx = o->log_ctx;
	r = pvpci_backend_new(&cfg, &R.b, errbuf, errlen);
	if (r < 0) {
		pvpci_host_close(R.host);
		return r;
	}
	for (size_t i = 0; i < rec->nev; i++)
		event(&R, i);
	pvpci_backend_free(R.b);
	while (R.nfronts)
		front_close(&R, &R.fronts[0]);
	pvpci_host_close(R.host);
	*ret = res;
	return 0;
}
