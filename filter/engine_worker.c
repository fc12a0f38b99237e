/* engine_worker.c - one thread per queue: receive a batch, judge, verdict; adopt snapshots between batches. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <sys/eventfd.h>

#include "engine_int.h"

struct snap *snap_clone(const struct snap *s)
{
	struct snap *n = malloc(sizeof(*n));

	if (n)
		*n = *s;
	return n;
}

void snap_free(struct snap *s, bool with_policy)
{
	if (!s)
		return;
	if (with_policy)
		policy_free(s->policy);
	free(s);
}

/* Called by the worker between batches: the only writer of its pipeline. */
static void adopt(struct worker *w, const struct snap *s)
{
	struct pipeline *pl = &w->pl;

	if (s->cfg != pl->cfg) {
		pl->cfg = s->cfg;
		pl->hosts = s->cfg->hosts; /* for `dir` outside the hooks: live takes it from the hook */
		pl->nhosts = s->cfg->nhosts;
		/* a config read again (SIGHUP): the DHCP transactions and DNS queries under way stay */
		lifeline_reinit(&pl->lifeline, s->cfg);
	}
	if (s->policy != pl->policy)
		pipeline_set_policy(pl, s->policy);
	lifeline_set_managers(&pl->lifeline, s->managers, s->nmanagers);
	memcpy(pl->lifeline.dns, s->dns, s->ndns * sizeof(s->dns[0]));
	pl->lifeline.ndns = s->ndns;
	pl->lifeline.dns_changes++;
	if (w->mark_gen != s->gen)
		w->gen_since_ms = engine_mono_ms();
	w->mark_gen = s->gen;
	w->cur = s;
	atomic_store_explicit(&w->adopted, s, memory_order_release);
}

static const char *ifname_of(struct worker *w, int ifindex)
{
	struct ifcache *c;

	if (!ifindex)
		return NULL;
	if (w->ifc_gen != w->cur->links_gen) {
		memset(w->ifc, 0, sizeof(w->ifc));
		w->ifc_gen = w->cur->links_gen;
	}
	c = &w->ifc[(unsigned)ifindex % ENGINE_IFCACHE];
	if (c->ifindex != ifindex) {
		if (!if_indextoname((unsigned)ifindex, c->name))
			return NULL;
		c->ifindex = ifindex;
	}
	return c->name;
}

static bool is_ip(const struct nfqueue_pkt *np)
{
	if (np->hw_proto == ETH_P_IP || np->hw_proto == ETH_P_IPV6)
		return true;
	/* hw_protocol is 0 on some output paths: trust the version nibble then */
	return np->hw_proto == 0 && np->caplen && (np->data[0] >> 4 == 4 || np->data[0] >> 4 == 6);
}

/* alert.signature, rev, gid, severity, category for an event: the rule in the running policy. */
static bool signature(void *arg, uint32_t sid, struct ev_sig *out)
{
	const struct worker *w = arg;
	struct ips_rule_info r;

	if (!w->pl.policy || !ips_rule_info(w->pl.policy->ips, sid, &r))
		return false;
	out->msg = r.msg;
	out->gid = r.gid;
	out->rev = r.rev;
	out->severity = r.severity < 256 ? (uint8_t)r.severity : 255;
	out->category = r.category;
	out->blocks = r.blocks;
	return true;
}

/* The verdict of one judged packet: events, then NF_* back to the kernel, in arrival order. */
static void send_verdict(struct worker *w, const struct held *h)
{
	const struct nfqueue_pkt *np = &h->np;
	const struct verdict *v = &h->v;
	int64_t mark = -1;
	int nfv;

	/* drops, log-only matches and alerts; the log rate-limits per rule */
	if (w->eng->evlog && (!v->accept || v->nlogged || v->nalerts))
		event_emit_verdict(w->eng->evlog, &h->p, v, 0, signature, w);
	nfv = v->accept ? NF_ACCEPT : NF_DROP;
	if (!v->accept && v->by == BY_IPS && v->reason == R_IPS_REJECT) {
		/* the kernel rules answer with a TCP RST or ICMP unreachable, and drop it */
		nfv = NF_REPEAT;
		mark = (np->mark & ~HOOKS_MARK_MASK) | hooks_mark(HOOKS_REJECT_GEN);
	} else if (v->accept && v->offload &&
		   (np->mark & HOOKS_MARK_MASK) == hooks_mark(w->mark_gen)) {
		/*
		 * Repeated once with this generation's mark, and back: the
		 * kernel rules name another generation (restored by another
		 * tool, or a failed rewrite). Accepted without offload, so it
		 * cannot go round forever; the next load rewrites the rules.
		 */
		/*
		 * Said once, and not for a repeat that met the swap in flight:
		 * the rules already pass the next generation while this worker
		 * is still on the one before (a load long after the last one),
		 * or it has just adopted this one.
		 */
		if (w->told_gen != w->mark_gen && atomic_load(&w->eng->rules_gen) == w->mark_gen &&
		    engine_mono_ms() - w->gen_since_ms > 2000) {
			w->told_gen = w->mark_gen;
			engine_log("warning: the kernel rules do not pass offload generation %u "
				   "(restored by another tool?): flows are judged packet by packet "
				   "until the next load", w->mark_gen);
		}
	} else if (v->accept && v->offload) {
		/* NFQA_CT is ignored here: the mark carries the decision back to the rules */
		nfv = NF_REPEAT;
		mark = (np->mark & ~HOOKS_MARK_MASK) | hooks_mark(w->mark_gen);
		atomic_fetch_add_explicit(&w->repeats, 1, memory_order_relaxed);
	}
	if (nfqueue_verdict(w->q, np->id, nfv, mark) < 0)
		atomic_fetch_add_explicit(&w->verdict_errors, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->packets, 1, memory_order_relaxed);
}

/*
 * Judge what is held, in one pipeline_judge_batch() (one clock reading for
 * the batch), then send the verdicts in the order the packets came.
 */
static void flush_held(struct worker *w)
{
	struct pkt *pk[PIPELINE_BATCH];
	uint64_t now[PIPELINE_BATCH], t;
	struct verdict v[PIPELINE_BATCH];
	unsigned n = 0, j = 0;

	if (!w->nheld)
		return;
	t = engine_now_us();
	for (unsigned i = 0; i < w->nheld; i++) {
		if (!w->held[i].judged) {
			pk[n] = &w->held[i].p;
			now[n++] = t;
		}
	}
	pipeline_judge_batch(&w->pl, pk, n, now, v);
	for (unsigned i = 0; i < w->nheld; i++) {
		if (!w->held[i].judged)
			w->held[i].v = v[j++];
		send_verdict(w, &w->held[i]);
	}
	w->nheld = 0;
}

/* The spine of the live path: parse now, judge with the batch, turn the verdict into NF_*. */
static void on_packet(void *arg, const struct nfqueue_pkt *np)
{
	struct worker *w = arg;
	struct held *h = &w->held[w->nheld++];
	struct pkt *p = &h->p;
	const char *ifn;
	enum ll_reason why;

	h->np = *np;
	h->judged = true;
	memset(p, 0, sizeof(*p));
	p->dir = np->hook == NF_INET_LOCAL_OUT ? PKT_DIR_OUT : PKT_DIR_IN;
	p->ifindex = (int)(p->dir == PKT_DIR_OUT ? np->outdev : np->indev);
	/* a copy: the name cache may hand the slot to another interface within the batch */
	ifn = ifname_of(w, p->ifindex);
	if (ifn) {
		size_t len = strnlen(ifn, sizeof(h->ifname) - 1);

		memcpy(h->ifname, ifn, len);
		h->ifname[len] = 0;
		p->ifname = h->ifname;
	}
	if (!is_ip(np)) {
		pipeline_not_ip(&w->pl, &h->v);
	} else if (pkt_parse_wire(p, np->data, np->caplen, np->len, &why) < 0) { /* copy_range caps at 65531: ips_cut() */
		pipeline_sanity(&w->pl, why, &h->v);
	} else {
		h->judged = false;
		/*
		 * (After the parse, which clears the packet.) Checksum-not-ready
		 * packets (the host's own: the device fills it in) carry a partial
		 * sum; a TCP one the kernel has not verified is checked here, once:
		 * neither the flow's record nor the IPS stream may take a segment
		 * the host drops (pkt_tcp_unread()).
		 */
		p->csum_bad = p->proto == 6 &&
			      (np->skbinfo & (NFQA_SKB_CSUM_NOTVERIFIED | NFQA_SKB_CSUMNOTREADY)) ==
				      NFQA_SKB_CSUM_NOTVERIFIED &&
			      !pkt_l4_csum_ok(p);
	}
	if (w->nheld == PIPELINE_BATCH)
		flush_held(w);
}

static void check_snapshot(struct worker *w)
{
	const struct snap *s = atomic_load_explicit(&w->eng->snap, memory_order_acquire);

	if (s != w->cur) {
		pthread_mutex_lock(&w->lock);
		adopt(w, s);
		pthread_mutex_unlock(&w->lock);
	}
}

/*
 * Judge what the queue holds, a batch at a time. Between batches: a new
 * snapshot is adopted (engine_publish() waits for every worker, and a
 * policy swap, SIGHUP or SIGTERM must not wait for a flood to end), and
 * the loop ends when the engine stops. @final, the stop's last pass,
 * takes at most a full queue's worth of batches.
 */
static int drain(struct worker *w, bool final)
{
	int n, left = final ? ENGINE_QUEUE_MAXLEN / 16 + 1 : -1;

	do {
		/* per batch, so that `flows` and `stats` get in between batches */
		pthread_mutex_lock(&w->lock);
		n = nfqueue_recv_batch(w->q, true, on_packet, w);
		flush_held(w); /* before the next receive reuses the buffer */
		if (n > 0 && nfqueue_flush(w->q) < 0)
			atomic_fetch_add_explicit(&w->verdict_errors, 1, memory_order_relaxed);
		pthread_mutex_unlock(&w->lock);
		/* under steady load drain() never returns to poll: stamp here too */
		atomic_store_explicit(&w->alive_ms, engine_mono_ms(), memory_order_relaxed);
		if (!final)
			check_snapshot(w);
	} while (n > 0 && (final ? --left > 0 : !atomic_load(&w->eng->stop)));
	return n;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pollfd pfd[2] = {
		{ .fd = nfqueue_fd(w->q), .events = POLLIN },
		{ .fd = w->wake_fd, .events = POLLIN },
	};
	uint64_t junk;

	check_snapshot(w);
	for (;;) {
		/* wake at least every second: the watchdog wants proof of life */
		atomic_store_explicit(&w->alive_ms, engine_mono_ms(), memory_order_relaxed);
		if (poll(pfd, 2, 1000) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN && read(w->wake_fd, &junk, sizeof(junk)) < 0)
			junk = 0;
		check_snapshot(w);
		if (atomic_load(&w->eng->stop))
			break;
		if (pfd[0].revents & POLLIN) {
			atomic_fetch_add_explicit(&w->batches, 1, memory_order_relaxed);
			drain(w, false);
		} else if (w->pl.flows) { /* idle: flows still expire (no new one does it) */
			pthread_mutex_lock(&w->lock);
			flow_sweep(w->pl.flows, engine_now_us());
			pthread_mutex_unlock(&w->lock);
		}
	}
	/* stopping: judge what the kernel still holds (hooks may be gone already) */
	drain(w, true);
	atomic_store(&w->exited, true);
	return NULL;
}

int worker_start(struct worker *w)
{
	int err;

	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake_fd < 0)
		return -errno;
	err = pthread_create(&w->th, NULL, worker_main, w);
	if (err)
		return -err;
	w->started = true;
	return 0;
}

static void wake(struct worker *w)
{
	uint64_t one = 1;

	if (w->wake_fd >= 0 && write(w->wake_fd, &one, sizeof(one)) < 0)
		return;
}

void worker_stop_join(struct worker *w)
{
	if (w->started) {
		wake(w);
		pthread_join(w->th, NULL);
		w->started = false;
	}
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	w->wake_fd = -1;
}

/*
 * Packets wait in the kernel queue while a worker adopts, so none is
 * dropped and none is judged by a half-built snapshot: @s is complete
 * before its pointer is stored.
 */
void engine_publish(struct engine *e, struct snap *s)
{
	struct snap *old = atomic_exchange_explicit(&e->snap, s, memory_order_acq_rel);

	for (uint32_t i = 0; i < e->nworkers; i++) {
		struct worker *w = &e->workers[i];

		if (!w->started)
			continue;
		wake(w);
		while (atomic_load_explicit(&w->adopted, memory_order_acquire) != s &&
		       !atomic_load(&w->exited))
			usleep(200);
	}
	if (old)
		snap_free(old, old->policy != s->policy);
}
