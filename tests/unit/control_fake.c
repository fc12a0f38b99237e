/*
 * control_fake.c - the fake engine's control_ops, shared by
 * test_control's unit tests and its --fake-engine mode (tests/ctl/run.sh).
 * Included by test_control.c: the Makefile builds one binary per test_*.c.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control_fake.h"

static const struct policy *fake_policy(void *ctx)
{
	return ((struct fake_engine *)ctx)->pol;
}

static int fake_swap(void *ctx, struct policy *p, enum control_swap_why why, const char *msg)
{
	struct fake_engine *f = ctx;

	(void)msg;
	if (f->refuse) {
		policy_free(p);
		return -EIO;
	}
	if (f->pol != f->borrowed)
		policy_free(f->pol);
	f->pol = p;
	f->swaps++;
	__atomic_store_n(&f->last_why, why, __ATOMIC_RELEASE); /* after the policy: a test polls it */
	if (f->after_swap)
		f->after_swap(f, why);
	return 0;
}

static int fake_status(void *ctx, struct control_status *st)
{
	struct fake_engine *f = ctx;
	uint64_t now = (uint64_t)time(NULL) * 1000000u;

	st->pid = (int)getpid();
	st->started_us = now - 60000000u;
	st->heartbeat_seen = true;
	st->heartbeat_last_us = now - 5000000u;
	st->online = true;
	for (uint32_t i = 0; i < f->cfg->nmanagers && i < LIFELINE_MAX_MANAGERS; i++)
		if (f->cfg->managers[i].is_literal)
			st->managers[st->nmanagers++] = f->cfg->managers[i].addr;
	for (uint32_t i = 0; i < f->cfg->ndns_servers && i < LIFELINE_MAX_DNS; i++)
		st->dns[st->ndns++].addr = f->cfg->dns_servers[i];
	st->nworkers = 1;
	st->flows.active = (uint64_t)f->nflows;
	st->ctr.packets = 10;
	st->ctr.accepted = 9;
	st->ctr.dropped = 1;
	return 0;
}

static int fake_stats(void *ctx, struct control_stats *st)
{
	struct fake_engine *f = ctx;

	st->ctr.packets = 10;
	st->ctr.accepted = 9;
	st->ctr.dropped = 1;
	st->ctr.by_reason[R_DENY] = 1;
	st->ctr.by_by[BY_FIREWALL] = 10;
	st->nqueues = 1;
	st->queues[0].packets = 10;
	st->rules = calloc(f->pol->nrules + 1, sizeof(*st->rules));
	for (uint32_t i = 0; st->rules && i < f->pol->nrules; i++)
		st->rules[st->nrules++] = (struct control_rule_hits){ f->pol->rules[i].id,
								      100 + f->pol->rules[i].id };
	return 0;
}

static int fake_flows(void *ctx, bool (*visit)(void *arg, const struct flow *fl, bool stale),
		      void *arg)
{
	struct fake_engine *f = ctx;

	for (int i = 0; i < f->nflows; i++)
		if (visit(arg, &f->flows[i], f->flows[i].generation != f->generation)) {
			memmove(&f->flows[i], &f->flows[i + 1], (size_t)(f->nflows - i - 1) *
				sizeof(f->flows[0]));
			f->nflows--;
			f->killed++;
			i--;
		}
	return 0;
}

static int fake_explain(void *ctx, struct pkt *p, struct verdict *v)
{
	struct fake_engine *f = ctx;
	struct pipeline pl;
	int rc = pipeline_init(&pl, f->cfg, f->pol);

	if (rc < 0)
		return rc;
	pipeline_judge(&pl, p, 1, v);
	pipeline_fini(&pl);
	return 0;
}

static const char *fake_start_unconfirmed(void *ctx, uint64_t *at)
{
	struct fake_engine *f = ctx;

	*at = f->unconfirmed_at;
	return f->unconfirmed;
}

const struct control_ops fake_ops = {
	.policy = fake_policy,
	.swap_policy = fake_swap,
	.status = fake_status,
	.stats = fake_stats,
	.flows = fake_flows,
	.explain = fake_explain,
	.start_unconfirmed = fake_start_unconfirmed,
};

static void fake_flow(struct flow *fl, uint8_t proto, const char *a, uint16_t pa, const char *b,
		      uint16_t pb)
{
	memset(fl, 0, sizeof(*fl));
	ll_ip_parse(a, &fl->key.a);
	ll_ip_parse(b, &fl->key.b);
	fl->key.pa = pa;
	fl->key.pb = pb;
	fl->key.proto = proto;
	fl->key.family = 4;
	fl->orig_is_a = 1; /* opened from a:pa to b:pb */
	fl->orig_dir = FW_DIR_OUT;
	fl->accept = 1;
	fl->reason = R_ALLOW;
	fl->pkts[0] = 3;
	fl->pkts[1] = 2;
}

/* fake_engine_init() - see control_fake.h. */
void fake_engine_init(struct fake_engine *f, const struct config *cfg, struct policy *pol)
{
	memset(f, 0, sizeof(*f));
	f->cfg = cfg;
	f->pol = pol;
	fake_flow(&f->flows[0], 6, "198.51.100.2", 40000, "203.0.113.10", 4120);
	fake_flow(&f->flows[1], 6, "198.51.100.2", 40001, "192.0.2.80", 80);
	fake_flow(&f->flows[2], 17, "198.51.100.2", 40002, "192.0.2.53", 53);
	f->nflows = 3;
}

void fake_engine_fini(struct fake_engine *f)
{
	if (f->pol != f->borrowed)
		policy_free(f->pol);
	f->pol = NULL;
}
