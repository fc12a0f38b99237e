/*
 * engine_control.c - the engine's side of the control plane: the ops the
 * control server (control.c) calls from its own thread. Snapshot changes
 * take the engine lock (shared with the event loop); flow tables and hit
 * counters are read under each worker's lock, between its batches.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "engine_int.h"
#include "ips_rules.h"

static const char *const swap_words[] = {
	[CONTROL_SWAP_LOAD] = "loaded",	    [CONTROL_SWAP_ROLLBACK] = "rolled back",
	[CONTROL_SWAP_TIMEOUT] = "rolled back (not confirmed in time)",
	[CONTROL_SWAP_RESET] = "reset to the empty policy",
	[CONTROL_SWAP_RESET_ALONE] = "reset to the empty policy (lifelinectl reset acted alone)",
	[CONTROL_SWAP_TABLE] = "table changed",
	[CONTROL_SWAP_RELOAD] = "reloaded from the state directory (SIGUSR2)",
	[CONTROL_SWAP_HOSTS] = "compiled again: the host's addresses ($HOME_NET) changed",
};

static const struct policy *op_policy(void *ctx)
{
	struct engine *e = ctx;
	const struct policy *p;

	pthread_mutex_lock(&e->lock);
	p = atomic_load(&e->snap)->policy;
	pthread_mutex_unlock(&e->lock);
	return p;
}

static void op_log(void *ctx, const char *msg)
{
	(void)ctx;
	engine_log("%s", msg);
}

static int op_swap_policy(void *ctx, struct policy *p, enum control_swap_why why, const char *msg)
{
	struct engine *e = ctx;
	char herr[sizeof(e->hooks.err)];
	uint32_t gen;
	int err;

	pthread_mutex_lock(&e->lock);
	err = engine_set_policy(e, p, why == CONTROL_SWAP_RESET ? KERNEL_LATER :
				   why == CONTROL_SWAP_RESET_ALONE ? KERNEL_QUEUE_OUT : KERNEL_NOW);
	gen = atomic_load(&e->snap)->gen;
	memcpy(herr, e->hooks.err, sizeof(herr));
	pthread_mutex_unlock(&e->lock);
	engine_log("policy %s%s%s (generation %u)", swap_words[why], msg ? ": " : "",
		   msg ? msg : "", gen);
	engine_event(e, EV_POLICY, msg ? msg : swap_words[why]);
	if (err)
		engine_log("warning: offload generation not updated: %s", herr);
	return 0; /* the policy runs either way; only offloaded flows keep the old decision */
}

static void sum_counters(struct engine *e, struct pipeline_counters *c, struct flow_stats *fs)
{
	memset(c, 0, sizeof(*c));
	if (fs)
		memset(fs, 0, sizeof(*fs));
	for (uint32_t i = 0; i < e->nworkers; i++) {
		struct worker *w = &e->workers[i];
		struct flow_stats s;

		pthread_mutex_lock(&w->lock);
		c->packets += w->pl.ctr.packets;
		c->accepted += w->pl.ctr.accepted;
		c->dropped += w->pl.ctr.dropped;
		for (int r = 0; r < R__COUNT; r++)
			c->by_reason[r] += w->pl.ctr.by_reason[r];
		for (int b = 0; b < BY__COUNT; b++)
			c->by_by[b] += w->pl.ctr.by_by[b];
		if (fs && w->pl.flows) {
			flow_table_stats(w->pl.flows, &s);
			fs->active += s.active;
			fs->created += s.created;
			fs->evicted += s.evicted;
			fs->expired += s.expired;
		}
		pthread_mutex_unlock(&w->lock);
	}
}

/* engine_flows_evicted() - see engine_int.h. */
uint64_t engine_flows_evicted(struct engine *e)
{
	struct pipeline_counters c;
	struct flow_stats fs;

	sum_counters(e, &c, &fs);
	return fs.evicted;
}

/*
 * What the kernel holds, not what the engine installed: `reset` may have
 * taken the queue rule out, another tool may have flushed our rules.
 * Asked at most once a second (status may come often, and each asking
 * runs nft or iptables), outside the engine lock: a tool waiting for the
 * xtables lock must not hold up the event loop. When the tool fails, the
 * engine's own record stands.
 */
static enum hooks_queue_state queue_now(struct engine *e)
{
	int64_t now = control_now_ms();
	enum hooks_backend b;
	bool installed, queue, ask;
	int seen;

	pthread_mutex_lock(&e->lock);
	installed = e->hooks.installed;
	b = e->hooks.backend;
	queue = e->hooks.spec.queue;
	seen = e->queue_seen;
	ask = !e->queue_asked_ms || now - e->queue_asked_ms >= 1000;
	pthread_mutex_unlock(&e->lock);
	if (!installed)
		return HQ_GONE;
	if (ask) {
		seen = hooks_queue_state(b);
		pthread_mutex_lock(&e->lock);
		e->queue_seen = seen;
		e->queue_asked_ms = now;
		pthread_mutex_unlock(&e->lock);
	}
	/* taken out by reset: the rules that stay are ours */
	if (!queue && seen != HQ_GONE)
		return HQ_OUT;
	return (enum hooks_queue_state)seen;
}

static int op_status(void *ctx, struct control_status *st)
{
	struct engine *e = ctx;
	const struct snap *s;
	enum hooks_queue_state q = queue_now(e);

	pthread_mutex_lock(&e->lock);
	engine_heartbeat_check(e);
	s = atomic_load(&e->snap);
	st->pid = getpid();
	st->started_us = e->started_us;
	st->heartbeat_seen = e->hb.last_exchange_us != 0;
	st->heartbeat_last_us = e->hb.last_exchange_us;
	st->heartbeat_missed = e->hb.missed;
	st->online = e->hb.online;
	memcpy(st->managers, s->managers, s->nmanagers * sizeof(ll_ip));
	st->nmanagers = s->nmanagers;
	memcpy(st->dns, s->dns, s->ndns * sizeof(s->dns[0]));
	st->ndns = s->ndns;
	st->nworkers = e->nworkers;
	st->hooks_backend = !e->hooks.installed ? NULL :
			    e->hooks.backend == HOOKS_NFT ? "nft" : "iptables";
	st->hooks_queue = q == HQ_INSTALLED || (q == HQ_UNKNOWN && e->hooks.spec.queue);
	st->hooks_gone = q == HQ_GONE && e->hooks.installed;
	pthread_mutex_unlock(&e->lock);
	sum_counters(e, &st->ctr, &st->flows);
	return 0;
}

/* Rule hits summed over workers, by rule id of the running policy. */
static int rule_hits(struct engine *e, struct control_stats *st)
{
	const struct policy *p = op_policy(e);

	st->nrules = 0;
	st->rules = p->nrules ? calloc(p->nrules, sizeof(*st->rules)) : NULL;
	if (p->nrules && !st->rules)
		return -ENOMEM;
	for (uint32_t r = 0; r < p->nrules; r++)
		st->rules[r].id = p->rules[r].id;
	for (uint32_t i = 0; i < e->nworkers; i++) {
		struct worker *w = &e->workers[i];

		pthread_mutex_lock(&w->lock);
		/* a worker not yet on this policy counts for the old one: skip it */
		if (w->pl.policy == p)
			for (uint32_t r = 0; r < w->pl.nrule_hits && r < p->nrules; r++)
				st->rules[r].packets += w->pl.rule_hits[r];
		pthread_mutex_unlock(&w->lock);
	}
	st->nrules = p->nrules;
	return 0;
}

static int op_stats(void *ctx, struct control_stats *st)
{
	struct engine *e = ctx;

	sum_counters(e, &st->ctr, &st->flows);
	st->events_lost = event_log_lost(e->evlog);
	pthread_mutex_lock(&e->lock);
	/* under the lock: a SIGHUP replaces e->cfg and frees the one before */
	st->max_flows = (uint64_t)e->cfg->max_flows * e->nworkers; /* a table a worker */
	{
		const struct ips_ruleset *rs = atomic_load(&e->snap)->policy->ips;

		st->ips_memcap = rs ? rs->stream_memcap : 0;
	}
	pthread_mutex_unlock(&e->lock);
	st->ips_mem = ips_stream_mem();
	st->ips_memcap_hits = ips_stream_memcap_hits();
	st->ips_slid = ips_stream_slid();
	st->nqueues = 0;
	for (uint32_t i = 0; i < e->nworkers && st->nqueues < CONTROL_MAX_QUEUES; i++) {
		struct worker *w = &e->workers[i];
		struct control_queue_stats *q = &st->queues[st->nqueues++];

		q->queue = nfqueue_num(w->q);
		q->packets = atomic_load_explicit(&w->packets, memory_order_relaxed);
		q->verdict_errors = atomic_load_explicit(&w->verdict_errors, memory_order_relaxed);
		q->undelivered = w->q ? nfqueue_undelivered(w->q) : 0;
	}
	return rule_hits(e, st);
}

struct visit_ctx {
	const struct pipeline *pl;
	bool (*visit)(void *arg, const struct flow *f, bool stale);
	void *arg;
};

static void visit_one(void *arg, struct flow *f)
{
	struct visit_ctx *v = arg;

	if (v->visit(v->arg, f, f->generation != v->pl->generation))
		flow_remove(v->pl->flows, f);
}

/*
 * Entries visited per hold of a worker's lock: the worker judges nothing
 * while a request holds it, and the kernel queue (4096 packets) must not
 * fill meanwhile. With the whole table at once, a `flows` of a million
 * flows - any local peer may ask - held it 2.6 s; a piece takes ~1 ms.
 */
#define FLOWS_PER_HOLD 1024

static int op_flows(void *ctx, bool (*visit)(void *arg, const struct flow *f, bool stale),
		    void *arg)
{
	struct engine *e = ctx;

	ips_stream_pool_off(); /* a killed flow's stream buffers go back to malloc, not to this thread */
	for (uint32_t i = 0; i < e->nworkers; i++) {
		struct worker *w = &e->workers[i];
		uint32_t from = 0;

		while (from != FLOW_FOREACH_DONE) {
			pthread_mutex_lock(&w->lock);
			if (w->pl.flows) {
				struct visit_ctx v = { &w->pl, visit, arg };
				from = flow_foreach_from(w->pl.flows, from, FLOWS_PER_HOLD, visit_one, &v);
			} else {
				from = FLOW_FOREACH_DONE;
			}
			pthread_mutex_unlock(&w->lock);
		}
	}
	return 0;
}

/* A private pipeline on the running snapshot: no worker's flows or counters change. */
static int op_explain(void *ctx, struct pkt *p, struct verdict *v)
{
	struct engine *e = ctx;
	struct pipeline pl;
	const struct snap *s;
	int err;

	ips_stream_pool_off();
	pthread_mutex_lock(&e->lock);
	s = atomic_load(&e->snap);
	err = pipeline_init(&pl, s->cfg, s->policy);
	if (!err) {
		lifeline_set_managers(&pl.lifeline, s->managers, s->nmanagers);
		memcpy(pl.lifeline.dns, s->dns, s->ndns * sizeof(s->dns[0]));
		pl.lifeline.ndns = s->ndns;
		pipeline_judge(&pl, p, engine_now_us(), v);
		pipeline_fini(&pl);
	}
	pthread_mutex_unlock(&e->lock);
	return err;
}

/* $HOME_NET's default now: engine_home_net() of the running config (SIGHUP may change it). */
static uint32_t op_hosts(void *ctx, struct ip_range *out, uint32_t max)
{
	struct engine *e = ctx;
	uint32_t n;

	pthread_mutex_lock(&e->lock);
	n = engine_home_net(e->cfg, out, max);
	pthread_mutex_unlock(&e->lock);
	return n;
}

static bool op_start_state(void *ctx, struct state_stamp *before)
{
	struct engine *e = ctx;

	*before = e->meta_before;
	return e->policy_given;
}

static const char *op_start_unconfirmed(void *ctx, uint64_t *at)
{
	struct engine *e = ctx;

	*at = e->unconfirmed_at;
	return e->unconfirmed;
}

static void op_persist_given(void *ctx)
{
	struct engine *e = ctx;

	pthread_mutex_lock(&e->lock);
	engine_persist_given(e->cfg, atomic_load(&e->snap)->policy);
	pthread_mutex_unlock(&e->lock);
}

static const struct control_ops engine_ops = {
	.policy = op_policy,
	.swap_policy = op_swap_policy,
	.status = op_status,
	.stats = op_stats,
	.flows = op_flows,
	.explain = op_explain,
	.log = op_log,
	.hosts = op_hosts,
	.start_state = op_start_state,
	.persist_given = op_persist_given,
	.start_unconfirmed = op_start_unconfirmed,
};

int engine_control_start(struct engine *e)
{
	char err[512] = "";
	int rc = control_start(&e->ctl, e->cfg, &engine_ops, e, err, sizeof(err));

	if (rc < 0 && err[0]) /* control_start()'s text names the socket */
		engine_log("%s", err);
	else if (rc < 0)
		engine_log("control-socket %s: %s", e->cfg->control_socket, strerror(-rc));
	return rc;
}

void engine_control_stop(struct engine *e)
{
	control_stop(e->ctl);
	e->ctl = NULL;
}
