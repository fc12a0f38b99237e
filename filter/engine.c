/*
 * engine.c - lifelined live: start (policy, queues, hooks, workers, ready),
 * the control thread's event loop (signals, addresses, NFLOG, timers), stop.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "control.h"
#include "kernel_probe.h"
#include "engine_int.h"
#include "sig.h"
#include "state.h"

#define TICK_SECONDS 5
#define NFDS 8 /* the event loop's descriptors (open_fds()) */

static void fill_snap_lifeline(struct snap *s, const struct lifeline *l, uint64_t now_us)
{
	s->ndns = 0;
	for (uint32_t i = 0; i < l->ndns; i++)
		if (!l->dns[i].expires_us || l->dns[i].expires_us > now_us)
			s->dns[s->ndns++] = l->dns[i];
}

static void snap_dns_addrs(const struct snap *s, ll_ip *out)
{
	for (uint32_t i = 0; i < s->ndns; i++)
		out[i] = s->dns[i].addr;
}

/*
 * The first snapshot: policy, generation 1 (the caller picks the real one),
 * hosts, managers (names: as the resolver thread last found them; it
 * starts at once, and again at a reload), DNS servers.
 */
static struct snap *initial_snap(struct engine *e, struct policy *pol)
{
	struct snap *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cfg = e->cfg;
	s->policy = pol;
	s->gen = 1;
	s->nmanagers = engine_managers(e, s->managers);
	lifeline_set_managers(&e->master, s->managers, s->nmanagers);
	fill_snap_lifeline(s, &e->master, engine_now_us());
	return s;
}

static int open_queues(struct engine *e)
{
	const struct config *c = e->cfg;
	struct nfqueue_opts qo = { .fail_open = c->fail_open, .maxlen = ENGINE_QUEUE_MAXLEN,
				   .copy_range = 0xffff, .rcvbuf = 8 << 20 };
	int err;

	e->nworkers = (uint32_t)(c->queue_hi - c->queue_lo + 1);
	e->workers = calloc(e->nworkers, sizeof(*e->workers));
	if (!e->workers)
		return -ENOMEM;
	for (uint32_t i = 0; i < e->nworkers; i++) {
		e->workers[i].eng = e;
		e->workers[i].wake_fd = -1;
		pthread_mutex_init(&e->workers[i].lock, NULL);
	}
	for (uint32_t i = 0; i < e->nworkers; i++) {
		struct worker *w = &e->workers[i];

		err = nfqueue_open(&w->q, (uint16_t)(c->queue_lo + i), &qo);
		if (err == -EPERM && !engine_has_cap(CAP_NET_ADMIN)) {
			engine_log("queue %u: permission denied: lifelined needs CAP_NET_ADMIN "
				   "(run it as root)", c->queue_lo + i);
			return err;
		}
		if (err == -EPERM || err == -EBUSY) {
			engine_log("queue %u is taken by another process", c->queue_lo + i);
			return err;
		}
		if (err) {
			engine_log("queue %u: %s", c->queue_lo + i, strerror(-err));
			return err;
		}
	}
	return 0;
}

static int start_workers(struct engine *e, struct policy *pol)
{
	for (uint32_t i = 0; i < e->nworkers; i++) {
		struct worker *w = &e->workers[i];
		int err = pipeline_init(&w->pl, e->cfg, pol);

		if (!err)
			err = worker_start(w);
		if (err) {
			engine_log("worker %u: %s", i, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* The queue rule stays out from now on (the kernel rules are written without it). */
static void queue_stays_out(struct engine *e)
{
	e->hooks.spec.queue = false;
	engine_log("hooks: the queue rule was taken out (lifelinectl reset): traffic stays "
		   "unfiltered until lifelined restarts");
}

/*
 * Did `lifelinectl reset` take the queue rule out? Then no rewrite of our
 * chains (a new generation, a SIGHUP) puts it back, as `pfctl -f` does not
 * undo `pfctl -d`; a restart queues again.
 */
static bool queue_taken_out(struct engine *e, enum hooks_queue_state st)
{
	if (e->hooks.installed && !e->hooks.spec.queue)
		return true;
	if (!e->hooks.installed || st != HQ_OUT)
		return false;
	queue_stays_out(e);
	return true;
}

/*
 * The offload generation after @gen (0: none yet). The connmarks of the
 * flows offloaded under a generation outlive the engine that set them, so
 * it is written to the state directory before use (a restart goes on from
 * it, instead of taking 1 again and with it whatever an earlier engine
 * offloaded under 1), and the idle flows still marked with it are
 * forgotten (hooks_forget_gen()).
 */
static uint32_t next_gen(struct engine *e, uint32_t gen)
{
	int err;

	gen = gen % HOOKS_GEN_MAX + 1;
	if (state_num_write(e->cfg->state_dir, STATE_GEN_FILE, gen) < 0)
		engine_log("warning: cannot write %s/%s: a restart may let flows offloaded under "
			   "generation %u pass unjudged", e->cfg->state_dir, STATE_GEN_FILE, gen);
	if (e->cfg->offload && (err = hooks_forget_gen(gen)) < 0 && !e->warned_conntrack) {
		engine_log("warning: %s: flows idle since generation %u was last used pass unjudged%s",
			   err == -ENOENT ? "conntrack(8) is missing" : "conntrack -D failed", gen,
			   err == -ENOENT ? " (install conntrack)" : "");
		e->warned_conntrack = true;
	}
	return gen;
}

/* The generation the last engine used, 0 when none is on record. */
static uint32_t last_gen(const struct config *cfg)
{
	uint64_t g = 0;

	if (state_num_read(cfg->state_dir, STATE_GEN_FILE, &g) < 0)
		g = 0;
	return g <= HOOKS_GEN_MAX ? (uint32_t)g : 0;
}

/* What the kernel holds of our rules now, when it matters (installed, queue not taken out). */
static enum hooks_queue_state kernel_state(const struct engine *e)
{
	return e->hooks.installed && e->hooks.spec.queue ? hooks_queue_state(e->hooks.backend)
							 : HQ_UNKNOWN;
}

/* @st: kernel_state() when the caller has it, so that the kernel is asked once. */
static int install_hooks(struct engine *e, enum hooks_queue_state st)
{
	const struct snap *s = atomic_load(&e->snap);
	ll_ip mgr[LIFELINE_MAX_DNS], dns[LIFELINE_MAX_DNS];
	struct hooks_spec spec;
	int err;

	e->queue_asked_ms = 0; /* what status last saw of the kernel's rules is old news */
	hooks_spec_from_config(&spec, e->cfg, mgr, dns, LIFELINE_MAX_DNS);
	memcpy(mgr, s->managers, s->nmanagers * sizeof(ll_ip));
	spec.set_n[HSET_MGR] = s->nmanagers;
	snap_dns_addrs(s, dns);
	spec.set_n[HSET_DNS] = s->ndns;
	spec.gen = s->gen;
	spec.queue = !queue_taken_out(e, st);
	atomic_store(&e->rules_gen, spec.gen); /* before the rules pass it: set_generation() */
	/* detect once: the backend never changes under a running engine */
	err = hooks_install(&e->hooks, e->hooks.backend ? e->hooks.backend : HOOKS_AUTO, &spec);
	if (err)
		engine_log("installing the kernel hooks (%s) failed: %s%s",
			   e->hooks.backend == HOOKS_NFT ? "nft" : "iptables",
			   e->hooks.err[0] ? e->hooks.err : strerror(-err), "");
	return err;
}

static void stop_workers(struct engine *e)
{
	atomic_store(&e->stop, true);
	for (uint32_t i = 0; i < e->nworkers; i++)
		worker_stop_join(&e->workers[i]);
}

static void log_summary(struct engine *e)
{
	for (uint32_t i = 0; i < e->nworkers; i++) {
		struct worker *w = &e->workers[i];
		struct nfqueue_kstats ks = { 0 };

		if (!w->q)
			continue;
		nfqueue_kernel_stats(nfqueue_num(w->q), &ks);
		engine_log("queue %u: %llu packets (%llu accepted, %llu dropped, %llu offloaded), "
			   "kernel drops %u full, %u unsent", nfqueue_num(w->q),
			   (unsigned long long)w->packets, (unsigned long long)w->pl.ctr.accepted,
			   (unsigned long long)w->pl.ctr.dropped, (unsigned long long)w->repeats,
			   ks.dropped, ks.user_dropped);
	}
}

/* Tear down in the order fail-open asks for; also the failure path of start-up. */
static void engine_stop(struct engine *e, bool clean)
{
	bool remove = !clean || e->cfg->fail_open;

	engine_control_stop(e); /* no request may reach a half-stopped engine */
	if (clean)
		engine_notify("STOPPING=1");
	/* fail-open: no more queueing, the workers drain what is queued, then the hooks go */
	if (remove && e->hooks.installed && e->hooks.backend == HOOKS_IPTABLES)
		hooks_remove(&e->hooks);
	else if (remove)
		hooks_quiesce(&e->hooks);
	stop_workers(e);
	if (remove && e->hooks.installed)
		hooks_remove(&e->hooks);
	if (clean)
		log_summary(e);
	for (uint32_t i = 0; i < e->nworkers; i++) {
		struct worker *w = &e->workers[i];

		nfqueue_close(w->q);
		if (w->pl.flows)
			pipeline_fini(&w->pl);
	}
	if (clean && !remove)
		engine_log("fail-open no: %s left in place", e->hooks.spec.queue ?
			   "queue hooks and kernel lifeline" :
			   "the kernel lifeline (the queue rule was taken out by reset)");
	else if (clean)
		engine_remove_pid(e->cfg); /* nothing of ours is left for a console to find */
	free(e->workers);
	if (e->evlog)
		event_log_close(e->evlog);
	nflog_close(e->nflog);
	if (e->dhcp_tap >= 0)
		close(e->dhcp_tap);
	addr_watch_close(e->aw);
	/* last: it may be in a lookup the resolver takes seconds to give up on (it reads e->cfg) */
	resolver_stop(e);
	snap_free(atomic_load(&e->snap), true);
	if (e->cfg_own) {
		config_free(e->cfg_own);
		free(e->cfg_own);
	}
}

/*
 * The kernel rules to pass generation @gen. rules_gen names it before the
 * rewrite starts and before the workers take it; a rewrite that failed (the
 * engine says so) gives it back, so that no worker calls the rules that
 * kept the old one "restored by another tool".
 */
static int set_generation(struct engine *e, uint32_t gen)
{
	uint32_t was = atomic_exchange(&e->rules_gen, gen);
	int err = hooks_set_generation(&e->hooks, gen);

	if (err)
		atomic_store(&e->rules_gen, was);
	return err;
}

/* Run the tick now (soon after @ms), from any thread: the event loop does the work. */
static void kick_tick(const struct engine *e, long ms)
{
	struct itimerspec it = { { TICK_SECONDS, 0 }, { ms / 1000, ms % 1000 * 1000000 } };
	int fd = atomic_load(&e->tick_fd);

	if (fd >= 0)
		timerfd_settime(fd, 0, &it, NULL);
}

/*
 * engine_set_policy() - swap to @p (complete; the engine owns it from now
 * on) under a new offload generation, so offloaded flows are judged again.
 * The kernel rule moves first: a flow offloaded under the old generation is
 * queued again, and so is a repeat carrying the old mark (judged once more).
 * Control thread only. 0 or -errno (the swap happens even if the rule
 * update failed; offloaded flows then keep their old decision).
 *
 * @kernel_later (reset): publish first and leave the rewrite to the tick,
 * kicked to run right after. The rewrite is ~30 runs of iptables and
 * conntrack, a second or more on a loaded host, and the console's reset
 * waits 1 s for the answer before it acts alone, taking the queue rule out
 * of a healthy engine. The empty policy accepts everything, and only
 * accepted flows are offloaded: nothing the old generation lets pass in
 * the kernel meanwhile is something the empty policy would stop.
 *
 * KERNEL_QUEUE_OUT (the empty policy a reset that acted alone persisted):
 * that reset took the queue rule out and said so. A rewrite of ours that
 * read the kernel before and wrote it after (a load's new generation) put
 * the rule back: it goes out again, and stays out as after any reset.
 */
int engine_set_policy(struct engine *e, struct policy *p, enum set_kernel how)
{
	struct snap *s = snap_clone(atomic_load(&e->snap));
	enum hooks_queue_state st;
	int err;

	if (!s)
		return -ENOMEM;
	s->policy = p;
	s->gen = next_gen(e, s->gen);
	e->queue_asked_ms = 0; /* status asks the kernel again */
	if (how == KERNEL_QUEUE_OUT && e->hooks.installed && e->hooks.spec.queue) {
		queue_stays_out(e);
		if (!e->hooks.spec.offload && hooks_rewrite(&e->hooks) < 0) /* else: the new generation's */
			engine_log("warning: cannot take the queue rule out: %s", e->hooks.err);
	}
	if (how == KERNEL_LATER && e->hooks.installed && e->hooks.spec.offload) {
		e->gen_unapplied = true;
		engine_publish(e, s);
		kick_tick(e, 200); /* after the answer: the tick takes the lock */
		return 0;
	}
	st = kernel_state(e);
	if (st == HQ_GONE) {
		/* another tool flushed them: a load puts them back, sets and all, whatever offload */
		engine_publish(e, s);
		engine_log("hooks: lifeline's kernel rules were gone (flushed by another tool?): "
			   "installing them again");
		return install_hooks(e, st);
	}
	if (e->hooks.spec.offload)
		queue_taken_out(e, st); /* the generation is a rewrite of our chains */
	err = set_generation(e, s->gen);
	if (!err && e->gen_unapplied) /* the tick was still trying an older one */
		engine_log("offload generation %u is in the kernel rules now", s->gen);
	e->gen_unapplied = err != 0; /* e.g. another process held the xtables lock */
	engine_publish(e, s);
	return err;
}

/* Hooks and snapshot follow a changed lifeline (DNS learned or expired, managers). */
static void lifeline_changed(struct engine *e, bool managers)
{
	struct snap *s = snap_clone(atomic_load(&e->snap));
	ll_ip a[LIFELINE_MAX_DNS > LIFELINE_MAX_MANAGERS ? LIFELINE_MAX_DNS : LIFELINE_MAX_MANAGERS];
	int err;

	if (!s)
		return;
	fill_snap_lifeline(s, &e->master, engine_now_us());
	if (managers) {
		memcpy(s->managers, e->master.managers, e->master.nmanagers * sizeof(ll_ip));
		s->nmanagers = e->master.nmanagers;
		err = hooks_set_addrs(&e->hooks, HSET_MGR, s->managers, s->nmanagers);
	} else {
		snap_dns_addrs(s, a);
		err = hooks_set_addrs(&e->hooks, HSET_DNS, a, s->ndns);
	}
	if (err)
		engine_log("updating the kernel %s set failed: %s", managers ? "manager" : "DNS",
			   e->hooks.err);
	engine_publish(e, s);
}

/* After replies were read (@n learned; @unasked: the count before): say so, save, update the sets. */
static void after_replies(struct engine *e, int n, uint64_t unasked, uint64_t now)
{
	/* at most once a minute: anyone can send them, and the log is not theirs to fill */
	if (e->master.unasked > unasked && now - e->unasked_said_us >= 60000000u) {
		engine_log("lifeline: a DHCP reply that answers no request of this host's was "
			   "ignored (forged, or its request came before the engine started); %" PRIu64
			   " so far", e->master.unasked);
		e->unasked_said_us = now;
	}

	if (n > 0 || e->master.dns_changes != e->dns_changes_seen) {
		e->dns_changes_seen = e->master.dns_changes;
		engine_log("lifeline: %u DNS server(s) known", e->master.ndns);
		engine_event(e, EV_LIFELINE, "DNS servers learned from DHCP");
		if (engine_save_learned(e->cfg, &e->master) < 0)
			engine_log("warning: cannot save learned DNS servers in %s", e->cfg->state_dir);
		lifeline_changed(e, false);
	}
}

static void on_nflog(struct engine *e)
{
	uint64_t unasked = e->master.unasked, now = engine_now_us();
	int n = nflog_read(e->nflog, &e->master, &e->hb, now);

	after_replies(e, n, unasked, now);
}

static void on_dhcp_tap(struct engine *e)
{
	uint64_t unasked = e->master.unasked, now = engine_now_us();
	int n = dhcp_tap_read(e->dhcp_tap, &e->master, now);

	if (n < 0)
		engine_log("warning: reading the host's DHCP requests and replies: %s", strerror(-n));
	after_replies(e, n, unasked, now);
}

static void on_addresses(struct engine *e)
{
	int m = addr_watch_read(e->aw);
	struct snap *s;

	if (m <= 0)
		return;
	/* a link renamed or gone: the workers' interface name caches start over */
	if (m & 2 && (s = snap_clone(atomic_load(&e->snap)))) {
		s->links_gen++;
		engine_publish(e, s);
	}
	/* $HOME_NET is the host's addresses (SPEC 4): the control thread sees if it moved */
	control_rehome(e->ctl);
}

/* engine_heartbeat_check() - see engine_int.h. */
void engine_heartbeat_check(struct engine *e)
{
	switch (hb_tick(&e->hb, engine_now_us(), e->cfg->heartbeat_interval,
			e->cfg->missed_heartbeats)) {
	case HB_OFFLINE:
		engine_log("management offline: no heartbeat exchange for %u interval(s)",
			   e->hb.missed);
		engine_event(e, EV_HEARTBEAT, "management offline: heartbeats missed");
		break;
	case HB_ONLINE:
		engine_log("management online: heartbeat exchange seen");
		engine_event(e, EV_HEARTBEAT, "management online");
		break;
	default:
		break;
	}
}

/*
 * A full flow table pushes out the flow not used longest (README: idle
 * connections come back as new flows): said at most once a minute, as
 * conntrack's "table full" is, or an operator sees it only in stats.
 */
static void flows_full_check(struct engine *e)
{
	uint64_t n = engine_flows_evicted(e), now = engine_now_us();

	if (n <= e->evicted_said || now - e->evicted_said_us < 60 * 1000000ULL)
		return;
	engine_log("flow table full: %llu flow(s) evicted since %s (max-flows %llu a worker): "
		   "an idle connection pushed out is judged again as a new flow at its next "
		   "packet; `lifelinectl stats` shows the tables",
		   (unsigned long long)(n - e->evicted_said),
		   e->evicted_said_us ? "the last such line" : "the start",
		   (unsigned long long)e->cfg->max_flows);
	e->evicted_said = n;
	e->evicted_said_us = now;
}

static void on_tick(struct engine *e)
{
	const struct snap *cur = atomic_load(&e->snap);
	struct snap probe;

	engine_heartbeat_check(e);
	flows_full_check(e);
	/*
	 * Until the kernel rules name the running generation, flows the old
	 * policy offloaded still pass there unjudged: try again each tick.
	 */
	if (e->gen_unapplied) {
		/* a reset that took the queue rule out meanwhile: the rewrite keeps it out */
		queue_taken_out(e, kernel_state(e));
		if (set_generation(e, cur->gen) == 0) {
			e->gen_unapplied = false;
			engine_log("offload generation %u is in the kernel rules now", cur->gen);
		}
	}
	/* DNS servers whose lease ended leave the kernel set too */
	fill_snap_lifeline(&probe, &e->master, engine_now_us());
	if (probe.ndns != cur->ndns)
		lifeline_changed(e, false);
}

/* The resolver thread finished a round: adopt the managers' addresses when they changed. */
static void on_resolved(struct engine *e)
{
	const struct snap *cur = atomic_load(&e->snap);
	ll_ip mgr[LIFELINE_MAX_MANAGERS];
	uint64_t rounds;
	uint32_t n;

	if (read(e->res.fd, &rounds, sizeof(rounds)) < 0 || !e->res.fresh)
		return;
	e->res.fresh = false;
	if (e->res.failed && !e->res.warned)
		engine_log("lifeline: %u manager name(s) did not resolve: each keeps its last "
			   "addresses until it resolves again", e->res.failed);
	e->res.warned = e->res.failed != 0;
	n = engine_managers(e, mgr);
	if (n == cur->nmanagers && !memcmp(mgr, cur->managers, n * sizeof(ll_ip)))
		return;
	lifeline_set_managers(&e->master, mgr, n);
	engine_log("lifeline: managers re-resolved (%u address(es)%s)", n,
		   e->res.failed ? "; a name that did not resolve keeps its last addresses" : "");
	lifeline_changed(e, true);
}

/* Rewrite the rules only when they change; sets are swapped in place. */
static int reload_hooks(struct engine *e)
{
	const struct snap *s = atomic_load(&e->snap);
	const struct hooks_spec *o = &e->hooks.spec;
	ll_ip dns[LIFELINE_MAX_DNS];
	struct hooks_spec n;
	int err;

	hooks_spec_from_config(&n, e->cfg, dns, dns, LIFELINE_MAX_DNS);
	if (n.heartbeat_port != o->heartbeat_port || n.agent_port != o->agent_port ||
	    n.any_manager != o->any_manager || n.offload != o->offload)
		return install_hooks(e, kernel_state(e));
	snap_dns_addrs(s, dns);
	err = hooks_set_addrs(&e->hooks, HSET_DNS, dns, s->ndns);
	if (!err)
		err = hooks_set_addrs(&e->hooks, HSET_MGR, s->managers, s->nmanagers);
	if (err)
		engine_log("reload: updating the kernel sets failed: %s", e->hooks.err);
	return err;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/*
 * SIGHUP: reopen the event log; a new config where it can change live
 * (queues, fail-open and max-flows need a restart).
 */
static void on_reload(struct engine *e)
{
	const char *path = e->config_path ? e->config_path : LL_DEFAULT_CONFIG;
	struct config *c = calloc(1, sizeof(*c)), *old = e->cfg_own;
	struct ll_errlist errs = { 0 };
	struct snap *s;

	if (e->evlog && event_log_reopen(e->evlog) < 0)
		engine_log("reload: cannot reopen %s", e->cfg->event_log);
	if (!c || config_load(c, path, !e->config_path, &errs) < 0) {
		engine_log_errs(&errs);
		engine_log("reload: %s is not a valid config (above); nothing changed, the running "
			   "config stays", path);
		ll_err_free(&errs);
		if (c)
			config_free(c);
		free(c);
		return;
	}
	ll_err_free(&errs);
	if (c->queue_lo != e->cfg->queue_lo || c->queue_hi != e->cfg->queue_hi ||
	    c->fail_open != e->cfg->fail_open || c->max_flows != e->cfg->max_flows)
		engine_log("reload: queues, fail-open and max-flows change at the next restart");
	/* the control thread keeps the config it started with: it checks, compiles, persists */
	if (!same_str(c->trusted_key, e->cfg->trusted_key) ||
	    !same_str(c->state_dir, e->cfg->state_dir) ||
	    !same_str(c->control_socket, e->cfg->control_socket) ||
	    c->stream_depth != e->cfg->stream_depth)
		engine_log("reload: trusted-key, state-dir and control-socket change at the next "
			   "restart, and so does the stream-depth that loaded policies are "
			   "compiled with");
	/* read by every worker for every packet: set once, before the first (kernel_features()) */
	if (c->kernel_tcp_ao != e->cfg->kernel_tcp_ao || c->kernel_mip6 != e->cfg->kernel_mip6)
		engine_log("reload: kernel-tcp-ao and kernel-mip6 change at the next restart");
	c->queue_lo = e->cfg->queue_lo;
	c->queue_hi = e->cfg->queue_hi;
	c->fail_open = e->cfg->fail_open;
	c->max_flows = e->cfg->max_flows; /* the workers' tables were sized with it */
	e->cfg_own = c;
	e->cfg = c;
	resolver_kick(e); /* the names of this config, now */
	lifeline_reinit(&e->master, c);
	engine_load_resolvers(&e->master);
	engine_load_learned(c, &e->master, engine_now_us());
	e->dns_changes_seen = e->master.dns_changes;
	s = initial_snap(e, atomic_load(&e->snap)->policy);
	if (!s)
		return; /* workers keep the old config: it is never freed (ENOMEM only) */
	s->gen = atomic_load(&e->snap)->gen;
	s->links_gen = atomic_load(&e->snap)->links_gen;
	engine_publish(e, s);
	control_rehome(e->ctl); /* `host` lines are $HOME_NET's too */
	/* every worker adopted the new config: the one before is nobody's now */
	if (old) {
		config_free(old);
		free(old);
	}
	if (reload_hooks(e) == 0)
		engine_log("reload: %s applied", path);
}

/*
 * SIGUSR2 (Suricata's rule-reload signal): load STATE_DIR/current.pol again,
 * as written there by `lifelinectl load` or by hand. The control thread
 * does it between requests (control_reload_policy()): it is the only one
 * that swaps policies, so none of its requests ever reads a freed one. An
 * invalid policy changes nothing.
 */
static void on_policy_reload(struct engine *e)
{
	control_reload_policy(e->ctl);
}

/*
 * The watchdog timer, at a quarter of WatchdogSec: systemd gets WATCHDOG=1
 * only when every worker's loop went round within half of it, so one wedged
 * worker gets the engine restarted even while the others are healthy (and a
 * wedged control thread stops the pings too).
 */
static int watchdog_fd(struct engine *e)
{
	uint64_t q = e->watchdog_us / 4;
	struct itimerspec it = { { (time_t)(q / 1000000u), (long)(q % 1000000u) * 1000 },
				 { (time_t)(q / 1000000u), (long)(q % 1000000u) * 1000 } };
	int fd;

	if (!q)
		return -1;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd >= 0 && timerfd_settime(fd, 0, &it, NULL) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void on_watchdog(struct engine *e)
{
	uint64_t now = engine_mono_ms(), half = e->watchdog_us / 2000u;

	for (uint32_t i = 0; i < e->nworkers; i++) {
		struct worker *w = &e->workers[i];
		uint64_t alive = atomic_load_explicit(&w->alive_ms, memory_order_relaxed);

		if (w->started && !atomic_load(&w->exited) && alive + half < now) {
			engine_log("worker %u stalled for %llu ms: no watchdog ping", i,
				   (unsigned long long)(now - alive));
			return;
		}
	}
	engine_notify("WATCHDOG=1");
}

static int open_fds(struct engine *e, struct pollfd *pfd, sigset_t *mask)
{
	struct itimerspec it = { { TICK_SECONDS, 0 }, { TICK_SECONDS, 0 } };

	pfd[0].fd = signalfd(-1, mask, SFD_CLOEXEC);
	pfd[1].fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	atomic_store(&e->tick_fd, pfd[1].fd);
	pfd[2].fd = e->aw ? addr_watch_fd(e->aw) : -1;
	pfd[3].fd = e->nflog ? nflog_fd(e->nflog) : -1;
	pfd[4].fd = watchdog_fd(e);
	pfd[5].fd = e->dhcp_tap;
	pfd[6].fd = e->res.started ? e->res.fd : -1;
	pfd[7].fd = engine_lock_fd(); /* a second engine asking who holds the namespace */
	for (int i = 0; i < NFDS; i++)
		pfd[i].events = POLLIN;
	if (pfd[0].fd < 0 || pfd[1].fd < 0)
		return -errno;
	return timerfd_settime(pfd[1].fd, 0, &it, NULL) < 0 ? -errno : 0;
}

/* The control thread: until SIGTERM/SIGINT. */
static int event_loop(struct engine *e, sigset_t *mask)
{
	struct pollfd pfd[NFDS];
	struct signalfd_siginfo si;
	uint64_t exp;
	int err = open_fds(e, pfd, mask);

	while (!err) {
		if (poll(pfd, NFDS, -1) < 0 && errno != EINTR)
			break;
		if (pfd[7].revents & POLLIN)
			engine_lock_drain();
		if (pfd[4].revents & POLLIN && read(pfd[4].fd, &exp, sizeof(exp)) > 0)
			on_watchdog(e); /* outside the lock: a long swap must not look like a hang */
		pthread_mutex_lock(&e->lock);
		if (pfd[2].revents & POLLIN)
			on_addresses(e);
		if (pfd[5].revents & POLLIN) /* before the replies that may answer them */
			on_dhcp_tap(e);
		if (pfd[3].revents & POLLIN)
			on_nflog(e);
		if (pfd[1].revents & POLLIN && read(pfd[1].fd, &exp, sizeof(exp)) > 0)
			on_tick(e);
		if (pfd[6].revents & POLLIN)
			on_resolved(e);
		if (!(pfd[0].revents & POLLIN) || read(pfd[0].fd, &si, sizeof(si)) != sizeof(si)) {
			pthread_mutex_unlock(&e->lock);
			continue;
		}
		if (si.ssi_signo == SIGHUP)
			on_reload(e);
		else if (si.ssi_signo == SIGUSR2)
			on_policy_reload(e);
		pthread_mutex_unlock(&e->lock);
		if (si.ssi_signo != SIGHUP && si.ssi_signo != SIGUSR2)
			break;
	}
	atomic_store(&e->tick_fd, -1);
	/* ours: the signalfd and both timers (the address watch, NFLOG and the tap close at stop) */
	for (int i = 0; i < 5; i++)
		if (pfd[i].fd >= 0 && i != 2 && i != 3)
			close(pfd[i].fd);
	return err;
}

/*
 * Daemon mode: the parent waits until the child is ready (exit 0) or has
 * failed (exit 1), so a service manager sees start-up errors.
 */
static int daemonize(int *ready_fd)
{
	int p[2];
	char c = 1;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			c = 1;
		_exit(c);
	}
	close(p[0]);
	setsid();
	if (chdir("/") < 0)
		return -errno;
	*ready_fd = p[1];
	return 0;
}

static void detach_stdio(int ready_fd)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	char ok = 0;

	if (write(ready_fd, &ok, 1) < 0)
		return;
	close(ready_fd);
	engine_log_to_syslog(); /* the log after "ready" must go somewhere an operator reads */
	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
}

static int engine_start(struct engine *e, struct policy *pol)
{
	struct snap *s;
	char why[512];
	int err;

	e->started_us = engine_now_us();
	e->watchdog_us = engine_watchdog_usec();
	hb_init(&e->hb, e->started_us);
	lifeline_init(&e->master, e->cfg);
	engine_load_resolvers(&e->master);
	engine_load_learned(e->cfg, &e->master, engine_now_us());
	e->dns_changes_seen = e->master.dns_changes;
	s = initial_snap(e, pol);
	if (!s) {
		policy_free(pol);
		return -ENOMEM;
	}
	s->gen = next_gen(e, last_gen(e->cfg));
	atomic_store(&e->snap, s);
	err = resolver_start(e);
	if (err)
		engine_log("warning: manager names are not resolved: %s", strerror(-err));
	e->evlog = event_log_new(e->cfg->event_log, &err);
	if (err)
		engine_log("warning: event log %s: %s%s; no events until it opens (SIGHUP tries "
			   "again)", e->cfg->event_log, strerror(-err),
			   err == -ENXIO ? " (a FIFO with no reader yet)" : "");
	err = open_queues(e);
	if (err)
		return err;
	err = nflog_open(&e->nflog, HOOKS_NFLOG_GROUP);
	if (err)
		engine_log("warning: NFLOG group %u: %s (DNS servers from DHCP not learned)",
			   HOOKS_NFLOG_GROUP, strerror(-err));
	if (e->cfg->trusted_key && sig_key_check(e->cfg->trusted_key, why, sizeof(why)) < 0)
		engine_log("warning: %s: every load will be refused until it is fixed", why);
	e->dhcp_tap = dhcp_tap_open();
	if (e->dhcp_tap < 0)
		engine_log("warning: cannot watch the host's DHCP requests (%s): replies to them "
			   "cannot be told from forged ones, so DNS servers are not learned from DHCP",
			   strerror(-e->dhcp_tap));
	if (addr_watch_open(&e->aw) < 0)
		engine_log("warning: not following address changes: %s", strerror(errno));
	err = start_workers(e, pol);
	if (!err)
		err = install_hooks(e, HQ_UNKNOWN); /* nothing of ours installed yet */
	return err;
}

int engine_run(const struct config *cfg, const char *config_path, const char *policy_path,
	       const struct engine_opts *o)
{
	struct engine e = { .cfg = cfg, .config_path = config_path,
			    .lock = PTHREAD_MUTEX_INITIALIZER, .dhcp_tap = -1,
			    .tick_fd = -1 };
	struct policy *pol;
	int ready_fd = -1, err;
	char why[512], kern[256];
	sigset_t mask;

	/*
	 * Every thread inherits this mask; only the event loop takes these
	 * signals (signalfd). Blocked first: a SIGHUP (logrotate) or SIGUSR2
	 * during a long start-up compile waits for the loop instead of
	 * killing the engine, and a SIGTERM then stops it once started.
	 */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* a reset acting alone while this start compiles is seen at control start */
	state_meta_stamp(cfg->state_dir, &e.meta_before);
	if (engine_lock(cfg) < 0)
		return 1;
	e.policy_given = policy_path != NULL;
	pol = engine_policy_start(cfg, policy_path, o->skip_unsupported, why, sizeof(why),
				  e.unconfirmed);
	if (!pol)
		return 1;
	if (e.unconfirmed[0])
		e.unconfirmed_at = (uint64_t)time(NULL);
	if (why[0])
		engine_log("%s", why);
	ips_print_skips(pol->ips, stderr, "lifelined: "); /* --skip-unsupported: as engine_log() */
	if (!o->foreground && daemonize(&ready_fd) < 0) {
		engine_log("cannot become a daemon: %s", strerror(errno));
		policy_free(pol);
		return 1;
	}
	engine_lock_owner();
	kernel_features(cfg, true, kern, sizeof(kern)); /* before a worker judges a packet */
	engine_log("%s", kern);
	err = engine_start(&e, pol);
	if (!err)
		err = engine_control_start(&e);
	if (err) {
		engine_stop(&e, false);
		return 1;
	}
	control_rehome(e.ctl); /* addresses that came while the start-up policy compiled */
	/* set up (hooks, queues, socket group): from here on only what the running engine needs */
	err = engine_caps_drop(e.hooks.backend == HOOKS_IPTABLES);
	if (err)
		engine_log("warning: capabilities not all dropped: %s", strerror(-err));
	engine_log("ready (%s hooks, queues %u-%u, fail-open %s)",
		   e.hooks.backend == HOOKS_NFT ? "nft" : "iptables", cfg->queue_lo, cfg->queue_hi,
		   cfg->fail_open ? "yes" : "no");
	engine_write_pid(cfg); /* a -p policy was persisted at control start (control_meta_sync()) */
	engine_event(&e, EV_READY, "ready");
	if (why[0])
		engine_event(&e, EV_POLICY, why);
	engine_notify_ready();
	if (ready_fd >= 0)
		detach_stdio(ready_fd);
	err = event_loop(&e, &mask);
	engine_log("stopping");
	engine_stop(&e, true);
	return err ? 1 : 0;
}
